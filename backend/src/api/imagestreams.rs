//! `/apis/image.openshift.io/v1/.../imagestreams`: list (one project or all), create, get,
//! replace, merge-patch, the status subresource, delete. Writes are conditioned on
//! `metadata.resourceVersion`: a stale one is a 409 and changes nothing.

use crate::access::Need;
use crate::api::routes::Routes;
use crate::auth::Caller;
use crate::store::Objects as _;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use tagstream_shared::access::{Resource as R, Verb as V};
use tagstream_shared::imagestream::API_VERSION;
use tagstream_shared::validation::validate_image_stream_status;
use tagstream_shared::{ImageStream, List};

use super::imagestream_writes::{
    StreamWrite, expected_version, name_matches_url, store_stream, write_create, write_update,
};
use super::{IMAGESTREAMS, NsPath, StreamPath, merge_patch, raw};
use crate::api::apply::ApplyOptions;
use crate::api::dry_run::DryRun;
use crate::api::field_validation::{Checked, FieldValidation};
use crate::app::AppState;
use crate::audit;
use crate::body::{BodyFormat, Names, RawBody};
use crate::error::{ApiError, ApiResult};
use crate::integrated::present;
use crate::read_cache::Point;
use crate::service;
use crate::watch::{ListOptions, Scope, list_or_watch};
use axum::response::{IntoResponse as _, Response};

pub fn routes() -> Routes {
    const ALL: &str = "/apis/image.openshift.io/v1/imagestreams";
    const IN: &str = "/apis/image.openshift.io/v1/namespaces/{ns}/imagestreams";
    const ONE: &str = "/apis/image.openshift.io/v1/namespaces/{ns}/imagestreams/{name}";
    const STATUS: &str = "/apis/image.openshift.io/v1/namespaces/{ns}/imagestreams/{name}/status";
    let need = |verb| Need::in_project(verb, R::ImageStreams);
    Routes::new()
        .get(ALL, Need::SignedInScoped, list_all_image_streams)
        .get(IN, need(V::List), list_image_streams)
        .post(IN, need(V::Create), create_image_stream)
        .get(ONE, need(V::Get), get_image_stream)
        .put(ONE, need(V::Update), replace_image_stream)
        .patch(ONE, need(V::Patch), patch_image_stream)
        .delete(ONE, need(V::Delete), delete_image_stream)
        .get(STATUS, need(V::Get), get_image_stream)
        .put(STATUS, need(V::Update), replace_image_stream_status)
}

fn list(items: Vec<ImageStream>, resource_version: u64) -> List<ImageStream> {
    List::new(
        ImageStream::KIND,
        API_VERSION,
        resource_version.to_string(),
        items,
    )
}

/// The streams of every project the caller may list streams in.
async fn list_all_image_streams(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    options: ListOptions,
) -> ApiResult<Response> {
    let visible =
        crate::access::visible_projects(&state, &caller, V::List, R::ImageStreams).await?;
    // Every stream, as stored, when nothing is filtered out or rewritten.
    if visible.is_none() && !options.watch && state.config.registry.is_none() {
        let listed = state.store.list_bodies(&IMAGESTREAMS, None).await?;
        return Ok(raw::list(
            ImageStream::KIND,
            API_VERSION,
            listed.resource_version,
            &listed.items,
        ));
    }
    let listed = state.store.list::<ImageStream>(None).await?;
    let items = listed
        .items
        .into_iter()
        .map(|s| present::shown(&state, s))
        .filter(|s| {
            visible.as_ref().is_none_or(|v| {
                s.metadata
                    .namespace
                    .as_deref()
                    .is_some_and(|ns| v.contains(ns))
            })
        })
        .collect();
    let scope = Scope::visible_to(IMAGESTREAMS.plural, visible, V::List, R::ImageStreams);
    list_or_watch(&state, options, scope, list(items, listed.resource_version)).await
}

async fn list_image_streams(
    State(state): State<AppState>,
    Point(point): Point,
    headers: axum::http::HeaderMap,
    Names(NsPath(ns)): Names<NsPath>,
    options: ListOptions,
) -> ApiResult<Response> {
    // As stored (from memory while unchanged), unless a watch starts (its events are built
    // from objects) or the integrated registry's pull specs are shown.
    if !options.watch && state.config.registry.is_none() {
        return raw::cached_list(
            &state,
            point,
            &headers,
            &IMAGESTREAMS,
            ImageStream::KIND,
            API_VERSION,
            &ns,
        )
        .await;
    }
    state.store.get_project(&ns).await?;
    let mut listed = state.store.list::<ImageStream>(Some(&ns)).await?;
    for s in &mut listed.items {
        present::stream(state.config.registry.as_ref(), s);
    }
    let scope = Scope::project(IMAGESTREAMS.plural, ns.as_str());
    list_or_watch(
        &state,
        options,
        scope,
        list(listed.items, listed.resource_version),
    )
    .await
}

async fn create_image_stream(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Names(NsPath(ns)): Names<NsPath>,
    DryRun(dry_run): DryRun,
    options: ApplyOptions,
    Checked(stream): Checked<ImageStream>,
) -> ApiResult<(StatusCode, Json<ImageStream>)> {
    let manager = options.update_manager()?;
    let created = write_create(&state, &caller, &ns, stream, dry_run, Some(&manager)).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn get_image_stream(
    State(state): State<AppState>,
    Point(point): Point,
    Names(StreamPath(ns, name)): Names<StreamPath>,
) -> ApiResult<Response> {
    // As stored (from memory while unchanged), unless the integrated registry's pull specs
    // are shown.
    if state.config.registry.is_none() {
        let body = state
            .read_cache
            .object(
                state.store.as_ref(),
                point,
                &IMAGESTREAMS,
                ns.as_str(),
                name.as_ref(),
            )
            .await?;
        return Ok(raw::object(body));
    }
    let stream = state
        .store
        .get::<ImageStream>(Some(&ns), name.as_ref())
        .await?;
    Ok(Json(present::shown(&state, stream)).into_response())
}

async fn replace_image_stream(
    write: StreamWrite,
    Checked(stream): Checked<ImageStream>,
) -> ApiResult<Json<ImageStream>> {
    let StreamWrite {
        state,
        caller,
        ns,
        name,
        dry_run,
        options,
    } = write;
    name_matches_url(&stream, &name)?;
    let expected = expected_version(&stream)?;
    let manager = options.update_manager()?;
    let updated = write_update(
        &state,
        &caller,
        (&ns, &name),
        expected,
        stream,
        dry_run,
        Some(&manager),
    )
    .await?;
    tracing::info!(namespace = %ns, stream = %name, "image stream replaced");
    Ok(Json(present::shown(&state, updated)))
}

async fn patch_image_stream(
    write: StreamWrite,
    fields: FieldValidation,
    patch: RawBody,
) -> ApiResult<(StatusCode, Json<ImageStream>)> {
    let StreamWrite {
        state,
        caller,
        ns,
        name,
        dry_run,
        options,
    } = write;
    if patch.format == BodyFormat::ApplyPatch {
        let at = (&ns, &name);
        return super::imagestreams_apply::apply(
            &state, &caller, at, dry_run, &fields, &options, &patch,
        )
        .await;
    }
    // Merge or JSON patch (kubectl label, annotate, patch --type json).
    merge_patch::merge_or_json(&patch)?;
    let manager = options.update_manager()?;
    let (at, state_ref, caller, fields, body, manager) = (
        (&ns, &name),
        &state,
        &caller,
        &fields,
        &patch,
        manager.as_str(),
    );
    let of = (&IMAGESTREAMS, Some(&ns));
    let updated = merge_patch::until_written(body, of, name.as_str(), move || async move {
        let (ns, name) = at;
        let current = state_ref
            .store
            .get::<ImageStream>(Some(ns), name.as_ref())
            .await?;
        let patched: ImageStream = fields.patched(ImageStream::KIND, current, body).await?;
        name_matches_url(&patched, name)?;
        let expected = expected_version(&patched)?;
        write_update(
            state_ref,
            caller,
            at,
            expected,
            patched,
            dry_run,
            Some(manager),
        )
        .await
    })
    .await?;
    tracing::info!(namespace = %ns, stream = %name, "image stream patched");
    Ok((StatusCode::OK, Json(present::shown(&state, updated))))
}

async fn replace_image_stream_status(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Names(StreamPath(ns, name)): Names<StreamPath>,
    Checked(stream): Checked<ImageStream>,
) -> ApiResult<Json<ImageStream>> {
    name_matches_url(&stream, &name)?;
    let expected = expected_version(&stream)?;
    ApiError::refuse_invalid(
        ImageStream::KIND,
        name.as_str(),
        validate_image_stream_status(&stream.status),
    )?;
    crate::source_access::authorize_status_images(&state, &caller, &ns, &stream).await?;
    let old = state
        .store
        .get::<ImageStream>(Some(&ns), name.as_ref())
        .await?;
    let new = service::stream_with_status(&old, stream.status);
    let actor = (&caller).into();
    let updated = store_stream(&state, &actor, (&ns, &name), Some(expected), new).await?;
    tracing::info!(namespace = %ns, stream = %name, "image stream status replaced");
    state.importer.wake();
    Ok(Json(present::shown(&state, updated)))
}

async fn delete_image_stream(
    State(state): State<AppState>,
    Extension(actor): Extension<audit::Actor>,
    Names(StreamPath(ns, name)): Names<StreamPath>,
    DryRun(dry_run): DryRun,
) -> ApiResult<Json<ImageStream>> {
    if dry_run {
        let stream = state
            .store
            .get::<ImageStream>(Some(&ns), name.as_ref())
            .await?;
        return Ok(Json(present::shown(&state, stream)));
    }
    let deleted = state
        .store
        .delete::<ImageStream>(&actor, Some(&ns), name.as_ref())
        .await?;
    tracing::info!(namespace = %ns, stream = %name, "image stream deleted");
    Ok(Json(present::shown(&state, deleted)))
}
