//! A fault-injecting HTTP proxy in front of the real registry: it forwards each request
//! (one per connection) unless a fault is set for requests whose path contains a needle, and
//! then answers 500, 429 with `Retry-After`, resets the connection, stalls, truncates the body or
//! sends an oversized one. The registry behind it stays real. (In front of tagstream, it holds
//! the registry's notifications back: `Integrated::start_held`.)

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Status500,
    TooManyRequests,
    Reset,
    Stall,
    Truncate,
    Oversized,
    /// The body forwarded with one byte changed: it no longer matches its digest.
    Corrupt,
}

#[derive(Debug, Default)]
struct Rule {
    fault: Option<(Fault, String, String)>,
}

pub struct FaultProxy {
    pub addr: String,
    rule: Arc<Mutex<Rule>>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    pub async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let rule = Arc::new(Mutex::new(Rule::default()));
        let upstream = upstream.to_owned();
        let shared = rule.clone();
        let task = tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                let rule = shared.clone();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let _ = serve(conn, &upstream, &rule).await;
                });
            }
        });
        Self { addr, rule, task }
    }

    /// Applies `fault` to requests whose method and path contain `method` and `needle`.
    pub fn set(&self, fault: Fault, method: &str, needle: &str) {
        self.rule.lock().unwrap().fault = Some((fault, method.to_owned(), needle.to_owned()));
    }

    pub fn clear(&self) {
        self.rule.lock().unwrap().fault = None;
    }
}

impl Drop for FaultProxy {
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
    }
    Ok(head)
}

async fn serve(mut conn: TcpStream, upstream: &str, rule: &Mutex<Rule>) -> std::io::Result<()> {
    let head = read_head(&mut conn).await?;
    let text = String::from_utf8_lossy(&head).to_string();
    let line = text.lines().next().unwrap_or_default().to_owned();
    let fault = rule
        .lock()
        .unwrap()
        .fault
        .clone()
        .and_then(|(f, method, needle)| {
            (line.starts_with(&method) && line.contains(&needle)).then_some(f)
        });
    match fault {
        Some(Fault::Status500) => {
            let body = r#"{"errors":[{"code":"UNKNOWN","message":"injected failure"}]}"#;
            let resp = format!(
                "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            return conn.write_all(resp.as_bytes()).await;
        }
        Some(Fault::TooManyRequests) => {
            let body = r#"{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}"#;
            let resp = format!(
                "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            return conn.write_all(resp.as_bytes()).await;
        }
        Some(Fault::Reset) => {
            // Closed without a response: the client sees the connection end mid-exchange.
            drop(conn);
            return Ok(());
        }
        Some(Fault::Stall) => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            return Ok(());
        }
        Some(Fault::Oversized) => {
            let body = format!(
                "{{\"schemaVersion\":2,\"pad\":\"{}\"}}",
                "x".repeat(5 * 1024 * 1024)
            );
            let resp = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            return conn.write_all(resp.as_bytes()).await;
        }
        Some(Fault::Truncate | Fault::Corrupt) | None => {}
    }
    // Forward, one request per connection.
    let mut forwarded = String::new();
    for l in text.split("\r\n").filter(|l| !l.is_empty()) {
        if l.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        forwarded.push_str(l);
        forwarded.push_str("\r\n");
    }
    forwarded.push_str("Connection: close\r\n\r\n");
    // A request's body (a notification's envelope) follows its head.
    let length = text
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    conn.read_exact(&mut body).await?;
    let mut up = TcpStream::connect(upstream).await?;
    up.write_all(forwarded.as_bytes()).await?;
    up.write_all(&body).await?;
    let mut response = Vec::new();
    up.read_to_end(&mut response).await?;
    if fault == Some(Fault::Truncate) {
        let split = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(response.len(), |i| i + 4);
        let keep = split + (response.len() - split) / 2;
        response.truncate(keep);
    }
    if fault == Some(Fault::Corrupt) {
        let split = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(response.len(), |i| i + 4);
        if let Some(last) = response.len().checked_sub(2).filter(|&i| i >= split) {
            // Inside the JSON (before the closing brace), so it still has the same length.
            response[last] = if response[last] == b' ' { b'\t' } else { b' ' };
        }
    }
    conn.write_all(&response).await?;
    conn.shutdown().await
}
