//! A merge or JSON patch of a trigger is written as its replace is: one that sets
//! `spec.webhook.secret` replaces the secret deliveries are signed with, one that does not
//! keeps it, and no answer shows it.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::{Method, StatusCode};
use serde_json::json;
use tagstream_shared::paths;

use crate::support::TestApp;

/// The secret deliveries of trigger `t` in project `hooks` are signed with.
async fn secret(app: &TestApp) -> String {
    let (_, secret) = app
        .store()
        .webhook_target("hooks", "t")
        .await
        .unwrap()
        .unwrap();
    secret
}

#[tokio::test]
async fn a_trigger_patch_replaces_the_secret_only_when_it_sets_one() {
    let app = TestApp::start_with_config(crate::triggers::config(&["127.0.0.1:9".into()])).await;
    app.create_project("hooks").await;
    let (code, _) = app
        .post(
            &paths::triggers("hooks"),
            &json!({"metadata": {"name": "t"},
                "spec": {"from": {"kind": "ImageStreamTag", "name": "s:t"},
                    "webhook": {"url": "http://127.0.0.1:9/hook",
                        "secret": "first-secret-0123456789"}}}),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED);
    let one = paths::trigger("hooks", "t");

    let merge =
        r#"{"metadata":{"labels":{"a":"b"}},"spec":{"webhook":{"url":"http://127.0.0.1:9/two"}}}"#;
    let (code, body) = app
        .send_raw(Method::PATCH, &one, "application/merge-patch+json", merge)
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(body["spec"]["webhook"]["url"], "http://127.0.0.1:9/two");
    assert_eq!(body["metadata"]["labels"]["a"], "b");
    assert_eq!(secret(&app).await, "first-secret-0123456789");

    let json = r#"[{"op":"add","path":"/spec/webhook/secret","value":"second-secret-0123456789"}]"#;
    let (code, body) = app
        .send_raw(Method::PATCH, &one, "application/json-patch+json", json)
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert!(body["spec"]["webhook"].get("secret").is_none(), "{body}");
    assert_eq!(secret(&app).await, "second-secret-0123456789");
    let (_, stored) = app.get(&one).await;
    assert!(
        stored["spec"]["webhook"].get("secret").is_none(),
        "{stored}"
    );
}
