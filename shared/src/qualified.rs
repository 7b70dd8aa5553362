//! Label and annotation keys and label values, with Kubernetes' rules: every body that enters the
//! server is checked against them once, where it is decoded, so a label no selector could match
//! (or a key `kubectl label` would refuse) is never stored, whether it came in a create, a
//! replace, a merge patch or a JSON patch.

use serde_json::Value;

use crate::validation::FieldError;

const NAME_MAX: usize = 63;
const PREFIX_MAX: usize = 253;
/// The most all of an object's annotations may hold, keys and values together, as Kubernetes.
pub const ANNOTATIONS_MAX_BYTES: usize = 256 * 1024;

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, at most 63 characters.
fn is_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    let alnum = |c: &u8| c.is_ascii_alphanumeric();
    !b.is_empty()
        && b.len() <= NAME_MAX
        && alnum(&b[0])
        && alnum(&b[b.len() - 1])
        && b.iter()
            .all(|c| alnum(c) || matches!(c, b'-' | b'_' | b'.'))
}

/// A DNS-1123 subdomain: lower-case labels joined by dots, at most 253 characters.
fn is_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= PREFIX_MAX
        && s.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
                && b[0] != b'-'
                && b[b.len() - 1] != b'-'
        })
}

/// Why `key` is not a qualified name (`prefix/name` or `name`), if it is not.
pub fn key_error(key: &str) -> Option<&'static str> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if prefix.is_some_and(|p| !is_subdomain(p)) {
        return Some(
            "a prefix must be a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', at most 253 characters)",
        );
    }
    if !is_name_part(name) {
        return Some(
            "a name must be at most 63 characters of letters, digits, '-', '_' or '.', beginning and ending with a letter or digit",
        );
    }
    None
}

/// Why `value` is not a label value, if it is not.
pub fn label_value_error(value: &str) -> Option<&'static str> {
    (!value.is_empty() && !is_name_part(value)).then_some(
        "a label value must be empty or at most 63 characters of letters, digits, '-', '_' or '.', beginning and ending with a letter or digit",
    )
}

/// Every problem with `object`'s `metadata.labels` and `metadata.annotations` (a JSON body as
/// sent; shapes other than string maps are left to decoding).
pub fn metadata_errors(object: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Some(labels) = object
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
    {
        for (key, value) in labels {
            let field = format!("metadata.labels[{key}]");
            if let Some(why) = key_error(key) {
                errors.push(FieldError::invalid(field.clone(), key, why));
            }
            if let Some(value) = value.as_str()
                && let Some(why) = label_value_error(value)
            {
                errors.push(FieldError::invalid(field, value, why));
            }
        }
    }
    if let Some(annotations) = object
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
    {
        let mut size = 0usize;
        for (key, value) in annotations {
            if let Some(why) = key_error(key) {
                errors.push(FieldError::invalid("metadata.annotations", key, why));
            }
            size = size
                .saturating_add(key.len())
                .saturating_add(value.as_str().map_or(0, str::len));
        }
        if size > ANNOTATIONS_MAX_BYTES {
            errors.push(FieldError::invalid(
                "metadata.annotations",
                "",
                format!("may hold at most {ANNOTATIONS_MAX_BYTES} bytes, not {size}"),
            ));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_follow_kubernetes_qualified_names() {
        for good in [
            "app",
            "app.kubernetes.io/name",
            "samples.operator.openshift.io/managed",
            "A_b-c.d",
            "x/y",
        ] {
            assert_eq!(key_error(good), None, "{good}");
        }
        let long = "a".repeat(64);
        for bad in [
            "",
            "-app",
            "app-",
            "a b",
            "Example.com/x",
            "/x",
            "x/",
            "a/b/c",
            "é",
            long.as_str(),
        ] {
            assert!(key_error(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn values_may_be_empty_but_not_free_text() {
        assert_eq!(label_value_error(""), None);
        assert_eq!(label_value_error("v1.2_3-x"), None);
        assert!(label_value_error("two words").is_some());
        assert!(label_value_error(&"v".repeat(64)).is_some());
        assert!(label_value_error("a/b").is_some());
    }

    #[test]
    fn each_bad_entry_is_named_by_its_field() {
        let errors = metadata_errors(&json!({"metadata": {
            "labels": {"ok": "fine", "bad key": "x", "team": "a b"},
            "annotations": {"openshift.io/display-name": "Any text at all", "no good": "x"}
        }}));
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "metadata.labels[bad key]",
                "metadata.labels[team]",
                "metadata.annotations"
            ],
            "{errors:?}"
        );
        let big = "x".repeat(ANNOTATIONS_MAX_BYTES);
        let errors = metadata_errors(&json!({"metadata": {"annotations": {"a": big}}}));
        assert_eq!(errors.len(), 1, "{errors:?}");
    }
}
