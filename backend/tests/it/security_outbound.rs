//! Issue 11, what the server sends out: a token server answering `expires_in: u64::MAX` does not
//! break token auth for every registry; a registry's stored password goes to no plain-http token
//! realm on another host; webhook URLs that two parsers read differently are refused.
//!
//! The registry is the real docker-registry with token auth from the real token server
//! (`token.rs`); the realm the registry names is a small loopback relay in front of that token
//! server, which records what it is sent and can rewrite `expires_in`.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::routing::get;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tagstream_backend::config::{Config, RegistryConfig};
use tagstream_shared::paths;

use crate::registry::{ImageSpec, Registry};
use crate::support::{TestApp, assert_status};
use crate::token::TokenServer;

/// A token realm relaying to the real token server.
struct Relay {
    addr: String,
    /// The `Authorization` header of each token request (`None`: sent anonymously).
    seen: Arc<Mutex<Vec<Option<String>>>>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct RelayState {
    upstream: String,
    expires_in: Option<u64>,
    seen: Arc<Mutex<Vec<Option<String>>>>,
}

async fn relay_token(
    State(s): State<RelayState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> axum::Json<Value> {
    let auth = headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_owned());
    s.seen.lock().unwrap().push(auth);
    let mut answer: Value = crate::support::http_client()
        .get(&s.upstream)
        .query(&q)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    if let Some(e) = s.expires_in {
        answer["expires_in"] = json!(e);
    }
    axum::Json(answer)
}

impl Relay {
    async fn start(ip: &str, upstream: &str, expires_in: Option<u64>) -> Self {
        let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let app = axum::Router::new()
            .route("/token", get(relay_token))
            .with_state(RelayState {
                upstream: upstream.to_owned(),
                expires_in,
                seen: seen.clone(),
            });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, seen, task }
    }

    fn realm(&self) -> String {
        format!("http://{}/token", self.addr)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn entry(addr: &str) -> RegistryConfig {
    RegistryConfig {
        domain: addr.to_owned(),
        insecure: true,
        username: None,
        password_file: None,
        ca_file: None,
    }
}

/// Imports `from` as `demo/app:tag`; the import's status for that image (or the transport
/// failure, as text, when the server dropped the request).
async fn import(app: &TestApp, from: &str, tag: &str) -> Result<Value, String> {
    let body = json!({
        "kind": "ImageStreamImport", "apiVersion": "image.openshift.io/v1",
        "metadata": {"name": "app"},
        "spec": {"import": false, "images": [
            {"from": {"kind": "DockerImage", "name": from}, "to": {"name": tag}}
        ]}
    });
    let resp = app
        .client
        .post(app.url(&paths::imagestreamimports("demo")))
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| format!("the import request failed: {e}"))?;
    let code = resp.status();
    let value: Value = resp.json().await.map_err(|e| e.to_string())?;
    if code != StatusCode::CREATED {
        return Err(format!("{code}: {value}"));
    }
    Ok(value["status"]["images"][0].clone())
}

#[tokio::test]
async fn a_token_lifetime_of_u64_max_does_not_break_token_auth() {
    let mut registry = Registry::start().await;
    let (a, _) = registry
        .push_image("demo/a", "v1", &ImageSpec::new("a"))
        .await;
    let (b, _) = registry
        .push_image("demo/b", "v1", &ImageSpec::new("b"))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let token = TokenServer::start(dir.path()).await;
    let relay = Relay::start("127.0.0.1", &token.realm, Some(u64::MAX)).await;
    registry
        .restart_with_token(&relay.realm(), &token.service, &token.issuer, &token.cert)
        .await;
    let app = TestApp::start_with_config(Config {
        registries: vec![entry(&registry.addr), entry(&relay.addr)],
        ..Config::default()
    })
    .await;
    app.create_project("demo").await;
    // The first import meets the endless lifetime; the second (another repository, another
    // token) and a third (the first's token, cached) must work as well.
    for (repo, digest) in [("demo/a", &a), ("demo/b", &b), ("demo/a", &a)] {
        let result = import(&app, &format!("{}/{repo}:v1", registry.addr), "v1").await;
        let result = result.unwrap_or_else(|e| panic!("{repo}: {e}"));
        assert_eq!(result["status"]["status"], "Success", "{repo}: {result:#}");
        assert_eq!(result["image"]["metadata"]["name"], digest.as_str());
    }
    assert_eq!(
        relay.seen.lock().unwrap().len(),
        2,
        "one token per repository, the first one reused"
    );
    app.stop().await;
}

#[tokio::test]
async fn registry_credentials_go_to_no_plain_http_realm_on_another_host() {
    let mut registry = Registry::start().await;
    let (digest, _) = registry
        .push_image("demo/app", "v1", &ImageSpec::new("one"))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let token = TokenServer::start(dir.path()).await;
    // The realm the registry names is on another loopback host (127.0.0.2), over plain http.
    let relay = Relay::start("127.0.0.2", &token.realm, None).await;
    registry
        .restart_with_token(&relay.realm(), &token.service, &token.issuer, &token.cert)
        .await;
    let password = "s3cret-registry-password";
    let password_file = dir.path().join("password");
    std::fs::write(&password_file, password).unwrap();
    let mut with_credentials = entry(&registry.addr);
    with_credentials.username = Some("robot".into());
    with_credentials.password_file = Some(password_file);
    let app = TestApp::start_with_config(Config {
        registries: vec![with_credentials, entry(&relay.addr)],
        ..Config::default()
    })
    .await;
    app.create_project("demo").await;
    let result = import(&app, &format!("{}/demo/app:v1", registry.addr), "v1")
        .await
        .unwrap();
    // The token server grants anonymous pull, so the import works without the password.
    assert_eq!(result["status"]["status"], "Success", "{result:#}");
    assert_eq!(result["image"]["metadata"]["name"], digest.as_str());
    let seen = relay.seen.lock().unwrap().clone();
    assert!(!seen.is_empty(), "the realm was asked for a token");
    assert!(
        seen.iter().all(Option::is_none),
        "the registry's credentials reached a plain-http realm on another host: {seen:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn webhook_urls_that_parsers_read_differently_are_refused() {
    let app = TestApp::start().await;
    app.create_project("demo").await;
    let port = 9000;
    for (url, says) in [
        // The URL parser reads host 127.0.0.1 (a `\` is a `/`); a hand parser read a name.
        ("http://127.0.0.1\\x.attacker.tld/".to_owned(), "backslash"),
        (
            format!("http://127.0.0.1:{port}\\@hooks.example/"),
            "backslash",
        ),
        // 0x7f.1 is 127.0.0.1 to a URL parser, a name to `IpAddr`.
        (format!("http://0x7f.1:{port}/hook"), "refused"),
    ] {
        let (code, body) = app
            .post(
                &paths::triggers("demo"),
                &json!({
                    "kind": "Trigger", "apiVersion": "tagstream.io/v1",
                    "metadata": {"name": "hook"},
                    "spec": {"from": {"kind": "ImageStream", "name": "ruby"},
                             "webhook": {"url": url, "secret": "webhook-secret-for-tests"}}
                }),
            )
            .await;
        let status = assert_status(body, StatusCode::UNPROCESSABLE_ENTITY, "Invalid");
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        let causes = status.details.unwrap().causes;
        assert_eq!(
            causes[0].field.as_deref(),
            Some("spec.webhook.url"),
            "{url}"
        );
        assert!(
            causes[0].message.contains(says),
            "{url}: {}",
            causes[0].message
        );
    }
    app.stop().await;
}
