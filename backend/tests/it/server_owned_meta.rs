//! Metadata only the server writes is the server's on every write path: a client's
//! `deletionTimestamp` (which made an object look Terminating), `deletionGracePeriodSeconds`,
//! `selfLink` and `generation` are not stored on a create or a replace, of a plain kind
//! (templates), a kind with checked writes (role bindings) or a stream (review 18 N9).

use reqwest::StatusCode;
use serde_json::{Value, json};
use tagstream_shared::paths;

use crate::support::TestApp;

/// Metadata a client may not set.
fn forged(name: &str) -> Value {
    json!({"name": name, "deletionTimestamp": "2001-01-01T00:00:00Z",
        "deletionGracePeriodSeconds": 0, "selfLink": "/forged", "generation": 999})
}

/// Asserts that none of the forged fields is in the stored object's metadata; gives it back.
async fn stored_clean(app: &TestApp, path: &str, generation: Option<i64>) -> Value {
    let (code, stored) = app.get(path).await;
    assert_eq!(code, StatusCode::OK, "{stored}");
    let meta = &stored["metadata"];
    for key in [
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "selfLink",
    ] {
        assert!(meta.get(key).is_none(), "{key} stored: {meta}");
    }
    assert_eq!(meta["generation"].as_i64(), generation, "{meta}");
    stored
}

#[tokio::test]
async fn metadata_only_the_server_writes_is_not_taken_from_clients() {
    let app = TestApp::start().await;
    app.create_project("demo").await;

    let template = json!({"kind": "Template", "apiVersion": "template.openshift.io/v1",
        "metadata": forged("web"), "objects": []});
    let (code, body) = app.post(&paths::templates("demo"), &template).await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let path = paths::template("demo", "web");
    let mut again = stored_clean(&app, &path, None).await;
    let rv = again["metadata"]["resourceVersion"].clone();
    again["metadata"] = forged("web");
    again["metadata"]["resourceVersion"] = rv;
    let (code, body) = app.put(&path, &again).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    stored_clean(&app, &path, None).await;

    app.user("vic").await;
    let binding = json!({"kind": "RoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1",
        "metadata": forged("viewers"),
        "roleRef": {"kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "User", "name": "vic"}]});
    let (code, body) = app.post(&paths::rolebindings("demo"), &binding).await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let path = paths::rolebinding("demo", "viewers");
    let mut again = stored_clean(&app, &path, None).await;
    let rv = again["metadata"]["resourceVersion"].clone();
    again["metadata"] = forged("viewers");
    again["metadata"]["resourceVersion"] = rv;
    let (code, body) = app.put(&path, &again).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    stored_clean(&app, &path, None).await;

    let stream = json!({"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
        "metadata": forged("app")});
    let (code, body) = app.post(&paths::imagestreams("demo"), &stream).await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let path = paths::imagestream("demo", "app");
    let mut again = stored_clean(&app, &path, Some(1)).await;
    let rv = again["metadata"]["resourceVersion"].clone();
    again["metadata"] = forged("app");
    again["metadata"]["resourceVersion"] = rv;
    let (code, body) = app.put(&path, &again).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    stored_clean(&app, &path, Some(1)).await;
}

/// A checked write's resourceVersion that is not one is a 422 naming it, as on every other
/// kind (it was a 400 without a cause on role bindings, teams and users: review 18 N8); one
/// left out replaces unconditionally, as Kubernetes allows for role bindings.
#[tokio::test]
async fn a_checked_write_s_bad_resource_version_is_refused_naming_it() {
    let app = TestApp::start().await;
    app.create_project("demo").await;
    app.user("vic").await;
    app.grant("demo", "vic", "view").await;
    let path = paths::rolebinding("demo", "view-vic");
    let (_, mut binding) = app.get(&path).await;
    binding["metadata"]["resourceVersion"] = json!("abc");
    let (code, body) = app.put(&path, &binding).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let causes = &body["details"]["causes"];
    assert_eq!(causes[0]["field"], "metadata.resourceVersion", "{body}");

    binding["metadata"]
        .as_object_mut()
        .map(|m| m.remove("resourceVersion"));
    binding["metadata"]["labels"] = json!({"team": "a"});
    let (code, body) = app.put(&path, &binding).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(body["metadata"]["labels"]["team"], "a");
}
