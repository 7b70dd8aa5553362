//! The kind check holds on every write path, not only the typed creates: a TemplateInstance
//! whose `spec.template` is not a Template is refused (422 naming the field) and nothing is
//! made.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::StatusCode;
use serde_json::json;
use tagstream_shared::paths;

use crate::api_labels::fields;
use crate::support::TestApp;

#[tokio::test]
async fn a_template_instance_s_template_must_be_a_template() {
    let app = TestApp::start().await;
    app.create_project("demo").await;
    let instance = |name: &str, kind: &str, api_version: &str| {
        json!({"kind": "TemplateInstance", "apiVersion": "template.openshift.io/v1",
            "metadata": {"name": name},
            "spec": {"template": {"kind": kind, "apiVersion": api_version,
                "metadata": {"name": "t"},
                "objects": [{"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
                             "metadata": {"name": format!("from-{name}")}}]}}})
    };
    let instances = paths::template_instances("demo");
    let stream = instance("ti", "ImageStream", "image.openshift.io/v1");
    let (code, body) = app.post(&instances, &stream).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        fields(body.clone()),
        ["spec.template.kind", "spec.template.apiVersion"]
    );
    // A kind served twice (templates, processed templates) is named once.
    assert!(
        body["details"]["causes"][1]["message"]
            .as_str()
            .unwrap()
            .ends_with(r#"supported values: "template.openshift.io/v1", "v1""#),
        "{body}"
    );
    let (code, _) = app.get(&paths::template_instance("demo", "ti")).await;
    assert_eq!(code, StatusCode::NOT_FOUND, "no instance was stored");
    let (code, _) = app.get(&paths::imagestream("demo", "from-ti")).await;
    assert_eq!(code, StatusCode::NOT_FOUND, "nothing was instantiated");

    // A Template, in OpenShift's legacy v1 too, is instantiated.
    let legacy = instance("legacy", "Template", "v1");
    let (code, body) = app.post(&instances, &legacy).await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let (code, _) = app.get(&paths::imagestream("demo", "from-legacy")).await;
    assert_eq!(code, StatusCode::OK);
    app.stop().await;
}
