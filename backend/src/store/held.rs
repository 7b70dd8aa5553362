//! What refused pushes' take-outs deleted from the integrated registry, held a while (migration
//! 0019, `integrated::held`): a rightful push made just before a delete may use it while its
//! notification is still queued. A blob is held by a link in tagstream's holding repository, a
//! manifest by its bytes in the row.

use async_trait::async_trait;

use super::StoreResult;

/// Manifest or blob `digest`, deleted from `repository` at `deleted` (tagstream's clock).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub repository: String,
    pub digest: String,
    /// The manifest's bytes and media type; `None` for a blob.
    pub manifest: Option<(Vec<u8>, String)>,
    pub deleted: i64,
    /// Put back in the repository since.
    pub restored: bool,
}

impl Held {
    /// Whether this is a blob (held by a link), not a manifest.
    pub fn is_blob(&self) -> bool {
        self.manifest.is_none()
    }
}

#[async_trait]
pub trait HeldStore: Send + Sync {
    /// Records `held` (before its delete: a failed try leaves a hold, not a loss); holding the
    /// same again starts its time again.
    async fn hold(&self, held: &Held) -> StoreResult<()>;
    /// Whether anything deleted from `repository` is held and not put back.
    async fn holds_any(&self, repository: &str) -> StoreResult<bool>;
    /// The holds of `digest` (as a blob, as a manifest, or both) deleted from `repository`, put
    /// back or not.
    async fn held(&self, repository: &str, digest: &str) -> StoreResult<Vec<Held>>;
    /// Marks `held` as put back.
    async fn restored(&self, held: &Held) -> StoreResult<()>;
    /// Records that the registry told of the delete of `digest` from `repository` at `now`: of
    /// the holds deleted at `made` or earlier (when the registry made that delete, by its clock),
    /// so that a late notification of an earlier take-out's delete does not shorten a newer hold
    /// of the same digest.
    async fn delete_heard(
        &self,
        repository: &str,
        digest: &str,
        made: i64,
        now: i64,
    ) -> StoreResult<()>;
    /// Up to `limit` holds to let go: of deletes the registry told of at `heard` or earlier, or
    /// made at `deleted` or earlier (told of or not), the oldest first.
    async fn due_holds(&self, heard: i64, deleted: i64, limit: u32) -> StoreResult<Vec<Held>>;
    /// When the next hold is due with [`Self::due_holds`]'s `heard` and `deleted` bounds moved by
    /// `grace` and `most` seconds: `heard + grace` or `deleted + most`, the earliest.
    async fn next_hold_due(&self, grace: i64, most: i64) -> StoreResult<Option<i64>>;
    /// Whether blob `digest` is held for another repository than `except` too (the holding
    /// repository has one link for all).
    async fn blob_held_elsewhere(&self, digest: &str, except: &str) -> StoreResult<bool>;
    /// Forgets `held`, unless it was held again since it was read.
    async fn let_go(&self, held: &Held) -> StoreResult<()>;
}

/// One row: repository, digest, blob, manifest, media type, deleted, restored.
type Row = (String, String, i64, Option<Vec<u8>>, String, i64, i64);

const COLUMNS: &str = "repository, digest, blob, manifest, media_type, deleted, restored";

fn held_of((repository, digest, blob, manifest, media, deleted, restored): Row) -> Held {
    Held {
        repository,
        digest,
        manifest: (blob == 0).then(|| (manifest.unwrap_or_default(), media)),
        deleted,
        restored: restored != 0,
    }
}

/// The rows of `rows` as holds.
pub(super) fn helds(rows: Vec<Row>) -> Vec<Held> {
    rows.into_iter().map(held_of).collect()
}

/// `SELECT` of every column from `registry_held` followed by `rest`.
pub(super) fn select(rest: &str) -> String {
    format!("SELECT {COLUMNS} FROM registry_held {rest}")
}

/// The hold SQL of `$store` (the same on both stores, `?` placeholders through `Self::sql`).
macro_rules! held_sql {
    ($store:ty) => {
        const _: () = {
            use $crate::store::StoreResult;
            use $crate::store::held::{Held, HeldStore, helds, select};

            #[async_trait::async_trait]
            impl HeldStore for $store {
                async fn hold(&self, h: &Held) -> StoreResult<()> {
                    let (manifest, media) = h
                        .manifest
                        .as_ref()
                        .map_or((None, ""), |(bytes, media)| (Some(bytes.as_slice()), media.as_str()));
                    $crate::store::sql::execute!(
                        self,
                        "INSERT INTO registry_held \
                         (repository, digest, blob, manifest, media_type, deleted) \
                         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (repository, digest, blob) \
                         DO UPDATE SET manifest = excluded.manifest, \
                         media_type = excluded.media_type, deleted = excluded.deleted, \
                         restored = 0, heard = 0",
                        &h.repository,
                        &h.digest,
                        i64::from(h.is_blob()),
                        manifest,
                        media,
                        h.deleted,
                    )?;
                    Ok(())
                }

                async fn holds_any(&self, repository: &str) -> StoreResult<bool> {
                    let found: Option<String> = $crate::store::sql::fetch_optional!(
                        scalar: self,
                        "SELECT digest FROM registry_held WHERE repository = ? AND restored = 0 LIMIT 1",
                        repository,
                    )?;
                    Ok(found.is_some())
                }

                async fn held(&self, repository: &str, digest: &str) -> StoreResult<Vec<Held>> {
                    let statement =
                        select("WHERE repository = ? AND digest = ? ORDER BY blob DESC");
                    let rows = sqlx::query_as(&Self::sql(&statement))
                        .bind(repository)
                        .bind(digest)
                        .fetch_all(&self.pool)
                        .await?;
                    Ok(helds(rows))
                }

                async fn restored(&self, h: &Held) -> StoreResult<()> {
                    $crate::store::sql::execute!(
                        self,
                        "UPDATE registry_held SET restored = 1 \
                         WHERE repository = ? AND digest = ? AND blob = ?",
                        &h.repository,
                        &h.digest,
                        i64::from(h.is_blob()),
                    )?;
                    Ok(())
                }

                async fn delete_heard(
                    &self,
                    repository: &str,
                    digest: &str,
                    made: i64,
                    now: i64,
                ) -> StoreResult<()> {
                    $crate::store::sql::execute!(
                        self,
                        "UPDATE registry_held SET heard = ? \
                         WHERE repository = ? AND digest = ? AND heard = 0 AND deleted <= ?",
                        now,
                        repository,
                        digest,
                        made,
                    )?;
                    Ok(())
                }

                async fn due_holds(&self, heard: i64, deleted: i64, limit: u32) -> StoreResult<Vec<Held>> {
                    let statement = select(
                        "WHERE (heard > 0 AND heard <= ?) OR deleted <= ? \
                         ORDER BY deleted, repository, digest LIMIT ?",
                    );
                    let rows = sqlx::query_as(&Self::sql(&statement))
                        .bind(heard)
                        .bind(deleted)
                        .bind(i64::from(limit))
                        .fetch_all(&self.pool)
                        .await?;
                    Ok(helds(rows))
                }

                async fn next_hold_due(&self, grace: i64, most: i64) -> StoreResult<Option<i64>> {
                    let (heard, deleted): (Option<i64>, Option<i64>) = sqlx::query_as(&Self::sql(
                        "SELECT min(CASE WHEN heard > 0 THEN heard END), min(deleted) FROM registry_held",
                    ))
                    .fetch_one(&self.pool)
                    .await?;
                    Ok(heard
                        .map(|h| h + grace)
                        .into_iter()
                        .chain(deleted.map(|d| d + most))
                        .min())
                }

                async fn blob_held_elsewhere(&self, digest: &str, except: &str) -> StoreResult<bool> {
                    let found: Option<String> = $crate::store::sql::fetch_optional!(
                        scalar: self,
                        "SELECT repository FROM registry_held WHERE digest = ? AND blob = 1 \
                         AND repository <> ? LIMIT 1",
                        digest,
                        except,
                    )?;
                    Ok(found.is_some())
                }

                async fn let_go(&self, h: &Held) -> StoreResult<()> {
                    $crate::store::sql::execute!(
                        self,
                        "DELETE FROM registry_held \
                         WHERE repository = ? AND digest = ? AND blob = ? AND deleted = ?",
                        &h.repository,
                        &h.digest,
                        i64::from(h.is_blob()),
                        h.deleted,
                    )?;
                    Ok(())
                }
            }
        };
    };
}
pub(super) use held_sql;
