//! Distribution's notification envelopes (`application/vnd.docker.distribution.events.v1+json`),
//! read within bounds and reduced to what tagstream acts on: pushes of a manifest, with the tag
//! they moved if any (a manifest pushed by digest alone is still recorded, so that a purge
//! deletes it), and blobs pushed or mounted into a repository (recorded only: a blob link the
//! purge did not know of would let the next owner of the name fetch it by digest), and deletes of
//! a manifest or a blob link (what was deleted is vouched for no more). Pulls are ignored.

use serde::Deserialize;
use tagstream_shared::image::media_type;
use tagstream_shared::{ProjectName, StreamName, TagName, Time};

use crate::error::ApiError;

/// The largest envelope read: distribution sends a few events per request, each under 2 KiB.
pub const MAX_ENVELOPE_BYTES: usize = 1 << 20;
/// At most this many events in one envelope.
pub const MAX_EVENTS: usize = 1000;

#[derive(Debug, Deserialize)]
struct Envelope {
    events: Vec<RawEvent>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawEvent {
    id: String,
    timestamp: String,
    action: String,
    target: RawTarget,
    actor: RawActor,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct RawTarget {
    media_type: String,
    digest: String,
    repository: String,
    tag: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawActor {
    name: String,
}

/// A push of a manifest to `repository` (and of `tag` to it), checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    /// The registry's event id: a delivery seen before is not applied again.
    pub id: String,
    /// `project/stream` as pushed, when it names one (other repositories are left alone).
    pub repository: String,
    pub target: Option<(ProjectName, StreamName)>,
    /// The tag the push moved; none for a push by digest alone (or of a tag tagstream cannot
    /// name), which moves nothing but is recorded all the same.
    pub tag: Option<TagName>,
    pub digest: String,
    /// Who pushed (the token's subject), when the registry says.
    pub actor: Option<String>,
    /// A blob pushed or mounted, not a manifest: recorded for the purge, never a tag.
    pub blob: bool,
    /// When the registry took the push, when it says: a notification can arrive long after
    /// (the registry retries), by when the name may belong to someone else.
    pub at: Option<Time>,
}

/// What the registry told of: a push, or a delete of a manifest or a blob link (distribution's
/// delete events name the digest alone, not which of the two).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Push(Push),
    Delete(Deletion),
}

/// A delete of `digest` in `repository` (`project/stream`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deletion {
    pub repository: String,
    pub digest: String,
    /// Who deleted it, as the registry says.
    pub actor: Option<String>,
    /// When, by the registry's clock.
    pub at: Option<Time>,
}

/// Whether `d` is `sha256:` and 64 lower-case hex digits.
pub fn is_digest(d: &str) -> bool {
    d.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// The manifest and blob pushes and the deletes in an envelope, in order, and the registry's time
/// of its newest event of any kind (pulls too: how far the registry's queue has come). A body that
/// is no envelope is a 400; events that are none of these (or name no valid digest) are skipped.
pub fn events(body: &[u8]) -> Result<(Vec<Event>, Option<Time>), ApiError> {
    let envelope: Envelope = serde_json::from_slice(body).map_err(|e| {
        ApiError::BadRequest(format!(
            "the body is not a distribution notification envelope: {e}"
        ))
    })?;
    if envelope.events.len() > MAX_EVENTS {
        return Err(ApiError::BadRequest(format!(
            "an envelope may hold at most {MAX_EVENTS} events"
        )));
    }
    let newest = envelope
        .events
        .iter()
        .filter_map(|e| e.timestamp.parse::<Time>().ok())
        .max();
    let events = envelope
        .events
        .into_iter()
        .filter_map(|e| {
            let t = &e.target;
            let is_manifest = media_type::ALL.contains(&t.media_type.as_str());
            if !is_digest(&t.digest) || t.repository.len() > 255 {
                return None;
            }
            let actor = Some(e.actor.name.clone())
                .filter(|n| !n.is_empty() && n.len() <= 256 && !n.chars().any(char::is_control));
            let blob = match (e.action.as_str(), is_manifest) {
                ("push", true) => false,
                ("push" | "mount", false) => true,
                ("delete", _) => {
                    return Some(Event::Delete(Deletion {
                        repository: t.repository.clone(),
                        digest: t.digest.clone(),
                        actor,
                        at: e.timestamp.parse().ok(),
                    }));
                }
                _ => return None,
            };
            if e.id.is_empty() || e.id.len() > 256 {
                return None;
            }
            let tag: Option<TagName> = if blob { None } else { t.tag.parse().ok() };
            let target = t.repository.split_once('/').and_then(|(p, s)| {
                Some((
                    p.parse::<ProjectName>().ok()?,
                    s.parse::<StreamName>().ok()?,
                ))
            });
            Some(Event::Push(Push {
                id: e.id,
                repository: t.repository.clone(),
                target,
                tag,
                digest: t.digest.clone(),
                actor,
                blob,
                at: e.timestamp.parse().ok(),
            }))
        })
        .collect();
    Ok((events, newest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_and_blob_pushes_count() {
        let d = format!("sha256:{}", "a".repeat(64));
        let body = serde_json::json!({"events": [
            {"id": "1", "action": "push", "target": {"mediaType": media_type::OCI_MANIFEST,
              "digest": d, "repository": "demo/app", "tag": "latest"}, "actor": {"name": "alice"}},
            {"id": "2", "action": "push", "target": {"mediaType": "application/octet-stream",
              "digest": d, "repository": "demo/app"}},
            {"id": "3", "action": "pull", "target": {"mediaType": media_type::OCI_MANIFEST,
              "digest": d, "repository": "demo/app", "tag": "latest"}},
            {"id": "4", "action": "push", "target": {"mediaType": media_type::OCI_MANIFEST,
              "digest": "sha256:zz", "repository": "demo/app", "tag": "latest"}},
            {"id": "5", "action": "push", "target": {"mediaType": media_type::OCI_MANIFEST,
              "digest": d, "repository": "a/b/c", "tag": "v1"}},
            {"id": "6", "action": "push", "target": {"mediaType": media_type::OCI_MANIFEST,
              "digest": d, "repository": "demo/app"}},
            {"id": "7", "action": "mount", "target": {"mediaType": "application/octet-stream",
              "digest": d, "repository": "demo/app"}},
            {"id": "8", "action": "delete", "target": {"mediaType": "application/octet-stream",
              "digest": d, "repository": "demo/app"}}
        ]});
        let (got, _) = events(body.to_string().as_bytes()).expect("an envelope");
        assert_eq!(
            got.last(),
            Some(&Event::Delete(Deletion {
                repository: "demo/app".to_owned(),
                digest: d.clone(),
                actor: None,
                at: None,
            }))
        );
        let got: Vec<Push> = got
            .into_iter()
            .filter_map(|e| match e {
                Event::Push(p) => Some(p),
                Event::Delete(_) => None,
            })
            .collect();
        let ids: Vec<&str> = got.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["1", "2", "5", "6", "7"]);
        let blobs: Vec<bool> = got.iter().map(|p| p.blob).collect();
        assert_eq!(blobs, [false, true, false, false, true]);
        assert_eq!(got[1].tag, None, "a blob moves no tag");
        let got: Vec<Push> = got.into_iter().filter(|p| !p.blob).collect();
        assert_eq!(got[0].tag.as_ref().map(TagName::as_str), Some("latest"));
        assert_eq!(got[0].actor.as_deref(), Some("alice"));
        assert!(got[0].target.is_some());
        assert!(got[1].target.is_none(), "a/b/c names no stream");
        assert_eq!(got[2].tag, None, "a push by digest alone");
        assert!(got[2].target.is_some());
        assert!(events(b"{\"hello\": 1}").is_err());
        assert!(events(b"not json").is_err());
    }
}
