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
//! "Uses" is read from the registry, not from notifications: a rightful push of an image sharing
//! that layer may be in the registry before its notification comes (they are queued in order),
//! and deleting the link then would break it. A manifest the stream holds, or a registry tag
//! names, counts; the refused manifest itself does not.

use std::collections::{BTreeSet, HashMap, HashSet};

use tagstream_shared::{ImageStream, ProjectName, StreamName};

use super::Integrated;
use super::events::Push;
use super::purge_api::Names;
use super::push::PushError;
use super::reader::ReadError;
use crate::app::AppState;
use crate::registry::manifest;
use crate::store::{Objects as _, Refusal, Store, StoreError};

/// The most images of a stream's history read to find a list naming a refused image: beyond
/// that, the image is taken as held (kept for the name's purge) rather than read on and on.
const MAX_HELD_READ: usize = 1_000;

/// The most manifests read to find what uses a refused push's blobs: beyond that, every blob is
/// taken as used (kept for the name's purge) rather than read on and on.
const MAX_IN_USE_READS: usize = 1_000;

/// The most digests pushed by someone who may push read to find what uses a refused push's
/// blobs (the latest first).
const MAX_VOUCHED: u32 = 200;

/// The life of the token tagstream signs itself to take a refused push out.
const OWN_TOKEN_SECONDS: u64 = 120;

/// How long after its notification a refused manifest is taken out of the registry: long enough
/// for the notifications queued behind it to be read first (a rightful push of the same image,
/// when the registry had a backlog, makes the stream hold it, and then it stays).
pub const REFUSAL_DELAY_SECONDS: i64 = 10;

/// How long after a failed try (the registry is down) a refused manifest is tried again.
const RETRY_SECONDS: i64 = 15;

/// Refused pushes taken out at once.
const BATCH: u32 = 16;

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
        seen: 0,
    };
    state.store.refuse_later(&refusal).await?;
    integrated.wake_purger();
    Ok(())
}

impl Integrated {
    /// Takes out the refused pushes due at `now`; answers whether a whole batch was due (more
    /// may be).
    pub(super) async fn take_out_due(&self, now: i64) -> bool {
        let due = match self.store.due_refusals(now, BATCH).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the refused pushes");
                return false;
            }
        };
        // Reads of one batch are shared: refusals come in bursts, most of them in one repository.
        let mut reads = Reads::default();
        for refusal in &due {
            let done = match self.take_out(refusal, &mut reads).await {
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
        due.len() >= BATCH as usize
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
        let vouched = self.store.vouched(repo, digest, MAX_VOUCHED).await?;
        // What its owner deleted from the registry is not kept for the stream's history naming
        // it: a refused push must not bring it back.
        let withdrawn = self.store.withdrawn(repo, digest).await?;
        if vouched.first() == Some(digest) {
            tracing::info!(repository = %repo, digest = %digest, "a refused push was checked: it stays, someone who may push there pushed it too");
        } else if !withdrawn && holds(self.store.as_ref(), &digests, digest).await? {
            tracing::info!(repository = %repo, digest = %digest, "a refused push was checked: it stays, the stream holds its image");
        } else {
            // The blob links only it uses first: once the manifest is gone a retry could not
            // find them.
            if let Some(refused) = self.manifest_names(repo, digest, &jwt).await?
                && !refused.blobs.is_empty()
            {
                match self
                    .blobs_in_use(repo, &digests, &vouched, Some(digest), &jwt, reads)
                    .await?
                {
                    Some(used) => {
                        let only: BTreeSet<&String> = refused
                            .blobs
                            .iter()
                            .filter(|b| !used.contains(*b))
                            .collect();
                        for blob in only {
                            self.delete_blob(repo, blob, &jwt).await?;
                        }
                    }
                    None => {
                        tracing::warn!(repository = %repo, digest = %digest, "too many manifests to tell which of a refused image's blobs are used: its blob links stay until the name's purge");
                    }
                }
            }
            let deleted = self.delete_manifest(repo, digest).await?;
            tracing::info!(repository = %repo, digest = %digest, deleted, "a refused push was checked: its manifest was deleted from the registry");
        }
        if let Some(tag) = tag {
            self.put_back(repo, &ns, &name, tag, digest, &jwt).await?;
        }
        Ok(())
    }
}

/// What one batch of take-outs read from the registry: each repository's tags (`None` when
/// there were too many to list) and each manifest read (`None` when absent, the status when the
/// registry could not read it).
#[derive(Default)]
pub(super) struct Reads {
    tags: HashMap<String, Option<Vec<String>>>,
    manifests: HashMap<(String, String), Option<Result<Names, u16>>>,
}

async fn stream(
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
    /// The blobs the manifests of `repo` use that tagstream keeps: those of `held` (a stream's
    /// history), `vouched` (pushed by someone who may push there) and those of its manifests
    /// (a digest there that the registry cannot read as a manifest is a blob) and of every manifest the
    /// registry's tags name, lists followed to their images, `except` (a refused manifest) left
    /// out. `None` when there are more than [`MAX_IN_USE_READS`] to read.
    async fn blobs_in_use(
        &self,
        repo: &str,
        held: &[String],
        vouched: &[String],
        except: Option<&str>,
        token: &str,
        reads: &mut Reads,
    ) -> Result<Option<HashSet<String>>, ReadError> {
        let tags = match reads.tags.get(repo) {
            Some(tags) => tags.clone(),
            None => {
                let (tags, all) = self.tags(repo, token).await?;
                let tags = all.then_some(tags);
                reads.tags.insert(repo.to_owned(), tags.clone());
                tags
            }
        };
        let Some(tags) = tags else {
            return Ok(None);
        };
        // (reference, whether it may be no manifest at all)
        let mut queue: Vec<(String, bool)> = held
            .iter()
            .cloned()
            .chain(tags)
            .map(|r| (r, false))
            .chain(vouched.iter().map(|d| (d.clone(), true)))
            .collect();
        let mut read: HashSet<String> = HashSet::new();
        // A blob someone who may push there pushed is used by whatever they push next.
        let mut used: HashSet<String> = vouched.iter().cloned().collect();
        let mut count = 0;
        while let Some((reference, maybe_blob)) = queue.pop() {
            if Some(reference.as_str()) == except || !read.insert(reference.clone()) {
                continue;
            }
            count += 1;
            if count > MAX_IN_USE_READS {
                return Ok(None);
            }
            let key = (repo.to_owned(), reference.clone());
            let names = match reads.manifests.get(&key) {
                Some(names) => names.clone(),
                None => {
                    let names = match self.manifest_names(repo, &reference, token).await {
                        Ok(names) => names.map(Ok),
                        // distribution answers 500 for a layer asked for as a manifest (a list
                        // can name one): such a reference cannot be read, now or later.
                        Err(ReadError::Status { status, .. }) => Some(Err(status)),
                        Err(e) => return Err(e),
                    };
                    reads.manifests.insert(key, names.clone());
                    names
                }
            };
            let names = match names {
                Some(Ok(names)) => names,
                None => continue,
                Some(Err(_)) if maybe_blob => continue,
                // Something the repository's manifests name cannot be read: what it uses
                // cannot be told, so every blob is taken as used.
                Some(Err(status)) => {
                    tracing::warn!(repository = %repo, reference = %reference, status, "a manifest of the repository cannot be read: the refused push's blobs stay until the name's purge");
                    return Ok(None);
                }
            };
            // A tag naming the refused manifest is no reason to keep what it uses.
            if Some(names.digest.as_str()) == except {
                continue;
            }
            read.insert(names.digest);
            used.extend(names.blobs);
            queue.extend(names.children.into_iter().map(|c| (c, false)));
        }
        Ok(Some(used))
    }

    /// Puts `tag` of `repo` back on the image the stream's tag holds now, if the registry's tag
    /// names the refused `digest` or nothing (the take-out deleted what it named): read again
    /// here, since a take-out can last seconds and a rightful push may have moved it since.
    async fn put_back(
        &self,
        repo: &str,
        ns: &ProjectName,
        name: &StreamName,
        tag: &str,
        digest: &str,
        jwt: &str,
    ) -> Result<(), PushError> {
        let Some(stream) = stream(self.store.as_ref(), ns, name).await? else {
            return Ok(());
        };
        let Some(current) = stream
            .status
            .tags
            .iter()
            .find(|t| t.tag == tag)
            .and_then(|t| t.items.first())
        else {
            return Ok(());
        };
        let path = format!("v2/{repo}/manifests/{tag}");
        let (_, named) = self.head_manifest(&path, jwt).await?;
        if current.image == digest || named.as_deref().is_some_and(|n| n != digest) {
            return Ok(());
        }
        let restored = self.retag(repo, tag, &current.image, jwt).await?;
        tracing::info!(repository = %repo, tag = %tag, digest = %current.image, restored, "the tag a refused push overwrote names the stream's image again");
        Ok(())
    }

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
        let vouched = self.store.vouched(repo, digest, MAX_VOUCHED).await?;
        if vouched.first().map(String::as_str) == Some(digest) {
            tracing::info!(repository = %repo, digest = %digest, "a refused push was checked: the blob stays, someone who may push there pushed it too");
            return Ok(());
        }
        match self
            .blobs_in_use(repo, held, &vouched, None, jwt, reads)
            .await?
        {
            Some(used) if used.contains(digest) => {
                tracing::info!(repository = %repo, digest = %digest, "a refused push was checked: the blob stays, a manifest of the repository uses it");
            }
            Some(_) => {
                let deleted = self.delete_blob(repo, digest, jwt).await?;
                tracing::info!(repository = %repo, digest = %digest, deleted, "a refused push was checked: the blob's link was deleted from the registry");
            }
            None => {
                tracing::warn!(repository = %repo, digest = %digest, "too many manifests to tell whether a refused blob is used: its link stays until the name's purge");
            }
        }
        Ok(())
    }

    /// Puts `tag` of `repo` back on manifest `digest`, if the repository has it; answers
    /// whether it did.
    async fn retag(
        &self,
        repo: &str,
        tag: &str,
        digest: &str,
        token: &str,
    ) -> Result<bool, ReadError> {
        let Some(body) = self.manifest_bytes(repo, digest, token).await? else {
            return Ok(false);
        };
        if crate::registry::client::sha256(&body) != digest {
            return Ok(false);
        }
        let Ok(media) = manifest::media_type_of(None, &body) else {
            return Ok(false);
        };
        self.put_manifest(repo, tag, &media, body, token).await?;
        Ok(true)
    }
}
