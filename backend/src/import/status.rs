//! How an import's outcome changes a stream's status, as OpenShift does it: a new history item
//! goes to the front only when the image changes; a failure keeps the current image and sets
//! `ImportSuccess=False`; a tag is pending while its spec generation is newer than its status.
//! Pure functions over the stream.

use std::time::Duration;

use tagstream_shared::{
    ImageStream, NamedTagEventList, SourceKind, StatusReason, TagEvent, TagEventCondition, Time,
};

use crate::registry::RegistryError;

pub const IMPORT_SUCCESS: &str = "ImportSuccess";

fn tag_status<'a>(stream: &'a mut ImageStream, tag: &str) -> &'a mut NamedTagEventList {
    let at = match stream.status.tags.iter().position(|t| t.tag == tag) {
        Some(i) => i,
        None => {
            stream.status.tags.push(NamedTagEventList {
                tag: tag.to_owned(),
                ..NamedTagEventList::default()
            });
            stream.status.tags.len() - 1
        }
    };
    &mut stream.status.tags[at]
}

/// Records that `tag` now points at `image` (pulled as `pull_spec`) for spec `generation`,
/// keeping at most `limit` history items (the oldest drop off). Answers whether the status
/// changed.
pub fn record_image(
    stream: &mut ImageStream,
    tag: &str,
    image: &str,
    pull_spec: &str,
    generation: i64,
    now: Time,
    limit: usize,
) -> bool {
    let list = tag_status(stream, tag);
    let before = list.clone();
    match list.items.first_mut() {
        Some(current) if current.image == image => {
            current.generation = current.generation.max(generation);
        }
        _ => list.items.insert(
            0,
            TagEvent {
                created: now,
                docker_image_reference: pull_spec.to_owned(),
                image: image.to_owned(),
                generation,
            },
        ),
    }
    list.items.truncate(limit.max(1));
    list.conditions.retain(|c| c.kind != IMPORT_SUCCESS);
    *list != before
}

/// Records a failed import of `tag`: its image stays, the condition says why.
pub fn record_failure(
    stream: &mut ImageStream,
    tag: &str,
    reason: StatusReason,
    message: &str,
    generation: i64,
    now: Time,
) -> bool {
    let list = tag_status(stream, tag);
    let before = list.clone();
    let reason = format!("{reason:?}");
    let transition = list
        .conditions
        .iter()
        .find(|c| c.kind == IMPORT_SUCCESS && c.status == "False")
        .and_then(|c| c.last_transition_time)
        .unwrap_or(now);
    list.conditions.retain(|c| c.kind != IMPORT_SUCCESS);
    list.conditions.push(TagEventCondition {
        kind: IMPORT_SUCCESS.into(),
        status: "False".into(),
        last_transition_time: Some(transition),
        reason,
        message: message.to_owned(),
        generation,
    });
    *list != before
}

/// The generation a tag's status has caught up with: its current image's, or its last failed
/// import's.
pub fn status_generation(stream: &ImageStream, tag: &str) -> i64 {
    stream.status_tag(tag).map_or(0, |t| {
        let item = t.items.first().map_or(0, |e| e.generation);
        let failed = t
            .conditions
            .iter()
            .filter(|c| c.kind == IMPORT_SUCCESS)
            .map(|c| c.generation)
            .max()
            .unwrap_or(0);
        item.max(failed)
    })
}

/// Tags whose spec is newer than their status, by source kind.
pub fn pending_tags(stream: &ImageStream, kind: SourceKind) -> Vec<(String, i64)> {
    stream
        .spec
        .tags
        .iter()
        .filter(|t| t.from.as_ref().and_then(|f| f.source_kind()) == Some(kind))
        .filter_map(|t| {
            let generation = t.generation.unwrap_or(0);
            (generation > status_generation(stream, &t.name)).then(|| (t.name.clone(), generation))
        })
        .collect()
}

/// Whether `tag` has a failed import on record.
pub fn has_failed(stream: &ImageStream, tag: &str) -> bool {
    stream.status_tag(tag).is_some_and(|t| {
        t.conditions
            .iter()
            .any(|c| c.kind == IMPORT_SUCCESS && c.status == "False")
    })
}

/// Where an ImageStreamTag answer's condition message says when the next try is (added when it
/// is read, never stored: see [`with_next_try`]).
pub const NEXT_TRY: &str = "; next try in ";

/// The failure a condition message names, without when the next try is (messages stored by
/// older versions carried it).
pub fn failure_summary(message: &str) -> &str {
    message.split(NEXT_TRY).next().unwrap_or(message)
}

/// A wait as people read it: `40 s`, `2 min`, `2 min 40 s`, `1 h 5 min`.
fn human(wait: Duration) -> String {
    let secs = wait.as_secs().max(1);
    match (secs / 3600, secs % 3600 / 60, secs % 60) {
        (0, 0, s) => format!("{s} s"),
        (0, m, 0) => format!("{m} min"),
        (0, m, s) => format!("{m} min {s} s"),
        (h, m, _) => format!("{h} h {m} min"),
    }
}

/// A failed import's condition message as stored: what went wrong, then, for a registry that
/// cannot be reached, where to configure a mirror (a machine without internet access meets this
/// first with the samples, which come from docker.io), and the transport's own words last.
///
/// It says nothing that changes from one retry to the next, so another try of the same failure
/// leaves the stream as it is: no new resourceVersion, no watch event, no conflict for someone
/// editing the stream (when the next try is lives beside the tag's last check, and
/// [`with_next_try`] adds it to the ImageStreamTag answer).
pub fn failure_message(error: &RegistryError) -> String {
    match error {
        RegistryError::Unreachable { registry, message } => format!(
            "cannot reach {registry}. To import through a mirror instead, list the mirror in \
             [[registries]] of the server's configuration and import from it (for the sample \
             streams, set samplesRegistry in the samples config). ({message})"
        ),
        other => other.to_string(),
    }
}

/// `message` followed by when the next try is, as the ImageStreamTag answer shows it:
/// `…; next try in 40 s (at 08:50:12 UTC)`, or `…; next try due now (at …)` once that time
/// has come (a worker held up, or another replica's about to take over).
pub fn with_next_try(message: &str, at: Time, now: Time) -> String {
    let ahead = at.timestamp().saturating_sub(now.timestamp());
    let day = at.timestamp().rem_euclid(86_400);
    let when = match u64::try_from(ahead) {
        Ok(secs) if secs > 0 => format!("{NEXT_TRY}{}", human(Duration::from_secs(secs))),
        _ => "; next try due now".to_owned(),
    };
    format!(
        "{}{when} (at {:02}:{:02}:{:02} UTC)",
        failure_summary(message),
        day / 3600,
        day % 3600 / 60,
        day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tagstream_shared::{ObjectReference, TagReference};

    const A: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    fn stream() -> ImageStream {
        let mut s = ImageStream::new("app");
        s.spec.tags.push(TagReference {
            name: "latest".into(),
            from: Some(ObjectReference {
                kind: "DockerImage".into(),
                name: "quay.io/demo/app:latest".into(),
                ..ObjectReference::default()
            }),
            generation: Some(1),
            ..TagReference::default()
        });
        s
    }

    #[test]
    fn a_new_image_goes_to_the_front_and_the_same_image_adds_nothing() {
        let mut s = stream();
        let t0 = Time::from_timestamp(100);
        assert!(record_image(
            &mut s,
            "latest",
            A,
            "quay.io/demo/app@A",
            1,
            t0,
            15
        ));
        assert!(!record_image(
            &mut s,
            "latest",
            A,
            "quay.io/demo/app@A",
            1,
            t0,
            15
        ));
        assert!(record_image(
            &mut s,
            "latest",
            B,
            "quay.io/demo/app@B",
            1,
            Time::from_timestamp(200),
            15
        ));
        let items = &s
            .status_tag("latest")
            .map(|t| t.items.clone())
            .unwrap_or_default();
        let images: Vec<_> = items.iter().map(|e| e.image.as_str()).collect();
        assert_eq!(images, [B, A]);
        assert_eq!(items[0].created, Time::from_timestamp(200));
    }

    #[test]
    fn a_failure_keeps_the_image_and_a_success_clears_the_condition() {
        let mut s = stream();
        record_image(&mut s, "latest", A, "ref", 1, Time::from_timestamp(1), 15);
        assert!(record_failure(
            &mut s,
            "latest",
            StatusReason::NotFound,
            "gone",
            2,
            Time::from_timestamp(2)
        ));
        let t = s.status_tag("latest").cloned().unwrap_or_default();
        assert_eq!(t.items[0].image, A);
        assert_eq!(t.conditions[0].reason, "NotFound");
        assert_eq!(t.conditions[0].status, "False");
        // The same failure again changes nothing (no write, no new resourceVersion).
        assert!(!record_failure(
            &mut s,
            "latest",
            StatusReason::NotFound,
            "gone",
            2,
            Time::from_timestamp(3)
        ));
        record_image(&mut s, "latest", A, "ref", 2, Time::from_timestamp(4), 15);
        assert!(
            s.status_tag("latest")
                .is_some_and(|t| t.conditions.is_empty())
        );
    }

    #[test]
    fn the_history_keeps_the_newest_items_up_to_the_limit() {
        let mut s = stream();
        for i in 0..5u8 {
            let image = format!("sha256:{}", char::from(b'a' + i).to_string().repeat(64));
            record_image(
                &mut s,
                "latest",
                &image,
                "ref",
                1,
                Time::from_timestamp(i64::from(i)),
                3,
            );
        }
        let items = s
            .status_tag("latest")
            .map(|t| t.items.clone())
            .unwrap_or_default();
        let times: Vec<i64> = items.iter().map(|e| e.created.timestamp()).collect();
        assert_eq!(times, [4, 3, 2], "newest first, the oldest dropped");
    }

    #[test]
    fn a_tag_is_pending_until_its_status_catches_up() {
        let mut s = stream();
        assert_eq!(
            pending_tags(&s, SourceKind::DockerImage),
            [("latest".to_owned(), 1)]
        );
        record_image(&mut s, "latest", A, "ref", 1, Time::from_timestamp(1), 15);
        assert!(pending_tags(&s, SourceKind::DockerImage).is_empty());
        s.spec.tags[0].generation = Some(2);
        assert_eq!(pending_tags(&s, SourceKind::DockerImage).len(), 1);
        record_failure(
            &mut s,
            "latest",
            StatusReason::NotFound,
            "gone",
            2,
            Time::from_timestamp(2),
        );
        assert!(
            pending_tags(&s, SourceKind::DockerImage).is_empty(),
            "a failure is retried by backoff, not as pending"
        );
        assert!(has_failed(&s, "latest"));
    }

    #[test]
    fn an_unreachable_registry_says_where_mirrors_go_and_the_same_on_every_try() {
        let e = RegistryError::Unreachable {
            registry: "docker.io".into(),
            message: "tcp connect error: Connection refused".into(),
        };
        let m = failure_message(&e);
        assert!(m.starts_with("cannot reach docker.io. "), "{m}");
        assert!(
            m.contains("[[registries]]") && m.contains("samplesRegistry"),
            "{m}"
        );
        assert!(
            m.ends_with("(tcp connect error: Connection refused)"),
            "{m}"
        );
        assert_eq!(
            failure_message(&e),
            m,
            "a retry must not change the message"
        );
    }

    #[test]
    fn the_tag_answer_says_when_the_next_try_is() {
        let now = Time::from_timestamp(8 * 3600 + 50 * 60);
        let m = with_next_try(
            "cannot reach docker.io. (refused)",
            Time::from_timestamp(now.timestamp() + 40),
            now,
        );
        assert_eq!(
            m,
            "cannot reach docker.io. (refused); next try in 40 s (at 08:50:40 UTC)"
        );
        let later = with_next_try(&m, Time::from_timestamp(now.timestamp() + 3900), now);
        assert!(
            later.ends_with("; next try in 1 h 5 min (at 09:55:00 UTC)"),
            "{later}"
        );
        assert_eq!(failure_summary(&later), "cannot reach docker.io. (refused)");
        let due = with_next_try("gone", Time::from_timestamp(1), now);
        assert_eq!(due, "gone; next try due now (at 00:00:01 UTC)");
    }
}
