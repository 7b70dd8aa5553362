//! Server-side apply of an image stream tag (`kubectl apply --server-side -f istag.yaml`, a
//! `PATCH` of `.../imagestreamtags/{stream}:{tag}` with `application/apply-patch+yaml`): the
//! body's `tag` is the applier's whole intent for that one tag of the stream. It is applied to
//! the stored stream as the stream's `spec.tags[name=tag]`, each tag's appliers kept as
//! managers of their own (`apply::tag_scope`), and written through the tag's one write path
//! (`imagestreamtag_write`: validation, source authorization, import). Applying a tag that does
//! not exist creates it (and its stream), for callers who may create image stream tags; an
//! apply that changes nothing writes nothing.
//!
//! Only `tag` is the applier's: the rest of a tag object (its image, history, conditions) is
//! the server's, as a stream's status is, and is not applied.

use axum::http::StatusCode;
use serde_json::Value;
use tagstream_shared::access::{Resource as R, Verb as V};
use tagstream_shared::imagestream::API_VERSION;
use tagstream_shared::{ImageStream, ImageStreamTag, ProjectName, StreamTagName};

use super::IMAGESTREAMTAGS;
use super::apply::tag_scope::{stream_body, subresource};
use super::apply::{ApplyOptions, Scope, Target, apply as apply_fields, check_identity};
use super::field_validation::FieldValidation;
use super::imagestreamtag_write::{
    ATTEMPTS, pinned_version, raced, read_stream, requested_tag, write_stream,
};
use super::imagestreamtags::{full_view, view};
use crate::access::{self, Need};
use crate::app::AppState;
use crate::auth::Caller;
use crate::body::{RawBody, decode};
use crate::error::{ApiError, ApiResult};

fn to_value(object: &impl serde::Serialize) -> ApiResult<Value> {
    serde_json::to_value(object).map_err(|e| ApiError::Internal(Box::new(e)))
}

/// `body` applied to the tag `ns`/`name` by the caller's field manager: 201 and the tag if it
/// was created, 200 and the tag otherwise.
pub(super) async fn apply(
    state: &AppState,
    caller: &Caller,
    (ns, name): (&ProjectName, &StreamTagName),
    fields: &FieldValidation,
    options: &ApplyOptions,
    body: &RawBody,
) -> ApiResult<(StatusCode, ImageStreamTag)> {
    let manager = options.manager()?;
    let applied = &body.value;
    if !applied.is_object()
        || applied["kind"] != ImageStreamTag::KIND
        || applied["apiVersion"] != API_VERSION
    {
        return Err(ApiError::BadRequest(format!(
            "an apply's body must be an object of kind {:?} and apiVersion {API_VERSION:?}",
            ImageStreamTag::KIND
        )));
    }
    check_identity(applied, &name.to_string(), ns.as_str())?;
    let intent: ImageStreamTag = fields.decode_body(ImageStreamTag::KIND, body).await?;
    let tag = requested_tag(&intent, name)?;
    let pinned = pinned_version(intent.metadata.resource_version.as_deref(), name)?;
    let sub = subresource(name);
    let target = Target {
        kind: ImageStream::KIND,
        api_version: API_VERSION,
        scope: Scope::StreamTag {
            subresource: &sub,
            tag: name.tag.as_str(),
        },
    };
    // The tag as sent (what the applier names) and as the store keeps it (what is compared).
    let uid = applied.pointer("/metadata/uid");
    let as_sent = stream_body(name, &applied["tag"], uid);
    let as_kept = stream_body(name, &to_value(&tag)?, uid);
    state.store.get_project(ns).await?;
    for _ in 0..ATTEMPTS {
        let old = read_stream(state, ns, name).await?;
        let creates = old
            .as_ref()
            .is_none_or(|s| s.spec_tag(name.tag.as_str()).is_none());
        if creates {
            // Applying a tag that does not exist creates it: that needs the right to create.
            let need = Need::Project {
                verb: V::Create,
                resource: R::ImageStreamTags,
                param: "ns",
            };
            access::check(state, caller, need, |p| (p == "ns").then(|| ns.to_string())).await?;
        }
        let live = old.as_ref().map(to_value).transpose()?;
        let now = state.clock.now();
        let document = apply_fields(target, live.as_ref(), &as_sent, &as_kept, options, now)?;
        let new: ImageStream = decode(document)?;
        if let (Some(old), Some(live)) = (&old, &live)
            && to_value(&new)? == *live
        {
            // Nothing changes: nothing is written (no new resourceVersion, event or audit entry).
            let stream = crate::integrated::present::shown(state, old.clone());
            let shown = view(&stream, name)
                .ok_or_else(|| ApiError::Internal("the applied tag is missing".into()))?;
            return Ok((StatusCode::OK, full_view(state, ns, name, shown).await?));
        }
        match write_stream(state, caller, ns, name, old.as_ref(), new, pinned).await? {
            Ok(written) => {
                tracing::info!(namespace = %ns, tag = %name, manager, "applied");
                let code = if creates {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                };
                return Ok((code, written));
            }
            Err(e) if pinned.is_none() && raced(&e) => continue,
            Err(e) => return Err(ApiError::from(e.about(&IMAGESTREAMTAGS, name.to_string()))),
        }
    }
    Err(ApiError::Conflict {
        resource: &IMAGESTREAMTAGS,
        name: name.to_string(),
    })
}
