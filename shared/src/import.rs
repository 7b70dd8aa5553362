//! `ImageStreamImport` (image.openshift.io/v1): ask the server to look images up in a registry
//! and, unless `spec.import` is false, tag them into a stream. The answer carries each image's
//! outcome as a `Status` and, when it worked, the `Image`.

use serde::{Deserialize, Serialize};

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

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ImageStreamImportSpec {
    /// Save the result into the stream; `false` only previews.
    #[serde(default)]
    pub import: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<RepositoryImportSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ImageImportSpec>,
}

/// Every tag of one repository.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RepositoryImportSpec {
    pub from: ObjectReference,
    #[serde(default)]
    pub import_policy: TagImportPolicy,
    #[serde(default)]
    pub reference_policy: TagReferencePolicy,
    #[serde(default)]
    pub include_manifest: bool,
}

/// One image reference, tagged as `to.name` (default: the reference's tag).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ImageImportSpec {
    pub from: ObjectReference,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<LocalObjectReference>,
    #[serde(default)]
    pub import_policy: TagImportPolicy,
    #[serde(default)]
    pub reference_policy: TagReferencePolicy,
    #[serde(default)]
    pub include_manifest: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct LocalObjectReference {
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ImageStreamImportStatus {
    /// The stream as saved (absent when previewing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import: Option<ImageStream>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<RepositoryImportStatus>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ImageImportStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RepositoryImportStatus {
    pub status: Status,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ImageImportStatus>,
    /// Tags beyond the import limit, not imported.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional_tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ImageImportStatus {
    /// `Success`, or a failure with its reason and message.
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tag: String,
    /// For a manifest list imported whole: each platform's image.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub manifests: Vec<Image>,
}
