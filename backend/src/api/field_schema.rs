//! The fields of a body that its kind's schema does not name, at any depth, as kube-apiserver
//! reports them under `fieldValidation` (`spec.tags[0].importPolicy.sheduled`,
//! `metadata.foo`).
//!
//! The schemas are the OpenAPI documents the server publishes (generated from the types). A
//! type that keeps fields it does not model (`extra`, so an OpenShift file is written back as
//! it was) is published with its `properties` and `x-kubernetes-preserve-unknown-fields`; a
//! key beside its properties is still one no server knows, and is reported. Only a schema with
//! no properties at all (free-form JSON such as a template's `objects`) takes any key. Maps
//! (`additionalProperties` with a schema: labels, annotations) take any key, their values are
//! checked against it. `metadata` is checked against Kubernetes' `ObjectMeta`, whose fields
//! every client may send, and not below.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::{Map, Value};
use tagstream_shared::openapi;

/// The fields of Kubernetes' `ObjectMeta` (1.33): a key of `metadata` beside these is unknown
/// to every API server, though the type keeps it (`extra`) to write a loaded file back as it was.
const OBJECT_META: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

/// How deep a body is walked: deeper than any kind's schema goes.
const MAX_DEPTH: usize = 64;

/// Every published schema by name, and each kind's by kind.
struct Schemas {
    named: Map<String, Value>,
    kinds: BTreeMap<String, Value>,
}

fn schemas() -> &'static Schemas {
    static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let mut named = Map::new();
        let mut kinds = BTreeMap::new();
        for gv in openapi::group_versions() {
            let Some(doc) = openapi::document(gv) else {
                continue;
            };
            let Some(components) = doc
                .pointer("/components/schemas")
                .and_then(Value::as_object)
            else {
                continue;
            };
            for (name, schema) in components {
                let kind = schema
                    .pointer("/x-kubernetes-group-version-kind/0/kind")
                    .and_then(Value::as_str);
                if let Some(kind) = kind {
                    kinds
                        .entry(kind.to_owned())
                        .or_insert_with(|| schema.clone());
                }
                if !named.contains_key(name) {
                    named.insert(name.clone(), schema.clone());
                }
            }
        }
        Schemas { named, kinds }
    })
}

impl Schemas {
    /// `schema` with its references followed (`$ref`, and the one-element `allOf` or the
    /// non-null `anyOf`/`oneOf` branch a reference or an optional field is written as).
    fn resolve<'a>(&'a self, mut schema: &'a Value) -> &'a Value {
        for _ in 0..8 {
            if let Some(name) = schema
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
            {
                match self.named.get(name) {
                    Some(s) => schema = s,
                    None => return schema,
                }
                continue;
            }
            if schema.get("properties").is_some() {
                return schema;
            }
            let branch = ["allOf", "anyOf", "oneOf"].iter().find_map(|k| {
                schema.get(*k).and_then(Value::as_array).and_then(|list| {
                    list.iter()
                        .find(|s| s.get("type").and_then(Value::as_str) != Some("null"))
                })
            });
            match branch {
                Some(b) => schema = b,
                None => return schema,
            }
        }
        schema
    }

    fn walk(&self, schema: &Value, sent: &Value, at: &mut String, depth: usize, out: &mut Out<'_>) {
        if out.full() || depth > MAX_DEPTH {
            return;
        }
        let schema = self.resolve(schema);
        let len = at.len();
        match sent {
            Value::Object(fields) => {
                let properties = schema.get("properties").and_then(Value::as_object);
                let values = schema.get("additionalProperties").filter(|a| a.is_object());
                for (key, value) in fields {
                    if out.full() {
                        return;
                    }
                    if !at.is_empty() {
                        at.push('.');
                    }
                    at.push_str(key);
                    match (properties, values) {
                        (Some(_), _) if depth == 0 && key == "metadata" => {
                            metadata(value, at, out);
                        }
                        (Some(p), _) => match p.get(key) {
                            Some(child) => self.walk(child, value, at, depth + 1, out),
                            None => out.push(at),
                        },
                        (None, Some(v)) => self.walk(v, value, at, depth + 1, out),
                        (None, None) => {}
                    }
                    at.truncate(len);
                }
            }
            Value::Array(items) => {
                let Some(item) = schema.get("items") else {
                    return;
                };
                for (i, value) in items.iter().enumerate() {
                    if out.full() {
                        return;
                    }
                    at.push_str(&format!("[{i}]"));
                    self.walk(item, value, at, depth + 1, out);
                    at.truncate(len);
                }
            }
            _ => {}
        }
    }
}

impl Schemas {
    /// `value` without the keys [`Schemas::walk`] would report: what a server that does not
    /// keep unknown fields stores of it.
    fn prune(&self, schema: &Value, value: &mut Value, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let schema = self.resolve(schema);
        match value {
            Value::Object(fields) => {
                let properties = schema.get("properties").and_then(Value::as_object);
                let values = schema.get("additionalProperties").filter(|a| a.is_object());
                match (properties, values) {
                    (Some(p), _) => {
                        fields.retain(|key, _| p.contains_key(key));
                        for (key, v) in fields.iter_mut() {
                            if depth == 0 && key == "metadata" {
                                if let Some(meta) = v.as_object_mut() {
                                    meta.retain(|k, _| OBJECT_META.contains(&k.as_str()));
                                }
                            } else if let Some(child) = p.get(key) {
                                self.prune(child, v, depth + 1);
                            }
                        }
                    }
                    (None, Some(s)) => {
                        for v in fields.values_mut() {
                            self.prune(s, v, depth + 1);
                        }
                    }
                    (None, None) => {}
                }
            }
            Value::Array(items) => {
                if let Some(item) = schema.get("items") {
                    for v in items {
                        self.prune(item, v, depth + 1);
                    }
                }
            }
            _ => {}
        }
    }
}

/// The keys of `metadata` (at `at`) that are not `ObjectMeta`'s.
fn metadata(value: &Value, at: &mut String, out: &mut Out<'_>) {
    let Some(meta) = value.as_object() else {
        return;
    };
    let len = at.len();
    for key in meta.keys().filter(|k| !OBJECT_META.contains(&k.as_str())) {
        at.push('.');
        at.push_str(key);
        out.push(at);
        at.truncate(len);
    }
}

/// The fields found, at most `max`.
struct Out<'a> {
    found: &'a mut Vec<String>,
    max: usize,
}

impl Out<'_> {
    fn full(&self) -> bool {
        self.found.len() >= self.max
    }

    fn push(&mut self, at: &str) {
        if !self.full() && !self.found.iter().any(|f| f == at) {
            self.found.push(at.to_owned());
        }
    }
}

/// Adds to `found` (up to `max` in all) the fields of `sent` that the schema of `kind` does not
/// name; nothing when the server publishes no schema for `kind`.
pub fn unknown(kind: &str, sent: &Value, found: &mut Vec<String>, max: usize) {
    let schemas = schemas();
    let Some(root) = schemas.kinds.get(kind) else {
        return;
    };
    let mut out = Out { found, max };
    schemas.walk(root, sent, &mut String::new(), 0, &mut out);
}

/// `sent` without the fields the schema of `kind` does not name (those [`unknown`] reports):
/// what Kubernetes keeps of a body under `fieldValidation` Ignore or Warn. Unchanged when the
/// server publishes no schema for `kind`.
pub fn without_unknown(kind: &str, sent: &mut Value) {
    let schemas = schemas();
    if let Some(root) = schemas.kinds.get(kind) {
        schemas.prune(root, sent, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn of(kind: &str, sent: &Value) -> Vec<String> {
        let mut found = Vec::new();
        unknown(kind, sent, &mut found, 20);
        found
    }

    #[test]
    fn keys_no_schema_names_are_found_at_any_depth() {
        let sent = json!({"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
            "metadata": {"name": "x", "labels": {"a": "b"}, "custom": 1},
            "spec": {"lookupPolicy": {"local": true, "loose": 1},
                     "tags": [{"name": "a", "from": {"kind": "DockerImage", "name": "x:1"},
                               "importPolicy": {"scheduled": true}, "colour": "red"}]},
            "extraTop": {}});
        assert_eq!(
            of("ImageStream", &sent),
            [
                "extraTop",
                "metadata.custom",
                "spec.lookupPolicy.loose",
                "spec.tags[0].colour"
            ]
        );
    }

    #[test]
    fn free_form_objects_and_maps_take_any_key() {
        let sent = json!({"kind": "Template", "apiVersion": "template.openshift.io/v1",
            "metadata": {"name": "t", "annotations": {"anything": "goes"}},
            "objects": [{"kind": "Service", "apiVersion": "v1", "spec": {"whatever": [1]}}],
            "parameters": [{"name": "P", "value": "v"}],
            "labels": {"app": "x"}});
        assert_eq!(of("Template", &sent), Vec::<String>::new());
    }

    #[test]
    fn pruning_drops_exactly_the_unknown_keys() {
        let mut sent = json!({"kind": "ImageStreamTag", "apiVersion": "image.openshift.io/v1",
            "metadata": {"name": "x:a", "labels": {"a": "b"}, "custom": 1},
            "tag": {"from": {"kind": "DockerImage", "name": "x:1", "shade": 1},
                    "annotations": {"any": "key"}, "colour": "red",
                    "importPolicy": {"scheduled": true, "sheduled": true}}});
        without_unknown("ImageStreamTag", &mut sent);
        assert_eq!(
            sent,
            json!({"kind": "ImageStreamTag", "apiVersion": "image.openshift.io/v1",
                "metadata": {"name": "x:a", "labels": {"a": "b"}},
                "tag": {"from": {"kind": "DockerImage", "name": "x:1"},
                        "annotations": {"any": "key"}, "importPolicy": {"scheduled": true}}})
        );
        assert!(of("ImageStreamTag", &sent).is_empty());
    }

    #[test]
    fn a_kind_without_a_schema_reports_nothing() {
        assert!(of("NoSuchKind", &json!({"a": 1})).is_empty());
    }
}
