//! The registry client: the distribution API's manifest HEAD and GET, blob GET and tag list,
//! with anonymous Bearer tokens, Basic, and Bearer with stored credentials.
//!
//! Written on `reqwest` by hand rather than on `oci-client` (0.18), because that crate cannot do
//! four steps this server needs:
//! - it pings `GET /v2/` before every request to a registry that asks for no token (its token
//!   cache only keeps tokens), so checking an unchanged tag would cost two requests, not one;
//! - it builds its own HTTP client, so there is no place for the SSRF defence: the resolver
//!   that refuses private addresses and the redirect policy that checks every hop;
//! - it reads whole response bodies with no size limit (we refuse manifests and configs over
//!   4 MiB before reading them);
//! - it does not surface `Retry-After` on a 429.
//!
//! The manifest, index and config JSON are parsed with `oci-spec`'s types (see `manifest.rs`).
//!
//! Here the client itself and its request loop (auth, retries, rate limit); `connect` builds the
//! HTTP clients behind the SSRF defence, `auth` answers 401 challenges, `distribution` holds the
//! endpoints, `response` reads what came back.

mod auth;
mod connect;
mod distribution;
mod response;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap};
use reqwest::{Method, StatusCode};

use super::error::RegistryError;
use super::policy::{AllowedRegistry, RegistryPolicy};
use super::tokens::{HostMap, TokenCache};
use connect::url_allowed;
use response::{BodyError, read_limited, retry_after};

pub use response::sha256;

/// Manifests and configs larger than this are refused.
pub const MAX_DOCUMENT_BYTES: u64 = 4 * 1024 * 1024;
/// How many times one request is sent before a transient failure is reported.
const ATTEMPTS: usize = 4;
/// The longest `Retry-After` honoured within one request; longer ones become the tag's backoff.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// A repository in a registry, as an import addresses it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Repository {
    /// The registry as references name it (`docker.io`, `127.0.0.1:5000`).
    pub registry: String,
    /// `library/ruby`.
    pub path: String,
}

impl Repository {
    /// The host that serves the registry's API (`docker.io` is served by `registry-1.docker.io`).
    pub fn api_host(&self) -> &str {
        if self.registry == "docker.io" {
            "registry-1.docker.io"
        } else {
            &self.registry
        }
    }
}

/// What a manifest HEAD tells: the digest, media type and size.
#[derive(Debug, Clone)]
pub struct ManifestHead {
    pub digest: Option<String>,
    pub media_type: Option<String>,
    pub size: Option<u64>,
}

/// A manifest as fetched and verified.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub bytes: Bytes,
    pub media_type: String,
    pub digest: String,
}

/// Counts of requests sent, for the benchmark and the logs.
#[derive(Debug, Default)]
pub struct Counters {
    pub requests: std::sync::atomic::AtomicU64,
}

/// The client every import shares: HTTP clients per TLS setting, tokens per scope, the
/// scheme each insecure registry answered on, and a rate limit per registry.
#[derive(Debug)]
pub struct RegistryClient {
    policy: Arc<RegistryPolicy>,
    verified: reqwest::Client,
    unverified: reqwest::Client,
    with_ca: HashMap<std::path::PathBuf, reqwest::Client>,
    tokens: TokenCache,
    basic: HostMap<bool>,
    schemes: HostMap<&'static str>,
    next_slot: HostMap<Instant>,
    min_gap: Duration,
    timeout: Duration,
    pub counters: Counters,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot read the CA file {path}: {source}")]
    CaFile {
        path: String,
        source: std::io::Error,
    },
    #[error("the CA file {path} holds no usable PEM certificate: {source}")]
    CaPem {
        path: String,
        source: reqwest::Error,
    },
    #[error("cannot build the HTTP client: {0}")]
    Build(#[from] reqwest::Error),
}

impl RegistryClient {
    pub fn new(
        policy: Arc<RegistryPolicy>,
        timeout: Duration,
        requests_per_second: u32,
    ) -> Result<Self, ClientError> {
        let build = |accept_invalid: bool, ca: Option<reqwest::Certificate>| {
            connect::http_client(&policy, timeout, accept_invalid, ca)
        };
        let mut with_ca = HashMap::new();
        for entry in policy.entries() {
            if let Some(path) = &entry.ca_file {
                let pem = std::fs::read(path).map_err(|source| ClientError::CaFile {
                    path: path.display().to_string(),
                    source,
                })?;
                let cert =
                    reqwest::Certificate::from_pem(&pem).map_err(|source| ClientError::CaPem {
                        path: path.display().to_string(),
                        source,
                    })?;
                with_ca.insert(path.clone(), build(entry.insecure, Some(cert))?);
            }
        }
        Ok(Self {
            verified: build(false, None)?,
            unverified: build(true, None)?,
            with_ca,
            policy,
            tokens: TokenCache::default(),
            basic: HostMap::default(),
            schemes: HostMap::default(),
            next_slot: HostMap::default(),
            min_gap: Duration::from_secs(1) / requests_per_second.max(1),
            timeout,
            counters: Counters::default(),
        })
    }

    pub fn policy(&self) -> &RegistryPolicy {
        &self.policy
    }

    fn entry(&self, repo: &Repository) -> Result<&AllowedRegistry, RegistryError> {
        self.policy
            .allowed(&repo.registry)
            .ok_or_else(|| RegistryError::NotAllowed(repo.registry.clone()))
    }

    fn http(&self, entry: &AllowedRegistry) -> &reqwest::Client {
        if let Some(client) = entry.ca_file.as_ref().and_then(|p| self.with_ca.get(p)) {
            return client;
        }
        if entry.insecure {
            &self.unverified
        } else {
            &self.verified
        }
    }

    /// Waits for this registry's next request slot (a fixed rate per registry).
    async fn rate_limit(&self, host: &str) {
        let now = Instant::now();
        let wait = self.next_slot.update(host, |slot| {
            let slot = slot.copied().unwrap_or(now).max(now);
            let next = slot.checked_add(self.min_gap).unwrap_or(slot);
            (next, slot.saturating_duration_since(now))
        });
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    fn scheme(&self, repo: &Repository, entry: &AllowedRegistry) -> &'static str {
        if !entry.insecure {
            return "https";
        }
        self.schemes.get(repo.api_host()).unwrap_or("https")
    }

    fn remember_scheme(&self, repo: &Repository, scheme: &'static str) {
        self.schemes.insert(repo.api_host(), scheme);
    }

    fn transport_error(&self, repo: &Repository, e: &reqwest::Error) -> RegistryError {
        if e.is_timeout() {
            return RegistryError::Timeout {
                registry: repo.registry.clone(),
                seconds: self.timeout.as_secs(),
            };
        }
        let mut message = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            message = format!("{message}: {s}");
            source = s.source();
        }
        if message.contains("refusing") || message.contains("no public address") {
            return RegistryError::AddressRefused(format!("{} ({message})", repo.registry));
        }
        RegistryError::Unreachable {
            registry: repo.registry.clone(),
            message,
        }
    }

    fn body_error(&self, repo: &Repository, e: BodyError) -> RegistryError {
        match e {
            BodyError::TooLarge { what, limit } => RegistryError::TooLarge { what, limit },
            BodyError::Transport(e) => self.transport_error(repo, &e),
        }
    }

    /// Sends one request with auth, retries and the rate limit, and reads its body (up to
    /// `limit`; HEAD reads none). Transient failures (connection errors, 5xx, truncated bodies)
    /// are retried with backoff; a 429 waits as `Retry-After` says.
    async fn request(
        &self,
        repo: &Repository,
        method: Method,
        path: &str,
        accept: Option<&str>,
        limit: u64,
        what: &str,
    ) -> Result<(StatusCode, HeaderMap, Bytes), RegistryError> {
        let entry = self.entry(repo)?;
        let http = self.http(entry);
        let mut authenticated = false;
        let mut attempt = 0;
        let mut backoff = Duration::from_millis(250);
        loop {
            attempt += 1;
            let scheme = self.scheme(repo, entry);
            let url = format!("{scheme}://{}/v2/{}/{path}", repo.api_host(), repo.path);
            let url = reqwest::Url::parse(&url)
                .map_err(|e| RegistryError::BadReference(format!("{url}: {e}")))?;
            if !url_allowed(&self.policy, &url) {
                return Err(RegistryError::AddressRefused(repo.registry.clone()));
            }
            self.rate_limit(repo.api_host()).await;
            let mut req = http.request(method.clone(), url);
            if let Some(a) = accept {
                req = req.header(ACCEPT, a);
            }
            if let Some(auth) = self.cached_auth(repo, entry.credentials.as_ref()) {
                req = req.header(AUTHORIZATION, auth);
            }
            self.counters
                .requests
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let sent = req.send().await;
            let resp = match sent {
                Ok(r) => r,
                Err(e) => {
                    // An insecure registry that does not speak TLS: plain HTTP from now on.
                    if entry.insecure && scheme == "https" && (e.is_connect() || e.is_request()) {
                        self.remember_scheme(repo, "http");
                        attempt -= 1;
                        continue;
                    }
                    let err = self.transport_error(repo, &e);
                    if matches!(err, RegistryError::AddressRefused(_)) || attempt >= ATTEMPTS {
                        return Err(err);
                    }
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                    continue;
                }
            };
            let status = resp.status();
            let headers = resp.headers().clone();
            if status == StatusCode::UNAUTHORIZED && !authenticated {
                authenticated = true;
                if self.authenticate(repo, entry, &headers).await? {
                    attempt -= 1;
                    continue;
                }
            }
            if status == StatusCode::TOO_MANY_REQUESTS {
                if attempt >= ATTEMPTS {
                    return Err(RegistryError::RateLimited {
                        registry: repo.registry.clone(),
                        attempts: attempt,
                    });
                }
                let wait = retry_after(&headers)
                    .unwrap_or(backoff)
                    .min(MAX_RETRY_AFTER);
                tracing::info!(registry = %repo.registry, wait_ms = wait.as_millis() as u64, "registry asked to slow down (429)");
                tokio::time::sleep(wait).await;
                backoff *= 2;
                continue;
            }
            if status.is_server_error() {
                if attempt >= ATTEMPTS {
                    return Err(RegistryError::Server {
                        registry: repo.registry.clone(),
                        code: status.as_u16(),
                        attempts: attempt,
                    });
                }
                tokio::time::sleep(backoff).await;
                backoff *= 2;
                continue;
            }
            if method == Method::HEAD {
                return Ok((status, headers, Bytes::new()));
            }
            match read_limited(resp, limit, what).await {
                Ok(body) => return Ok((status, headers, body)),
                Err(BodyError::TooLarge { what, limit }) => {
                    return Err(RegistryError::TooLarge { what, limit });
                }
                Err(BodyError::Transport(e)) => {
                    if attempt >= ATTEMPTS {
                        return Err(self.transport_error(repo, &e));
                    }
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_is_served_by_its_api_host() {
        let r = Repository {
            registry: "docker.io".into(),
            path: "library/ruby".into(),
        };
        assert_eq!(r.api_host(), "registry-1.docker.io");
    }
}
