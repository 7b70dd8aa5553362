//! Triggers on SQLite ([`super::sql_triggers`] holds what both stores share): one process sends
//! every delivery, so a due delivery is simply read.

use super::StoreResult;
use super::sqlite::SqliteStore;
use super::triggers::DueRow;

impl SqliteStore {
    pub(super) async fn claim_due_deliveries(
        &self,
        now: i64,
        limit: u32,
    ) -> StoreResult<Vec<DueRow>> {
        Ok(sqlx::query_as(
            "SELECT id, namespace, trigger, event_id, body, attempts, created FROM deliveries \
             WHERE phase = 'Pending' AND next_attempt <= ? ORDER BY next_attempt, created LIMIT ?",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
    }
}
