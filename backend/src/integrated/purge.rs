//! Purging a deleted stream's (or project's) repository from the integrated registry, so that
//! whoever next owns the name never gets the old images. The delete only records the purge
//! (`store::purges`, in its own transaction); this worker runs it through the registry's API
//! with a token tagstream signs for itself: each tag's manifest, each digest the stream's history
//! named and each manifest the registry's notifications said was pushed to the repository
//! (tagged or not, `store::purges`) is deleted (`DELETE /v2/<name>/manifests/<digest>`, which
//! also untags it), with the blob links it names, and a list's children likewise; so is the
//! link of each blob the notifications said was pushed or mounted there alone; the records of
//! the deleted manifests and blobs are forgotten. A failed pass is retried with backoff (the registry may
//! be down); a pass counts as the last one only when it began after every token issued before
//! the delete ran out (and the registry's minute of leeway past that), since a holder of such a
//! token may push until then, and when it left
//! nothing behind: a pass does at most [`MAX_MANIFESTS`] manifests, and the next one goes on
//! where it stopped. Until that last pass succeeded the token server grants nothing on the
//! name. The worker renews its claims while passes run, so no other replica takes them over.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tagstream_shared::Time;

use super::Integrated;
use super::purge_api::{Catalog, PAGE, status_error};
use super::reader::ReadError;
use crate::store::{DuePurge, PurgeOutcome, Pushed, StoreError};
use crate::workers::{due_or_none, pause, wait_for};

/// Purges claimed at once.
const BATCH: u32 = 8;
/// The longest the worker sleeps without looking for due purges.
const IDLE: Duration = Duration::from_secs(30);
/// Seconds past the old tokens' expiry before the last pass: a push that began with one may
/// still be finishing.
const MARGIN: i64 = 2;
/// How long past its `exp` the registry still takes a token: distribution allows a minute of
/// clock skew (`leeway` in its token verification), so an old token works that much longer.
pub const REGISTRY_LEEWAY: i64 = 60;
/// The longest wait between failed passes, in seconds.
const MAX_BACKOFF: i64 = 15;
/// The most manifests one pass deletes (over every repository it covers), the most tags it lists
/// in one repository and the most recorded pushes it reads: the rest waits for the next pass.
pub(super) const MAX_MANIFESTS: usize = 5_000;

/// The life of the tokens the purge signs for itself, in seconds.
const SELF_TOKEN_SECONDS: u64 = 120;

/// A token the purge signed for itself, and when.
#[derive(Default)]
struct SelfToken(Option<(String, Instant)>);

/// Why a pass failed: the registry, or the store holding the recorded pushes.
#[derive(Debug, thiserror::Error)]
enum PassError {
    #[error(transparent)]
    Registry(#[from] ReadError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a pass may still do, and whether it did everything.
struct Budget {
    left: usize,
    complete: bool,
}

impl Budget {
    fn new() -> Self {
        Self {
            left: MAX_MANIFESTS,
            complete: true,
        }
    }

    /// Takes one manifest; false when none is left (the pass then did not do everything).
    fn take(&mut self) -> bool {
        if self.left == 0 {
            self.complete = false;
            return false;
        }
        self.left -= 1;
        true
    }
}

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

    /// Makes the purge worker look for due work now (a refused push was recorded).
    pub(super) fn wake_purger(&self) {
        self.purges.wake.notify_one();
    }

    pub fn stop_purger(&self) {
        self.purges.stopped.store(true, Ordering::SeqCst);
        self.purges.wake.notify_one();
    }

    async fn run_purges(self: Arc<Self>) {
        let mut changed = self.store.subscribe();
        // While this server was down the registry kept its notifications and sends them again
        // now: a refused push waits for them as for any just received (`refused`), not taken
        // for quiet because the last one came before the outage (review 8 C1).
        if let Err(e) = self.store.heard(None, Time::now().timestamp()).await {
            tracing::warn!(error = %e, "cannot record the start against the registry's notifications");
        }
        while !self.purges.stopped.load(Ordering::SeqCst) {
            let now = Time::now().timestamp();
            // Refused pushes first, a batch at a time, purges after each batch: neither waits
            // for all of the other.
            let more_refused = self.take_out_due(now).await;
            let more_held = self.let_go_due(Time::now().timestamp()).await;
            let due = due_or_none(
                self.store.due_purges(now, BATCH).await,
                "the registry purges",
            );
            if !due.is_empty() {
                let claimed: Vec<String> = due.iter().map(|p| p.repository.clone()).collect();
                let passes = async {
                    for purge in &due {
                        let outcome = self.pass(purge).await;
                        if let Err(e) = self.store.finish_purge(purge, outcome).await {
                            tracing::warn!(error = %e, repository = %purge.repository, "cannot record a registry purge");
                        }
                    }
                };
                // The batch's claims are renewed until its last pass is recorded (`renew`
                // never ends): a pass over thousands of manifests may outlast a lease, and
                // another replica must not purge the same repository meanwhile.
                tokio::select! {
                    () = passes => {}
                    () = self.renew(&claimed) => {}
                }
                continue;
            }
            if more_refused || more_held {
                continue;
            }
            let purge = self.store.next_purge_due().await.ok().flatten();
            let refusal = self.store.next_refusal_due().await.ok().flatten();
            let held = self.next_hold_due().await;
            let next = purge.into_iter().chain(refusal).chain(held).min();
            pause(&mut changed, &self.purges.wake, wait_for(next, now, IDLE)).await;
        }
    }

    /// Extends this replica's claims on `repositories` every third of a lease; never returns.
    async fn renew(&self, repositories: &[String]) {
        let every = Duration::from_secs(self.store.lease_seconds() / 3).max(Duration::from_secs(1));
        loop {
            tokio::time::sleep(every).await;
            if let Err(e) = self
                .store
                .renew_purges(repositories, Time::now().timestamp())
                .await
            {
                tracing::warn!(error = %e, "cannot renew the claims on registry purges");
            }
        }
    }

    /// One pass over `purge`, and what to record of it.
    async fn pass(&self, purge: &DuePurge) -> PurgeOutcome {
        let started = Time::now().timestamp();
        let settled = purge
            .created
            .saturating_add(i64::try_from(self.config.token_seconds).unwrap_or(i64::MAX))
            .saturating_add(REGISTRY_LEEWAY)
            .saturating_add(MARGIN);
        let mut budget = Budget::new();
        let result = self.purge_all(purge, &mut budget).await;
        match result {
            Ok(deleted) => {
                tracing::info!(repository = %purge.repository, deleted, complete = budget.complete, "registry repository purged");
                if !budget.complete {
                    // More to delete: the next pass goes on at once (a second later, so that
                    // a repository that keeps failing to empty cannot spin).
                    PurgeOutcome::Again {
                        at: Time::now().timestamp().saturating_add(1),
                        error: None,
                    }
                } else if started >= settled {
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

    /// `token`, signed again for `kind:name:actions` when it is older than half its life: a
    /// pass may outlast one.
    fn self_token(
        &self,
        token: &mut SelfToken,
        kind: &'static str,
        name: &str,
        actions: &[&'static str],
    ) -> Result<String, ReadError> {
        if let Some((jwt, signed)) = &token.0
            && signed.elapsed() < Duration::from_secs(SELF_TOKEN_SECONDS / 2)
        {
            return Ok(jwt.clone());
        }
        let jwt = self.own_token(kind, name, actions, SELF_TOKEN_SECONDS)?;
        token.0 = Some((jwt.clone(), Instant::now()));
        Ok(jwt)
    }

    /// Purges `purge`'s repository (or its project's), the pushes recorded there included;
    /// answers how many manifests went. Pushes recorded meanwhile (or beyond what the pass
    /// read) leave it incomplete.
    async fn purge_all(&self, purge: &DuePurge, budget: &mut Budget) -> Result<usize, PassError> {
        let limit = u32::try_from(MAX_MANIFESTS).unwrap_or(u32::MAX);
        let pushed = self.store.pushed(&purge.repository, limit).await?;
        let deleted = match purge.repository.strip_suffix('/') {
            Some(project) => self.purge_project(project, &pushed, budget).await?,
            None => {
                self.purge_repository(&purge.repository, &purge.digests, &pushed, budget)
                    .await?
            }
        };
        if !self.store.pushed(&purge.repository, 1).await?.is_empty() {
            budget.complete = false;
        }
        Ok(deleted)
    }

    /// Every repository under `project/`, as the registry's catalog lists them and as pushes
    /// were recorded to.
    async fn purge_project(
        &self,
        project: &str,
        pushed: &[Pushed],
        budget: &mut Budget,
    ) -> Result<usize, PassError> {
        let mut token = SelfToken::default();
        let prefix = format!("{project}/");
        let mut last = prefix.clone();
        let mut deleted = 0;
        let mut done: HashSet<String> = HashSet::new();
        let of = |repo: &str| -> Vec<Pushed> {
            pushed
                .iter()
                .filter(|p| p.repository == repo)
                .cloned()
                .collect()
        };
        loop {
            let path = format!("v2/_catalog?n={PAGE}&last={last}");
            let jwt = self.self_token(&mut token, "registry", "catalog", &["*"])?;
            let (status, body) = self.call(reqwest::Method::GET, &path, None, &jwt).await?;
            if status != 200 {
                return Err(status_error(status, &path).into());
            }
            let page: Catalog =
                serde_json::from_slice(&body).map_err(|_| status_error(status, &path))?;
            let count = page.repositories.len();
            for repo in page
                .repositories
                .iter()
                .take_while(|r| r.starts_with(&prefix))
            {
                if budget.left == 0 {
                    budget.complete = false;
                    return Ok(deleted);
                }
                deleted += self.purge_repository(repo, &[], &of(repo), budget).await?;
                done.insert(repo.clone());
            }
            match page.repositories.last() {
                Some(l) if count >= PAGE && l.starts_with(&prefix) => last.clone_from(l),
                _ => break,
            }
        }
        // Repositories the catalog did not list, but pushes were recorded to.
        let mut rest: Vec<&str> = pushed
            .iter()
            .map(|p| p.repository.as_str())
            .filter(|r| !done.contains(*r))
            .collect();
        rest.dedup();
        for repo in rest {
            if budget.left == 0 {
                budget.complete = false;
                break;
            }
            deleted += self.purge_repository(repo, &[], &of(repo), budget).await?;
        }
        Ok(deleted)
    }

    /// Deletes every manifest `repo`'s tags name, `digests` and `pushed` (recorded there), with
    /// the blob links they name, and forgets the records of those gone; answers how many
    /// manifests went.
    async fn purge_repository(
        &self,
        repo: &str,
        digests: &[String],
        pushed: &[Pushed],
        budget: &mut Budget,
    ) -> Result<usize, PassError> {
        let mut token = SelfToken::default();
        let actions = ["pull", "delete"];
        let jwt = self.self_token(&mut token, "repository", repo, &actions)?;
        let recorded: HashMap<&str, &Pushed> =
            pushed.iter().map(|p| (p.digest.as_str(), p)).collect();
        let mut queue: Vec<String> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        let mut add = |d: &str, queue: &mut Vec<String>| {
            if seen.insert(d.to_owned()) {
                queue.push(d.to_owned());
            }
        };
        for d in digests.iter().chain(pushed.iter().map(|p| &p.digest)) {
            add(d, &mut queue);
        }
        let (tags, listed_all) = self.tags(repo, &jwt).await?;
        if !listed_all {
            budget.complete = false;
        }
        for tag in tags {
            let path = format!("v2/{repo}/manifests/{tag}");
            let jwt = self.self_token(&mut token, "repository", repo, &actions)?;
            let (status, digest) = self.head_manifest(&path, &jwt).await?;
            match (status, digest) {
                (200, Some(d)) => add(&d, &mut queue),
                (200 | 404, _) => {}
                (s, _) => return Err(status_error(s, &path).into()),
            }
        }
        let mut deleted = 0;
        let mut i = 0;
        while i < queue.len() && budget.take() {
            let digest = queue[i].clone();
            i += 1;
            let jwt = self.self_token(&mut token, "repository", repo, &actions)?;
            if recorded.contains_key(digest.as_str()) {
                // A recorded digest may be a blob pushed or mounted alone: its link goes first.
                // (The registry reads a manifest through a blob's link too, and fails on one
                // that is no manifest; without the link it answers 404.)
                self.delete_blob(repo, &digest, &jwt).await?;
            }
            if let Some(names) = self.manifest_names(repo, &digest, &jwt).await? {
                for child in &names.children {
                    add(child, &mut queue);
                }
                // The blob links first: once the manifest is gone a retry could not find them.
                for blob in &names.blobs {
                    self.delete_blob(repo, blob, &jwt).await?;
                }
                let path = format!("v2/{repo}/manifests/{digest}");
                let (status, _) = self
                    .call(reqwest::Method::DELETE, &path, None, &jwt)
                    .await?;
                match status {
                    202 => deleted += 1,
                    404 => {}
                    s => return Err(status_error(s, &path).into()),
                }
            }
            // Gone from the registry: its record goes (unless it was pushed again since).
            if let Some(p) = recorded.get(digest.as_str()) {
                self.store.forget_push(p).await?;
            }
        }
        Ok(deleted)
    }
}
