//! Reads answered with the stored JSON as bytes (issue 16) are what clients read before: the
//! very bytes the model types encode to (same fields, same order), for a stream, a list of
//! streams, a template and a list of templates; YAML and kubectl's tables still work on them;
//! a large answer is gzipped when the client accepts it, and a watch never is (its events must
//! not wait for a compressor's block to fill).

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use std::io::Write as _;
use std::process::{Command, Stdio};

use reqwest::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tagstream_shared::template::Template;
use tagstream_shared::{ImageStream, List, paths};

use crate::support::{TestApp, fixtures, stream_json};
use crate::watch::Events;

/// GET `path` as the admin with `headers`: status, headers and the body's bytes.
async fn get_bytes(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = app.client.get(app.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let (code, head) = (resp.status(), resp.headers().clone());
    (code, head, resp.bytes().await.unwrap().to_vec())
}

/// `bytes` decoded as `T` and encoded again: what an answer built from the typed object is.
fn reencoded<T: DeserializeOwned + Serialize>(bytes: &[u8]) -> String {
    let typed: T = serde_json::from_slice(bytes).unwrap();
    serde_json::to_string(&typed).unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn stored_bytes_are_the_bytes_the_typed_objects_encode_to() {
    let app = TestApp::start().await;
    app.create_project("demo").await;
    let ruby =
        std::fs::read_to_string(fixtures().join("openshift-library/imagestreams/ruby-rhel.json"))
            .unwrap();
    let mut ruby: Value = serde_json::from_str(&ruby).unwrap();
    // A field this model does not know is kept, and answered where it was.
    ruby["metadata"]["annotations"]["example.com/kept"] = json!("yes");
    ruby["spec"]["futureField"] = json!({"b": 1, "a": [true, null, 2.5]});
    for body in [
        ruby,
        stream_json("app", "latest", "registry.example.com/app:1"),
    ] {
        let (code, created) = app.post(&paths::imagestreams("demo"), &body).await;
        assert_eq!(code, StatusCode::CREATED, "{created}");
    }
    let (code, template) = app
        .post(
            &paths::templates("demo"),
            &json!({"kind": "Template", "apiVersion": "template.openshift.io/v1",
                    "metadata": {"name": "web", "labels": {"tier": "web"}},
                    "objects": [{"kind": "ImageStream", "apiVersion": "v1",
                                 "metadata": {"name": "${NAME}"}}],
                    "parameters": [{"name": "NAME", "value": "web"}]}),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{template}");

    let (code, head, one) = get_bytes(&app, &paths::imagestream("demo", "ruby"), &[]).await;
    assert_eq!(code, StatusCode::OK, "{}", text(&one));
    assert_eq!(head["content-type"], "application/json");
    assert_eq!(text(&one), reencoded::<ImageStream>(&one));
    let kept: Value = serde_json::from_slice(&one).unwrap();
    assert_eq!(kept["spec"]["futureField"]["a"][2], json!(2.5));
    assert_eq!(kept["metadata"]["annotations"]["example.com/kept"], "yes");

    let (code, _, list) = get_bytes(&app, &paths::imagestreams("demo"), &[]).await;
    assert_eq!(code, StatusCode::OK, "{}", text(&list));
    assert_eq!(text(&list), reencoded::<List<ImageStream>>(&list));
    let names: Vec<Value> = serde_json::from_slice::<Value>(&list).unwrap()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["metadata"]["name"].clone())
        .collect();
    assert_eq!(names, [json!("app"), json!("ruby")]);
    let (code, _, all) = get_bytes(&app, paths::IMAGESTREAMS_ALL, &[]).await;
    assert_eq!(code, StatusCode::OK, "{}", text(&all));
    assert_eq!(text(&all), reencoded::<List<ImageStream>>(&all));

    let (code, _, one) = get_bytes(&app, &paths::template("demo", "web"), &[]).await;
    assert_eq!(code, StatusCode::OK, "{}", text(&one));
    assert_eq!(text(&one), reencoded::<Template>(&one));
    let (code, _, list) = get_bytes(&app, &paths::templates("demo"), &[]).await;
    assert_eq!(code, StatusCode::OK, "{}", text(&list));
    assert_eq!(text(&list), reencoded::<List<Template>>(&list));

    // What is shaped from them still is: YAML, and kubectl's table.
    let (code, head, yaml) = get_bytes(
        &app,
        &paths::template("demo", "web"),
        &[("Accept", "application/yaml")],
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(head["content-type"], "application/yaml");
    assert!(text(&yaml).contains("name: \"web\""), "{}", text(&yaml));
    let (code, _, table) = get_bytes(
        &app,
        &paths::imagestreams("demo"),
        &[("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")],
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    let table: Value = serde_json::from_slice(&table).unwrap();
    assert_eq!(table["kind"], "Table", "{table}");
    assert_eq!(table["rows"].as_array().unwrap().len(), 2, "{table}");
    app.stop().await;
}

/// `bytes` through `gzip -dc`.
fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut child = Command::new("gzip")
        .arg("-dc")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success());
    out.stdout
}

#[tokio::test]
async fn a_large_answer_is_gzipped_when_accepted_and_a_watch_never_is() {
    let app = TestApp::start().await;
    app.create_project("demo").await;
    for i in 0..40 {
        let body = stream_json(&format!("app-{i}"), "latest", "registry.example.com/app:1");
        let (code, created) = app.post(&paths::imagestreams("demo"), &body).await;
        assert_eq!(code, StatusCode::CREATED, "{created}");
    }
    let path = paths::imagestreams("demo");
    let (code, head, plain) = get_bytes(&app, &path, &[]).await;
    assert_eq!(code, StatusCode::OK);
    assert!(head.get("content-encoding").is_none(), "{head:?}");
    let (code, head, gzipped) = get_bytes(&app, &path, &[("Accept-Encoding", "gzip")]).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(head["content-encoding"], "gzip");
    assert!(
        gzipped.len() * 4 < plain.len(),
        "{} bytes gzipped of {}",
        gzipped.len(),
        plain.len()
    );
    assert_eq!(text(&gunzip(&gzipped)), text(&plain));
    // Small answers are sent as they are.
    let (_, head, _) = get_bytes(&app, paths::WHOAMI, &[("Accept-Encoding", "gzip")]).await;
    assert!(head.get("content-encoding").is_none(), "{head:?}");

    // A watch asked with gzip accepted: plain, and each event arrives as it happens.
    let resp = app
        .client
        .get(app.url(&format!("{path}?watch=true")))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers().get("content-encoding").is_none());
    let mut events = Events::lines(resp);
    for _ in 0..40 {
        let added = events.next().await;
        assert_eq!(added["type"], "ADDED", "{added}");
    }
    let body = stream_json("late", "latest", "registry.example.com/app:1");
    let (code, created) = app.post(&path, &body).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    // Bounded so that a held-back event fails the test instead of hanging it.
    let event = tokio::time::timeout(crate::support::PATIENCE, events.next())
        .await
        .expect("the event of the new stream arrives while the watch stays open");
    assert_eq!(event["object"]["metadata"]["name"], "late", "{event}");
    app.stop().await;
}

/// GET `path` as the admin accepting gzip, as kubectl does: the status and the JSON body.
async fn get_gzip_accepted(app: &TestApp, path: &str, accept: Option<&str>) -> (StatusCode, Value) {
    let mut headers = vec![("Accept-Encoding", "gzip")];
    if let Some(accept) = accept {
        headers.push(("Accept", accept));
    }
    let (code, head, body) = get_bytes(app, path, &headers).await;
    let body = match head.get("content-encoding") {
        Some(coding) if coding == "gzip" => gunzip(&body),
        _ => body,
    };
    (code, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_big_list_asked_with_gzip_is_still_narrowed_by_selectors_chunks_and_tables() {
    let app = TestApp::start().await;
    app.create_project("demo").await;
    // More than the 64 KiB from which the read cache keeps a list gzipped.
    let padding = "x".repeat(600);
    for i in 0..150 {
        let mut body = stream_json(&format!("keep-{i}"), "latest", "registry.example.com/app:1");
        body["metadata"]["labels"] = json!({"app": "keep"});
        body["metadata"]["annotations"] = json!({"padding": padding});
        let (code, created) = app.post(&paths::imagestreams("demo"), &body).await;
        assert_eq!(code, StatusCode::CREATED, "{created}");
    }
    let mut old = stream_json("old-one", "latest", "registry.example.com/app:1");
    old["metadata"]["labels"] = json!({"app": "old"});
    let (code, created) = app.post(&paths::imagestreams("demo"), &old).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    let path = paths::imagestreams("demo");
    let (code, all) = get_gzip_accepted(&app, &path, None).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(all["items"].as_array().unwrap().len(), 151);

    // What `kubectl delete is -l app=old` reads first: the one stream, not all of them.
    let (code, old) =
        get_gzip_accepted(&app, &format!("{path}?labelSelector=app%3Dold"), None).await;
    assert_eq!(code, StatusCode::OK, "{old}");
    let names: Vec<&str> = old["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["metadata"]["name"].as_str())
        .collect();
    assert_eq!(names, ["old-one"]);
    let (code, one) = get_gzip_accepted(
        &app,
        &format!("{path}?fieldSelector=metadata.name%3Dkeep-7"),
        None,
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{one}");
    assert_eq!(one["items"].as_array().unwrap().len(), 1, "{one}");
    let (code, chunk) = get_gzip_accepted(&app, &format!("{path}?limit=5"), None).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(chunk["items"].as_array().unwrap().len(), 5);
    assert!(
        chunk["metadata"]["continue"].is_string(),
        "{}",
        chunk["metadata"]
    );
    let (code, table) = get_gzip_accepted(
        &app,
        &path,
        Some("application/json;as=Table;v=v1;g=meta.k8s.io"),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(table["kind"], "Table");
    assert_eq!(table["rows"].as_array().unwrap().len(), 151);
    app.stop().await;
}
