//! The samples at start and across restarts, under each management state and the skipped lists,
//! and the samples config through the API.

#![expect(
    clippy::unwrap_used,
    reason = "a test failing to read its own data is a failure"
)]

use reqwest::StatusCode;
use serde_json::{Value, json};
use tagstream_backend::config::{Config, SamplesConfig};
use tagstream_shared::paths::{SAMPLES_CONFIG, imagestream, imagestreams, template, templates};

use crate::support::{TestApp, assert_status};

const STREAMS: [&str; 12] = [
    "golang",
    "httpd",
    "mariadb",
    "mysql",
    "nginx",
    "nodejs",
    "perl",
    "php",
    "postgresql",
    "python",
    "redis",
    "ruby",
];
const TEMPLATES: [&str; 4] = [
    "nodejs-example",
    "postgresql-ephemeral",
    "postgresql-persistent",
    "rails-postgresql-example",
];

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["metadata"]["name"].as_str().map(str::to_owned))
        .collect()
}

async fn set_config(app: &TestApp, spec: Value) -> Value {
    let (code, body) = app
        .put(
            SAMPLES_CONFIG,
            &json!({"metadata": {"name": "cluster"}, "spec": spec}),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn samples_are_present_at_start_and_labelled() {
    let app = TestApp::start_prepared(tempfile::tempdir().unwrap(), Config::default()).await;
    let (code, list) = app.get(&imagestreams("openshift")).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(names(&list), STREAMS);
    for item in list["items"].as_array().unwrap() {
        assert_eq!(
            item["metadata"]["labels"]["samples.operator.openshift.io/managed"],
            "true"
        );
    }
    let (_, list) = app.get(&templates("openshift")).await;
    assert_eq!(names(&list), TEMPLATES);
    let (code, config) = app.get(SAMPLES_CONFIG).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(config["kind"], "Config");
    assert_eq!(config["apiVersion"], "samples.operator.openshift.io/v1");
    assert_eq!(config["spec"]["managementState"], "Managed");
    assert_eq!(config["status"]["namespace"], "openshift");
    app.stop().await;
}

#[tokio::test]
async fn managed_recreates_deleted_and_restores_changed_samples_at_start_but_skips_skipped() {
    let app = TestApp::start_prepared(tempfile::tempdir().unwrap(), Config::default()).await;
    let (_, config) = app.get(SAMPLES_CONFIG).await;
    let mut spec = config["spec"].clone();
    spec["skippedImagestreams"] = json!(["perl", "golang"]);
    set_config(&app, spec).await;
    let (code, body) = app.delete(&imagestream("openshift", "ruby")).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let (code, body) = app.delete(&template("openshift", "nodejs-example")).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    // A merge patch, as `kubectl patch` sends it: the sample's import retries write the stream
    // in the background, so a read-then-replace here could meet a 409 (a user would re-read).
    let no_tags = json!({"spec": {"tags": []}}).to_string();
    let (code, _) = app
        .send_raw(
            reqwest::Method::PATCH,
            &imagestream("openshift", "python"),
            "application/merge-patch+json",
            &no_tags,
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    // perl is skipped: the user's edit to it stays.
    let (code, _) = app
        .send_raw(
            reqwest::Method::PATCH,
            &imagestream("openshift", "perl"),
            "application/merge-patch+json",
            &no_tags,
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    // Nothing changes until the next start.
    let (code, _) = app.get(&imagestream("openshift", "ruby")).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    let data = app.stop_keeping_data().await;
    app_after_restart(data).await;
}

async fn app_after_restart(data: tempfile::TempDir) {
    let app = TestApp::start_prepared(data, Config::default()).await;
    let (code, _) = app.get(&imagestream("openshift", "ruby")).await;
    assert_eq!(code, StatusCode::OK, "a deleted sample comes back");
    let (code, _) = app.get(&template("openshift", "nodejs-example")).await;
    assert_eq!(code, StatusCode::OK);
    let (_, python) = app.get(&imagestream("openshift", "python")).await;
    assert!(
        !python["spec"]["tags"].as_array().unwrap().is_empty(),
        "a changed sample is put back"
    );
    let (_, perl) = app.get(&imagestream("openshift", "perl")).await;
    assert_eq!(
        perl["spec"]["tags"].as_array().map_or(0, Vec::len),
        0,
        "a skipped sample keeps its edit: {perl}"
    );
    app.stop().await;
}

#[tokio::test]
async fn removed_deletes_the_samples_and_unmanaged_leaves_them() {
    let app = TestApp::start_prepared(tempfile::tempdir().unwrap(), Config::default()).await;
    // A stream of the user's own in the samples project is not a sample.
    app.create_stream(
        "openshift",
        &json!({"metadata": {"name": "mine"}, "spec": {}}),
    )
    .await;
    let applied = set_config(
        &app,
        json!({"managementState": "Removed", "skippedTemplates": ["postgresql-ephemeral"]}),
    )
    .await;
    assert_eq!(applied["status"]["managementState"], "Removed");
    let (_, list) = app.get(&imagestreams("openshift")).await;
    assert_eq!(names(&list), ["mine"]);
    let (_, list) = app.get(&templates("openshift")).await;
    assert_eq!(names(&list), ["postgresql-ephemeral"]);

    // Removed holds across a restart.
    let data = app.stop_keeping_data().await;
    let app = TestApp::start_prepared(data, Config::default()).await;
    let (_, list) = app.get(&imagestreams("openshift")).await;
    assert_eq!(names(&list), ["mine"]);

    // Unmanaged: nothing comes back, and what the user makes stays.
    set_config(&app, json!({"managementState": "Unmanaged"})).await;
    let data = app.stop_keeping_data().await;
    let app = TestApp::start_prepared(data, Config::default()).await;
    let (_, list) = app.get(&imagestreams("openshift")).await;
    assert_eq!(names(&list), ["mine"]);

    // Managed again: back they come.
    set_config(&app, json!({"managementState": "Managed"})).await;
    let (_, list) = app.get(&imagestreams("openshift")).await;
    assert_eq!(names(&list).len(), STREAMS.len() + 1);
    app.stop().await;
}

#[tokio::test]
async fn the_samples_namespace_and_registry_are_configurable() {
    let config = Config {
        samples: SamplesConfig {
            namespace: "samples".into(),
        },
        ..Config::default()
    };
    let app = TestApp::start_prepared(tempfile::tempdir().unwrap(), config).await;
    let (code, _) = app.get(&imagestream("samples", "ruby")).await;
    assert_eq!(code, StatusCode::OK);
    let (code, _) = app.get(&imagestreams("openshift")).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    // The import worker is recording the samples' failed imports meanwhile (nothing is
    // reachable here): applying the config must not lose to it. A 200 means applied.
    let applied = set_config(&app, json!({"samplesRegistry": "mirror.example.com:5000"})).await;
    assert_eq!(applied["status"]["managementState"], "Managed", "{applied}");
    let (_, ruby) = app.get(&imagestream("samples", "ruby")).await;
    let from = ruby["spec"]["tags"][0]["from"]["name"].as_str().unwrap();
    assert!(
        from.starts_with("mirror.example.com:5000/library/ruby:"),
        "{from}"
    );
    app.stop().await;
}

#[tokio::test]
async fn bad_samples_configs_are_refused() {
    let app = TestApp::start_prepared(tempfile::tempdir().unwrap(), Config::default()).await;
    let (code, body) = app
        .put(
            SAMPLES_CONFIG,
            &json!({"spec": {"samplesRegistry": "not a host", "skippedImagestreams": ["Ruby"]}}),
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    let status = assert_status(body, StatusCode::UNPROCESSABLE_ENTITY, "Invalid");
    let fields: Vec<String> = status
        .details
        .unwrap()
        .causes
        .into_iter()
        .filter_map(|c| c.field)
        .collect();
    assert_eq!(
        fields,
        ["spec.samplesRegistry", "spec.skippedImagestreams[0]"]
    );
    let (code, body) = app
        .put(
            SAMPLES_CONFIG,
            &json!({"spec": {"managementState": "Sometimes"}}),
        )
        .await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{body}");
    let (_, config) = app.get(SAMPLES_CONFIG).await;
    assert_eq!(config["spec"]["managementState"], "Managed");
    app.stop().await;
}
