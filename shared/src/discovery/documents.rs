//! The discovery documents as they go on the wire: `/version`, the legacy `/api`, `/apis` and
//! resource lists, and the aggregated `APIGroupDiscoveryList`.

use serde::{Deserialize, Serialize};

use super::KUBERNETES_MINOR;

/// `/version`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionInfo {
    pub major: String,
    pub minor: String,
    pub git_version: String,
    pub git_commit: String,
    pub git_tree_state: String,
    pub build_date: String,
    pub go_version: String,
    pub compiler: String,
    pub platform: String,
}

impl VersionInfo {
    /// The version document for a server built as `server_version`.
    pub fn new(server_version: &str) -> Self {
        Self {
            major: "1".into(),
            minor: KUBERNETES_MINOR.into(),
            git_version: format!("v1.{KUBERNETES_MINOR}.0+tagstream-{server_version}"),
            git_commit: String::new(),
            git_tree_state: "clean".into(),
            build_date: String::new(),
            go_version: String::new(),
            compiler: "rustc".into(),
            platform: "linux/amd64".into(),
        }
    }
}

/// `/api`: the core group's versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiVersions {
    pub kind: String,
    pub versions: Vec<String>,
    #[serde(rename = "serverAddressByClientCIDRs")]
    pub server_address_by_client_cidrs: Vec<ServerAddress>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerAddress {
    #[serde(rename = "clientCIDR")]
    pub client_cidr: String,
    pub server_address: String,
}

/// `/apis`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiGroupList {
    pub kind: String,
    pub api_version: String,
    pub groups: Vec<ApiGroup>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiGroup {
    pub name: String,
    pub versions: Vec<GroupVersionForDiscovery>,
    pub preferred_version: GroupVersionForDiscovery,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupVersionForDiscovery {
    pub group_version: String,
    pub version: String,
}

/// `/apis/{group}/{version}` (and `/api/v1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiResourceList {
    pub kind: String,
    pub api_version: String,
    pub group_version: String,
    pub resources: Vec<ApiResourceEntry>,
}

/// One resource or subresource (`imagestreams/status`) in an [`ApiResourceList`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiResourceEntry {
    pub name: String,
    pub singular_name: String,
    pub namespaced: bool,
    pub kind: String,
    pub verbs: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub short_names: Vec<String>,
}

/// The aggregated discovery document (`Accept: application/json;g=apidiscovery.k8s.io;v=v2;
/// as=APIGroupDiscoveryList`): every group, version and resource in one answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiGroupDiscoveryList {
    pub kind: String,
    pub api_version: String,
    pub metadata: serde_json::Map<String, serde_json::Value>,
    pub items: Vec<ApiGroupDiscovery>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiGroupDiscovery {
    pub metadata: GroupMeta,
    pub versions: Vec<ApiVersionDiscovery>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMeta {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiVersionDiscovery {
    pub version: String,
    pub resources: Vec<ApiResourceDiscovery>,
    pub freshness: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiResourceDiscovery {
    pub resource: String,
    pub response_kind: GroupVersionKind,
    pub scope: String,
    pub singular_resource: String,
    pub verbs: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub short_names: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subresources: Vec<ApiSubresourceDiscovery>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiSubresourceDiscovery {
    pub subresource: String,
    pub response_kind: GroupVersionKind,
    pub verbs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupVersionKind {
    pub group: String,
    pub version: String,
    pub kind: String,
}
