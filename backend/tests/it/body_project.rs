//! A body naming another project than its path's is refused (422 naming
//! `metadata.namespace`) by every kind and every way of writing it, and nothing is stored or
//! changed: some writes used to move such a body to the path's project and answer success, so
//! a role binding meant for one project granted its role in another (review 18 N4).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tagstream_shared::paths;

use crate::api_labels::fields;
use crate::kubectl_istag_review::{JSON_PATCH, MERGE};
use crate::support::TestApp;

/// `body` with `metadata.namespace` set to `ns`.
fn in_project(mut body: Value, ns: &str) -> Value {
    body["metadata"]["namespace"] = json!(ns);
    body
}

fn refused_naming_namespace(code: StatusCode, body: &Value, what: &str) {
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {body}");
    assert_eq!(fields(body.clone()), ["metadata.namespace"], "{what}");
}

#[tokio::test]
async fn a_body_naming_another_project_is_refused_by_every_kind_and_write() {
    // The trigger's receiver on loopback may be named (nothing is delivered).
    let app = TestApp::start_with_config(crate::triggers::config(&["127.0.0.1:9".into()])).await;
    for ns in ["demo", "other"] {
        app.create_project(ns).await;
    }
    app.user("vic").await;
    app.create_stream("demo", &json!({"metadata": {"name": "app"}}))
        .await;
    let creates = [
        (
            paths::imagestreams("demo"),
            paths::imagestream("demo", "web"),
            json!({"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
            "metadata": {"name": "web"}}),
        ),
        (
            paths::imagestreamtags_in("demo"),
            paths::imagestreamtag("demo", "app", "v1"),
            json!({"kind": "ImageStreamTag", "apiVersion": "image.openshift.io/v1",
            "metadata": {"name": "app:v1"},
            "tag": {"from": {"kind": "DockerImage", "name": "quay.io/x/app:1"}}}),
        ),
        (
            paths::templates("demo"),
            paths::template("demo", "web"),
            json!({"kind": "Template", "apiVersion": "template.openshift.io/v1",
            "metadata": {"name": "web"}, "objects": []}),
        ),
        (
            paths::rolebindings("demo"),
            paths::rolebinding("demo", "viewers"),
            json!({"kind": "RoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1",
            "metadata": {"name": "viewers"},
            "roleRef": {"kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "User", "name": "vic"}]}),
        ),
        (
            paths::triggers("demo"),
            paths::trigger("demo", "hook"),
            json!({"kind": "Trigger", "apiVersion": "tagstream.io/v1",
            "metadata": {"name": "hook"},
            "spec": {"from": {"kind": "ImageStream", "name": "app"},
                "webhook": {"url": "http://127.0.0.1:9/hook", "secret": "s3cret-s3cret-s3cret"}}}),
        ),
    ];
    for (collection, item, body) in &creates {
        let (code, answer) = app
            .post(collection, &in_project(body.clone(), "other"))
            .await;
        refused_naming_namespace(code, &answer, collection);
        let (code, _) = app.get(item).await;
        assert_eq!(code, StatusCode::NOT_FOUND, "{item}: nothing was stored");
        // The same body without the other project is taken.
        let (code, answer) = app
            .post(collection, &in_project(body.clone(), "demo"))
            .await;
        assert!(code.is_success(), "{collection}: {code} {answer}");
    }

    // A replace and both patches of a stored template, and a replace of a binding.
    let template = paths::template("demo", "web");
    let (_, stored) = app.get(&template).await;
    let (code, answer) = app
        .put(&template, &in_project(stored.clone(), "other"))
        .await;
    refused_naming_namespace(code, &answer, "template PUT");
    let merge = json!({"metadata": {"namespace": "other"}}).to_string();
    let (code, answer) = app.send_raw(Method::PATCH, &template, MERGE, &merge).await;
    refused_naming_namespace(code, &answer, "template merge patch");
    let ops = json!([{"op": "replace", "path": "/metadata/namespace", "value": "other"}]);
    let (code, answer) = app
        .send_raw(Method::PATCH, &template, JSON_PATCH, &ops.to_string())
        .await;
    refused_naming_namespace(code, &answer, "template JSON patch");
    let (_, after) = app.get(&template).await;
    assert_eq!(
        after["metadata"]["resourceVersion"],
        stored["metadata"]["resourceVersion"]
    );
    let binding = paths::rolebinding("demo", "viewers");
    let (_, stored) = app.get(&binding).await;
    let (code, answer) = app.put(&binding, &in_project(stored, "other")).await;
    refused_naming_namespace(code, &answer, "binding PUT");
    let (code, _) = app.get(&paths::rolebinding("other", "viewers")).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
}
