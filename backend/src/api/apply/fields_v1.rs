//! `metadata.managedFields`: its entries, and each one's `fieldsV1` (a manager's fields as
//! Kubernetes writes them) read back into paths. Only element keys as tagstream writes them (one string field) are read; any
//! other key names no element.

use serde_json::{Map, Value, json};

use super::paths::{FieldSet, Path, Step};

/// `FieldsV1`: `{"f:spec":{"f:tags":{"k:{\"name\":\"a\"}":{".":{},"f:name":{}}}}}`.
pub(super) fn to_fields_v1(set: &FieldSet) -> Value {
    let mut root = Map::new();
    for path in set {
        let mut node = &mut root;
        for step in path {
            let name = match step {
                Step::Field(f) => format!("f:{f}"),
                Step::Key { field, value } => format!("k:{}", json!({ field: value })),
            };
            let is_key = matches!(step, Step::Key { .. });
            let entry = node
                .entry(name)
                .or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(next) = entry else { break };
            if is_key {
                next.entry(".").or_insert_with(|| json!({}));
            }
            node = next;
        }
    }
    Value::Object(root)
}

pub(super) fn from_fields_v1(node: &Value, at: &mut Path, out: &mut FieldSet) {
    let Some(map) = node.as_object() else { return };
    let children: Vec<_> = map.iter().filter(|(k, _)| k.as_str() != ".").collect();
    if children.is_empty() {
        if !at.is_empty() && !map.contains_key(".") {
            out.insert(at.clone());
        }
        return;
    }
    for (name, child) in children {
        let step = if let Some(f) = name.strip_prefix("f:") {
            Step::Field(f.to_owned())
        } else if let Some(k) = name.strip_prefix("k:") {
            // One string key, as tagstream writes them; anything else names no element.
            let parsed: Map<String, Value> = serde_json::from_str(k).unwrap_or_default();
            let mut pairs = parsed.iter();
            match (pairs.next(), pairs.next()) {
                (Some((field, Value::String(value))), None) => Step::Key {
                    field: field.clone(),
                    value: value.clone(),
                },
                _ => continue,
            }
        } else {
            continue;
        };
        at.push(step);
        from_fields_v1(child, at, out);
        at.pop();
    }
}

/// One entry of `metadata.managedFields`. A manager is its name and its `subresource`
/// together, as in Kubernetes: `kubectl` applying a stream and `kubectl` applying one of its
/// tags as an ImageStreamTag (`subresource: imagestreamtags/ruby:latest`) are two managers.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub(super) raw: Value,
    pub(super) manager: String,
    pub(super) subresource: Option<String>,
    pub(super) apply: bool,
    pub(super) fields: FieldSet,
}

impl Entry {
    /// Whether this is the entry of `manager` writing through `subresource`.
    pub(super) fn is(&self, manager: &str, subresource: Option<&str>) -> bool {
        self.manager == manager && self.subresource.as_deref() == subresource
    }

    /// The manager as a conflict names it (Kubernetes' words), the subresource left out when
    /// it is the one the conflicting write goes through.
    pub(super) fn shown(&self, own: Option<&str>) -> String {
        match self.subresource.as_deref() {
            Some(sub) if Some(sub) != own => {
                format!("{:?} with subresource {sub:?}", self.manager)
            }
            _ => format!("{:?}", self.manager),
        }
    }
}

/// The entries of `metadata.managedFields` in `live`, their fields parsed.
pub(super) fn entries(live: &Value) -> Vec<Entry> {
    entries_of(live.pointer("/metadata/managedFields"))
}

/// The entries of a `managedFields` list, their fields parsed.
pub(super) fn entries_of(managed: Option<&Value>) -> Vec<Entry> {
    let Some(list) = managed.and_then(Value::as_array) else {
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
                subresource: raw["subresource"]
                    .as_str()
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
                apply: raw["operation"] == "Apply",
                fields,
            }
        })
        .collect()
}
