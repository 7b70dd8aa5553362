//! Refused pushes still to take out of the integrated registry (migration 0017): recorded when a
//! notification is refused, taken out by the purge worker once due (`integrated::refused`). Any
//! replica may take one out; doing it twice deletes nothing more.

use async_trait::async_trait;

use super::StoreResult;

/// A refused push of manifest (or blob) `digest` to `repository` (as `tag`, if it named one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub repository: String,
    pub digest: String,
    pub tag: Option<String>,
    /// A blob pushed or mounted, not a manifest.
    pub blob: bool,
    /// Unix seconds from which it is taken out.
    pub due: i64,
    /// The registry's time of the push (Unix seconds; when the notification came, if it did not
    /// say).
    pub pushed: i64,
    /// Notifications of the same push heard after the first, when it was read: it is forgotten
    /// only if none came since (the manifest may be back).
    pub seen: i64,
}

#[async_trait]
pub trait RefusalStore: Send + Sync {
    /// Records `refusal` (one row per repository, digest, tag and whether it is a blob); the
    /// same push refused again keeps its first `due` (a pusher pushing
    /// it again and again must not put off its taking out) and counts in `seen`.
    async fn refuse_later(&self, refusal: &Refusal) -> StoreResult<()>;
    /// Moves `refusal` to `due` (a try failed).
    async fn postpone_refusal(&self, refusal: &Refusal, due: i64) -> StoreResult<()>;
    /// Up to `limit` refusals due at `now`, at most `per_repository` of any one repository, taken
    /// in turns: each repository's earliest first, then each one's second, and so on. A flood,
    /// in one repository or in several, must not keep the others' out of the batch.
    async fn due_refusals(
        &self,
        now: i64,
        per_repository: u32,
        limit: u32,
    ) -> StoreResult<Vec<Refusal>>;
    /// When the next refusal is due, if any.
    async fn next_refusal_due(&self) -> StoreResult<Option<i64>>;
    /// Forgets `refusal` (taken out), unless the same push was heard again since it was read.
    async fn forget_refusal(&self, refusal: &Refusal) -> StoreResult<()>;
    /// Marks the recorded push of `digest` to `repository` as made by someone who may push there.
    async fn vouch_push(&self, repository: &str, digest: &str) -> StoreResult<()>;
    /// Marks `digest` of `repository` as deleted from the registry (its owner, or tagstream,
    /// deleted the manifest or the blob link): it is vouched for no more, until someone who may
    /// push there pushes it again.
    async fn withdraw_push(&self, repository: &str, digest: &str) -> StoreResult<()>;
    /// Records that an envelope of notifications came at `now` (tagstream's clock) and, once
    /// applied, the registry's time of its newest push (`newest`).
    async fn heard(&self, newest: Option<i64>, now: i64) -> StoreResult<()>;
    /// How far the registry's notifications were read: the registry's time of the newest push
    /// applied, and when the last envelope came.
    async fn last_heard(&self) -> StoreResult<Option<(i64, i64)>>;
    /// Marks `blobs` (those a manifest pushed by someone who may push there uses) as theirs
    /// too, recorded for the name's purge if they were not: a layer their client did not upload
    /// because the registry had it is as much theirs as one it did.
    async fn vouch_blobs(&self, repository: &str, blobs: &[String], now: i64) -> StoreResult<()>;
    /// Whether `digest` (a manifest or a blob) of `repository` was pushed, or is used by a
    /// manifest pushed, by someone who may push there, and not deleted since; or deleted since
    /// the last such push (see `withdraw_push`).
    async fn vouch_of(&self, repository: &str, digest: &str) -> StoreResult<Vouch>;

    /// Whether `digest` of `repository` is [`Vouch::Vouched`].
    async fn is_vouched(&self, repository: &str, digest: &str) -> StoreResult<bool> {
        Ok(self.vouch_of(repository, digest).await? == Vouch::Vouched)
    }
}

/// What the pushes and deletes the registry told of say of one digest of a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vouch {
    /// Pushed, or used by a manifest pushed, by someone who may push there.
    Vouched,
    /// Deleted from the registry since the last such push.
    Withdrawn,
    /// Neither.
    Unknown,
}

/// A due refusal's row: repository, digest, tag (empty for none), blob, due, seen, pushed.
pub(super) type RefusalRow = (String, String, String, i64, i64, i64, i64);

impl From<RefusalRow> for Refusal {
    fn from((repository, digest, tag, blob, due, seen, pushed): RefusalRow) -> Self {
        Refusal {
            repository,
            digest,
            tag: Some(tag).filter(|t| !t.is_empty()),
            blob: blob != 0,
            due,
            pushed,
            seen,
        }
    }
}

/// The refusal SQL of `$store` (the same on both stores, `?` placeholders through `Self::sql`).
macro_rules! refusal_sql {
    ($store:ty) => {
        const _: () = {
            use $crate::store::StoreResult;
            use $crate::store::refusals::{Refusal, RefusalStore};

            impl $store {
                /// Marks the recorded push of `digest` to `repository` as vouched for, or as
                /// withdrawn (deleted from the registry) when not `vouched`.
                async fn mark_push(
                    &self,
                    repository: &str,
                    digest: &str,
                    vouched: bool,
                ) -> StoreResult<()> {
                    $crate::store::sql::execute!(
                        self,
                        "UPDATE registry_pushes SET vouched = ?, withdrawn = ? \
                         WHERE repository = ? AND digest = ?",
                        i64::from(vouched),
                        i64::from(!vouched),
                        repository,
                        digest,
                    )?;
                    Ok(())
                }
            }

            #[async_trait::async_trait]
            impl RefusalStore for $store {
                async fn refuse_later(&self, r: &Refusal) -> StoreResult<()> {
                    $crate::store::sql::execute!(
                        self,
                        "INSERT INTO registry_refusals \
                         (repository, digest, tag, blob, due, pushed) \
                         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (repository, digest, tag, blob) \
                         DO UPDATE SET seen = registry_refusals.seen + 1",
                        &r.repository,
                        &r.digest,
                        r.tag.as_deref().unwrap_or_default(),
                        i64::from(r.blob),
                        r.due,
                        r.pushed,
                    )?;
                    Ok(())
                }

                async fn postpone_refusal(&self, r: &Refusal, due: i64) -> StoreResult<()> {
                    $crate::store::sql::execute!(
                        self,
                        "UPDATE registry_refusals SET due = ? \
                         WHERE repository = ? AND digest = ? AND tag = ? AND blob = ?",
                        due,
                        &r.repository,
                        &r.digest,
                        r.tag.as_deref().unwrap_or_default(),
                        i64::from(r.blob),
                    )?;
                    Ok(())
                }

                async fn due_refusals(
                    &self,
                    now: i64,
                    per_repository: u32,
                    limit: u32,
                ) -> StoreResult<Vec<Refusal>> {
                    $crate::store::sql::fetch_all!(
                        self,
                        $crate::store::refusals::RefusalRow,
                        "SELECT repository, digest, tag, blob, due, seen, pushed FROM ( \
                           SELECT repository, digest, tag, blob, due, seen, pushed, row_number() OVER \
                             (PARTITION BY repository ORDER BY due, digest, tag) AS turn \
                           FROM registry_refusals WHERE due <= ?) AS due_now \
                         WHERE turn <= ? ORDER BY turn, due, repository, digest, tag LIMIT ?",
                        now,
                        i64::from(per_repository),
                        i64::from(limit),
                    )
                }

                async fn next_refusal_due(&self) -> StoreResult<Option<i64>> {
                    Ok(
                        sqlx::query_scalar(&Self::sql("SELECT min(due) FROM registry_refusals"))
                            .fetch_one(&self.pool)
                            .await?,
                    )
                }

                async fn vouch_push(&self, repository: &str, digest: &str) -> StoreResult<()> {
                    self.mark_push(repository, digest, true).await
                }

                async fn withdraw_push(&self, repository: &str, digest: &str) -> StoreResult<()> {
                    self.mark_push(repository, digest, false).await
                }

                async fn vouch_blobs(
                    &self,
                    repository: &str,
                    blobs: &[String],
                    now: i64,
                ) -> StoreResult<()> {
                    let project = repository.split_once('/').map_or(repository, |(p, _)| p);
                    let mut tx = self.pool.begin().await?;
                    for blob in blobs {
                        sqlx::query(&Self::sql(
                            "INSERT INTO registry_pushes \
                             (repository, digest, project, first_pushed, vouched) \
                             VALUES (?, ?, ?, ?, 1) ON CONFLICT (repository, digest) \
                             DO UPDATE SET vouched = 1, withdrawn = 0",
                        ))
                        .bind(repository)
                        .bind(blob)
                        .bind(project)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    }
                    tx.commit().await?;
                    Ok(())
                }

                async fn heard(&self, newest: Option<i64>, now: i64) -> StoreResult<()> {
                    $crate::store::sql::execute!(
                        self,
                        "INSERT INTO registry_heard (id, newest, received) VALUES (1, ?, ?) \
                         ON CONFLICT (id) DO UPDATE SET received = excluded.received, \
                         newest = CASE WHEN excluded.newest > registry_heard.newest \
                         THEN excluded.newest ELSE registry_heard.newest END",
                        newest.unwrap_or(0),
                        now,
                    )?;
                    Ok(())
                }

                async fn last_heard(&self) -> StoreResult<Option<(i64, i64)>> {
                    $crate::store::sql::fetch_optional!(
                        self,
                        "SELECT newest, received FROM registry_heard WHERE id = 1",
                    )
                }

                async fn vouch_of(
                    &self,
                    repository: &str,
                    digest: &str,
                ) -> StoreResult<$crate::store::refusals::Vouch> {
                    use $crate::store::refusals::Vouch;
                    let row: Option<(i64, i64)> = $crate::store::sql::fetch_optional!(
                        self,
                        "SELECT vouched, withdrawn FROM registry_pushes \
                         WHERE repository = ? AND digest = ?",
                        repository,
                        digest,
                    )?;
                    Ok(match row {
                        Some((vouched, _)) if vouched != 0 => Vouch::Vouched,
                        Some((_, withdrawn)) if withdrawn != 0 => Vouch::Withdrawn,
                        _ => Vouch::Unknown,
                    })
                }

                async fn forget_refusal(&self, r: &Refusal) -> StoreResult<()> {
                    $crate::store::sql::execute!(
                        self,
                        "DELETE FROM registry_refusals \
                         WHERE repository = ? AND digest = ? AND tag = ? AND blob = ? \
                         AND seen = ?",
                        &r.repository,
                        &r.digest,
                        r.tag.as_deref().unwrap_or_default(),
                        i64::from(r.blob),
                        r.seen,
                    )?;
                    Ok(())
                }
            }
        };
    };
}
pub(super) use refusal_sql;
