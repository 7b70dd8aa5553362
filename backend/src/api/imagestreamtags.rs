//! `/apis/image.openshift.io/v1/namespaces/{ns}/imagestreamtags/{name}:{tag}`: one tag of a
//! stream with its source, current image (in full once imported) and history (read-only until
//! tagging lands).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use tagstream_shared::ImageStreamTag;

use super::{IMAGESTREAMS, IMAGESTREAMTAGS, StreamTagPath};
use crate::app::AppState;
use crate::body::Names;
use crate::error::{ApiError, ApiResult};

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/apis/image.openshift.io/v1/namespaces/{ns}/imagestreamtags/{name}",
        get(get_image_stream_tag),
    )
}

async fn get_image_stream_tag(
    State(state): State<AppState>,
    Names(StreamTagPath(ns, name)): Names<StreamTagPath>,
) -> ApiResult<Json<ImageStreamTag>> {
    let not_found = || ApiError::NotFound {
        resource: IMAGESTREAMTAGS,
        name: name.to_string(),
    };
    let stream = state
        .store
        .get_image_stream(&ns, &name.stream)
        .await
        .map_err(|e| match e {
            crate::store::StoreError::NotFound => not_found(),
            other => ApiError::from_store(other, IMAGESTREAMS, name.stream.as_str()),
        })?;
    let mut tag = stream.stream_tag(name.tag.as_str()).ok_or_else(not_found)?;
    // The whole image (metadata, layers, platforms) when an import has stored it.
    if let Some(current) = &tag.image
        && let Some(mut image) = state.store.get_image(current.metadata.name()).await?
    {
        image.docker_image_reference = current.docker_image_reference.clone();
        tag.image = Some(image);
    }
    // Ours: when the import worker last asked the registry about the tag.
    if let Some(at) =
        state
            .importer
            .last_checked(ns.as_str(), name.stream.as_str(), name.tag.as_str())
    {
        tag.metadata
            .annotations
            .get_or_insert_with(Default::default)
            .insert(ImageStreamTag::LAST_CHECKED.into(), at.to_string());
    }
    Ok(Json(tag))
}
