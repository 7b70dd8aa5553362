//! What the trigger store keeps: triggers (their secrets apart from their bodies), the outbox
//! of deliveries with what each attempt got, and each project's events.

use async_trait::async_trait;
use tagstream_shared::ProjectName;
use tagstream_shared::event::Event;
use tagstream_shared::trigger::{Delivery, DeliveryPhase, Trigger};

use super::{Listed, StoreResult};
use crate::audit::Actor;

/// The resource name of deliveries in the change log (`?watch=true` on a trigger's deliveries).
pub const DELIVERIES_RESOURCE: &str = tagstream_shared::resources::DELIVERIES.plural;

/// A delivery to attempt now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueDelivery {
    pub id: String,
    pub namespace: String,
    pub trigger: String,
    pub event_id: String,
    /// The exact bytes to send and sign.
    pub body: String,
    pub attempts: u32,
    /// Unix seconds when it was queued.
    pub created: i64,
}

/// A due delivery's row as claimed: id, namespace, trigger, event id, body, attempts, created.
pub(super) type DueRow = (String, String, String, String, String, i64, i64);

impl DueDelivery {
    pub(super) fn from_row(row: DueRow) -> Self {
        let (id, namespace, trigger, event_id, body, attempts, created) = row;
        DueDelivery {
            id,
            namespace,
            trigger,
            event_id,
            body,
            attempts: u32::try_from(attempts).unwrap_or_default(),
            created,
        }
    }
}

/// What one attempt got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// Unix seconds.
    pub at: i64,
    pub status: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
    /// `Delivered`, `Failed` (given up), or `Pending` with the next attempt's time.
    pub phase: DeliveryPhase,
    pub next_attempt: Option<i64>,
}

#[async_trait]
pub trait TriggerStore: Send + Sync {
    /// Stores a new trigger with its secret; the body keeps no secret.
    async fn create_trigger(
        &self,
        actor: &Actor,
        ns: &ProjectName,
        trigger: Trigger,
        secret: String,
    ) -> StoreResult<Trigger>;
    /// Replaces a trigger at `expected`; a `secret` replaces the stored one, none keeps it.
    async fn update_trigger(
        &self,
        actor: &Actor,
        ns: &ProjectName,
        name: &str,
        expected: u64,
        trigger: Trigger,
        secret: Option<String>,
    ) -> StoreResult<Trigger>;
    /// Removes a trigger and its delivery log.
    async fn delete_trigger(
        &self,
        actor: &Actor,
        ns: &ProjectName,
        name: &str,
    ) -> StoreResult<Trigger>;
    /// The secret and URL a delivery is sent with; none when the trigger is gone.
    async fn webhook_target(&self, ns: &str, name: &str) -> StoreResult<Option<(String, String)>>;

    /// Pending deliveries due at `now` (Unix seconds), oldest first.
    async fn due_deliveries(&self, now: i64, limit: u32) -> StoreResult<Vec<DueDelivery>>;
    /// When the next pending delivery is due, if any.
    async fn next_due(&self) -> StoreResult<Option<i64>>;
    /// Records an attempt; an event for the project when the delivery ends (delivered or
    /// given up).
    async fn record_attempt(
        &self,
        delivery: &DueDelivery,
        attempt: Attempt,
        event: Option<Event>,
    ) -> StoreResult<()>;
    /// A trigger's deliveries, newest first, with the revision they are current at (a watch
    /// of the project's deliveries resumes from it).
    async fn list_deliveries(
        &self,
        ns: &ProjectName,
        trigger: &str,
        limit: u32,
    ) -> StoreResult<Listed<Delivery>>;
    /// Queues delivery `id`'s event again (same event id) as a new delivery due at `now`.
    async fn redeliver(
        &self,
        ns: &ProjectName,
        trigger: &str,
        id: &str,
        now: i64,
    ) -> StoreResult<Delivery>;

    /// A project's events, newest first.
    async fn list_events(&self, ns: &ProjectName, limit: u32) -> StoreResult<Vec<Event>>;
}
