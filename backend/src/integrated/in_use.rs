//! What the manifests of a repository use, read from the registry for a refused push's take-out
//! (`refused`): a rightful push of an image sharing a layer with the refused one may be in the
//! registry before its notification comes, and deleting the layer's link then would break it.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher as _, RandomState};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::Integrated;
use super::events::is_digest;
use super::purge_api::Names;
use super::reader::ReadError;

/// The most manifests read to find what uses a refused push's blobs: beyond that, every blob is
/// taken as used (kept for the name's purge) rather than read on and on.
const MAX_IN_USE_READS: usize = 1_000;

/// The most blob names one take-out gathers (and one batch keeps of what it read) to find what
/// uses a refused push's blobs: a manifest of 4 MiB names tens of thousands. Beyond that, every
/// blob is taken as used (kept for the name's purge).
const MAX_IN_USE_NAMES: usize = 200_000;

/// A manifest read: `None` when the registry does not have it, the status when it cannot read it.
type Read = Option<Result<Arc<Names>, u16>>;

/// A tag read: the digest it names, `None` when the registry does not have it, the status when
/// it cannot read it.
type TagRead = Result<Option<String>, u16>;

/// What one batch of take-outs read from the registry: each repository's tags (`None` when
/// there were too many to list), the digest each tag names, and each manifest read, by digest
/// (`None` when absent, the status when the registry could not read it), up to
/// [`MAX_IN_USE_NAMES`] names in all: many tags naming one image read it once, and keep it once;
/// each tag is asked for once a batch, not once a take-out (review 10 F1: a flood of N tagged
/// refused manifests made N × N reads of manifests up to 4 MiB). What a take-out changes in the
/// registry is written here too ([`Reads::deleted`], [`Reads::moved`]).
#[derive(Default)]
pub(super) struct Reads {
    tags: HashMap<String, Option<Vec<String>>>,
    named: HashMap<(String, String), TagRead>,
    manifests: HashMap<(String, String), Read>,
    kept: usize,
    /// [`Moves::of`] the repository when its tags were read.
    moves: Option<u64>,
}

impl Reads {
    /// Forgets what the tags named if a rightful push moved one since they were read (`moves`
    /// being [`Moves::of`] the repository now; a batch's reads are of one repository): the
    /// manifests read stay, a digest names the same bytes for ever (review 12 G2).
    pub(super) fn heard_moves(&mut self, moves: u64) {
        if self.moves.is_some_and(|m| m != moves) {
            self.tags.clear();
            self.named.clear();
        }
        self.moves = Some(moves);
    }

    /// Manifest `digest` of `repo` was deleted, and with it every tag naming it.
    pub(super) fn deleted(&mut self, repo: &str, digest: &str) {
        for ((r, _), named) in &mut self.named {
            if r == repo && named.as_ref().is_ok_and(|d| d.as_deref() == Some(digest)) {
                *named = Ok(None);
            }
        }
        self.manifests
            .insert((repo.to_owned(), digest.to_owned()), None);
    }

    /// Tag `tag` of `repo` was put on another manifest: it is asked for again.
    pub(super) fn moved(&mut self, repo: &str, tag: &str) {
        self.named.remove(&(repo.to_owned(), tag.to_owned()));
    }
}

/// Counts, per repository, the rightful pushes heard, so that a batch of take-outs knows when
/// what it read of the repository's tags is out of date. Repositories share a fixed number of
/// counters (a shared one is only read again more often); the hash is keyed per process, so
/// nobody picks another repository's counter.
#[derive(Debug)]
pub(super) struct Moves {
    counts: Box<[AtomicU64]>,
    hasher: RandomState,
}

/// Counters [`Moves`] keeps.
const MOVES_COUNTERS: usize = 1_024;

impl Default for Moves {
    fn default() -> Self {
        Self {
            counts: (0..MOVES_COUNTERS).map(|_| AtomicU64::new(0)).collect(),
            hasher: RandomState::new(),
        }
    }
}

impl Moves {
    fn counter(&self, repo: &str) -> &AtomicU64 {
        let slot =
            usize::try_from(self.hasher.hash_one(repo) % MOVES_COUNTERS as u64).unwrap_or_default();
        &self.counts[slot]
    }

    /// A rightful push to `repo` was heard: its tags may name other manifests now.
    pub(super) fn heard(&self, repo: &str) {
        self.counter(repo).fetch_add(1, Ordering::Relaxed);
    }

    /// How many rightful pushes to `repo` (or a repository sharing its counter) were heard.
    pub(super) fn of(&self, repo: &str) -> u64 {
        self.counter(repo).load(Ordering::Relaxed)
    }
}

impl Integrated {
    /// A rightful push to `repo` was heard (see [`Moves`]).
    pub(super) fn heard_rightful(&self, repo: &str) {
        self.moves.heard(repo);
    }

    /// The blobs the manifests of `repo` use that tagstream keeps: those of `held` (a stream's
    /// history) and of every manifest the registry's tags name, lists followed to their images,
    /// `except` (a refused manifest) left out. (What someone who may push there pushed is asked
    /// of the store, blob by blob: `RefusalStore::is_vouched`.) `None` when there are more than
    /// [`MAX_IN_USE_READS`] manifests or [`MAX_IN_USE_NAMES`] blobs to read, or one cannot be
    /// read.
    pub(super) async fn blobs_in_use(
        &self,
        repo: &str,
        held: &[String],
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
        let mut queue: Vec<String> = held.iter().cloned().chain(tags).collect();
        let mut read: HashSet<String> = HashSet::new();
        let mut used: HashSet<String> = HashSet::new();
        let mut count = 0;
        while let Some(reference) = queue.pop() {
            if Some(reference.as_str()) == except || !read.insert(reference.clone()) {
                continue;
            }
            count += 1;
            if count > MAX_IN_USE_READS || used.len() > MAX_IN_USE_NAMES {
                return Ok(None);
            }
            let names = match self.names(repo, &reference, token, reads).await? {
                Some(Ok(names)) => names,
                None => continue,
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
            read.insert(names.digest.clone());
            used.extend(names.blobs.iter().cloned());
            queue.extend(names.children.iter().cloned());
        }
        Ok(Some(used))
    }

    /// What manifest `reference` (a digest, or a tag: its digest asked for first) of `repo`
    /// names, read once per batch: `None` when the registry does not have it, the status when
    /// it cannot read it (distribution answers 500 for a layer asked for as a manifest, which a
    /// list can name).
    async fn names(
        &self,
        repo: &str,
        reference: &str,
        token: &str,
        reads: &mut Reads,
    ) -> Result<Read, ReadError> {
        let digest = if is_digest(reference) {
            reference.to_owned()
        } else {
            match self.tag_names(repo, reference, token, reads).await? {
                Ok(Some(digest)) => digest,
                Ok(None) => return Ok(None),
                Err(status) => return Ok(Some(Err(status))),
            }
        };
        let key = (repo.to_owned(), digest);
        if let Some(names) = reads.manifests.get(&key) {
            return Ok(names.clone());
        }
        let names = match self.manifest_names(repo, &key.1, token).await {
            Ok(names) => names.map(|n| Ok(Arc::new(n))),
            Err(ReadError::Status { status, .. }) => Some(Err(status)),
            Err(e) => return Err(e),
        };
        let size = match &names {
            Some(Ok(n)) => n.blobs.len() + n.children.len() + 1,
            _ => 1,
        };
        if reads.kept + size <= MAX_IN_USE_NAMES {
            reads.kept += size;
            reads.manifests.insert(key, names.clone());
        }
        Ok(names)
    }

    /// The digest tag `tag` of `repo` names, asked for once per batch.
    async fn tag_names(
        &self,
        repo: &str,
        tag: &str,
        token: &str,
        reads: &mut Reads,
    ) -> Result<TagRead, ReadError> {
        let key = (repo.to_owned(), tag.to_owned());
        if let Some(named) = reads.named.get(&key) {
            return Ok(named.clone());
        }
        let path = format!("v2/{repo}/manifests/{tag}");
        let named = match self.head_manifest(&path, token).await? {
            (200, Some(digest)) => Ok(Some(digest)),
            (404, _) => Ok(None),
            (200, None) => Ok(Some(tag.to_owned())),
            (status, _) => Err(status),
        };
        reads.named.insert(key, named.clone());
        Ok(named)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rightful_push_makes_a_batch_read_the_tags_again_but_not_the_manifests() {
        let moves = Moves::default();
        let mut reads = Reads::default();
        reads.heard_moves(moves.of("demo/app"));
        let tag = ("demo/app".to_owned(), "prod".to_owned());
        let manifest = ("demo/app".to_owned(), format!("sha256:{}", "a".repeat(64)));
        reads
            .named
            .insert(tag.clone(), Ok(Some(manifest.1.clone())));
        reads.manifests.insert(manifest.clone(), None);
        // Nothing heard: what was read stands.
        reads.heard_moves(moves.of("demo/app"));
        assert!(reads.named.contains_key(&tag));
        // A rightful push to another repository (one not sharing its counter) is nothing to it.
        let other = (0..)
            .map(|i| format!("other{i}/app"))
            .find(|o| !std::ptr::eq(moves.counter(o), moves.counter("demo/app")))
            .unwrap_or_default();
        moves.heard(&other);
        reads.heard_moves(moves.of("demo/app"));
        assert!(reads.named.contains_key(&tag));
        // One to this repository: its tags are asked for again; a digest's manifest is the same.
        moves.heard("demo/app");
        reads.heard_moves(moves.of("demo/app"));
        assert!(!reads.named.contains_key(&tag));
        assert!(reads.manifests.contains_key(&manifest));
    }
}
