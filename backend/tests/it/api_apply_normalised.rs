//! Server-side apply compares what a manager applies as the server keeps it: an image stream
//! tag's `importPolicy: {scheduled: false, insecure: false}` is stored as `{}`, so a second
//! manager applying the very same body holds the same values (no conflict), and the first
//! manager applying it again changes nothing (no write); through the API and with kubectl.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tagstream_shared::paths;

use crate::kubectl_support::{Kube, VERSIONS};
use crate::support::TestApp;

const APPLY: &str = "application/apply-patch+yaml";

/// A body with fields the server writes another way (false flags are left out, as
/// OpenShift's `omitempty` does).
fn body() -> Value {
    json!({"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
           "metadata": {"name": "ruby"},
           "spec": {"lookupPolicy": {"local": false},
                    "tags": [{"name": "3.3", "reference": false,
                              "from": {"kind": "DockerImage", "name": "quay.io/x/ruby:3.3"},
                              "importPolicy": {"scheduled": false, "insecure": false}}]}})
}

async fn apply(app: &TestApp, manager: &str) -> (StatusCode, Value) {
    let path = format!(
        "{}?fieldManager={manager}&fieldValidation=Strict",
        paths::imagestream("demo", "ruby")
    );
    app.send_raw(Method::PATCH, &path, APPLY, &body().to_string())
        .await
}

pub(crate) fn managers(stream: &Value) -> Vec<&str> {
    stream["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["manager"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_second_manager_applying_the_same_body_shares_it_and_a_repeat_writes_nothing() {
    let app = TestApp::start().await;
    app.create_project("demo").await;
    let (code, created) = apply(&app, "one").await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    assert_eq!(
        created["spec"]["tags"][0]["importPolicy"],
        json!({}),
        "the server keeps false flags as absent"
    );
    let version = created["metadata"]["resourceVersion"].clone();

    // The first manager again: nothing changes, nothing is written.
    let (code, again) = apply(&app, "one").await;
    assert_eq!(code, StatusCode::OK, "{again}");
    assert_eq!(again["metadata"]["resourceVersion"], version, "{again}");

    // Another manager with the identical body: the same values, so no conflict; both hold them.
    let (code, shared) = apply(&app, "two").await;
    assert_eq!(code, StatusCode::OK, "{shared}");
    assert_eq!(managers(&shared), ["one", "two"]);

    // And that one again writes nothing either.
    let version = shared["metadata"]["resourceVersion"].clone();
    let (code, again) = apply(&app, "two").await;
    assert_eq!(code, StatusCode::OK, "{again}");
    assert_eq!(again["metadata"]["resourceVersion"], version, "{again}");
    let (_, stored) = app.get(&paths::imagestream("demo", "ruby")).await;
    assert_eq!(stored["metadata"]["resourceVersion"], version);
    assert_eq!(managers(&stored), ["one", "two"]);
    app.stop().await;
}

/// The same with kubectl 1.27 and 1.33: `kubectl apply --server-side` of one file by two field
/// managers, each twice. (Whether a repeat writes is checked above: here the importer writes the
/// stream's status on its own, so its resourceVersion is no witness.)
#[tokio::test(flavor = "multi_thread")]
async fn kubectl_applies_of_one_file_by_two_managers_do_not_conflict() {
    let kube = Kube::start().await;
    kube.create_project("demo").await;
    for v in VERSIONS {
        let name = format!("ruby-{}", v.replace('.', "-"));
        let mut stream = body();
        stream["metadata"]["name"] = json!(name);
        let file = kube.dir().join(format!("{name}.yaml"));
        std::fs::write(&file, serde_yaml::to_string(&stream).unwrap()).unwrap();
        let file = file.to_str().unwrap();
        for manager in ["one", "one", "two", "two", "one"] {
            let manager = format!("--field-manager={manager}");
            let args = ["apply", "--server-side", &manager, "-n", "demo", "-f", file];
            let out = kube.run(v, &args);
            assert!(out.status.success(), "kubectl {v} {manager}: {out:?}");
            let said = String::from_utf8_lossy(&out.stdout);
            assert!(said.contains("serverside-applied"), "{v}: {said}");
        }
        let args = [
            "get",
            "is",
            &name,
            "-n",
            "demo",
            "-o",
            "json",
            "--show-managed-fields",
        ];
        let stored: Value = serde_json::from_str(&kube.ok(v, &args)).unwrap();
        assert_eq!(managers(&stored), ["one", "two"], "{v}");
    }
}
