//! `RegistryEventStore` on SQLite: one row per applied event.

use async_trait::async_trait;

use super::StoreResult;
use super::registry_events::{REMEMBER_SECONDS, RegistryEventStore};
use super::sqlite::SqliteStore;

#[async_trait]
impl RegistryEventStore for SqliteStore {
    async fn claim_event(&self, source: &str, id: &str, now: i64) -> StoreResult<bool> {
        sqlx::query("DELETE FROM registry_events WHERE received < ?")
            .bind(now.saturating_sub(REMEMBER_SECONDS))
            .execute(&self.pool)
            .await?;
        let done = sqlx::query(
            "INSERT INTO registry_events (source, id, received) VALUES (?, ?, ?) \
             ON CONFLICT (source, id) DO NOTHING",
        )
        .bind(source)
        .bind(id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn release_event(&self, source: &str, id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM registry_events WHERE source = ? AND id = ?")
            .bind(source)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
