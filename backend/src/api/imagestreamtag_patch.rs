//! `PATCH .../imagestreamtags/{stream}:{tag}` (`kubectl patch istag ruby:2.7 --type merge`,
//! `--type json`, `kubectl annotate istag`; server-side apply is `imagestreamtag_apply`), as
//! OpenShift allows: the patch is applied to the
//! tag as a GET shows it and the result written as a PUT writes it (`write_tag`: the same
//! validation, source authorization and import). The write is pinned to the version the
//! patch was applied to, and re-applied to a fresh read after losing a race, unless the patch
//! names a `metadata.resourceVersion` itself (then a stale one is a 409).

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use tagstream_shared::ImageStreamTag;
use tagstream_shared::access::{Resource as R, Verb as V};

use super::apply::ApplyOptions;
use super::field_validation::FieldValidation;
use super::imagestreamtag_write::{TagWrite, stream_turn, write_tag};
use super::imagestreamtags::current;
use super::retry::Tries;
use super::{IMAGESTREAMTAGS, StreamTagPath};
use crate::access::Need;
use crate::api::dry_run::DryRun;
use crate::api::routes::Routes;
use crate::app::AppState;
use crate::auth::Caller;
use crate::body::{BodyFormat, Names, RawBody};
use crate::error::{ApiError, ApiResult};

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
    DryRun(dry_run): DryRun,
    fields: FieldValidation,
    options: ApplyOptions,
    patch: RawBody,
) -> ApiResult<(StatusCode, Json<ImageStreamTag>)> {
    if patch.format == BodyFormat::ApplyPatch {
        let at = (&ns, &name);
        let how = (&fields, &options, dry_run);
        let (code, tag) =
            super::imagestreamtag_apply::apply(&state, &caller, at, how, &patch).await?;
        return Ok((code, Json(tag)));
    }
    super::merge_patch::merge_or_json(&patch)?;
    let manager = options.update_manager()?;
    let pinned = patch.value.pointer("/metadata/resourceVersion").is_some();
    // The turn on the stream is this loop's: `write_tag` writes in it (it would wait for the
    // end of this very turn if it took its own).
    let turn = stream_turn(&ns, &name).await?;
    let mut tries = Tries::new(&turn);
    let write = TagWrite {
        create_only: false,
        manager: &manager,
        dry_run,
        turn: Some(&turn),
    };
    while tries.another().await {
        let tag = current(&state, &ns, &name).await?;
        let patched: ImageStreamTag = fields.patched(ImageStreamTag::KIND, tag, &patch).await?;
        let at = (&ns, &name);
        match write_tag(&state, &caller, at, patched, write).await {
            Err(ApiError::Conflict { .. }) if !pinned => continue,
            result => return result.map(|(_, view)| (StatusCode::OK, Json(view))),
        }
    }
    Err(tries.gave_up(&IMAGESTREAMTAGS, &name.to_string()))
}
