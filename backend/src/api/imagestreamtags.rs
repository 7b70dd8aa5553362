//! `/apis/image.openshift.io/v1/namespaces/{ns}/imagestreamtags[/{name}:{tag}]`: one tag of a
//! stream with its source, current image (in full once imported), history and the managers of
//! its fields; and tagging: create (POST), create or replace (PUT) and remove (DELETE) one spec
//! tag, as `oc tag` does. Every write goes through `imagestreamtag_write` (PATCH and
//! server-side apply are `imagestreamtag_patch` and `imagestreamtag_apply`).

use crate::access::Need;
use crate::api::dry_run::DryRun;
use crate::api::field_validation::Checked;
use crate::api::routes::Routes;
use crate::audit;
use crate::auth::Caller;
use crate::store::Objects as _;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use tagstream_shared::access::{Resource as R, Verb as V};
use tagstream_shared::{
    FieldError, ImageStream, ImageStreamTag, ProjectName, Status, StreamName, StreamTagName,
};

use super::apply::ApplyOptions;
use super::apply::tag_scope::tag_managed_fields;
use super::imagestream_writes::store_stream;
use super::imagestreamtag_write::{TagWrite, record, stream_turn, write_tag};
use super::retry::Tries;
use super::{IMAGESTREAMTAGS, NsPath, StreamTagPath};
use crate::app::AppState;
use crate::body::Names;
use crate::error::{ApiError, ApiResult};
use crate::import::status::{IMPORT_SUCCESS, with_next_try};
use crate::service;
use crate::store::StoreError;

pub fn routes() -> Routes {
    const IN: &str = "/apis/image.openshift.io/v1/namespaces/{ns}/imagestreamtags";
    const ONE: &str = "/apis/image.openshift.io/v1/namespaces/{ns}/imagestreamtags/{name}";
    Routes::new()
        .post(
            IN,
            Need::Project {
                verb: V::Create,
                resource: R::ImageStreamTags,
                param: "ns",
            },
            create_image_stream_tag,
        )
        .get(
            ONE,
            Need::Project {
                verb: V::Get,
                resource: R::ImageStreamTags,
                param: "ns",
            },
            get_image_stream_tag,
        )
        .put(
            ONE,
            Need::Project {
                verb: V::Update,
                resource: R::ImageStreamTags,
                param: "ns",
            },
            replace_image_stream_tag,
        )
        .delete(
            ONE,
            Need::Project {
                verb: V::Delete,
                resource: R::ImageStreamTags,
                param: "ns",
            },
            delete_image_stream_tag,
        )
}

async fn get_image_stream_tag(
    State(state): State<AppState>,
    Names(StreamTagPath(ns, name)): Names<StreamTagPath>,
) -> ApiResult<Json<ImageStreamTag>> {
    let tag = current(&state, &ns, &name).await?;
    Ok(Json(full_view(&state, &ns, &name, tag).await?))
}

/// The tag as stored and presented, without the whole image (what a patch applies to).
pub(super) async fn current(
    state: &AppState,
    ns: &ProjectName,
    name: &StreamTagName,
) -> ApiResult<ImageStreamTag> {
    let not_found = || ApiError::NotFound {
        resource: &IMAGESTREAMTAGS,
        name: name.to_string(),
    };
    let stream = presented_stream(state, ns, &name.stream, not_found).await?;
    view(&stream, name).ok_or_else(not_found)
}

/// Stream `name` of `ns` as the API presents it (integrated registry references filled in);
/// a missing stream is `not_found`, the 404 of the stream tag or image asked for.
pub(super) async fn presented_stream(
    state: &AppState,
    ns: &ProjectName,
    name: &StreamName,
    not_found: impl FnOnce() -> ApiError,
) -> ApiResult<ImageStream> {
    let mut stream = state
        .store
        .get::<ImageStream>(Some(ns), name.as_ref())
        .await
        .map_err(|e| match e {
            StoreError::NotFound { .. } => not_found(),
            other => ApiError::from(other),
        })?;
    crate::integrated::present::stream(state.config.registry.as_ref(), &mut stream);
    Ok(stream)
}

/// The tag `name` of `stream` as a tag object, with the managers of its fields
/// (`metadata.managedFields`, from the stream's: `apply::tag_scope`).
pub(super) fn view(stream: &ImageStream, name: &StreamTagName) -> Option<ImageStreamTag> {
    let mut tag = stream.stream_tag(name.tag.as_str())?;
    if let Some(managed) = tag_managed_fields(stream.metadata.extra.get("managedFields"), name) {
        tag.metadata
            .extra
            .insert("managedFields".to_owned(), managed);
    }
    Some(tag)
}

/// The tag view with the whole image when an import stored it, and when it was last checked.
pub(super) async fn full_view(
    state: &AppState,
    ns: &ProjectName,
    name: &StreamTagName,
    mut tag: ImageStreamTag,
) -> ApiResult<ImageStreamTag> {
    if let Some(current) = &tag.image
        && let Some(mut image) = state.store.get_image(current.metadata.name()).await?
    {
        image.docker_image_reference = current.docker_image_reference.clone();
        tag.image = Some(image);
    }
    // Ours: when the import worker last asked the registry about the tag, and for a failed
    // import, when it tries next (not stored in the stream: see `import::status`).
    if let Some((at, next_try)) = state
        .importer
        .last_checked(ns.as_str(), name.stream.as_str(), name.tag.as_str())
        .await?
    {
        let annotations = tag
            .metadata
            .annotations
            .get_or_insert_with(Default::default);
        annotations.insert(ImageStreamTag::LAST_CHECKED.into(), at.to_string());
        let failed = tag
            .conditions
            .iter_mut()
            .find(|c| c.kind == IMPORT_SUCCESS && c.status == "False");
        if let (Some(next_try), Some(failed)) = (next_try, failed) {
            annotations.insert(ImageStreamTag::NEXT_TRY.into(), next_try.to_string());
            failed.message = with_next_try(&failed.message, next_try, state.clock.now());
        }
    }
    Ok(tag)
}

async fn create_image_stream_tag(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Names(NsPath(ns)): Names<NsPath>,
    DryRun(dry_run): DryRun,
    options: ApplyOptions,
    Checked(body): Checked<ImageStreamTag>,
) -> ApiResult<(StatusCode, Json<ImageStreamTag>)> {
    let manager = options.update_manager()?;
    let name: StreamTagName = body
        .metadata
        .name()
        .parse()
        .map_err(|e| ApiError::Invalid {
            kind: ImageStreamTag::KIND,
            name: body.metadata.name().to_owned(),
            errors: vec![FieldError::invalid(
                "metadata.name",
                body.metadata.name(),
                e,
            )],
        })?;
    let at = (&ns, &name);
    let write = TagWrite::alone(true, &manager, dry_run);
    let (_, view) = write_tag(&state, &caller, at, body, write).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

async fn replace_image_stream_tag(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Names(StreamTagPath(ns, name)): Names<StreamTagPath>,
    DryRun(dry_run): DryRun,
    options: ApplyOptions,
    Checked(body): Checked<ImageStreamTag>,
) -> ApiResult<(StatusCode, Json<ImageStreamTag>)> {
    let manager = options.update_manager()?;
    let at = (&ns, &name);
    let write = TagWrite::alone(false, &manager, dry_run);
    let (created, view) = write_tag(&state, &caller, at, body, write).await?;
    let code = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((code, Json(view)))
}

/// Removes the tag from the spec and its history from the status; its fields leave every
/// manager of the stream (a tag applied again later is nobody's yet). A dry run finds the tag
/// and answers as the delete would, and removes nothing.
async fn delete_image_stream_tag(
    State(state): State<AppState>,
    Extension(actor): Extension<audit::Actor>,
    Names(StreamTagPath(ns, name)): Names<StreamTagPath>,
    DryRun(dry_run): DryRun,
    options: ApplyOptions,
) -> ApiResult<Json<Status>> {
    let manager = options.update_manager()?;
    let not_found = || ApiError::NotFound {
        resource: &IMAGESTREAMTAGS,
        name: name.to_string(),
    };
    let turn = stream_turn(&ns, &name).await?;
    let mut tries = Tries::new(&turn);
    while tries.another().await {
        let old = state
            .store
            .get::<ImageStream>(Some(&ns), name.stream.as_ref())
            .await
            .map_err(|e| match e {
                StoreError::NotFound { .. } => not_found(),
                other => ApiError::from(other),
            })?;
        let tag = name.tag.as_str();
        if old.spec_tag(tag).is_none() && old.status_tag(tag).is_none() {
            return Err(not_found());
        }
        if dry_run {
            return Ok(Json(deleted(&name)));
        }
        let mut new = old.clone();
        new.spec.tags.retain(|t| t.name != tag);
        let (old, new) = record(Some(old), new, &manager, state.clock.now()).await?;
        let old = old.ok_or_else(|| ApiError::Internal("the stream read is gone".into()))?;
        let mut new = service::stream_for_update(new, &old);
        new.status.tags.retain(|t| t.tag != tag);
        let expected = old.metadata.revision();
        match store_stream(&state, &actor, (&ns, &name.stream), Some(expected), new).await {
            Ok(_) => {
                tracing::info!(namespace = %ns, tag = %name, "image stream tag deleted");
                return Ok(Json(deleted(&name)));
            }
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(ApiError::from(e.about(&IMAGESTREAMTAGS, name.to_string()))),
        }
    }
    Err(tries.gave_up(&IMAGESTREAMTAGS, &name.to_string()))
}

/// The answer to a delete of the tag `name`.
fn deleted(name: &StreamTagName) -> Status {
    let mut status = Status::success().about(
        IMAGESTREAMTAGS.group,
        IMAGESTREAMTAGS.plural,
        &name.to_string(),
    );
    status.message = format!("imagestreamtag {name} deleted");
    status
}
