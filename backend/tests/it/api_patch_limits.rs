//! Writes that kubectl's options could slip past: a dry run however its key is spelled in the
//! query (answered, never stored), and a JSON patch that copies the document into itself until
//! it is huge (refused). Both leave the stored stream as it was (found by the attack review of
//! issue 14).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tagstream_shared::paths::imagestream;

use crate::support::{TestApp, assert_status, stream_json};

async fn app_with_stream() -> TestApp {
    let app = TestApp::start().await;
    app.create_project("demo").await;
    app.create_stream(
        "demo",
        &stream_json("ruby", "latest", "quay.io/demo/ruby:3.3"),
    )
    .await;
    app
}

#[tokio::test]
async fn a_dry_run_is_recognised_however_its_key_is_written_and_nothing_is_stored() {
    let app = app_with_stream().await;
    let (_, before) = app.get(&imagestream("demo", "ruby")).await;
    let patch = json!({"metadata": {"labels": {"dry": "yes"}}}).to_string();
    // Image streams know dry runs (issue 14): answered with the change, stored nowhere.
    for query in ["dryRun=All", "%64ryRun=All", "pretty=1&dry%52un=All"] {
        let path = format!("{}?{query}", imagestream("demo", "ruby"));
        let (code, body) = app
            .send_raw(Method::PATCH, &path, "application/merge-patch+json", &patch)
            .await;
        assert_eq!(code, StatusCode::OK, "?{query}: {body}");
        assert_eq!(body["metadata"]["labels"]["dry"], "yes", "?{query}");
    }
    // A dryRun other than All is refused, so nothing is stored by mistake.
    for query in ["dryRun", "dryRun=Some"] {
        let path = format!("{}?{query}", imagestream("demo", "ruby"));
        let (code, body) = app
            .send_raw(Method::PATCH, &path, "application/merge-patch+json", &patch)
            .await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "?{query}: {body}");
        assert_status(body, code, "BadRequest");
    }
    let (_, after) = app.get(&imagestream("demo", "ruby")).await;
    assert_eq!(after, before, "no dry run was stored");
    app.stop().await;
}

#[tokio::test]
async fn a_json_patch_that_doubles_the_stream_is_refused_and_changes_nothing() {
    let app = app_with_stream().await;
    let (_, before) = app.get(&imagestream("demo", "ruby")).await;
    // 40 copies of the whole document into itself: 2^40 times its size if nothing stops it.
    let mut bomb = vec![json!({"op": "add", "path": "/metadata/labels", "value": {}})];
    for i in 0..40 {
        bomb.push(json!({"op": "copy", "from": "/spec", "path": format!("/spec/x{i}")}));
    }
    let (code, body) = app
        .send_raw(
            Method::PATCH,
            &imagestream("demo", "ruby"),
            "application/json-patch+json",
            &Value::Array(bomb).to_string(),
        )
        .await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{body}");
    let status = assert_status(body, code, "BadRequest");
    assert!(
        status.message.contains("would exceed"),
        "{}",
        status.message
    );
    let (_, after) = app.get(&imagestream("demo", "ruby")).await;
    assert_eq!(after, before, "the refused patch stored nothing");
    app.stop().await;
}

#[tokio::test]
async fn a_delete_whose_options_cannot_be_read_for_certain_is_refused_and_deletes_nothing() {
    let app = app_with_stream().await;
    let path = imagestream("demo", "ruby");
    // Each of these, ignored, would really delete what the caller meant only to try or to
    // guard: a dryRun that is not a list, a YAML body, a non-object, preconditions.
    for (content_type, body) in [
        (
            "application/json",
            r#"{"kind":"DeleteOptions","apiVersion":"v1","dryRun":"All"}"#,
        ),
        ("application/json", r#"{"dryRun":[1]}"#),
        ("application/yaml", "dryRun: [All]\n"),
        ("application/json", "[\"All\"]"),
        (
            "application/json",
            r#"{"preconditions":{"uid":"not-the-uid"}}"#,
        ),
    ] {
        let (code, answer) = app
            .send_raw(Method::DELETE, &path, content_type, body)
            .await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_status(answer, code, "BadRequest");
        let (code, _) = app.get(&path).await;
        assert_eq!(code, StatusCode::OK, "{body} deleted the stream");
    }
    // A dry run as kubectl sends it answers the stream and keeps it; a plain delete deletes.
    let (code, answer) = app
        .send_raw(
            Method::DELETE,
            &path,
            "application/json",
            r#"{"dryRun":["All"]}"#,
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    assert_eq!(app.get(&path).await.0, StatusCode::OK);
    let (code, answer) = app
        .send_raw(
            Method::DELETE,
            &path,
            "application/json",
            r#"{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Background"}"#,
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    assert_eq!(app.get(&path).await.0, StatusCode::NOT_FOUND);
    app.stop().await;
}
