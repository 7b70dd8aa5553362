//! A Bearer token server for the registry's `auth.token` mode: it answers
//! `GET /token?service=..&scope=..` with an RS256 JWT whose `x5c` header carries a self-signed
//! certificate that the registry trusts (its `rootcertbundle`), granting anonymous pull. Signing
//! is done by the `openssl` command, so the harness needs no crypto crate.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::{Query, State};
use axum::routing::get;
use serde_json::json;

pub struct TokenServer {
    /// `http://127.0.0.1:PORT/token`.
    pub realm: String,
    pub addr: String,
    pub service: String,
    pub issuer: String,
    /// The certificate the registry must trust.
    pub cert: PathBuf,
    pub requests: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

fn b64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

fn b64std(bytes: &[u8]) -> String {
    let s = b64url(bytes).replace('-', "+").replace('_', "/");
    let pad = (4 - s.len() % 4) % 4;
    s + &"=".repeat(pad)
}

#[derive(Clone)]
struct Signer {
    dir: PathBuf,
    cert_der: Vec<u8>,
    service: String,
    issuer: String,
    requests: Arc<AtomicUsize>,
}

impl Signer {
    fn token(&self, scope: &str) -> String {
        let (kind, name, actions) = {
            let mut parts = scope.splitn(3, ':');
            (
                parts.next().unwrap_or_default().to_owned(),
                parts.next().unwrap_or_default().to_owned(),
                parts.next().unwrap_or_default().to_owned(),
            )
        };
        // Anonymous callers get pull, nothing else.
        let granted: Vec<&str> = actions.split(',').filter(|a| *a == "pull").collect();
        let now = chrono::Utc::now().timestamp();
        let header = json!({"typ": "JWT", "alg": "RS256", "x5c": [b64std(&self.cert_der)]});
        let claims = json!({
            "iss": self.issuer, "sub": "", "aud": self.service,
            "exp": now + 300, "nbf": now - 10, "iat": now,
            "jti": format!("t{}", self.requests.load(Ordering::SeqCst)),
            "access": [{"type": kind, "name": name, "actions": granted}],
        });
        let input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims.to_string().as_bytes())
        );
        let file = self
            .dir
            .join(format!("input-{}", self.requests.load(Ordering::SeqCst)));
        std::fs::write(&file, &input).unwrap();
        let out = Command::new("openssl")
            .args(["dgst", "-sha256", "-binary", "-sign"])
            .arg(self.dir.join("token.key"))
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        format!("{input}.{}", b64url(&out.stdout))
    }
}

async fn issue(
    State(signer): State<Signer>,
    Query(q): Query<HashMap<String, String>>,
) -> axum::Json<serde_json::Value> {
    signer.requests.fetch_add(1, Ordering::SeqCst);
    let token = signer.token(q.get("scope").map_or("", String::as_str));
    axum::Json(json!({"token": token, "access_token": token, "expires_in": 300}))
}

impl TokenServer {
    pub async fn start(dir: &Path) -> Self {
        let run = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(dir)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        run(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-sha256",
            "-days",
            "30",
            "-keyout",
            "token.key",
            "-out",
            "token.crt",
            "-subj",
            "/CN=tagstream test token signer",
        ]);
        run(&[
            "x509",
            "-in",
            "token.crt",
            "-outform",
            "DER",
            "-out",
            "token.der",
        ]);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let requests = Arc::new(AtomicUsize::new(0));
        let signer = Signer {
            dir: dir.to_owned(),
            cert_der: std::fs::read(dir.join("token.der")).unwrap(),
            service: "test-registry".into(),
            issuer: "test-issuer".into(),
            requests: requests.clone(),
        };
        let app = axum::Router::new()
            .route("/token", get(issue))
            .with_state(signer);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            realm: format!("http://{addr}/token"),
            addr,
            service: "test-registry".into(),
            issuer: "test-issuer".into(),
            cert: dir.join("token.crt"),
            requests,
            task,
        }
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
