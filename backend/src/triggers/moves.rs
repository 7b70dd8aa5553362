//! What changed between two versions of a stream that someone may want to hear about: tags whose
//! current image is another one, and imports that newly failed. Pure: the store calls it inside
//! the write's transaction to fill the outbox and the events page.

use tagstream_shared::ImageStream;

use crate::import::status::{IMPORT_SUCCESS, failure_summary};

/// A tag now pointing at another image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagMove {
    pub tag: String,
    /// The digest before; none for the tag's first image.
    pub old: Option<String>,
    pub new: String,
    /// `registry/repo@sha256:...` of the new image.
    pub pull_spec: String,
}

/// A tag whose import failed, with a reason or message unlike before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportFailure {
    pub tag: String,
    pub reason: String,
    pub message: String,
}

/// The tags of `after` whose current image differs from `before`'s (every tag with an image,
/// for a new stream).
pub fn tag_moves(before: Option<&ImageStream>, after: &ImageStream) -> Vec<TagMove> {
    after
        .status
        .tags
        .iter()
        .filter_map(|list| {
            let current = list.current()?;
            let old = before
                .and_then(|b| b.status_tag(&list.tag))
                .and_then(|l| l.current())
                .map(|e| e.image.clone());
            if old.as_deref() == Some(current.image.as_str()) {
                return None;
            }
            Some(TagMove {
                tag: list.tag.clone(),
                old,
                new: current.image.clone(),
                pull_spec: current
                    .pull_spec_by_digest()
                    .unwrap_or_else(|| current.docker_image_reference.clone()),
            })
        })
        .collect()
}

/// The tags of `after` with a failed import that `before` did not have (or had for another
/// reason or message).
pub fn new_import_failures(
    before: Option<&ImageStream>,
    after: &ImageStream,
) -> Vec<ImportFailure> {
    let failed = |s: &ImageStream, tag: &str| {
        s.status_tag(tag).and_then(|l| {
            l.conditions
                .iter()
                .find(|c| c.kind == IMPORT_SUCCESS && c.status == "False")
                .map(|c| (c.reason.clone(), c.message.clone()))
        })
    };
    after
        .status
        .tags
        .iter()
        .filter_map(|list| {
            let now = failed(after, &list.tag)?;
            let was = before.and_then(|b| failed(b, &list.tag));
            // Another try of the same failure only says a new time for the next try.
            let same = was
                .is_some_and(|w| w.0 == now.0 && failure_summary(&w.1) == failure_summary(&now.1));
            (!same).then(|| ImportFailure {
                tag: list.tag.clone(),
                reason: now.0,
                message: now.1,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tagstream_shared::{NamedTagEventList, TagEvent, TagEventCondition, Time};

    fn stream(tags: &[(&str, &[&str])]) -> ImageStream {
        let mut s = ImageStream::new("ruby");
        for (tag, images) in tags {
            s.status.tags.push(NamedTagEventList {
                tag: (*tag).into(),
                items: images
                    .iter()
                    .map(|i| TagEvent {
                        created: Time::from_timestamp(0),
                        docker_image_reference: format!("quay.io/demo/ruby@{i}"),
                        image: (*i).into(),
                        generation: 1,
                    })
                    .collect(),
                conditions: Vec::new(),
            });
        }
        s
    }

    const A: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    #[test]
    fn only_tags_with_another_current_image_moved() {
        let before = stream(&[("latest", &[A]), ("prod", &[A])]);
        let after = stream(&[("latest", &[B, A]), ("prod", &[A]), ("new", &[A])]);
        let moves = tag_moves(Some(&before), &after);
        assert_eq!(moves.len(), 2);
        assert_eq!(moves[0].tag, "latest");
        assert_eq!(moves[0].old.as_deref(), Some(A));
        assert_eq!(moves[0].new, B);
        assert_eq!(moves[0].pull_spec, format!("quay.io/demo/ruby@{B}"));
        assert_eq!(
            (moves[1].tag.as_str(), moves[1].old.as_deref()),
            ("new", None)
        );
        assert!(tag_moves(Some(&after), &after).is_empty());
        assert_eq!(tag_moves(None, &after).len(), 3);
    }

    #[test]
    fn a_failure_is_new_once() {
        let before = stream(&[("latest", &[A])]);
        let mut after = before.clone();
        after.status.tags[0].conditions.push(TagEventCondition {
            kind: IMPORT_SUCCESS.into(),
            status: "False".into(),
            last_transition_time: None,
            reason: "NotFound".into(),
            message: "manifest unknown".into(),
            generation: 1,
        });
        assert_eq!(new_import_failures(Some(&before), &after).len(), 1);
        assert!(new_import_failures(Some(&after), &after).is_empty());
    }

    #[test]
    fn another_try_of_the_same_failure_is_not_new_but_another_failure_is() {
        let failing = |message: &str| {
            let mut s = stream(&[("latest", &[A])]);
            s.status.tags[0].conditions.push(TagEventCondition {
                kind: IMPORT_SUCCESS.into(),
                status: "False".into(),
                last_transition_time: None,
                reason: "ServiceUnavailable".into(),
                message: message.into(),
                generation: 1,
            });
            s
        };
        let first = failing("cannot reach docker.io; next try in 5 s (at 08:00:05 UTC)");
        let retry = failing("cannot reach docker.io; next try in 10 s (at 08:00:15 UTC)");
        let other = failing("docker.io answered 503 after 3 attempts; next try in 20 s");
        assert!(new_import_failures(Some(&first), &retry).is_empty());
        assert_eq!(new_import_failures(Some(&retry), &other).len(), 1);
    }
}
