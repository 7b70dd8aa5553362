//! The embedded SQLite store: one file, WAL, migrations compiled in. Objects are stored whole as
//! JSON beside the columns that find them; writes run in one transaction that first takes the
//! next revision, which also takes SQLite's write lock before anything is read.

use std::path::Path;
use std::str::FromStr as _;
use std::time::Duration;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};
use tagstream_shared::user::{AuditEvent, TAGSTREAM_API_VERSION};
use tagstream_shared::{Image, ImageStream, ObjectMeta, Project, ProjectName, StreamName, Time};

use super::objects::Stored;
use super::{Listed, Store, StoreError, StoreResult};
use tagstream_shared::object::ApiResource;
use tagstream_shared::resources as kinds;

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pub(super) pool: SqlitePool,
    /// Bumped after every committed write, so that watches and the webhook sender look again.
    pub(super) changed: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
    /// The `access_epoch` row as of the last commit. One process owns the file and every write
    /// commits through [`SqliteStore::commit`], which reads the row inside its transaction, so
    /// this is exact once the write returns: the authentication cache and open watches read it
    /// without a query.
    pub(super) access: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> StoreResult<Self> {
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
        let access: i64 = sqlx::query_scalar("SELECT value FROM access_epoch WHERE id = 1")
            .fetch_one(&pool)
            .await?;
        Ok(Self {
            pool,
            changed: std::sync::Arc::new(tokio::sync::watch::Sender::new(0)),
            access: std::sync::Arc::new(std::sync::atomic::AtomicU64::new(
                u64::try_from(access).unwrap_or_default(),
            )),
        })
    }

    /// Closes every connection, checkpointing the WAL.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(super) async fn begin_write(&self) -> StoreResult<(Transaction<'static, Sqlite>, i64)> {
        let mut tx = self.pool.begin().await?;
        let revision: i64 = sqlx::query_scalar(
            "UPDATE revision SET value = value + 1 WHERE id = 1 RETURNING value",
        )
        .fetch_one(&mut *tx)
        .await?;
        Ok((tx, revision))
    }

    /// Records a change in the audit log inside the transaction that makes it.
    pub(super) async fn record(
        tx: &mut Transaction<'static, Sqlite>,
        change: Change<'_>,
    ) -> StoreResult<()> {
        let event = AuditEvent {
            kind: AuditEvent::KIND.into(),
            api_version: TAGSTREAM_API_VERSION.into(),
            metadata: ObjectMeta {
                creation_timestamp: Some(Time::now()),
                ..ObjectMeta::default()
            },
            user: crate::audit::actor(),
            verb: change.verb.into(),
            resource: change.resource.to_string(),
            namespace: change.namespace.map(str::to_owned),
            name: change.name.to_owned(),
            resource_version_before: change.before.map(|v| v.to_string()),
            resource_version_after: change.after.map(|v| v.to_string()),
        };
        sqlx::query("INSERT INTO audit_events (namespace, body) VALUES (?, ?)")
            .bind(change.namespace)
            .bind(serde_json::to_string(&event)?)
            .execute(&mut **tx)
            .await?;
        Ok(())
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

#[async_trait]
impl Store for SqliteStore {
    async fn get_image(&self, digest: &str) -> StoreResult<Option<Image>> {
        let body: Option<String> = sqlx::query_scalar("SELECT body FROM images WHERE digest = ?")
            .bind(digest)
            .fetch_optional(&self.pool)
            .await?;
        Ok(body.map(|b| serde_json::from_str(&b)).transpose()?)
    }

    async fn put_image(&self, image: &Image) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO images (digest, body) VALUES (?, ?) ON CONFLICT (digest) DO NOTHING",
        )
        .bind(image.digest())
        .bind(serde_json::to_string(image)?)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn list_projects(&self) -> StoreResult<Listed<Project>> {
        let mut tx = self.pool.begin().await?;
        let revision: i64 = sqlx::query_scalar("SELECT value FROM revision WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        let bodies: Vec<String> = sqlx::query_scalar("SELECT body FROM projects ORDER BY name")
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Listed {
            items: decode_all(bodies)?,
            resource_version: u64::try_from(revision).unwrap_or_default(),
        })
    }

    async fn get_project(&self, name: &ProjectName) -> StoreResult<Project> {
        let body: Option<String> = sqlx::query_scalar("SELECT body FROM projects WHERE name = ?")
            .bind(name.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(serde_json::from_str(&body.ok_or_else(|| {
            StoreError::not_found(&kinds::PROJECTS, name.as_str())
        })?)?)
    }

    async fn create_project(
        &self,
        name: &ProjectName,
        mut project: Project,
        admin: Option<tagstream_shared::user::RoleBinding>,
    ) -> StoreResult<Project> {
        let (mut tx, revision) = self.begin_write().await?;
        let body = encode(&mut project, revision)?;
        sqlx::query(
            "INSERT INTO projects (name, resource_version, body, created_revision) \
             VALUES (?, ?, ?, ?)",
        )
        .bind(name.as_str())
        .bind(revision)
        .bind(body)
        .bind(revision)
        .execute(&mut *tx)
        .await
        .map_err(on_constraint(&kinds::PROJECTS, None, name.as_str()))?;
        Self::record(
            &mut tx,
            Change::create(&kinds::PROJECTS, None, name.as_str(), revision),
        )
        .await?;
        if let Some(mut binding) = admin {
            let binding_name = binding.metadata.name().to_owned();
            binding.metadata.namespace = Some(name.to_string());
            Self::insert_in(
                &mut tx,
                revision,
                &kinds::ROLEBINDINGS,
                name.as_str(),
                &binding_name,
                &mut binding,
            )
            .await?;
        }
        self.commit(tx).await?;
        Ok(project)
    }

    async fn delete_project(&self, name: &ProjectName) -> StoreResult<Project> {
        let (mut tx, _) = self.begin_write().await?;
        let row: Option<(String, i64)> =
            sqlx::query_as("DELETE FROM projects WHERE name = ? RETURNING body, resource_version")
                .bind(name.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        let (body, before) =
            row.ok_or_else(|| StoreError::not_found(&kinds::PROJECTS, name.as_str()))?;
        let project = serde_json::from_str(&body)?;
        // Its history stays with it, not with the name: its events go, and its audit rows stay
        // in the cluster-wide log only (the body keeps the namespace; the column that a
        // project's log is read by is cleared), so a new project of the same name starts empty.
        sqlx::query("DELETE FROM events WHERE namespace = ?")
            .bind(name.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE audit_events SET namespace = NULL WHERE namespace = ?")
            .bind(name.as_str())
            .execute(&mut *tx)
            .await?;
        Self::record(
            &mut tx,
            Change::delete(&kinds::PROJECTS, None, name.as_str(), Some(before)),
        )
        .await?;
        self.commit(tx).await?;
        Ok(project)
    }

    async fn create_image_stream(
        &self,
        ns: &ProjectName,
        name: &StreamName,
        mut stream: ImageStream,
    ) -> StoreResult<ImageStream> {
        let (mut tx, revision) = self.begin_write().await?;
        let (r, ns) = (&kinds::IMAGESTREAMS, ns.as_str());
        Self::insert_in(&mut tx, revision, r, ns, name.as_str(), &mut stream).await?;
        Self::enqueue_tag_moves(&mut tx, ns, None, &stream).await?;
        self.commit(tx).await?;
        Ok(stream)
    }

    async fn update_image_stream(
        &self,
        ns: &ProjectName,
        name: &StreamName,
        expected: u64,
        mut stream: ImageStream,
    ) -> StoreResult<ImageStream> {
        let (mut tx, revision) = self.begin_write().await?;
        let (r, ns) = (&kinds::IMAGESTREAMS, ns.as_str());
        let old = Self::update_in(
            &mut tx,
            revision,
            r,
            ns,
            name.as_str(),
            Some(expected),
            &mut stream,
        )
        .await?;
        let old: ImageStream = serde_json::from_str(&old)?;
        Self::enqueue_tag_moves(&mut tx, ns, Some(&old), &stream).await?;
        self.commit(tx).await?;
        Ok(stream)
    }
}

impl SqliteStore {
    /// The current revision (what a list would answer), for tests and start-up logs.
    pub async fn current_revision(&self) -> StoreResult<u64> {
        self.revision().await
    }
}
