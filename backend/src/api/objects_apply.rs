//! Server-side apply for the kinds the generic handlers serve (templates, ...): `api::apply`'s
//! field bookkeeping run against the stored object, written through the generic create and
//! replace paths. Applying to an object that does not exist creates it, for callers who may
//! create that kind.

use axum::http::StatusCode;
use serde_json::Value;
use tagstream_shared::access::Verb as V;
use tagstream_shared::object::Kind;

use super::apply::{ApplyOptions, apply as apply_fields, check_identity};
use super::field_validation::FieldValidation;
use super::objects::{ObjectPath, PATCH_ATTEMPTS, need, write, write_create};
use crate::access;
use crate::app::AppState;
use crate::audit;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::store::{Objects as _, StoreError};

/// Who applies, and how.
pub(super) struct Request<'a> {
    pub actor: &'a audit::Actor,
    pub caller: &'a Caller,
    pub dry_run: bool,
    pub fields: &'a FieldValidation,
    pub options: &'a ApplyOptions,
}

/// `applied` applied to the object `path` names by the caller's field manager: 201 and the
/// object if it was created, 200 if it was changed.
pub(super) async fn apply<K: Kind>(
    state: &AppState,
    path: &ObjectPath<K>,
    request: Request<'_>,
    applied: &Value,
) -> ApiResult<(StatusCode, K)> {
    let r = K::RESOURCE;
    check_identity(applied, path.name.as_str(), path.ns.as_str())?;
    let pinned = applied.pointer("/metadata/resourceVersion").is_some();
    for _ in 0..PATCH_ATTEMPTS {
        let found = state
            .store
            .get::<K>(Some(&path.ns), path.name.as_str())
            .await;
        let current = match found {
            Ok(current) => Some(current),
            Err(StoreError::NotFound { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        let Some(current) = current else {
            // Applying what does not exist creates it: that needs the right to create.
            let ns = path.ns.to_string();
            access::check(state, request.caller, need::<K>(V::Create), |p| {
                (p == "ns").then(|| ns.clone())
            })
            .await?;
            let document = apply_fields(
                r.kind,
                r.api_version,
                None,
                applied,
                request.options,
                state.clock.now(),
            )?;
            let object: K = request.fields.decode(r.kind, document)?;
            let created =
                write_create(state, request.actor, &path.ns, object, request.dry_run).await;
            return match created {
                Err(ApiError::AlreadyExists { .. }) if !pinned => continue,
                result => Ok((StatusCode::CREATED, result?)),
            };
        };
        let live = serde_json::to_value(&current).map_err(|e| ApiError::Internal(Box::new(e)))?;
        let mut document = apply_fields(
            r.kind,
            r.api_version,
            Some(&live),
            applied,
            request.options,
            state.clock.now(),
        )?;
        // A resourceVersion in the body is the write's precondition; without one, the version
        // just read.
        document["metadata"]["resourceVersion"] = match applied.pointer("/metadata/resourceVersion")
        {
            Some(sent) => sent.clone(),
            None => live["metadata"]["resourceVersion"].clone(),
        };
        if document == live {
            // Nothing changes: nothing is written (no new resourceVersion, event or audit entry).
            return Ok((StatusCode::OK, current));
        }
        let object: K = request.fields.decode(r.kind, document)?;
        match write(state, request.actor, path, object, request.dry_run).await {
            Err(ApiError::Conflict { .. }) if !pinned => continue,
            result => return Ok((StatusCode::OK, result?)),
        }
    }
    Err(ApiError::Conflict {
        resource: &K::RESOURCE,
        name: path.name.to_string(),
    })
}
