//! The generic object store on PostgreSQL: the same rows, checks and audit records as on
//! SQLite (see `objects.rs`), in PostgreSQL's dialect.

use async_trait::async_trait;
use sqlx::PgConnection;
use tagstream_shared::object::ApiResource;

use super::objects::audit_ns;
use super::objects::{ObjectStore, Stored};
use super::postgres::{PgStore, PgTx};
use super::sqlite::Change;
use super::unit::UnitOfWork;
use super::{Listed, StoreError, StoreResult};
use crate::audit::Actor;

impl PgStore {
    /// The stored resourceVersion and body, inside a transaction.
    pub(super) async fn row_in(
        tx: &mut PgConnection,
        r: &'static ApiResource,
        ns: &str,
        name: &str,
    ) -> StoreResult<Option<(i64, String)>> {
        Ok(sqlx::query_as(
            "SELECT resource_version, body FROM objects \
             WHERE resource = $1 AND namespace = $2 AND name = $3",
        )
        .bind(r.plural)
        .bind(ns)
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?)
    }

    /// Inserts a new object at `revision` and records it in the audit log.
    pub(super) async fn insert_in(
        tx: &mut PgTx,
        revision: i64,
        r: &'static ApiResource,
        ns: &str,
        name: &str,
        object: &mut dyn Stored,
    ) -> StoreResult<()> {
        if r.is_namespaced() {
            let project: Option<i64> =
                sqlx::query_scalar("SELECT 1::bigint FROM projects WHERE name = $1")
                    .bind(ns)
                    .fetch_optional(&mut **tx)
                    .await?;
            if project.is_none() {
                return Err(StoreError::NoProject {
                    name: ns.to_owned(),
                });
            }
        }
        object.set_resource_version(revision);
        sqlx::query(
            "INSERT INTO objects (resource, namespace, name, resource_version, body) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(r.plural)
        .bind(ns)
        .bind(name)
        .bind(revision)
        .bind(object.encode()?)
        .execute(&mut **tx)
        .await
        .map_err(super::sqlite::on_constraint(r, audit_ns(ns), name))?;
        Self::record(tx, Change::create(r, audit_ns(ns), name, revision)).await
    }

    /// Replaces an object at `expected` with `object` at `revision`; answers the old body.
    pub(super) async fn update_in(
        tx: &mut PgTx,
        revision: i64,
        r: &'static ApiResource,
        ns: &str,
        name: &str,
        expected: Option<u64>,
        object: &mut dyn Stored,
    ) -> StoreResult<String> {
        let (before, old) = Self::row_in(tx, r, ns, name)
            .await?
            .ok_or_else(|| StoreError::not_found(r, name))?;
        if expected.is_some_and(|e| u64::try_from(before).ok() != Some(e)) {
            return Err(StoreError::conflict(r, name));
        }
        object.set_resource_version(revision);
        sqlx::query(
            "UPDATE objects SET resource_version = $1, body = $2 \
             WHERE resource = $3 AND namespace = $4 AND name = $5",
        )
        .bind(revision)
        .bind(object.encode()?)
        .bind(r.plural)
        .bind(ns)
        .bind(name)
        .execute(&mut **tx)
        .await?;
        Self::record(tx, Change::update(r, audit_ns(ns), name, before, revision)).await?;
        Ok(old)
    }

    /// Removes an object and records it; answers its body as it was.
    pub(super) async fn remove_in(
        tx: &mut PgTx,
        r: &'static ApiResource,
        ns: &str,
        name: &str,
    ) -> StoreResult<String> {
        let row: Option<(String, i64)> = sqlx::query_as(
            "DELETE FROM objects WHERE resource = $1 AND namespace = $2 AND name = $3 \
             RETURNING body, resource_version",
        )
        .bind(r.plural)
        .bind(ns)
        .bind(name)
        .fetch_optional(&mut **tx)
        .await?;
        let (body, before) = row.ok_or_else(|| StoreError::not_found(r, name))?;
        Self::record(tx, Change::delete(r, audit_ns(ns), name, Some(before))).await?;
        Ok(body)
    }

    /// Every body of a resource inside a transaction (`ns` or every project), by project
    /// and name.
    pub(super) async fn bodies_in(
        tx: &mut PgConnection,
        r: &'static ApiResource,
        ns: Option<&str>,
    ) -> StoreResult<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT namespace, body FROM objects WHERE resource = $1 \
             AND ($2 IS NULL OR namespace = $3) ORDER BY namespace, name",
        )
        .bind(r.plural)
        .bind(ns)
        .bind(ns)
        .fetch_all(&mut *tx)
        .await?)
    }
}

#[async_trait]
impl ObjectStore for PgStore {
    async fn get_body(&self, r: &'static ApiResource, ns: &str, name: &str) -> StoreResult<String> {
        let body: Option<String> = sqlx::query_scalar(
            "SELECT body FROM objects WHERE resource = $1 AND namespace = $2 AND name = $3",
        )
        .bind(r.plural)
        .bind(ns)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        body.ok_or_else(|| StoreError::not_found(r, name))
    }

    async fn list_bodies(
        &self,
        r: &'static ApiResource,
        ns: Option<&str>,
    ) -> StoreResult<Listed<String>> {
        let mut tx = self.pool.begin().await?;
        let revision: i64 = sqlx::query_scalar("SELECT value FROM revision WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        let rows = Self::bodies_in(&mut tx, r, ns).await?;
        tx.commit().await?;
        Ok(Listed {
            items: rows.into_iter().map(|(_, body)| body).collect(),
            resource_version: u64::try_from(revision).unwrap_or_default(),
        })
    }

    async fn begin(&self, actor: &Actor) -> StoreResult<Box<dyn UnitOfWork>> {
        Ok(Box::new(self.begin_write(actor).await?))
    }
}
