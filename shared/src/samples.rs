//! `samples.operator.openshift.io/v1` Config: how the server manages the samples it ships (image
//! streams and templates in the samples project), with the field names of OpenShift's samples
//! operator.

use serde::{Deserialize, Serialize};

use crate::meta::Extra;

pub const API_VERSION: &str = crate::resources::SAMPLES_CONFIGS.api_version;
pub const GROUP: &str = crate::resources::SAMPLES_CONFIGS.group;
/// The one Config there is.
pub const CONFIG_NAME: &str = "cluster";
/// The label every sample carries.
pub const MANAGED_LABEL: &str = "samples.operator.openshift.io/managed";
/// The annotation naming the tagstream version a sample was written by.
pub const VERSION_ANNOTATION: &str = "samples.operator.openshift.io/version";

crate::words::word_enum! {
    /// What the server does with its samples at start and when the config changes.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
    pub enum ManagementState {
        /// Missing samples are created and changed ones put back as shipped.
        #[default]
        Managed = "Managed",
        /// Samples are left as they are.
        Unmanaged = "Unmanaged",
        /// Samples are deleted.
        Removed = "Removed",
    }
}

crate::meta::wire_object! {
    /// How the server manages the samples it ships: one object, named `cluster`.
    pub struct SamplesConfig {
        /// What should be done with the samples.
        pub spec: SamplesConfigSpec = default,
        /// What was last done with them.
        pub status: SamplesConfigStatus = default,
        #[serde(flatten)]
        pub extra: Extra,
    }
}

crate::meta::wire_struct! {
    /// What should be done with the samples.
    #[derive(Default)]
    pub struct SamplesConfigSpec {
        /// `Managed`, `Unmanaged` or `Removed`.
        pub management_state: ManagementState = default,
        /// A registry host that replaces `docker.io` in the sample image streams (a mirror).
        pub samples_registry?: String,
        /// Sample image streams, by name, that are left alone.
        pub skipped_imagestreams?: Vec<String>,
        /// Sample templates, by name, that are left alone.
        pub skipped_templates?: Vec<String>,
        #[serde(flatten)]
        pub extra: Extra,
    }

    /// What was last done with the samples.
    #[derive(Default)]
    pub struct SamplesConfigStatus {
        /// The state last applied.
        pub management_state?: Option<ManagementState>,
        /// tagstream's own: the project the samples live in (`[samples] namespace`).
        pub namespace?: String,
        /// The version of the samples last written.
        pub version?: String,
        #[serde(flatten)]
        pub extra: Extra,
    }
}
