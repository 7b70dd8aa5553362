//! Bodies over `heavy::INLINE_BYTES` are parsed and checked on the blocking pool (so that a few
//! big ones cannot stall every other request); they must answer exactly what a small body
//! answers: stored whole when good, refused naming the field when `fieldValidation=Strict`
//! finds a repeated key, and nothing stored then.

#![expect(clippy::unwrap_used, reason = "a test that cannot proceed has failed")]

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tagstream_shared::paths::{imagestream, imagestreams};

use crate::support::{TestApp, assert_status};

const TAGS: usize = 1500;

/// Stream `name` with `TAGS` tags as YAML (about 150 KB); the last tag repeats its `name` key
/// when `repeat` is set.
fn big_stream_yaml(name: &str, repeat: bool) -> String {
    let mut yaml = format!(
        "apiVersion: image.openshift.io/v1\nkind: ImageStream\nmetadata:\n  name: {name}\nspec:\n  tags:\n"
    );
    for i in 0..TAGS {
        yaml.push_str(&format!(
            "  - name: t{i}\n    from:\n      kind: DockerImage\n      name: quay.io/demo/app:v{i}\n    annotations:\n      description: tag number {i} of a stream large enough to be read off the request's thread\n"
        ));
    }
    if repeat {
        yaml.push_str("    name: again\n");
    }
    yaml
}

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    content_type: &str,
    body: String,
) -> (StatusCode, Value) {
    let resp = app
        .client
        .request(method, app.url(path))
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let code = resp.status();
    let text = resp.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (code, value)
}

#[tokio::test]
async fn large_bodies_are_stored_and_refused_as_small_ones_are() {
    let app = TestApp::start().await;
    app.create_project("demo").await;
    let strict = format!("{}?fieldValidation=Strict", imagestreams("demo"));

    // A repeated key in a big YAML body is found and named; nothing is stored.
    let body = big_stream_yaml("repeats", true);
    assert!(body.len() > 100_000, "{}", body.len());
    let (code, answer) = send(&app, Method::POST, &strict, "application/yaml", body).await;
    let status = assert_status(answer, code, "BadRequest");
    assert!(
        status.message.contains(&format!(
            "yaml: duplicate field \"spec.tags[{}].name\"",
            TAGS - 1
        )),
        "{}",
        status.message
    );
    let (code, _) = app.get(&imagestream("demo", "repeats")).await;
    assert_eq!(code, StatusCode::NOT_FOUND, "a refused body stored nothing");

    // A good one is stored whole.
    let body = big_stream_yaml("big", false);
    let (code, created) = send(&app, Method::POST, &strict, "application/yaml", body).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    let (_, stream) = app.get(&imagestream("demo", "big")).await;
    let tags = stream["spec"]["tags"].as_array().unwrap();
    assert_eq!(tags.len(), TAGS);
    assert_eq!(
        tags[TAGS - 1]["from"]["name"],
        format!("quay.io/demo/app:v{}", TAGS - 1)
    );

    // A big merge patch: applied when good, refused naming a key it repeats.
    let labels: serde_json::Map<String, Value> = (0..3000)
        .map(|i| (format!("label-{i}"), json!(format!("value-{i}"))))
        .collect();
    let patch = json!({"metadata": {"annotations": labels}}).to_string();
    assert!(patch.len() > 64 << 10, "{}", patch.len());
    let repeated = patch.replacen("\"label-0\"", "\"label-1\"", 1);
    let path = format!("{}?fieldValidation=Strict", imagestream("demo", "big"));
    let (code, answer) = send(
        &app,
        Method::PATCH,
        &path,
        "application/merge-patch+json",
        repeated,
    )
    .await;
    let status = assert_status(answer, code, "BadRequest");
    assert!(
        status
            .message
            .contains("json: duplicate field \"metadata.annotations.label-1\""),
        "{}",
        status.message
    );
    let (code, patched) = send(
        &app,
        Method::PATCH,
        &path,
        "application/merge-patch+json",
        patch,
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{patched}");
    let (_, stream) = app.get(&imagestream("demo", "big")).await;
    assert_eq!(
        stream["metadata"]["annotations"]["label-2999"],
        "value-2999"
    );
    assert_eq!(stream["spec"]["tags"].as_array().unwrap().len(), TAGS);
    app.stop().await;
}
