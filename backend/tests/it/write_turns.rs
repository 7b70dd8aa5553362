//! Parallel writes of one large object that pin no resourceVersion (`kubectl label`'s merge
//! patches, tag PUTs) take turns on it (review J2): every one goes in (200/201, nothing to send
//! again), each reads and commits the object once, and none loses a race to another. Before,
//! all but one lost each race and read and encoded the object again, slowing the winner, and on
//! a 4.8 MB stream 7 of 16 labels were answered 429 after up to 93 s.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use std::path::Path;

use reqwest::StatusCode;
use serde_json::{Map, Value, json};
use tagstream_shared::paths::{PROJECTS, imagestream, imagestreams, imagestreamtag};

use crate::server::{DATABASE_MARKER, Server};
use crate::support::{ADMIN_TOKEN, client_with_token};

/// What the server logs for each race a write lost (`api::retry`).
const LOST_RACE: &str = "a write lost a race";

/// How many writes are sent at once: labels, and as many tag PUTs.
const WRITERS: usize = 8;

/// Stream `app` with 240 KiB of annotations (under the 256 KiB bound), so that each write
/// reads, checks and encodes a large object.
fn large_stream() -> Value {
    let annotations: Map<String, Value> = (0..240)
        .map(|i| (format!("example.com/note-{i:03}"), json!("x".repeat(1000))))
        .collect();
    json!({"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
        "metadata": {"name": "app", "annotations": annotations}, "spec": {}})
}

/// Tag `app:{tag}` following `base:latest` (no registry import, so only these writes write).
fn tag(tag: &str) -> Value {
    json!({"kind": "ImageStreamTag", "apiVersion": "image.openshift.io/v1",
        "metadata": {"name": format!("app:{tag}")},
        "tag": {"name": tag, "from": {"kind": "ImageStreamTag", "name": "base:latest"}}})
}

#[tokio::test(flavor = "multi_thread")]
async fn parallel_labels_and_tag_puts_of_a_large_stream_all_go_in_without_a_lost_race() {
    let data = tempfile::tempdir().unwrap();
    if crate::pg_support::on_postgres() {
        let url = crate::pg_support::fresh_database().await;
        std::fs::write(data.path().join(DATABASE_MARKER), url).unwrap();
    }
    let server = Server::start(data.path(), Path::new("/nonexistent"));
    let client = client_with_token(ADMIN_TOKEN);
    let url = |path: &str| format!("{}{path}", server.base);
    let made = client
        .post(url(PROJECTS))
        .json(&json!({"metadata": {"name": "big"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), StatusCode::CREATED);
    let made = client
        .post(url(&imagestreams("big")))
        .json(&large_stream())
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), StatusCode::CREATED);

    // `kubectl label is app lN=v` and `PUT .../imagestreamtags/app:tN`, all at once.
    let app = url(&imagestream("big", "app"));
    let labels = (0..WRITERS).map(|i| {
        let patch = json!({"metadata": {"labels": {format!("l{i}"): "v"}}});
        client
            .patch(&app)
            .header("Content-Type", "application/merge-patch+json")
            .body(patch.to_string())
            .send()
    });
    let tags = (0..WRITERS).map(|i| {
        let name = format!("t{i}");
        client
            .put(url(&imagestreamtag("big", "app", &name)))
            .json(&tag(&name))
            .send()
    });
    let (labels, tags) = futures::future::join(
        futures::future::join_all(labels),
        futures::future::join_all(tags),
    )
    .await;
    let codes = |answers: Vec<reqwest::Result<reqwest::Response>>| -> Vec<StatusCode> {
        answers.into_iter().map(|a| a.unwrap().status()).collect()
    };
    assert_eq!(codes(labels), vec![StatusCode::OK; WRITERS]);
    assert_eq!(codes(tags), vec![StatusCode::CREATED; WRITERS]);

    let stream: Value = client.get(&app).send().await.unwrap().json().await.unwrap();
    for i in 0..WRITERS {
        assert_eq!(
            stream["metadata"]["labels"][format!("l{i}")],
            "v",
            "label l{i}"
        );
        let tags = stream["spec"]["tags"].as_array().unwrap();
        assert!(
            tags.iter().any(|t| t["name"] == format!("t{i}")),
            "tag t{i}"
        );
    }
    // Each write read and committed the stream once: none lost a race to another.
    let log = std::fs::read_to_string(&server.stderr).unwrap_or_default();
    assert_eq!(log.matches(LOST_RACE).count(), 0, "{log}");
    assert!(server.terminate());
}
