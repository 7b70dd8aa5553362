//! The write path of image streams that a create, replace, merge patch and server-side apply
//! share: the resourceVersion a write is conditioned on, validation, the caller's authorization
//! of the tags' sources, and the dry run that stores nothing.

use tagstream_shared::validation::validate_image_stream;
use tagstream_shared::{ImageStream, ProjectName, StreamName};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::imagestreamtag_write::record;
use super::{IMAGESTREAMS, StreamPath};
use crate::api::apply::ApplyOptions;
use crate::api::dry_run::DryRun;
use crate::app::AppState;
use crate::auth::Caller;
use crate::body::Names;
use crate::error::{ApiError, ApiResult};
use crate::integrated::present;
use crate::service;
pub(super) use crate::services::streams::store_stream;
use crate::source_access::{Actor, authorize_sources};
use crate::store::Objects as _;

/// A write of one stream as its handlers take it: the state, the caller, the path's project
/// and stream, `dryRun`, and the apply options (`fieldManager`, `force`).
pub(super) struct StreamWrite {
    pub state: AppState,
    pub caller: Caller,
    pub ns: ProjectName,
    pub name: StreamName,
    pub dry_run: bool,
    pub options: ApplyOptions,
}

impl FromRequestParts<AppState> for StreamWrite {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let caller = parts.extensions.get::<Caller>().cloned();
        let caller = caller.ok_or_else(|| ApiError::Internal("no caller on the request".into()))?;
        let Names(StreamPath(ns, name)) = Names::from_request_parts(parts, state).await?;
        let DryRun(dry_run) = DryRun::from_request_parts(parts, state).await?;
        let options = ApplyOptions::from_request_parts(parts, state).await?;
        Ok(Self {
            state: state.clone(),
            caller,
            ns,
            name,
            dry_run,
            options,
        })
    }
}

/// The resourceVersion a write is conditioned on: required, and a number.
pub(super) fn expected_version(stream: &ImageStream) -> ApiResult<u64> {
    let meta = &stream.metadata;
    crate::template_service::expected_version(
        ImageStream::KIND,
        meta.name(),
        meta.resource_version.as_deref(),
    )
}

pub(super) fn name_matches_url(stream: &ImageStream, name: &StreamName) -> ApiResult<()> {
    ApiError::unless_url_name(stream.metadata.name(), name.as_str())
}

/// Creates `stream` in `ns` after validation, as the caller (a dry run: answers what would be
/// stored, and stores nothing), recorded as `manager`'s (none: an apply, which recorded
/// itself); the answer is as shown to clients.
pub(super) async fn write_create(
    state: &AppState,
    caller: &Caller,
    ns: &ProjectName,
    mut stream: ImageStream,
    dry_run: bool,
    manager: Option<&str>,
) -> ApiResult<ImageStream> {
    if let Some(manager) = manager {
        (_, stream) = record(None, stream, manager, state.clock.now()).await?;
    }
    ApiError::refuse_invalid(
        ImageStream::KIND,
        stream.metadata.name(),
        validate_image_stream(&stream, ns.as_str()),
    )?;
    let name: StreamName = stream
        .metadata
        .name()
        .parse()
        .map_err(|e| ApiError::BadRequest(format!("invalid name: {e}")))?;
    let mut stream = service::stream_for_create(stream, ns.as_str(), state.clock.now());
    authorize_sources(state, Actor::Caller(caller), ns.as_str(), &mut stream, None).await?;
    if dry_run {
        // What would be stored; a name already taken is refused as the write would be.
        state.store.get_project(ns).await?;
        if state
            .store
            .get::<ImageStream>(Some(ns), name.as_ref())
            .await
            .is_ok()
        {
            return Err(ApiError::AlreadyExists {
                resource: &IMAGESTREAMS,
                name: name.to_string(),
            });
        }
        // Shown as the real create's answer is (the integrated registry's pull specs).
        return Ok(present::shown(state, stream));
    }
    let created = store_stream(state, &caller.into(), (ns, &name), None, stream).await?;
    tracing::info!(namespace = %ns, stream = %name, "image stream created");
    state.importer.wake();
    Ok(present::shown(state, created))
}

/// Stores `new` as the replacement of the stream at `expected`, after validation (a dry run:
/// answers what would be stored, and stores nothing), recorded as `manager`'s (none: an apply,
/// which recorded itself).
pub(super) async fn write_update(
    state: &AppState,
    caller: &Caller,
    (ns, name): (&ProjectName, &StreamName),
    expected: u64,
    new: ImageStream,
    dry_run: bool,
    manager: Option<&str>,
) -> ApiResult<ImageStream> {
    ApiError::refuse_invalid(
        ImageStream::KIND,
        name.as_str(),
        validate_image_stream(&new, ns.as_str()),
    )?;
    let mut old = state
        .store
        .get::<ImageStream>(Some(ns), name.as_ref())
        .await?;
    let mut new = service::stream_for_update(new, &old);
    if let Some(manager) = manager {
        let recorded = record(Some(old), new, manager, state.clock.now()).await?;
        let (Some(was), recorded) = recorded else {
            return Err(ApiError::Internal("the stream read is gone".into()));
        };
        (old, new) = (was, recorded);
    }
    authorize_sources(
        state,
        Actor::Caller(caller),
        ns.as_str(),
        &mut new,
        Some(&old),
    )
    .await?;
    if dry_run {
        if old.metadata.resource_version.as_deref() != Some(expected.to_string().as_str()) {
            return Err(ApiError::Conflict {
                resource: &IMAGESTREAMS,
                name: name.to_string(),
            });
        }
        new.metadata.resource_version = old.metadata.resource_version;
        return Ok(new);
    }
    let updated = store_stream(state, &caller.into(), (ns, name), Some(expected), new).await?;
    state.importer.wake();
    Ok(updated)
}
