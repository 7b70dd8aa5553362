//! `fieldValidation` and keys a JSON body repeats: Strict refuses the write with
//! `json: duplicate field "..."` naming the path and stores nothing, Warn stores it with a
//! `Warning` header, Ignore (no parameter) stores it; for a merge patch, the patch's own keys.
//! Sent directly: kubectl decodes a file before sending it, so its repeated keys never reach a
//! server, and `kubectl create --raw` (which would send them) sends no `Content-Type`, which
//! tagstream refuses (415).

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::Method;
use serde_json::Value;
use tagstream_shared::paths;

use crate::kubectl_support::Kube;
use crate::support::{ADMIN_TOKEN, client_with_token};

/// An image stream whose body names `spec.tags[0].name` twice (the last one, `b`, is what a
/// lenient parse keeps).
fn duplicated(name: &str) -> String {
    format!(
        r#"{{"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
            "metadata": {{"name": "{name}"}},
            "spec": {{"tags": [{{"name": "a", "from": {{"kind": "DockerImage", "name": "quay.io/x/y:1"}}, "name": "b"}}]}}}}"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn duplicated_keys_are_refused_in_strict_warned_in_warn_and_checked_in_patches() {
    let kube = Kube::start().await;
    kube.create_project("dupd").await;
    let base = kube.server.as_ref().unwrap().base.clone();
    let client = client_with_token(ADMIN_TOKEN);
    let post = |mode: &str, name: &str| {
        client
            .post(format!(
                "{base}{}?fieldValidation={mode}",
                paths::imagestreams("dupd")
            ))
            .header("Content-Type", "application/json")
            .body(duplicated(name))
            .send()
    };
    let resp = post("Strict", "strict").await.unwrap();
    assert_eq!(resp.status(), 400);
    let status: Value = resp.json().await.unwrap();
    assert_eq!(status["reason"], "BadRequest");
    assert_eq!(status["details"]["causes"][0]["field"], "spec.tags[0].name");
    assert_eq!(
        status["details"]["causes"][0]["reason"],
        "FieldValueDuplicate"
    );

    let resp = post("Warn", "warned").await.unwrap();
    assert_eq!(resp.status(), 201);
    let warnings: Vec<_> = resp
        .headers()
        .get_all("warning")
        .iter()
        .map(|w| w.to_str().unwrap().to_owned())
        .collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains(r#"duplicate field \"spec.tags[0].name\""#)),
        "{warnings:?}"
    );

    // Ignore: stored as before, the last value kept.
    let resp = post("Ignore", "ignored").await.unwrap();
    assert_eq!(resp.status(), 201);
    let created: Value = resp.json().await.unwrap();
    assert_eq!(created["spec"]["tags"][0]["name"], "b");

    // A merge patch repeating a key: refused in Strict, the stream unchanged.
    let item = paths::imagestream("dupd", "warned");
    let resp = client
        .patch(format!("{base}{item}?fieldValidation=Strict"))
        .header("Content-Type", "application/merge-patch+json")
        .body(r#"{"metadata": {"labels": {"team": "a", "team": "b"}}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let status: Value = resp.json().await.unwrap();
    assert_eq!(
        status["details"]["causes"][0]["field"],
        "metadata.labels.team"
    );
    let stream = kube.api(Method::GET, &item, None).await;
    assert!(stream["metadata"]["labels"].is_null(), "{stream}");
}
