//! The distribution API's endpoints the server reads: manifest HEAD and GET, blob GET and the
//! tag list, each verified against its digest where it has one, and a refusal mapped to the
//! registry error that says why.

use bytes::Bytes;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderMap};
use reqwest::{Method, StatusCode};
use tagstream_shared::image::media_type;

use super::response::{header_str, sha256};
use super::{MAX_DOCUMENT_BYTES, Manifest, ManifestHead, RegistryClient, Repository};
use crate::registry::error::RegistryError;

impl RegistryClient {
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

    /// `{method} /v2/{repo}/manifests/{reference}` accepting every manifest type, a refusal
    /// mapped to its error: what was asked for (for messages), the headers and the body.
    async fn manifest(
        &self,
        repo: &Repository,
        reference: &str,
        method: Method,
        limit: u64,
    ) -> Result<(String, HeaderMap, Bytes), RegistryError> {
        let what = format!("manifest {}:{reference}", repo.path);
        let path = format!("manifests/{reference}");
        let accept = media_type::ALL.join(", ");
        let (status, headers, body) = self
            .request(repo, method, &path, Some(&accept), limit, &what)
            .await?;
        if !status.is_success() {
            return Err(Self::not_ok(repo, status, &what, &body));
        }
        Ok((what, headers, body))
    }

    /// `HEAD /v2/{repo}/manifests/{reference}`: one request, the digest from
    /// `Docker-Content-Digest`.
    pub async fn head_manifest(
        &self,
        repo: &Repository,
        reference: &str,
    ) -> Result<ManifestHead, RegistryError> {
        let (_, headers, _) = self.manifest(repo, reference, Method::HEAD, 0).await?;
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
        let (what, headers, body) = self
            .manifest(repo, reference, Method::GET, MAX_DOCUMENT_BYTES)
            .await?;
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
        let media_type = crate::registry::manifest::media_type_of(header_type.as_deref(), &body)?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
