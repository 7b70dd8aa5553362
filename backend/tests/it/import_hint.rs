//! A failed import's condition says what failed, and for a registry that cannot be reached,
//! where mirrors are configured (issue 17: offline, every sample tag said only
//! `ImportSuccess: False (ServiceUnavailable)`); the tag's answer says when the next try is.
//! Another try of the same failure leaves the stream as it is (issue 18: every retry used to
//! rewrite it, so whoever edited the stream met a 409).

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tagstream_shared::paths;

use crate::support::{TestApp, config_allowing};

/// A loopback address that refuses connections: a socket bound (so nobody else gets the port)
/// but not listening.
pub fn refusing_address() -> (tokio::net::TcpSocket, String) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = socket.local_addr().unwrap().to_string();
    (socket, addr)
}

/// A failed tag's answer: when the next try is (its annotation) and its condition's message.
struct NextTry {
    at: String,
    message: String,
}

/// The failed tag's answer once its next try is recorded and differs from `not`.
async fn next_try_of(
    app: &TestApp,
    ns: &str,
    stream: &str,
    tag: &str,
    not: Option<&str>,
) -> NextTry {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (code, ist) = app.get(&paths::imagestreamtag(ns, stream, tag)).await;
        assert_eq!(code, StatusCode::OK, "{ist}");
        let at = ist["metadata"]["annotations"]["tagstream.io/next-try"].as_str();
        let message = ist["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["type"] == "ImportSuccess" && c["status"] == "False")
            .and_then(|c| c["message"].as_str());
        if let (Some(at), Some(message)) = (at, message)
            && Some(at) != not
        {
            return NextTry {
                at: at.to_owned(),
                message: message.to_owned(),
            };
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no next try other than {not:?} on {ns}/{stream}:{tag}: {ist:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The first failed-import message on stream `name` in `ns`, once there is one.
async fn failure_message(app: &TestApp, ns: &str, name: &str, containing: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (code, stream) = app.get(&paths::imagestream(ns, name)).await;
        assert_eq!(code, StatusCode::OK, "{stream}");
        let found = stream["status"]["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|t| t["conditions"].as_array().into_iter().flatten())
            .filter(|c| c["type"] == "ImportSuccess" && c["status"] == "False")
            .filter_map(|c| c["message"].as_str())
            .find(|m| m.contains(containing))
            .map(str::to_owned);
        if let Some(m) = found {
            return m;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no failed import saying {containing:?}: {:#}",
            stream["status"]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_unreachable_samples_registry_says_when_the_next_try_is_and_how_to_mirror() {
    let (_held, addr) = refusing_address();
    let app =
        TestApp::start_prepared(tempfile::tempdir().unwrap(), config_allowing(&addr, 900)).await;
    let (code, body) = app
        .put(
            paths::SAMPLES_CONFIG,
            &json!({"metadata": {"name": "cluster"}, "spec": {"samplesRegistry": addr}}),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let summary = format!("cannot reach {addr}. ");
    let message = failure_message(&app, "openshift", "ruby", &summary).await;
    assert!(message.starts_with(&summary), "{message}");
    assert!(
        !message.contains("next try"),
        "the stored message must not change from one try to the next: {message}"
    );
    assert!(
        message.contains("[[registries]]") && message.contains("samplesRegistry"),
        "{message}"
    );
    // The tag's answer says when the next try is.
    let (code, stream) = app.get(&paths::imagestream("openshift", "ruby")).await;
    assert_eq!(code, StatusCode::OK);
    let failing = stream["status"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| {
            t["conditions"].as_array().into_iter().flatten().any(|c| {
                c["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with(&summary))
            })
        })
        .unwrap()["tag"]
        .as_str()
        .unwrap()
        .to_owned();
    let tag = next_try_of(&app, "openshift", "ruby", &failing, None).await;
    assert!(tag.message.starts_with(&summary), "{}", tag.message);
    assert!(
        tag.message.contains("; next try ") && tag.message.ends_with(" UTC)"),
        "{}",
        tag.message
    );
    // The reason stays what OpenShift says for it.
    let (_, tag) = app.get(&paths::imagestreams("openshift")).await;
    let conditions: Vec<&Value> = tag["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["status"]["tags"].as_array().into_iter().flatten())
        .flat_map(|t| t["conditions"].as_array().into_iter().flatten())
        .filter(|c| {
            c["message"]
                .as_str()
                .is_some_and(|m| m.starts_with(&summary))
        })
        .collect();
    assert!(!conditions.is_empty());
    assert!(
        conditions
            .iter()
            .all(|c| c["reason"] == "ServiceUnavailable"),
        "{conditions:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn another_try_of_the_same_failure_leaves_the_stream_unwritten() {
    let (_held, addr) = refusing_address();
    // A 1 s interval: retries after 1, 2, 4 s.
    let app = TestApp::start_with_config(config_allowing(&addr, 1)).await;
    app.create_project("demo").await;
    let from = format!("{addr}/team/app:1.0");
    app.create_stream("demo", &crate::support::stream_json("app", "1.0", &from))
        .await;
    let summary = format!("cannot reach {addr}. ");
    failure_message(&app, "demo", "app", &summary).await;
    let first = next_try_of(&app, "demo", "app", "1.0", None).await;
    let (_, stream) = app.get(&paths::imagestream("demo", "app")).await;
    let version = stream["metadata"]["resourceVersion"].clone();
    // Two more tries, each of which fails the same way and moves the next try on.
    let second = next_try_of(&app, "demo", "app", "1.0", Some(&first.at)).await;
    let third = next_try_of(&app, "demo", "app", "1.0", Some(&second.at)).await;
    assert!(third.message.starts_with(&summary), "{}", third.message);
    let (_, stream) = app.get(&paths::imagestream("demo", "app")).await;
    assert_eq!(
        stream["metadata"]["resourceVersion"], version,
        "a retry of the same failure rewrote the stream"
    );
    // So an edit made from a read before those tries is not refused as stale.
    let mut edited = stream.clone();
    edited["metadata"]["resourceVersion"] = version;
    edited["metadata"]["labels"] = json!({"team": "web"});
    let (code, body) = app.put(&paths::imagestream("demo", "app"), &edited).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    app.stop().await;
}
