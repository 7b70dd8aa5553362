//! Workload triggers, read side: a template's Deployment that follows a stream tag through
//! `image.openshift.io/triggers` is kept with the instance and named as a follower.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::StatusCode;
use serde_json::{Value, json};
use tagstream_shared::paths::{template_instance, template_instances};

use crate::support::{TestApp, assert_status};

/// A template instance with a stream and a Deployment whose container `web` follows `ruby:latest`.
pub fn instance_with_a_follower(annotation: &str) -> Value {
    json!({
        "kind": "TemplateInstance", "apiVersion": "template.openshift.io/v1",
        "metadata": {"name": "shop"},
        "spec": {"template": {
            "kind": "Template", "apiVersion": "template.openshift.io/v1",
            "metadata": {"name": "shop"},
            "objects": [
                {"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
                 "metadata": {"name": "ruby"},
                 "spec": {"tags": [{"name": "latest", "from": {"kind": "DockerImage", "name": "quay.io/demo/ruby:3.3"}}]}},
                {"kind": "Deployment", "apiVersion": "apps/v1",
                 "metadata": {"name": "frontend", "annotations": {"image.openshift.io/triggers": annotation}},
                 "spec": {"template": {"spec": {"containers": [{"name": "web", "image": " "}]}}}}
            ]
        }}
    })
}

pub const FOLLOWS_RUBY_LATEST: &str = r#"[{"from":{"kind":"ImageStreamTag","name":"ruby:latest"},"fieldPath":"spec.template.spec.containers[?(@.name==\"web\")].image"}]"#;

#[tokio::test]
async fn a_deployment_with_an_image_trigger_is_kept_as_a_follower_of_its_tag() {
    let app = TestApp::start().await;
    app.create_project("demo").await;
    let (code, answer) = app
        .post(
            &template_instances("demo"),
            &instance_with_a_follower(FOLLOWS_RUBY_LATEST),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{answer}");
    let (_, stored) = app.get(&template_instance("demo", "shop")).await;
    assert_eq!(
        stored["status"]["followers"],
        json!([{"kind": "Deployment", "name": "frontend", "container": "web",
                "tag": "ruby:latest", "paused": false}])
    );

    // A malformed annotation is refused, naming the object and the annotation.
    let mut bad = instance_with_a_follower("{not json");
    bad["metadata"]["name"] = json!("broken");
    let (code, body) = app.post(&template_instances("demo"), &bad).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let status = assert_status(body, StatusCode::UNPROCESSABLE_ENTITY, "Invalid");
    let field = status.details.unwrap().causes[0].field.clone().unwrap();
    assert_eq!(
        field,
        "spec.template.objects[1].metadata.annotations[image.openshift.io/triggers]"
    );
    app.stop().await;
}
