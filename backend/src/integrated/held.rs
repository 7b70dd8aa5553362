//! What a refused push's take-out deletes is held a while, and put back if a rightful push turns
//! out to use it (review 8 C4). The take-out waits for the notifications queued behind a refused
//! push (`refused`), but the registry serves the refused push's blobs until the take-out deletes
//! them: a rightful client pushing meanwhile skips a layer the registry has, and its
//! notification may come after the delete. So before deleting, tagstream links each blob in its
//! own holding repository (a cross-repository mount: nothing is copied) and keeps each
//! manifest's bytes (`store::held`); a rightful push that uses one (`push::vouch`) puts it back
//! at once. The registry sends its notifications in order, so once it told of the delete itself,
//! it told of every push made before: the hold is let go then (a little later, for a delivery
//! still being applied), or after [`MOST_SECONDS`] if that notification never comes. The
//! holding repository is no `project/stream` name: nobody is granted it.

use tagstream_shared::{TagName, Time};

use super::Integrated;
use super::purge_api::{Names, names_of};
use super::push::PushError;
use super::token::Access;
use crate::store::Held;

/// tagstream's holding repository.
pub const HOLDING: &str = "tagstream/held/blobs";

/// The life of the tokens tagstream signs itself to hold and put back.
const TOKEN_SECONDS: u64 = 120;

/// How long after the registry told of a delete its hold is let go: a notification sent before
/// may still be being applied.
const GRACE_SECONDS: i64 = 30;

/// How long a hold is kept when the registry never tells of its delete (a registry restarted
/// with notifications queued in memory loses them).
pub const MOST_SECONDS: i64 = 3_600;

/// Holds let go at once.
const BATCH: u32 = 64;

impl Integrated {
    /// Holds blob `digest` of `repo` before a take-out deletes its link: linked in [`HOLDING`],
    /// then recorded (a failure between leaves a stray link there, not a loss). Nothing is held
    /// when `repo` no longer links it.
    pub(super) async fn hold_blob(&self, repo: &str, digest: &str) -> Result<(), PushError> {
        let token = self.mount_token(HOLDING, repo)?;
        if !self.mount_blob(HOLDING, repo, digest, &token).await? {
            return Ok(());
        }
        self.record_hold(repo, digest, None).await
    }

    /// Holds manifest `digest` of `repo` (its `body`, of `media` type) before a take-out deletes
    /// it.
    pub(super) async fn hold_manifest(
        &self,
        repo: &str,
        digest: &str,
        body: Vec<u8>,
        media: String,
    ) -> Result<(), PushError> {
        self.record_hold(repo, digest, Some((body, media))).await
    }

    /// Records the hold of `digest` of `repo` (a manifest with its body and media type, or a
    /// blob), deleted now.
    async fn record_hold(
        &self,
        repo: &str,
        digest: &str,
        manifest: Option<(Vec<u8>, String)>,
    ) -> Result<(), PushError> {
        self.store
            .hold(&Held {
                repository: repo.to_owned(),
                digest: digest.to_owned(),
                manifest,
                deleted: Time::now().timestamp(),
                restored: false,
            })
            .await?;
        Ok(())
    }

    /// Marks what a rightful push of manifest `digest` (as `tag`, if it named one) to `repo`
    /// uses as vouched for (the blobs it names, a list's images), then puts back what a
    /// take-out deleted of it: the manifest itself (a rightful push of the refused image) with
    /// its blobs, and the blobs and images it names. Vouched first: a take-out running meanwhile
    /// asks just before each delete (review 10 F2). Answers what it names (`None` when the
    /// registry does not have it).
    pub(super) async fn vouch_and_restore(
        &self,
        repo: &str,
        digest: &str,
        tag: Option<&TagName>,
        token: &str,
    ) -> Result<Option<Names>, PushError> {
        let holds = self.store.holds_any(repo).await?;
        if holds {
            self.restore_manifest(repo, digest, tag).await?;
        }
        let Some(names) = self.manifest_names(repo, digest, token).await? else {
            return Ok(None);
        };
        self.store
            .vouch_blobs(
                repo,
                &[names.blobs.as_slice(), names.children.as_slice()].concat(),
                Time::now().timestamp(),
            )
            .await?;
        if holds {
            for blob in &names.blobs {
                self.restore_blob(repo, blob).await?;
            }
            for child in &names.children {
                self.restore_manifest(repo, child, None).await?;
            }
        }
        Ok(Some(names))
    }

    /// Puts held manifest `digest` back in `repo` with the blobs it names, under `tag` if it
    /// names nothing now (else by digest): a rightful push of it came.
    async fn restore_manifest(
        &self,
        repo: &str,
        digest: &str,
        tag: Option<&TagName>,
    ) -> Result<(), PushError> {
        for held in self.store.held(repo, digest).await? {
            let Some((body, media)) = &held.manifest else {
                continue;
            };
            if held.restored {
                continue;
            }
            let names = names_of(digest, body);
            self.store
                .vouch_blobs(repo, &names.blobs, Time::now().timestamp())
                .await?;
            for blob in &names.blobs {
                self.restore_blob(repo, blob).await?;
            }
            let token = self.own_token("repository", repo, &["pull", "push"], TOKEN_SECONDS)?;
            let mut reference = digest.to_owned();
            if let Some(tag) = tag {
                let path = format!("v2/{repo}/manifests/{tag}");
                if self.head_manifest(&path, &token).await?.0 == 404 {
                    reference = tag.to_string();
                }
            }
            self.put_manifest(repo, &reference, media, body.clone(), &token)
                .await?;
            self.store.restored(&held).await?;
            tracing::info!(repository = %repo, digest = %digest, reference = %reference, "a refused push's take-out had deleted an image someone who may push there pushed too: put back");
        }
        Ok(())
    }

    /// Links held blob `digest` in `repo` again: a rightful push uses it.
    async fn restore_blob(&self, repo: &str, digest: &str) -> Result<(), PushError> {
        for held in self.store.held(repo, digest).await? {
            if !held.is_blob() || held.restored {
                continue;
            }
            let token = self.mount_token(repo, HOLDING)?;
            let linked = self.mount_blob(repo, HOLDING, digest, &token).await?;
            if !linked {
                tracing::warn!(repository = %repo, digest = %digest, "a blob a rightful push uses was held but is not in the holding repository: it cannot be put back");
                continue;
            }
            self.store.restored(&held).await?;
            tracing::info!(repository = %repo, digest = %digest, linked, "a refused push's take-out had deleted a blob an image someone who may push there pushed uses: put back");
        }
        Ok(())
    }

    /// Lets go of the holds due at `now` (see [`GRACE_SECONDS`], [`MOST_SECONDS`]); a hold of
    /// something vouched for since is put back first. Answers whether a whole batch was due
    /// (more may be).
    pub(super) async fn let_go_due(&self, now: i64) -> bool {
        let due = match self
            .store
            .due_holds(now - GRACE_SECONDS, now - MOST_SECONDS, BATCH)
            .await
        {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read what refused pushes' take-outs hold");
                return false;
            }
        };
        let mut failed = false;
        for held in &due {
            if let Err(e) = self.let_go(held).await {
                tracing::warn!(repository = %held.repository, digest = %held.digest, error = %e, "cannot let go of what a refused push's take-out holds yet");
                failed = true;
                // The registry is down, most likely: the rest waits for the next look (review
                // 10 F3). Another failure is this hold's own: the others go on.
                if e.is_transient() {
                    break;
                }
            }
        }
        // After a failure, the next look is a while later, not at once.
        !failed && due.len() >= BATCH as usize
    }

    /// When the next hold is due.
    pub(super) async fn next_hold_due(&self) -> Option<i64> {
        self.store
            .next_hold_due(GRACE_SECONDS, MOST_SECONDS)
            .await
            .ok()
            .flatten()
    }

    /// Whether `repo` has what `held` is of: linking or putting again what is there rewrites
    /// it, and a pull at that moment failed with a 500 (review 12 G3).
    async fn has(&self, repo: &str, held: &Held) -> Result<bool, PushError> {
        let kind = if held.is_blob() { "blobs" } else { "manifests" };
        let token = self.own_token("repository", repo, &["pull"], TOKEN_SECONDS)?;
        let path = format!("v2/{repo}/{kind}/{}", held.digest);
        Ok(self.head_manifest(&path, &token).await?.0 == 200)
    }

    async fn let_go(&self, held: &Held) -> Result<(), PushError> {
        let repo = &held.repository;
        // Vouched for, put back or not: a take-out may have deleted it again just after a
        // rightful push put it back (review 10 F2); put again only if it is not there.
        if self.store.is_vouched(repo, &held.digest).await? && !self.has(repo, held).await? {
            if held.is_blob() {
                let token = self.mount_token(repo, HOLDING)?;
                self.mount_blob(repo, HOLDING, &held.digest, &token).await?;
            } else if let Some((body, media)) = &held.manifest {
                let token = self.own_token("repository", repo, &["pull", "push"], TOKEN_SECONDS)?;
                self.put_manifest(repo, &held.digest, media, body.clone(), &token)
                    .await?;
            }
        }
        if held.is_blob() && !self.store.blob_held_elsewhere(&held.digest, repo).await? {
            let token = self.own_token("repository", HOLDING, &["delete"], TOKEN_SECONDS)?;
            self.delete_blob(HOLDING, &held.digest, &token).await?;
        }
        self.store.let_go(held).await?;
        tracing::info!(repository = %repo, digest = %held.digest, restored = held.restored, "a refused push's take-out let go of what it held");
        Ok(())
    }

    /// A token to link a blob of `from` in `to`.
    fn mount_token(&self, to: &str, from: &str) -> Result<String, PushError> {
        Ok(self.own_token_for(
            &[
                Access {
                    kind: "repository",
                    name: to.to_owned(),
                    actions: vec!["pull", "push"],
                },
                Access {
                    kind: "repository",
                    name: from.to_owned(),
                    actions: vec!["pull"],
                },
            ],
            TOKEN_SECONDS,
        )?)
    }
}
