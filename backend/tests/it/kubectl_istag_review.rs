//! Server-side apply of image stream tags, as the fifth review left it (F3-F7), over plain
//! HTTP: fields no schema names are neither stored nor managed and each manager's share of
//! the managers' record has a bound, for PUTs as for applies, that locks no one else out; a tag left without a source is a 422 naming `tag.from`; a project's spec given as a
//! list is refused naming `spec`; an unchanged apply with a stale resourceVersion is a 409; a
//! conflict between a tag's appliers names the ImageStreamTag.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tagstream_shared::paths;

use crate::support::{TestApp, TestUser};

pub(crate) fn istag(name: &str, tag: Value) -> Value {
    json!({"kind": "ImageStreamTag", "apiVersion": "image.openshift.io/v1",
        "metadata": {"name": name}, "tag": tag})
}

pub(crate) fn source(from: &str) -> Value {
    json!({"from": {"kind": "DockerImage", "name": from}, "reference": true})
}

pub(crate) async fn apply(
    app: &TestApp,
    name: &str,
    query: &str,
    body: &Value,
) -> (StatusCode, Value) {
    let (stream, tag) = name.split_once(':').unwrap();
    let path = format!("{}?{query}", paths::imagestreamtag("rev", stream, tag));
    let body = body.to_string();
    app.send_raw(Method::PATCH, &path, "application/apply-patch+yaml", &body)
        .await
}

pub(crate) async fn stored(app: &TestApp, stream: &str) -> Value {
    let (code, body) = app.get(&paths::imagestream("rev", stream)).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_istag_unknown_fields_are_neither_stored_nor_managed_and_the_record_is_bounded() {
    let app = TestApp::start().await;
    app.create_project("rev").await;
    // Keys no schema names, many of them, applied under Ignore by two managers.
    let mut tag = source("quay.io/x/wide:1");
    tag["colour"] = json!("red");
    tag["importPolicy"] = json!({"sheduled": true});
    let many: serde_json::Map<String, Value> =
        (0..20_000).map(|i| (format!("k{i}"), json!(1))).collect();
    tag["wide"] = Value::Object(many);
    for (manager, expected) in [("one", StatusCode::CREATED), ("two", StatusCode::OK)] {
        let (code, body) = apply(
            &app,
            "wide:x",
            &format!("fieldManager={manager}"),
            &istag("wide:x", tag.clone()),
        )
        .await;
        assert_eq!(code, expected, "{manager}: {body}");
    }
    let stream = stored(&app, "wide").await;
    let spec = &stream["spec"]["tags"][0];
    for unknown in ["colour", "wide"] {
        assert!(spec.get(unknown).is_none(), "{unknown} stored");
    }
    let managed = stream["metadata"]["managedFields"].to_string();
    assert!(
        managed.len() < 2_000,
        "managedFields of {} bytes",
        managed.len()
    );
    for unknown in ["f:colour", "f:wide", "f:sheduled"] {
        assert!(!managed.contains(unknown), "{unknown} managed: {managed}");
    }
    assert!(managed.contains("f:reference"), "{managed}");

    // Under Warn the apply is answered with a warning per unknown field.
    let resp = crate::support::client_with_token(crate::support::ADMIN_TOKEN)
        .patch(app.url(&format!(
            "{}?fieldManager=three&fieldValidation=Warn",
            paths::imagestreamtag("rev", "wide", "x")
        )))
        .header("Content-Type", "application/apply-patch+yaml")
        .body(istag("wide:x", tag).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let warnings: Vec<String> = resp
        .headers()
        .get_all("warning")
        .iter()
        .map(|w| w.to_str().unwrap().to_owned())
        .collect();
    assert!(
        warnings.iter().any(|w| w.contains("tag.colour")),
        "{warnings:?}"
    );

    // Known fields are owned, each one: a record that would pass its bound is refused.
    let mut annotated = source("quay.io/x/wide:2");
    let annotations: serde_json::Map<String, Value> = (0..30_000)
        .map(|i| (format!("example.com/annotation-{i:08}"), json!("v")))
        .collect();
    annotated["annotations"] = Value::Object(annotations);
    let (code, body) = apply(
        &app,
        "wide:y",
        "fieldManager=one",
        &istag("wide:y", annotated),
    )
    .await;
    assert_eq!(code, StatusCode::PAYLOAD_TOO_LARGE, "{}", body["message"]);
    assert_eq!(body["reason"], "RequestEntityTooLarge", "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("managedFields"),
        "{body}"
    );
    let stream = stored(&app, "wide").await;
    assert_eq!(stream["spec"]["tags"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_istag_apply_without_a_source_is_refused_naming_tag_from() {
    let app = TestApp::start().await;
    app.create_project("rev").await;
    let required = |body: &Value| {
        assert_eq!(body["reason"], "Invalid", "{body}");
        let cause = &body["details"]["causes"][0];
        assert_eq!(cause["field"], "tag.from", "{body}");
        assert_eq!(cause["reason"], "FieldValueRequired", "{body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("tag.from: Required value"),
            "{body}"
        );
    };
    // A new tag applied without one.
    let (code, body) = apply(
        &app,
        "src:a",
        "fieldManager=m",
        &istag("src:a", json!({"importPolicy": {"scheduled": true}})),
    )
    .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    required(&body);
    // Its sole owner dropping it.
    let (code, body) = apply(
        &app,
        "src:a",
        "fieldManager=m",
        &istag("src:a", source("quay.io/x/src:1")),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let (code, body) = apply(&app, "src:a", "fieldManager=m", &istag("src:a", json!({}))).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    required(&body);
    let stream = stored(&app, "src").await;
    assert_eq!(stream["spec"]["tags"][0]["from"]["name"], "quay.io/x/src:1");
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_istag_review_a_project_spec_given_as_a_list_is_refused_naming_spec() {
    let app = TestApp::start().await;
    for query in ["?fieldValidation=Strict", ""] {
        let path = format!("{}{query}", paths::PROJECTS);
        let body = json!({"metadata": {"name": "p-seq"}, "spec": [["kubernetes", "evil"]]});
        let (code, answer) = app.post(&path, &body).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{query}: {answer}");
        assert_eq!(answer["kind"], "Status", "{answer}");
        assert!(
            answer["message"].as_str().unwrap().contains("spec"),
            "{query}: {answer}"
        );
    }
    let (code, _) = app.get(&paths::project("p-seq")).await;
    assert_eq!(code, StatusCode::NOT_FOUND, "nothing was created");
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_istag_stale_apply_is_409_and_conflicts_name_the_tag() {
    let app = TestApp::start().await;
    app.create_project("rev").await;
    let body = istag("k:a", source("quay.io/x/k:1"));
    let (code, answer) = apply(&app, "k:a", "fieldManager=kubectl", &body).await;
    assert_eq!(code, StatusCode::CREATED, "{answer}");
    // Moves the stream on, so that its first version is stale.
    let (code, answer) = apply(
        &app,
        "k:b",
        "fieldManager=kubectl",
        &istag("k:b", source("quay.io/x/k:2")),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{answer}");
    // The same apply by the same manager (it would change nothing), but pinned to a stale
    // version: 409, as Kubernetes, and by another manager too.
    let mut stale = body.clone();
    stale["metadata"]["resourceVersion"] = json!("1");
    for manager in ["kubectl", "other"] {
        let query = format!("fieldManager={manager}");
        let (code, answer) = apply(&app, "k:a", &query, &stale).await;
        assert_eq!(code, StatusCode::CONFLICT, "{manager}: {answer}");
    }
    // Without the pin it is a no-op.
    let (code, answer) = apply(&app, "k:a", "fieldManager=kubectl", &body).await;
    assert_eq!(code, StatusCode::OK, "{answer}");

    // Another manager's value: the conflict names the ImageStreamTag, not its stream.
    let moved = istag("k:a", source("quay.io/x/k:9"));
    let (code, answer) = apply(&app, "k:a", "fieldManager=ci", &moved).await;
    assert_eq!(code, StatusCode::CONFLICT, "{answer}");
    let details = &answer["details"];
    assert_eq!(details["kind"], "imagestreamtags", "{answer}");
    assert_eq!(details["name"], "k:a", "{answer}");
    assert_eq!(details["group"], "image.openshift.io", "{answer}");
    assert_eq!(details["causes"][0]["field"], ".tag.from.name", "{answer}");
}

/// A tag with 12,000 annotations (about 470 KB of `managedFields` for its writer).
pub(crate) fn annotated(from: &str) -> Value {
    let mut tag = source(from);
    let annotations: serde_json::Map<String, Value> = (0..12_000)
        .map(|i| (format!("example.com/annotation-{i:08}"), json!("v")))
        .collect();
    tag["annotations"] = Value::Object(annotations);
    tag
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_istag_bulk_puts_are_refused_naming_their_manager_and_lock_no_one_else_out() {
    let (app, users) = rev_app(&[("ed", "edit"), ("mallory", "edit")]).await;
    let (ed, mallory) = (&users[0], &users[1]);
    // An editor's PUTs each set many fields; each tag is a share of its own, and the one that
    // would take the record past its bound is refused, naming the manager and what it holds.
    for (tag, expected) in [
        ("y", StatusCode::CREATED),
        ("z", StatusCode::CREATED),
        ("w", StatusCode::PAYLOAD_TOO_LARGE),
    ] {
        let name = format!("ann:{tag}");
        let body = istag(&name, annotated("quay.io/x/ann:1"));
        let path = format!(
            "{}?fieldManager=ed",
            paths::imagestreamtag("rev", "ann", tag)
        );
        let (code, body) = app
            .send_as(&ed.client, Method::PUT, &path, Some(&body))
            .await;
        assert_eq!(code, expected, "{name}: {}", body["message"]);
        if code == StatusCode::PAYLOAD_TOO_LARGE {
            assert_eq!(body["reason"], "RequestEntityTooLarge", "{body}");
            let message = body["message"].as_str().unwrap();
            assert!(message.contains("managedFields"), "{message}");
            assert!(message.contains("\"ed\" (Update)"), "{message}");
            assert!(message.contains(" bytes"), "{message}");
        }
    }
    let stream = stored(&app, "ann").await;
    assert_eq!(stream["spec"]["tags"].as_array().unwrap().len(), 2);
    // Another editor's new tag and label, and a new server-side applier of one small field,
    // are not locked out.
    let (code, body) =
        put_tag_as(&app, &mallory.client, "ann:m", "mallory", "quay.io/x/ann:3").await;
    assert_eq!(code, StatusCode::CREATED, "{}", body["message"]);
    let (code, body) = apply(
        &app,
        "ann:q",
        "fieldManager=gitops",
        &istag("ann:q", source("quay.io/x/ann:2")),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{}", body["message"]);
    let label = json!({"metadata": {"labels": {"team": "b"}}});
    let path = paths::imagestream("rev", "ann");
    let (code, body) = patch_as(&app, &mallory.client, &path, MERGE, &label).await;
    assert_eq!(code, StatusCode::OK, "{}", body["message"]);
}

pub(crate) const MERGE: &str = "application/merge-patch+json";
pub(crate) const JSON_PATCH: &str = "application/json-patch+json";

/// Sends a PATCH of `body` (as `content_type`) with `client`.
pub(crate) async fn patch_as(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    content_type: &str,
    body: &Value,
) -> (StatusCode, Value) {
    let body = body.to_string();
    app.send_raw_as(client, Method::PATCH, path, content_type, &body)
        .await
}

/// A test app with project `rev` and a user for each (name, role in `rev`).
pub(crate) async fn rev_app(users: &[(&str, &str)]) -> (TestApp, Vec<TestUser>) {
    let app = TestApp::start().await;
    app.create_project("rev").await;
    let mut made = Vec::new();
    for (name, role) in users {
        made.push(app.user(name).await);
        app.grant("rev", name, role).await;
    }
    (app, made)
}

/// PUTs the tag `stream:tag` of project `rev`, following `from`, as `manager` with `client`.
pub(crate) async fn put_tag_as(
    app: &TestApp,
    client: &reqwest::Client,
    name: &str,
    manager: &str,
    from: &str,
) -> (StatusCode, Value) {
    let (stream, tag) = name.split_once(':').unwrap();
    let path = format!(
        "{}?fieldManager={manager}",
        paths::imagestreamtag("rev", stream, tag)
    );
    let body = istag(name, source(from));
    app.send_as(client, Method::PUT, &path, Some(&body)).await
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_istag_writes_to_a_big_stream_do_their_bookkeeping_off_the_runtime() {
    // Each of these walks the whole stream's fields; in a debug build it asserts that it runs
    // on the blocking pool (`heavy::on_pool`), so a path that does it inline fails here.
    let app = TestApp::start().await;
    app.create_project("rev").await;
    let tags: Vec<Value> = (0..500).map(|i| json!({"name": format!("t{i}")})).collect();
    let (code, body) = app
        .post(
            &paths::imagestreams("rev"),
            &json!({"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
                "metadata": {"name": "big"}, "spec": {"tags": tags}}),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let path = paths::imagestreamtag("rev", "big", "t1");
    let (code, body) = app
        .put(&path, &istag("big:t1", source("quay.io/x/big:1")))
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let (code, body) = apply(
        &app,
        "big:t2",
        "fieldManager=gitops",
        &istag("big:t2", source("quay.io/x/big:2")),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let (code, body) = app.delete(&paths::imagestreamtag("rev", "big", "t3")).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let stream = stored(&app, "big").await;
    let spec = stream["spec"]["tags"].as_array().unwrap();
    assert_eq!(spec.len(), 499);
    assert_eq!(spec[1]["from"]["name"], "quay.io/x/big:1");
    assert_eq!(spec[2]["from"]["name"], "quay.io/x/big:2");
    let managed = stream["metadata"]["managedFields"].to_string();
    assert!(managed.contains("gitops"), "{managed}");
}
