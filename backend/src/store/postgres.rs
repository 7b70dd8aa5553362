//! The PostgreSQL store, for several replicas on one database: the same tables and the same
//! SQL as SQLite's (ported query for query in the `postgres_*` files), its own migrations
//! (`migrations-postgres/`). A write's transaction first takes the next revision by updating
//! the one `revision` row, so writes from every replica are serialized there, in commit order,
//! exactly as SQLite's write lock serializes them in one process: a stale resourceVersion is a
//! 409 whichever replica wrote first, and the change log's ids follow the revisions.

use async_trait::async_trait;
use sqlx::Postgres;
use sqlx::postgres::PgPool;
use tagstream_shared::{Image, Project, ProjectName};

use super::sqlite::{Change, decode_all, encode, on_constraint};
use super::unit::{WriteTx, unit_of_work};
use super::{Listed, Store, StoreError, StoreResult};
use crate::audit::Actor;

/// A unit of work on PostgreSQL.
pub(super) type PgTx = WriteTx<Postgres>;
unit_of_work!(PgStore, Postgres);
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

    /// Starts a write acting as `actor`. The row lock on the revision taken here is held to
    /// commit: one writer at a time across replicas.
    pub(super) async fn begin_write(&self, actor: &Actor) -> StoreResult<PgTx> {
        let mut tx = self.pool.begin().await?;
        let revision: i64 = sqlx::query_scalar(
            "UPDATE revision SET value = value + 1 WHERE id = 1 RETURNING value",
        )
        .fetch_one(&mut *tx)
        .await?;
        Ok(WriteTx::new(tx, revision, actor, &self.changed))
    }

    /// Commits a write and wakes every watch.
    pub(super) async fn commit(&self, tx: PgTx) -> StoreResult<()> {
        tx.finish().await
    }

    /// Records a change in the audit log inside the transaction that makes it.
    pub(super) async fn record(tx: &mut PgTx, change: Change<'_>) -> StoreResult<()> {
        let event = change.audit_event(&tx.actor);
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
        actor: &Actor,
        name: &ProjectName,
        mut project: Project,
        admin: Option<tagstream_shared::user::RoleBinding>,
    ) -> StoreResult<Project> {
        let mut tx = self.begin_write(actor).await?;
        let revision = tx.revision;
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

    async fn delete_project(&self, actor: &Actor, name: &ProjectName) -> StoreResult<Project> {
        let mut tx = self.begin_write(actor).await?;
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
}
