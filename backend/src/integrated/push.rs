//! A tag pushed to the integrated registry becomes its stream's new history item: the stream is
//! created if needed, the image's metadata is read from the registry, and the tag moves through
//! the same stream write as an import (so its events and webhook deliveries are recorded in that
//! write's transaction). Each event id is applied once, however often it is delivered.
//!
//! Every manifest push is recorded first (repository and digest, `store::purges`), with or
//! without a tag and even while the name's purge is pending: the registry keeps a manifest
//! whose tag moved on, or that never had one, and a purge must delete those too.

use crate::audit::Actor;
use crate::services::streams::store_stream;
use tagstream_shared::{ImageStream, ProjectName, StreamName, TagName, Time};

use super::Integrated;
use super::events::{Deletion, Push};
use super::input::{Actions, Scope};
use super::reader::ReadError;
use super::refused;
use crate::app::AppState;
use crate::import::status::record_image;
use crate::store::{Objects as _, StoreError};

/// The events source of the integrated registry's notifications.
pub const SOURCE: &str = "registry";

/// The account a push is recorded as when the registry names no pusher.
pub const REGISTRY_ACCOUNT: &str = "system:serviceaccount:tagstream:registry";

/// What became of one push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The tag now points at the pushed image (or already did).
    Moved,
    /// The event was applied before.
    Duplicate,
    /// Nothing to move: the repository names no stream of an existing project, the push named
    /// no tag, or the name's purge is pending (the push was recorded for it).
    Ignored,
    /// Not moved: by the time the notification came, its pusher may no longer push there, or
    /// the project is younger than the push (the name was deleted and taken again since, maybe
    /// by another team), or the notification does not say when the push was. The push stays
    /// recorded, and its manifest is deleted from the registry a few seconds later (unless the
    /// stream holds that image by then), so nobody pulls by tag what tagstream refused. (A stream
    /// younger than the push is no reason: the first of a backlog of notifications creates it,
    /// and a pusher who may push to the project now may push to any stream of it.)
    Refused,
    /// A blob pushed or mounted: recorded for the name's purge, nothing else.
    Recorded,
    /// The manifest is no longer in the registry (deleted since the push): nothing to move,
    /// and delivering the event again would not change that.
    Gone,
    /// A delete: what was deleted is vouched for no more.
    Withdrawn,
}

/// How much older than the push a project may be stamped and still be the one it
/// was pushed to: the registry's clock and tagstream's may differ a little, and timestamps are
/// whole seconds here.
const CLOCK_MARGIN_SECONDS: i64 = 2;

/// Why a push was not applied.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The pusher's rights could not be read.
    #[error("cannot check the pusher's access: {0}")]
    Auth(String),
}

impl PushError {
    /// Whether delivering the event again may succeed (the registry retries a 5xx).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Store(_) => true,
            Self::Read(e) => e.is_transient(),
            Self::Auth(_) => true,
        }
    }
}

/// Applies `push` acting as its pusher (or the registry's account).
pub async fn apply(
    state: &AppState,
    integrated: &Integrated,
    push: &Push,
) -> Result<Applied, PushError> {
    let actor = Actor::named(
        push.actor
            .clone()
            .unwrap_or_else(|| REGISTRY_ACCOUNT.to_owned()),
    );
    // Only `project/stream` names are granted to anyone: no other repository holds pushes.
    let Some((ns, name)) = &push.target else {
        return Ok(Applied::Ignored);
    };
    let now = state.clock.now();
    if !state
        .store
        .claim_event(SOURCE, &push.id, now.timestamp())
        .await?
    {
        return Ok(Applied::Duplicate);
    }
    let result = match state
        .store
        .record_push(&push.repository, &push.digest, now.timestamp())
        .await
    {
        // tagstream's own push (a tag a refused push overwrote, put back): nothing to move.
        Ok(()) if push.actor.as_deref() == Some(crate::audit::SERVER) => Ok(Applied::Ignored),
        Ok(()) => match &push.tag {
            Some(tag) if !push.blob => move_tag(state, &actor, integrated, push, tag, now).await,
            _ => untagged(state, integrated, push).await,
        },
        Err(e) => Err(e.into()),
    };
    if result.is_err() {
        // Not applied: a retry of this event must be able to.
        if let Err(e) = state.store.release_event(SOURCE, &push.id).await {
            tracing::warn!(error = %e, id = %push.id, "cannot release a registry event");
        }
    }
    let tag = push.tag.as_ref().map_or("", TagName::as_str);
    match &result {
        Ok(Applied::Moved) => {
            tracing::info!(%ns, stream = %name, tag, digest = %push.digest, "pushed tag moved");
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(%ns, stream = %name, tag, error = %e, "cannot apply a push");
        }
    }
    result
}

/// Applies a delete of a manifest or a blob link: a push of that digest that passed the pusher's
/// check no longer vouches for it, so that someone who may no longer push cannot bring back what
/// its owner deleted (a refused push of it is taken out, see `refused`). Whoever deleted it, the
/// registry no longer has it: nothing rightful is lost, and a rightful push of it vouches again.
pub async fn withdraw(state: &AppState, deletion: &Deletion) -> Result<Applied, PushError> {
    // Only `project/stream` names are pushed to (tagstream's holding repository is not one).
    if deletion.repository.matches('/').count() != 1 {
        return Ok(Applied::Ignored);
    }
    // A refused push's take-out deleting what it holds (`held`) withdraws nothing: a rightful
    // push may have been found to use it, and put it back, before this notification came. The
    // notification tells that every push before the delete was told of: the hold may go.
    if deletion.actor.as_deref() == Some(crate::audit::SERVER)
        && !state
            .store
            .held(&deletion.repository, &deletion.digest)
            .await?
            .is_empty()
    {
        // A hold is recorded just before its delete: one recorded after this delete was made
        // (a newer take-out of the same digest) is not told of by it (clocks may differ by
        // [`CLOCK_MARGIN_SECONDS`]).
        let now = state.clock.now().timestamp();
        let made = deletion
            .at
            .as_ref()
            .map_or(now, |at| at.timestamp() + CLOCK_MARGIN_SECONDS);
        state
            .store
            .delete_heard(&deletion.repository, &deletion.digest, made, now)
            .await?;
        return Ok(Applied::Withdrawn);
    }
    state
        .store
        .withdraw_push(&deletion.repository, &deletion.digest)
        .await?;
    tracing::info!(repository = %deletion.repository, digest = %deletion.digest, "deleted from the registry: vouched for no more");
    Ok(Applied::Withdrawn)
}

/// Marks `push` as made by someone who may push there, and for a manifest the blobs it uses (for
/// a list, the manifests it names): a refused push takes out none of them (see `refused`),
/// however many pushes came since, and what a take-out deleted already is put back (`held`). A layer (or a platform's image) the pusher's client did not
/// upload because the registry had it (someone else's, maybe refused) is theirs as much as one
/// it did.
async fn vouch(state: &AppState, integrated: &Integrated, push: &Push) -> Result<(), PushError> {
    state
        .store
        .vouch_push(&push.repository, &push.digest)
        .await?;
    if push.blob {
        return Ok(());
    }
    integrated.heard_rightful(&push.repository);
    let token = integrated.own_token("repository", &push.repository, &["pull"], 60)?;
    integrated
        .vouch_and_restore(&push.repository, &push.digest, push.tag.as_ref(), &token)
        .await?;
    Ok(())
}

/// A blob, or a manifest pushed by digest alone: recorded, and nothing to move; but taken out
/// of the registry again if its pusher may not push there now (see `refused`).
async fn untagged(
    state: &AppState,
    integrated: &Integrated,
    push: &Push,
) -> Result<Applied, PushError> {
    let quiet = if push.blob {
        Applied::Recorded
    } else {
        Applied::Ignored
    };
    let Some((ns, name)) = &push.target else {
        return Ok(quiet);
    };
    // The name's purge deletes it (it was recorded).
    if state.store.purge_pending(&push.repository).await? {
        return Ok(quiet);
    }
    let Some(why) = refusal(state, push, ns, name).await? else {
        vouch(state, integrated, push).await?;
        return Ok(quiet);
    };
    tracing::warn!(%ns, stream = %name, digest = %push.digest, blob = push.blob, pusher = ?push.actor, why, "a push by digest was refused");
    refused::later(state, integrated, push).await?;
    Ok(Applied::Refused)
}

async fn move_tag(
    state: &AppState,
    actor: &Actor,
    integrated: &Integrated,
    push: &Push,
    tag: &TagName,
    now: Time,
) -> Result<Applied, PushError> {
    let Some((ns, name)) = &push.target else {
        return Ok(Applied::Ignored);
    };
    // A late notification of a push to a deleted stream (the registry retries) must not bring
    // the stream back, nor hand its image to whoever owns the name now.
    if state.store.purge_pending(&push.repository).await? {
        return Ok(Applied::Ignored);
    }
    if let Some(why) = refusal(state, push, ns, name).await? {
        tracing::warn!(%ns, stream = %name, tag = %tag, digest = %push.digest, pusher = ?push.actor, why, "a pushed tag was not moved");
        refused::later(state, integrated, push).await?;
        return Ok(Applied::Refused);
    }
    vouch(state, integrated, push).await?;
    // The image first: a manifest deleted since the push leaves no stream behind.
    let spec = integrated.pull_spec(&push.repository, &push.digest);
    match integrated
        .read_image(&push.repository, &push.digest, &spec, now)
        .await
    {
        Ok(_) => {}
        Err(ReadError::Status { status: 404, .. }) => {
            tracing::warn!(repository = %push.repository, digest = %push.digest, "a pushed manifest is no longer in the registry: nothing moved");
            return Ok(Applied::Gone);
        }
        Err(e) => return Err(e.into()),
    }
    match state
        .store
        .get::<ImageStream>(Some(ns), name.as_ref())
        .await
    {
        Ok(_) => {}
        Err(StoreError::NotFound { .. }) => {
            let stream = crate::service::stream_for_create(
                ImageStream::new(name.as_str()),
                ns.as_str(),
                now,
            );
            match store_stream(state, actor, (ns, name), None, stream).await {
                Ok(_) | Err(StoreError::AlreadyExists { .. }) => {}
                Err(StoreError::NoProject { .. }) => return Ok(Applied::Ignored),
                Err(e) => return Err(e.into()),
            }
        }
        Err(e) => return Err(e.into()),
    }
    let limit = state.config.import.history_limit;
    let tag = tag.as_str();
    let moved = state
        .importer
        .update_stream(actor, ns, name, |s| {
            let generation = s.metadata.generation.unwrap_or(1);
            record_image(s, tag, &push.digest, &spec, generation, now, limit)
        })
        .await?;
    Ok(if moved.is_some() {
        Applied::Moved
    } else {
        Applied::Ignored
    })
}

/// Why `push` may not move a tag of `ns/name` now, if it may not: its pusher (the registry
/// token's subject, whose rights are read again now: a role removed since the token was issued
/// counts) may not push there, the notification has no timestamp, or the project is younger
/// than the push.
async fn refusal(
    state: &AppState,
    push: &Push,
    ns: &ProjectName,
    name: &StreamName,
) -> Result<Option<&'static str>, PushError> {
    let Some(pusher) = &push.actor else {
        return Ok(Some("the registry named no pusher"));
    };
    if push.at.is_none() {
        return Ok(Some("the notification does not say when the push was"));
    }
    let principal = crate::auth::principal(state, pusher, Vec::new())
        .await
        .map_err(|e| PushError::Auth(e.to_string()))?;
    let scope = Scope::Stream {
        project: ns.clone(),
        stream: name.clone(),
        actions: Actions {
            pull: false,
            push: true,
            delete: false,
        },
    };
    let granted = super::token::grant(state, &principal, &[scope])
        .await
        .map_err(|e| PushError::Auth(e.to_string()))?;
    if !granted.iter().any(|a| a.actions.contains(&"push")) {
        return Ok(Some("its pusher may not push there now"));
    }
    match state.store.get_project(ns).await {
        Ok(project) if younger_than_push(project.metadata.creation_timestamp.as_ref(), push) => {
            Ok(Some("the project is younger than the push"))
        }
        Ok(_) | Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Whether a project created at `created` came after `push` (beyond the clocks' margin): then
/// the push was made to an earlier holder of its name.
fn younger_than_push(created: Option<&Time>, push: &Push) -> bool {
    match (created, &push.at) {
        (Some(created), Some(at)) => created.timestamp() > at.timestamp() + CLOCK_MARGIN_SECONDS,
        _ => false,
    }
}
