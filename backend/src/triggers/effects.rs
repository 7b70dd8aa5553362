//! What a stream write causes, decided here and not in the store: the project's events for
//! moved tags and newly failed imports (worded for people), and one queued delivery per moved
//! tag per trigger following it (paused ones excepted). Pure, with the actor given explicitly;
//! `services::streams` persists the answer inside the write's own unit of work, so a change and what it
//! causes commit together or not at all.

use tagstream_shared::event::{Event, EventReason, EventType};
use tagstream_shared::trigger::{TagChangeEvent, Trigger};
use tagstream_shared::{ImageStream, Time};

use super::moves::{TagMove, new_import_failures, tag_moves};
use super::{project_event, short_digest};
use crate::audit::Actor;

/// One delivery to queue: the trigger, the event id (shared by every trigger hearing the same
/// move) and the event sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedDelivery {
    pub trigger: String,
    pub event_id: String,
    pub event: TagChangeEvent,
}

/// What one stream write causes, before the triggers are known.
#[derive(Debug, Clone)]
pub struct StreamWrite {
    ns: String,
    stream: String,
    moves: Vec<TagMove>,
    /// The project's events for this write.
    pub events: Vec<Event>,
}

/// What writing `after` over `before` (none: a new stream) in project `ns` means, `actor`
/// acting (the importer's moves read "Imported", anyone else's "TagUpdated").
pub fn of_stream_write(
    ns: &str,
    before: Option<&ImageStream>,
    after: &ImageStream,
    actor: &Actor,
) -> StreamWrite {
    let stream = after.metadata.name();
    let moves = tag_moves(before, after);
    let reason = if actor.is_importer() {
        EventReason::Imported
    } else {
        EventReason::TagUpdated
    };
    let tag_event = |tag: &str, event_type, reason, message| {
        project_event(
            actor,
            ns,
            "ImageStreamTag",
            &format!("{stream}:{tag}"),
            event_type,
            reason,
            message,
        )
    };
    let mut events = Vec::new();
    for m in &moves {
        let message = match &m.old {
            Some(old) => format!(
                "{stream}:{} now points at {} (was {})",
                m.tag,
                short_digest(&m.new),
                short_digest(old)
            ),
            None => format!("{stream}:{} now points at {}", m.tag, short_digest(&m.new)),
        };
        events.push(tag_event(&m.tag, EventType::Normal, reason, message));
    }
    for f in new_import_failures(before, after) {
        let message = format!(
            "import of {stream}:{} failed: {} {}",
            f.tag, f.reason, f.message
        );
        events.push(tag_event(
            &f.tag,
            EventType::Warning,
            EventReason::ImportFailed,
            message,
        ));
    }
    StreamWrite {
        ns: ns.to_owned(),
        stream: stream.to_owned(),
        moves,
        events,
    }
}

impl StreamWrite {
    /// Whether any tag moved (only then do the project's triggers matter).
    pub fn moved(&self) -> bool {
        !self.moves.is_empty()
    }

    /// The deliveries the moves cause for `triggers` (the project's), at `now`.
    pub fn deliveries(&self, triggers: &[Trigger], now: Time) -> Vec<QueuedDelivery> {
        let mut out = Vec::new();
        for m in &self.moves {
            let event_id = uuid::Uuid::new_v4().to_string();
            for t in triggers
                .iter()
                .filter(|t| !t.spec.paused && t.follows(&self.stream, &m.tag))
            {
                out.push(QueuedDelivery {
                    trigger: t.metadata.name().to_owned(),
                    event_id: event_id.clone(),
                    event: TagChangeEvent {
                        id: event_id.clone(),
                        kind: TagChangeEvent::TYPE.into(),
                        time: now,
                        project: self.ns.clone(),
                        stream: self.stream.clone(),
                        tag: m.tag.clone(),
                        old_digest: m.old.clone(),
                        new_digest: m.new.clone(),
                        pull_spec: m.pull_spec.clone(),
                        trigger: t.metadata.name().to_owned(),
                    },
                });
            }
        }
        out
    }
}
