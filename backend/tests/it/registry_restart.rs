//! The test registry harness itself: a restart with token auth survives its old port being
//! taken in the meantime (issue 18: ports picked, released, then used later).

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use std::time::Duration;

use crate::registry::Registry;
use crate::token::TokenServer;

#[tokio::test]
async fn a_restart_with_token_auth_moves_to_another_port_when_its_old_one_was_taken() {
    let mut registry = Registry::start().await;
    let old = registry.addr.clone();
    registry.stop();
    // Someone else binds the port the stopped registry released.
    let _squatter = std::net::TcpListener::bind(&old).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let token = TokenServer::start(dir.path()).await;
    tokio::time::timeout(
        Duration::from_secs(60),
        registry.restart_with_token(&token.realm, &token.service, &token.issuer, &token.cert),
    )
    .await
    .expect("the restart never came back with its port taken");
    assert_ne!(
        registry.addr, old,
        "it cannot listen where the squatter does"
    );
    // The registry answers there, with token auth.
    let resp = crate::support::http_client()
        .get(registry.url("/v2/"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::UNAUTHORIZED);
    let challenge = resp.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
}
