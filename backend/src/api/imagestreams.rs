//! `/apis/image.openshift.io/v1/.../imagestreams`: list (one project or all), create, get,
//! replace, merge-patch, the status subresource, delete. Writes are conditioned on
//! `metadata.resourceVersion`: a stale one is a 409 and changes nothing.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use tagstream_shared::imagestream::API_VERSION;
use tagstream_shared::validation::{validate_image_stream, validate_image_stream_status};
use tagstream_shared::{FieldError, ImageStream, List, ProjectName, StreamName};

use super::{IMAGESTREAMS, NsPath, PROJECTS, StreamPath};
use crate::app::AppState;
use crate::body::{Body, BodyFormat, Names, RawBody, decode, merge_patch};
use crate::error::{ApiError, ApiResult};
use crate::service;
use crate::store::StoreError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/apis/image.openshift.io/v1/imagestreams",
            get(list_all_image_streams),
        )
        .route(
            "/apis/image.openshift.io/v1/namespaces/{ns}/imagestreams",
            get(list_image_streams).post(create_image_stream),
        )
        .route(
            "/apis/image.openshift.io/v1/namespaces/{ns}/imagestreams/{name}",
            get(get_image_stream)
                .put(replace_image_stream)
                .patch(patch_image_stream)
                .delete(delete_image_stream),
        )
        .route(
            "/apis/image.openshift.io/v1/namespaces/{ns}/imagestreams/{name}/status",
            put(replace_image_stream_status).get(get_image_stream),
        )
}

/// How many times a merge patch without a resourceVersion is re-applied after losing a race.
const PATCH_ATTEMPTS: usize = 5;

fn stream_error(ns: &ProjectName, name: &str) -> impl FnOnce(StoreError) -> ApiError {
    let (ns, name) = (ns.to_string(), name.to_owned());
    move |e| match e {
        StoreError::NoProject => ApiError::NotFound {
            resource: PROJECTS,
            name: ns,
        },
        other => ApiError::from_store(other, IMAGESTREAMS, &name),
    }
}

fn list(items: Vec<ImageStream>, resource_version: u64) -> Json<List<ImageStream>> {
    Json(List::new(
        ImageStream::KIND,
        API_VERSION,
        resource_version.to_string(),
        items,
    ))
}

fn invalid(name: &str, errors: Vec<FieldError>) -> ApiResult<()> {
    if errors.is_empty() {
        return Ok(());
    }
    Err(ApiError::Invalid {
        kind: ImageStream::KIND,
        name: name.into(),
        errors,
    })
}

/// The resourceVersion a write is conditioned on: required, and a number.
fn expected_version(stream: &ImageStream) -> ApiResult<u64> {
    let field = "metadata.resourceVersion";
    let rv = stream
        .metadata
        .resource_version
        .as_deref()
        .unwrap_or_default();
    if rv.is_empty() {
        return Err(ApiError::Invalid {
            kind: ImageStream::KIND,
            name: stream.metadata.name().into(),
            errors: vec![FieldError::required(
                field,
                "must be specified for an update",
            )],
        });
    }
    rv.parse().map_err(|_| ApiError::Invalid {
        kind: ImageStream::KIND,
        name: stream.metadata.name().into(),
        errors: vec![FieldError::invalid(
            field,
            rv,
            "must be the resourceVersion the object was read at",
        )],
    })
}

fn name_matches_url(stream: &ImageStream, name: &StreamName) -> ApiResult<()> {
    if stream.metadata.name() != name.as_str() {
        return Err(ApiError::BadRequest(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            stream.metadata.name()
        )));
    }
    Ok(())
}

async fn list_all_image_streams(
    State(state): State<AppState>,
) -> ApiResult<Json<List<ImageStream>>> {
    let listed = state.store.list_image_streams(None).await?;
    Ok(list(listed.items, listed.resource_version))
}

async fn list_image_streams(
    State(state): State<AppState>,
    Names(NsPath(ns)): Names<NsPath>,
) -> ApiResult<Json<List<ImageStream>>> {
    state
        .store
        .get_project(&ns)
        .await
        .map_err(|e| ApiError::from_store(e, PROJECTS, ns.as_str()))?;
    let listed = state.store.list_image_streams(Some(&ns)).await?;
    Ok(list(listed.items, listed.resource_version))
}

async fn create_image_stream(
    State(state): State<AppState>,
    Names(NsPath(ns)): Names<NsPath>,
    Body(stream): Body<ImageStream>,
) -> ApiResult<(StatusCode, Json<ImageStream>)> {
    invalid(
        stream.metadata.name(),
        validate_image_stream(&stream, ns.as_str()),
    )?;
    let name: StreamName = stream
        .metadata
        .name()
        .parse()
        .map_err(|e| ApiError::BadRequest(format!("invalid name: {e}")))?;
    let stream = service::stream_for_create(stream, ns.as_str(), state.clock.now());
    let created = state
        .store
        .create_image_stream(&ns, &name, stream)
        .await
        .map_err(stream_error(&ns, name.as_str()))?;
    tracing::info!(namespace = %ns, stream = %name, "image stream created");
    state.importer.wake();
    Ok((StatusCode::CREATED, Json(created)))
}

async fn get_image_stream(
    State(state): State<AppState>,
    Names(StreamPath(ns, name)): Names<StreamPath>,
) -> ApiResult<Json<ImageStream>> {
    let stream = state
        .store
        .get_image_stream(&ns, &name)
        .await
        .map_err(stream_error(&ns, name.as_str()))?;
    Ok(Json(stream))
}

/// Stores `new` as the replacement of the stream at `expected`, after validation.
async fn write_update(
    state: &AppState,
    ns: &ProjectName,
    name: &StreamName,
    expected: u64,
    new: ImageStream,
) -> ApiResult<ImageStream> {
    invalid(name.as_str(), validate_image_stream(&new, ns.as_str()))?;
    let old = state
        .store
        .get_image_stream(ns, name)
        .await
        .map_err(stream_error(ns, name.as_str()))?;
    let new = service::stream_for_update(new, &old);
    let updated = state
        .store
        .update_image_stream(ns, name, expected, new)
        .await
        .map_err(stream_error(ns, name.as_str()))?;
    state.importer.wake();
    Ok(updated)
}

async fn replace_image_stream(
    State(state): State<AppState>,
    Names(StreamPath(ns, name)): Names<StreamPath>,
    Body(stream): Body<ImageStream>,
) -> ApiResult<Json<ImageStream>> {
    name_matches_url(&stream, &name)?;
    let expected = expected_version(&stream)?;
    let updated = write_update(&state, &ns, &name, expected, stream).await?;
    tracing::info!(namespace = %ns, stream = %name, "image stream replaced");
    Ok(Json(updated))
}

async fn patch_image_stream(
    State(state): State<AppState>,
    Names(StreamPath(ns, name)): Names<StreamPath>,
    patch: RawBody,
) -> ApiResult<Json<ImageStream>> {
    if patch.format != BodyFormat::MergePatch {
        return Err(ApiError::UnsupportedMediaType(
            "PATCH takes a JSON merge patch: send Content-Type: application/merge-patch+json"
                .into(),
        ));
    }
    let pinned = patch.value.pointer("/metadata/resourceVersion").is_some();
    for _ in 0..PATCH_ATTEMPTS {
        let current = state
            .store
            .get_image_stream(&ns, &name)
            .await
            .map_err(stream_error(&ns, name.as_str()))?;
        let mut document =
            serde_json::to_value(&current).map_err(|e| ApiError::Internal(Box::new(e)))?;
        merge_patch(&mut document, &patch.value);
        let patched: ImageStream = decode(document)?;
        name_matches_url(&patched, &name)?;
        let expected = expected_version(&patched)?;
        match write_update(&state, &ns, &name, expected, patched).await {
            Err(ApiError::Conflict { .. }) if !pinned => continue,
            result => {
                let updated = result?;
                tracing::info!(namespace = %ns, stream = %name, "image stream patched");
                return Ok(Json(updated));
            }
        }
    }
    Err(ApiError::Conflict {
        resource: IMAGESTREAMS,
        name: name.to_string(),
    })
}

async fn replace_image_stream_status(
    State(state): State<AppState>,
    Names(StreamPath(ns, name)): Names<StreamPath>,
    Body(stream): Body<ImageStream>,
) -> ApiResult<Json<ImageStream>> {
    name_matches_url(&stream, &name)?;
    let expected = expected_version(&stream)?;
    invalid(name.as_str(), validate_image_stream_status(&stream.status))?;
    let old = state
        .store
        .get_image_stream(&ns, &name)
        .await
        .map_err(stream_error(&ns, name.as_str()))?;
    let new = service::stream_with_status(&old, stream.status);
    let updated = state
        .store
        .update_image_stream(&ns, &name, expected, new)
        .await
        .map_err(stream_error(&ns, name.as_str()))?;
    tracing::info!(namespace = %ns, stream = %name, "image stream status replaced");
    state.importer.wake();
    Ok(Json(updated))
}

async fn delete_image_stream(
    State(state): State<AppState>,
    Names(StreamPath(ns, name)): Names<StreamPath>,
) -> ApiResult<Json<ImageStream>> {
    let deleted = state
        .store
        .delete_image_stream(&ns, &name)
        .await
        .map_err(stream_error(&ns, name.as_str()))?;
    tracing::info!(namespace = %ns, stream = %name, "image stream deleted");
    Ok(Json(deleted))
}
