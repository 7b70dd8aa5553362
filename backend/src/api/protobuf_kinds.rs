//! Kinds that kubectl 1.33 sends in protobuf to the typed create and replace routes
//! (`kubectl create rolebinding`), each read into the JSON body it stands for. That body is then
//! checked as a JSON one is ([`super::field_validation::Checked`]): its kind and apiVersion
//! (the envelope's), labels and `fieldValidation`.

use serde_json::{Map, Value, json};
use tagstream_shared::protobuf::{field, fields, object_meta, unwrap_envelope};

/// Reads a protobuf body into the JSON body it stands for.
pub(super) type Reader = fn(&[u8]) -> Result<Value, String>;

/// How a protobuf body of `kind` is read, for a kind that is sent so.
pub(super) fn reader(kind: &str) -> Option<Reader> {
    match kind {
        "RoleBinding" => Some(role_binding),
        _ => None,
    }
}

/// A string field of a message; absent when not sent or empty, as JSON would leave it out.
fn text(message: &[u8], number: u64) -> Result<Option<Value>, String> {
    let Some(bytes) = field(message, number)?.filter(|b| !b.is_empty()) else {
        return Ok(None);
    };
    let text = String::from_utf8(bytes.to_vec()).map_err(|_| "a field is not UTF-8")?;
    Ok(Some(Value::String(text)))
}

/// The string fields `named` (number, JSON name) of a message, as a JSON object.
fn object(message: &[u8], named: &[(u64, &str)]) -> Result<Value, String> {
    let mut out = Map::new();
    for (number, name) in named {
        if let Some(value) = text(message, *number)? {
            out.insert((*name).to_owned(), value);
        }
    }
    Ok(Value::Object(out))
}

/// `rbac.authorization.k8s.io/v1` RoleBinding: metadata (1: name, generateName, namespace,
/// labels, annotations), subjects (2) and roleRef (3), with the envelope's kind and apiVersion.
fn role_binding(bytes: &[u8]) -> Result<Value, String> {
    let raw = unwrap_envelope(bytes)?;
    let envelope = bytes.strip_prefix(b"k8s\0").unwrap_or_default();
    let mut body = match field(envelope, 1)? {
        Some(type_meta) => object(type_meta, &[(1, "apiVersion"), (2, "kind")])?,
        None => json!({}),
    };
    let mut metadata = serde_json::to_value(object_meta(raw)?).map_err(|e| e.to_string())?;
    if let Some(meta) = field(raw, 1)?
        && let Some(namespace) = text(meta, 3)?
    {
        metadata["namespace"] = namespace;
    }
    body["metadata"] = metadata;
    let subject = [(1, "kind"), (2, "apiGroup"), (3, "name"), (4, "namespace")];
    let subjects = fields(raw, 2)?
        .into_iter()
        .map(|s| object(s, &subject))
        .collect::<Result<Vec<_>, _>>()?;
    if !subjects.is_empty() {
        body["subjects"] = Value::Array(subjects);
    }
    if let Some(role_ref) = field(raw, 3)? {
        body["roleRef"] = object(role_ref, &[(1, "apiGroup"), (2, "kind"), (3, "name")])?;
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::dry_run::tests::ld;

    #[test]
    fn kubectl_s_role_binding_is_read_as_its_json() {
        let meta = [ld(1, b"rb"), ld(3, b"p")].concat();
        let subject = [
            ld(1, b"User"),
            ld(2, b"rbac.authorization.k8s.io"),
            ld(3, b"u"),
        ]
        .concat();
        let role = [
            ld(1, b"rbac.authorization.k8s.io"),
            ld(2, b"ClusterRole"),
            ld(3, b"view"),
        ];
        let binding = [ld(1, &meta), ld(2, &subject), ld(3, &role.concat())].concat();
        let type_meta = [
            ld(1, b"rbac.authorization.k8s.io/v1"),
            ld(2, b"RoleBinding"),
        ]
        .concat();
        let body = [b"k8s\0".to_vec(), ld(1, &type_meta), ld(2, &binding)].concat();
        let read = role_binding(&body).expect("reads");
        assert_eq!(read["kind"], "RoleBinding");
        assert_eq!(read["apiVersion"], "rbac.authorization.k8s.io/v1");
        assert_eq!(read["metadata"]["name"], "rb");
        assert_eq!(read["metadata"]["namespace"], "p");
        assert_eq!(
            read["subjects"],
            json!([{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "u"}])
        );
        assert_eq!(read["roleRef"]["name"], "view");
        assert!(role_binding(&body[..body.len() - 2]).is_err());
    }
}
