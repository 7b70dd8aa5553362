//! Tags that take their image from another project: who may write one, decided in one place
//! for every writer of spec tags (streams, stream tags, template instances, samples), and the
//! record of that decision that the import worker reads before it copies an image across
//! projects.
//!
//! Why a record on the stream rather than a check by the worker: the worker acts for nobody, so
//! at copy time it cannot know whose access to weigh. The writer is known when the tag is
//! written, so the check runs then, and what it allowed is kept in the stream's
//! [`GRANTS_ANNOTATION`]: per tag, the exact source and who was allowed to name it. Only the
//! server writes that annotation: [`crate::service`] drops it from a created stream and puts the
//! stored one back on an update, and [`authorize_sources`] recomputes it on every write. The
//! worker follows a cross-project link only when the grant names exactly the tag's current
//! source, so a link that reached the store any other way (a writer added later that forgets
//! the check, or a stream written before grants existed) is refused with a clear condition, not
//! copied.

use crate::store::Objects as _;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tagstream_shared::access::{Resource, Verb};
use tagstream_shared::{ImageStream, ObjectReference, TagReference};

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;

/// The stream annotation holding, per tag, the cross-project source its writer was allowed to
/// read (JSON: tag name to [`SourceGrant`]).
pub const GRANTS_ANNOTATION: &str = "tagstream.io/source-grants";

/// What the worker records on a tag whose cross-project source was never authorized.
pub const NOT_AUTHORIZED: &str = "the tag follows a stream of another project that nobody \
     authorized it to read: write the tag again as a user who may read that project";

/// Who writes the tags.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    /// A request's caller: their access to the source project decides.
    Caller(&'a Caller),
    /// The server itself (the samples): it never links across projects.
    Server,
}

impl Actor<'_> {
    fn name(&self) -> &str {
        match self {
            Self::Caller(c) => c.name(),
            Self::Server => crate::audit::SAMPLES,
        }
    }
}

/// One authorized cross-project source, as recorded on the stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceGrant {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// Who was allowed to name it (for the record; their access was checked at that moment).
    pub by: String,
    /// Which project of that name: its resourceVersion (the store revision that created it).
    /// A project deleted and created again by someone else is another project, and the grant
    /// does not carry over to it.
    #[serde(default)]
    pub project: String,
}

impl SourceGrant {
    fn covers(&self, from: &ObjectReference, source_ns: &str, project: Option<&str>) -> bool {
        self.kind == from.kind
            && self.namespace == source_ns
            && self.name == from.name
            && project.is_some_and(|p| !p.is_empty() && p == self.project)
    }
}

/// The identity of project `name` as grants record it (its creation revision), if it exists.
pub async fn project_identity(state: &AppState, name: &str) -> Result<Option<String>, ApiError> {
    let Ok(name) = name.parse::<tagstream_shared::ProjectName>() else {
        return Ok(None);
    };
    match state.store.get_project(&name).await {
        Ok(p) => Ok(p.metadata.resource_version),
        Err(crate::store::StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The project another than `ns` that `tag` takes its image from, if any.
fn foreign_source<'a>(ns: &str, tag: &'a TagReference) -> Option<(&'a ObjectReference, &'a str)> {
    let from = tag.from.as_ref()?;
    let source = from
        .namespace
        .as_deref()
        .filter(|n| !n.is_empty() && *n != ns)?;
    Some((from, source))
}

/// The grants recorded on `stream` (none when the annotation is missing or unreadable).
pub fn grants(stream: &ImageStream) -> BTreeMap<String, SourceGrant> {
    stream
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(GRANTS_ANNOTATION))
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default()
}

fn set_grants(stream: &mut ImageStream, grants: &BTreeMap<String, SourceGrant>) {
    let annotations = stream
        .metadata
        .annotations
        .get_or_insert_with(BTreeMap::new);
    match serde_json::to_string(grants) {
        Ok(text) if !grants.is_empty() => {
            annotations.insert(GRANTS_ANNOTATION.into(), text);
        }
        _ => {
            annotations.remove(GRANTS_ANNOTATION);
        }
    }
    if annotations.is_empty() {
        stream.metadata.annotations = None;
    }
}

/// Makes the grants of `stream` those of `stored` (none for a new stream): a client never
/// writes them.
pub fn keep_server_grants(stream: &mut ImageStream, stored: Option<&ImageStream>) {
    let kept = stored.map(grants).unwrap_or_default();
    set_grants(stream, &kept);
}

/// Whether the worker may copy into `tag` of `stream` (in project `ns`) from its source: always
/// within the project; across projects only with a grant for exactly this source, in the very
/// project the grant was made for (`project_of` answers a project's current identity, see
/// [`project_identity`]).
pub fn link_authorized(
    stream: &ImageStream,
    ns: &str,
    tag: &TagReference,
    project_of: impl Fn(&str) -> Option<String>,
) -> bool {
    match foreign_source(ns, tag) {
        None => true,
        Some((from, source)) => grants(stream)
            .get(&tag.name)
            .is_some_and(|g| g.covers(from, source, project_of(source).as_deref())),
    }
}

/// Checks every spec tag of `stream` (about to be stored in project `ns`, replacing `before`)
/// that takes its image from another project, and records what was allowed on the stream.
///
/// A tag whose source is unchanged from `before` and was authorized then keeps that grant
/// (someone who could read the source wrote it). Any other cross-project tag needs `actor` to
/// read image streams in the source project now; without that the write is refused (403),
/// before anything is stored or copied.
pub async fn authorize_sources(
    state: &AppState,
    actor: Actor<'_>,
    ns: &str,
    stream: &mut ImageStream,
    before: Option<&ImageStream>,
) -> Result<(), ApiError> {
    let stored = before.map(grants).unwrap_or_default();
    let mut granted = BTreeMap::new();
    for tag in &stream.spec.tags {
        let Some((from, source)) = foreign_source(ns, tag) else {
            continue;
        };
        let project = project_identity(state, source).await?;
        let unchanged = before
            .is_some_and(|b| b.spec_tag(&tag.name).and_then(|t| t.from.as_ref()) == Some(from));
        if unchanged
            && let Some(grant) = stored
                .get(&tag.name)
                .filter(|g| g.covers(from, source, project.as_deref()))
        {
            granted.insert(tag.name.clone(), grant.clone());
            continue;
        }
        let allowed = match actor {
            Actor::Caller(caller) => crate::access::may_read_source(state, caller, source).await?,
            Actor::Server => false,
        };
        if !allowed {
            return Err(ApiError::Denied {
                user: actor.name().to_owned(),
                verb: Verb::Get,
                resource: Resource::ImageStreams,
                namespace: Some(source.to_owned()),
            });
        }
        granted.insert(
            tag.name.clone(),
            SourceGrant {
                kind: from.kind.clone(),
                namespace: source.to_owned(),
                name: from.name.clone(),
                by: actor.name().to_owned(),
                project: project.unwrap_or_default(),
            },
        );
    }
    set_grants(stream, &granted);
    Ok(())
}

/// Checks the images a status write names: every digest in `stream`'s status must already be in the
/// project's own history (this stream's or another stream's of `ns`), unless a cluster admin
/// writes it (restoring a backup). Image metadata is stored once per digest for every project,
/// so naming another project's digest in one's own history would read that project's image
/// (its configuration, environment included) through one's own stream tag.
pub async fn authorize_status_images(
    state: &AppState,
    caller: &Caller,
    ns: &tagstream_shared::ProjectName,
    stream: &ImageStream,
) -> Result<(), ApiError> {
    let status = &stream.status;
    if caller
        .principal()
        .is_some_and(|p| p.cluster_admin && p.scope.is_none())
    {
        return Ok(());
    }
    let project_streams = state.store.list::<ImageStream>(Some(ns)).await?.items;
    let known: std::collections::HashSet<&str> = project_streams
        .iter()
        .flat_map(|s| s.status.tags.iter())
        .flat_map(|t| t.items.iter())
        .map(|item| item.image.as_str())
        .collect();
    let errors: Vec<tagstream_shared::FieldError> = status
        .tags
        .iter()
        .enumerate()
        .flat_map(|(i, t)| {
            t.items
                .iter()
                .enumerate()
                .map(move |(j, item)| (i, j, item))
        })
        .filter(|(_, _, item)| !known.contains(item.image.as_str()))
        .map(|(i, j, item)| {
            tagstream_shared::FieldError::invalid(
                format!("status.tags[{i}].items[{j}].image"),
                &item.image,
                format!(
                    "not an image of project {ns}: a tag's history takes images from imports \
                     and tags, not from a status write"
                ),
            )
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Invalid {
            kind: ImageStream::KIND,
            name: stream.metadata.name().to_owned(),
            errors,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(name: &str, ns: Option<&str>, from: &str) -> TagReference {
        TagReference {
            name: name.into(),
            from: Some(ObjectReference {
                kind: "ImageStreamTag".into(),
                namespace: ns.map(str::to_owned),
                name: from.into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// Whether the worker may follow tag `i` of `stream` in project `mine`.
    fn follows(
        stream: &ImageStream,
        i: usize,
        project_of: impl Fn(&str) -> Option<String>,
    ) -> bool {
        link_authorized(stream, "mine", &stream.spec.tags[i], project_of)
    }

    #[test]
    fn only_a_grant_for_the_exact_source_lets_the_worker_follow() {
        let mut stream = ImageStream::new("app");
        stream.spec.tags = vec![
            tag("own", None, "base:1"),
            tag("same", Some("mine"), "base:1"),
            tag("other", Some("victim"), "app:latest"),
        ];
        let victim = |ns: &str| (ns == "victim").then(|| "7".to_owned());
        for (i, follows_it) in [(0, true), (1, true), (2, false)] {
            assert_eq!(follows(&stream, i, victim), follows_it, "tag {i}");
        }
        let grant = SourceGrant {
            kind: "ImageStreamTag".into(),
            namespace: "victim".into(),
            name: "app:latest".into(),
            by: "bob".into(),
            project: "7".into(),
        };
        set_grants(&mut stream, &BTreeMap::from([("other".into(), grant)]));
        assert!(follows(&stream, 2, victim));
        // The project of that name deleted, or deleted and created again: another project.
        assert!(!follows(&stream, 2, |_| None));
        let recreated = |_: &str| Some("42".to_owned());
        assert!(!follows(&stream, 2, recreated));
        stream.spec.tags[2] = tag("other", Some("victim"), "app:secret");
        assert!(!follows(&stream, 2, victim));
    }

    #[test]
    fn a_client_cannot_write_grants() {
        let mut forged = ImageStream::new("app");
        forged.metadata.annotations = Some(BTreeMap::from([(
            GRANTS_ANNOTATION.to_owned(),
            r#"{"x":{"kind":"ImageStreamTag","namespace":"victim","name":"a:b","by":"admin"}}"#
                .to_owned(),
        )]));
        keep_server_grants(&mut forged, None);
        assert!(grants(&forged).is_empty());
        assert!(forged.metadata.annotations.is_none());
    }
}
