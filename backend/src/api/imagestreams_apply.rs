//! Server-side apply of an image stream (`kubectl apply --server-side -f ruby.yaml`): the
//! field bookkeeping is `api::apply`'s; this runs it against the stored stream and writes the
//! outcome through the same create and replace paths as every other write, so validation,
//! source authorization, events and audit are theirs. Applying to a stream that does not exist
//! creates it, for callers who may create streams.

use axum::Json;
use axum::http::StatusCode;
use serde_json::Value;
use tagstream_shared::access::{Resource as R, Verb as V};
use tagstream_shared::imagestream::API_VERSION;
use tagstream_shared::{ImageStream, ProjectName, StreamName};

use super::IMAGESTREAMS;
use super::apply::{ApplyOptions, apply as apply_fields, check_identity};
use super::field_validation::FieldValidation;
use super::imagestreams::{
    PATCH_ATTEMPTS, expected_version, name_matches_url, write_create, write_update,
};
use crate::access::{self, Need};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::integrated::present;
use crate::store::{Objects as _, StoreError};

/// `applied` applied to the stream `ns`/`name` by the caller's field manager.
pub(super) async fn apply(
    state: &AppState,
    caller: &Caller,
    (ns, name): (&ProjectName, &StreamName),
    dry_run: bool,
    fields: &FieldValidation,
    options: &ApplyOptions,
    applied: &Value,
) -> ApiResult<(StatusCode, Json<ImageStream>)> {
    check_identity(applied, name.as_str(), ns.as_str())?;
    // A resourceVersion in the body is a precondition, as for any write.
    let pinned = applied.pointer("/metadata/resourceVersion").is_some();
    for _ in 0..PATCH_ATTEMPTS {
        let current = match state
            .store
            .get::<ImageStream>(Some(ns), name.as_ref())
            .await
        {
            Ok(current) => Some(current),
            Err(StoreError::NotFound { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        let Some(current) = current else {
            // Applying what does not exist creates it: that needs the right to create.
            let create = Need::Project {
                verb: V::Create,
                resource: R::ImageStreams,
                param: "ns",
            };
            access::check(state, caller, create, |p| {
                (p == "ns").then(|| ns.to_string())
            })
            .await?;
            let document = apply_fields(
                ImageStream::KIND,
                API_VERSION,
                None,
                applied,
                options,
                state.clock.now(),
            )?;
            let stream: ImageStream = fields.decode(ImageStream::KIND, document)?;
            return match write_create(state, caller, ns, stream, dry_run).await {
                // Another apply created it in between: apply over it.
                Err(ApiError::AlreadyExists { .. }) if !pinned => continue,
                result => Ok((StatusCode::CREATED, Json(result?))),
            };
        };
        let live = serde_json::to_value(&current).map_err(|e| ApiError::Internal(Box::new(e)))?;
        let mut document = apply_fields(
            ImageStream::KIND,
            API_VERSION,
            Some(&live),
            applied,
            options,
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
            return Ok((StatusCode::OK, Json(present::shown(state, current))));
        }
        let stream: ImageStream = fields.decode(ImageStream::KIND, document)?;
        name_matches_url(&stream, name)?;
        let expected = expected_version(&stream)?;
        match write_update(state, caller, (ns, name), expected, stream, dry_run).await {
            Err(ApiError::Conflict { .. }) if !pinned => continue,
            result => {
                let updated = result?;
                tracing::info!(namespace = %ns, stream = %name, manager = options.manager.as_deref().unwrap_or_default(), "image stream applied");
                return Ok((StatusCode::OK, Json(present::shown(state, updated))));
            }
        }
    }
    Err(ApiError::Conflict {
        resource: &IMAGESTREAMS,
        name: name.to_string(),
    })
}
