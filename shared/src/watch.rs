//! Watch events (`?watch=true` on a list): Kubernetes' shape, one JSON object per line
//! (`{"type": "ADDED", "object": {...}}`), or per server-sent event with the object's
//! resourceVersion as its `id`.

use serde::{Deserialize, Serialize};

/// What happened to the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum WatchEventType {
    Added,
    Modified,
    Deleted,
    /// The object is a `Status` (the watch cannot go on, e.g. 410 Gone).
    Error,
}

impl WatchEventType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "ADDED",
            Self::Modified => "MODIFIED",
            Self::Deleted => "DELETED",
            Self::Error => "ERROR",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Added, Self::Modified, Self::Deleted, Self::Error]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

/// One change seen by a watch; `object` carries `metadata.resourceVersion` (for a deletion,
/// the revision that deleted it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WatchEvent<T> {
    #[serde(rename = "type")]
    pub kind: WatchEventType,
    pub object: T,
}

/// The query of a watch: `?watch=true&resourceVersion=N`.
pub fn watch_query(resource_version: Option<&str>) -> String {
    match resource_version {
        Some(rv) => format!("watch=true&resourceVersion={rv}"),
        None => "watch=true".into(),
    }
}
