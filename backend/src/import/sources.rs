//! Where a tag that points into another stream takes its image from: an `ImageStreamTag`
//! source's current image (the tag follows it), or one image of an `ImageStreamImage` source
//! (`stream@digest`, a unique prefix accepted; the tag is pinned). Shared by the tag writes,
//! which apply it at once, and the worker, which keeps followers moving.

use tagstream_shared::{ImageStream, ObjectReference, SourceKind, StreamImageName, TagEvent};

/// The project a source lives in: `from.namespace`, or the tag's own.
pub fn source_namespace<'a>(from: &'a ObjectReference, own: &'a str) -> &'a str {
    from.namespace
        .as_deref()
        .filter(|n| !n.is_empty())
        .unwrap_or(own)
}

/// The stream a source names (`stream:tag`, `tag` of the own stream, or `stream@digest`);
/// `None` for a source that is not another stream's tag or image.
pub fn source_stream(from: &ObjectReference, own_stream: &str) -> Option<String> {
    match from.source_kind()? {
        SourceKind::ImageStreamTag => Some(match from.name.split_once(':') {
            Some((s, _)) => s.to_owned(),
            None => own_stream.to_owned(),
        }),
        SourceKind::ImageStreamImage => from.name.split_once('@').map(|(s, _)| s.to_owned()),
        SourceKind::DockerImage => None,
    }
}

/// The image the tag should point at, read from its source stream.
pub fn source_event(from: &ObjectReference, source: &ImageStream) -> Option<TagEvent> {
    match from.source_kind()? {
        SourceKind::ImageStreamTag => {
            let tag = from
                .name
                .split_once(':')
                .map_or(from.name.as_str(), |(_, t)| t);
            source.status_tag(tag)?.current().cloned()
        }
        SourceKind::ImageStreamImage => {
            let wanted: StreamImageName = from.name.parse().ok()?;
            pinned_event(source, &wanted.digest_prefix)
        }
        SourceKind::DockerImage => None,
    }
}

/// The history item of `source` whose image starts with `prefix`, when exactly one image does.
fn pinned_event(source: &ImageStream, prefix: &str) -> Option<TagEvent> {
    let mut found: Option<&TagEvent> = None;
    for event in source.status.tags.iter().flat_map(|t| t.items.iter()) {
        if event.image.starts_with(prefix) {
            match found {
                Some(f) if f.image != event.image => return None,
                _ => found = Some(event),
            }
        }
    }
    found.cloned()
}
