//! `project.openshift.io/v1` Project: a namespace that holds streams.

use serde::{Deserialize, Serialize};

use crate::meta::{Extra, ObjectMeta};

pub const API_VERSION: &str = crate::resources::PROJECTS.api_version;
pub const GROUP: &str = crate::resources::PROJECTS.group;

/// The annotations OpenShift uses for a project's title and description.
pub const DISPLAY_NAME: &str = "openshift.io/display-name";
pub const DESCRIPTION: &str = "openshift.io/description";

crate::meta::wire_object! {
    without Default;
    /// A project: a namespace that holds streams, templates, triggers and access rules.
    pub struct Project {
        /// What must be done before the project is removed.
        pub spec?: Option<ProjectSpec>,
        /// Whether the project is in use or being removed.
        pub status: ProjectStatus = default,
        #[serde(flatten)]
        pub extra: Extra,
    }
}

/// A project's (and a Namespace's) spec as OpenShift and Kubernetes have it: only
/// `finalizers`. Typed, so that a key beside it is one the published schema does not name
/// (refused under `fieldValidation=Strict`) rather than free-form JSON every key passes.
/// Read only from a map, as Kubernetes reads it: serde's derive would also take a list of the
/// fields in order (`spec: [["kubernetes"]]`), which no client means.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ProjectSpec {
    /// What must be done before the project is removed (`kubernetes` on a cluster).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub finalizers: Vec<String>,
}

impl<'de> Deserialize<'de> for ProjectSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// The fields, as the derive reads them.
        #[derive(Deserialize)]
        struct Fields {
            #[serde(default)]
            finalizers: Vec<String>,
        }
        struct MapOnly;
        impl<'de> serde::de::Visitor<'de> for MapOnly {
            type Value = ProjectSpec;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a ProjectSpec object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<ProjectSpec, A::Error> {
                let fields =
                    Fields::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(ProjectSpec {
                    finalizers: fields.finalizers,
                })
            }
        }
        deserializer.deserialize_map(MapOnly)
    }
}

crate::meta::wire_struct! {
    /// Whether a project is in use or being removed.
    #[derive(Default, Eq)]
    pub struct ProjectStatus {
        /// `Active` or `Terminating`.
        pub phase?: String,
    }
}

impl Project {
    pub fn new(name: &str) -> Self {
        Self {
            kind: Self::KIND.into(),
            api_version: API_VERSION.into(),
            metadata: ObjectMeta::named(name),
            spec: None,
            status: ProjectStatus::default(),
            extra: Extra::new(),
        }
    }

    /// The display name annotation, falling back to the name.
    pub fn display_name(&self) -> &str {
        self.metadata
            .annotation(DISPLAY_NAME)
            .filter(|s| !s.is_empty())
            .unwrap_or(self.metadata.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_is_read_only_from_a_map() {
        let read = serde_json::from_value::<ProjectSpec>;
        assert!(read(serde_json::json!([["kubernetes", "evil"]])).is_err());
        assert!(read(serde_json::json!([])).is_err());
        let spec = read(serde_json::json!({"finalizers": ["kubernetes"]})).expect("a map");
        assert_eq!(spec.finalizers, ["kubernetes"]);
        assert_eq!(
            read(serde_json::json!({})).ok(),
            Some(ProjectSpec::default())
        );
    }
}
