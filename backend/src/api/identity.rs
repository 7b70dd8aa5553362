//! A body is the kind its path takes: a Template sent to the image streams is not stored as a
//! stream, nor a Project created as a Namespace (Kubernetes refuses both). A body that says
//! another `kind`, or an `apiVersion` its kind is not served in, is a 422 naming the field.
//! OpenShift's legacy `v1` is taken for every kind, as openshift/library's files use it; a
//! body without either field is the path's kind. An object a kind holds whole is checked as
//! its own kind, its fields named from the body: a TemplateInstance's `spec.template` is a
//! Template (`spec.template.kind`), as OpenShift decodes it.
//!
//! A body naming another project than its path's is refused the same way, for every kind.
//!
//! Every way a body comes in runs this one check: typed bodies, patches and applies
//! ([`super::field_validation`]), and the JSON of routes that also read protobuf
//! ([`crate::body::body_or_protobuf`]).

use serde_json::Value;
use tagstream_shared::resources::ALL;
use tagstream_shared::user::TAGSTREAM_API_VERSION;
use tagstream_shared::validation::FieldError;

use crate::error::ApiError;

/// OpenShift's API before its groups, which older files still name.
const LEGACY_API_VERSION: &str = "v1";

/// Kinds written in an API version beside the one they are served in: a Token is served under
/// its user (`user.openshift.io/v1`) and answered, as stored, as `tagstream.io/v1`; a body may
/// say either.
const ALSO_WRITTEN_AS: &[(&str, &str)] = &[("Token", TAGSTREAM_API_VERSION)];

/// Top-level fields a kind's create takes beside the object, which a later replace or patch
/// of it takes and ignores (with a warning) rather than refusing: a user's initial `password`,
/// which client-side `kubectl apply` sends again on every apply of the manifest that created
/// the user (review 19 P2). A password is changed on the password page or by an invitation.
const IGNORED_AFTER_CREATE: &[(&str, &str)] = &[("User", "password")];

/// The fields [`IGNORED_AFTER_CREATE`] names for `kind`.
pub(crate) fn ignored_after_create(kind: &str) -> impl Iterator<Item = &'static str> + '_ {
    IGNORED_AFTER_CREATE
        .iter()
        .filter(move |(k, _)| *k == kind)
        .map(|(_, field)| *field)
}

/// Objects a kind holds whole, as (kind, field, the held object's kind).
const HELD: &[(&str, &str, &str)] = &[("TemplateInstance", "spec.template", "Template")];

/// Refuses (422 naming `kind` or `apiVersion`, or the held object's) a body that is not the
/// `kind` its path takes; and (422 naming `metadata.namespace`) one that names another project
/// than its path's `project`, whatever the kind and however it is written (review 18 N4: some
/// writes moved such a body to the path's project and answered success).
pub(crate) fn check(
    kind: &'static str,
    value: &Value,
    project: Option<&str>,
) -> Result<(), ApiError> {
    let mut errors = identity_errors(kind, value, "");
    errors.extend(project.and_then(|ns| other_project(value, ns)));
    for (_, field, held_kind) in HELD.iter().filter(|(outer, ..)| *outer == kind) {
        let pointer = format!("/{}", field.replace('.', "/"));
        if let Some(held) = value.pointer(&pointer) {
            errors.extend(identity_errors(held_kind, held, &format!("{field}.")));
        }
    }
    let name = value.pointer("/metadata/name").and_then(Value::as_str);
    ApiError::refuse_invalid(kind, name.unwrap_or_default(), errors)
}

/// The error of a body naming a project other than its path's `ns`.
fn other_project(value: &Value, ns: &str) -> Option<FieldError> {
    let given = value.pointer("/metadata/namespace")?.as_str()?;
    (!given.is_empty() && given != ns).then(|| {
        FieldError::invalid(
            "metadata.namespace",
            given,
            format!("does not match the namespace of the request ({ns})"),
        )
    })
}

/// What is wrong with `value`'s `kind` and `apiVersion` for `kind`, the fields named after
/// `prefix`.
fn identity_errors(kind: &str, value: &Value, prefix: &str) -> Vec<FieldError> {
    let said = |field: &str| {
        let sent = value.get(field).filter(|v| !v.is_null() && **v != "")?;
        Some(
            sent.as_str()
                .map_or_else(|| sent.to_string(), str::to_owned),
        )
    };
    let mut errors = Vec::new();
    if let Some(sent) = said("kind").filter(|k| k != kind) {
        errors.push(FieldError::not_supported(
            format!("{prefix}kind"),
            &sent,
            &[kind],
        ));
    }
    let mut served = served_versions(kind);
    if let Some(sent) = said("apiVersion")
        && !served.is_empty()
        && !served.contains(&sent.as_str())
        && sent != LEGACY_API_VERSION
    {
        if !served.contains(&LEGACY_API_VERSION) {
            served.push(LEGACY_API_VERSION);
        }
        errors.push(FieldError::not_supported(
            format!("{prefix}apiVersion"),
            &sent,
            &served,
        ));
    }
    errors
}

/// The API versions `kind` is served (or written) in, each once, in the catalogue's order (a
/// kind served twice, as a Template is also processed, is named once wherever the two are
/// declared). None for a kind the API does not serve.
fn served_versions(kind: &str) -> Vec<&'static str> {
    let catalogue = ALL.iter().filter(|r| r.kind == kind).map(|r| r.api_version);
    let written = ALSO_WRITTEN_AS
        .iter()
        .filter(|(k, _)| *k == kind)
        .map(|(_, v)| *v);
    let mut served: Vec<&'static str> = Vec::new();
    for version in catalogue.chain(written) {
        if !served.contains(&version) {
            served.push(version);
        }
    }
    served
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_version_is_named_once() {
        assert_eq!(served_versions("Template"), ["template.openshift.io/v1"]);
        assert_eq!(served_versions("Namespace"), ["v1"]);
        assert_eq!(
            served_versions("Token"),
            ["user.openshift.io/v1", "tagstream.io/v1"]
        );
        assert!(served_versions("Nothing").is_empty());
    }
}
