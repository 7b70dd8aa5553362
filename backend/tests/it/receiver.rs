//! A webhook receiver on loopback: records every request it gets and answers a status the test
//! sets (or nothing at all, to be caught mid-delivery).

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::mpsc;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    /// Whether `X-Tagstream-Signature` is the HMAC-SHA256 of the exact body with `secret`.
    pub fn signed_with(&self, secret: &str) -> bool {
        let Some(header) = self
            .headers
            .get("x-tagstream-signature")
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        let Some(hex) = header.strip_prefix("sha256=") else {
            return false;
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(&self.body);
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        expected == hex
    }
}

/// What to answer: a status code, or 0 to hold the request open without answering.
#[derive(Clone)]
struct Shared {
    answer: Arc<AtomicU16>,
    got: mpsc::UnboundedSender<Received>,
}

pub struct Receiver {
    pub addr: SocketAddr,
    answer: Arc<AtomicU16>,
    got: mpsc::UnboundedReceiver<Received>,
    task: tokio::task::JoinHandle<()>,
}

async fn hook(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let _ = s.got.send(Received { headers, body });
    match s.answer.load(Ordering::SeqCst) {
        0 => std::future::pending().await,
        code => StatusCode::from_u16(code).unwrap(),
    }
}

impl Receiver {
    /// A receiver on a free loopback port, answering 200.
    pub async fn start() -> Self {
        Self::start_on(closed_port()).await
    }

    /// A receiver on `port`, kept closed until now, answering 200.
    pub async fn start_on(port: ClosedPort) -> Self {
        let listener = port.0.listen(1024).unwrap();
        let addr = listener.local_addr().unwrap();
        let answer = Arc::new(AtomicU16::new(200));
        let (tx, got) = mpsc::unbounded_channel();
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(hook))
            .with_state(Shared {
                answer: answer.clone(),
                got: tx,
            });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            addr,
            answer,
            got,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// Answers `code` from now on; 0: never answers.
    pub fn answer(&self, code: u16) {
        self.answer.store(code, Ordering::SeqCst);
    }

    /// The next request, waiting up to `within`.
    pub async fn next(&mut self, within: Duration) -> Received {
        tokio::time::timeout(within, self.got.recv())
            .await
            .unwrap_or_else(|_| panic!("no webhook request within {within:?}"))
            .unwrap()
    }

    /// Whether a request arrives within `within`.
    pub async fn nothing_within(&mut self, within: Duration) -> bool {
        tokio::time::timeout(within, self.got.recv()).await.is_err()
    }

    pub fn stop(self) {
        self.task.abort();
    }
}

/// A loopback port that refuses connections, held for a receiver to come up on later: bound but
/// not listening, so nothing else can take it meanwhile (a port released and picked again later
/// could be anyone's by then).
pub struct ClosedPort(tokio::net::TcpSocket);

impl ClosedPort {
    pub fn port(&self) -> u16 {
        self.0.local_addr().unwrap().port()
    }
}

pub fn closed_port() -> ClosedPort {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(([127, 0, 0, 1], 0).into()).unwrap();
    ClosedPort(socket)
}
