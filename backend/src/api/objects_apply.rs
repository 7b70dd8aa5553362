//! Server-side apply for every kind that takes it (image streams, templates, ...):
//! `api::apply`'s field bookkeeping run against the stored object, written through the kind's
//! own create and replace paths (given as `create` and `update`), so validation, events and
//! audit are theirs. Applying to an object that does not exist creates it, for callers who may
//! create that kind.
//!
//! The body is judged as sent: `fieldValidation` looks at its fields and repeated keys (not at
//! the stored object merged with it). Values are compared as the store keeps them: the body is
//! decoded into the kind and encoded again before its values are compared with the live ones,
//! and the merged document likewise before it is compared with the stored object, so a field
//! the server writes another way (`importPolicy: {scheduled: false}`, kept as `{}`) is neither
//! a conflict with another manager nor a change that writes.

use std::future::Future;

use axum::http::StatusCode;
use serde::Serialize;
use serde_json::Value;
use tagstream_shared::ProjectName;
use tagstream_shared::access::Verb as V;
use tagstream_shared::object::Kind;

use super::apply::{ApplyOptions, Target, apply as apply_fields, check_identity};
use super::field_validation::FieldValidation;
use super::object_turns::Object;
use super::objects::need;
use super::retry::{Tries, turn};
use crate::access;
use crate::app::AppState;
use crate::auth::Caller;
use crate::body::{RawBody, decode};
use crate::error::{ApiError, ApiResult};
use crate::store::{Objects as _, StoreError};

/// Who applies to what, and how.
pub(super) struct Request<'a> {
    pub caller: &'a Caller,
    pub ns: &'a ProjectName,
    pub name: &'a str,
    pub fields: &'a FieldValidation,
    pub options: &'a ApplyOptions,
}

fn to_value(object: &impl Serialize) -> ApiResult<Value> {
    serde_json::to_value(object).map_err(|e| ApiError::Internal(Box::new(e)))
}

/// `body` applied by the caller's field manager to the object `request` names: 201 and what
/// `create` made of it if it did not exist, 200 and what `update` made of it (or the stored
/// object, when nothing changes) if it did. `update` writes at the resourceVersion the object
/// carries.
pub(super) async fn apply<K, C, CF, U, UF>(
    state: &AppState,
    request: Request<'_>,
    body: &RawBody,
    create: C,
    update: U,
) -> ApiResult<(StatusCode, K)>
where
    K: Kind,
    C: Fn(K) -> CF,
    CF: Future<Output = ApiResult<K>>,
    U: Fn(K) -> UF,
    UF: Future<Output = ApiResult<K>>,
{
    let r = K::RESOURCE;
    let (ns, name) = (request.ns, request.name);
    let manager = request.options.manager()?;
    let applied = &body.value;
    check_identity(applied, name, ns.as_str())?;
    let intent: K = request.fields.decode_body(r.kind, body).await?;
    let normalised = to_value(&intent)?;
    let fields = |live: Option<&Value>| {
        let now = state.clock.now();
        apply_fields(
            Target::object(r.kind, r.api_version),
            live,
            applied,
            &normalised,
            request.options,
            now,
        )
    };
    // A resourceVersion in the body is a precondition, as for any write.
    let pinned = applied.pointer("/metadata/resourceVersion").is_some();
    let turn = turn(Object::new(r.kind, Some(ns), &name)).await?;
    let mut tries = Tries::new(&turn);
    while tries.another().await {
        let current = match state.store.get::<K>(Some(ns), name).await {
            Ok(current) => Some(current),
            Err(StoreError::NotFound { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        let Some(current) = current else {
            // Applying what does not exist creates it: that needs the right to create.
            access::check(state, request.caller, need::<K>(V::Create), |p| {
                (p == "ns").then(|| ns.to_string())
            })
            .await?;
            let object: K = decode(fields(None)?)?;
            return match create(object).await {
                // Another apply created it in between: apply over it.
                Err(ApiError::AlreadyExists { .. }) if !pinned => continue,
                result => Ok((StatusCode::CREATED, result?)),
            };
        };
        let live = to_value(&current)?;
        let mut document = fields(Some(&live))?;
        // A resourceVersion in the body is the write's precondition; without one, the version
        // just read.
        document["metadata"]["resourceVersion"] = match applied.pointer("/metadata/resourceVersion")
        {
            Some(sent) => sent.clone(),
            None => live["metadata"]["resourceVersion"].clone(),
        };
        let object: K = decode(document)?;
        if to_value(&object)? == live {
            // Nothing changes: nothing is written (no new resourceVersion, event or audit entry).
            return Ok((StatusCode::OK, current));
        }
        match update(object).await {
            Err(ApiError::Conflict { .. }) if !pinned => continue,
            result => {
                let updated = result?;
                tracing::info!(namespace = %ns, kind = r.kind, name, manager, "applied");
                return Ok((StatusCode::OK, updated));
            }
        }
    }
    Err(tries.gave_up(&K::RESOURCE, name))
}
