//! `ImageStreamImport` (image.openshift.io/v1): ask the server to look images up in a registry
//! and, unless `spec.import` is false, tag them into a stream. The answer carries each image's
//! outcome as a `Status` and, when it worked, the `Image`.

use crate::image::Image;
use crate::imagestream::{ImageStream, ObjectReference, TagImportPolicy, TagReferencePolicy};
use crate::meta::Extra;
use crate::status::Status;

crate::meta::wire_object! {
    /// A request to look images up in a registry and, unless `spec.import` is false, tag them into
    /// a stream.
    pub struct ImageStreamImport {
        /// `metadata.name` names the stream to import into.
        metadata;
        /// What to import: one repository's tags, single images, or both.
        pub spec: ImageStreamImportSpec = default,
        /// What the import found, image by image; filled in the answer.
        pub status: ImageStreamImportStatus = default,
        #[serde(flatten)]
        pub extra: Extra,
    }
}

crate::meta::wire_struct! {
    /// What an import asks for.
    #[derive(Default)]
    pub struct ImageStreamImportSpec {
        /// Save the result into the stream; `false` only previews.
        pub import: bool = default,
        /// Import every tag of one repository (up to the server's limit).
        pub repository?: Option<RepositoryImportSpec>,
        /// Import these images, each tagged as its `to.name`.
        pub images?: Vec<ImageImportSpec>,
    }

    /// Every tag of one repository.
    #[derive(Default)]
    pub struct RepositoryImportSpec {
        /// The repository, as a `DockerImage` reference without tag.
        pub from: ObjectReference,
        /// How the imported tags are imported from now on.
        pub import_policy: TagImportPolicy = default,
        /// How the imported tags are pulled.
        pub reference_policy: TagReferencePolicy = default,
        /// Asks for the raw manifest in the answer (kept; tagstream does not send it).
        pub include_manifest: bool = default,
    }

    /// One image reference, tagged as `to.name` (default: the reference's tag).
    #[derive(Default)]
    pub struct ImageImportSpec {
        /// The image, as a `DockerImage` reference.
        pub from: ObjectReference,
        /// The tag to save it as; by default the reference's own tag.
        pub to?: Option<LocalObjectReference>,
        /// How the tag is imported from now on.
        pub import_policy: TagImportPolicy = default,
        /// How the tag is pulled.
        pub reference_policy: TagReferencePolicy = default,
        /// Asks for the raw manifest in the answer (kept; tagstream does not send it).
        pub include_manifest: bool = default,
    }

    /// Names an object in the same project.
    #[derive(Default, Eq)]
    pub struct LocalObjectReference {
        /// The object's name.
        pub name: String = default,
    }

    /// What an import found.
    #[derive(Default)]
    pub struct ImageStreamImportStatus {
        /// The stream as saved (absent when previewing).
        pub import?: Option<ImageStream>,
        /// The outcome for `spec.repository`.
        pub repository?: Option<RepositoryImportStatus>,
        /// The outcome for each of `spec.images`, in the same order.
        pub images?: Vec<ImageImportStatus>,
    }

    /// What importing a repository found.
    pub struct RepositoryImportStatus {
        /// Whether the repository could be read.
        pub status: Status,
        /// The outcome for each tag of the repository.
        pub images?: Vec<ImageImportStatus>,
        /// Tags beyond the import limit, not imported.
        pub additional_tags?: Vec<String>,
    }

    /// What importing one image found.
    pub struct ImageImportStatus {
        /// `Success`, or a failure with its reason and message.
        pub status: Status,
        /// The image found, when it worked.
        pub image?: Option<Image>,
        /// The tag the image was saved as, or would be.
        pub tag?: String,
        /// For a manifest list imported whole: each platform's image.
        pub manifests?: Vec<Image>,
    }
}
