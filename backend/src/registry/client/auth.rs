//! Answering a registry's 401: Bearer challenges, the token exchange, and Basic credentials
//! (sent only where they cannot be read on the way).

use std::collections::HashMap;

use reqwest::header::{AUTHORIZATION, HeaderMap, WWW_AUTHENTICATE};

use super::connect::url_allowed;
use super::response::read_limited;
use super::{MAX_DOCUMENT_BYTES, RegistryClient, Repository};
use crate::registry::error::RegistryError;
use crate::registry::policy::{AllowedRegistry, Credentials};
use crate::registry::tokens::token_lifetime;

#[derive(Debug, Clone)]
struct Challenge {
    realm: String,
    service: Option<String>,
}

/// Whether a token realm may be sent the registry's Basic credentials: over https, or over
/// plain http only to the registry's own host when the registry is configured insecure (a
/// registry that is plain http anyway already gets them in the clear).
fn realm_may_get_credentials(api_host: &str, insecure: bool, realm: &reqwest::Url) -> bool {
    match realm.scheme() {
        "https" => true,
        "http" if insecure => {
            let (own, _) = crate::registry::policy::split_host_port(api_host);
            realm
                .host_str()
                .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
                .is_some_and(|h| h.eq_ignore_ascii_case(&own))
        }
        _ => false,
    }
}

impl RegistryClient {
    fn scope(repo: &Repository) -> String {
        format!("repository:{}:pull", repo.path)
    }

    pub(super) fn cached_auth(
        &self,
        repo: &Repository,
        creds: Option<&Credentials>,
    ) -> Option<String> {
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
    pub(super) async fn authenticate(
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
