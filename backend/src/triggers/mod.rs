//! Triggers: when a stream tag gets a new image, the webhooks following it hear about it.
//!
//! [`effects`] decides what a stream write causes (`moves` says what moved) and
//! `services::streams` queues it in the unit of work that moved the tag; the [`worker`] sends
//! what is due, signed, through the [`sender`], which keeps webhooks off private addresses as
//! imports are kept; failures are retried with exponential backoff until
//! `[webhooks] give_up_after_seconds`.

pub mod effects;
pub mod moves;
pub mod sender;
pub mod worker;

use tagstream_shared::event::{Event, EventReason, EventType};
use tagstream_shared::trigger::API_VERSION;
use tagstream_shared::{ObjectMeta, ObjectReference, Time};

/// An event for a project's events page about `involved` (`ImageStreamTag` `stream:tag`, or
/// `Trigger` `name`), made by `actor`.
pub fn project_event(
    actor: &crate::audit::Actor,
    ns: &str,
    involved_kind: &str,
    involved_name: &str,
    event_type: EventType,
    reason: EventReason,
    message: String,
) -> Event {
    let now = Time::now();
    Event {
        kind: Event::KIND.into(),
        api_version: API_VERSION.into(),
        metadata: ObjectMeta {
            namespace: Some(ns.to_owned()),
            creation_timestamp: Some(now),
            ..ObjectMeta::default()
        },
        event_type,
        reason,
        message,
        involved_object: ObjectReference {
            kind: involved_kind.into(),
            namespace: Some(ns.to_owned()),
            name: involved_name.into(),
            ..ObjectReference::default()
        },
        actor: actor.name().to_owned(),
        event_time: now,
    }
}

/// The 12 hex digits people recognise a digest by.
pub fn short_digest(digest: &str) -> &str {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    hex.get(..12).unwrap_or(hex)
}
