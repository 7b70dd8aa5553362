//! Opening the PostgreSQL store: pool size and statement timeout, a clear error when the
//! database is unreachable or its schema is newer than this binary, migrations that two
//! replicas may run at once (sqlx's migrator holds `pg_advisory_lock` while it migrates), and
//! the LISTEN task that wakes this replica's watches and webhook sender when another replica
//! commits.

use std::str::FromStr as _;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};

use super::postgres::PgStore;
use super::{StoreError, StoreResult};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations-postgres");

/// The channel the schema's triggers NOTIFY on every committed change or new delivery.
const CHANNEL: &str = "tagstream_changes";

/// How a replica uses its database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatabaseSettings {
    /// Connections each replica keeps at most (PostgreSQL's `max_connections` must cover every
    /// replica's pool plus one LISTEN connection each).
    pub max_connections: u32,
    /// A statement running longer is cancelled by the server (and its request fails) rather
    /// than holding locks that every writer waits for.
    pub statement_timeout: Duration,
    /// How long start-up and a request wait for a connection before failing.
    pub connect_timeout: Duration,
    /// How long a replica's claim on shared background work (a webhook delivery being sent,
    /// the import worker) holds unless renewed: a dead replica's work is taken over after it.
    /// Longer than a webhook's timeout, or a slow delivery may be sent twice.
    pub lease: Duration,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            max_connections: 10,
            statement_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            lease: Duration::from_secs(30),
        }
    }
}

/// `host:port/database` of a URL, never its password, for error messages.
fn describe(options: &PgConnectOptions) -> String {
    format!(
        "{}:{}/{}",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or("(default)")
    )
}

impl PgStore {
    /// Connects, checks the schema is not newer than this binary, migrates (under an advisory
    /// lock) and starts listening for other replicas' changes.
    pub async fn open(url: &str, settings: DatabaseSettings) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Config(format!("the database URL does not parse: {e}")))?
            .application_name("tagstream")
            .options([(
                "statement_timeout",
                format!("{}ms", settings.statement_timeout.as_millis()),
            )]);
        let at = describe(&options);
        let pool = PgPoolOptions::new()
            // One for the LISTEN connection, at least one for requests.
            .max_connections(settings.max_connections.max(2))
            .acquire_timeout(settings.connect_timeout)
            .connect_with(options)
            .await
            .map_err(|e| {
                StoreError::Config(format!("cannot reach the PostgreSQL database at {at}: {e}"))
            })?;
        check_schema_version(&pool, &at).await?;
        MIGRATOR.run(&pool).await?;
        let store = Self {
            pool,
            changed: std::sync::Arc::new(tokio::sync::watch::Sender::new(0)),
            replica: uuid::Uuid::new_v4().to_string(),
            lease_seconds: settings.lease.as_secs().max(1),
            exclusive: std::sync::Arc::default(),
        };
        store.listen().await?;
        Ok(store)
    }

    /// Wakes local watchers on every NOTIFY; and when the LISTEN connection drops (a
    /// notification may have been missed) or nothing came for a while, wakes them anyway:
    /// they re-read the change log, which is the source of truth.
    async fn listen(&self) -> StoreResult<()> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(CHANNEL).await?;
        let changed = self.changed.clone();
        let pool = self.pool.clone();
        tokio::spawn(async move {
            loop {
                match listener.try_recv().await {
                    // A notification, or a dropped connection (re-listened on the next call,
                    // and something may have been missed meanwhile): look again either way.
                    Ok(_) => {}
                    Err(e) => {
                        if pool.is_closed() {
                            return;
                        }
                        tracing::warn!(error = %e, "LISTEN connection failed; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
                changed.send_modify(|n| *n = n.wrapping_add(1));
            }
        });
        // And every few seconds regardless, so that a lost notification only delays.
        let changed = self.changed.clone();
        let pool = self.pool.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            while !pool.is_closed() {
                tick.tick().await;
                changed.send_modify(|n| *n = n.wrapping_add(1));
            }
        });
        Ok(())
    }
}

/// Refuses a database migrated by a newer tagstream: this binary would misread its tables.
async fn check_schema_version(pool: &PgPool, at: &str) -> StoreResult<()> {
    let table: Option<String> = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations')::text")
        .fetch_one(pool)
        .await?;
    if table.is_none() {
        return Ok(());
    }
    let applied: Option<i64> =
        sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(pool)
            .await?;
    let known = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
    match applied {
        Some(applied) if applied > known => Err(StoreError::Config(format!(
            "the database at {at} has schema version {applied}, newer than this tagstream's \
             {known}: run the newer tagstream (or a database of this version)"
        ))),
        _ => Ok(()),
    }
}
