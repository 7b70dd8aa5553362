//! The registry API calls a purge makes (`purge`): listing tags, reading and deleting
//! manifests and blob links, each answer bounded in size.

use tagstream_shared::image::media_type;

use super::Integrated;
use super::purge::MAX_MANIFESTS;
use super::reader::{ReadError, read_bounded};
use super::token::{Access, sign};
use crate::registry::client::sha256;
use crate::registry::manifest::{self, Parsed};

/// Repositories and tags asked for per page.
pub(super) const PAGE: usize = 100;

impl Integrated {
    /// `repo`'s tags (none when the registry does not know it), at most [`MAX_MANIFESTS`] of
    /// them; and whether that is all of them.
    pub(super) async fn tags(
        &self,
        repo: &str,
        token: &str,
    ) -> Result<(Vec<String>, bool), ReadError> {
        let mut all: Vec<String> = Vec::new();
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        loop {
            let mut path = format!("v2/{repo}/tags/list?n={PAGE}");
            if let Some(last) = all.last() {
                path.push_str(&format!("&last={last}"));
            }
            let (status, body) = self.call(reqwest::Method::GET, &path, None, token).await?;
            match status {
                404 => return Ok((all, true)),
                200 => {}
                s => return Err(status_error(s, &path)),
            }
            let page: TagList =
                serde_json::from_slice(&body).map_err(|_| status_error(status, &path))?;
            let tags = page.tags.unwrap_or_default();
            let count = tags.len();
            let before = all.len();
            for tag in tags {
                if seen.insert(tag.clone()) {
                    all.push(tag);
                }
            }
            // A registry that ignores `n` and `last` (distribution 2.8 does) answers every tag
            // at once, and the same again for the next page: that was all of them.
            if count != PAGE || all.len() == before {
                let complete = all.len() <= MAX_MANIFESTS;
                all.truncate(MAX_MANIFESTS);
                return Ok((all, complete));
            }
            if all.len() >= MAX_MANIFESTS {
                return Ok((all, false));
            }
        }
    }

    /// The status of a HEAD of `path` (a manifest by tag) and the digest it names.
    pub(super) async fn head_manifest(
        &self,
        path: &str,
        token: &str,
    ) -> Result<(u16, Option<String>), ReadError> {
        let resp = self
            .http
            .head(format!("{}{path}", self.api_url))
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, media_type::ALL.join(", "))
            .send()
            .await
            .map_err(|e| ReadError::Unreachable(e.to_string()))?;
        let digest = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .filter(|d| d.starts_with("sha256:") && d.len() <= 71)
            .map(str::to_owned);
        Ok((resp.status().as_u16(), digest))
    }

    /// A token tagstream signs for itself (as `crate::audit::SERVER`) for `actions` on
    /// `kind:name`, valid for `seconds`.
    pub(super) fn own_token(
        &self,
        kind: &'static str,
        name: &str,
        actions: &[&'static str],
        seconds: u64,
    ) -> Result<String, ReadError> {
        self.own_token_for(
            &[Access {
                kind,
                name: name.to_owned(),
                actions: actions.to_vec(),
            }],
            seconds,
        )
    }

    /// A token tagstream signs for itself for each of `access`, valid for `seconds`.
    pub(super) fn own_token_for(
        &self,
        access: &[Access],
        seconds: u64,
    ) -> Result<String, ReadError> {
        sign(
            &self.keys,
            &self.config.issuer,
            &self.config.service,
            crate::audit::SERVER,
            access,
            tagstream_shared::Time::now().timestamp(),
            seconds,
        )
        .map_err(|e| ReadError::Token(e.to_string()))
    }

    /// Deletes manifest `digest` of `repo` (which untags it), with a token signed for that
    /// alone; answers whether it was there.
    pub async fn delete_manifest(&self, repo: &str, digest: &str) -> Result<bool, ReadError> {
        let jwt = self.own_token("repository", repo, &["delete"], 60)?;
        self.delete_at(&format!("v2/{repo}/manifests/{digest}"), &jwt)
            .await
    }

    /// Reads manifest `reference` (a digest or a tag) of `repo` with `token`: `None` when the
    /// registry does not have it. A document that does not match the digest asked for, or that
    /// is no manifest tagstream reads, names nothing.
    pub(super) async fn manifest_names(
        &self,
        repo: &str,
        reference: &str,
        token: &str,
    ) -> Result<Option<Names>, ReadError> {
        Ok(self
            .manifest_bytes(repo, reference, token)
            .await?
            .map(|body| names_of(reference, &body)))
    }

    /// The bytes of manifest `reference` (a digest or a tag) of `repo`, read with `token`:
    /// `None` when the registry does not have it.
    pub(super) async fn manifest_bytes(
        &self,
        repo: &str,
        reference: &str,
        token: &str,
    ) -> Result<Option<Vec<u8>>, ReadError> {
        let path = format!("v2/{repo}/manifests/{reference}");
        let accept = media_type::ALL.join(", ");
        let (status, body) = self
            .call(reqwest::Method::GET, &path, Some(&accept), token)
            .await?;
        match status {
            404 => Ok(None),
            200 => Ok(Some(body)),
            s => Err(status_error(s, &path)),
        }
    }

    /// Deletes `repo`'s link to blob `digest` with `token`; answers whether it was there.
    pub(super) async fn delete_blob(
        &self,
        repo: &str,
        digest: &str,
        token: &str,
    ) -> Result<bool, ReadError> {
        self.delete_at(&format!("v2/{repo}/blobs/{digest}"), token)
            .await
    }

    /// Deletes what `path` of the registry's API names with `token`; answers whether it was
    /// there.
    async fn delete_at(&self, path: &str, token: &str) -> Result<bool, ReadError> {
        let (status, _) = self
            .call(reqwest::Method::DELETE, path, None, token)
            .await?;
        match status {
            202 => Ok(true),
            404 => Ok(false),
            s => Err(status_error(s, path)),
        }
    }

    /// Links blob `digest` of `from` in `to` too (distribution's cross-repository mount), with
    /// `token` (pull on `from`, push on `to`); answers whether it did (not when `from` has no
    /// such blob: then the upload the registry began instead is cancelled).
    pub(super) async fn mount_blob(
        &self,
        to: &str,
        from: &str,
        digest: &str,
        token: &str,
    ) -> Result<bool, ReadError> {
        let path = format!("v2/{to}/blobs/uploads/?mount={digest}&from={from}");
        let resp = self
            .http
            .post(format!("{}{path}", self.api_url))
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_LENGTH, "0")
            .send()
            .await
            .map_err(|e| ReadError::Unreachable(e.to_string()))?;
        match resp.status().as_u16() {
            201 => Ok(true),
            202 => {
                let upload = resp
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| l.strip_prefix('/').or(Some(l)))
                    .map(str::to_owned);
                if let Some(upload) = upload.filter(|u| u.starts_with("v2/")) {
                    let _ = self
                        .call(reqwest::Method::DELETE, &upload, None, token)
                        .await;
                }
                Ok(false)
            }
            s => Err(status_error(s, &path)),
        }
    }

    /// Puts manifest `body` (of `media` type) under `tag` of `repo` with `token`.
    pub(super) async fn put_manifest(
        &self,
        repo: &str,
        tag: &str,
        media: &str,
        body: Vec<u8>,
        token: &str,
    ) -> Result<(), ReadError> {
        let path = format!("v2/{repo}/manifests/{tag}");
        let resp = self
            .http
            .put(format!("{}{path}", self.api_url))
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_TYPE, media)
            .body(body)
            .send()
            .await
            .map_err(|e| ReadError::Unreachable(e.to_string()))?;
        match resp.status().as_u16() {
            201 => Ok(()),
            s => Err(status_error(s, &path)),
        }
    }

    /// One request to the registry's API; answers its status and body (bounded).
    pub(super) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        accept: Option<&str>,
        token: &str,
    ) -> Result<(u16, Vec<u8>), ReadError> {
        let resp = self
            .send(method, format!("{}{path}", self.api_url), accept, token)
            .await?;
        let status = resp.status().as_u16();
        let body = read_bounded(resp, || ReadError::TooLarge {
            what: path.to_owned(),
        })
        .await?;
        Ok((status, body))
    }
}

pub(super) fn status_error(status: u16, what: &str) -> ReadError {
    ReadError::Status {
        status,
        what: what.to_owned(),
    }
}

/// What manifest `body` (read as `reference`, a digest or a tag) names. A document that does not
/// match the digest asked for, or that is no manifest tagstream reads, names nothing.
pub(super) fn names_of(reference: &str, body: &[u8]) -> Names {
    let digest = sha256(body);
    let mut names = Names {
        children: Vec::new(),
        blobs: Vec::new(),
        digest: digest.clone(),
    };
    if (!reference.starts_with("sha256:") || digest == reference)
        && let Ok(media) = manifest::media_type_of(None, body)
    {
        match manifest::parse(&media, body) {
            Ok(Parsed::List(index)) => {
                names.children = index
                    .manifests()
                    .iter()
                    .map(|c| c.digest().to_string())
                    .collect();
            }
            Ok(Parsed::Image(m)) => {
                names.blobs.push(m.config().digest().to_string());
                names
                    .blobs
                    .extend(m.layers().iter().map(|l| l.digest().to_string()));
            }
            Err(_) => {}
        }
    }
    // A manifest may name one blob many times: each is acted on once.
    names.children.sort_unstable();
    names.children.dedup();
    names.blobs.sort_unstable();
    names.blobs.dedup();
    names
}

/// What a manifest names, and its digest (as its bytes hash).
#[derive(Debug, Clone)]
pub(super) struct Names {
    /// A list's manifests.
    pub(super) children: Vec<String>,
    /// An image's config and layers.
    pub(super) blobs: Vec<String>,
    pub(super) digest: String,
}

#[derive(serde::Deserialize)]
pub(super) struct Catalog {
    #[serde(default)]
    pub(super) repositories: Vec<String>,
}

#[derive(serde::Deserialize)]
struct TagList {
    #[serde(default)]
    tags: Option<Vec<String>>,
}
