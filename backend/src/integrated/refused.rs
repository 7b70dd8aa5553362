//! What a refused push left in the registry, taken out again. The registry takes whatever a valid
//! token allows, and a token outlives a removed role (and an upload begun before a delete may
//! land after the name's purge); tagstream reads the pusher's rights again when the notification
//! comes (`push::refusal`), and what it refuses must not stay pullable:
//! - a refused manifest is deleted (which untags it), with the blob links it alone uses, and a
//!   tag it overwrote is put back on the image the stream's tag holds: not at once but
//!   [`REFUSAL_DELAY_SECONDS`] later (recorded in `store::refusals`, done by the purge worker),
//!   so that the notifications queued behind it are read first; if one of them was a rightful
//!   push of the same image, the stream holds it by then and it stays;
//! - a refused blob (pushed or mounted with no manifest yet, or landing late) loses its link,
//!   as late, unless a manifest of the repository uses it.
//!
//! "Uses" is read from the registry, not only from notifications: a rightful push of an image
//! sharing that layer may be in the registry before its notification comes (they are queued in
//! order), and deleting the link then would break it. A manifest the stream holds, or a registry
//! tag names, counts; the refused manifest itself does not. What someone who may push there
//! pushed, and every blob a manifest they pushed names, is "vouched" (`push::vouch`) and asked of
//! the store digest by digest, just before each delete; a delete the registry tells of withdraws
//! the vouch (`push::withdraw`).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt as _;

use tagstream_shared::{ImageStream, ProjectName, StreamName, Time};

use super::Integrated;
use super::events::Push;
use super::in_use::Reads;
use super::purge_api::names_of;
use super::push::PushError;
use crate::app::AppState;
use crate::registry::manifest;
use crate::store::{Objects as _, Refusal, Store, StoreError, Vouch};

/// The most images of a stream's history read to find a list naming a refused image: beyond
/// that, the image is taken as held (kept for the name's purge) rather than read on and on.
const MAX_HELD_READ: usize = 1_000;

/// What the log says of a refused blob kept because it is vouched for.
const BLOB_VOUCHED: &str = "a refused push was checked: the blob stays, someone who may push there pushed it, or an image they pushed uses it";

/// The life of the token tagstream signs itself to take a refused push out.
const OWN_TOKEN_SECONDS: u64 = 120;

/// How long after its notification a refused manifest is taken out of the registry: long enough
/// for the notifications queued behind it to be read first (a rightful push of the same image,
/// when the registry had a backlog, makes the stream hold it, and then it stays).
pub const REFUSAL_DELAY_SECONDS: i64 = 10;

/// How long without an envelope of notifications counts as having read them all: the registry
/// sends its backlog one envelope after the other (giving up on one after 5 s, trying again a
/// second later), so a quiet this long means none is queued.
const QUIET_SECONDS: i64 = 10;

/// The longest a refused push waits for the notifications queued behind it (when one keeps
/// failing, `newest` stops and envelopes keep coming): then it is taken out anyway, and what it
/// deletes is held (`held`) for the rightful pushes still queued (review 8 C3).
const MOST_WAIT_SECONDS: i64 = 300;

/// How long a refused push waiting for the notifications behind it waits before it is looked
/// at again.
const WAIT_SECONDS: i64 = 2;

/// How long after a failed try (the registry is down) a refused manifest is tried again.
const RETRY_SECONDS: i64 = 15;

/// The most refused pushes of one repository taken out in one batch (they share what they read
/// of it).
const PER_REPOSITORY: u32 = 16;

/// The most refused pushes read at once: several repositories' turns (review 10 F1: a flood in
/// one repository used to fill the whole batch, and the others' waited behind it for minutes).
const BATCH: u32 = PER_REPOSITORY * 4;

/// Repositories whose refused pushes are taken out side by side.
const REPOSITORIES_AT_ONCE: usize = 4;

/// How long a batch starts new take-outs: what it has not started by then stays due for the
/// next, so that a repository with a refusal due meanwhile waits for the take-outs under way,
/// not for a flood's whole turn (review 12 G1).
const BATCH_TIME: Duration = Duration::from_secs(10);

/// Records the refused push `push` (a manifest or a blob) to be taken out of the registry once
/// due.
pub(super) async fn later(
    state: &AppState,
    integrated: &Integrated,
    push: &Push,
) -> Result<(), PushError> {
    let refusal = Refusal {
        repository: push.repository.clone(),
        digest: push.digest.clone(),
        tag: push.tag.as_ref().map(ToString::to_string),
        blob: push.blob,
        due: state.clock.now().timestamp() + REFUSAL_DELAY_SECONDS,
        pushed: push
            .at
            .as_ref()
            .map_or_else(|| state.clock.now().timestamp(), Time::timestamp),
        seen: 0,
    };
    state.store.refuse_later(&refusal).await?;
    integrated.wake_purger();
    Ok(())
}

impl Integrated {
    /// Takes out the refused pushes due at `now`; answers whether a whole batch or a
    /// repository's whole turn was due, or the batch left some for the next (more may be).
    pub(super) async fn take_out_due(&self, now: i64) -> bool {
        let due = match self.store.due_refusals(now, PER_REPOSITORY, BATCH).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the refused pushes");
                return false;
            }
        };
        // A refused push is taken out only once the notifications queued behind it were read:
        // those of pushes [`REFUSAL_DELAY_SECONDS`] after it, or all of them (none came for
        // [`QUIET_SECONDS`]). A rightful push of the same image, or one using its layers, may
        // be among them, however long the registry's backlog (review 7 B1).
        let heard = match self.store.last_heard().await {
            Ok(heard) => heard,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read how far the registry's notifications were read");
                return false;
            }
        };
        // A repository whose turn was full may have more due, as may any if the batch was.
        let mut turns: BTreeMap<&str, u32> = BTreeMap::new();
        for r in &due {
            *turns.entry(r.repository.as_str()).or_default() += 1;
        }
        let more = due.len() >= BATCH as usize || turns.values().any(|&n| n >= PER_REPOSITORY);
        let (ready, waiting): (Vec<&Refusal>, Vec<&Refusal>) = due
            .iter()
            .partition(|r| heard_behind(r, heard, now) || waited_most(r, now));
        if !waiting.is_empty() {
            tracing::info!(
                waiting = waiting.len(),
                "refused pushes wait for the notifications queued behind them"
            );
        }
        for r in &ready {
            if !heard_behind(r, heard, now) {
                tracing::warn!(repository = %r.repository, digest = %r.digest, "a refused push is taken out without waiting longer for the notifications queued behind it: they have not been read for {MOST_WAIT_SECONDS} s (is a notification failing?); what it deletes is held for a rightful push's notification still to come");
            }
        }
        for refusal in waiting {
            if let Err(e) = self
                .store
                .postpone_refusal(refusal, now + WAIT_SECONDS)
                .await
            {
                tracing::warn!(repository = %refusal.repository, error = %e, "cannot record a refused push");
            }
        }
        // One repository's refusals one after the other, sharing what they read (refusals come
        // in bursts, most of them in one repository); repositories side by side, those with the
        // fewest first, so that a flood spread over many holds up each one less.
        let mut by_repository: BTreeMap<&str, Vec<&Refusal>> = BTreeMap::new();
        for refusal in ready {
            by_repository
                .entry(refusal.repository.as_str())
                .or_default()
                .push(refusal);
        }
        let mut repositories: Vec<Vec<&Refusal>> = by_repository.into_values().collect();
        repositories.sort_by_key(Vec::len);
        let started = Instant::now();
        let left = AtomicBool::new(false);
        futures::stream::iter(repositories)
            .for_each_concurrent(REPOSITORIES_AT_ONCE, |refusals| {
                let left = &left;
                async move {
                    let mut reads = Reads::default();
                    for refusal in refusals {
                        if started.elapsed() >= BATCH_TIME {
                            left.store(true, Ordering::Relaxed);
                            break;
                        }
                        reads.heard_moves(self.moves.of(&refusal.repository));
                        self.take_out_one(refusal, now, &mut reads).await;
                    }
                }
            })
            .await;
        more || left.load(Ordering::Relaxed)
    }

    /// Takes out `refusal` and forgets it, or puts it off if the registry cannot be read.
    async fn take_out_one(&self, refusal: &Refusal, now: i64, reads: &mut Reads) {
        let done = match self.take_out(refusal, reads).await {
            Ok(()) => self.store.forget_refusal(refusal).await,
            Err(e) => {
                tracing::warn!(repository = %refusal.repository, digest = %refusal.digest, error = %e, "cannot take a refused push out of the registry yet");
                self.store
                    .postpone_refusal(refusal, now + RETRY_SECONDS)
                    .await
            }
        };
        if let Err(e) = done {
            tracing::warn!(repository = %refusal.repository, error = %e, "cannot record a refused push");
        }
    }

    /// Deletes the manifest of a refused push from the registry, so that it cannot be pulled by
    /// the tag it moved there (nor by digest), unless the stream holds that image in some tag's
    /// history by now (then the registry's tag names an image tagstream also names); then the
    /// blob links only it used. The pushed tag, if it still names the refused image, goes back
    /// to the stream's image.
    async fn take_out(&self, refusal: &Refusal, reads: &mut Reads) -> Result<(), PushError> {
        let repo = &refusal.repository;
        let digest = &refusal.digest;
        let Some((ns, name)) = repo.split_once('/').and_then(|(p, s)| {
            Some((
                p.parse::<ProjectName>().ok()?,
                s.parse::<StreamName>().ok()?,
            ))
        }) else {
            return Ok(());
        };
        // The name's purge deletes it (every push is recorded for it).
        if self.store.purge_pending(repo).await? {
            return Ok(());
        }
        let stream = stream(self.store.as_ref(), &ns, &name).await?;
        let digests = held_digests(stream.as_ref());
        let jwt = self.own_token(
            "repository",
            repo,
            &["pull", "push", "delete"],
            OWN_TOKEN_SECONDS,
        )?;
        if refusal.blob {
            return self.unlink(repo, digest, &digests, &jwt, reads).await;
        }
        // A tag pushed again since names another image: that push is not this one's to undo. A
        // tag naming nothing is put back too: a try that failed after deleting the manifest
        // (which untags it) left it so.
        let tag = match &refusal.tag {
            Some(tag) => {
                let path = format!("v2/{repo}/manifests/{tag}");
                let (_, named) = self.head_manifest(&path, &jwt).await?;
                Some(tag).filter(|_| named.as_deref().is_none_or(|n| n == digest))
            }
            None => None,
        };
        let vouch = self.store.vouch_of(repo, digest).await?;
        // What its owner deleted from the registry is not kept for the stream's history naming
        // it: a refused push must not bring it back.
        if vouch == Vouch::Vouched {
            tracing::info!(repository = %repo, digest = %digest, "a refused push was checked: it stays, someone who may push there pushed it too");
        } else if vouch != Vouch::Withdrawn && holds(self.store.as_ref(), &digests, digest).await? {
            tracing::info!(repository = %repo, digest = %digest, "a refused push was checked: it stays, the stream holds its image");
        } else {
            // The blob links only it uses first: once the manifest is gone a retry could not
            // find them.
            let body = self.manifest_bytes(repo, digest, &jwt).await?;
            if let Some(refused) = body.as_deref().map(|b| names_of(digest, b))
                && !refused.blobs.is_empty()
            {
                match self
                    .blobs_in_use(repo, &digests, Some(digest), &jwt, reads)
                    .await?
                {
                    Some(used) => {
                        let only: BTreeSet<&String> = refused
                            .blobs
                            .iter()
                            .filter(|b| !used.contains(*b))
                            .collect();
                        for blob in only {
                            // Asked just before: a rightful push using it may have been heard
                            // since the registry was read.
                            if !self.store.is_vouched(repo, blob).await? {
                                self.hold_blob(repo, blob).await?;
                                // And again once held: a rightful push vouches before it
                                // puts back (review 10 F2).
                                if !self.store.is_vouched(repo, blob).await? {
                                    self.delete_blob(repo, blob, &jwt).await?;
                                }
                            }
                        }
                    }
                    None => {
                        tracing::warn!(repository = %repo, digest = %digest, "too many manifests to tell which of a refused image's blobs are used: its blob links stay until the name's purge");
                    }
                }
            }
            if let Some(body) = body
                && let Ok(media) = manifest::media_type_of(None, &body)
            {
                self.hold_manifest(repo, digest, body, media).await?;
            }
            let deleted = self.delete_manifest(repo, digest).await?;
            reads.deleted(repo, digest);
            tracing::info!(repository = %repo, digest = %digest, deleted, "a refused push was checked: its manifest was deleted from the registry");
        }
        if let Some(tag) = tag {
            self.put_back(repo, &ns, &name, tag, digest, &jwt).await?;
            reads.moved(repo, tag);
        }
        Ok(())
    }
}

/// Whether the notifications queued behind refused push `r` were read by `now`, from `heard`
/// (the registry's time of the newest notification applied, and when one last came): those of
/// pushes [`REFUSAL_DELAY_SECONDS`] after it, or all of them (none came for [`QUIET_SECONDS`]).
fn heard_behind(r: &Refusal, heard: Option<(i64, i64)>, now: i64) -> bool {
    heard.is_none_or(|(newest, received)| {
        newest >= r.pushed + REFUSAL_DELAY_SECONDS || now - received >= QUIET_SECONDS
    })
}

/// Whether refused push `r` waited as long as it may for the notifications behind it.
fn waited_most(r: &Refusal, now: i64) -> bool {
    now - r.pushed >= REFUSAL_DELAY_SECONDS + MOST_WAIT_SECONDS
}

pub(super) async fn stream(
    store: &dyn Store,
    ns: &ProjectName,
    name: &StreamName,
) -> Result<Option<ImageStream>, PushError> {
    match store.get::<ImageStream>(Some(ns), name.as_ref()).await {
        Ok(stream) => Ok(Some(stream)),
        Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Every digest in `stream`'s tags' histories, once each.
fn held_digests(stream: Option<&ImageStream>) -> Vec<String> {
    let mut seen: HashSet<&str> = HashSet::new();
    stream
        .into_iter()
        .flat_map(|s| s.status.tags.iter())
        .flat_map(|t| t.items.iter())
        .filter(|i| seen.insert(&i.image))
        .map(|i| i.image.clone())
        .collect()
}

/// Whether `held` (a stream's history) has `digest`, or an image list there names it.
async fn holds(store: &dyn Store, held: &[String], digest: &str) -> Result<bool, PushError> {
    if held.iter().any(|d| d == digest) {
        return Ok(true);
    }
    if held.len() > MAX_HELD_READ {
        return Ok(true);
    }
    for d in held {
        if let Some(image) = store.get_image(d).await?
            && image
                .docker_image_manifests
                .iter()
                .any(|c| c.digest == digest)
        {
            return Ok(true);
        }
    }
    Ok(false)
}

impl Integrated {
    /// Deletes `repo`'s link to the refused blob `digest`, unless a manifest of the repository
    /// uses it (`held` being the stream's history).
    async fn unlink(
        &self,
        repo: &str,
        digest: &str,
        held: &[String],
        jwt: &str,
        reads: &mut Reads,
    ) -> Result<(), PushError> {
        if self.store.is_vouched(repo, digest).await? {
            tracing::info!(repository = %repo, digest = %digest, "{BLOB_VOUCHED}");
            return Ok(());
        }
        match self.blobs_in_use(repo, held, None, jwt, reads).await? {
            Some(used) if used.contains(digest) => {
                tracing::info!(repository = %repo, digest = %digest, "a refused push was checked: the blob stays, a manifest of the repository uses it");
            }
            // Asked again just before: a rightful push using it may have been heard since.
            Some(_) if self.store.is_vouched(repo, digest).await? => {
                tracing::info!(repository = %repo, digest = %digest, "{BLOB_VOUCHED}");
            }
            Some(_) => {
                self.hold_blob(repo, digest).await?;
                if self.store.is_vouched(repo, digest).await? {
                    tracing::info!(repository = %repo, digest = %digest, "{BLOB_VOUCHED}");
                    return Ok(());
                }
                let deleted = self.delete_blob(repo, digest, jwt).await?;
                tracing::info!(repository = %repo, digest = %digest, deleted, "a refused push was checked: the blob's link was deleted from the registry");
            }
            None => {
                tracing::warn!(repository = %repo, digest = %digest, "too many manifests to tell whether a refused blob is used: its link stays until the name's purge");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pushed_at(pushed: i64) -> Refusal {
        Refusal {
            repository: "demo/app".into(),
            digest: format!("sha256:{}", "a".repeat(64)),
            tag: None,
            blob: false,
            due: pushed + REFUSAL_DELAY_SECONDS,
            pushed,
            seen: 0,
        }
    }

    #[test]
    fn a_refused_push_waits_for_the_notifications_behind_it_but_not_for_ever() {
        let r = pushed_at(1_000);
        // Envelopes keep coming, none stamped 10 s after the push yet: it waits.
        let busy = Some((1_005, 1_020));
        assert!(!heard_behind(&r, busy, 1_020));
        assert!(!waited_most(&r, 1_020));
        // One stamped 10 s after it was applied: ready.
        assert!(heard_behind(&r, Some((1_010, 1_020)), 1_020));
        // None came for 10 s: ready.
        assert!(heard_behind(&r, Some((1_005, 1_020)), 1_030));
        // One keeps failing (envelopes come, `newest` stays): it waits, then no longer.
        let stuck = |now: i64| Some((1_005, now - 1));
        assert!(!heard_behind(&r, stuck(1_200), 1_200));
        assert!(!waited_most(&r, 1_309));
        assert!(!heard_behind(&r, stuck(1_310), 1_310));
        assert!(waited_most(&r, 1_310));
    }
}
