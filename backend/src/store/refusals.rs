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
    /// Notifications of the same push heard after the first, when it was read: it is forgotten
    /// only if none came since (the manifest may be back).
    pub seen: i64,
}

#[async_trait]
pub trait RefusalStore: Send + Sync {
    /// Records `refusal`; the same push refused again keeps its first `due` (a pusher pushing
    /// it again and again must not put off its taking out) and counts in `seen`.
    async fn refuse_later(&self, refusal: &Refusal) -> StoreResult<()>;
    /// Moves `refusal` to `due` (a try failed).
    async fn postpone_refusal(&self, refusal: &Refusal, due: i64) -> StoreResult<()>;
    /// Up to `limit` refusals due at `now`, the earliest first.
    async fn due_refusals(&self, now: i64, limit: u32) -> StoreResult<Vec<Refusal>>;
    /// When the next refusal is due, if any.
    async fn next_refusal_due(&self) -> StoreResult<Option<i64>>;
    /// Forgets `refusal` (taken out), unless the same push was heard again since it was read.
    async fn forget_refusal(&self, refusal: &Refusal) -> StoreResult<()>;
    /// Marks the recorded push of `digest` to `repository` as made by someone who may push there.
    async fn vouch_push(&self, repository: &str, digest: &str) -> StoreResult<()>;
    /// Up to `limit` digests pushed to `repository` by someone who may push there (manifests and
    /// blobs alike: the notifications do not tell them apart once recorded), `digest` first if
    /// it is one.
    async fn vouched(&self, repository: &str, digest: &str, limit: u32)
    -> StoreResult<Vec<String>>;
}

/// The refusal SQL of `$store` (the same on both stores, `?` placeholders through `Self::sql`).
macro_rules! refusal_sql {
    ($store:ty) => {
        const _: () = {
            use $crate::store::StoreResult;
            use $crate::store::refusals::{Refusal, RefusalStore};

            #[async_trait::async_trait]
            impl RefusalStore for $store {
                async fn refuse_later(&self, r: &Refusal) -> StoreResult<()> {
                    $crate::store::sql::execute!(
                        self,
                        "INSERT INTO registry_refusals (repository, digest, tag, blob, due) \
                         VALUES (?, ?, ?, ?, ?) ON CONFLICT (repository, digest, tag) \
                         DO UPDATE SET seen = registry_refusals.seen + 1",
                        &r.repository,
                        &r.digest,
                        r.tag.as_deref().unwrap_or_default(),
                        i64::from(r.blob),
                        r.due,
                    )?;
                    Ok(())
                }

                async fn postpone_refusal(&self, r: &Refusal, due: i64) -> StoreResult<()> {
                    $crate::store::sql::execute!(
                        self,
                        "UPDATE registry_refusals SET due = ? \
                         WHERE repository = ? AND digest = ? AND tag = ?",
                        due,
                        &r.repository,
                        &r.digest,
                        r.tag.as_deref().unwrap_or_default(),
                    )?;
                    Ok(())
                }

                async fn due_refusals(&self, now: i64, limit: u32) -> StoreResult<Vec<Refusal>> {
                    let rows: Vec<(String, String, String, i64, i64, i64)> = sqlx::query_as(&Self::sql(
                        "SELECT repository, digest, tag, blob, due, seen FROM registry_refusals \
                         WHERE due <= ? ORDER BY due, repository, digest, tag LIMIT ?",
                    ))
                    .bind(now)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(rows
                        .into_iter()
                        .map(|(repository, digest, tag, blob, due, seen)| Refusal {
                            repository,
                            digest,
                            tag: Some(tag).filter(|t| !t.is_empty()),
                            blob: blob != 0,
                            due,
                            seen,
                        })
                        .collect())
                }

                async fn next_refusal_due(&self) -> StoreResult<Option<i64>> {
                    Ok(
                        sqlx::query_scalar(&Self::sql("SELECT min(due) FROM registry_refusals"))
                            .fetch_one(&self.pool)
                            .await?,
                    )
                }

                async fn vouch_push(&self, repository: &str, digest: &str) -> StoreResult<()> {
                    $crate::store::sql::execute!(
                        self,
                        "UPDATE registry_pushes SET vouched = 1 \
                         WHERE repository = ? AND digest = ?",
                        repository,
                        digest,
                    )?;
                    Ok(())
                }

                async fn vouched(
                    &self,
                    repository: &str,
                    digest: &str,
                    limit: u32,
                ) -> StoreResult<Vec<String>> {
                    Ok(sqlx::query_scalar(&Self::sql(
                        "SELECT digest FROM registry_pushes \
                         WHERE repository = ? AND vouched = 1 \
                         ORDER BY CASE WHEN digest = ? THEN 0 ELSE 1 END, first_pushed DESC \
                         LIMIT ?",
                    ))
                    .bind(repository)
                    .bind(digest)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?)
                }

                async fn forget_refusal(&self, r: &Refusal) -> StoreResult<()> {
                    $crate::store::sql::execute!(
                        self,
                        "DELETE FROM registry_refusals \
                         WHERE repository = ? AND digest = ? AND tag = ? AND seen = ?",
                        &r.repository,
                        &r.digest,
                        r.tag.as_deref().unwrap_or_default(),
                        r.seen,
                    )?;
                    Ok(())
                }
            }
        };
    };
}
pub(super) use refusal_sql;
