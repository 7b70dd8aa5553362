//! Server-side apply's edges found by the attack review of issue 14: a resourceVersion in the
//! body is a precondition, a namespace other than the URL's is refused, an apply that changes
//! nothing writes nothing, and a field manager's name may not hide text.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tagstream_shared::paths;

use crate::support::{TestApp, assert_status};

const APPLY: &str = "application/apply-patch+yaml";

fn body(labels: Value) -> Value {
    json!({"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
           "metadata": {"name": "ruby", "labels": labels},
           "spec": {"tags": [{"name": "3.3", "from": {"kind": "DockerImage", "name": "quay.io/x/ruby:3.3"}}]}})
}

async fn apply(app: &TestApp, manager: &str, body: &Value) -> (StatusCode, Value) {
    let path = format!(
        "{}?fieldManager={}",
        paths::imagestream("demo", "ruby"),
        urlencode(manager)
    );
    app.send_raw(Method::PATCH, &path, APPLY, &body.to_string())
        .await
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

#[tokio::test]
async fn an_apply_is_held_to_its_resource_version_namespace_and_manager_and_a_no_op_writes_nothing()
{
    let app = TestApp::start().await;
    app.create_project("demo").await;
    let (code, created) = apply(&app, "ci", &body(json!({"team": "web"}))).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    let version = created["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_owned();

    // The same apply again changes nothing: no new resourceVersion.
    let (code, again) = apply(&app, "ci", &body(json!({"team": "web"}))).await;
    assert_eq!(code, StatusCode::OK, "{again}");
    assert_eq!(again["metadata"]["resourceVersion"], version.as_str());

    // A stale resourceVersion in the body is a 409, and nothing changes.
    let mut stale = body(json!({"team": "ops"}));
    stale["metadata"]["resourceVersion"] = json!("1");
    let (code, answer) = apply(&app, "ci", &stale).await;
    assert_eq!(code, StatusCode::CONFLICT, "{answer}");
    let mut current = body(json!({"team": "ops"}));
    current["metadata"]["resourceVersion"] = json!(version);
    let (code, answer) = apply(&app, "ci", &current).await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    assert_eq!(answer["metadata"]["labels"]["team"], "ops");

    // Another namespace in the body than on the URL is refused, for an existing object too.
    let mut elsewhere = body(json!({"team": "ops"}));
    elsewhere["metadata"]["namespace"] = json!("other");
    let (code, answer) = apply(&app, "ci", &elsewhere).await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{answer}");
    assert_status(answer, code, "BadRequest");

    // A manager's name that would reorder the text around it is refused.
    let (code, answer) = apply(&app, "ci\u{202e}evil", &body(json!({}))).await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{answer}");
    let (_, after) = app.get(&paths::imagestream("demo", "ruby")).await;
    assert_eq!(after["metadata"]["labels"], json!({"team": "ops"}));
    app.stop().await;
}

#[tokio::test]
async fn a_template_instance_may_not_store_labels_its_parameters_make_bad() {
    let app = TestApp::start().await;
    app.create_project("demo").await;
    let instance = json!({
        "kind": "TemplateInstance", "apiVersion": "template.openshift.io/v1",
        "metadata": {"name": "ti"},
        "spec": {"template": {
            "kind": "Template", "apiVersion": "template.openshift.io/v1",
            "metadata": {"name": "t"},
            "parameters": [{"name": "V", "value": "two words"}],
            "objects": [{"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
                         "metadata": {"name": "made", "labels": {"team": "${V}"}}}]
        }}
    });
    let path = "/apis/template.openshift.io/v1/namespaces/demo/templateinstances";
    let (code, answer) = app.post(path, &instance).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(
        answer
            .to_string()
            .contains("spec.template.objects[0].metadata.labels[team]"),
        "{answer}"
    );
    let (code, _) = app.get(&paths::imagestream("demo", "made")).await;
    assert_eq!(code, StatusCode::NOT_FOUND, "nothing was stored");
    app.stop().await;
}
