//! Per-project receiver URLs for push events from registries tagstream does not run:
//! `POST /apis/tagstream.io/v1/namespaces/{ns}/receivers/{secret}`. The secret is derived from a
//! key every replica shares (in the store, `integrated::keys`), the project's name and its uid (a project deleted and made again
//! gets another) and the salt of its last rotation (`receiver_secrets`); the URL is the
//! credential (Docker Hub and Quay sign nothing), and GitHub's `X-Hub-Signature-256` is checked with the same secret when
//! sent. Every tag of the project that imports the pushed `registry/repository:tag` is imported
//! again at once, once per event however often it is delivered.

use crate::audit::Actor;
use std::path::Path;

use hmac::{Hmac, Mac as _};
use sha2::Sha256;
use tagstream_shared::{ImageStream, ProjectName, SourceKind};

use super::receiver_formats::Pushed;
use crate::app::AppState;
use crate::error::ApiError;
use crate::store::Objects as _;

/// The largest receiver body read: the senders' payloads are a few KiB.
pub const MAX_RECEIVER_BYTES: usize = 256 << 10;

/// The account re-imports requested by receivers are recorded as.
pub const RECEIVER_ACCOUNT: &str = "system:serviceaccount:tagstream:receiver";

/// The path prefix of receiver URLs, before the project.
const PREFIX: &str = "/apis/tagstream.io/v1/namespaces/";

/// Whether `path` is a receiver URL (`.../namespaces/{ns}/receivers/{secret}`), whose request
/// carries no API token: the secret in the URL is its credential.
pub fn is_receiver_path(path: &str) -> bool {
    path.strip_prefix(PREFIX).is_some_and(|rest| {
        let parts: Vec<&str> = rest.split('/').collect();
        parts.len() == 3 && parts[1] == "receivers" && !parts[2].is_empty()
    })
}

/// The key receiver secrets are derived from.
#[derive(Debug)]
pub struct ReceiverKey(String);

impl ReceiverKey {
    /// The key every replica on `store` shares, made on first use (or imported from
    /// `DATA_DIR/registry/receivers.key`, where an earlier version kept it).
    pub async fn load_or_create(
        store: &dyn crate::store::Store,
        data_dir: &Path,
    ) -> Result<Self, super::keys::KeyError> {
        super::keys::secret(store, data_dir, super::keys::RECEIVERS, "receivers.key")
            .await
            .map(Self)
    }

    /// The receiver secret of project `ns` with uid `uid` and receiver salt `salt` (empty
    /// before the first rotation, which keeps the secret of a project never rotated).
    pub fn secret(&self, ns: &str, uid: &str, salt: &str) -> String {
        let mut parts: Vec<&[u8]> = vec![b"receiver\0", ns.as_bytes(), b"\0", uid.as_bytes()];
        if !salt.is_empty() {
            parts.extend([b"\0".as_slice(), salt.as_bytes()]);
        }
        hmac_hex(&self.0, &parts)
    }
}

/// Whether `signature` (`sha256=HEX`, GitHub's `X-Hub-Signature-256`) signs `body` with `secret`.
pub fn github_signature_valid(secret: &str, body: &[u8], signature: &str) -> bool {
    let Some(hex) = signature.strip_prefix("sha256=") else {
        return false;
    };
    crate::auth::secret::same(&hmac_hex(secret, &[body]), hex)
}

/// HMAC-SHA256 of `parts` with `key`, hex (HMAC takes a key of any length).
fn hmac_hex(key: &str, parts: &[&[u8]]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else {
        return String::new();
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What a delivery did.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct Received {
    /// Tags asked to import again.
    pub reimported: usize,
    /// Pushes seen before.
    pub duplicates: usize,
}

/// Re-imports every tag of `ns` that imports one of `pushes`, each event once.
pub async fn apply(
    state: &AppState,
    ns: &ProjectName,
    pushes: &[Pushed],
) -> Result<Received, ApiError> {
    let actor = Actor::named(RECEIVER_ACCOUNT);
    let source = format!("receiver:{ns}");
    let now = state.clock.now().timestamp();
    let mut out = Received::default();
    for push in pushes {
        let key = format!(
            "{}|{}/{}:{}",
            push.id, push.registry, push.repository, push.tag
        );
        if !state.store.claim_event(&source, &key, now).await? {
            out.duplicates += 1;
            continue;
        }
        match reimport(state, &actor, ns, push).await {
            Ok(n) => out.reimported += n,
            Err(e) => {
                state.store.release_event(&source, &key).await?;
                return Err(e);
            }
        }
    }
    if out.reimported > 0 {
        state.importer.wake();
    }
    Ok(out)
}

/// Whether a tag importing `from` (a DockerImage reference) follows `push`.
fn follows(from: &str, push: &Pushed) -> bool {
    let Ok(reference) = from.parse::<tagstream_shared::ImageReference>() else {
        return false;
    };
    let (repo, target) = crate::import::locate(&reference);
    repo.registry.eq_ignore_ascii_case(&push.registry)
        && repo.path == push.repository
        && target == push.tag
}

/// Bumps the generation of each matching tag (as `oc import-image` does), which makes it
/// pending for the import worker; answers how many.
async fn reimport(
    state: &AppState,
    actor: &Actor,
    ns: &ProjectName,
    push: &Pushed,
) -> Result<usize, ApiError> {
    let streams = state.store.list::<ImageStream>(Some(ns)).await?.items;
    let mut count = 0;
    for stream in streams {
        let matching: Vec<String> = stream
            .spec
            .tags
            .iter()
            .filter(|t| {
                t.from.as_ref().is_some_and(|f| {
                    f.source_kind() == Some(SourceKind::DockerImage) && follows(&f.name, push)
                })
            })
            .map(|t| t.name.clone())
            .collect();
        if matching.is_empty() {
            continue;
        }
        let Some(name) = stream.metadata.name.as_deref() else {
            continue;
        };
        let Ok(name) = name.parse::<tagstream_shared::StreamName>() else {
            continue;
        };
        state
            .importer
            .update_stream(actor, ns, &name, |s| {
                let generation = s.metadata.generation.unwrap_or(1) + 1;
                let mut changed = false;
                for t in &mut s.spec.tags {
                    if matching.contains(&t.name) {
                        t.generation = Some(generation);
                        changed = true;
                    }
                }
                if changed {
                    s.metadata.generation = Some(generation);
                }
                changed
            })
            .await?;
        count += matching.len();
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receiver_paths_are_recognised_exactly() {
        assert!(is_receiver_path(
            "/apis/tagstream.io/v1/namespaces/demo/receivers/abc"
        ));
        assert!(!is_receiver_path(
            "/apis/tagstream.io/v1/namespaces/demo/receivers"
        ));
        assert!(!is_receiver_path(
            "/apis/tagstream.io/v1/namespaces/demo/receivers/"
        ));
        assert!(!is_receiver_path(
            "/apis/tagstream.io/v1/namespaces/demo/triggers/x"
        ));
    }

    #[tokio::test]
    async fn secrets_differ_per_project_and_uid_and_signatures_check() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = super::super::keys::test_store(dir.path()).await;
        let key = ReceiverKey::load_or_create(store.as_ref(), dir.path())
            .await
            .expect("key");
        assert_ne!(key.secret("a", "1", ""), key.secret("a", "2", ""));
        assert_ne!(key.secret("a", "1", ""), key.secret("b", "1", ""));
        assert_ne!(key.secret("a", "1", ""), key.secret("a", "1", "salt"));
        let secret = key.secret("a", "1", "");
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
        mac.update(b"body");
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert!(github_signature_valid(
            &secret,
            b"body",
            &format!("sha256={hex}")
        ));
        assert!(!github_signature_valid(
            &secret,
            b"other",
            &format!("sha256={hex}")
        ));
    }

    #[test]
    fn tags_follow_the_pushed_repository_and_tag() {
        let push = Pushed {
            id: "1".into(),
            registry: "127.0.0.1:5000".into(),
            repository: "src/app".into(),
            tag: "latest".into(),
        };
        assert!(follows("127.0.0.1:5000/src/app:latest", &push));
        assert!(follows("127.0.0.1:5000/src/app", &push));
        assert!(!follows("127.0.0.1:5000/src/app:v1", &push));
        assert!(!follows("127.0.0.1:5001/src/app:latest", &push));
        let hub = Pushed {
            registry: "docker.io".into(),
            repository: "library/ruby".into(),
            tag: "3.3".into(),
            ..push
        };
        assert!(follows("ruby:3.3", &hub));
        assert!(follows("docker.io/library/ruby:3.3", &hub));
    }
}
