//! `Image` (image.openshift.io/v1): what an import learns about one manifest, kept once per
//! digest and shared by every tag that points at it. The field names are OpenShift's, including
//! the capitalised Docker names inside `dockerImageMetadata`; unknown fields are kept.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::meta::{Extra, Time};

/// The manifest media types tagstream understands, as registries name them.
pub mod media_type {
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

    /// Every type, for `Accept`: a registry answers 404 for OCI content, or silently converts
    /// Docker content to schema1, when the type it stored is not accepted.
    pub const ALL: [&str; 4] = [OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST];

    /// A list of manifests for several platforms.
    pub fn is_list(media_type: &str) -> bool {
        media_type == OCI_INDEX || media_type == DOCKER_LIST
    }
}

crate::meta::wire_object! {
    /// An image known by its digest: what its manifest and configuration say.
    pub struct Image {
        /// `metadata.name` is the digest.
        metadata;
        /// Where the image was imported from, by digest.
        pub docker_image_reference: String = default,
        /// The image's configuration: platform, creation time, author, how it runs, size.
        pub docker_image_metadata?: Option<DockerImageMetadata>,
        /// The version of `dockerImageMetadata`'s format (`1.0`).
        pub docker_image_metadata_version?: Option<String>,
        /// The image's layers, base first.
        pub docker_image_layers?: Vec<ImageLayer>,
        /// The manifest's media type (OCI or Docker, one image or a list).
        pub docker_image_manifest_media_type?: Option<String>,
        /// For a manifest list: each platform's child manifest.
        pub docker_image_manifests?: Vec<ImageManifest>,
        #[serde(flatten)]
        pub extra: Extra,
    }
}

impl Image {
    /// The digest this image is known by.
    pub fn digest(&self) -> &str {
        self.metadata.name()
    }

    /// Whether this is a manifest list rather than one platform's image.
    pub fn is_list(&self) -> bool {
        self.docker_image_manifest_media_type
            .as_deref()
            .is_some_and(media_type::is_list)
    }
}

/// The image's configuration as OpenShift shows it (`DockerImage`, version 1.0).
// Docker's capitalised names (`Id`, `Created`, ...), but `kind` and `apiVersion` as objects have them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "PascalCase")]
pub struct DockerImageMetadata {
    /// Always `DockerImage`.
    #[serde(default, rename = "kind")]
    pub kind: String,
    /// The format's version, `1.0`.
    #[serde(default, rename = "apiVersion")]
    pub api_version: String,
    /// The configuration's digest.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// When the image was built.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<Time>,
    /// Who built the image, if it says.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub author: String,
    /// How a container from the image runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<DockerConfig>,
    /// The CPU architecture (`amd64`, `arm64`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub architecture: String,
    /// The operating system (`linux`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub os: String,
    /// The CPU variant (`v8`), if any.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub variant: String,
    /// The config and every layer, in bytes as stored in the registry.
    #[serde(default)]
    pub size: u64,
    #[serde(flatten)]
    pub extra: Extra,
}

/// How a container from the image runs: Docker's `Config` names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "PascalCase")]
pub struct DockerConfig {
    /// The user (and group) the process runs as.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user: String,
    /// The ports the image says it listens on (`8080/tcp`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub exposed_ports: BTreeMap<String, serde_json::Value>,
    /// Environment variables, as `NAME=value`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    /// The command a container runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entrypoint: Vec<String>,
    /// The default arguments to the entrypoint, or the command when there is none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cmd: Vec<String>,
    /// The directory the process starts in.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub working_dir: String,
    /// The image's labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(flatten)]
    pub extra: Extra,
}

crate::meta::wire_struct! {
    /// One layer: its digest (`name`), size in bytes and media type.
    #[derive(Default, Eq)]
    pub struct ImageLayer {
        /// The layer's digest.
        pub name: String,
        /// The layer's size in bytes, compressed as stored.
        pub size: u64 = default,
        /// The layer's media type.
        pub media_type: String = default,
    }

    /// One platform's manifest in a manifest list.
    #[derive(Default, Eq)]
    pub struct ImageManifest {
        /// The platform manifest's digest.
        pub digest: String,
        /// The platform manifest's media type.
        pub media_type: String = default,
        /// The platform manifest's size in bytes.
        pub manifest_size: u64 = default,
        /// The CPU architecture (`amd64`, `arm64`).
        pub architecture: String = default,
        /// The operating system (`linux`).
        pub os: String = default,
        /// The CPU variant (`v8`), if any.
        pub variant?: String,
    }
}

impl ImageManifest {
    /// `linux/arm64/v8`.
    pub fn platform(&self) -> String {
        if self.variant.is_empty() {
            format!("{}/{}", self.os, self.architecture)
        } else {
            format!("{}/{}/{}", self.os, self.architecture, self.variant)
        }
    }
}

crate::meta::wire_object! {
    /// One image of a stream, as `GET imagestreamimages/{stream}@{digest}` answers it.
    pub struct ImageStreamImage {
        /// `metadata.name` is `stream@digest`.
        metadata;
        /// The image, with its configuration and layers.
        pub image: Image,
    }
}

/// `stream@digest` as a path names one image of a stream; the digest part may be a prefix
/// (`stream@sha256:d8b4c`), which the server resolves when it is unique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamImageName {
    pub stream: crate::names::StreamName,
    /// `sha256:` and at least 4 lower-case hex digits, up to the whole digest.
    pub digest_prefix: String,
}

impl std::str::FromStr for StreamImageName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (stream, digest) = s
            .split_once('@')
            .ok_or_else(|| format!("{s:?} is not stream@digest"))?;
        let stream = stream
            .parse()
            .map_err(|e| format!("{stream:?} is not a stream name: {e}"))?;
        let hex = digest
            .strip_prefix("sha256:")
            .ok_or_else(|| format!("{digest:?} is not a sha256 digest"))?;
        if hex.len() < 4
            || hex.len() > 64
            || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(format!(
                "{digest:?} is not a digest or a prefix of one (sha256: and 4 to 64 hex digits)"
            ));
        }
        Ok(Self {
            stream,
            digest_prefix: digest.to_owned(),
        })
    }
}

impl std::fmt::Display for StreamImageName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.stream, self.digest_prefix)
    }
}
