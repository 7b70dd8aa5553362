//! `image.openshift.io/v1` ImageStream and ImageStreamTag. Field names and which fields are always
//! written follow OpenShift's Go types, so a file from openshift/library loads and serializes back
//! unchanged; fields we do not model are kept in `extra`.

use std::collections::BTreeMap;

use crate::meta::{Extra, ObjectMeta, Time};
use crate::reference::{Digest, ImageReference};

pub const API_VERSION: &str = crate::resources::IMAGESTREAMS.api_version;
pub const GROUP: &str = "image.openshift.io";

crate::meta::wire_object! {
    without Default;
    /// A named stream of tags, each pointing at an image and keeping its history.
    pub struct ImageStream {
        /// The tags the user wants and how the stream is looked up.
        pub spec: ImageStreamSpec = default,
        /// What the server found: the stream's repository and each tag's history.
        pub status: ImageStreamStatus = default,
        #[serde(flatten)]
        pub extra: Extra,
    }
}

crate::meta::wire_struct! {
    /// What the user wants of a stream: its tags and how it is looked up.
    #[derive(Default)]
    pub struct ImageStreamSpec {
        /// Whether workloads may refer to the stream's tags by short name.
        pub lookup_policy: ImageLookupPolicy = default,
        /// An external repository the stream mirrors (OpenShift's legacy field, kept as sent).
        pub docker_image_repository?: Option<String>,
        /// The tags the user asked for: each tag's name and where its image comes from (an
        /// image in a registry, another tag, or an image already in a stream).
        pub tags?: Vec<TagReference>,
        #[serde(flatten)]
        pub extra: Extra,
    }

    /// Whether workloads may refer to the stream's tags by short name.
    #[derive(Default, Eq)]
    pub struct ImageLookupPolicy {
        /// Whether workloads in the project may name the stream's tags by short name (`ruby:3.3`).
        pub local: bool = default,
    }

    /// A tag the user asked for: its name and where its image comes from.
    #[derive(Default)]
    pub struct TagReference {
        /// The tag's name (`latest`, `3.3`): required in a stream's spec; writing one
        /// ImageStreamTag takes it from the URL.
        pub name: String = default,
        /// Annotations shown with the tag (`description`, `tags`, `iconClass`, ...).
        pub annotations: Option<BTreeMap<String, String>> = default,
        /// Where the tag's image comes from: a `DockerImage` reference, an `ImageStreamTag`
        /// (`tag` or `stream:tag`) or an `ImageStreamImage` (`stream@sha256:...`).
        pub from?: Option<ObjectReference>,
        /// Whether the tag only points at `from` without importing it.
        pub reference?: bool,
        /// The spec generation this tag was last changed at; newer than the status means pending.
        pub generation: Option<i64> = default,
        /// How the image is imported: scheduled re-imports, insecure registries.
        pub import_policy: TagImportPolicy = default,
        /// Whether pulls go to the image's source or through the stream's registry.
        pub reference_policy: TagReferencePolicy = default,
        #[serde(flatten)]
        pub extra: Extra,
    }
}

crate::words::word_enum! {
    /// The kinds a tag's `from` may name.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum SourceKind {
        /// An image in a registry, by reference.
        DockerImage = "DockerImage",
        /// Another tag, `tag` in the same stream or `stream:tag`.
        ImageStreamTag = "ImageStreamTag",
        /// An image already in a stream, `stream@sha256:...`.
        ImageStreamImage = "ImageStreamImage",
    }
}

crate::meta::wire_struct! {
    /// A reference to another object (Kubernetes `ObjectReference`); every field optional.
    #[derive(Default)]
    pub struct ObjectReference {
        /// `DockerImage`, `ImageStreamTag` or `ImageStreamImage` in a tag's `from`.
        pub kind?: String,
        /// The project of an `ImageStreamTag` or `ImageStreamImage` (the stream's own if unset).
        pub namespace?: Option<String>,
        /// An image reference (`quay.io/org/repo:tag`), `stream:tag` or `stream@sha256:...`.
        pub name?: String,
        #[serde(flatten)]
        pub extra: Extra,
    }
}

impl ObjectReference {
    /// The kind, if it is one a tag may come from.
    pub fn source_kind(&self) -> Option<SourceKind> {
        SourceKind::parse(&self.kind)
    }

    /// How the console names the source: `quay.io/x/y:1`, `ruby:3.3`, `other/ruby:3.3`.
    pub fn describe(&self) -> String {
        match &self.namespace {
            Some(ns) if !ns.is_empty() && self.kind != SourceKind::DockerImage.as_str() => {
                format!("{ns}/{}", self.name)
            }
            _ => self.name.clone(),
        }
    }
}

crate::meta::wire_struct! {
    /// How a tag's image is imported from its registry.
    #[derive(Default, Eq)]
    pub struct TagImportPolicy {
        /// Asks to allow a registry without verified TLS; tagstream decides that per registry in
        /// its configuration.
        pub insecure?: bool,
        /// Re-import the tag periodically, so it follows the source tag as it moves.
        pub scheduled?: bool,
        /// `Legacy` or `PreserveOriginal`.
        pub import_mode?: Option<String>,
    }

    /// `Source` (pull from where the image came from) or `Local` (through the stream's registry).
    #[derive(Default, Eq)]
    pub struct TagReferencePolicy {
        /// `Source` or `Local`: whether pull specs name the source registry or the stream's own.
        #[serde(default, rename = "type")]
        pub kind: String,
    }

    /// What the server knows of a stream: where it can be pulled from and each tag's history.
    #[derive(Default)]
    pub struct ImageStreamStatus {
        /// The repository the stream's images are pulled from: the integrated registry's internal
        /// address, or else `spec.dockerImageRepository`.
        pub docker_image_repository: String = default,
        /// Where the stream's images are pulled from outside, when a public registry host is set.
        pub public_docker_image_repository?: Option<String>,
        /// Each tag's history of images, newest first, with its conditions.
        pub tags?: Vec<NamedTagEventList>,
        #[serde(flatten)]
        pub extra: Extra,
    }

    /// One tag's history: `items` newest first, and conditions such as a failed import.
    #[derive(Default)]
    pub struct NamedTagEventList {
        /// The tag's name.
        pub tag: String,
        /// The images the tag has pointed at, newest (the current one) first.
        pub items: Vec<TagEvent> = default,
        /// Problems with the tag, such as its last import failing.
        pub conditions?: Vec<TagEventCondition>,
    }
}

impl NamedTagEventList {
    /// The image the tag points at now.
    pub fn current(&self) -> Option<&TagEvent> {
        self.items.first()
    }
}

crate::meta::wire_struct! {
    /// The tag pointed at `image` from `created` on.
    pub struct TagEvent {
        /// When the tag started pointing at this image.
        pub created: Time,
        /// The pull spec of the image, by digest where known.
        pub docker_image_reference: String,
        /// The image's digest.
        pub image: String,
        /// The spec generation of the tag that brought this image.
        pub generation: i64 = default,
    }
}

impl TagEvent {
    /// The image's digest, if it is one.
    pub fn digest(&self) -> Option<Digest> {
        self.image.parse().ok()
    }

    /// `registry/repo@sha256:...`: what to pull to get exactly this image.
    pub fn pull_spec_by_digest(&self) -> Option<String> {
        let reference: ImageReference = self.docker_image_reference.parse().ok()?;
        if reference.digest.is_some() {
            return Some(reference.without_tag().to_string());
        }
        Some(reference.with_digest(self.digest()?).to_string())
    }
}

crate::meta::wire_struct! {
    /// A condition on a tag, such as `ImportSuccess=False` with the reason.
    pub struct TagEventCondition {
        /// The condition's type: `ImportSuccess`.
        #[serde(rename = "type")]
        pub kind: String,
        /// `True`, `False` or `Unknown`.
        pub status: String,
        /// When the condition last changed status.
        pub last_transition_time?: Option<Time>,
        /// A one-word CamelCase cause, for programs.
        pub reason?: String,
        /// What went wrong, for people.
        pub message?: String,
        /// The spec generation of the tag this condition is about.
        pub generation: i64 = default,
    }
}

impl ImageStream {
    /// An empty stream named `name`, with kind and apiVersion set.
    pub fn new(name: &str) -> Self {
        Self {
            kind: Self::KIND.into(),
            api_version: API_VERSION.into(),
            metadata: ObjectMeta::named(name),
            spec: ImageStreamSpec::default(),
            status: ImageStreamStatus::default(),
            extra: Extra::new(),
        }
    }

    pub fn spec_tag(&self, tag: &str) -> Option<&TagReference> {
        self.spec.tags.iter().find(|t| t.name == tag)
    }

    pub fn status_tag(&self, tag: &str) -> Option<&NamedTagEventList> {
        self.status.tags.iter().find(|t| t.tag == tag)
    }

    /// Every tag the stream has, in spec order, then tags known only from status.
    pub fn tag_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.spec.tags.iter().map(|t| t.name.as_str()).collect();
        for t in &self.status.tags {
            if !names.contains(&t.tag.as_str()) {
                names.push(&t.tag);
            }
        }
        names
    }

    /// The ImageStreamTag view of one tag, or `None` if the stream has no such tag.
    pub fn stream_tag(&self, tag: &str) -> Option<ImageStreamTag> {
        let spec = self.spec_tag(tag).cloned();
        let status = self.status_tag(tag);
        if spec.is_none() && status.is_none() {
            return None;
        }
        let current = status.and_then(NamedTagEventList::current);
        let mut metadata = ObjectMeta::named(format!("{}:{tag}", self.metadata.name()));
        metadata.namespace = self.metadata.namespace.clone();
        metadata.uid = self.metadata.uid.clone();
        metadata.resource_version = self.metadata.resource_version.clone();
        metadata.creation_timestamp = current
            .map(|e| e.created)
            .or(self.metadata.creation_timestamp);
        Some(ImageStreamTag {
            kind: ImageStreamTag::KIND.into(),
            api_version: API_VERSION.into(),
            metadata,
            generation: current.map_or(0, |e| e.generation),
            conditions: status.map(|s| s.conditions.clone()).unwrap_or_default(),
            image: current.map(|e| Image {
                metadata: ObjectMeta::named(e.image.clone()),
                docker_image_reference: e.docker_image_reference.clone(),
                ..Image::default()
            }),
            items: status.map(|s| s.items.clone()).unwrap_or_default(),
            lookup_policy: self.spec.lookup_policy.clone(),
            tag: spec,
        })
    }
}

crate::meta::wire_object! {
    without Default;
    /// One tag of a stream with its current image, as `GET imagestreamtags/{name}:{tag}` answers.
    pub struct ImageStreamTag {
        /// The spec tag, or null for a tag known only from status.
        pub tag: Option<TagReference> = default,
        /// The spec generation of the tag that brought the current image.
        pub generation: i64 = default,
        /// The stream's lookup policy: whether the tag may be named by short name.
        pub lookup_policy: ImageLookupPolicy = default,
        /// Problems with the tag, such as its last import failing.
        pub conditions?: Vec<TagEventCondition>,
        /// The current image; null while the tag has none yet.
        pub image: Option<Image> = default,
        /// The tag's history, newest first (ours: OpenShift answers it only on the stream).
        pub items?: Vec<TagEvent>,
    }
}

impl ImageStreamTag {
    /// Ours, on an ImageStreamTag answer: when the server last asked the registry about the
    /// tag's source (RFC 3339).
    pub const LAST_CHECKED: &'static str = "tagstream.io/last-checked";

    /// Ours, on an ImageStreamTag answer whose import failed: when the server tries it next
    /// (RFC 3339; its condition's message says it too).
    pub const NEXT_TRY: &'static str = "tagstream.io/next-try";

    /// When the tag's source was last checked, if the server said.
    pub fn last_checked(&self) -> Option<Time> {
        self.metadata
            .annotations
            .as_ref()?
            .get(Self::LAST_CHECKED)?
            .parse()
            .ok()
    }
}

pub use crate::image::Image;

#[cfg(test)]
mod tests {
    use super::*;

    fn event(image: &str, reference: &str) -> TagEvent {
        TagEvent {
            created: Time::from_timestamp(1_700_000_000),
            docker_image_reference: reference.into(),
            image: image.into(),
            generation: 1,
        }
    }

    const D: &str = "sha256:d8b4cbc952f2a3e4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e56e03";

    #[test]
    fn pull_spec_by_digest_replaces_the_tag() {
        let e = event(D, "quay.io/demo/ruby:3.3");
        assert_eq!(
            e.pull_spec_by_digest(),
            Some(format!("quay.io/demo/ruby@{D}"))
        );
        let e = event(D, &format!("quay.io/demo/ruby@{D}"));
        assert_eq!(
            e.pull_spec_by_digest(),
            Some(format!("quay.io/demo/ruby@{D}"))
        );
        assert_eq!(
            event("not-a-digest", "quay.io/demo/ruby:3.3").pull_spec_by_digest(),
            None
        );
    }

    #[test]
    fn stream_tag_view_carries_spec_and_history() {
        let mut s = ImageStream::new("ruby");
        s.spec.tags.push(TagReference {
            name: "latest".into(),
            from: Some(ObjectReference {
                kind: "DockerImage".into(),
                name: "quay.io/demo/ruby:3.3".into(),
                ..ObjectReference::default()
            }),
            ..TagReference::default()
        });
        assert!(s.stream_tag("latest").is_some_and(|t| t.image.is_none()));
        assert!(s.stream_tag("missing").is_none());
        s.status.tags.push(NamedTagEventList {
            tag: "latest".into(),
            items: vec![event(D, "quay.io/demo/ruby:3.3")],
            conditions: vec![],
        });
        let t = s.stream_tag("latest").expect("tag exists");
        assert_eq!(t.metadata.name(), "ruby:latest");
        assert_eq!(
            t.image.map(|i| i.metadata.name().to_owned()).as_deref(),
            Some(D)
        );
    }
}
