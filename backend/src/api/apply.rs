//! Server-side apply (`PATCH` with `application/apply-patch+yaml`, `kubectl apply
//! --server-side`): the body is the caller's whole intent for the fields it names. Each field
//! manager's fields are recorded in `metadata.managedFields` (Kubernetes' `FieldsV1` form);
//! applying again sets what the manager names, removes what it named last time and no longer
//! does (unless another manager holds it too), and a field another manager holds with a
//! different value is a 409 listing every such field, unless `force=true`, which takes them
//! over.
//!
//! Lists are atomic except those with a merge key (an image stream's `spec.tags`, by `name`),
//! which are merged element by element as Kubernetes does for `listType: map` ([`paths`]).
//! Writes other than apply are recorded as managers too ([`updates`]). An ImageStreamTag is
//! applied as its stream's tag, each tag's appliers kept apart ([`tag_scope`]). How large the
//! record may grow, for each manager and in all, is [`bounds`]'s rule.

use std::collections::BTreeMap;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde_json::{Value, json};
use tagstream_shared::Time;
use tagstream_shared::status::{CauseType, StatusCause};

use crate::error::ApiError;
#[cfg(test)]
use bounds::MANAGED_MAX_BYTES;
use bounds::{Writer, check_managed_size};
use fields_v1::{entries, to_fields_v1};
use paths::{FieldSet, Path, Values, is_ignored_path, leaf_values, leaves, merge, prune, remove};

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

/// That an apply's body is an object saying its kind and apiVersion, as Kubernetes requires of
/// an apply (400), and that they are `kind`'s as for every other write ([`super::identity`]: 422;
/// OpenShift's legacy `v1` is taken).
pub fn require_type(
    applied: &Value,
    kind: &'static str,
    api_version: &str,
) -> Result<(), ApiError> {
    let says = |field: &str| {
        applied
            .get(field)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    };
    if !applied.is_object() || !says("kind") || !says("apiVersion") {
        return Err(ApiError::BadRequest(format!(
            "an apply's body must be an object saying kind {kind:?} and apiVersion {api_version:?}"
        )));
    }
    // Its name and namespace against the path's: [`check_identity`] (400, as Kubernetes).
    super::identity::check(kind, applied, None)
}

/// What an apply is about: the kind and apiVersion of the stored object, and where in it the
/// applier's fields are kept.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub kind: &'static str,
    pub api_version: &'a str,
    pub scope: Scope<'a>,
}

impl<'a> Target<'a> {
    /// An apply to the object itself.
    pub fn object(kind: &'static str, api_version: &'a str) -> Self {
        Self {
            kind,
            api_version,
            scope: Scope::Object,
        }
    }
}

/// Through what an apply reaches the stored object.
#[derive(Debug, Clone, Copy, Default)]
pub enum Scope<'a> {
    /// The object itself.
    #[default]
    Object,
    /// One tag of an image stream, as the ImageStreamTag `{stream}:{tag}` (`tag_scope`): its
    /// appliers are managers of their own (their entries carry `subresource`), and conflicts
    /// name fields as the tag object does (`.tag.from.name`).
    StreamTag { subresource: &'a str, tag: &'a str },
}

/// What `applied` makes of `live` (`None`: the object does not exist yet) for `manager`: the
/// document to write, with its `managedFields`, or a 409 naming every field another manager
/// holds with another value. `normalised` is `applied` as the store would keep it (decoded
/// into its kind and encoded again): a value is compared with the live one in that form, so a
/// field the server writes another way (`importPolicy: {scheduled: false}` kept as `{}`) is
/// not taken for a change.
pub fn apply(
    target: Target<'_>,
    live: Option<&Value>,
    applied: &Value,
    normalised: &Value,
    options: &ApplyOptions,
    now: Time,
) -> Result<Value, ApiError> {
    let Target {
        kind, api_version, ..
    } = target;
    let sub = target.scope.subresource();
    let manager = options.manager()?;
    require_type(applied, kind, api_version)?;
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
            about: None,
        });
    }
    let mut wanted = FieldSet::new();
    leaves(kind, applied, &mut Vec::new(), &mut wanted);
    let empty = json!({});
    let live_doc = live.unwrap_or(&empty);
    let mut entries = entries(live_doc);
    let mut conflicts: BTreeMap<Path, Vec<String>> = BTreeMap::new();
    let (mut live_values, mut new_values) = (Values::new(), Values::new());
    leaf_values(kind, live_doc, &mut Vec::new(), &mut live_values);
    leaf_values(kind, normalised, &mut Vec::new(), &mut new_values);
    for path in &wanted {
        let holders: Vec<String> = entries
            .iter()
            .filter(|e| !e.is(manager, sub) && e.fields.contains(path))
            .map(|e| e.shown(sub))
            .collect();
        if !holders.is_empty() && live_values.get(path) != new_values.get(path) {
            conflicts.insert(path.clone(), holders);
        }
    }
    if !conflicts.is_empty() && !options.force {
        return Err(conflict(target, &conflicts));
    }
    for entry in entries.iter_mut().filter(|e| !e.is(manager, sub)) {
        entry.fields.retain(|p| !conflicts.contains_key(p));
    }
    let before: FieldSet = entries
        .iter()
        .find(|e| e.is(manager, sub) && e.apply)
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
            .any(|e| !e.is(manager, sub) && e.fields.contains(gone));
        if !held {
            remove(&mut doc, gone);
        }
    }
    prune(kind, &mut doc, &mut Vec::new());
    merge(kind, &mut doc, applied, &mut Vec::new());
    // Identity comes from the body when creating (as the target names it: a legacy `v1` is the
    // kind's own version), and stays the stored one otherwise.
    if live.is_none() {
        doc["apiVersion"] = json!(api_version);
        doc["kind"] = json!(kind);
        if let Some(meta) = applied.get("metadata").and_then(Value::as_object) {
            for field in ["name", "namespace"] {
                if let Some(v) = meta.get(field) {
                    doc["metadata"][field] = v.clone();
                }
            }
        }
    }
    let previous = entries.iter().position(|e| e.is(manager, sub) && e.apply);
    let mut mine = json!({
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
    if let Some(sub) = sub {
        mine["subresource"] = json!(sub);
    }
    // Counted per scope (the object itself, or one stream tag): each tag's appliers are apart,
    // so one manager may apply any number of tags, and managers piled on one tag do not stop
    // anyone applying another tag or the stream.
    let others = entries
        .iter()
        .filter(|e| e.subresource.as_deref() == sub)
        .filter(|e| !(e.fields.is_empty() || e.is(manager, sub) && e.apply))
        .count();
    if previous.is_none() && others >= MANAGERS_MAX {
        let what = sub.map_or_else(|| "the object".to_owned(), ToOwned::to_owned);
        return Err(ApiError::BadRequest(format!(
            "{what} already has {MANAGERS_MAX} field managers: no more may apply to it; apply \
             under one of their names (kubectl --field-manager=NAME), or clear managedFields \
             (metadata.managedFields: [{{}}]) and apply again"
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
    let mut managed = Value::Array(managed);
    check_managed_size(
        Writer::applier(manager),
        live_doc.pointer("/metadata/managedFields"),
        &mut managed,
        "apply fewer fields",
    )?;
    if !doc["metadata"].is_object() {
        doc["metadata"] = json!({});
    }
    doc["metadata"]["managedFields"] = managed;
    Ok(doc)
}

/// A 409 naming each field and who holds it (the holders as [`fields_v1::Entry::shown`]
/// names them), fields named as the target's scope shows them.
fn conflict(target: Target<'_>, conflicts: &BTreeMap<Path, Vec<String>>) -> ApiError {
    let Target {
        kind, api_version, ..
    } = target;
    let causes: Vec<StatusCause> = conflicts
        .iter()
        .flat_map(|(path, holders)| {
            holders.iter().map(move |holder| StatusCause {
                reason: Some(CauseType::FieldManagerConflict),
                message: format!("conflict with {holder} using {api_version}"),
                field: Some(target.scope.show(path)),
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
        about: None,
    }
}

mod bounds;
mod fields_v1;
mod paths;
pub mod tag_scope;
#[cfg(test)]
mod tests;
pub mod updates;
