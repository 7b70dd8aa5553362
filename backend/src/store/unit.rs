//! One unit of work: a write transaction that has taken the next revision, knows who is acting,
//! and offers the few writes that domain rules compose (objects, the events page, the webhook
//! outbox, the audit log). Everything done through one unit commits together on
//! [`UnitOfWork::commit`], or not at all: dropping it rolls back. The services
//! (`crate::services`) decide what a change causes; a unit only persists it.

use std::sync::Arc;

use async_trait::async_trait;
use sqlx::{Database, Transaction};
use tagstream_shared::Time;
use tagstream_shared::event::Event;
use tagstream_shared::object::{ApiResource, Kind};

use super::objects::Stored;
use super::{StoreError, StoreResult};
use crate::audit::Actor;
use crate::triggers::effects::QueuedDelivery;

/// A write transaction of either store.
#[async_trait]
pub trait UnitOfWork: Send {
    /// Who this unit acts for: written in the audit log and the events it records.
    fn actor(&self) -> &Actor;
    /// The revision every object written in this unit gets as its resourceVersion.
    fn revision(&self) -> i64;
    /// An object's stored resourceVersion and body.
    async fn row(
        &mut self,
        r: &'static ApiResource,
        ns: &str,
        name: &str,
    ) -> StoreResult<Option<(i64, String)>>;
    /// Every body of a resource (`ns` or every project), by project and name.
    async fn bodies(
        &mut self,
        r: &'static ApiResource,
        ns: Option<&str>,
    ) -> StoreResult<Vec<(String, String)>>;
    /// Inserts a new object (audited); `NoProject`, `AlreadyExists`.
    async fn insert(
        &mut self,
        r: &'static ApiResource,
        ns: &str,
        name: &str,
        object: &mut dyn Stored,
    ) -> StoreResult<()>;
    /// Replaces an object, at `expected` when given (audited); answers the old body.
    async fn update(
        &mut self,
        r: &'static ApiResource,
        ns: &str,
        name: &str,
        expected: Option<u64>,
        object: &mut dyn Stored,
    ) -> StoreResult<String>;
    /// Removes an object (audited); answers its body as it was.
    async fn remove(
        &mut self,
        r: &'static ApiResource,
        ns: &str,
        name: &str,
    ) -> StoreResult<String>;
    /// Removes the credentials, tokens and sessions of user `name`.
    async fn forget_credentials(&mut self, name: &str) -> StoreResult<()>;
    /// Adds an event to its project's events page.
    async fn insert_event(&mut self, event: &Event) -> StoreResult<()>;
    /// Queues one webhook delivery of project `ns`, due at `now`, and logs it for watches.
    async fn queue_delivery(
        &mut self,
        ns: &str,
        delivery: &QueuedDelivery,
        now: Time,
    ) -> StoreResult<()>;
    /// Makes everything done in this unit visible at once, and wakes the watches.
    async fn commit(self: Box<Self>) -> StoreResult<()>;
}

impl dyn UnitOfWork + '_ {
    /// One object of kind `K`, if it exists.
    pub async fn find<K: Kind>(&mut self, ns: &str, name: &str) -> StoreResult<Option<K>> {
        match self.row(&K::RESOURCE, ns, name).await? {
            Some((_, body)) => Ok(Some(serde_json::from_str(&body)?)),
            None => Ok(None),
        }
    }

    /// Every object of kind `K` in project `ns` (every project's with `None`).
    pub async fn all<K: Kind>(&mut self, ns: Option<&str>) -> StoreResult<Vec<K>> {
        self.bodies(&K::RESOURCE, ns)
            .await?
            .iter()
            .map(|(_, body)| serde_json::from_str(body).map_err(StoreError::from))
            .collect()
    }
}

/// A write transaction of store `DB` at `revision`, acting as `actor`. It reads as the
/// connection, so queries run on `&mut *tx`; dropped without a commit, it rolls back.
pub struct WriteTx<DB: Database> {
    tx: Transaction<'static, DB>,
    pub(super) revision: i64,
    pub(super) actor: Actor,
    changed: Arc<tokio::sync::watch::Sender<u64>>,
}

impl<DB: Database> WriteTx<DB> {
    /// A transaction that has taken `revision`; `changed` is bumped when it commits.
    pub(super) fn new(
        tx: Transaction<'static, DB>,
        revision: i64,
        actor: &Actor,
        changed: &Arc<tokio::sync::watch::Sender<u64>>,
    ) -> Self {
        Self {
            tx,
            revision,
            actor: actor.clone(),
            changed: Arc::clone(changed),
        }
    }

    /// Commits and wakes every watch.
    pub(super) async fn finish(self) -> StoreResult<()> {
        self.tx.commit().await?;
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
        Ok(())
    }
}

impl<DB: Database> std::ops::Deref for WriteTx<DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &DB::Connection {
        &self.tx
    }
}

impl<DB: Database> std::ops::DerefMut for WriteTx<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        &mut self.tx
    }
}

/// [`UnitOfWork`] for `WriteTx<$db>`, by the `$store`'s helpers of the same SQL in its dialect.
macro_rules! unit_of_work {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::UnitOfWork for $crate::store::unit::WriteTx<$db> {
            fn actor(&self) -> &$crate::audit::Actor {
                &self.actor
            }

            fn revision(&self) -> i64 {
                self.revision
            }

            async fn row(
                &mut self,
                r: &'static tagstream_shared::object::ApiResource,
                ns: &str,
                name: &str,
            ) -> $crate::store::StoreResult<Option<(i64, String)>> {
                <$store>::row_in(self, r, ns, name).await
            }

            async fn bodies(
                &mut self,
                r: &'static tagstream_shared::object::ApiResource,
                ns: Option<&str>,
            ) -> $crate::store::StoreResult<Vec<(String, String)>> {
                <$store>::bodies_in(self, r, ns).await
            }

            async fn insert(
                &mut self,
                r: &'static tagstream_shared::object::ApiResource,
                ns: &str,
                name: &str,
                object: &mut dyn $crate::store::Stored,
            ) -> $crate::store::StoreResult<()> {
                let revision = self.revision;
                <$store>::insert_in(self, revision, r, ns, name, object).await
            }

            async fn update(
                &mut self,
                r: &'static tagstream_shared::object::ApiResource,
                ns: &str,
                name: &str,
                expected: Option<u64>,
                object: &mut dyn $crate::store::Stored,
            ) -> $crate::store::StoreResult<String> {
                let revision = self.revision;
                <$store>::update_in(self, revision, r, ns, name, expected, object).await
            }

            async fn remove(
                &mut self,
                r: &'static tagstream_shared::object::ApiResource,
                ns: &str,
                name: &str,
            ) -> $crate::store::StoreResult<String> {
                <$store>::remove_in(self, r, ns, name).await
            }

            async fn forget_credentials(&mut self, name: &str) -> $crate::store::StoreResult<()> {
                <$store>::forget_credentials(self, name).await
            }

            async fn insert_event(
                &mut self,
                event: &tagstream_shared::event::Event,
            ) -> $crate::store::StoreResult<()> {
                <$store>::insert_event(self, event).await
            }

            async fn queue_delivery(
                &mut self,
                ns: &str,
                delivery: &$crate::triggers::effects::QueuedDelivery,
                now: tagstream_shared::Time,
            ) -> $crate::store::StoreResult<()> {
                <$store>::queue_delivery(self, ns, delivery, now).await
            }

            async fn commit(self: Box<Self>) -> $crate::store::StoreResult<()> {
                self.finish().await
            }
        }
    };
}
pub(super) use unit_of_work;
