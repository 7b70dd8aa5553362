//! Work that replicas share and that only one of them may do at a time (the import worker's
//! passes, start-up preparation): a lease per job, taken in the database, renewed by its
//! holder, and taken over by another replica once it runs out (its holder died). SQLite has
//! one process by design, so there every claim succeeds.

use async_trait::async_trait;

use super::StoreResult;
use super::postgres::PgStore;
use super::sqlite::SqliteStore;

#[async_trait]
pub trait LeaseStore: Send + Sync {
    /// Whether other processes share this store: background work must then be claimed, and
    /// writes by others arrive as notifications (see `ChangeStore::subscribe`).
    fn shared(&self) -> bool {
        false
    }

    /// How long a claim holds unless renewed.
    fn lease_seconds(&self) -> u64 {
        30
    }

    /// Takes lease `job` for this replica, or renews it: true if this replica holds it now.
    async fn claim(&self, _job: &str) -> StoreResult<bool> {
        Ok(true)
    }

    /// Gives lease `job` up (when this replica holds it), so another may take it at once.
    async fn release(&self, _job: &str) -> StoreResult<()> {
        Ok(())
    }

    /// Extends this replica's claims on the deliveries `ids` (see
    /// `TriggerStore::due_deliveries`) by a lease from `now`, while it is still sending them.
    async fn renew_deliveries(&self, _ids: &[String], _now: i64) -> StoreResult<()> {
        Ok(())
    }

    /// Waits until no other replica runs start-up preparation, and keeps them waiting until
    /// [`end_exclusive`](Self::end_exclusive) (or this process's death: a session advisory
    /// lock, released with its connection).
    async fn begin_exclusive(&self) -> StoreResult<()> {
        Ok(())
    }

    async fn end_exclusive(&self) -> StoreResult<()> {
        Ok(())
    }
}

/// The advisory lock key of start-up preparation (any constant; migrations use sqlx's own).
const PREPARE_LOCK: i64 = 0x7461_6773_7472_6d01;

impl LeaseStore for SqliteStore {}

#[async_trait]
impl LeaseStore for PgStore {
    fn shared(&self) -> bool {
        true
    }

    fn lease_seconds(&self) -> u64 {
        self.lease_seconds
    }

    async fn claim(&self, job: &str) -> StoreResult<bool> {
        // The database's clock decides, so replicas' clocks need not agree.
        let held: Option<String> = sqlx::query_scalar(
            "INSERT INTO leases (job, owner, lease_until) \
             VALUES ($1, $2, extract(epoch from now())::bigint + $3) \
             ON CONFLICT (job) DO UPDATE SET owner = excluded.owner, \
             lease_until = excluded.lease_until \
             WHERE leases.owner = excluded.owner \
                OR leases.lease_until <= extract(epoch from now())::bigint \
             RETURNING owner",
        )
        .bind(job)
        .bind(&self.replica)
        .bind(i64::try_from(self.lease_seconds).unwrap_or(i64::MAX))
        .fetch_optional(&self.pool)
        .await?;
        Ok(held.is_some())
    }

    async fn release(&self, job: &str) -> StoreResult<()> {
        sqlx::query("UPDATE leases SET lease_until = 0 WHERE job = $1 AND owner = $2")
            .bind(job)
            .bind(&self.replica)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn renew_deliveries(&self, ids: &[String], now: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE deliveries SET lease_until = $1 + $2 \
             WHERE id = ANY($3) AND lease_owner = $4 AND phase = 'Pending'",
        )
        .bind(now)
        .bind(i64::try_from(self.lease_seconds).unwrap_or(i64::MAX))
        .bind(ids)
        .bind(&self.replica)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn begin_exclusive(&self) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await?;
        // Not bound by the statement timeout: it waits for another replica's whole start-up.
        sqlx::query("SET statement_timeout = 0")
            .execute(&mut *conn)
            .await?;
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(PREPARE_LOCK)
            .execute(&mut *conn)
            .await?;
        sqlx::query("RESET statement_timeout")
            .execute(&mut *conn)
            .await?;
        *self.exclusive.lock().await = Some(conn);
        Ok(())
    }

    async fn end_exclusive(&self) -> StoreResult<()> {
        if let Some(mut conn) = self.exclusive.lock().await.take() {
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(PREPARE_LOCK)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }
}
