//! `RegistryEventStore` on PostgreSQL: one row per applied event (the primary key makes two replicas claiming one event at once settle on one).

use async_trait::async_trait;

use super::StoreResult;
use super::postgres::PgStore;
use super::registry_events::{REMEMBER_SECONDS, RegistryEventStore};

#[async_trait]
impl RegistryEventStore for PgStore {
    async fn claim_event(&self, source: &str, id: &str, now: i64) -> StoreResult<bool> {
        sqlx::query("DELETE FROM registry_events WHERE received < $1")
            .bind(now.saturating_sub(REMEMBER_SECONDS))
            .execute(&self.pool)
            .await?;
        let done = sqlx::query(
            "INSERT INTO registry_events (source, id, received) VALUES ($1, $2, $3) \
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
        sqlx::query("DELETE FROM registry_events WHERE source = $1 AND id = $2")
            .bind(source)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
