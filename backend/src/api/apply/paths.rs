//! Field paths of server-side apply: every leaf a document sets, read, removed and merged by
//! path, with lists merged by key where the kind says so (an image stream's `spec.tags`, by
//! `name`, as Kubernetes does for `listType: map`) and atomic otherwise.

use std::collections::BTreeSet;

use serde_json::Value;

/// One step of a field path: a field of an object, or the element of a keyed list whose key
/// field has this string value (`name` = `latest`, `k:{"name":"latest"}` in `FieldsV1`).
/// Kept parsed, so matching an element is a string comparison (an apply of a stream with
/// thousands of tags compares keys millions of times).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Step {
    Field(String),
    Key { field: String, value: String },
}

pub(super) type Path = Vec<Step>;
pub(super) type FieldSet = BTreeSet<Path>;

/// The merge key of the list at `path` (fields only), if it is merged by key.
pub(super) fn merge_key(kind: &str, path: &[Step]) -> Option<&'static str> {
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
pub(super) fn ignored(path: &[Step], field: &str) -> bool {
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
pub(super) fn is_ignored_path(path: &[Step]) -> bool {
    path.iter().enumerate().any(|(i, step)| match step {
        Step::Field(field) => ignored(&path[..i], field),
        Step::Key { .. } => false,
    })
}

/// The step to `element` of a list keyed by `key`, if it has a string key.
pub(super) fn key_of(element: &Value, key: &str) -> Option<Step> {
    Some(Step::Key {
        field: key.to_owned(),
        value: element.get(key)?.as_str()?.to_owned(),
    })
}

/// Every leaf field `value` sets, as paths.
pub(super) fn leaves(kind: &str, value: &Value, at: &mut Path, out: &mut FieldSet) {
    let mut values = Values::new();
    leaf_values(kind, value, at, &mut values);
    out.extend(values.into_keys());
}

/// The leaves of a document with their values.
pub(super) type Values<'a> = std::collections::BTreeMap<Path, &'a Value>;

/// Every leaf field `value` sets, with what it sets it to: one walk, so that comparing two
/// documents leaf by leaf costs a lookup per leaf, not a search of each keyed list (a stream of
/// thousands of tags).
pub(super) fn leaf_values<'a>(kind: &str, value: &'a Value, at: &mut Path, out: &mut Values<'a>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (field, v) in map {
                if ignored(at, field) {
                    continue;
                }
                at.push(Step::Field(field.clone()));
                leaf_values(kind, v, at, out);
                at.pop();
            }
        }
        Value::Array(items) => match merge_key(kind, at) {
            Some(key) if items.iter().all(|i| key_of(i, key).is_some()) => {
                for item in items {
                    if let Some(step) = key_of(item, key) {
                        at.push(step);
                        leaf_values(kind, item, at, out);
                        at.pop();
                    }
                }
            }
            _ => {
                out.entry(at.clone()).or_insert(value);
            }
        },
        _ => {
            out.entry(at.clone()).or_insert(value);
        }
    }
}

pub(super) fn element_matches(element: &Value, field: &str, value: &str) -> bool {
    element.get(field).and_then(Value::as_str) == Some(value)
}

/// Removes what `path` names from `value`; a keyed element left without its key goes whole.
pub(super) fn remove(value: &mut Value, path: &[Step]) {
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
pub(super) fn prune(kind: &str, value: &mut Value, at: &mut Path) {
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
pub(super) fn merge(kind: &str, live: &mut Value, applied: &Value, at: &mut Path) {
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
pub(super) fn shown(path: &[Step]) -> String {
    path.iter()
        .map(|s| match s {
            Step::Field(f) => format!(".{f}"),
            Step::Key { field, value } => format!("[{field}={}]", Value::from(value.as_str())),
        })
        .collect()
}
