//! The PostgreSQL store, for several replicas on one database: the same tables and the same
//! SQL as SQLite's (ported query for query in the `postgres_*` files), its own migrations
//! (`migrations-postgres/`). A write's transaction first takes the next revision by updating
//! the one `revision` row, so writes from every replica are serialized there, in commit order,
//! exactly as SQLite's write lock serializes them in one process: a stale resourceVersion is a
//! 409 whichever replica wrote first, and the change log's ids follow the revisions.

use async_trait::async_trait;
use sqlx::postgres::PgPool;
use sqlx::{Postgres, Transaction};
use tagstream_shared::user::{AuditEvent, TAGSTREAM_API_VERSION};
use tagstream_shared::{Image, ImageStream, ObjectMeta, Project, ProjectName, StreamName, Time};

use super::sqlite::{Change, decode_all, encode, on_constraint};
use super::{Listed, Store, StoreError, StoreResult};
use tagstream_shared::resources as kinds;

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

    /// The pool, for the lease queries of the background work.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A read-only transaction whose statements all see one snapshot: a list's revision and
    /// its rows (or a watch's newest change id and the rows it reads) agree, so a watch resumed
    /// from what it answered neither repeats nor misses a change. (Read committed, the default,
    /// gives each statement its own snapshot.)
    pub(super) async fn begin_snapshot(&self) -> StoreResult<Transaction<'static, Postgres>> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }

    pub(super) async fn begin_write(&self) -> StoreResult<(Transaction<'static, Postgres>, i64)> {
        let mut tx = self.pool.begin().await?;
        // The row lock taken here is held to commit: one writer at a time across replicas.
        let revision: i64 = sqlx::query_scalar(
            "UPDATE revision SET value = value + 1 WHERE id = 1 RETURNING value",
        )
        .fetch_one(&mut *tx)
        .await?;
        Ok((tx, revision))
    }

    /// Records a change in the audit log inside the transaction that makes it.
    pub(super) async fn record(
        tx: &mut Transaction<'static, Postgres>,
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
        sqlx::query("INSERT INTO audit_events (namespace, body) VALUES ($1, $2)")
            .bind(change.namespace)
            .bind(serde_json::to_string(&event)?)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// The current revision (what a list would answer), for tests and start-up logs.
    pub async fn current_revision(&self) -> StoreResult<u64> {
        let value: i64 = sqlx::query_scalar("SELECT value FROM revision WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(value).unwrap_or_default())
    }
}

#[async_trait]
impl Store for PgStore {
    async fn get_image(&self, digest: &str) -> StoreResult<Option<Image>> {
        let body: Option<String> = sqlx::query_scalar("SELECT body FROM images WHERE digest = $1")
            .bind(digest)
            .fetch_optional(&self.pool)
            .await?;
        Ok(body.map(|b| serde_json::from_str(&b)).transpose()?)
    }

    async fn put_image(&self, image: &Image) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO images (digest, body) VALUES ($1, $2) ON CONFLICT (digest) DO NOTHING",
        )
        .bind(image.digest())
        .bind(serde_json::to_string(image)?)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn list_projects(&self) -> StoreResult<Listed<Project>> {
        let mut tx = self.begin_snapshot().await?;
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
        let body: Option<String> = sqlx::query_scalar("SELECT body FROM projects WHERE name = $1")
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
             VALUES ($1, $2, $3, $4)",
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
            sqlx::query_as("DELETE FROM projects WHERE name = $1 RETURNING body, resource_version")
                .bind(name.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        let (body, before) =
            row.ok_or_else(|| StoreError::not_found(&kinds::PROJECTS, name.as_str()))?;
        let project = serde_json::from_str(&body)?;
        // Its history stays with it, not with the name: its events go, and its audit rows stay
        // in the cluster-wide log only (the body keeps the namespace; the column that a
        // project's log is read by is cleared), so a new project of the same name starts empty.
        sqlx::query("DELETE FROM events WHERE namespace = $1")
            .bind(name.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE audit_events SET namespace = NULL WHERE namespace = $1")
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
