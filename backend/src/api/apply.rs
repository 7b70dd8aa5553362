//! Server-side apply (`PATCH` with `application/apply-patch+yaml`, `kubectl apply
//! --server-side`): the body is the caller's whole intent for the fields it names. Each field
//! manager's fields are recorded in `metadata.managedFields` (Kubernetes' `FieldsV1` form);
//! applying again sets what the manager names, removes what it named last time and no longer
//! does (unless another manager holds it too), and a field another manager holds with a
//! different value is a 409 listing every such field, unless `force=true`, which takes them
//! over.
//!
//! Lists are atomic except those with a merge key (an image stream's `spec.tags`, by `name`),
//! which are merged element by element as Kubernetes does for `listType: map`. Writes other
//! than apply are recorded as managers too ([`updates`]).

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde_json::{Value, json};
use tagstream_shared::Time;
use tagstream_shared::status::{CauseType, StatusCause};

use crate::error::ApiError;
use fields_v1::{from_fields_v1, to_fields_v1};

/// The longest field manager name (as Kubernetes).
const MANAGER_MAX: usize = 128;
/// The most managers one object keeps; an apply by one more is refused.
const MANAGERS_MAX: usize = 32;

/// A write's `fieldManager` (required for an apply) and `force`, and the `User-Agent` that
/// names the manager of other writes without one.
#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    pub manager: Option<String>,
    pub force: bool,
    pub user_agent: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for ApplyOptions {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let mut options = Self::default();
        for (key, value) in url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
        {
            match key.as_ref() {
                "fieldManager" => options.manager = Some(value.into_owned()),
                "force" => {
                    options.force = match value.as_ref() {
                        "true" | "1" => true,
                        "false" | "0" | "" => false,
                        other => {
                            return Err(ApiError::BadRequest(format!(
                                "force must be true or false, not {other:?}"
                            )));
                        }
                    }
                }
                _ => {}
            }
        }
        options.user_agent = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(options)
    }
}

impl ApplyOptions {
    /// The manager an apply must name.
    pub fn manager(&self) -> Result<&str, ApiError> {
        let manager = self.manager.as_deref().unwrap_or_default();
        if manager.is_empty() {
            return Err(ApiError::BadRequest(
                "fieldManager is required for apply requests".into(),
            ));
        }
        if manager.len() > MANAGER_MAX || manager.chars().any(is_hidden) {
            return Err(ApiError::BadRequest(format!(
                "fieldManager must be at most {MANAGER_MAX} printable characters"
            )));
        }
        Ok(manager)
    }
}

impl ApplyOptions {
    /// The manager a write other than apply is recorded as: its `fieldManager` (checked as an
    /// apply's), else its `User-Agent` up to the first `/`, else `unknown`.
    pub fn update_manager(&self) -> Result<String, ApiError> {
        if self.manager.as_deref().is_some_and(|m| !m.is_empty()) {
            return self.manager().map(str::to_owned);
        }
        let agent = self
            .user_agent
            .as_deref()
            .and_then(|a| a.split('/').next())
            .map(str::trim)
            .filter(|a| !a.is_empty() && !a.chars().any(is_hidden));
        Ok(match agent {
            Some(a) => a.chars().take(MANAGER_MAX).collect(),
            None => "unknown".to_owned(),
        })
    }
}

/// A control character, or one that changes how text around it is shown (bidi overrides,
/// zero-width characters): a manager's name is printed back in conflicts.
fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{feff}')
}

/// That the body names what the URL does: `metadata.name`, and `metadata.namespace` if given.
pub fn check_identity(applied: &Value, name: &str, ns: &str) -> Result<(), ApiError> {
    let meta = |field: &str| {
        applied
            .pointer(&format!("/metadata/{field}"))
            .and_then(Value::as_str)
    };
    if meta("name") != Some(name) {
        return Err(ApiError::BadRequest(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            meta("name").unwrap_or_default()
        )));
    }
    if let Some(other) = meta("namespace").filter(|n| *n != ns) {
        return Err(ApiError::BadRequest(format!(
            "the namespace of the object ({other}) does not match the namespace on the URL ({ns})"
        )));
    }
    Ok(())
}

/// One step of a field path: a field of an object, or the element of a keyed list whose key
/// field has this string value (`name` = `latest`, `k:{"name":"latest"}` in `FieldsV1`).
/// Kept parsed, so matching an element is a string comparison (an apply of a stream with
/// thousands of tags compares keys millions of times).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Field(String),
    Key { field: String, value: String },
}

type Path = Vec<Step>;
type FieldSet = BTreeSet<Path>;

/// The merge key of the list at `path` (fields only), if it is merged by key.
fn merge_key(kind: &str, path: &[Step]) -> Option<&'static str> {
    let fields: Vec<&str> = path
        .iter()
        .map(|s| match s {
            Step::Field(f) => f.as_str(),
            Step::Key { .. } => "*",
        })
        .collect();
    match (kind, fields.as_slice()) {
        ("ImageStream", ["spec", "tags"]) => Some("name"),
        _ => None,
    }
}

/// Fields an apply never owns: identity and what the server keeps.
fn ignored(path: &[Step], field: &str) -> bool {
    match path {
        [] => matches!(field, "apiVersion" | "kind" | "status"),
        [Step::Field(m)] if m == "metadata" => matches!(
            field,
            "name"
                | "namespace"
                | "uid"
                | "resourceVersion"
                | "generation"
                | "creationTimestamp"
                | "managedFields"
                | "selfLink"
        ),
        _ => false,
    }
}

/// Whether some field along `path` is one an apply never owns.
fn is_ignored_path(path: &[Step]) -> bool {
    path.iter().enumerate().any(|(i, step)| match step {
        Step::Field(field) => ignored(&path[..i], field),
        Step::Key { .. } => false,
    })
}

/// The step to `element` of a list keyed by `key`, if it has a string key.
fn key_of(element: &Value, key: &str) -> Option<Step> {
    Some(Step::Key {
        field: key.to_owned(),
        value: element.get(key)?.as_str()?.to_owned(),
    })
}

/// Every leaf field `value` sets, as paths.
fn leaves(kind: &str, value: &Value, at: &mut Path, out: &mut FieldSet) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (field, v) in map {
                if ignored(at, field) {
                    continue;
                }
                at.push(Step::Field(field.clone()));
                leaves(kind, v, at, out);
                at.pop();
            }
        }
        Value::Array(items) => match merge_key(kind, at) {
            Some(key) if items.iter().all(|i| key_of(i, key).is_some()) => {
                for item in items {
                    if let Some(step) = key_of(item, key) {
                        at.push(step);
                        leaves(kind, item, at, out);
                        at.pop();
                    }
                }
            }
            _ => {
                out.insert(at.clone());
            }
        },
        _ => {
            out.insert(at.clone());
        }
    }
}

fn element_matches(element: &Value, field: &str, value: &str) -> bool {
    element.get(field).and_then(Value::as_str) == Some(value)
}

fn get<'a>(value: &'a Value, path: &[Step]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, step| match step {
        Step::Field(f) => v.get(f),
        Step::Key { field, value } => v
            .as_array()?
            .iter()
            .find(|e| element_matches(e, field, value)),
    })
}

/// Removes what `path` names from `value`; a keyed element left without its key goes whole.
fn remove(value: &mut Value, path: &[Step]) {
    let Some((last, parent_path)) = path.split_last() else {
        return;
    };
    let mut parent = value;
    for step in parent_path {
        let next = match step {
            Step::Field(f) => parent.get_mut(f),
            Step::Key { field, value } => parent
                .as_array_mut()
                .and_then(|a| a.iter_mut().find(|e| element_matches(e, field, value))),
        };
        let Some(next) = next else { return };
        parent = next;
    }
    match last {
        Step::Field(f) => {
            if let Some(map) = parent.as_object_mut() {
                map.remove(f);
            }
        }
        Step::Key { field, value } => {
            if let Some(items) = parent.as_array_mut() {
                items.retain(|e| !element_matches(e, field, value));
            }
        }
    }
}

/// Keyed elements whose key field went: they go whole (the manager that named them let go).
fn prune(kind: &str, value: &mut Value, at: &mut Path) {
    match value {
        Value::Object(map) => {
            for (field, v) in map.iter_mut() {
                at.push(Step::Field(field.clone()));
                prune(kind, v, at);
                at.pop();
            }
        }
        Value::Array(items) => {
            if let Some(key) = merge_key(kind, at) {
                items.retain(|i| i.get(key).is_some());
                for item in items.iter_mut() {
                    at.push(Step::Key {
                        field: String::new(),
                        value: String::new(),
                    });
                    prune(kind, item, at);
                    at.pop();
                }
            }
        }
        _ => {}
    }
}

/// `applied` merged into `live`: objects field by field, keyed lists element by element,
/// anything else replaced.
fn merge(kind: &str, live: &mut Value, applied: &Value, at: &mut Path) {
    match (live, applied) {
        (Value::Object(live), Value::Object(applied)) => {
            for (field, v) in applied {
                if ignored(at, field) {
                    continue;
                }
                at.push(Step::Field(field.clone()));
                let slot = live.entry(field.clone()).or_insert(Value::Null);
                merge(kind, slot, v, at);
                at.pop();
            }
        }
        (Value::Array(live), Value::Array(applied)) if merge_key(kind, at).is_some() => {
            let key = merge_key(kind, at).unwrap_or_default();
            for item in applied {
                let Some(step) = key_of(item, key) else {
                    continue;
                };
                let wanted = item.get(key).and_then(Value::as_str).unwrap_or_default();
                match live.iter_mut().find(|e| element_matches(e, key, wanted)) {
                    Some(existing) => {
                        at.push(step);
                        merge(kind, existing, item, at);
                        at.pop();
                    }
                    None => live.push(item.clone()),
                }
            }
        }
        (live, applied) => *live = applied.clone(),
    }
}

/// A field path as kubectl prints conflicts: `.spec.tags[name="latest"].from.name`.
fn shown(path: &Path) -> String {
    path.iter()
        .map(|s| match s {
            Step::Field(f) => format!(".{f}"),
            Step::Key { field, value } => format!("[{field}={}]", Value::from(value.as_str())),
        })
        .collect()
}

/// One entry of `metadata.managedFields`.
#[derive(Debug, Clone)]
struct Entry {
    raw: Value,
    manager: String,
    apply: bool,
    fields: FieldSet,
}

fn entries(live: &Value) -> Vec<Entry> {
    let Some(list) = live
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    list.iter()
        .map(|raw| {
            let mut fields = FieldSet::new();
            if let Some(v1) = raw.get("fieldsV1") {
                from_fields_v1(v1, &mut Vec::new(), &mut fields);
            }
            Entry {
                raw: raw.clone(),
                manager: raw["manager"].as_str().unwrap_or_default().to_owned(),
                apply: raw["operation"] == "Apply",
                fields,
            }
        })
        .collect()
}

/// What `applied` makes of `live` (`None`: the object does not exist yet) for `manager`: the
/// document to write, with its `managedFields`, or a 409 naming every field another manager
/// holds with another value. `normalised` is `applied` as the store would keep it (decoded
/// into its kind and encoded again): a value is compared with the live one in that form, so a
/// field the server writes another way (`importPolicy: {scheduled: false}` kept as `{}`) is
/// not taken for a change.
pub fn apply(
    kind: &'static str,
    api_version: &str,
    live: Option<&Value>,
    applied: &Value,
    normalised: &Value,
    options: &ApplyOptions,
    now: Time,
) -> Result<Value, ApiError> {
    let manager = options.manager()?;
    if !applied.is_object() {
        return Err(ApiError::BadRequest(
            "an apply's body must be an object".into(),
        ));
    }
    if applied["kind"] != kind || applied["apiVersion"] != api_version {
        return Err(ApiError::BadRequest(format!(
            "an apply's body must say kind {kind:?} and apiVersion {api_version:?}"
        )));
    }
    if let (Some(sent), Some(live)) = (
        applied.pointer("/metadata/uid").and_then(Value::as_str),
        live.and_then(|l| l.pointer("/metadata/uid"))
            .and_then(Value::as_str),
    ) && sent != live
    {
        // An apply written for an object since deleted must not change its successor.
        return Err(ApiError::ApplyConflict {
            kind: kind.to_owned(),
            message: format!(
                "Precondition failed: UID in precondition: {sent}, UID in object meta: {live}"
            ),
            causes: Vec::new(),
        });
    }
    let mut wanted = FieldSet::new();
    leaves(kind, applied, &mut Vec::new(), &mut wanted);
    let empty = json!({});
    let live_doc = live.unwrap_or(&empty);
    let mut entries = entries(live_doc);
    let mut conflicts: BTreeMap<Path, Vec<String>> = BTreeMap::new();
    for path in &wanted {
        let holders: Vec<String> = entries
            .iter()
            .filter(|e| e.manager != manager && e.fields.contains(path))
            .map(|e| e.manager.clone())
            .collect();
        if !holders.is_empty() && get(live_doc, path) != get(normalised, path) {
            conflicts.insert(path.clone(), holders);
        }
    }
    if !conflicts.is_empty() && !options.force {
        return Err(conflict(kind, api_version, &conflicts));
    }
    for entry in entries.iter_mut().filter(|e| e.manager != manager) {
        entry.fields.retain(|p| !conflicts.contains_key(p));
    }
    let before: FieldSet = entries
        .iter()
        .find(|e| e.manager == manager && e.apply)
        .map(|e| e.fields.clone())
        .unwrap_or_default();
    let mut doc = live_doc.clone();
    for gone in before.difference(&wanted) {
        // Identity and what the server keeps are never a manager's to remove (a forged entry
        // naming them must not take the name away).
        if is_ignored_path(gone) {
            continue;
        }
        let held = entries
            .iter()
            .any(|e| e.manager != manager && e.fields.contains(gone));
        if !held {
            remove(&mut doc, gone);
        }
    }
    prune(kind, &mut doc, &mut Vec::new());
    merge(kind, &mut doc, applied, &mut Vec::new());
    // Identity comes from the body when creating, and stays the stored one otherwise.
    if live.is_none() {
        for field in ["apiVersion", "kind"] {
            doc[field] = applied[field].clone();
        }
        if let Some(meta) = applied.get("metadata").and_then(Value::as_object) {
            for field in ["name", "namespace"] {
                if let Some(v) = meta.get(field) {
                    doc["metadata"][field] = v.clone();
                }
            }
        }
    }
    let previous = entries.iter().position(|e| e.manager == manager && e.apply);
    let mine = json!({
        "manager": manager,
        "operation": "Apply",
        "apiVersion": api_version,
        // An apply that changes nothing keeps the time, so that nothing is written for it.
        "time": match previous {
            Some(i) if before == wanted => entries[i].raw["time"].clone(),
            _ => json!(now),
        },
        "fieldsType": "FieldsV1",
        "fieldsV1": to_fields_v1(&wanted),
    });
    let others = entries
        .iter()
        .filter(|e| !(e.fields.is_empty() || e.manager == manager && e.apply))
        .count();
    if previous.is_none() && others >= MANAGERS_MAX {
        return Err(ApiError::BadRequest(format!(
            "the object already has {MANAGERS_MAX} field managers: no more may apply to it"
        )));
    }
    // In place, so that the order (and an unchanged object) stays as it was.
    let mut managed: Vec<Value> = Vec::with_capacity(entries.len() + 1);
    for (i, e) in entries.into_iter().enumerate() {
        if Some(i) == previous {
            managed.push(mine.clone());
        } else if !e.fields.is_empty() {
            let mut raw = e.raw;
            raw["fieldsV1"] = to_fields_v1(&e.fields);
            managed.push(raw);
        }
    }
    if previous.is_none() {
        managed.push(mine);
    }
    if !doc["metadata"].is_object() {
        doc["metadata"] = json!({});
    }
    doc["metadata"]["managedFields"] = Value::Array(managed);
    Ok(doc)
}

fn conflict(kind: &str, api_version: &str, conflicts: &BTreeMap<Path, Vec<String>>) -> ApiError {
    let causes: Vec<StatusCause> = conflicts
        .iter()
        .flat_map(|(path, holders)| {
            holders.iter().map(move |holder| StatusCause {
                reason: Some(CauseType::FieldManagerConflict),
                message: format!("conflict with {holder:?} using {api_version}"),
                field: Some(shown(path)),
            })
        })
        .collect();
    let listed: Vec<String> = causes
        .iter()
        .map(|c| format!("{}: {}", c.message, c.field.clone().unwrap_or_default()))
        .collect();
    ApiError::ApplyConflict {
        kind: kind.to_owned(),
        message: format!(
            "Apply failed with {} conflict{}: {}",
            causes.len(),
            if causes.len() == 1 { "" } else { "s" },
            listed.join("\n")
        ),
        causes,
    }
}

mod fields_v1;
#[cfg(test)]
mod tests;
pub mod updates;
