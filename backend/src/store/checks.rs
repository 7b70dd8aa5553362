//! When the import worker last asked the registry about each tag, kept in the database rather
//! than in one process's memory: every replica shows the same `tagstream.io/last-checked`, and
//! a replica that takes the import worker over (its holder died) continues the schedule from
//! the last check instead of starting every tag's interval afresh.

use super::StoreResult;
use super::postgres::PgStore;
use super::sqlite::SqliteStore;
use async_trait::async_trait;

/// A tag: (namespace, stream, tag).
pub type TagKey = (String, String, String);

#[async_trait]
pub trait CheckStore: Send + Sync {
    /// Records that the registry was asked about `tags` at `at_ms` (milliseconds since the
    /// epoch: a schedule continued by another replica must not run a second early), each with
    /// when its failed import is tried next (`None`: it did not fail), in one transaction.
    async fn record_checks(&self, tags: &[(TagKey, Option<i64>)], at_ms: i64) -> StoreResult<()>;

    /// When `tag` was last checked, and when its failed import is tried next (milliseconds
    /// since the epoch), if it has been checked.
    async fn last_check(&self, tag: &TagKey) -> StoreResult<Option<(i64, Option<i64>)>>;

    /// Every recorded check.
    async fn checks(&self) -> StoreResult<Vec<(TagKey, i64)>>;

    /// Forgets the checks of `tags` (removed tags, or their stream or project went), so that
    /// a new tag of the same name starts afresh.
    async fn forget_checks(&self, tags: &[TagKey]) -> StoreResult<()>;
}

type Row = (String, String, String, i64);

fn rows(rows: Vec<Row>) -> Vec<(TagKey, i64)> {
    rows.into_iter()
        .map(|(ns, stream, tag, at)| ((ns, stream, tag), at))
        .collect()
}

/// The same SQL on both databases but for the placeholders.
macro_rules! check_store {
    ($store:ty, $upsert:literal, $get:literal, $delete:literal) => {
        #[async_trait]
        impl CheckStore for $store {
            async fn record_checks(
                &self,
                tags: &[(TagKey, Option<i64>)],
                at_ms: i64,
            ) -> StoreResult<()> {
                if tags.is_empty() {
                    return Ok(());
                }
                let mut tx = self.pool.begin().await?;
                for (tag, next_try_ms) in tags {
                    sqlx::query($upsert)
                        .bind(&tag.0)
                        .bind(&tag.1)
                        .bind(&tag.2)
                        .bind(at_ms)
                        .bind(next_try_ms)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn last_check(&self, tag: &TagKey) -> StoreResult<Option<(i64, Option<i64>)>> {
                Ok(sqlx::query_as($get)
                    .bind(&tag.0)
                    .bind(&tag.1)
                    .bind(&tag.2)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn checks(&self) -> StoreResult<Vec<(TagKey, i64)>> {
                let found: Vec<Row> =
                    sqlx::query_as("SELECT namespace, stream, tag, checked_ms FROM tag_checks")
                        .fetch_all(&self.pool)
                        .await?;
                Ok(rows(found))
            }

            async fn forget_checks(&self, tags: &[TagKey]) -> StoreResult<()> {
                for tag in tags {
                    sqlx::query($delete)
                        .bind(&tag.0)
                        .bind(&tag.1)
                        .bind(&tag.2)
                        .execute(&self.pool)
                        .await?;
                }
                Ok(())
            }
        }
    };
}

check_store!(
    SqliteStore,
    "INSERT INTO tag_checks (namespace, stream, tag, checked_ms, next_try_ms) \
     VALUES (?, ?, ?, ?, ?) ON CONFLICT (namespace, stream, tag) \
     DO UPDATE SET checked_ms = excluded.checked_ms, next_try_ms = excluded.next_try_ms",
    "SELECT checked_ms, next_try_ms FROM tag_checks \
     WHERE namespace = ? AND stream = ? AND tag = ?",
    "DELETE FROM tag_checks WHERE namespace = ? AND stream = ? AND tag = ?"
);

check_store!(
    PgStore,
    "INSERT INTO tag_checks (namespace, stream, tag, checked_ms, next_try_ms) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (namespace, stream, tag) \
     DO UPDATE SET checked_ms = excluded.checked_ms, next_try_ms = excluded.next_try_ms",
    "SELECT checked_ms, next_try_ms FROM tag_checks \
     WHERE namespace = $1 AND stream = $2 AND tag = $3",
    "DELETE FROM tag_checks WHERE namespace = $1 AND stream = $2 AND tag = $3"
);
