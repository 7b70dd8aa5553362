//! Purging a deleted stream's (or project's) repository from the integrated registry, so that
//! whoever next owns the name never gets the old images. The delete only records the purge
//! (`store::purges`, in its own transaction); this worker runs it through the registry's API
//! with a token tagstream signs for itself: each tag's and each remembered digest's manifest is
//! deleted (`DELETE /v2/<name>/manifests/<digest>`, which also untags it), with the blob links
//! it names, and a list's children likewise. A failed pass is retried with backoff (the
//! registry may be down); a pass counts as the last one only when it began after every token
//! issued before the delete ran out, since a holder of such a token may push until then. Until
//! that last pass succeeded the token server grants nothing on the name.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tagstream_shared::Time;
use tagstream_shared::image::media_type;

use super::Integrated;
use super::reader::ReadError;
use super::token::{Access, sign};
use crate::registry::client::{MAX_DOCUMENT_BYTES, sha256};
use crate::registry::manifest::{self, Parsed};
use crate::store::{DuePurge, PurgeOutcome};

/// Purges claimed at once.
const BATCH: u32 = 8;
/// The longest the worker sleeps without looking for due purges.
const IDLE: Duration = Duration::from_secs(30);
/// Seconds past the old tokens' expiry before the last pass: a push that began with one may
/// still be finishing.
const MARGIN: i64 = 2;
/// The longest wait between failed passes, in seconds.
const MAX_BACKOFF: i64 = 15;
/// The most manifests one pass deletes from one repository, and the most tags it lists.
const MAX_MANIFESTS: usize = 5_000;
/// Repositories and tags asked for per page.
const PAGE: usize = 100;

/// Starting and stopping the purge worker.
#[derive(Debug, Default)]
pub struct PurgeControl {
    stopped: AtomicBool,
    wake: tokio::sync::Notify,
}

impl Integrated {
    /// Starts the purge worker; it runs until [`Integrated::stop_purger`].
    pub fn start_purger(self: &Arc<Self>) {
        let me = Arc::clone(self);
        tokio::spawn(async move { me.run_purges().await });
    }

    pub fn stop_purger(&self) {
        self.purges.stopped.store(true, Ordering::SeqCst);
        self.purges.wake.notify_one();
    }

    async fn run_purges(self: Arc<Self>) {
        let mut changed = self.store.subscribe();
        while !self.purges.stopped.load(Ordering::SeqCst) {
            let now = Time::now().timestamp();
            let due = match self.store.due_purges(now, BATCH).await {
                Ok(d) => d,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the registry purges");
                    Vec::new()
                }
            };
            if !due.is_empty() {
                for purge in &due {
                    let outcome = self.pass(purge).await;
                    if let Err(e) = self.store.finish_purge(purge, outcome).await {
                        tracing::warn!(error = %e, repository = %purge.repository, "cannot record a registry purge");
                    }
                }
                continue;
            }
            let wait = match self.store.next_purge_due().await {
                Ok(Some(at)) => {
                    Duration::from_secs(u64::try_from(at.saturating_sub(now)).unwrap_or(0).max(1))
                        .min(IDLE)
                }
                _ => IDLE,
            };
            tokio::select! {
                _ = changed.changed() => {}
                () = self.purges.wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// One pass over `purge`, and what to record of it.
    async fn pass(&self, purge: &DuePurge) -> PurgeOutcome {
        let started = Time::now().timestamp();
        let settled = purge
            .created
            .saturating_add(i64::try_from(self.config.token_seconds).unwrap_or(i64::MAX))
            .saturating_add(MARGIN);
        let result = match purge.repository.strip_suffix('/') {
            Some(project) => self.purge_project(project, started).await,
            None => {
                self.purge_repository(&purge.repository, &purge.digests, started)
                    .await
            }
        };
        match result {
            Ok(deleted) => {
                tracing::info!(repository = %purge.repository, deleted, "registry repository purged");
                if started >= settled {
                    PurgeOutcome::Done
                } else {
                    PurgeOutcome::Again {
                        at: settled,
                        error: None,
                    }
                }
            }
            Err(e) => {
                let wait = 1i64 << purge.attempts.min(4);
                tracing::warn!(repository = %purge.repository, error = %e, "cannot purge a registry repository yet");
                PurgeOutcome::Again {
                    at: started.saturating_add(wait.min(MAX_BACKOFF)),
                    error: Some(e.to_string()),
                }
            }
        }
    }

    fn self_token(
        &self,
        kind: &'static str,
        name: &str,
        actions: Vec<&'static str>,
        now: i64,
    ) -> Result<String, ReadError> {
        let access = [Access {
            kind,
            name: name.to_owned(),
            actions,
        }];
        sign(
            &self.keys,
            &self.config.issuer,
            &self.config.service,
            crate::audit::SERVER,
            &access,
            now,
            120,
        )
        .map_err(|e| ReadError::Token(e.to_string()))
    }

    /// Every repository under `project/` (as the registry's catalog lists them).
    async fn purge_project(&self, project: &str, now: i64) -> Result<usize, ReadError> {
        let token = self.self_token("registry", "catalog", vec!["*"], now)?;
        let prefix = format!("{project}/");
        let mut last = prefix.clone();
        let mut deleted = 0;
        loop {
            let path = format!("v2/_catalog?n={PAGE}&last={last}");
            let (status, body) = self.call(reqwest::Method::GET, &path, None, &token).await?;
            if status != 200 {
                return Err(status_error(status, &path));
            }
            let page: Catalog =
                serde_json::from_slice(&body).map_err(|_| status_error(status, &path))?;
            let count = page.repositories.len();
            for repo in page
                .repositories
                .iter()
                .take_while(|r| r.starts_with(&prefix))
            {
                deleted += self.purge_repository(repo, &[], now).await?;
            }
            match page.repositories.last() {
                Some(l) if count >= PAGE && l.starts_with(&prefix) => last.clone_from(l),
                _ => return Ok(deleted),
            }
        }
    }

    /// Deletes every manifest `repo`'s tags name, and `digests`, with the blob links they name;
    /// answers how many manifests went.
    async fn purge_repository(
        &self,
        repo: &str,
        digests: &[String],
        now: i64,
    ) -> Result<usize, ReadError> {
        let token = self.self_token("repository", repo, vec!["pull", "delete"], now)?;
        let mut queue: Vec<String> = digests.to_vec();
        for tag in self.tags(repo, &token).await? {
            let path = format!("v2/{repo}/manifests/{tag}");
            let (status, digest) = self.head_manifest(&path, &token).await?;
            match (status, digest) {
                (200, Some(d)) if !queue.contains(&d) => queue.push(d),
                (200 | 404, _) => {}
                (s, _) => return Err(status_error(s, &path)),
            }
        }
        let mut deleted = 0;
        let mut i = 0;
        while i < queue.len() && i < MAX_MANIFESTS {
            let digest = queue[i].clone();
            i += 1;
            let path = format!("v2/{repo}/manifests/{digest}");
            let accept = media_type::ALL.join(", ");
            let (status, body) = self
                .call(reqwest::Method::GET, &path, Some(&accept), &token)
                .await?;
            match status {
                404 => continue,
                200 => {}
                s => return Err(status_error(s, &path)),
            }
            let mut blobs = Vec::new();
            if sha256(&body) == digest
                && let Ok(media) = manifest::media_type_of(None, &body)
            {
                match manifest::parse(&media, &body) {
                    Ok(Parsed::List(index)) => {
                        for child in index.manifests() {
                            let d = child.digest().to_string();
                            if !queue.contains(&d) {
                                queue.push(d);
                            }
                        }
                    }
                    Ok(Parsed::Image(m)) => {
                        blobs.push(m.config().digest().to_string());
                        blobs.extend(m.layers().iter().map(|l| l.digest().to_string()));
                    }
                    Err(_) => {}
                }
            }
            // The blob links first: once the manifest is gone a retry could not find them.
            for blob in blobs {
                let path = format!("v2/{repo}/blobs/{blob}");
                let (status, _) = self
                    .call(reqwest::Method::DELETE, &path, None, &token)
                    .await?;
                if !matches!(status, 202 | 404) {
                    return Err(status_error(status, &path));
                }
            }
            let (status, _) = self
                .call(reqwest::Method::DELETE, &path, None, &token)
                .await?;
            match status {
                202 => deleted += 1,
                404 => {}
                s => return Err(status_error(s, &path)),
            }
        }
        Ok(deleted)
    }

    /// `repo`'s tags (none when the registry does not know it).
    async fn tags(&self, repo: &str, token: &str) -> Result<Vec<String>, ReadError> {
        let mut all: Vec<String> = Vec::new();
        loop {
            let mut path = format!("v2/{repo}/tags/list?n={PAGE}");
            if let Some(last) = all.last() {
                path.push_str(&format!("&last={last}"));
            }
            let (status, body) = self.call(reqwest::Method::GET, &path, None, token).await?;
            match status {
                404 => return Ok(all),
                200 => {}
                s => return Err(status_error(s, &path)),
            }
            let page: TagList =
                serde_json::from_slice(&body).map_err(|_| status_error(status, &path))?;
            let tags = page.tags.unwrap_or_default();
            let count = tags.len();
            all.extend(tags);
            if count < PAGE || all.len() >= MAX_MANIFESTS {
                return Ok(all);
            }
        }
    }

    /// The status of a HEAD of `path` (a manifest by tag) and the digest it names.
    async fn head_manifest(
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

    /// One request to the registry's API; answers its status and body (bounded).
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        accept: Option<&str>,
        token: &str,
    ) -> Result<(u16, Vec<u8>), ReadError> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.api_url))
            .bearer_auth(token);
        if let Some(a) = accept {
            req = req.header(reqwest::header::ACCEPT, a);
        }
        let mut resp = req
            .send()
            .await
            .map_err(|e| ReadError::Unreachable(e.to_string()))?;
        let status = resp.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| ReadError::Unreachable(e.to_string()))?
        {
            if (body.len() + chunk.len()) as u64 > MAX_DOCUMENT_BYTES {
                return Err(ReadError::TooLarge {
                    what: path.to_owned(),
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, body))
    }
}

fn status_error(status: u16, what: &str) -> ReadError {
    ReadError::Status {
        status,
        what: what.to_owned(),
    }
}

#[derive(serde::Deserialize)]
struct Catalog {
    #[serde(default)]
    repositories: Vec<String>,
}

#[derive(serde::Deserialize)]
struct TagList {
    #[serde(default)]
    tags: Option<Vec<String>>,
}
