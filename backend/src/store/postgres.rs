//! The PostgreSQL store, for several replicas on one database: the same tables and the same
//! SQL as SQLite's (ported query for query in the `postgres_*` files), its own migrations
//! (`migrations-postgres/`). A write's transaction first takes the next revision by updating
//! the one `revision` row, so writes from every replica are serialized there, in commit order,
//! exactly as SQLite's write lock serializes them in one process: a stale resourceVersion is a
//! 409 whichever replica wrote first, and the change log's ids follow the revisions.

use sqlx::Postgres;
use sqlx::postgres::PgPool;

use super::StoreResult;

super::sql::shared_sql!(PgStore, Postgres, sqlx::PgConnection);
super::sql_triggers::trigger_sql!(
    PgStore,
    Postgres,
    // A delivery another replica holds is due again when its lease runs out.
    "SELECT min(GREATEST(next_attempt, coalesce(lease_until, 0))) FROM deliveries \
     WHERE phase = 'Pending'",
    ", lease_owner = NULL, lease_until = NULL"
);
super::purges::purge_sql!(
    PgStore,
    Postgres,
    "FOR UPDATE SKIP LOCKED",
    |s: &PgStore| s.replica.clone()
);

#[derive(Debug, Clone)]
pub struct PgStore {
    pub(super) pool: PgPool,
    /// Bumped after every committed write here and on every NOTIFY from another replica, so
    /// that watches and the webhook sender look again.
    pub(super) changed: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
    /// This replica's name in leases (a new one per start).
    pub(super) replica: String,
    /// How long a lease (a claimed delivery, the import worker) holds unless renewed.
    pub(super) lease_seconds: u64,
    /// The connection holding the start-up advisory lock, while it is held.
    pub(super) exclusive:
        std::sync::Arc<tokio::sync::Mutex<Option<sqlx::pool::PoolConnection<Postgres>>>>,
}

impl PgStore {
    /// Closes every connection (and with them the LISTEN task).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A statement in PostgreSQL's dialect: its `?` placeholders numbered.
    fn sql(sql: &str) -> std::borrow::Cow<'_, str> {
        super::sql::numbered(sql)
    }

    /// True when the sides differ, NULL counting as a value.
    const IS_NOT: &str = "IS DISTINCT FROM";
    /// The column rows were inserted by.
    const INSERTION_ORDER: &str = "seq";
    /// What makes a read transaction see one snapshot: read committed, the default, gives each
    /// statement its own, so a list's revision and its rows (or a watch's newest change id and
    /// the rows it reads) could disagree and a watch resumed from the answer repeat a change.
    const READ_SNAPSHOT: Option<&str> =
        Some("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");

    /// The read point, read from the database on every call: another replica may have
    /// committed a moment ago, and its NOTIFY may not have arrived yet.
    pub(super) async fn point(&self) -> StoreResult<super::ReadPoint> {
        self.query_point().await
    }

    /// The pool, for the lease queries of the background work.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The current revision (what a list would answer), for tests and start-up logs.
    pub async fn current_revision(&self) -> StoreResult<u64> {
        let value: i64 = sqlx::query_scalar("SELECT value FROM revision WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(value).unwrap_or_default())
    }
}
