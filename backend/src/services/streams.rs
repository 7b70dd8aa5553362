//! Writing an image stream: the stream, the events its moved tags and new import failures
//! cause on the project's events page, one webhook delivery per moved tag per trigger following
//! it, and the audit entry, in one unit of work. What a write causes is decided by
//! `triggers::effects` (pure); this persists it. With an integrated registry (`registry`) the
//! effects are decided on the stream as it is shown, so a webhook names the same public pull
//! spec as every read path (a `referencePolicy: Local` tag's `public_host/project/stream@...`).

use tagstream_shared::resources::IMAGESTREAMS;
use tagstream_shared::trigger::Trigger;
use tagstream_shared::{ImageStream, ProjectName, StreamName, Time};

use crate::app::AppState;
use crate::audit::Actor;
use crate::integrated::config::IntegratedRegistryConfig;
use crate::integrated::present;
use crate::store::{Store, StoreResult, UnitOfWork};
use crate::triggers::effects;

/// Stores a new stream acting as `actor`; `NoProject` if the project is missing,
/// `AlreadyExists` if the name is taken.
pub async fn create(
    store: &dyn Store,
    registry: Option<&IntegratedRegistryConfig>,
    actor: &Actor,
    ns: &ProjectName,
    name: &StreamName,
    mut stream: ImageStream,
) -> StoreResult<ImageStream> {
    let mut tx = store.begin(actor).await?;
    tx.insert(&IMAGESTREAMS, ns.as_str(), name.as_str(), &mut stream)
        .await?;
    record_effects(&mut *tx, registry, ns.as_str(), None, &stream).await?;
    tx.commit().await?;
    Ok(stream)
}

/// Replaces a stream acting as `actor` if its stored resourceVersion is still `expected`;
/// `Conflict` if not.
pub async fn replace(
    store: &dyn Store,
    registry: Option<&IntegratedRegistryConfig>,
    actor: &Actor,
    ns: &ProjectName,
    name: &StreamName,
    expected: u64,
    mut stream: ImageStream,
) -> StoreResult<ImageStream> {
    let mut tx = store.begin(actor).await?;
    let old = tx
        .update(
            &IMAGESTREAMS,
            ns.as_str(),
            name.as_str(),
            Some(expected),
            &mut stream,
        )
        .await?;
    let old: ImageStream = serde_json::from_str(&old)?;
    record_effects(&mut *tx, registry, ns.as_str(), Some(&old), &stream).await?;
    tx.commit().await?;
    Ok(stream)
}

/// Stores `stream` as `actor` in the server's store, with what the write causes (events,
/// deliveries, the audit entry, decided with the server's integrated registry): a new stream
/// when `expected` is none ([`create`]), else the replacement of the one at that
/// resourceVersion ([`replace`]).
pub async fn store_stream(
    state: &AppState,
    actor: &Actor,
    (ns, name): (&ProjectName, &StreamName),
    expected: Option<u64>,
    stream: ImageStream,
) -> StoreResult<ImageStream> {
    let (store, registry) = (&*state.store, state.config.registry.as_ref());
    match expected {
        None => create(store, registry, actor, ns, name, stream).await,
        Some(expected) => replace(store, registry, actor, ns, name, expected, stream).await,
    }
}

/// Inside the write's unit: the project's events, and the deliveries for the triggers
/// following the moved tags (read in the same unit, so a trigger created meanwhile is either
/// wholly before or wholly after).
async fn record_effects(
    tx: &mut dyn UnitOfWork,
    registry: Option<&IntegratedRegistryConfig>,
    ns: &str,
    before: Option<&ImageStream>,
    after: &ImageStream,
) -> StoreResult<()> {
    let write = match registry {
        Some(_) => {
            let shown = |s: &ImageStream| {
                let mut s = s.clone();
                present::stream(registry, &mut s);
                s
            };
            let before = before.map(shown);
            effects::of_stream_write(ns, before.as_ref(), &shown(after), tx.actor())
        }
        None => effects::of_stream_write(ns, before, after, tx.actor()),
    };
    for event in &write.events {
        tx.insert_event(event).await?;
    }
    if !write.moved() {
        return Ok(());
    }
    let triggers: Vec<Trigger> = tx.all(Some(ns)).await?;
    let now = Time::now();
    for delivery in write.deliveries(&triggers, now) {
        tx.queue_delivery(ns, &delivery, now).await?;
    }
    Ok(())
}

impl dyn Store + '_ {
    /// A new stream written by the server itself, for tools and tests: [`create`] acting as
    /// [`Actor::SERVER`].
    pub async fn create_image_stream(
        &self,
        ns: &ProjectName,
        name: &StreamName,
        stream: ImageStream,
    ) -> StoreResult<ImageStream> {
        create(self, None, &Actor::SERVER, ns, name, stream).await
    }
}
