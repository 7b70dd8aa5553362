//! `ImageStreamImport` (image.openshift.io/v1): ask the server to look images up in a registry
//! and, unless `spec.import` is false, tag them into a stream. The answer carries each image's
//! outcome as a `Status` and, when it worked, the `Image`.

use crate::image::Image;
use crate::imagestream::{ImageStream, ObjectReference, TagImportPolicy, TagReferencePolicy};
use crate::meta::Extra;
use crate::status::Status;

crate::meta::wire_object! {
    pub struct ImageStreamImport {
        /// `metadata.name` names the stream to import into.
        metadata;
        #[serde(default)]
        pub spec: ImageStreamImportSpec,
        #[serde(default)]
        pub status: ImageStreamImportStatus,
        #[serde(flatten)]
        pub extra: Extra,
    }
}

crate::meta::wire_struct! {
    #[derive(Default)]
    pub struct ImageStreamImportSpec {
        /// Save the result into the stream; `false` only previews.
        #[serde(default)]
        pub import: bool,
        pub repository?: Option<RepositoryImportSpec>,
        pub images?: Vec<ImageImportSpec>,
    }
}

crate::meta::wire_struct! {
    /// Every tag of one repository.
    #[derive(Default)]
    pub struct RepositoryImportSpec {
        pub from: ObjectReference,
        #[serde(default)]
        pub import_policy: TagImportPolicy,
        #[serde(default)]
        pub reference_policy: TagReferencePolicy,
        #[serde(default)]
        pub include_manifest: bool,
    }
}

crate::meta::wire_struct! {
    /// One image reference, tagged as `to.name` (default: the reference's tag).
    #[derive(Default)]
    pub struct ImageImportSpec {
        pub from: ObjectReference,
        pub to?: Option<LocalObjectReference>,
        #[serde(default)]
        pub import_policy: TagImportPolicy,
        #[serde(default)]
        pub reference_policy: TagReferencePolicy,
        #[serde(default)]
        pub include_manifest: bool,
    }
}

crate::meta::wire_struct! {
    #[derive(Default, Eq)]
    pub struct LocalObjectReference {
        #[serde(default)]
        pub name: String,
    }
}

crate::meta::wire_struct! {
    #[derive(Default)]
    pub struct ImageStreamImportStatus {
        /// The stream as saved (absent when previewing).
        pub import?: Option<ImageStream>,
        pub repository?: Option<RepositoryImportStatus>,
        pub images?: Vec<ImageImportStatus>,
    }
}

crate::meta::wire_struct! {
    pub struct RepositoryImportStatus {
        pub status: Status,
        pub images?: Vec<ImageImportStatus>,
        /// Tags beyond the import limit, not imported.
        pub additional_tags?: Vec<String>,
    }
}

crate::meta::wire_struct! {
    pub struct ImageImportStatus {
        /// `Success`, or a failure with its reason and message.
        pub status: Status,
        pub image?: Option<Image>,
        pub tag?: String,
        /// For a manifest list imported whole: each platform's image.
        pub manifests?: Vec<Image>,
    }
}
