//! The generic object store: get, list, create, replace (at the expected resourceVersion) and
//! delete for any [`Kind`], over the one `objects` table (migration 0008), keyed by resource,
//! project ('' for a cluster-wide kind) and name. A kind needs no SQL of its own; the change log
//! that watches read is filled by the table's triggers.
//!
//! [`ObjectStore`] is the object-safe part (bodies in, bodies out) that a store implements;
//! the typed calls (`store.get::<Template>(...)`) are inherent on `dyn Store`.

use async_trait::async_trait;
use tagstream_shared::ProjectName;
use tagstream_shared::object::{ApiResource, Kind};

use super::unit::UnitOfWork;
use super::{Listed, StoreError, StoreResult};
use crate::audit::Actor;

/// An object the store can version and write: every [`Kind`] is one.
pub trait Stored: Send + Sync {
    fn set_resource_version(&mut self, revision: i64);
    /// The body to store. The one way into the `objects` table (and so into the `changes` a
    /// watch replays): first drops the kind's write-only fields from the object as the writer
    /// will answer it ([`Kind::drop_write_only`]), whichever route or patch wrote it.
    fn encode(&mut self) -> serde_json::Result<String>;
}

impl<K: Kind> Stored for K {
    fn set_resource_version(&mut self, revision: i64) {
        self.metadata_mut().resource_version = Some(revision.to_string());
    }

    fn encode(&mut self) -> serde_json::Result<String> {
        self.drop_write_only();
        serde_json::to_string(self)
    }
}

/// The most bytes one stored object takes (as JSON): a body's worth of data
/// (`crate::body::MAX_BODY_BYTES`) and as much again for what the server keeps with it (status,
/// history, managedFields). Without it, writes of parts (a stream's tags one by one) could grow
/// one object without end, and every write of it, and every list of its project, with it.
pub const MAX_OBJECT_BYTES: usize = 2 * crate::body::MAX_BODY_BYTES;

/// `body`, the JSON of `r` `name` about to be stored, unless it is over [`MAX_OBJECT_BYTES`].
pub(super) fn bounded(r: &'static ApiResource, name: &str, body: String) -> StoreResult<String> {
    if body.len() > MAX_OBJECT_BYTES {
        return Err(StoreError::TooLarge {
            resource: r,
            name: name.to_owned(),
            size: body.len(),
        });
    }
    Ok(body)
}

/// The object-safe generic store: bodies keyed by resource, project and name. A store gives
/// the reads and [`ObjectStore::begin`]; the single-object writes are one unit of work each.
#[async_trait]
pub trait ObjectStore: Send + Sync {
    async fn get_body(&self, r: &'static ApiResource, ns: &str, name: &str) -> StoreResult<String>;
    /// An object's stored resourceVersion and body (what `crate::read_cache` keeps).
    async fn get_row(
        &self,
        r: &'static ApiResource,
        ns: &str,
        name: &str,
    ) -> StoreResult<(u64, String)>;
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
