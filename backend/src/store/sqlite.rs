//! The embedded SQLite store: one file, WAL, migrations compiled in. Objects are stored whole as
//! JSON beside the columns that find them; writes run in one transaction that first takes the
//! next revision, which also takes SQLite's write lock before anything is read.

use std::path::Path;
use std::str::FromStr as _;
use std::time::Duration;

use serde::de::DeserializeOwned;
use sqlx::Sqlite;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use tagstream_shared::user::{AuditEvent, TAGSTREAM_API_VERSION};
use tagstream_shared::{ObjectMeta, Time};

use super::objects::Stored;
use super::{ReadPoint, StoreError, StoreResult};
use crate::audit::Actor;
use tagstream_shared::object::ApiResource;

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pub(super) pool: SqlitePool,
    /// Bumped after every committed write, so that watches and the webhook sender look again.
    pub(super) changed: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
    /// The last [`ReadPoint`] read, and the value of `changed` it was read after.
    point_memo: std::sync::Arc<std::sync::Mutex<Option<(u64, ReadPoint)>>>,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

super::sql::shared_sql!(SqliteStore, Sqlite, sqlx::SqliteConnection);
super::sql_triggers::trigger_sql!(
    SqliteStore,
    Sqlite,
    "SELECT min(next_attempt) FROM deliveries WHERE phase = 'Pending'",
    ""
);
// One process: every claim is this one's.
super::purges::purge_sql!(SqliteStore, Sqlite, "", |_: &SqliteStore| "local"
    .to_owned());

/// Makes the database file readable by its owner only (0600), creating it so if it does not
/// exist: it holds the server's signing key and secrets. SQLite gives its `-wal` and `-shm`
/// files the database's mode.
fn private_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let mode = std::fs::metadata(path)?.permissions().mode();
            if mode & 0o077 != 0 {
                tracing::warn!(path = %path.display(), "the database was readable by others: made it 0600");
                let beside = |suffix: &str| {
                    let mut name = path.as_os_str().to_owned();
                    name.push(suffix);
                    std::path::PathBuf::from(name)
                };
                for file in [path.to_owned(), beside("-wal"), beside("-shm")] {
                    if file.exists() {
                        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
                    }
                }
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        private_file(path).map_err(sqlx::Error::Io)?;
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self {
            pool,
            changed: std::sync::Arc::new(tokio::sync::watch::Sender::new(0)),
            point_memo: std::sync::Arc::default(),
        })
    }

    /// A statement in SQLite's dialect: as written, `GREATEST` being SQLite's `max`.
    fn sql(sql: &str) -> std::borrow::Cow<'_, str> {
        if sql.contains("GREATEST(") {
            return std::borrow::Cow::Owned(sql.replace("GREATEST(", "max("));
        }
        std::borrow::Cow::Borrowed(sql)
    }

    /// True when the sides differ, NULL counting as a value.
    const IS_NOT: &str = "IS NOT";
    /// A SQLite read transaction already sees one snapshot (from its first read to its end).
    const READ_SNAPSHOT: Option<&str> = None;
    /// The column rows were inserted by.
    const INSERTION_ORDER: &str = "rowid";

    /// Closes every connection, checkpointing the WAL.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The read point, from memory while nothing was committed since it was read. Exact
    /// because this process makes every write of the file and bumps `changed` right after
    /// each commit (`WriteTx::finish`, `delete_session`), before the writer answers: a request
    /// that starts after a write's response sees the bump and reads the rows again. (Reading
    /// the bump before the rows matters: a commit in between only makes the memo newer than
    /// the bump it is filed under, and the next bump reads again.)
    pub(super) async fn point(&self) -> StoreResult<ReadPoint> {
        let seen = *self.changed.borrow();
        let memo = |m: &std::sync::Mutex<Option<(u64, ReadPoint)>>| {
            *m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some((at, point)) = memo(&self.point_memo)
            && at == seen
        {
            return Ok(point);
        }
        let point = self.query_point().await?;
        *self
            .point_memo
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some((seen, point));
        Ok(point)
    }

    async fn revision(&self) -> StoreResult<u64> {
        let value: i64 = sqlx::query_scalar("SELECT value FROM revision WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(value).unwrap_or_default())
    }
}

/// One change for the audit log.
#[derive(Debug, Clone, Copy)]
pub(super) struct Change<'a> {
    pub verb: &'static str,
    /// Written `imagestreams.image.openshift.io` in the log.
    pub resource: &'static ApiResource,
    pub namespace: Option<&'a str>,
    pub name: &'a str,
    pub before: Option<i64>,
    pub after: Option<i64>,
}

impl<'a> Change<'a> {
    /// The audit log's entry for this change, made by `actor`.
    pub fn audit_event(&self, actor: &Actor) -> AuditEvent {
        AuditEvent {
            kind: AuditEvent::KIND.into(),
            api_version: TAGSTREAM_API_VERSION.into(),
            metadata: ObjectMeta {
                creation_timestamp: Some(Time::now()),
                ..ObjectMeta::default()
            },
            user: actor.name().to_owned(),
            verb: self.verb.into(),
            resource: self.resource.to_string(),
            namespace: self.namespace.map(str::to_owned),
            name: self.name.to_owned(),
            resource_version_before: self.before.map(|v| v.to_string()),
            resource_version_after: self.after.map(|v| v.to_string()),
        }
    }

    pub fn create(
        resource: &'static ApiResource,
        namespace: Option<&'a str>,
        name: &'a str,
        after: i64,
    ) -> Self {
        Self {
            verb: "create",
            resource,
            namespace,
            name,
            before: None,
            after: Some(after),
        }
    }

    pub fn update(
        resource: &'static ApiResource,
        namespace: Option<&'a str>,
        name: &'a str,
        before: i64,
        after: i64,
    ) -> Self {
        Self {
            verb: "update",
            resource,
            namespace,
            name,
            before: Some(before),
            after: Some(after),
        }
    }

    pub fn delete(
        resource: &'static ApiResource,
        namespace: Option<&'a str>,
        name: &'a str,
        before: Option<i64>,
    ) -> Self {
        Self {
            verb: "delete",
            resource,
            namespace,
            name,
            before,
            after: None,
        }
    }
}

/// Maps a constraint violation writing `name` of `resource` (in project `ns`) to what it
/// means for the caller; other errors pass through.
pub(super) fn on_constraint(
    resource: &'static ApiResource,
    ns: Option<&str>,
    name: &str,
) -> impl FnOnce(sqlx::Error) -> StoreError {
    let (ns, name) = (ns.unwrap_or_default().to_owned(), name.to_owned());
    move |err| {
        if let Some(db) = err.as_database_error() {
            match db.kind() {
                sqlx::error::ErrorKind::UniqueViolation => {
                    return StoreError::already_exists(resource, name);
                }
                sqlx::error::ErrorKind::ForeignKeyViolation => {
                    return StoreError::NoProject { name: ns };
                }
                _ => {}
            }
        }
        StoreError::Database(err)
    }
}

pub(super) fn encode(object: &mut dyn Stored, revision: i64) -> StoreResult<String> {
    object.set_resource_version(revision);
    Ok(object.encode()?)
}

pub(super) fn decode_all<T: DeserializeOwned>(bodies: Vec<String>) -> StoreResult<Vec<T>> {
    bodies
        .iter()
        .map(|b| serde_json::from_str(b).map_err(StoreError::from))
        .collect()
}

impl SqliteStore {
    /// The current revision (what a list would answer), for tests and start-up logs.
    pub async fn current_revision(&self) -> StoreResult<u64> {
        self.revision().await
    }
}
