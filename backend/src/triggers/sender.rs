//! Sending one event to one webhook: the SSRF rules imports obey (a host name's addresses are
//! checked after resolution and the connection is pinned to them; the URL is parsed once and
//! the request goes to exactly that parse; redirects are not followed),
//! `[webhooks] allowed_hosts` as the exceptions, a timeout, and the signature.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tagstream_shared::trigger::{EVENT_ID_HEADER, SIGNATURE_HEADER, WebhookUrl};

use crate::config::WebhooksConfig;
use crate::registry::policy::{is_public, split_host_port};

/// `sha256=<hex HMAC-SHA256 of body with secret>`, the signature header's value.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length; the error case cannot happen.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256=");
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// What an attempt got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The HTTP status, if an answer came.
    pub status: Option<u16>,
    pub latency: Duration,
    /// Why it did not succeed.
    pub error: Option<String>,
    /// The target is not allowed: retrying will not help.
    pub refused: bool,
}

impl Outcome {
    pub fn delivered(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    fn refused(why: String) -> Self {
        Self {
            status: None,
            latency: Duration::ZERO,
            error: Some(why),
            refused: true,
        }
    }
}

/// Sends events to webhooks under the SSRF rules.
#[derive(Debug, Clone)]
pub struct WebhookSender {
    timeout: Duration,
    /// `allowed_hosts`, as host and optional port.
    allowed: Vec<(String, Option<u16>)>,
}

impl WebhookSender {
    pub fn new(config: &WebhooksConfig) -> Self {
        Self {
            timeout: Duration::from_secs(config.timeout_seconds),
            allowed: config
                .allowed_hosts
                .iter()
                .map(|h| split_host_port(h))
                .collect(),
        }
    }

    /// Whether `allowed_hosts` lists the URL's host and port.
    fn listed(&self, url: &WebhookUrl) -> bool {
        self.allowed
            .iter()
            .any(|(h, p)| *h == url.host && p.is_none_or(|p| p == url.port))
    }

    /// What can be told without resolving a name: a literal address that is not public (or
    /// `localhost`) and not listed. Answers why it is refused.
    pub fn check_without_dns(&self, url: &str) -> Result<(), String> {
        let parsed = WebhookUrl::parse(url)?;
        if self.listed(&parsed) {
            return Ok(());
        }
        let host = parsed.host.trim_end_matches('.');
        if host == "localhost" || host.ends_with(".localhost") {
            return Err(refusal(&parsed, "a loopback name"));
        }
        match parsed.host.parse::<IpAddr>() {
            Ok(ip) if !is_public(ip) => Err(refusal(&parsed, &format!("address {ip}"))),
            _ => Ok(()),
        }
    }

    /// The addresses the URL may be reached at: none refused, all public unless listed.
    async fn addresses(&self, url: &WebhookUrl) -> Result<Vec<SocketAddr>, String> {
        if let Ok(ip) = url.host.parse::<IpAddr>() {
            let addr = SocketAddr::new(ip, url.port);
            return if self.listed(url) || is_public(ip) {
                Ok(vec![addr])
            } else {
                Err(refusal(url, &format!("address {ip}")))
            };
        }
        let resolved: Vec<SocketAddr> = tokio::net::lookup_host((url.host.as_str(), url.port))
            .await
            .map_err(|e| format!("cannot resolve {}: {e}", url.host))?
            .collect();
        if self.listed(url) {
            return Ok(resolved);
        }
        if let Some(bad) = resolved.iter().find(|a| !is_public(a.ip())) {
            return Err(refusal(
                url,
                &format!("{} resolves to {}", url.host, bad.ip()),
            ));
        }
        if resolved.is_empty() {
            return Err(format!("{} resolves to no address", url.host));
        }
        Ok(resolved)
    }

    /// Posts `body` to `url`, signed with `secret`.
    pub async fn send(&self, url: &str, secret: &str, event_id: &str, body: &str) -> Outcome {
        let parsed = match WebhookUrl::parse(url) {
            Ok(p) => p,
            Err(e) => return Outcome::refused(format!("bad URL: {e}")),
        };
        let addresses = match self.addresses(&parsed).await {
            Ok(a) => a,
            Err(e) => return Outcome::refused(e),
        };
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(self.timeout)
            .connect_timeout(self.timeout)
            .no_proxy()
            .resolve_to_addrs(&parsed.host, &addresses)
            .user_agent(concat!("tagstream-webhook/", env!("CARGO_PKG_VERSION")))
            .build();
        let client = match client {
            Ok(c) => c,
            Err(e) => return Outcome::refused(format!("cannot build the HTTP client: {e}")),
        };
        let started = Instant::now();
        let result = client
            // The URL as parsed and checked above, not the text re-parsed.
            .post(parsed.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature(secret, body.as_bytes()))
            .header(EVENT_ID_HEADER, event_id)
            .body(body.to_owned())
            .send()
            .await;
        let latency = started.elapsed();
        match result {
            Ok(resp) => {
                let status = resp.status();
                let error = if status.is_success() {
                    None
                } else if status.is_redirection() {
                    Some(format!("answered {status}: redirects are not followed"))
                } else {
                    Some(format!("answered {status}"))
                };
                Outcome {
                    status: Some(status.as_u16()),
                    latency,
                    error,
                    refused: false,
                }
            }
            Err(e) => Outcome {
                status: None,
                latency,
                error: Some(describe(&e)),
                refused: false,
            },
        }
    }
}

fn refusal(url: &WebhookUrl, what: &str) -> String {
    format!(
        "refused: {what} is not a public address; list \"{}:{}\" in [webhooks] allowed_hosts to allow it",
        url.host, url.port
    )
}

/// A transport error in a few words, with its cause (reqwest's own text says little).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {cause}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sender(allowed: &[&str]) -> WebhookSender {
        WebhookSender::new(&WebhooksConfig {
            allowed_hosts: allowed.iter().map(|s| (*s).to_owned()).collect(),
            ..WebhooksConfig::default()
        })
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn private_and_loopback_targets_are_refused_unless_listed() {
        let s = sender(&["127.0.0.1:9000", "hooks.internal"]);
        for bad in [
            "http://127.0.0.1:9001/",
            "http://10.0.0.1/",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]:9000/",
            "http://[::ffff:127.0.0.1]:9000/",
            "http://0.0.0.0:9000/",
            "http://localhost:9000/",
            "http://192.168.1.1/",
            "http://0x7f.1:9001/",
        ] {
            let e = s.check_without_dns(bad).expect_err(bad);
            assert!(e.contains("refused"), "{bad}: {e}");
        }
        // Parsers disagree on `\\`: refused outright, even when the name it seems to be is listed.
        let e = s
            .check_without_dns("http://127.0.0.1\\x.hooks.internal/")
            .expect_err("a backslash");
        assert!(e.contains("backslash"), "{e}");
        for ok in [
            "http://127.0.0.1:9000/hook",
            "https://hooks.internal:8443/",
            "https://8.8.8.8/",
            "https://hooks.example.com/x",
        ] {
            assert_eq!(s.check_without_dns(ok), Ok(()), "{ok}");
        }
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused_when_sending() {
        let s = sender(&[]);
        let out = s
            .send("http://localhost:9/x", "secret-secret", "id", "{}")
            .await;
        assert!(out.refused, "{out:?}");
        assert!(out.error.unwrap_or_default().contains("resolves to"));
    }
}
