//! [`ChangeStore`] on SQLite: the `changes` table that triggers in the schema fill inside each
//! write's transaction, and the wake-up sent after each commit.

use async_trait::async_trait;
use sqlx::{Sqlite, Transaction};
use tagstream_shared::watch::WatchEventType;

use super::changes::{ChangeRow, ChangeStore, Cursor};
use super::sqlite::SqliteStore;
use super::{StoreError, StoreResult};

type Row = (i64, i64, String, String, Option<String>, String, String);

impl SqliteStore {
    /// Commits a write and wakes every watch. The access epoch is read inside the transaction
    /// and published after the commit, before the write's caller hears it succeeded: the next
    /// request sees any access it took away.
    pub(super) async fn commit(&self, mut tx: Transaction<'static, Sqlite>) -> StoreResult<()> {
        let epoch: i64 = sqlx::query_scalar("SELECT value FROM access_epoch WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        self.access.fetch_max(
            u64::try_from(epoch).unwrap_or_default(),
            std::sync::atomic::Ordering::SeqCst,
        );
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
        Ok(())
    }

    async fn floor(&self) -> StoreResult<u64> {
        let floor: i64 = sqlx::query_scalar("SELECT value FROM change_floor WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(floor).unwrap_or_default())
    }
}

#[async_trait]
impl ChangeStore for SqliteStore {
    fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changed.subscribe()
    }

    async fn cursor_after(&self, after: u64) -> StoreResult<Cursor> {
        let floor = self.floor().await?;
        if after < floor {
            return Ok(Cursor::Gone(floor));
        }
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let id: Option<i64> = sqlx::query_scalar("SELECT max(id) FROM changes WHERE revision <= ?")
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
             WHERE id > ? AND resource = ? ORDER BY id LIMIT ?",
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
                sqlx::query_as("SELECT name, created_revision FROM projects WHERE name = ?")
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
        // Kept by `commit`: this process makes every write to the file.
        Ok(self.access.load(std::sync::atomic::Ordering::SeqCst))
    }

    async fn prune_changes(&self, keep: u64) -> StoreResult<u64> {
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE change_floor SET value = max(value, coalesce(\
                (SELECT revision FROM changes WHERE id <= (SELECT max(id) FROM changes) - ? \
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store as _;
    use tagstream_shared::{Project, ProjectName};

    #[tokio::test]
    async fn the_log_prunes_itself_and_old_revisions_are_gone() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(&dir.path().join("t.db"))
            .await
            .expect("opens");
        for i in 0..2300 {
            let name: ProjectName = format!("p{i}").parse().expect("valid");
            store
                .create_project(&name, Project::new(name.as_str()), None)
                .await
                .expect("created");
        }
        let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM changes")
            .fetch_one(&store.pool)
            .await
            .expect("counts");
        assert!((2000..=2200).contains(&kept), "{kept} changes kept");
        assert!(matches!(store.cursor_after(1).await, Ok(Cursor::Gone(_))));
        let newest = store.current_revision().await.expect("revision");
        let Ok(Cursor::After(cursor)) = store.cursor_after(newest - 3).await else {
            panic!("a recent revision resumes");
        };
        let Ok(Ok((rows, _))) = store.changes_after(cursor, "projects", 10).await else {
            panic!("rows after a recent revision");
        };
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[2].name, "p2299");
    }
}
