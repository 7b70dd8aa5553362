//! `/apis/image.openshift.io/v1/namespaces/{ns}/imagestreamtags[/{name}:{tag}]`: one tag of a
//! stream with its source, current image (in full once imported) and history; and tagging:
//! create (POST), create or replace (PUT) and remove (DELETE) one spec tag, as `oc tag` does
//! (PATCH is `imagestreamtag_patch`, through the same write).
//! A write without `metadata.resourceVersion` is re-applied after losing a race; with one, a
//! stale version is a 409.

use crate::access::Need;
use crate::api::field_validation::Checked;
use crate::api::routes::Routes;
use crate::auth::Caller;
use crate::store::Objects as _;
use crate::{audit, services};
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use tagstream_shared::access::{Resource as R, Verb as V};
use tagstream_shared::validation::validate_image_stream;
use tagstream_shared::{
    FieldError, ImageStream, ImageStreamTag, ProjectName, Status, StreamTagName, TagReference,
};

use super::{IMAGESTREAMTAGS, NsPath, StreamTagPath};
use crate::app::AppState;
use crate::body::Names;
use crate::error::{ApiError, ApiResult};
use crate::import::sources::{source_event, source_namespace, source_stream};
use crate::import::status::{IMPORT_SUCCESS, record_image, with_next_try};
use crate::service;
use crate::source_access::{Actor, authorize_sources, link_authorized};
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

/// How many times a write without a resourceVersion is re-applied after losing a race.
const ATTEMPTS: usize = 10;

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
    let mut stream = state
        .store
        .get::<ImageStream>(Some(ns), name.stream.as_ref())
        .await
        .map_err(|e| match e {
            StoreError::NotFound { .. } => not_found(),
            other => ApiError::from(other),
        })?;
    crate::integrated::present::stream(state.config.registry.as_ref(), &mut stream);
    stream.stream_tag(name.tag.as_str()).ok_or_else(not_found)
}

/// The tag view with the whole image when an import stored it, and when it was last checked.
async fn full_view(
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

/// The spec tag a request asks for, named as the URL names it.
fn requested_tag(body: &ImageStreamTag, name: &StreamTagName) -> ApiResult<TagReference> {
    let invalid = |errors| ApiError::Invalid {
        kind: ImageStreamTag::KIND,
        name: name.to_string(),
        errors,
    };
    if !body.metadata.name().is_empty() && body.metadata.name() != name.to_string() {
        return Err(ApiError::BadRequest(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            body.metadata.name()
        )));
    }
    let Some(mut tag) = body.tag.clone() else {
        return Err(invalid(vec![FieldError::required(
            "tag",
            "the tag to set: its from, and optionally its policies",
        )]));
    };
    if tag.name.is_empty() {
        tag.name = name.tag.to_string();
    } else if tag.name != name.tag.as_str() {
        return Err(invalid(vec![FieldError::invalid(
            "tag.name",
            &tag.name,
            format!(
                "must be {:?}, the tag the object is named for",
                name.tag.as_str()
            ),
        )]));
    }
    tag.generation = None;
    Ok(tag)
}

/// The stream's validation errors, named as the tag request names its fields.
fn tag_errors(stream: &ImageStream, ns: &ProjectName, tag: &str) -> Vec<FieldError> {
    let index = stream.spec.tags.iter().position(|t| t.name == tag);
    validate_image_stream(stream, ns.as_str())
        .into_iter()
        .map(|mut e| {
            if let Some(i) = index
                && let Some(rest) = e.field.strip_prefix(&format!("spec.tags[{i}]"))
            {
                e.field = format!("tag{rest}");
            }
            e
        })
        .collect()
}

/// Sets one spec tag, creating the stream when it does not exist.
pub(super) async fn write_tag(
    state: &AppState,
    caller: &Caller,
    ns: &ProjectName,
    name: &StreamTagName,
    body: ImageStreamTag,
    create_only: bool,
) -> ApiResult<(bool, ImageStreamTag)> {
    let tag = requested_tag(&body, name)?;
    let pinned: Option<u64> = match body.metadata.resource_version.as_deref() {
        None | Some("") => None,
        Some(rv) => Some(rv.parse().map_err(|_| ApiError::Invalid {
            kind: ImageStreamTag::KIND,
            name: name.to_string(),
            errors: vec![FieldError::invalid(
                "metadata.resourceVersion",
                rv,
                "must be a number",
            )],
        })?),
    };
    state.store.get_project(ns).await?;
    for _ in 0..ATTEMPTS {
        let existing = match state
            .store
            .get::<ImageStream>(Some(ns), name.stream.as_ref())
            .await
        {
            Ok(s) => Some(s),
            Err(StoreError::NotFound { .. }) => None,
            Err(e) => return Err(ApiError::from(e)),
        };
        let written = match existing {
            None => {
                let mut stream = ImageStream::new(name.stream.as_str());
                stream.spec.tags.push(tag.clone());
                invalid(name, tag_errors(&stream, ns, name.tag.as_str()))?;
                let mut stream = service::stream_for_create(stream, ns.as_str(), state.clock.now());
                authorize_sources(state, Actor::Caller(caller), ns.as_str(), &mut stream, None)
                    .await?;
                apply_source(state, ns, &mut stream, &tag).await?;
                services::streams::create(
                    &*state.store,
                    state.config.registry.as_ref(),
                    &caller.into(),
                    ns,
                    &name.stream,
                    stream,
                )
                .await
                .map(|s| (true, s))
            }
            Some(old) => {
                if create_only && old.spec_tag(name.tag.as_str()).is_some() {
                    return Err(ApiError::AlreadyExists {
                        resource: &IMAGESTREAMTAGS,
                        name: name.to_string(),
                    });
                }
                let mut new = old.clone();
                let created = match new.spec.tags.iter_mut().find(|t| t.name == tag.name) {
                    Some(existing) => {
                        *existing = TagReference {
                            generation: existing.generation,
                            ..tag.clone()
                        };
                        false
                    }
                    None => {
                        new.spec.tags.push(tag.clone());
                        true
                    }
                };
                invalid(name, tag_errors(&new, ns, name.tag.as_str()))?;
                let mut new = service::stream_for_update(new, &old);
                authorize_sources(
                    state,
                    Actor::Caller(caller),
                    ns.as_str(),
                    &mut new,
                    Some(&old),
                )
                .await?;
                apply_source(state, ns, &mut new, &tag).await?;
                let expected = pinned.unwrap_or_else(|| {
                    old.metadata
                        .resource_version
                        .as_deref()
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0)
                });
                let actor = caller.into();
                services::streams::replace(
                    &*state.store,
                    state.config.registry.as_ref(),
                    &actor,
                    ns,
                    &name.stream,
                    expected,
                    new,
                )
                .await
                .map(|s| (created, s))
            }
        };
        match written {
            Ok((created, stream)) => {
                state.importer.wake();
                let stream = crate::integrated::present::shown(state, stream);
                tracing::info!(namespace = %ns, tag = %name, "image stream tag set");
                let view = stream
                    .stream_tag(name.tag.as_str())
                    .ok_or_else(|| ApiError::Internal("the tag just written is missing".into()))?;
                return Ok((created, full_view(state, ns, name, view).await?));
            }
            Err(StoreError::Conflict { .. } | StoreError::AlreadyExists { .. })
                if pinned.is_none() =>
            {
                continue;
            }
            Err(e) => return Err(ApiError::from(e.about(&IMAGESTREAMTAGS, name.to_string()))),
        }
    }
    Err(ApiError::Conflict {
        resource: &IMAGESTREAMTAGS,
        name: name.to_string(),
    })
}

/// Points a tag whose source is another stream's tag or image at that image now, so that the
/// answer already shows it (the worker keeps it following later moves).
async fn apply_source(
    state: &AppState,
    ns: &ProjectName,
    stream: &mut ImageStream,
    tag: &TagReference,
) -> ApiResult<()> {
    let Some(from) = &tag.from else {
        return Ok(());
    };
    let Some(source_name) = source_stream(from, stream.metadata.name()) else {
        return Ok(());
    };
    // Copies across projects only what `authorize_sources` allowed (as the worker does).
    let source_ns = source_namespace(from, ns.as_str());
    let project = crate::source_access::project_identity(state, source_ns).await?;
    if !link_authorized(stream, ns.as_str(), tag, |_| project.clone()) {
        return Ok(());
    }
    let event = if source_ns == ns.as_str() && source_name == stream.metadata.name() {
        source_event(from, stream)
    } else {
        let (Ok(source_ns), Ok(source_name)) = (
            source_ns.parse::<ProjectName>(),
            source_name.parse::<tagstream_shared::StreamName>(),
        ) else {
            return Ok(());
        };
        match state
            .store
            .get::<ImageStream>(Some(&source_ns), source_name.as_ref())
            .await
        {
            Ok(source) => source_event(from, &source),
            Err(StoreError::NotFound { .. }) => None,
            Err(e) => return Err(e.into()),
        }
    };
    if let Some(event) = event {
        let generation = stream
            .spec_tag(&tag.name)
            .and_then(|t| t.generation)
            .unwrap_or(1);
        record_image(
            stream,
            &tag.name,
            &event.image,
            &event.docker_image_reference,
            generation,
            state.clock.now(),
            state.config.import.history_limit,
        );
    }
    Ok(())
}

fn invalid(name: &StreamTagName, errors: Vec<FieldError>) -> ApiResult<()> {
    if errors.is_empty() {
        return Ok(());
    }
    Err(ApiError::Invalid {
        kind: ImageStreamTag::KIND,
        name: name.to_string(),
        errors,
    })
}

async fn create_image_stream_tag(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Names(NsPath(ns)): Names<NsPath>,
    Checked(body): Checked<ImageStreamTag>,
) -> ApiResult<(StatusCode, Json<ImageStreamTag>)> {
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
    let (_, view) = write_tag(&state, &caller, &ns, &name, body, true).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

async fn replace_image_stream_tag(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Names(StreamTagPath(ns, name)): Names<StreamTagPath>,
    Checked(body): Checked<ImageStreamTag>,
) -> ApiResult<(StatusCode, Json<ImageStreamTag>)> {
    let (created, view) = write_tag(&state, &caller, &ns, &name, body, false).await?;
    let code = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((code, Json(view)))
}

/// Removes the tag from the spec and its history from the status.
async fn delete_image_stream_tag(
    State(state): State<AppState>,
    Extension(actor): Extension<audit::Actor>,
    Names(StreamTagPath(ns, name)): Names<StreamTagPath>,
) -> ApiResult<Json<Status>> {
    let not_found = || ApiError::NotFound {
        resource: &IMAGESTREAMTAGS,
        name: name.to_string(),
    };
    for _ in 0..ATTEMPTS {
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
        let mut new = old.clone();
        new.spec.tags.retain(|t| t.name != tag);
        let mut new = service::stream_for_update(new, &old);
        new.status.tags.retain(|t| t.tag != tag);
        let expected = old
            .metadata
            .resource_version
            .as_deref()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        match services::streams::replace(
            &*state.store,
            state.config.registry.as_ref(),
            &actor,
            &ns,
            &name.stream,
            expected,
            new,
        )
        .await
        {
            Ok(_) => {
                tracing::info!(namespace = %ns, tag = %name, "image stream tag deleted");
                let mut status = Status::success().about(
                    IMAGESTREAMTAGS.group,
                    IMAGESTREAMTAGS.plural,
                    &name.to_string(),
                );
                status.message = format!("imagestreamtag {name} deleted");
                return Ok(Json(status));
            }
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(ApiError::from(e.about(&IMAGESTREAMTAGS, name.to_string()))),
        }
    }
    Err(ApiError::Conflict {
        resource: &IMAGESTREAMTAGS,
        name: name.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tagstream_shared::imagestream::API_VERSION;

    #[test]
    fn the_tag_is_named_by_the_url() {
        let name: StreamTagName = "app:prod".parse().expect("parses");
        let mut body = ImageStreamTag {
            kind: ImageStreamTag::KIND.into(),
            api_version: API_VERSION.into(),
            metadata: Default::default(),
            tag: Some(TagReference::default()),
            generation: 0,
            lookup_policy: Default::default(),
            conditions: vec![],
            image: None,
            items: vec![],
        };
        assert_eq!(
            requested_tag(&body, &name).map(|t| t.name).ok().as_deref(),
            Some("prod")
        );
        body.tag = Some(TagReference {
            name: "other".into(),
            ..TagReference::default()
        });
        assert!(requested_tag(&body, &name).is_err());
        body.tag = None;
        assert!(requested_tag(&body, &name).is_err());
    }
}
