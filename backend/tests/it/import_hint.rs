//! A failed import's condition says what failed, when the next try is, and for a registry that
//! cannot be reached, where mirrors are configured (issue 17: offline, every sample tag said
//! only `ImportSuccess: False (ServiceUnavailable)`).

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
    let summary = format!("cannot reach {addr}; next try in ");
    let message = failure_message(&app, "openshift", "ruby", &summary).await;
    assert!(message.starts_with(&summary), "{message}");
    assert!(
        message.contains("(at ") && message.contains(" UTC)."),
        "{message}"
    );
    assert!(
        message.contains("[[registries]]") && message.contains("samplesRegistry"),
        "{message}"
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
