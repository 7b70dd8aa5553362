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
//! the server's, as a stream's status is, and is not applied. Fields no schema names are
//! dropped before anything else (as Kubernetes drops them under `fieldValidation` Ignore and
//! Warn; Strict refuses them), so they are neither stored nor anyone's managed fields. What a
//! tag object carries that is its stream's ([`stream_s_own`]) is refused under Strict and
//! warned about under Warn, rather than quietly ignored. A dry run computes the answer and
//! writes nothing.

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::Value;
use tagstream_shared::access::{Resource as R, Verb as V};
use tagstream_shared::imagestream::API_VERSION;
use tagstream_shared::status::CauseType;
use tagstream_shared::{FieldError, ImageStream, ImageStreamTag, ProjectName, StreamTagName};

use super::IMAGESTREAMTAGS;
use super::apply::tag_scope::{stream_body, subresource};
use super::apply::{
    ApplyOptions, Scope, Target, apply as apply_fields, check_identity, require_type,
};
use super::field_validation::{FieldValidation, Mode};
use super::imagestreamtag_write::{
    How, pinned_version, raced, read_stream, requested_tag, stream_turn, write_stream,
};
use super::imagestreamtags::{full_view, view};
use super::retry::Tries;
use crate::access::{self, Need};
use crate::app::AppState;
use crate::auth::Caller;
use crate::body::{RawBody, decode};
use crate::error::{ApiError, ApiResult};

fn to_value(object: &impl serde::Serialize) -> ApiResult<Value> {
    serde_json::to_value(object).map_err(|e| ApiError::Internal(Box::new(e)))
}

/// The fields of a tag object that are its stream's, not the tag's: `metadata.labels` (the
/// stream's labels; OpenShift shows them on the tag and ignores them in a tag write),
/// `metadata.annotations` but the server's own (tagstream keeps a tag's annotations in
/// `tag.annotations`; a tag object's metadata annotations are what the server says about it),
/// and a `lookupPolicy` other than the stream's (it is set on the stream, for all its tags).
fn stream_s_own(applied: &Value, stream: Option<&ImageStream>) -> Vec<FieldError> {
    let forbidden = |field: &str, detail: &str| FieldError {
        field: field.to_owned(),
        kind: CauseType::FieldValueForbidden,
        value: None,
        detail: detail.to_owned(),
    };
    let mut out = Vec::new();
    let meta = |field: &str| applied.pointer(&format!("/metadata/{field}"));
    if meta("labels")
        .and_then(Value::as_object)
        .is_some_and(|l| !l.is_empty())
    {
        out.push(forbidden(
            "metadata.labels",
            "an ImageStreamTag's labels are its stream's: apply them to the ImageStream",
        ));
    }
    let server_s = [ImageStreamTag::LAST_CHECKED, ImageStreamTag::NEXT_TRY];
    if meta("annotations")
        .and_then(Value::as_object)
        .is_some_and(|a| a.keys().any(|k| !server_s.contains(&k.as_str())))
    {
        out.push(forbidden(
            "metadata.annotations",
            "a tag's annotations are applied as tag.annotations",
        ));
    }
    if let Some(sent) = applied.get("lookupPolicy").filter(|p| !p.is_null()) {
        let current = stream
            .map(|s| s.spec.lookup_policy.clone())
            .unwrap_or_default();
        let same = serde_json::from_value(sent.clone()).ok().as_ref() == Some(&current);
        if !same {
            out.push(forbidden(
                "lookupPolicy",
                "the lookup policy is the stream's: apply it to the ImageStream",
            ));
        }
    }
    out
}

/// Refuses a tag whose source is gone (`tag: {}` applied by its sole owner, or an apply
/// naming none): an applied tag must say where its image comes from.
fn require_source(stream: &ImageStream, name: &StreamTagName) -> ApiResult<()> {
    let has_source = stream
        .spec_tag(name.tag.as_str())
        .and_then(|t| t.from.as_ref())
        .is_some_and(|f| !(f.kind.is_empty() && f.name.is_empty()));
    ApiError::refuse_invalid(
        ImageStreamTag::KIND,
        &name.to_string(),
        if has_source {
            Vec::new()
        } else {
            vec![FieldError::required(
                "tag.from",
                "the image the tag points at (kind DockerImage, ImageStreamTag or \
                 ImageStreamImage, and its name)",
            )]
        },
    )
}

/// `from: {}` left in the tag `name` of `document` once its last owner let go of its fields:
/// removed, so that the tag reads as having no source.
fn drop_empty_source(document: &mut Value, name: &StreamTagName) {
    let Some(tags) = document
        .pointer_mut("/spec/tags")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for tag in tags.iter_mut().filter(|t| t["name"] == name.tag.as_str()) {
        if let Some(fields) = tag.as_object_mut()
            && fields
                .get("from")
                .is_some_and(|f| f.as_object().is_some_and(serde_json::Map::is_empty))
        {
            fields.remove("from");
        }
    }
}

/// `body` applied to the tag `ns`/`name` by the caller's field manager (`how`: the request's
/// `fieldValidation`, `fieldManager` and `force`, and whether it is a dry run): 201 and the
/// tag if it was created, 200 and the tag otherwise.
pub(super) async fn apply(
    state: &AppState,
    caller: &Caller,
    (ns, name): (&ProjectName, &StreamTagName),
    (fields, options, dry_run): (&FieldValidation, &ApplyOptions, bool),
    body: &RawBody,
) -> ApiResult<(StatusCode, ImageStreamTag)> {
    let manager = options.manager()?;
    let applied = &body.value;
    require_type(applied, ImageStreamTag::KIND, API_VERSION)?;
    check_identity(applied, &name.to_string(), ns.as_str())?;
    // Judged as sent (Strict refuses unknown fields, Warn names them), then applied without
    // them: a field no schema names is nobody's to own.
    let _: ImageStreamTag = fields.decode_body(ImageStreamTag::KIND, body).await?;
    let mut known = applied.clone();
    super::field_schema::without_unknown(ImageStreamTag::KIND, &mut known);
    let intent: ImageStreamTag = decode(known.clone())?;
    let tag = requested_tag(&intent, name)?;
    let pinned = pinned_version(intent.metadata.resource_version.as_deref(), name)?;
    // The tag as sent (what the applier names) and as the store keeps it (what is compared).
    let uid = applied.pointer("/metadata/uid");
    let as_sent = Arc::new(stream_body(name, &known["tag"], uid));
    let as_kept = Arc::new(stream_body(name, &to_value(&tag)?, uid));
    state.store.get_project(ns).await?;
    let mut warned = false;
    let turn = stream_turn(ns, name).await?;
    let mut tries = Tries::new(&turn);
    while tries.another().await {
        let old = read_stream(state, ns, name).await?;
        let ignored = stream_s_own(applied, old.as_ref());
        match fields.mode {
            Mode::Strict => {
                ApiError::refuse_invalid(ImageStreamTag::KIND, &name.to_string(), ignored)?;
            }
            Mode::Warn if !warned => {
                for e in ignored {
                    fields.warn(format!("{}: ignored: {}", e.field, e.detail));
                }
                warned = true;
            }
            _ => {}
        }
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
        let intent = (as_sent.clone(), as_kept.clone(), options.clone());
        let (old, new, unchanged) = crate::heavy::run({
            let name = name.clone();
            let now = state.clock.now();
            move || apply_to_stream(old, &name, intent, now)
        })
        .await??;
        require_source(&new, name)?;
        if let (Some(pinned), Some(old)) = (pinned, &old)
            && old.metadata.resource_version.as_deref() != Some(pinned.to_string().as_str())
        {
            // A stale resourceVersion is a 409 even when the apply would change nothing.
            return Err(ApiError::Conflict {
                resource: &IMAGESTREAMTAGS,
                name: name.to_string(),
            });
        }
        if let (Some(old), true) = (&old, unchanged) {
            // Nothing changes: nothing is written (no new resourceVersion, event or audit entry).
            let stream = crate::integrated::present::shown(state, old.clone());
            let shown = view(&stream, name)
                .ok_or_else(|| ApiError::Internal("the applied tag is missing".into()))?;
            return Ok((StatusCode::OK, full_view(state, ns, name, shown).await?));
        }
        let how = How { pinned, dry_run };
        match write_stream(state, caller, ns, name, old.as_ref(), new, how).await? {
            Ok(written) => {
                if !dry_run {
                    tracing::info!(namespace = %ns, tag = %name, manager, "applied");
                }
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
    Err(tries.gave_up(&IMAGESTREAMTAGS, &name.to_string()))
}

/// What the stream `old` is once the tag `name` is applied (`intent`: the tag as sent and as
/// kept, and the request's options), with `old` back and whether the apply changes nothing.
/// Both whole streams are walked, turned into trees and compared, so this runs on the blocking
/// pool ([`crate::heavy`]), not on a runtime thread.
fn apply_to_stream(
    old: Option<ImageStream>,
    name: &StreamTagName,
    (as_sent, as_kept, options): (Arc<Value>, Arc<Value>, ApplyOptions),
    now: tagstream_shared::Time,
) -> ApiResult<(Option<ImageStream>, ImageStream, bool)> {
    debug_assert!(
        crate::heavy::on_pool(),
        "whole-stream apply on a runtime thread"
    );
    let sub = subresource(name);
    let target = Target {
        kind: ImageStream::KIND,
        api_version: API_VERSION,
        scope: Scope::StreamTag {
            subresource: &sub,
            tag: name.tag.as_str(),
        },
    };
    let live = old.as_ref().map(to_value).transpose()?;
    let mut document = apply_fields(target, live.as_ref(), &as_sent, &as_kept, &options, now)
        .map_err(|e| about_tag(e, name))?;
    drop_empty_source(&mut document, name);
    let new: ImageStream = decode(document)?;
    let unchanged = match &live {
        Some(live) => to_value(&new)? == *live,
        None => false,
    };
    Ok((old, new, unchanged))
}

/// A conflict of the tag's appliers named as the object addressed: the ImageStreamTag
/// `stream:tag` (as its other 409s are), not the stream it is kept in.
fn about_tag(e: ApiError, name: &StreamTagName) -> ApiError {
    match e {
        ApiError::ApplyConflict {
            message, causes, ..
        } => ApiError::ApplyConflict {
            kind: ImageStreamTag::KIND.to_owned(),
            message,
            causes,
            about: Some(Box::new((&IMAGESTREAMTAGS, name.to_string()))),
        },
        other => other,
    }
}
