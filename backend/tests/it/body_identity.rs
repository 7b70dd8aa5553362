//! A body is the kind its path takes: a Template sent to the image streams, a User sent to the
//! groups, a patch that turns a stream into another kind, or an API version the kind is not
//! served in is refused (422 naming `kind` or `apiVersion`) and nothing is stored, as
//! Kubernetes refuses them; OpenShift's legacy `apiVersion: v1` and a body without either are
//! taken. A user create whose field does not decode names that field.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::{Method, StatusCode};
use serde_json::json;
use tagstream_shared::paths;

use crate::api_labels::fields;
use crate::support::TestApp;

#[tokio::test]
async fn a_body_of_another_kind_or_api_version_is_refused_naming_the_field() {
    let app = TestApp::start().await;
    app.create_project("demo").await;
    let streams = paths::imagestreams("demo");
    let template = json!({"kind": "Template", "apiVersion": "template.openshift.io/v1",
        "metadata": {"name": "web"}, "objects": []});
    let (code, body) = app.post(&streams, &template).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["reason"], "Invalid");
    assert_eq!(fields(body.clone()), ["kind", "apiVersion"]);
    let (code, _) = app.get(&paths::imagestream("demo", "web")).await;
    assert_eq!(code, StatusCode::NOT_FOUND, "nothing was stored");

    let v2 = json!({"kind": "ImageStream", "apiVersion": "image.openshift.io/v2",
        "metadata": {"name": "web"}});
    let (code, body) = app.post(&streams, &v2).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(body.clone()), ["apiVersion"]);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("image.openshift.io/v1")
    );

    let user = json!({"kind": "User", "apiVersion": "user.openshift.io/v1",
        "metadata": {"name": "ops"}});
    let (code, body) = app.post(paths::GROUPS, &user).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(body.clone()), ["kind"]);
    let (code, _) = app.get(&paths::group("ops")).await;
    assert_eq!(code, StatusCode::NOT_FOUND, "no team was made");

    // OpenShift's legacy v1, and a body that does not say, are the path's kind.
    for (name, body) in [
        ("legacy", json!({"kind": "ImageStream", "apiVersion": "v1"})),
        ("plain", json!({})),
    ] {
        let mut body = body;
        body["metadata"] = json!({"name": name});
        let (code, stored) = app.post(&streams, &body).await;
        assert_eq!(code, StatusCode::CREATED, "{stored}");
        assert_eq!(stored["apiVersion"], "image.openshift.io/v1");
        assert_eq!(stored["kind"], "ImageStream");
    }

    // A patch may not turn the stream into another kind.
    let path = paths::imagestream("demo", "plain");
    let (_, before) = app.get(&path).await;
    let (code, body) = app
        .send_raw(
            Method::PATCH,
            &path,
            "application/merge-patch+json",
            r#"{"kind": "Template", "metadata": {"labels": {"a": "b"}}}"#,
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(body.clone()), ["kind"]);
    let (_, after) = app.get(&path).await;
    assert_eq!(after, before, "the stream is unchanged");
}

#[tokio::test]
async fn a_user_create_whose_field_does_not_decode_names_the_field() {
    let app = TestApp::start().await;
    let user = json!({"kind": "User", "apiVersion": "user.openshift.io/v1",
        "metadata": {"name": "zed"}, "fullName": 5});
    let (code, body) = app.post(paths::USERS, &user).await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("fullName"), "{message}");
    let (code, _) = app.get(&paths::user("zed")).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
}
