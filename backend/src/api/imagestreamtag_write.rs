//! Writing one tag of a stream, for every way `imagestreamtags` are written (POST, PUT, PATCH
//! and server-side apply): the stream with the tag set is validated (errors named as the tag
//! object names its fields), its sources authorized, a tag following another stream pointed at
//! its image at once, and the stream created or replaced. A write without
//! `metadata.resourceVersion` is re-applied after losing a race; with one, a stale version is
//! a 409.

use tagstream_shared::Time;
use tagstream_shared::validation::validate_image_stream;
use tagstream_shared::{
    FieldError, ImageStream, ImageStreamTag, ProjectName, StreamTagName, TagReference,
};

use super::apply::tag_scope::reset_tag;
use super::apply::updates::resets;
use super::imagestream_writes::store_stream;
use super::imagestreamtags::{full_view, view};
use super::object_turns::{Object, Turn};
use super::retry::{Tries, turn};
use super::{IMAGESTREAMS, IMAGESTREAMTAGS};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::import::sources::{source_event, source_namespace, source_stream};
use crate::import::status::record_image;
use crate::service;
use crate::source_access::{Actor, authorize_sources, link_authorized};
use crate::store::{Objects as _, StoreError};

/// How a tag's stream is written: at which `metadata.resourceVersion` (`None`: the one read),
/// and whether for real or as a dry run (`dryRun=All`: validated, authorized and answered as
/// it would be stored, and nothing stored).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct How {
    pub pinned: Option<u64>,
    pub dry_run: bool,
}

/// How a tag is written: refused when it exists (`create_only`: POST), as whose field manager,
/// whether as a dry run, and in which turn on the stream (`None`: the write waits for its own;
/// a PATCH, whose own tries read the tag, already holds one).
#[derive(Clone, Copy)]
pub(super) struct TagWrite<'a> {
    pub create_only: bool,
    pub manager: &'a str,
    pub dry_run: bool,
    pub turn: Option<&'a Turn>,
}

impl<'a> TagWrite<'a> {
    /// A write (a POST when `create_only`, else a PUT) that waits for its own turn.
    pub(super) fn alone(create_only: bool, manager: &'a str, dry_run: bool) -> Self {
        Self {
            create_only,
            manager,
            dry_run,
            turn: None,
        }
    }
}

/// The turn of a write of the tag `name` on its stream: writes of one stream's tags and of the
/// stream itself take turns alike ([`super::object_turns`]).
pub(super) async fn stream_turn(ns: &ProjectName, name: &StreamTagName) -> ApiResult<Turn> {
    turn(Object::new(IMAGESTREAMS.kind, Some(ns), &name.stream)).await
}

/// The spec tag a request asks for, named as the URL names it.
pub(super) fn requested_tag(
    body: &ImageStreamTag,
    name: &StreamTagName,
) -> ApiResult<TagReference> {
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

/// The `metadata.resourceVersion` a write is pinned to, if it names one.
pub(super) fn pinned_version(
    resource_version: Option<&str>,
    name: &StreamTagName,
) -> ApiResult<Option<u64>> {
    match resource_version {
        None | Some("") => Ok(None),
        Some(rv) => rv.parse().map(Some).map_err(|_| ApiError::Invalid {
            kind: ImageStreamTag::KIND,
            name: name.to_string(),
            errors: vec![FieldError::invalid(
                "metadata.resourceVersion",
                rv,
                "must be a number",
            )],
        }),
    }
}

/// The stream a tag belongs to, if it exists.
pub(super) async fn read_stream(
    state: &AppState,
    ns: &ProjectName,
    name: &StreamTagName,
) -> ApiResult<Option<ImageStream>> {
    match state
        .store
        .get::<ImageStream>(Some(ns), name.stream.as_ref())
        .await
    {
        Ok(s) => Ok(Some(s)),
        Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(ApiError::from(e)),
    }
}

/// Whether a store's refusal is a lost race (read again and retry, when not pinned).
pub(super) fn raced(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::Conflict { .. } | StoreError::AlreadyExists { .. }
    )
}

/// Sets one spec tag, creating the stream when it does not exist, as `write` says. The fields
/// it sets or changes are recorded as the manager's in the stream's `managedFields` (operation
/// `Update`), so that a later apply naming them conflicts with it, as after any write to the
/// stream; a body carrying the reset (`managedFields: [{}]`) first clears the tag's managers.
/// Answers whether the tag is new, and the tag.
pub(super) async fn write_tag(
    state: &AppState,
    caller: &Caller,
    (ns, name): (&ProjectName, &StreamTagName),
    body: ImageStreamTag,
    write: TagWrite<'_>,
) -> ApiResult<(bool, ImageStreamTag)> {
    let TagWrite {
        create_only,
        manager,
        dry_run,
        turn,
    } = write;
    let tag = requested_tag(&body, name)?;
    let pinned = pinned_version(body.metadata.resource_version.as_deref(), name)?;
    let how = How { pinned, dry_run };
    // `managedFields: [{}]`: the tag's managers are cleared before the write is recorded.
    let reset = resets(body.metadata.extra.get("managedFields"));
    state.store.get_project(ns).await?;
    let own;
    let turn = match turn {
        Some(held) => held,
        None => {
            own = stream_turn(ns, name).await?;
            &own
        }
    };
    let mut tries = Tries::new(turn);
    while tries.another().await {
        let mut old = read_stream(state, ns, name).await?;
        if reset && let Some(old) = &mut old {
            reset_tag(old, name);
        }
        let (created, new) = match &old {
            None => {
                let mut stream = ImageStream::new(name.stream.as_str());
                stream.spec.tags.push(tag.clone());
                (true, stream)
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
                (created, new)
            }
        };
        let (old, new) = record(old, new, manager, state.clock.now()).await?;
        match write_stream(state, caller, ns, name, old.as_ref(), new, how).await? {
            Ok(view) => return Ok((created, view)),
            Err(e) if pinned.is_none() && raced(&e) => continue,
            Err(e) => return Err(ApiError::from(e.about(&IMAGESTREAMTAGS, name.to_string()))),
        }
    }
    Err(tries.gave_up(&IMAGESTREAMTAGS, &name.to_string()))
}

/// `new` with the fields `manager` set or changed over `old` recorded as its
/// (`apply::updates::record`), and `old` back; for tag writes and stream writes
/// (`imagestream_writes`) alike. On the blocking pool ([`crate::heavy`]): it walks both whole
/// streams, which for a stream of thousands of tags held a runtime thread for seconds, and
/// every other request with it.
pub(super) async fn record(
    old: Option<ImageStream>,
    mut new: ImageStream,
    manager: &str,
    now: Time,
) -> ApiResult<(Option<ImageStream>, ImageStream)> {
    let manager = manager.to_owned();
    crate::heavy::run(move || {
        debug_assert!(
            crate::heavy::on_pool(),
            "whole-stream bookkeeping on a runtime thread"
        );
        super::apply::updates::record(old.as_ref(), &mut new, &manager, now)?;
        Ok((old, new))
    })
    .await?
}

/// Validates and stores `new`, the stream with the tag `name` set, over `old` (`None`: creates
/// the stream) at `how.pinned` or else `old`'s version, as the caller. Answers the tag as a GET
/// shows it, or the store's refusal (the caller decides whether it was a race to retry);
/// invalid or unauthorized writes are the outer error. A dry run answers the tag as it would
/// be stored (a stale pinned version still a 409) and stores nothing.
pub(super) async fn write_stream(
    state: &AppState,
    caller: &Caller,
    ns: &ProjectName,
    name: &StreamTagName,
    old: Option<&ImageStream>,
    new: ImageStream,
    how: How,
) -> ApiResult<Result<ImageStreamTag, StoreError>> {
    let How { pinned, dry_run } = how;
    invalid(name, tag_errors(&new, ns, name.tag.as_str()))?;
    let tag = new
        .spec_tag(name.tag.as_str())
        .cloned()
        .ok_or_else(|| ApiError::Internal("the tag to write is missing".into()))?;
    let written = match old {
        None => {
            let mut stream = service::stream_for_create(new, ns.as_str(), state.clock.now());
            authorize_sources(state, Actor::Caller(caller), ns.as_str(), &mut stream, None).await?;
            apply_source(state, ns, &mut stream, &tag).await?;
            if dry_run {
                return Ok(Ok(dry_view(state, ns, name, stream).await?));
            }
            store_stream(state, &caller.into(), (ns, &name.stream), None, stream).await
        }
        Some(old) => {
            let mut new = service::stream_for_update(new, old);
            authorize_sources(
                state,
                Actor::Caller(caller),
                ns.as_str(),
                &mut new,
                Some(old),
            )
            .await?;
            apply_source(state, ns, &mut new, &tag).await?;
            let current = old.metadata.revision();
            let expected = pinned.unwrap_or(current);
            if dry_run {
                if expected != current {
                    return Err(ApiError::Conflict {
                        resource: &IMAGESTREAMTAGS,
                        name: name.to_string(),
                    });
                }
                new.metadata.resource_version = old.metadata.resource_version.clone();
                return Ok(Ok(dry_view(state, ns, name, new).await?));
            }
            let at = (ns, &name.stream);
            store_stream(state, &caller.into(), at, Some(expected), new).await
        }
    };
    let stream = match written {
        Ok(stream) => stream,
        Err(e) => return Ok(Err(e)),
    };
    state.importer.wake();
    let stream = crate::integrated::present::shown(state, stream);
    tracing::info!(namespace = %ns, tag = %name, "image stream tag set");
    let view = view(&stream, name)
        .ok_or_else(|| ApiError::Internal("the tag just written is missing".into()))?;
    Ok(Ok(full_view(state, ns, name, view).await?))
}

/// The tag of `stream` (what a dry run would have stored) as the write's answer shows it.
async fn dry_view(
    state: &AppState,
    ns: &ProjectName,
    name: &StreamTagName,
    stream: ImageStream,
) -> ApiResult<ImageStreamTag> {
    let stream = crate::integrated::present::shown(state, stream);
    let view = view(&stream, name)
        .ok_or_else(|| ApiError::Internal("the tag to write is missing".into()))?;
    full_view(state, ns, name, view).await
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
