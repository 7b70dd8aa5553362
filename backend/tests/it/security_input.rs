//! Input bounds through the real router (issue 11): YAML alias bombs to the anonymous sign-in and
//! to an authenticated create, bodies of a type a cross-site form can send, templates whose
//! processing would expand past the engine's limits, and a pathological `${` scan. Each test
//! sends the attack and asserts the Status that names what was refused, and that the server
//! still answers afterwards.

#![expect(
    clippy::unwrap_used,
    reason = "a test failing to read its own data is a failure"
)]

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tagstream_shared::paths::{
    LOGIN, PROJECTS, WHOAMI, processed_templates, project, template_instances, templates,
};

use crate::support::{TestApp, assert_status};

/// A "billion laughs" YAML document: nine levels of nine aliases, 9^9 leaves once expanded, in
/// well under a kilobyte.
fn alias_bomb() -> String {
    let mut yaml = String::from("metadata:\n  name: bomb\nl0: &l0 [\"lol\"]\n");
    for level in 1..=9 {
        let refs = vec![format!("*l{}", level - 1); 9].join(", ");
        yaml.push_str(&format!("l{level}: &l{level} [{refs}]\n"));
    }
    yaml
}

/// Sends `body` with `content_type` (none when `None`) as `client`, answering the code and the
/// JSON answer.
async fn send(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    content_type: Option<&str>,
    body: String,
) -> (StatusCode, Value) {
    let mut req = client.request(Method::POST, app.url(path)).body(body);
    if let Some(content_type) = content_type {
        req = req.header("Content-Type", content_type);
    }
    let resp = req.send().await.unwrap();
    let code = resp.status();
    let text = resp.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (code, value)
}

/// The server still answers an ordinary request.
async fn still_answers(app: &TestApp) {
    let (code, me) = app.get(WHOAMI).await;
    assert_eq!(code, StatusCode::OK, "{me}");
    assert_eq!(me["username"], "admin");
}

#[tokio::test]
async fn sign_in_and_invitations_take_only_small_json() {
    let app = TestApp::start().await;
    let invitation = "/apis/tagstream.io/v1/invitations/some-token";
    for path in [LOGIN, invitation] {
        let (code, body) = send(
            &app,
            &app.anonymous,
            path,
            Some("application/yaml"),
            alias_bomb(),
        )
        .await;
        let status = assert_status(body, code, "UnsupportedMediaType");
        assert!(
            status.message.contains("application/json"),
            "{}",
            status.message
        );
    }
    // A JSON body past the anonymous limit is refused before the password is checked.
    let big = json!({"username": "admin", "password": "x".repeat(20_000)}).to_string();
    let (code, body) = send(&app, &app.anonymous, LOGIN, Some("application/json"), big).await;
    let status = assert_status(body, code, "RequestEntityTooLarge");
    assert!(
        status.message.contains("16 KiB limit"),
        "{}",
        status.message
    );
    // A sign-in as it should be still works the same.
    let (code, body) = send(
        &app,
        &app.anonymous,
        LOGIN,
        Some("application/json"),
        json!({"username": "nobody", "password": "wrong password"}).to_string(),
    )
    .await;
    assert_status(body, code, "Unauthorized");
    still_answers(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn an_alias_bomb_to_an_authenticated_create_is_refused_naming_aliases() {
    let app = TestApp::start().await;
    app.create_project("demo").await;
    let (code, body) = send(
        &app,
        &app.client,
        &templates("demo"),
        Some("application/yaml"),
        alias_bomb(),
    )
    .await;
    let status = assert_status(body, code, "BadRequest");
    assert!(
        status.message.contains("anchors and aliases"),
        "{}",
        status.message
    );
    // One anchor and one alias are refused too: no body needs them.
    let small = "metadata: {name: t}\nobjects: &o []\nextra: *o\n".to_owned();
    let (code, body) = send(
        &app,
        &app.client,
        &templates("demo"),
        Some("application/yaml"),
        small,
    )
    .await;
    assert_status(body, code, "BadRequest");
    let (_, list) = app.get(&templates("demo")).await;
    assert_eq!(list["items"], json!([]), "nothing was stored");
    still_answers(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn form_text_and_untyped_bodies_are_refused_415() {
    let app = TestApp::start().await;
    let body = json!({"metadata": {"name": "forged"}}).to_string();
    for content_type in [
        Some("application/x-www-form-urlencoded"),
        Some("text/plain"),
        Some("text/plain; charset=utf-8"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        let (code, answer) = send(&app, &app.client, PROJECTS, content_type, body.clone()).await;
        let status = assert_status(answer, code, "UnsupportedMediaType");
        for accepted in ["application/json", "application/yaml"] {
            assert!(
                status.message.contains(accepted),
                "{content_type:?}: {}",
                status.message
            );
        }
    }
    let (code, _) = app.get(&project("forged")).await;
    assert_eq!(code, StatusCode::NOT_FOUND, "no project was made");
    // The same body, typed, is accepted.
    let (code, created) = send(&app, &app.client, PROJECTS, Some("application/json"), body).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    app.stop().await;
}

/// A template whose one object refers to `A` `times` times, with `A` `value_len` bytes long.
fn expanding(value_len: usize, times: usize, objects: usize) -> Value {
    let object = json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "c"},
                        "data": {"x": "${A}".repeat(times)}});
    json!({
        "kind": "Template", "apiVersion": "template.openshift.io/v1",
        "metadata": {"name": "bomb"},
        "objects": vec![object; objects],
        "parameters": [{"name": "A", "value": "x".repeat(value_len)}]
    })
}

#[tokio::test]
async fn processing_past_the_limits_is_a_422_naming_the_limit() {
    let app = TestApp::start().await;
    app.create_project("demo").await;
    let path = processed_templates("demo");
    // 60 KB × 2,000 would be 120 MB in one object.
    let (code, body) = app.post(&path, &expanding(60_000, 2_000, 1)).await;
    let status = assert_status(body, code, "Invalid");
    assert!(
        status.message.contains(
            "template.objects[0]: Too long: the processed object is larger than the 1 MiB limit"
        ),
        "{}",
        status.message
    );
    // Objects under 1 MiB each, 40 of them: the total limit.
    let (code, body) = app.post(&path, &expanding(60_000, 15, 40)).await;
    let status = assert_status(body, code, "Invalid");
    assert!(
        status
            .message
            .contains("the processed template is larger than the 4 MiB limit"),
        "{}",
        status.message
    );
    // A value over 64 KiB.
    let (code, body) = app.post(&path, &expanding(70_000, 1, 1)).await;
    let status = assert_status(body, code, "Invalid");
    assert!(
        status
            .message
            .contains("template.parameters[0]: Too long: parameter A: the value is longer than the 64 KiB limit"),
        "{}",
        status.message
    );
    // Instantiating runs the same engine with the same limits.
    let instance = json!({"kind": "TemplateInstance", "apiVersion": "template.openshift.io/v1",
                          "metadata": {"name": "i"},
                          "spec": {"template": expanding(60_000, 2_000, 1)}});
    let (code, body) = app.post(&template_instances("demo"), &instance).await;
    let status = assert_status(body, code, "Invalid");
    assert!(status.message.contains("1 MiB limit"), "{}", status.message);
    // Under the limits, processing is as before.
    let (code, body) = app.post(&path, &expanding(1_000, 10, 3)).await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    assert_eq!(
        body["objects"][2]["data"]["x"].as_str().map(str::len),
        Some(10_000)
    );
    still_answers(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn a_pathological_reference_scan_finishes() {
    let app = TestApp::start().await;
    app.create_project("demo").await;
    // 400,000 unmatched `${` (800 KB) and then a reference: every opening used to be scanned
    // to the end of the string, over a hundred billion steps.
    let text = format!("{}${{A}}", "${".repeat(400_000));
    let template = json!({
        "kind": "Template", "apiVersion": "template.openshift.io/v1",
        "metadata": {"name": "scan", "namespace": "demo"},
        "objects": [{"kind": "ConfigMap", "apiVersion": "v1",
                     "metadata": {"name": "c", "namespace": "${".repeat(1 << 16)},
                     "data": {"x": text}}],
        "parameters": [{"name": "A", "value": "done"}]
    });
    let (code, body) = app.post(&processed_templates("demo"), &template).await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let x = body["objects"][0]["data"]["x"].as_str().unwrap_or_default();
    assert_eq!(x.len(), 2 * 400_000 + 4);
    assert!(x.ends_with("${done"), "{}", &x[x.len() - 10..]);
    assert_eq!(body["objects"][0]["metadata"].get("namespace"), None);
    still_answers(&app).await;
    app.stop().await;
}

/// A malformed query string is a 400 `Status` naming the parameter, like every other refusal
/// (the attack review got axum's plain text for `?limit=-1`).
#[tokio::test]
async fn a_malformed_query_string_is_a_status() {
    let app = TestApp::start().await;
    app.create_project("demo").await;
    for path in [
        format!("{}?limit=-1", tagstream_shared::paths::AUDIT_EVENTS_ALL),
        format!(
            "{}?limit=99999999999999999999",
            tagstream_shared::paths::audit_events("demo")
        ),
    ] {
        let (code, body) = app.get(&path).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_status(body.clone(), code, "BadRequest");
        // Named by whichever parser refused it first (kubectl's list options read `limit`
        // for every GET before the handler's own query extractor does).
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains("limit")),
            "{path}: {body}"
        );
    }
    app.stop().await;
}
