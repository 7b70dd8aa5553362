//! `PATCH .../imagestreamtags/{stream}:{tag}` (`kubectl patch istag ruby:2.7 --type merge`,
//! `--type json`, `kubectl annotate istag`), as OpenShift allows: the patch is applied to the
//! tag as a GET shows it and the result written as a PUT writes it (`write_tag`: the same
//! validation, source authorization and import). The write is pinned to the version the
//! patch was applied to, and re-applied to a fresh read after losing a race, unless the patch
//! names a `metadata.resourceVersion` itself (then a stale one is a 409).

use axum::extract::State;
use axum::{Extension, Json};
use tagstream_shared::ImageStreamTag;
use tagstream_shared::access::{Resource as R, Verb as V};

use super::field_validation::FieldValidation;
use super::imagestreamtags::{current, write_tag};
use super::{IMAGESTREAMTAGS, StreamTagPath};
use crate::access::Need;
use crate::api::routes::Routes;
use crate::app::AppState;
use crate::auth::Caller;
use crate::body::{BodyFormat, Names, RawBody};
use crate::error::{ApiError, ApiResult};

/// How many times a patch is re-applied after losing a race.
const ATTEMPTS: usize = 10;

pub fn routes() -> Routes {
    Routes::new().patch(
        "/apis/image.openshift.io/v1/namespaces/{ns}/imagestreamtags/{name}",
        Need::Project {
            verb: V::Patch,
            resource: R::ImageStreamTags,
            param: "ns",
        },
        patch_image_stream_tag,
    )
}

async fn patch_image_stream_tag(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Names(StreamTagPath(ns, name)): Names<StreamTagPath>,
    fields: FieldValidation,
    patch: RawBody,
) -> ApiResult<Json<ImageStreamTag>> {
    if !matches!(patch.format, BodyFormat::MergePatch | BodyFormat::JsonPatch) {
        return Err(ApiError::UnsupportedMediaType(
            "PATCH takes application/merge-patch+json or application/json-patch+json".into(),
        ));
    }
    let pinned = patch.value.pointer("/metadata/resourceVersion").is_some();
    for _ in 0..ATTEMPTS {
        let tag = current(&state, &ns, &name).await?;
        let patched: ImageStreamTag = fields.patched(ImageStreamTag::KIND, tag, &patch).await?;
        match write_tag(&state, &caller, &ns, &name, patched, false).await {
            Err(ApiError::Conflict { .. }) if !pinned => continue,
            result => return result.map(|(_, view)| Json(view)),
        }
    }
    Err(ApiError::Conflict {
        resource: &IMAGESTREAMTAGS,
        name: name.to_string(),
    })
}
