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

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt as _;
use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, RETRY_AFTER, WWW_AUTHENTICATE,
};
use reqwest::{Method, StatusCode};
use sha2::Digest as _;
use tagstream_shared::image::media_type;

use super::error::RegistryError;
use super::policy::{AllowedRegistry, Credentials, RegistryPolicy};
use super::tokens::{HostMap, TokenCache, token_lifetime};

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

#[derive(Debug, Clone)]
struct Challenge {
    realm: String,
    service: Option<String>,
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

/// Resolves host names and drops every address the policy refuses: the SSRF defence for
/// names. A name whose addresses are all refused does not connect at all.
#[derive(Debug, Clone)]
struct FilteringResolver;

impl reqwest::dns::Resolve for FilteringResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| super::policy::is_public(a.ip()))
                .collect();
            // A name never reaches a private address: registries on those are listed by
            // address and port, and a literal address does not go through the resolver.
            if addrs.is_empty() {
                return Err(Box::new(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!("{host} resolves to no public address; refusing to connect"),
                ))
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

fn url_allowed(policy: &RegistryPolicy, url: &reqwest::Url) -> bool {
    match (url.host_str(), url.port_or_known_default()) {
        (Some(host), Some(port)) => policy.literal_allowed(host, port),
        _ => false,
    }
}

/// Whether a token realm may be sent the registry's Basic credentials: over https, or over
/// plain http only to the registry's own host when the registry is configured insecure (a
/// registry that is plain http anyway already gets them in the clear).
fn realm_may_get_credentials(api_host: &str, insecure: bool, realm: &reqwest::Url) -> bool {
    match realm.scheme() {
        "https" => true,
        "http" if insecure => {
            let (own, _) = super::policy::split_host_port(api_host);
            realm
                .host_str()
                .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
                .is_some_and(|h| h.eq_ignore_ascii_case(&own))
        }
        _ => false,
    }
}

impl RegistryClient {
    pub fn new(
        policy: Arc<RegistryPolicy>,
        timeout: Duration,
        requests_per_second: u32,
    ) -> Result<Self, ClientError> {
        let build = |accept_invalid: bool, ca: Option<reqwest::Certificate>| {
            let redirect_policy = policy.clone();
            let mut b = reqwest::Client::builder()
                .user_agent(concat!("tagstream/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(timeout / 3)
                .timeout(timeout)
                .dns_resolver(Arc::new(FilteringResolver))
                .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                    if attempt.previous().len() >= 5 {
                        attempt.error("too many redirects")
                    } else if url_allowed(&redirect_policy, attempt.url()) {
                        attempt.follow()
                    } else {
                        let to = attempt.url().to_string();
                        attempt.error(format!("refusing a redirect to a non-public address: {to}"))
                    }
                }))
                .danger_accept_invalid_certs(accept_invalid);
            if let Some(ca) = ca {
                b = b.add_root_certificate(ca);
            }
            b.build()
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

    fn scope(repo: &Repository) -> String {
        format!("repository:{}:pull", repo.path)
    }

    fn cached_auth(&self, repo: &Repository, creds: Option<&Credentials>) -> Option<String> {
        let key = (repo.api_host().to_owned(), Self::scope(repo));
        if let Some(t) = self.tokens.get(&key) {
            return Some(format!("Bearer {t}"));
        }
        let uses_basic = self.basic.get(repo.api_host()).unwrap_or(false);
        match creds {
            Some(c) if uses_basic => Some(basic_header(c)),
            _ => None,
        }
    }

    /// Answers a 401 challenge: fetches a token (anonymously or with the registry's
    /// credentials) or switches the registry to Basic. `false` when nothing can satisfy it.
    async fn authenticate(
        &self,
        repo: &Repository,
        entry: &AllowedRegistry,
        headers: &HeaderMap,
    ) -> Result<bool, RegistryError> {
        let Some(header) = headers.get(WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()) else {
            return Ok(false);
        };
        if header.len() >= 5 && header[..5].eq_ignore_ascii_case("basic") {
            if entry.credentials.is_none() {
                return Ok(false);
            }
            self.basic.insert(repo.api_host(), true);
            return Ok(true);
        }
        let Some(challenge) = parse_bearer(header) else {
            return Ok(false);
        };
        let mut url =
            reqwest::Url::parse(&challenge.realm).map_err(|e| RegistryError::Malformed {
                what: format!("the token realm of {}", repo.registry),
                message: e.to_string(),
            })?;
        if !url_allowed(&self.policy, &url) {
            return Err(RegistryError::AddressRefused(url.to_string()));
        }
        {
            let mut q = url.query_pairs_mut();
            if let Some(service) = &challenge.service {
                q.append_pair("service", service);
            }
            q.append_pair("scope", &Self::scope(repo));
        }
        // The registry names its realm, so a registry (or whoever answers for it) could ask for
        // the stored password anywhere: it goes only where it cannot be read on the way.
        let credentials = entry
            .credentials
            .as_ref()
            .filter(|_| realm_may_get_credentials(repo.api_host(), entry.insecure, &url));
        if let Some(c) = credentials {
            url.query_pairs_mut().append_pair("account", &c.username);
        }
        let mut req = self.http(entry).get(url);
        if let Some(c) = credentials {
            req = req.header(AUTHORIZATION, basic_header(c));
        }
        self.counters
            .requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let resp = req
            .send()
            .await
            .map_err(|e| self.transport_error(repo, &e))?;
        if !resp.status().is_success() {
            return Err(RegistryError::Unauthorized {
                registry: repo.registry.clone(),
                message: format!("the token server answered {}", resp.status()),
            });
        }
        let body = read_limited(resp, MAX_DOCUMENT_BYTES, "the token response")
            .await
            .map_err(|e| self.body_error(repo, e))?;
        #[derive(serde::Deserialize)]
        struct TokenResponse {
            #[serde(default)]
            token: Option<String>,
            #[serde(default)]
            access_token: Option<String>,
            #[serde(default)]
            expires_in: Option<u64>,
        }
        let parsed: TokenResponse =
            serde_json::from_slice(&body).map_err(|e| RegistryError::Malformed {
                what: "the token response".into(),
                message: e.to_string(),
            })?;
        let Some(value) = parsed.token.or(parsed.access_token) else {
            return Err(RegistryError::Unauthorized {
                registry: repo.registry.clone(),
                message: "the token server answered no token".into(),
            });
        };
        self.tokens.insert(
            (repo.api_host().to_owned(), Self::scope(repo)),
            value,
            token_lifetime(parsed.expires_in),
        );
        Ok(true)
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

    fn not_ok(repo: &Repository, status: StatusCode, what: &str, body: &[u8]) -> RegistryError {
        match status {
            StatusCode::NOT_FOUND => RegistryError::NotFound {
                registry: repo.registry.clone(),
                what: what.to_owned(),
            },
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => RegistryError::Unauthorized {
                registry: repo.registry.clone(),
                message: registry_message(body).unwrap_or_else(|| status.to_string()),
            },
            other => RegistryError::Malformed {
                what: what.to_owned(),
                message: format!(
                    "the registry answered {other}{}",
                    registry_message(body)
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default()
                ),
            },
        }
    }

    /// `HEAD /v2/{repo}/manifests/{reference}`: one request, the digest from
    /// `Docker-Content-Digest`.
    pub async fn head_manifest(
        &self,
        repo: &Repository,
        reference: &str,
    ) -> Result<ManifestHead, RegistryError> {
        let what = format!("manifest {}:{reference}", repo.path);
        let (status, headers, _) = self
            .request(
                repo,
                Method::HEAD,
                &format!("manifests/{reference}"),
                Some(&media_type::ALL.join(", ")),
                0,
                &what,
            )
            .await?;
        if !status.is_success() {
            return Err(Self::not_ok(repo, status, &what, &[]));
        }
        Ok(ManifestHead {
            digest: header_str(&headers, "docker-content-digest"),
            media_type: header_str(&headers, CONTENT_TYPE.as_str()).map(|t| base_type(&t)),
            size: header_str(&headers, CONTENT_LENGTH.as_str()).and_then(|s| s.parse().ok()),
        })
    }

    /// `GET /v2/{repo}/manifests/{reference}`, verified against its digest.
    pub async fn get_manifest(
        &self,
        repo: &Repository,
        reference: &str,
    ) -> Result<Manifest, RegistryError> {
        let what = format!("manifest {}:{reference}", repo.path);
        let (status, headers, body) = self
            .request(
                repo,
                Method::GET,
                &format!("manifests/{reference}"),
                Some(&media_type::ALL.join(", ")),
                MAX_DOCUMENT_BYTES,
                &what,
            )
            .await?;
        if !status.is_success() {
            return Err(Self::not_ok(repo, status, &what, &body));
        }
        let actual = sha256(&body);
        for expected in [
            header_str(&headers, "docker-content-digest"),
            reference
                .starts_with("sha256:")
                .then(|| reference.to_owned()),
        ]
        .into_iter()
        .flatten()
        {
            if expected.starts_with("sha256:") && expected != actual {
                return Err(RegistryError::DigestMismatch {
                    what,
                    expected,
                    actual,
                });
            }
        }
        let header_type = header_str(&headers, CONTENT_TYPE.as_str()).map(|t| base_type(&t));
        let media_type = super::manifest::media_type_of(header_type.as_deref(), &body)?;
        Ok(Manifest {
            bytes: body,
            media_type,
            digest: actual,
        })
    }

    /// `GET /v2/{repo}/blobs/{digest}` of a small blob (a config), verified.
    pub async fn get_blob(
        &self,
        repo: &Repository,
        digest: &str,
        what: &str,
    ) -> Result<Bytes, RegistryError> {
        let (status, _, body) = self
            .request(
                repo,
                Method::GET,
                &format!("blobs/{digest}"),
                None,
                MAX_DOCUMENT_BYTES,
                what,
            )
            .await?;
        if !status.is_success() {
            return Err(Self::not_ok(repo, status, what, &body));
        }
        let actual = sha256(&body);
        if digest.starts_with("sha256:") && actual != digest {
            return Err(RegistryError::DigestMismatch {
                what: what.to_owned(),
                expected: digest.to_owned(),
                actual,
            });
        }
        Ok(body)
    }

    /// Every tag of a repository, following `Link` pages when the registry sends them.
    pub async fn list_tags(&self, repo: &Repository) -> Result<Vec<String>, RegistryError> {
        #[derive(serde::Deserialize)]
        struct TagList {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let what = format!("the tags of {}", repo.path);
        let mut tags = Vec::new();
        let mut path = "tags/list".to_owned();
        for _ in 0..100 {
            let (status, headers, body) = self
                .request(repo, Method::GET, &path, None, MAX_DOCUMENT_BYTES, &what)
                .await?;
            if !status.is_success() {
                return Err(Self::not_ok(repo, status, &repo.path, &body));
            }
            let page: TagList =
                serde_json::from_slice(&body).map_err(|e| RegistryError::Malformed {
                    what: what.clone(),
                    message: e.to_string(),
                })?;
            tags.extend(page.tags.unwrap_or_default());
            match next_link(&headers, &repo.path) {
                Some(next) => path = next,
                None => break,
            }
        }
        Ok(tags)
    }
}

fn basic_header(c: &Credentials) -> String {
    use base64_lite::encode;
    format!(
        "Basic {}",
        encode(format!("{}:{}", c.username, c.password).as_bytes())
    )
}

/// Base64 for Basic credentials (standard alphabet, padded); too small to need a crate.
mod base64_lite {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub fn encode(input: &[u8]) -> String {
        let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
        for chunk in input.chunks(3) {
            let b = [
                chunk.first().copied().unwrap_or(0),
                chunk.get(1).copied().unwrap_or(0),
                chunk.get(2).copied().unwrap_or(0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    let idx = ((n >> (18 - 6 * i)) & 63) as usize;
                    out.push(char::from(ALPHABET[idx]));
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}

pub fn sha256(bytes: &[u8]) -> String {
    let hash = sha2::Sha256::digest(bytes);
    let mut s = String::with_capacity(71);
    s.push_str("sha256:");
    for b in hash {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn base_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn registry_message(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let e = v.get("errors")?.get(0)?;
    Some(format!(
        "{} {}",
        e.get("code")?.as_str()?,
        e.get("message")
            .and_then(|m| m.as_str())
            .unwrap_or_default()
    ))
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let secs = (at.timestamp() - chrono::Utc::now().timestamp()).max(0);
    Some(Duration::from_secs(u64::try_from(secs).unwrap_or(0)))
}

/// The path of the next page from a `Link: </v2/repo/tags/list?last=x&n=y>; rel="next"`.
fn next_link(headers: &HeaderMap, repo_path: &str) -> Option<String> {
    let link = headers.get("link")?.to_str().ok()?;
    let target = link
        .split(';')
        .next()?
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>');
    let prefix = format!("/v2/{repo_path}/");
    let rest = target.strip_prefix(&prefix)?;
    rest.starts_with("tags/list").then(|| rest.to_owned())
}

/// `Bearer realm="...",service="...",scope="..."`.
fn parse_bearer(header: &str) -> Option<Challenge> {
    let rest = header.trim();
    if rest.len() < 6 || !rest[..6].eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut params = HashMap::new();
    let mut s = rest[6..].trim_start();
    while !s.is_empty() {
        let (key, after) = s.split_once('=')?;
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let after = after.trim_start();
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"')?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        params.insert(key, value.to_owned());
        s = remaining.trim_start().trim_start_matches(',').trim_start();
    }
    Some(Challenge {
        realm: params.remove("realm")?,
        service: params.remove("service"),
    })
}

enum BodyError {
    TooLarge { what: String, limit: u64 },
    Transport(reqwest::Error),
}

/// Reads a body, refusing it as soon as it is known to exceed `limit`.
async fn read_limited(resp: reqwest::Response, limit: u64, what: &str) -> Result<Bytes, BodyError> {
    let too_large = || BodyError::TooLarge {
        what: what.to_owned(),
        limit,
    };
    if resp.content_length().is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut out = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(BodyError::Transport)?;
        if out.len() as u64 + chunk.len() as u64 > limit {
            return Err(too_large());
        }
        out.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenges_parse_with_and_without_quotes() {
        let c = parse_bearer(r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ruby:pull""#)
            .expect("parses");
        assert_eq!(c.realm, "https://auth.docker.io/token");
        assert_eq!(c.service.as_deref(), Some("registry.docker.io"));
        let c =
            parse_bearer("bearer realm=http://127.0.0.1:5050/token, service=test").expect("parses");
        assert_eq!(c.realm, "http://127.0.0.1:5050/token");
        assert_eq!(c.service.as_deref(), Some("test"));
        assert!(parse_bearer("Basic realm=\"x\"").is_none());
        assert!(parse_bearer("Bearer service=\"x\"").is_none(), "no realm");
        assert!(parse_bearer("Bearer realm=\"unterminated").is_none());
    }

    #[test]
    fn base64_matches_the_rfc_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_lite::encode(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "3".parse().expect("header"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().expect("header"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO), "a past date: now");
        h.insert(RETRY_AFTER, "soon".parse().expect("header"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn next_links_stay_in_the_repository() {
        let mut h = HeaderMap::new();
        h.insert(
            "link",
            r#"</v2/demo/app/tags/list?last=b&n=2>; rel="next""#
                .parse()
                .expect("header"),
        );
        assert_eq!(
            next_link(&h, "demo/app").as_deref(),
            Some("tags/list?last=b&n=2")
        );
        h.insert(
            "link",
            r#"<https://evil.example/x>; rel="next""#.parse().expect("header"),
        );
        assert_eq!(next_link(&h, "demo/app"), None);
    }

    #[test]
    fn docker_hub_is_served_by_its_api_host() {
        let r = Repository {
            registry: "docker.io".into(),
            path: "library/ruby".into(),
        };
        assert_eq!(r.api_host(), "registry-1.docker.io");
    }

    #[test]
    fn credentials_go_to_https_realms_and_to_an_insecure_registrys_own_http_host() {
        let url = |u: &str| reqwest::Url::parse(u).expect("url");
        let may = realm_may_get_credentials;
        assert!(may("quay.io", false, &url("https://auth.example/token")));
        assert!(!may("quay.io", false, &url("http://quay.io/token")));
        assert!(may(
            "127.0.0.1:5000",
            true,
            &url("http://127.0.0.1:5001/token")
        ));
        assert!(!may(
            "127.0.0.1:5000",
            true,
            &url("http://127.0.0.2:5001/token")
        ));
        assert!(!may(
            "reg.example:5000",
            true,
            &url("http://evil.example/token")
        ));
        assert!(may("[::1]:5000", true, &url("http://[::1]:80/token")));
        assert!(!may("127.0.0.1:5000", true, &url("ftp://127.0.0.1/token")));
    }
}
