//! Reads a pushed image's manifest and config from the integrated registry, with a pull token
//! tagstream signs for itself, and keeps the `Image` by digest as an import does (the same
//! manifest parsing and `Image` building). Its own small client: the import client's registry
//! policy and token cache are for registries users import from, and a token for the integrated
//! registry must never be reachable through a user's import.

use std::time::Duration;

use bytes::Bytes;
use tagstream_shared::image::media_type;
use tagstream_shared::{Image, Time};

use super::Integrated;
use crate::registry::client::{MAX_DOCUMENT_BYTES, sha256};
use crate::registry::manifest::{self, Parsed};

/// The children of a pushed list read at most (a list of more platforms is refused).
pub const MAX_CHILDREN: usize = 64;

/// Why a pushed image could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("the integrated registry is unreachable: {0}")]
    Unreachable(String),
    #[error("the integrated registry answered {status} for {what}")]
    Status { status: u16, what: String },
    #[error("{what} is larger than {MAX_DOCUMENT_BYTES} bytes")]
    TooLarge { what: String },
    #[error("the manifest read for {expected} has digest {got}")]
    DigestMismatch { expected: String, got: String },
    #[error(transparent)]
    Manifest(#[from] crate::registry::RegistryError),
    #[error("a list of more than {MAX_CHILDREN} images")]
    TooManyChildren,
    /// A list names something the registry answers 5xx for while it answered the list itself:
    /// a layer pushed as a list's "child" does that (distribution 2.8 takes such a list), and
    /// delivering the event again would fail the same way, holding up every notification behind
    /// it.
    #[error("the list names {child}, which the registry cannot read as an image ({status})")]
    BadChild { child: String, status: u16 },
    #[error("cannot sign a token for the registry: {0}")]
    Token(String),
}

impl ReadError {
    /// Whether the registry may succeed when it delivers the event again (it retries
    /// deliveries answered 5xx).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable(_) | Self::Token(_) => true,
            Self::Status { status, .. } => *status >= 500 || *status == 404 || *status == 429,
            _ => false,
        }
    }
}

/// A client for the integrated registry: no redirects, a whole-request timeout.
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .user_agent(concat!("tagstream/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(timeout / 3)
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
}

/// The body of `resp`, refused with `too_large()` once it grows past [`MAX_DOCUMENT_BYTES`].
pub(super) async fn read_bounded(
    mut resp: reqwest::Response,
    too_large: impl Fn() -> ReadError,
) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| ReadError::Unreachable(e.to_string()))?
    {
        if (body.len() + chunk.len()) as u64 > MAX_DOCUMENT_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

impl Integrated {
    async fn fetch(
        &self,
        repo: &str,
        path: &str,
        accept: Option<&str>,
        token: &str,
    ) -> Result<(Option<String>, Bytes), ReadError> {
        let url = format!("{}v2/{repo}/{path}", self.api_url);
        let resp = self.send(reqwest::Method::GET, url, accept, token).await?;
        if !resp.status().is_success() {
            return Err(ReadError::Status {
                status: resp.status().as_u16(),
                what: format!("{repo}/{path}"),
            });
        }
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or_default().trim().to_owned());
        let too_large = || ReadError::TooLarge {
            what: format!("{repo}/{path}"),
        };
        if resp
            .content_length()
            .is_some_and(|l| l > MAX_DOCUMENT_BYTES)
        {
            return Err(too_large());
        }
        let body = read_bounded(resp, too_large).await?;
        Ok((content_type, Bytes::from(body)))
    }

    /// Sends a `method` request for `url` with `token`, asking for `accept` if given.
    pub(super) async fn send(
        &self,
        method: reqwest::Method,
        url: String,
        accept: Option<&str>,
        token: &str,
    ) -> Result<reqwest::Response, ReadError> {
        let mut req = self.http.request(method, url).bearer_auth(token);
        if let Some(a) = accept {
            req = req.header(reqwest::header::ACCEPT, a);
        }
        req.send()
            .await
            .map_err(|e| ReadError::Unreachable(e.to_string()))
    }

    /// The image `repo@digest` (`project/stream`), read from the registry unless already kept;
    /// a list's children are read and kept too. `pull_spec` is what the `Image` names.
    pub async fn read_image(
        &self,
        repo: &str,
        digest: &str,
        pull_spec: &str,
        now: Time,
    ) -> Result<Image, ReadError> {
        let store = &self.store;
        if let Ok(Some(image)) = store.get_image(digest).await {
            return Ok(image);
        }
        let token = self.own_token("repository", repo, &["pull"], 60)?;
        let accept = media_type::ALL.join(", ");
        let image = self
            .read_one(repo, digest, pull_spec, now, &token, &accept)
            .await?;
        if image.is_list() {
            if image.docker_image_manifests.len() > MAX_CHILDREN {
                return Err(ReadError::TooManyChildren);
            }
            for child in &image.docker_image_manifests {
                if matches!(store.get_image(&child.digest).await, Ok(Some(_))) {
                    continue;
                }
                let spec = pull_spec.replace(digest, &child.digest);
                let child = match self
                    .read_one(repo, &child.digest, &spec, now, &token, &accept)
                    .await
                {
                    Err(ReadError::Status { status, .. }) if status >= 500 => {
                        return Err(ReadError::BadChild {
                            child: child.digest.clone(),
                            status,
                        });
                    }
                    other => other?,
                };
                if let Err(e) = store.put_image(&child).await {
                    tracing::warn!(error = %e, "cannot keep a pushed image");
                }
            }
        }
        if let Err(e) = store.put_image(&image).await {
            tracing::warn!(error = %e, "cannot keep a pushed image");
        }
        Ok(image)
    }

    async fn read_one(
        &self,
        repo: &str,
        digest: &str,
        pull_spec: &str,
        now: Time,
        token: &str,
        accept: &str,
    ) -> Result<Image, ReadError> {
        let (content_type, bytes) = self
            .fetch(repo, &format!("manifests/{digest}"), Some(accept), token)
            .await?;
        let got = sha256(&bytes);
        if got != digest {
            return Err(ReadError::DigestMismatch {
                expected: digest.to_owned(),
                got,
            });
        }
        let media = manifest::media_type_of(content_type.as_deref(), &bytes)?;
        Ok(match manifest::parse(&media, &bytes)? {
            Parsed::List(index) => manifest::list_image(digest, &media, &index, pull_spec, now),
            Parsed::Image(m) => {
                let config_digest = m.config().digest().to_string();
                let (_, config) = self
                    .fetch(repo, &format!("blobs/{config_digest}"), None, token)
                    .await?;
                if sha256(&config) != config_digest {
                    return Err(ReadError::DigestMismatch {
                        expected: config_digest,
                        got: sha256(&config),
                    });
                }
                let config = manifest::parse_config(&config)?;
                manifest::single_image(digest, &media, &m, &config, pull_spec, now)
            }
        })
    }
}
