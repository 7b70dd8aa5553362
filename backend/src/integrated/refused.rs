//! What a refused push left in the registry, taken out again. The registry takes whatever a valid
//! token allows, and a token outlives a removed role (and an upload begun before a delete may
//! land after the name's purge); tagstream reads the pusher's rights again when the notification
//! comes (`push::refusal`), and what it refuses must not stay pullable:
//! - a refused manifest is deleted (which untags it), with the blob links it alone uses; a tag
//!   it overwrote is put back on the image the stream's tag holds;
//! - a refused blob (pushed or mounted with no manifest yet, or landing late) loses its link
//!   unless a manifest of the repository uses it.
//!
//! "Uses" is read from the registry, not from notifications: a rightful push of an image sharing
//! that layer may be in the registry before its notification comes (they are queued in order),
//! and deleting the link then would break it. A manifest the stream holds, or a registry tag
//! names, counts; the refused manifest itself does not.

use std::collections::HashSet;

use tagstream_shared::{ImageStream, ProjectName, StreamName};

use super::Integrated;
use super::events::Push;
use super::push::PushError;
use super::reader::ReadError;
use crate::app::AppState;
use crate::registry::manifest;
use crate::store::{Objects as _, StoreError};

/// The most images of a stream's history read to find a list naming a refused image: beyond
/// that, the image is taken as held (kept for the name's purge) rather than read on and on.
const MAX_HELD_READ: usize = 1_000;

/// The most manifests read to find what uses a refused push's blobs: beyond that, every blob is
/// taken as used (kept for the name's purge) rather than read on and on.
const MAX_IN_USE_READS: usize = 1_000;

/// The life of the token tagstream signs itself to take a refused push out.
const OWN_TOKEN_SECONDS: u64 = 120;

/// Deletes the manifest of a refused push from the registry, so that it cannot be pulled by
/// the tag it moved there (nor by digest), unless the stream holds that image in some tag's
/// history anyway (then the registry's tag names an image tagstream also names); then the blob
/// links only it used, and the pushed tag goes back to the stream's image. An error leaves the
/// event to be delivered again.
pub(super) async fn unpublish(
    state: &AppState,
    integrated: &Integrated,
    push: &Push,
    ns: &ProjectName,
    name: &StreamName,
) -> Result<(), PushError> {
    let stream = stream(state, ns, name).await?;
    let digests = held_digests(stream.as_ref());
    if holds(state, &digests, &push.digest).await? {
        return Ok(());
    }
    let repo = &push.repository;
    let jwt = integrated.own_token(
        "repository",
        repo,
        &["pull", "push", "delete"],
        OWN_TOKEN_SECONDS,
    )?;
    let refused = integrated.manifest_names(repo, &push.digest, &jwt).await?;
    let deleted = integrated.delete_manifest(repo, &push.digest).await?;
    tracing::info!(repository = %repo, digest = %push.digest, deleted, "the refused push's manifest was deleted from the registry");
    if let Some(refused) = refused.filter(|r| !r.blobs.is_empty()) {
        match integrated
            .blobs_in_use(repo, &digests, Some(&push.digest), &jwt)
            .await?
        {
            Some(used) => {
                for blob in refused.blobs.iter().filter(|b| !used.contains(*b)) {
                    integrated.delete_blob(repo, blob, &jwt).await?;
                }
            }
            None => {
                tracing::warn!(repository = %repo, digest = %push.digest, "too many manifests to tell which of a refused image's blobs are used: its blob links stay until the name's purge");
            }
        }
    }
    if let (Some(tag), Some(stream)) = (&push.tag, &stream)
        && let Some(current) = stream
            .status
            .tags
            .iter()
            .find(|t| t.tag == tag.as_str())
            .and_then(|t| t.items.first())
    {
        let restored = integrated
            .retag(repo, tag.as_str(), &current.image, &jwt)
            .await?;
        tracing::info!(repository = %repo, tag = %tag, digest = %current.image, restored, "the tag a refused push overwrote names the stream's image again");
    }
    Ok(())
}

/// Deletes the registry's link to a refused blob, unless a manifest of the repository uses it.
pub(super) async fn unlink(
    state: &AppState,
    integrated: &Integrated,
    push: &Push,
    ns: &ProjectName,
    name: &StreamName,
) -> Result<(), PushError> {
    let stream = stream(state, ns, name).await?;
    let digests = held_digests(stream.as_ref());
    let repo = &push.repository;
    let jwt = integrated.own_token("repository", repo, &["pull", "delete"], OWN_TOKEN_SECONDS)?;
    match integrated.blobs_in_use(repo, &digests, None, &jwt).await? {
        Some(used) if used.contains(&push.digest) => {
            tracing::info!(repository = %repo, digest = %push.digest, "a refused blob stays: a manifest of the repository uses it");
        }
        Some(_) => {
            let deleted = integrated.delete_blob(repo, &push.digest, &jwt).await?;
            tracing::info!(repository = %repo, digest = %push.digest, deleted, "the refused blob's link was deleted from the registry");
        }
        None => {
            tracing::warn!(repository = %repo, digest = %push.digest, "too many manifests to tell whether a refused blob is used: its link stays until the name's purge");
        }
    }
    Ok(())
}

async fn stream(
    state: &AppState,
    ns: &ProjectName,
    name: &StreamName,
) -> Result<Option<ImageStream>, PushError> {
    match state
        .store
        .get::<ImageStream>(Some(ns), name.as_ref())
        .await
    {
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
async fn holds(state: &AppState, held: &[String], digest: &str) -> Result<bool, PushError> {
    if held.iter().any(|d| d == digest) {
        return Ok(true);
    }
    if held.len() > MAX_HELD_READ {
        return Ok(true);
    }
    for d in held {
        if let Some(image) = state.store.get_image(d).await?
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
    /// history) and those the registry's tags name, lists followed to their images, `except`
    /// (a refused manifest) left out. `None` when there are more than [`MAX_IN_USE_READS`] to read.
    async fn blobs_in_use(
        &self,
        repo: &str,
        held: &[String],
        except: Option<&str>,
        token: &str,
    ) -> Result<Option<HashSet<String>>, ReadError> {
        let (tags, all) = self.tags(repo, token).await?;
        if !all {
            return Ok(None);
        }
        let mut queue: Vec<String> = held.iter().cloned().chain(tags).collect();
        let mut read: HashSet<String> = HashSet::new();
        let mut used: HashSet<String> = HashSet::new();
        let mut reads = 0;
        while let Some(reference) = queue.pop() {
            if Some(reference.as_str()) == except || !read.insert(reference.clone()) {
                continue;
            }
            reads += 1;
            if reads > MAX_IN_USE_READS {
                return Ok(None);
            }
            let Some(names) = self.manifest_names(repo, &reference, token).await? else {
                continue;
            };
            // A tag naming the refused manifest is no reason to keep what it uses.
            if Some(names.digest.as_str()) == except {
                continue;
            }
            read.insert(names.digest);
            used.extend(names.blobs);
            queue.extend(names.children);
        }
        Ok(Some(used))
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
        let path = format!("v2/{repo}/manifests/{digest}");
        let accept = tagstream_shared::image::media_type::ALL.join(", ");
        let (status, body) = self
            .call(reqwest::Method::GET, &path, Some(&accept), token)
            .await?;
        match status {
            404 => return Ok(false),
            200 => {}
            s => return Err(super::purge_api::status_error(s, &path)),
        }
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
