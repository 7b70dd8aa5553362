//! tagstream.io/v1 `Event`: what happened in a project, for its events page: tags that moved,
//! imports that failed, webhook deliveries. Shaped like Kubernetes' core/v1 Event.

use serde::{Deserialize, Serialize};

use crate::imagestream::ObjectReference;
use crate::meta::{ObjectMeta, Time};

/// `Normal` or `Warning`, as Kubernetes events are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub enum EventType {
    Normal,
    Warning,
}

/// Why the event was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub enum EventReason {
    /// A person or a follow moved a tag to another image.
    TagUpdated,
    /// An import (scheduled or asked for) brought a new image.
    Imported,
    /// An import failed; the tag kept its image.
    ImportFailed,
    /// A webhook answered 2xx.
    WebhookDelivered,
    /// A webhook delivery gave up.
    WebhookFailed,
    /// A reason this build does not know.
    #[serde(other)]
    Unknown,
}

crate::meta::wire_struct! {
    /// Something that happened in a project: a tag moved, an import failed, a webhook failed.
    pub struct Event {
        /// `Event`.
        pub kind: String,
        /// `tagstream.io/v1`.
        pub api_version: String,
        /// `namespace` is the project it happened in.
        pub metadata: ObjectMeta,
        /// `Normal`, or `Warning` for a failure.
        #[serde(rename = "type")]
        pub event_type: EventType,
        /// What happened, for programs (`TagUpdated`, `ImportFailed`...).
        pub reason: EventReason,
        /// What happened, for people.
        pub message: String,
        /// The stream tag (`ImageStreamTag`, `stream:tag`) or trigger (`Trigger`) concerned.
        pub involved_object: ObjectReference,
        /// Who acted: a user, or `system:...` for the server's own work.
        pub actor: String = default,
        /// When it happened.
        pub event_time: Time,
    }
}

impl Event {
    pub const KIND: &'static str = "Event";
}
