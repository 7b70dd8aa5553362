//! Write-only fields: what a client may send in a kind's body but the server never keeps nor
//! answers (a trigger's `spec.webhook.secret`, a user's initial `password`), declared on the kind
//! as [`crate::object::Kind::WRITE_ONLY`]. The kind's own write takes them out of the object; this
//! takes them out of the copy of the whole manifest that client-side `kubectl apply` sends along
//! in the [`LAST_APPLIED`] annotation, which would otherwise be stored and answered as it came.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// The annotation in which client-side `kubectl apply` keeps the manifest it last applied.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Removes each of `fields` (dotted paths, `spec.webhook.secret`) from the manifest in the
/// [`LAST_APPLIED`] annotation, leaving the rest for kubectl's three-way diff. An annotation that
/// is not a JSON object is dropped: an unknown value may hold a secret. Untouched when none of
/// the fields is in it.
pub fn scrub_last_applied(annotations: &mut Option<BTreeMap<String, String>>, fields: &[&str]) {
    if fields.is_empty() {
        return;
    }
    edit_last_applied(annotations, |manifest| {
        let mut removed = false;
        for field in fields {
            removed |= remove_path(manifest, field);
        }
        removed
    });
}

/// Edits the manifest in the [`LAST_APPLIED`] annotation with `edit`, which answers whether it
/// changed anything (untouched otherwise). An annotation that is not a JSON object is dropped:
/// an unknown value may hold what `edit` would have taken out.
pub fn edit_last_applied(
    annotations: &mut Option<BTreeMap<String, String>>,
    edit: impl FnOnce(&mut Map<String, Value>) -> bool,
) {
    let Some(map) = annotations.as_mut() else {
        return;
    };
    let Some(applied) = map.get(LAST_APPLIED) else {
        return;
    };
    let edited = match serde_json::from_str::<Value>(applied) {
        Ok(Value::Object(mut manifest)) => {
            if !edit(&mut manifest) {
                return;
            }
            serde_json::to_string(&manifest).ok()
        }
        _ => None,
    };
    match edited {
        Some(text) => map.insert(LAST_APPLIED.to_owned(), text),
        None => map.remove(LAST_APPLIED),
    };
}

/// Removes the dotted `path` from `object`; whether it was there.
fn remove_path(object: &mut Map<String, Value>, path: &str) -> bool {
    match path.split_once('.') {
        None => object.remove(path).is_some(),
        Some((head, rest)) => match object.get_mut(head) {
            Some(Value::Object(inner)) => remove_path(inner, rest),
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn annotated(value: &str) -> Option<BTreeMap<String, String>> {
        Some(BTreeMap::from([
            (LAST_APPLIED.to_owned(), value.to_owned()),
            ("note".to_owned(), "kept".to_owned()),
        ]))
    }

    #[test]
    fn a_secret_leaves_the_applied_manifest_and_the_rest_stays() {
        let mut a = annotated(
            r#"{"kind":"Trigger","spec":{"webhook":{"secret":"s3","url":"http://h"}},"password":"p"}"#,
        );
        scrub_last_applied(&mut a, &["spec.webhook.secret", "password"]);
        let a = a.unwrap_or_default();
        assert_eq!(
            a.get(LAST_APPLIED).map(String::as_str),
            Some(r#"{"kind":"Trigger","spec":{"webhook":{"url":"http://h"}}}"#)
        );
        assert_eq!(a.get("note").map(String::as_str), Some("kept"));
    }

    #[test]
    fn an_annotation_that_does_not_parse_is_dropped() {
        for value in ["{\"spec\":", "\"secret\"", "[1]"] {
            let mut a = annotated(value);
            scrub_last_applied(&mut a, &["spec.webhook.secret"]);
            let a = a.unwrap_or_default();
            assert_eq!(a.get(LAST_APPLIED), None, "{value}");
            assert_eq!(a.get("note").map(String::as_str), Some("kept"));
        }
    }

    #[test]
    fn a_manifest_without_the_fields_is_kept_as_sent() {
        let sent = "{ \"spec\": {\"webhook\": {\"url\": \"http://h\"}}}\n";
        let mut a = annotated(sent);
        scrub_last_applied(&mut a, &["spec.webhook.secret"]);
        assert_eq!(
            a.unwrap_or_default().get(LAST_APPLIED).map(String::as_str),
            Some(sent)
        );
    }

    /// A value typed for a generated parameter of a template instance reads as masked in the
    /// applied manifest too (review 19 P1); other parameters and other entries are left alone,
    /// and no entry shape panics.
    #[test]
    fn a_template_instance_masks_typed_generated_values_in_the_applied_manifest() {
        let manifest = serde_json::json!({"kind": "TemplateInstance", "spec": {"template": {
        "parameters": [
            {"name": "PASSWORD", "generate": "expression", "from": "[a-z]{8}", "value": "hunter2"},
            {"name": "USER", "value": "app"},
            "not an object", 5, null
        ]}}});
        let mut instance = crate::TemplateInstance::default();
        instance.metadata.annotations = annotated(&manifest.to_string());
        instance.mask_generated();
        let annotations = instance.metadata.annotations.unwrap_or_default();
        let text = annotations
            .get(LAST_APPLIED)
            .map(String::as_str)
            .unwrap_or_default();
        assert!(!text.contains("hunter2"), "{text}");
        let read: Value = serde_json::from_str(text).unwrap_or_default();
        let parameters = &read["spec"]["template"]["parameters"];
        assert_eq!(parameters[0]["value"], crate::template::MASKED);
        assert_eq!(parameters[1]["value"], "app");
        assert_eq!(parameters[2], "not an object");
    }
}
