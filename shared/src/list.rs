//! The Kubernetes list wrapper: `{kind: ImageStreamList, apiVersion, metadata: {resourceVersion}, items}`.

use serde::{Deserialize, Serialize};

use crate::meta::ListMeta;

/// A list of objects of one kind, as every list endpoint answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct List<T> {
    pub kind: String,
    pub api_version: String,
    #[serde(default)]
    pub metadata: ListMeta,
    #[serde(default = "Vec::new")]
    pub items: Vec<T>,
}

impl<T> List<T> {
    /// A list of `kind` (the item kind; `List` is appended) with the store's resource version.
    pub fn new(
        item_kind: &str,
        api_version: &str,
        resource_version: String,
        items: Vec<T>,
    ) -> Self {
        Self {
            kind: format!("{item_kind}List"),
            api_version: api_version.to_owned(),
            metadata: ListMeta {
                resource_version: Some(resource_version),
                continue_token: None,
            },
            items,
        }
    }
}
