//! `GET /apis/image.openshift.io/v1/namespaces/{ns}/imagestreamimages/{name}@{digest}`: one
//! image of a stream (a digest any of its tags points or pointed at, or a platform's child of
//! such a manifest list), with its metadata. A unique digest prefix is accepted; an ambiguous
//! one is a 409 naming the candidates.

use crate::access::Need;
use crate::api::routes::Routes;
use std::collections::BTreeSet;
use tagstream_shared::access::{Resource as R, Verb as V};

use axum::Json;
use axum::extract::{Path, State};
use tagstream_shared::imagestream::API_VERSION;
use tagstream_shared::{ImageStreamImage, ObjectMeta, StreamImageName};

use super::{IMAGESTREAMIMAGES, NsPath};
use crate::app::AppState;
use crate::body::Names;
use crate::error::{ApiError, ApiResult};

pub fn routes() -> Routes {
    Routes::new().get(
        "/apis/image.openshift.io/v1/namespaces/{ns}/imagestreamimages/{name}",
        Need::in_project(V::Get, R::ImageStreamImages),
        get_image_stream_image,
    )
}

async fn get_image_stream_image(
    State(state): State<AppState>,
    Names(NsPath(ns)): Names<NsPath>,
    Path((_, name)): Path<(String, String)>,
) -> ApiResult<Json<ImageStreamImage>> {
    let wanted: StreamImageName = name.parse().map_err(ApiError::BadRequest)?;
    let not_found = || ApiError::NotFound {
        resource: &IMAGESTREAMIMAGES,
        name: name.clone(),
    };
    let stream =
        super::imagestreamtags::presented_stream(&state, &ns, &wanted.stream, not_found).await?;
    // Every digest in the stream's history, then the children of the lists among them.
    let mut known: BTreeSet<String> = stream
        .status
        .tags
        .iter()
        .flat_map(|t| t.items.iter().map(|e| e.image.clone()))
        .collect();
    let mut children = BTreeSet::new();
    for digest in &known {
        if let Some(image) = state.store.get_image(digest).await?
            && image.is_list()
        {
            children.extend(
                image
                    .docker_image_manifests
                    .iter()
                    .map(|m| m.digest.clone()),
            );
        }
    }
    known.extend(children);
    let matches: Vec<String> = known
        .into_iter()
        .filter(|d| d.starts_with(&wanted.digest_prefix))
        .collect();
    let digest = match matches.as_slice() {
        [] => return Err(not_found()),
        [one] => one.clone(),
        _ => {
            return Err(ApiError::Ambiguous {
                resource: &IMAGESTREAMIMAGES,
                name,
                candidates: matches,
            });
        }
    };
    let items = || stream.status.tags.iter().flat_map(|t| t.items.iter());
    let mut pull_spec = items()
        .find(|e| e.image == digest)
        .and_then(tagstream_shared::TagEvent::pull_spec_by_digest);
    if pull_spec.is_none() {
        // A platform's child of a list: pulled from where the list is, by its own digest.
        for item in items() {
            if let Some(list) = state.store.get_image(&item.image).await?
                && list
                    .docker_image_manifests
                    .iter()
                    .any(|m| m.digest == digest)
                && let Some(spec) = item.pull_spec_by_digest()
            {
                pull_spec = Some(spec.replace(&item.image, &digest));
                break;
            }
        }
    }
    let mut image = state.store.get_image(&digest).await?.unwrap_or_else(|| {
        // Known from history (written through the status subresource) but never imported here.
        tagstream_shared::Image {
            kind: tagstream_shared::Image::KIND.into(),
            api_version: API_VERSION.into(),
            metadata: ObjectMeta::named(digest.clone()),
            ..Default::default()
        }
    });
    if let Some(spec) = pull_spec {
        image.docker_image_reference = spec;
    }
    let mut metadata = ObjectMeta::named(format!("{}@{digest}", wanted.stream));
    metadata.namespace = Some(ns.to_string());
    metadata.creation_timestamp = image.metadata.creation_timestamp;
    Ok(Json(ImageStreamImage {
        kind: ImageStreamImage::KIND.into(),
        api_version: API_VERSION.into(),
        metadata,
        image,
    }))
}
