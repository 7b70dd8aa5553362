//! The list options kubectl sends, read once per request: `limit` and `continue` (chunked
//! lists), `labelSelector`, `fieldSelector`, and whether the answer should be a `Table`
//! (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`, with `includeObject`). The list
//! handlers answer whole lists; [`KubeQuery::page`] then filters and cuts them, so every list
//! route gets the same behaviour without each handler knowing about it.
//!
//! A continue token names the last object of the chunk (namespace and name, hex-encoded), so a
//! chunked read goes on after it even when objects were added or removed in between, as a
//! Kubernetes list does when its snapshot has been compacted.

use std::collections::HashMap;

use axum::http::header::ACCEPT;
use axum::http::request::Parts;
use serde_json::Value;
use tagstream_shared::selector::{FieldSelector, LabelSelector};
use tagstream_shared::table::IncludeObject;

use crate::error::ApiError;

/// The selector in query parameter `key` (none: the empty one, which matches everything); a
/// malformed one is a 400 saying `what` and why.
fn selector<S: std::str::FromStr + Default>(
    query: &HashMap<String, String>,
    key: &str,
    what: &str,
) -> Result<S, ApiError>
where
    S::Err: std::fmt::Display,
{
    let Some(text) = query.get(key) else {
        return Ok(S::default());
    };
    text.parse()
        .map_err(|e| ApiError::BadRequest(format!("{what}: {e}")))
}

/// What a list or get request asked for beyond the plain object or list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KubeQuery {
    /// At most this many items per answer (none or 0: all).
    pub limit: Option<usize>,
    /// Go on after this (namespace, name).
    pub after: Option<(String, String)>,
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    /// Answer a `meta.k8s.io` Table of this version (`v1` or `v1beta1`).
    pub table: Option<&'static str>,
    pub include: IncludeObject,
    pub watch: bool,
}

impl KubeQuery {
    /// Reads the query string and `Accept` of a request; a malformed option is a 400.
    pub fn from_parts(parts: &Parts) -> Result<Self, ApiError> {
        let query: HashMap<String, String> = parts
            .uri
            .query()
            .map(serde_urlencoded_pairs)
            .transpose()?
            .unwrap_or_default();
        let bad = |m: String| ApiError::BadRequest(m);
        let limit = match query.get("limit").map(String::as_str) {
            None | Some("") => None,
            Some(l) => Some(
                l.parse::<usize>()
                    .map_err(|_| bad(format!("limit must be a non-negative number, not {l:?}")))?,
            ),
        }
        .filter(|l| *l > 0);
        let after = match query.get("continue").map(String::as_str) {
            None | Some("") => None,
            Some(token) => Some(decode_token(token).ok_or_else(|| {
                bad(format!(
                    "continue {token:?} is not a token this server gave: list again from the start"
                ))
            })?),
        };
        let labels: LabelSelector =
            selector(&query, "labelSelector", "unable to parse requirement")?;
        let fields: FieldSelector = selector(&query, "fieldSelector", "invalid fieldSelector")?;
        let include = match query.get("includeObject").map(String::as_str) {
            None | Some("") => IncludeObject::default(),
            Some(v) => IncludeObject::parse(v).ok_or_else(|| {
                bad(format!(
                    "includeObject must be None, Metadata or Object, not {v:?}"
                ))
            })?,
        };
        let watch = matches!(query.get("watch").map(String::as_str), Some("true" | "1"));
        Ok(Self {
            limit,
            after,
            labels,
            fields,
            table: table_asked(parts),
            include,
            watch,
        })
    }

    /// Whether the answer is the handler's own, untouched.
    pub fn is_plain(&self) -> bool {
        self.limit.is_none()
            && self.after.is_none()
            && self.labels.is_empty()
            && self.fields.is_empty()
            && self.table.is_none()
    }

    /// Whether `object` passes the selectors.
    pub fn selects(&self, object: &Value) -> bool {
        self.labels.matches(object) && self.fields.matches(object)
    }

    /// A whole list filtered by the selectors and cut to one chunk: `items` in, the chunk out,
    /// with `metadata.continue` and `metadata.remainingItemCount` when more follow.
    pub fn page(&self, list: &mut Value) {
        let Some(items) = list.get_mut("items").and_then(Value::as_array_mut) else {
            return;
        };
        items.retain(|o| self.selects(o));
        if self.limit.is_none() && self.after.is_none() {
            return;
        }
        // Chunks follow the (namespace, name) order, whatever order the handler used.
        items.sort_by_cached_key(key_of);
        if let Some(after) = &self.after {
            items.retain(|o| key_of(o) > *after);
        }
        let mut next = None;
        let mut remaining = 0;
        if let Some(limit) = self.limit
            && items.len() > limit
        {
            remaining = items.len() - limit;
            items.truncate(limit);
            next = items.last().map(|o| encode_token(&key_of(o)));
        }
        if let Some(meta) = list.get_mut("metadata").and_then(Value::as_object_mut) {
            match next {
                Some(token) => {
                    meta.insert("continue".into(), Value::String(token));
                    meta.insert("remainingItemCount".into(), Value::from(remaining));
                }
                None => {
                    meta.remove("continue");
                }
            }
        }
    }
}

/// The query string as pairs, percent-decoded; the last of a repeated key wins.
fn serde_urlencoded_pairs(q: &str) -> Result<HashMap<String, String>, ApiError> {
    axum::extract::Query::<HashMap<String, String>>::try_from_uri(
        &format!("/?{q}")
            .parse()
            .map_err(|e| ApiError::BadRequest(format!("bad query: {e}")))?,
    )
    .map(|q| q.0)
    .map_err(|e| ApiError::BadRequest(format!("bad query: {}", e.body_text())))
}

/// The Table version an `Accept` header asks for, if it asks for one.
fn table_asked(parts: &Parts) -> Option<&'static str> {
    let accept = parts.headers.get(ACCEPT)?.to_str().ok()?;
    accept.split(',').find_map(|media| {
        let (g, v, as_) = tagstream_shared::discovery::media_params(media);
        if g != Some("meta.k8s.io") || as_ != Some("Table") {
            return None;
        }
        match v {
            Some("v1") => Some("v1"),
            Some("v1beta1") => Some("v1beta1"),
            _ => None,
        }
    })
}

fn key_of(object: &Value) -> (String, String) {
    // Indexing a missing field gives `Null`: an unset name or namespace is "".
    let meta = &object["metadata"];
    let text = |field: &str| meta[field].as_str().unwrap_or_default().to_owned();
    (text("namespace"), text("name"))
}

/// The longest continue token accepted (two names, hex-encoded, with room).
const MAX_TOKEN: usize = 2048;

fn encode_token((ns, name): &(String, String)) -> String {
    format!("{ns}/{name}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decode_token(token: &str) -> Option<(String, String)> {
    if token.len() > MAX_TOKEN || !token.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(token.get(i..i + 2)?, 16).ok())
        .collect();
    let text = String::from_utf8(bytes?).ok()?;
    let (ns, name) = text.split_once('/')?;
    Some((ns.to_owned(), name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn query(q: &str) -> KubeQuery {
        let (parts, ()) = axum::http::Request::builder()
            .uri(format!("/x?{q}"))
            .body(())
            .expect("request")
            .into_parts();
        KubeQuery::from_parts(&parts).expect("parses")
    }

    #[test]
    fn chunks_go_on_after_the_last_name_given() {
        let items: Vec<_> = ["d", "a", "c", "b", "e"]
            .iter()
            .map(|n| json!({"metadata": {"name": n, "namespace": "p"}}))
            .collect();
        let mut list = json!({"metadata": {"resourceVersion": "7"}, "items": items});
        let first = query("limit=2");
        first.page(&mut list);
        let names = |l: &Value| -> Vec<String> {
            l["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|o| {
                    o["metadata"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect()
        };
        assert_eq!(names(&list), ["a", "b"]);
        assert_eq!(list["metadata"]["remainingItemCount"], 3);
        let token = list["metadata"]["continue"]
            .as_str()
            .expect("token")
            .to_owned();
        let mut rest = json!({"metadata": {}, "items": items});
        query(&format!("limit=2&continue={token}")).page(&mut rest);
        assert_eq!(names(&rest), ["c", "d"]);
    }

    #[test]
    fn bad_options_are_refused() {
        for q in [
            "limit=-1",
            "continue=zz",
            "labelSelector=a%20in%20(b",
            "fieldSelector=spec.x=1",
        ] {
            let (parts, ()) = axum::http::Request::builder()
                .uri(format!("/x?{q}"))
                .body(())
                .expect("request")
                .into_parts();
            assert!(KubeQuery::from_parts(&parts).is_err(), "{q}");
        }
    }
}
