//! `null` in a field that may be absent reads as absent, as Go's JSON decoding leaves the field
//! at its zero value: OpenShift's own `oc adm groups new` writes a Group with `users: null`, and
//! a stream with `tags: null` is an empty one. A required field is still refused when `null`,
//! naming it.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::StatusCode;
use serde_json::json;
use tagstream_shared::paths;

use crate::support::TestApp;

#[tokio::test]
async fn null_reads_as_absent_in_defaulted_fields_and_is_refused_in_required_ones() {
    let app = TestApp::start().await;
    app.create_project("demo").await;

    let group = json!({"kind": "Group", "apiVersion": "user.openshift.io/v1",
        "metadata": {"name": "ops"}, "users": null});
    let (code, body) = app.post(paths::GROUPS, &group).await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let (code, stored) = app.get(&paths::group("ops")).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(stored["users"], json!([]));

    let stream = json!({"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
        "metadata": {"name": "web", "labels": null},
        "spec": {"lookupPolicy": null, "tags": null}, "status": null});
    let (code, body) = app.post(&paths::imagestreams("demo"), &stream).await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let (_, stored) = app.get(&paths::imagestream("demo", "web")).await;
    assert_eq!(stored["spec"]["lookupPolicy"], json!({"local": false}));
    assert!(stored["spec"].get("tags").is_none(), "{stored}");

    let binding = json!({"kind": "RoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1",
        "metadata": {"name": "viewers"}, "roleRef": null, "subjects": null});
    let (code, body) = app.post(&paths::rolebindings("demo"), &binding).await;
    assert!(code.is_client_error(), "{code} {body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("roleRef"), "{message}");
    let (code, _) = app.get(&paths::rolebinding("demo", "viewers")).await;
    assert_eq!(code, StatusCode::NOT_FOUND, "nothing was stored");
}
