//! Watch events (`?watch=true` on a list): Kubernetes' shape, one JSON object per line
//! (`{"type": "ADDED", "object": {...}}`), or per server-sent event with the object's
//! resourceVersion as its `id`.

use serde::{Deserialize, Serialize};

crate::words::word_enum! {
    /// What happened to the object.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "UPPERCASE")]
    pub enum WatchEventType {
        Added = "ADDED",
        Modified = "MODIFIED",
        Deleted = "DELETED",
        /// The object is a `Status` (the watch cannot go on, e.g. 410 Gone).
        Error = "ERROR",
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
