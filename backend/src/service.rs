//! The rules for objects as they are written, as OpenShift applies them: what the server sets on
//! create (uid, creationTimestamp, generation), what an update may change (not uid, not status
//! through the main resource), and which tags count as changed. Pure functions over objects.

use tagstream_shared::imagestream::API_VERSION as IMAGE_API;
use tagstream_shared::project::{API_VERSION as PROJECT_API, ProjectStatus};
use tagstream_shared::{ImageStream, ImageStreamStatus, Project, TagReference, Time};

pub(crate) fn new_uid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A project as first stored: Active, with a uid and creation time; client-set metadata that
/// only the server may write is replaced.
pub fn project_for_create(mut project: Project, name: &str, now: Time) -> Project {
    project.kind = Project::KIND.into();
    project.api_version = PROJECT_API.into();
    project.metadata.name = Some(name.into());
    project.metadata.namespace = None;
    project.metadata.uid = Some(new_uid());
    project.metadata.creation_timestamp = Some(now);
    project.metadata.resource_version = None;
    project.metadata.keep_server_owned(None);
    project.status = ProjectStatus {
        phase: "Active".into(),
    };
    project
}

/// A stream as first stored: generation 1, every tag at generation 1, status empty (status is
/// the server's: imports and the status subresource write it), no cross-project grants (only
/// `source_access::authorize_sources` records those).
pub fn stream_for_create(mut stream: ImageStream, ns: &str, now: Time) -> ImageStream {
    stream.kind = ImageStream::KIND.into();
    stream.api_version = IMAGE_API.into();
    stream.metadata.namespace = Some(ns.into());
    stream.metadata.uid = Some(new_uid());
    stream.metadata.creation_timestamp = Some(now);
    stream.metadata.resource_version = None;
    stream.metadata.keep_server_owned(None);
    stream.metadata.generation = Some(1);
    crate::source_access::keep_server_grants(&mut stream, None);
    for tag in &mut stream.spec.tags {
        tag.generation = Some(1);
    }
    stream.status = ImageStreamStatus {
        docker_image_repository: stream
            .spec
            .docker_image_repository
            .clone()
            .unwrap_or_default(),
        ..ImageStreamStatus::default()
    };
    stream
}

fn same_tag_ignoring_generation(a: &TagReference, b: &TagReference) -> bool {
    TagReference {
        generation: None,
        ..a.clone()
    } == TagReference {
        generation: None,
        ..b.clone()
    }
}

/// A replacement of `old` by the user's `new`: identity, status and cross-project grants stay
/// the server's; a changed
/// spec bumps the generation, and each new or changed tag takes the new generation (a pending
/// import for a DockerImage tag); the status of tags removed from the spec goes with them.
pub fn stream_for_update(mut new: ImageStream, old: &ImageStream) -> ImageStream {
    new.kind = ImageStream::KIND.into();
    new.api_version = IMAGE_API.into();
    new.metadata.namespace = old.metadata.namespace.clone();
    new.metadata.uid = old.metadata.uid.clone();
    new.metadata.creation_timestamp = old.metadata.creation_timestamp;
    new.metadata.keep_server_owned(Some(&old.metadata));
    crate::source_access::keep_server_grants(&mut new, Some(old));
    let old_generation = old.metadata.generation.unwrap_or(1);
    let spec_changed = {
        let strip = |s: &ImageStream| {
            let mut spec = s.spec.clone();
            for t in &mut spec.tags {
                t.generation = None;
            }
            spec
        };
        strip(&new) != strip(old)
    };
    // `generation: 0` on a tag asks for it to be imported again, as in OpenShift.
    let reimport = new.spec.tags.iter().any(|t| t.generation == Some(0));
    let spec_changed = spec_changed || reimport;
    let generation = if spec_changed {
        old_generation + 1
    } else {
        old_generation
    };
    new.metadata.generation = Some(generation);
    for tag in &mut new.spec.tags {
        match old.spec_tag(&tag.name) {
            Some(before)
                if tag.generation != Some(0) && same_tag_ignoring_generation(tag, before) =>
            {
                if tag.generation.is_none() {
                    tag.generation = before.generation;
                }
            }
            _ => tag.generation = Some(generation),
        }
    }
    let mut status = old.status.clone();
    status.docker_image_repository = new.spec.docker_image_repository.clone().unwrap_or_default();
    status
        .tags
        .retain(|t| new.spec_tag(&t.tag).is_some() || old.spec_tag(&t.tag).is_none());
    new.status = status;
    new
}

/// A write of the status subresource: everything but the status stays as stored.
pub fn stream_with_status(old: &ImageStream, status: ImageStreamStatus) -> ImageStream {
    ImageStream {
        status,
        ..old.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tagstream_shared::{NamedTagEventList, ObjectReference};

    fn tag(name: &str, from: &str) -> TagReference {
        TagReference {
            name: name.into(),
            from: Some(ObjectReference {
                kind: "DockerImage".into(),
                name: from.into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn stored() -> ImageStream {
        let mut s = ImageStream::new("ruby");
        s.spec.tags = vec![tag("a", "quay.io/x/ruby:1"), tag("b", "quay.io/x/ruby:2")];
        let mut s = stream_for_create(s, "demo", Time::from_timestamp(0));
        s.status.tags = vec![
            NamedTagEventList {
                tag: "a".into(),
                ..Default::default()
            },
            NamedTagEventList {
                tag: "b".into(),
                ..Default::default()
            },
        ];
        s
    }

    #[test]
    fn create_sets_identity_and_generations_and_clears_status() {
        let mut s = ImageStream::new("ruby");
        s.spec.tags = vec![tag("a", "quay.io/x/ruby:1")];
        s.status.tags = vec![NamedTagEventList {
            tag: "forged".into(),
            ..Default::default()
        }];
        let s = stream_for_create(s, "demo", Time::from_timestamp(5));
        assert_eq!(s.metadata.generation, Some(1));
        assert_eq!(s.spec.tags[0].generation, Some(1));
        assert!(s.metadata.uid.is_some());
        assert!(s.status.tags.is_empty());
    }

    #[test]
    fn changed_and_new_tags_take_the_new_generation() {
        let old = stored();
        let mut new = old.clone();
        new.spec.tags[1] = tag("b", "quay.io/x/ruby:3");
        new.spec.tags.push(tag("c", "quay.io/x/ruby:4"));
        let s = stream_for_update(new, &old);
        assert_eq!(s.metadata.generation, Some(2));
        let gens: Vec<_> = s.spec.tags.iter().map(|t| t.generation).collect();
        assert_eq!(gens, [Some(1), Some(2), Some(2)]);
    }

    #[test]
    fn an_unchanged_spec_keeps_the_generation_and_status() {
        let old = stored();
        let mut new = old.clone();
        new.status = ImageStreamStatus::default();
        new.metadata.uid = Some("forged".into());
        let s = stream_for_update(new, &old);
        assert_eq!(s.metadata.generation, Some(1));
        assert_eq!(s.status, old.status);
        assert_eq!(s.metadata.uid, old.metadata.uid);
    }

    #[test]
    fn generation_zero_asks_for_a_new_import() {
        let old = stored();
        let mut new = old.clone();
        new.spec.tags[0].generation = Some(0);
        let s = stream_for_update(new, &old);
        assert_eq!(s.metadata.generation, Some(2));
        let gens: Vec<_> = s.spec.tags.iter().map(|t| t.generation).collect();
        assert_eq!(gens, [Some(2), Some(1)]);
    }

    #[test]
    fn removing_a_tag_removes_its_history() {
        let old = stored();
        let mut new = old.clone();
        new.spec.tags.remove(0);
        let s = stream_for_update(new, &old);
        let left: Vec<_> = s.status.tags.iter().map(|t| t.tag.as_str()).collect();
        assert_eq!(left, ["b"]);
    }
}
