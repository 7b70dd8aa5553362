//! [`ChangeStore`] on PostgreSQL (ported from the SQLite one, query for query): the `changes` table that triggers in the schema fill inside each
//! write's transaction, and the wake-up sent after each commit.

use async_trait::async_trait;
use tagstream_shared::watch::WatchEventType;

use super::changes::{ChangeRow, ChangeStore, Cursor};
use super::postgres::PgStore;
use super::{StoreError, StoreResult};

type Row = (i64, i64, String, String, Option<String>, String, String);

impl PgStore {
    async fn floor(&self) -> StoreResult<u64> {
        let floor: i64 = sqlx::query_scalar("SELECT value FROM change_floor WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(floor).unwrap_or_default())
    }
}

#[async_trait]
impl ChangeStore for PgStore {
    fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changed.subscribe()
    }

    async fn cursor_after(&self, after: u64) -> StoreResult<Cursor> {
        let floor = self.floor().await?;
        if after < floor {
            return Ok(Cursor::Gone(floor));
        }
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let id: Option<i64> =
            sqlx::query_scalar("SELECT max(id) FROM changes WHERE revision <= $1")
                .bind(after)
                .fetch_one(&self.pool)
                .await?;
        match id {
            Some(id) => Ok(Cursor::After(id)),
            // Nothing kept at or before the revision: start before the oldest row kept.
            None => {
                let min: Option<i64> = sqlx::query_scalar("SELECT min(id) FROM changes")
                    .fetch_one(&self.pool)
                    .await?;
                Ok(Cursor::After(min.map_or(0, |m| m - 1)))
            }
        }
    }

    async fn changes_after(
        &self,
        cursor: i64,
        resource: &str,
        limit: u32,
    ) -> StoreResult<Result<(Vec<ChangeRow>, i64), u64>> {
        let mut tx = self.pool.begin().await?;
        let oldest: Option<i64> = sqlx::query_scalar("SELECT min(id) FROM changes")
            .fetch_one(&mut *tx)
            .await?;
        if oldest.is_some_and(|o| o > cursor + 1) {
            // Rows right after the cursor were pruned: the watch fell too far behind.
            let floor: i64 = sqlx::query_scalar("SELECT value FROM change_floor WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(Err(u64::try_from(floor).unwrap_or_default()));
        }
        let newest: Option<i64> = sqlx::query_scalar("SELECT max(id) FROM changes")
            .fetch_one(&mut *tx)
            .await?;
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, revision, type, resource, namespace, name, body FROM changes \
             WHERE id > $1 AND resource = $2 ORDER BY id LIMIT $3",
        )
        .bind(cursor)
        .bind(resource)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let full = rows.len() >= usize::try_from(limit).unwrap_or(usize::MAX);
        let next = match (full, rows.last()) {
            (true, Some(last)) => last.0,
            _ => newest.unwrap_or(cursor).max(cursor),
        };
        rows.into_iter()
            .map(|(id, revision, kind, resource, namespace, name, body)| {
                Ok(ChangeRow {
                    id,
                    revision: u64::try_from(revision).unwrap_or_default(),
                    kind: WatchEventType::parse(&kind).ok_or_else(|| {
                        StoreError::Config(format!("change {id} has an unknown type {kind:?}"))
                    })?,
                    resource,
                    namespace,
                    name,
                    body,
                })
            })
            .collect::<StoreResult<Vec<_>>>()
            .map(|rows| Ok((rows, next)))
    }

    async fn project_floors(
        &self,
        only: Option<&str>,
    ) -> StoreResult<std::collections::BTreeMap<String, u64>> {
        let rows: Vec<(String, i64)> = match only {
            Some(name) => {
                sqlx::query_as("SELECT name, created_revision FROM projects WHERE name = $1")
                    .bind(name)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query_as("SELECT name, created_revision FROM projects")
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        Ok(rows
            .into_iter()
            .map(|(name, at)| (name, u64::try_from(at).unwrap_or_default()))
            .collect())
    }

    async fn access_epoch(&self) -> StoreResult<u64> {
        let value: i64 = sqlx::query_scalar("SELECT value FROM access_epoch WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(value).unwrap_or_default())
    }

    async fn prune_changes(&self, keep: u64) -> StoreResult<u64> {
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE change_floor SET value = GREATEST(value, coalesce(\
                (SELECT revision FROM changes WHERE id <= (SELECT max(id) FROM changes) - $1 \
                 ORDER BY id DESC LIMIT 1), value)) WHERE id = 1",
        )
        .bind(keep)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM changes WHERE revision <= (SELECT value FROM change_floor WHERE id = 1)",
        )
        .execute(&mut *tx)
        .await?;
        let floor: i64 = sqlx::query_scalar("SELECT value FROM change_floor WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(u64::try_from(floor).unwrap_or_default())
    }
}
