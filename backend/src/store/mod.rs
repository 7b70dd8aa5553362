//! Persistence behind one trait: the embedded SQLite store (the default), or PostgreSQL for
//! several replicas on one database. A store keeps whole objects and one revision counter; every write takes the next
//! revision as the object's `resourceVersion`, and a conditional write whose expected revision
//! is stale fails with `Conflict` without changing anything.

mod access;
mod changes;
mod checks;
pub(crate) mod held;
mod leases;
mod objects;
mod postgres;
mod postgres_open;
mod postgres_triggers;
pub(crate) mod purges;
pub(crate) mod refusals;
mod registry_events;
mod server_keys;
mod sql;
mod sql_access;
mod sql_changes;
mod sql_keys;
mod sql_triggers;
mod sqlite;
mod sqlite_changes;
mod sqlite_triggers;
mod triggers;
mod unit;

use async_trait::async_trait;
use tagstream_shared::object::ApiResource;
use tagstream_shared::{Image, Project, ProjectName};

use crate::audit::Actor;

pub use access::{AccessStore, NewInvitation, Session, StoredToken};
pub use changes::{ChangeRow, ChangeStore, ChangedSince, Cursor, ReadPoint};
pub use checks::{CheckStore, TagKey};
pub use held::{Held, HeldStore};
pub use leases::LeaseStore;
pub use objects::{ObjectStore, Objects, Stored};
pub use postgres::PgStore;
pub use postgres_open::DatabaseSettings;
pub use purges::{DuePurge, PurgeOutcome, PurgeStore, Pushed};
pub use refusals::{Refusal, RefusalStore, Vouch};
pub use registry_events::RegistryEventStore;
pub use server_keys::KeyStore;
pub use sqlite::SqliteStore;
pub use triggers::{Attempt, DELIVERIES_RESOURCE, DueDelivery, TriggerStore};
pub use unit::UnitOfWork;

/// What went wrong in the store. The outcomes a caller answers (missing, taken, stale) name
/// the resource and object, so `?` gives the right `Status` without mapping by hand.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{resource} {name:?} not found")]
    NotFound {
        resource: &'static ApiResource,
        name: String,
    },
    #[error("{resource} {name:?} already exists")]
    AlreadyExists {
        resource: &'static ApiResource,
        name: String,
    },
    #[error("{resource} {name:?}: the expected resourceVersion is stale")]
    Conflict {
        resource: &'static ApiResource,
        name: String,
    },
    #[error(
        "{resource} {name:?} would take {size} bytes, more than the {limit} an object may take",
        limit = objects::MAX_OBJECT_BYTES
    )]
    TooLarge {
        resource: &'static ApiResource,
        name: String,
        size: usize,
    },
    #[error("the project {name:?} does not exist")]
    NoProject { name: String },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("a stored object does not decode: {0}")]
    Corrupt(#[from] serde_json::Error),
    #[error("{0}")]
    Config(String),
}

impl StoreError {
    pub fn not_found(resource: &'static ApiResource, name: impl Into<String>) -> Self {
        Self::NotFound {
            resource,
            name: name.into(),
        }
    }

    /// `NotFound` when a statement that changes `name` of `resource` changed no row (`rows`).
    pub fn unless_changed(
        rows: u64,
        resource: &'static ApiResource,
        name: &str,
    ) -> Result<(), Self> {
        if rows == 0 {
            return Err(Self::not_found(resource, name));
        }
        Ok(())
    }

    pub fn already_exists(resource: &'static ApiResource, name: impl Into<String>) -> Self {
        Self::AlreadyExists {
            resource,
            name: name.into(),
        }
    }

    pub fn conflict(resource: &'static ApiResource, name: impl Into<String>) -> Self {
        Self::Conflict {
            resource,
            name: name.into(),
        }
    }

    /// The same outcome told about another resource: an ImageStreamTag's write that failed on
    /// its stream is answered about the tag.
    #[must_use]
    pub fn about(self, resource: &'static ApiResource, name: impl Into<String>) -> Self {
        match self {
            Self::NotFound { .. } => Self::not_found(resource, name),
            Self::AlreadyExists { .. } => Self::already_exists(resource, name),
            Self::Conflict { .. } => Self::conflict(resource, name),
            other => other,
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Objects of a list and the store's revision when they were read.
#[derive(Debug, Clone)]
pub struct Listed<T> {
    pub items: Vec<T>,
    pub resource_version: u64,
}

impl<K: tagstream_shared::object::Kind> Listed<K> {
    /// The `{Kind}List` these objects are answered as, at the revision they were read at.
    pub fn into_list(self) -> tagstream_shared::List<K> {
        tagstream_shared::List::new(
            K::RESOURCE.kind,
            K::RESOURCE.api_version,
            self.resource_version.to_string(),
            self.items,
        )
    }
}

#[async_trait]
pub trait Store:
    ObjectStore
    + AccessStore
    + ChangeStore
    + TriggerStore
    + RegistryEventStore
    + LeaseStore
    + CheckStore
    + KeyStore
    + PurgeStore
    + RefusalStore
    + HeldStore
    + Send
    + Sync
    + std::fmt::Debug
{
    async fn list_projects(&self) -> StoreResult<Listed<Project>>;
    async fn get_project(&self, name: &ProjectName) -> StoreResult<Project>;
    /// Stores a new project, with its first RoleBinding (its creator as admin) in the same
    /// transaction; `AlreadyExists` if the name is taken.
    async fn create_project(
        &self,
        actor: &Actor,
        name: &ProjectName,
        project: Project,
        admin: Option<tagstream_shared::user::RoleBinding>,
    ) -> StoreResult<Project>;
    /// Removes a project and every stream in it, answering the project as it was; the
    /// project's repositories in the integrated registry are queued for purging in the same
    /// transaction.
    async fn delete_project(&self, actor: &Actor, name: &ProjectName) -> StoreResult<Project>;

    /// The image with this digest, if an import has stored it.
    async fn get_image(&self, digest: &str) -> StoreResult<Option<Image>>;
    /// Keeps an image by its digest; an image already stored stays as it is (content-addressed).
    async fn put_image(&self, image: &Image) -> StoreResult<()>;
}

/// Opens the store a `--database-url` names: `sqlite://PATH` (or a bare path), or
/// `postgres://...` with the default [`DatabaseSettings`].
pub async fn open(url: &str) -> StoreResult<std::sync::Arc<dyn Store>> {
    open_with(url, DatabaseSettings::default()).await
}

/// Opens the store a `--database-url` names; `settings` apply to PostgreSQL.
pub async fn open_with(
    url: &str,
    settings: DatabaseSettings,
) -> StoreResult<std::sync::Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(std::sync::Arc::new(PgStore::open(url, settings).await?));
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    Ok(std::sync::Arc::new(
        SqliteStore::open(std::path::Path::new(path)).await?,
    ))
}
