//! JSON merge patches (RFC 7386), used to re-apply a user's edit on top of a newer version of the
//! object after a 409 Conflict: the edit becomes `diff(original, edited)`, applied to the latest.

use serde_json::{Map, Value};

/// The merge patch that turns `from` into `to`: changed keys, `null` for removed ones. Arrays and
/// scalars are replaced whole, as RFC 7386 does.
pub fn diff(from: &Value, to: &Value) -> Option<Value> {
    match (from, to) {
        (Value::Object(a), Value::Object(b)) => {
            let mut patch = Map::new();
            for (key, old) in a {
                match b.get(key) {
                    None => {
                        patch.insert(key.clone(), Value::Null);
                    }
                    Some(new) => {
                        if let Some(change) = diff(old, new) {
                            patch.insert(key.clone(), change);
                        }
                    }
                }
            }
            for (key, new) in b {
                if !a.contains_key(key) {
                    patch.insert(key.clone(), new.clone());
                }
            }
            (!patch.is_empty()).then_some(Value::Object(patch))
        }
        _ if from == to => None,
        _ => Some(to.clone()),
    }
}

/// Applies `patch` to `target`: objects merge key by key, `null` removes, anything else replaces.
pub fn apply(target: &mut Value, patch: &Value) {
    let Value::Object(changes) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(fields) = target {
        for (key, value) in changes {
            if value.is_null() {
                fields.remove(key);
            } else {
                apply(fields.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_edit_is_reapplied_on_a_newer_version() {
        let original = json!({"metadata": {"resourceVersion": "1", "labels": {"a": "1"}},
                              "spec": {"tags": [{"name": "latest"}]}});
        let edited = json!({"metadata": {"resourceVersion": "1", "labels": {"b": "2"}},
                            "spec": {"tags": [{"name": "latest"}, {"name": "stable"}]}});
        let mut latest = json!({"metadata": {"resourceVersion": "7", "labels": {"a": "1", "c": "3"}},
                                "spec": {"tags": [{"name": "latest"}]}});
        let patch = diff(&original, &edited).expect("there is a change");
        assert_eq!(
            patch,
            json!({"metadata": {"labels": {"a": null, "b": "2"}},
                   "spec": {"tags": [{"name": "latest"}, {"name": "stable"}]}})
        );
        apply(&mut latest, &patch);
        assert_eq!(
            latest,
            json!({"metadata": {"resourceVersion": "7", "labels": {"b": "2", "c": "3"}},
                   "spec": {"tags": [{"name": "latest"}, {"name": "stable"}]}})
        );
    }

    #[test]
    fn no_change_is_no_patch() {
        let v = json!({"a": [1, 2], "b": {"c": null}});
        assert_eq!(diff(&v, &v), None);
    }
}
