//! A recording HTTP proxy in front of the real registry: it forwards each request (one per
//! connection) and records when it arrived and its request line, so that tests can count
//! requests and measure the time between them (the registry's own access log has one-second
//! timestamps). Requests matching a hold are kept waiting until released, to catch a server
//! with a request in flight.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// One request as it reached the proxy.
#[derive(Debug, Clone)]
pub struct Seen {
    pub at: Instant,
    /// `HEAD /v2/demo/app/manifests/latest HTTP/1.1`.
    pub line: String,
}

#[derive(Debug, Default)]
struct Shared {
    seen: Vec<Seen>,
    /// Requests whose line starts with `.0` and contains `.1` wait while this is set.
    hold: Option<(String, String)>,
}

pub struct Recorder {
    pub addr: String,
    shared: Arc<Mutex<Shared>>,
    released: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Recorder {
    pub async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let (released, _) = watch::channel(false);
        let upstream = upstream.to_owned();
        let (s, r) = (shared.clone(), released.clone());
        let task = tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                let (s, upstream, gate) = (s.clone(), upstream.clone(), r.subscribe());
                tokio::spawn(async move {
                    let _ = serve(conn, &upstream, &s, gate).await;
                });
            }
        });
        Self {
            addr,
            shared,
            released,
            task,
        }
    }

    /// Every request whose line starts with `method` and contains `needle`, in arrival order.
    pub fn seen(&self, method: &str, needle: &str) -> Vec<Seen> {
        self.shared
            .lock()
            .unwrap()
            .seen
            .iter()
            .filter(|s| s.line.starts_with(method) && s.line.contains(needle))
            .cloned()
            .collect()
    }

    /// Keeps matching requests waiting (after recording them) until `release`.
    pub fn hold(&self, method: &str, needle: &str) {
        self.shared.lock().unwrap().hold = Some((method.to_owned(), needle.to_owned()));
    }

    /// Lets every held request (and later ones) through.
    pub fn release(&self) {
        self.shared.lock().unwrap().hold = None;
        self.released.send_replace(true);
    }

    /// Waits (up to `within`) until `n` requests match, and answers them.
    pub async fn wait_for(
        &self,
        method: &str,
        needle: &str,
        n: usize,
        within: Duration,
    ) -> Vec<Seen> {
        let deadline = Instant::now() + within;
        loop {
            let seen = self.seen(method, needle);
            if seen.len() >= n {
                return seen;
            }
            assert!(
                Instant::now() < deadline,
                "{n} requests {method} …{needle}… never came within {within:?}; saw {seen:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn read_head(conn: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if conn.read(&mut byte).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.push(byte[0]);
        if head.len() > 64 * 1024 {
            return Err(std::io::ErrorKind::InvalidData.into());
        }
    }
    Ok(head)
}

async fn serve(
    mut conn: TcpStream,
    upstream: &str,
    shared: &Mutex<Shared>,
    mut released: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let head = read_head(&mut conn).await?;
    let text = String::from_utf8_lossy(&head).to_string();
    let line = text.lines().next().unwrap_or_default().to_owned();
    let held = {
        let mut s = shared.lock().unwrap();
        s.seen.push(Seen {
            at: Instant::now(),
            line: line.clone(),
        });
        s.hold
            .as_ref()
            .is_some_and(|(m, n)| line.starts_with(m.as_str()) && line.contains(n.as_str()))
    };
    if held {
        let _ = released.wait_for(|r| *r).await;
    }
    // Forward, one request per connection (tagstream sends registries only GET and HEAD).
    let mut forwarded = String::new();
    for l in text.split("\r\n").filter(|l| !l.is_empty()) {
        if !l.to_ascii_lowercase().starts_with("connection:") {
            forwarded.push_str(l);
            forwarded.push_str("\r\n");
        }
    }
    forwarded.push_str("Connection: close\r\n\r\n");
    let mut up = TcpStream::connect(upstream).await?;
    up.write_all(forwarded.as_bytes()).await?;
    let mut response = Vec::new();
    up.read_to_end(&mut response).await?;
    conn.write_all(&response).await?;
    conn.shutdown().await
}
