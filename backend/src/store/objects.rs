//! The generic object store: get, list, create, replace (at the expected resourceVersion) and
//! delete for any [`Kind`], over the one `objects` table (migration 0008), keyed by resource,
//! project ('' for a cluster-wide kind) and name. A kind needs no SQL of its own; the change log
//! that watches read is filled by the table's triggers.
//!
//! [`ObjectStore`] is the object-safe part (bodies in, bodies out) that a store implements;
//! the typed calls (`store.get::<Template>(...)`) are inherent on `dyn Store`.

use async_trait::async_trait;
use sqlx::SqliteConnection;
use tagstream_shared::ProjectName;
use tagstream_shared::object::{ApiResource, Kind};

use super::sqlite::SqliteTx;
use super::sqlite::{Change, SqliteStore};
use super::unit::UnitOfWork;
use super::{Listed, StoreError, StoreResult};
use crate::audit::Actor;

/// An object the store can version and write: every [`Kind`] is one.
pub trait Stored: Send + Sync {
    fn set_resource_version(&mut self, revision: i64);
    fn encode(&self) -> serde_json::Result<String>;
}

impl<K: Kind> Stored for K {
    fn set_resource_version(&mut self, revision: i64) {
        self.metadata_mut().resource_version = Some(revision.to_string());
    }

    fn encode(&self) -> serde_json::Result<String> {
        serde_json::to_string(self)
    }
}

/// The object-safe generic store: bodies keyed by resource, project and name. A store gives
/// the reads and [`ObjectStore::begin`]; the single-object writes are one unit of work each.
#[async_trait]
pub trait ObjectStore: Send + Sync {
    async fn get_body(&self, r: &'static ApiResource, ns: &str, name: &str) -> StoreResult<String>;
    /// Bodies of one project's objects, or of every project's with `None`, by project and
    /// name; with the store's revision.
    async fn list_bodies(
        &self,
        r: &'static ApiResource,
        ns: Option<&str>,
    ) -> StoreResult<Listed<String>>;
    /// Starts a unit of work acting as `actor`: a write transaction at the next revision.
    async fn begin(&self, actor: &Actor) -> StoreResult<Box<dyn UnitOfWork>>;

    /// Stores a new object; `NoProject` if its project is missing, `AlreadyExists` if taken.
    async fn create_body(
        &self,
        actor: &Actor,
        r: &'static ApiResource,
        ns: &str,
        name: &str,
        object: &mut dyn Stored,
    ) -> StoreResult<()> {
        let mut tx = self.begin(actor).await?;
        tx.insert(r, ns, name, object).await?;
        tx.commit().await
    }
    /// Replaces an object if its stored resourceVersion is still `expected`; `Conflict` if not.
    async fn replace_body(
        &self,
        actor: &Actor,
        r: &'static ApiResource,
        ns: &str,
        name: &str,
        expected: u64,
        object: &mut dyn Stored,
    ) -> StoreResult<()> {
        let mut tx = self.begin(actor).await?;
        tx.update(r, ns, name, Some(expected), object).await?;
        tx.commit().await
    }
    /// Removes an object, answering its body as it was.
    async fn delete_body(
        &self,
        actor: &Actor,
        r: &'static ApiResource,
        ns: &str,
        name: &str,
    ) -> StoreResult<String> {
        let mut tx = self.begin(actor).await?;
        let body = tx.remove(r, ns, name).await?;
        tx.commit().await?;
        Ok(body)
    }
}

/// The project key of a namespaced object, '' for a cluster-wide one.
fn key(ns: Option<&ProjectName>) -> &str {
    ns.map_or("", ProjectName::as_str)
}

/// The typed calls over any [`ObjectStore`]: `store.get::<Template>(Some(&ns), "name")`.
pub trait Objects: ObjectStore {
    /// One object of kind `K` (`ns` for a namespaced kind, `None` for a cluster-wide one).
    fn get<K: Kind>(
        &self,
        ns: Option<&ProjectName>,
        name: &str,
    ) -> impl Future<Output = StoreResult<K>> + Send {
        async move {
            let body = self.get_body(&K::RESOURCE, key(ns), name).await?;
            Ok(serde_json::from_str(&body)?)
        }
    }

    /// The objects of kind `K` in project `ns` (every project's with `None`).
    fn list<K: Kind>(
        &self,
        ns: Option<&ProjectName>,
    ) -> impl Future<Output = StoreResult<Listed<K>>> + Send {
        async move {
            let listed = self
                .list_bodies(&K::RESOURCE, ns.map(ProjectName::as_str))
                .await?;
            Ok(Listed {
                items: super::sqlite::decode_all(listed.items)?,
                resource_version: listed.resource_version,
            })
        }
    }

    /// Stores a new object under its `metadata.name`, answering it with its resourceVersion.
    fn create<K: Kind>(
        &self,
        actor: &Actor,
        ns: Option<&ProjectName>,
        mut object: K,
    ) -> impl Future<Output = StoreResult<K>> + Send {
        async move {
            let name = object.name().to_owned();
            self.create_body(actor, &K::RESOURCE, key(ns), &name, &mut object)
                .await?;
            Ok(object)
        }
    }

    /// Replaces object `name` if it is still at `expected`.
    fn replace<K: Kind>(
        &self,
        actor: &Actor,
        ns: Option<&ProjectName>,
        name: &str,
        expected: u64,
        mut object: K,
    ) -> impl Future<Output = StoreResult<K>> + Send {
        async move {
            self.replace_body(actor, &K::RESOURCE, key(ns), name, expected, &mut object)
                .await?;
            Ok(object)
        }
    }

    /// Removes object `name`, answering it as it was.
    fn delete<K: Kind>(
        &self,
        actor: &Actor,
        ns: Option<&ProjectName>,
        name: &str,
    ) -> impl Future<Output = StoreResult<K>> + Send {
        async move {
            let body = self.delete_body(actor, &K::RESOURCE, key(ns), name).await?;
            Ok(serde_json::from_str(&body)?)
        }
    }
}

impl<S: ObjectStore + ?Sized> Objects for S {}

/// `Some(ns)` for the audit log, none for a cluster-wide object.
pub(super) fn audit_ns(ns: &str) -> Option<&str> {
    (!ns.is_empty()).then_some(ns)
}

impl SqliteStore {
    /// The stored resourceVersion and body, inside a transaction.
    pub(super) async fn row_in(
        tx: &mut SqliteConnection,
        r: &'static ApiResource,
        ns: &str,
        name: &str,
    ) -> StoreResult<Option<(i64, String)>> {
        Ok(sqlx::query_as(
            "SELECT resource_version, body FROM objects \
             WHERE resource = ? AND namespace = ? AND name = ?",
        )
        .bind(r.plural)
        .bind(ns)
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?)
    }

    /// Inserts a new object at `revision` and records it in the audit log.
    pub(super) async fn insert_in(
        tx: &mut SqliteTx,
        revision: i64,
        r: &'static ApiResource,
        ns: &str,
        name: &str,
        object: &mut dyn Stored,
    ) -> StoreResult<()> {
        if r.is_namespaced() {
            let project: Option<i64> = sqlx::query_scalar("SELECT 1 FROM projects WHERE name = ?")
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
             VALUES (?, ?, ?, ?, ?)",
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
        tx: &mut SqliteTx,
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
            "UPDATE objects SET resource_version = ?, body = ? \
             WHERE resource = ? AND namespace = ? AND name = ?",
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
        tx: &mut SqliteTx,
        r: &'static ApiResource,
        ns: &str,
        name: &str,
    ) -> StoreResult<String> {
        let row: Option<(String, i64)> = sqlx::query_as(
            "DELETE FROM objects WHERE resource = ? AND namespace = ? AND name = ? \
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
        tx: &mut SqliteConnection,
        r: &'static ApiResource,
        ns: Option<&str>,
    ) -> StoreResult<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT namespace, body FROM objects WHERE resource = ? \
             AND (? IS NULL OR namespace = ?) ORDER BY namespace, name",
        )
        .bind(r.plural)
        .bind(ns)
        .bind(ns)
        .fetch_all(&mut *tx)
        .await?)
    }
}

#[async_trait]
impl ObjectStore for SqliteStore {
    async fn get_body(&self, r: &'static ApiResource, ns: &str, name: &str) -> StoreResult<String> {
        let body: Option<String> = sqlx::query_scalar(
            "SELECT body FROM objects WHERE resource = ? AND namespace = ? AND name = ?",
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
