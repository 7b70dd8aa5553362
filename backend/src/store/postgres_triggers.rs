//! Triggers on PostgreSQL ([`super::sql_triggers`] holds what both stores share): several
//! replicas send deliveries, so each due one is claimed by one replica for a lease.

use super::StoreResult;
use super::postgres::PgStore;
use super::triggers::DueRow;

impl PgStore {
    pub(super) async fn claim_due_deliveries(
        &self,
        now: i64,
        limit: u32,
    ) -> StoreResult<Vec<DueRow>> {
        // Claimed, not just read: each due delivery goes to one replica, which holds it for the
        // lease; if that replica dies before recording the attempt, another takes it after.
        Ok(sqlx::query_as(
            "UPDATE deliveries SET lease_owner = $3, lease_until = $1 + $4 WHERE id IN ( \
                SELECT id FROM deliveries WHERE phase = 'Pending' AND next_attempt <= $1 \
                AND coalesce(lease_until, 0) <= $1 ORDER BY next_attempt, created LIMIT $2 \
                FOR UPDATE SKIP LOCKED) \
             RETURNING id, namespace, trigger, event_id, body, attempts, created",
        )
        .bind(now)
        .bind(i64::from(limit))
        .bind(&self.replica)
        .bind(i64::try_from(self.lease_seconds).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?)
    }
}
