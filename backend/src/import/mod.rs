//! Imports: resolving image references in registries to `Image`s (cached by digest), writing
//! the outcome into streams, and the background worker that imports pending tags, follows
//! stream-tag aliases, re-checks scheduled tags and retries failures with backoff.

mod aliases;
mod job;
pub mod sources;
pub mod status;
mod worker;

use crate::audit::Actor;
use crate::services;
use crate::store::Objects as _;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tagstream_shared::image::media_type;
use tagstream_shared::{Image, ImageReference, ImageStream, ProjectName, StreamName, Time};
use tokio::sync::{Notify, Semaphore};

use crate::clock::Clock;
use crate::config::ImportConfig;
use crate::registry::manifest::{self, Parsed};
use crate::registry::{RegistryClient, RegistryError, Repository};
use crate::store::{Store, StoreError};

/// `importPolicy.importMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImportMode {
    /// A manifest list resolves to the configured platform's child (OpenShift's default).
    #[default]
    Legacy,
    /// A manifest list is kept whole.
    PreserveOriginal,
}

impl ImportMode {
    pub fn parse(s: Option<&str>) -> Result<Self, String> {
        match s {
            None | Some("" | "Legacy") => Ok(Self::Legacy),
            Some("PreserveOriginal") => Ok(Self::PreserveOriginal),
            Some(other) => Err(format!(
                "unsupported importMode {other:?}: use Legacy or PreserveOriginal"
            )),
        }
    }
}

/// What a reference resolved to: the image a tag points at, and for a list imported whole, its
/// children.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub image: Image,
    pub children: Vec<Image>,
    /// `registry/path@digest` of `image`.
    pub pull_spec: String,
}

/// The repository and the tag or digest a reference names, read as Docker reads it (Docker Hub
/// and `library/` by default; the shared `NormalizedReference` is the one definition of that).
pub fn locate(reference: &ImageReference) -> (Repository, String) {
    let (registry, path) = match reference.normalized() {
        Ok(n) => (n.domain().to_owned(), n.path().to_owned()),
        Err(_) => (
            reference
                .registry
                .clone()
                .unwrap_or_else(|| "docker.io".into()),
            reference.repository.clone(),
        ),
    };
    let target = match (&reference.digest, &reference.tag) {
        (Some(d), _) => d.to_string(),
        (None, Some(t)) => t.clone(),
        (None, None) => "latest".to_owned(),
    };
    (Repository { registry, path }, target)
}

fn pull_spec(repo: &Repository, digest: &str) -> String {
    format!("{}/{}@{digest}", repo.registry, repo.path)
}

/// Per-tag memory of the worker: when to check a scheduled tag next and how a failing one
/// backs off. Kept in memory; when the registry was last asked is in the database
/// (`CheckStore`), and a worker without timers for a tag (after a restart, or on taking the
/// worker over from another replica) continues its schedule from there.
#[derive(Debug, Clone, Default)]
struct TagTimers {
    next_check: Option<Instant>,
    failures: u32,
    next_retry: Option<Instant>,
}

use crate::store::TagKey;

/// Milliseconds since the epoch, as checks are recorded.
fn epoch_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[derive(Debug)]
pub struct Importer {
    pub client: RegistryClient,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    pub config: ImportConfig,
    /// The integrated registry (`[registry]`), if any: the tag moves an import causes are
    /// told to triggers with the pull specs it shows.
    pub registry: Option<crate::integrated::config::IntegratedRegistryConfig>,
    wake: Notify,
    stopped: std::sync::atomic::AtomicBool,
    running: Semaphore,
    /// One stream write at a time from here: writes are serialized by the database anyway
    /// (each takes the next revision), and a pass of many tags writing at once would hold
    /// every pooled connection waiting for that lock, leaving none for requests, and make
    /// tags of one stream conflict with each other.
    writing: Semaphore,
    timers: Mutex<HashMap<TagKey, TagTimers>>,
    /// One fetch per digest at a time, so that tags resolving to the same new image together
    /// fetch its manifest and config once.
    fetching: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Importer {
    pub fn new(
        client: RegistryClient,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        config: ImportConfig,
    ) -> Self {
        let concurrency = config.concurrency.max(1);
        Self {
            client,
            store,
            clock,
            config,
            registry: None,
            wake: Notify::new(),
            stopped: std::sync::atomic::AtomicBool::new(false),
            running: Semaphore::new(concurrency),
            writing: Semaphore::new(1),
            timers: Mutex::default(),
            fetching: Mutex::default(),
        }
    }

    /// Tells the worker that streams changed (a new or edited tag may be pending).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// When an import worker (this replica's or another's) last asked the registry about a
    /// tag, if one has, and when a failed import of it is tried next.
    pub async fn last_checked(
        &self,
        ns: &str,
        stream: &str,
        tag: &str,
    ) -> Result<Option<(Time, Option<Time>)>, StoreError> {
        let key = (ns.to_owned(), stream.to_owned(), tag.to_owned());
        let time = |ms: i64| Time::from_timestamp(ms.div_euclid(1000));
        let found = self.store.last_check(&key).await?;
        Ok(found.map(|(at, next_try)| (time(at), next_try.map(time))))
    }

    /// Ends the background worker after its current pass.
    pub fn stop(&self) {
        self.stopped
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.wake.notify_one();
    }

    fn is_stopped(&self) -> bool {
        self.stopped.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Starts the background worker; it runs until `stop`.
    pub fn start(self: &Arc<Self>) {
        let me = self.clone();
        tokio::spawn(async move { worker::run(me).await });
    }

    fn interval(&self) -> Duration {
        Duration::from_secs(self.config.schedule_interval_seconds)
    }

    /// The interval ±10%, so that tags imported together do not stay in lockstep.
    fn jittered_interval(&self) -> Duration {
        self.interval().mul_f64(0.9 + fastrand::f64() * 0.2)
    }

    /// The wait before retry `failures` (1, 2, ...): doubling from the smaller of 5 s and the
    /// schedule interval, up to the configured cap.
    fn backoff(&self, failures: u32) -> Duration {
        let base = Duration::from_secs(self.config.schedule_interval_seconds.clamp(1, 5));
        let cap = Duration::from_secs(self.config.retry_backoff_cap_seconds);
        base.saturating_mul(1 << failures.saturating_sub(1).min(16))
            .min(cap)
    }

    async fn cached(&self, digest: &str) -> Option<Image> {
        match self.store.get_image(digest).await {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(error = %e, digest, "image cache read failed; fetching again");
                None
            }
        }
    }

    async fn keep(&self, image: &Image) {
        if let Err(e) = self.store.put_image(image).await {
            tracing::warn!(error = %e, digest = image.digest(), "cannot cache the image");
        }
    }

    /// Resolves `reference` to its image: one HEAD for the digest, then the manifest and
    /// config only when that digest has not been seen before.
    pub async fn resolve(
        &self,
        reference: &ImageReference,
        mode: ImportMode,
    ) -> Result<Resolved, RegistryError> {
        let (repo, target) = locate(reference);
        if self.client.policy().allowed(&repo.registry).is_none() {
            return Err(RegistryError::NotAllowed(repo.registry.clone()));
        }
        let _permit = self.running.acquire().await;
        let digest = if target.starts_with("sha256:") {
            target.clone()
        } else {
            let head = self.client.head_manifest(&repo, &target).await?;
            if let Some(size) = head.size
                && size > crate::registry::client::MAX_DOCUMENT_BYTES
            {
                return Err(RegistryError::TooLarge {
                    what: format!("manifest {}:{target}", repo.path),
                    limit: crate::registry::client::MAX_DOCUMENT_BYTES,
                });
            }
            match head.digest {
                Some(d) => d,
                // No Docker-Content-Digest: the digest of the manifest itself.
                None => self.client.get_manifest(&repo, &target).await?.digest,
            }
        };
        let top = self.image(&repo, &digest).await?;
        if !top.is_list() {
            return Ok(Resolved {
                pull_spec: pull_spec(&repo, top.digest()),
                image: top,
                children: Vec::new(),
            });
        }
        match mode {
            ImportMode::Legacy => {
                let platform = &self.config.platform;
                let child =
                    pick_child(&top, platform).ok_or_else(|| RegistryError::NoPlatform {
                        platform: platform.clone(),
                    })?;
                let image = self.image(&repo, &child).await?;
                Ok(Resolved {
                    pull_spec: pull_spec(&repo, image.digest()),
                    image,
                    children: Vec::new(),
                })
            }
            ImportMode::PreserveOriginal => {
                let mut children = Vec::new();
                for child in &top.docker_image_manifests {
                    let image = self.image(&repo, &child.digest).await?;
                    children.push(image);
                }
                Ok(Resolved {
                    pull_spec: pull_spec(&repo, top.digest()),
                    image: top,
                    children,
                })
            }
        }
    }

    /// The image with `digest`: from the cache, or fetched once however many ask at a time.
    async fn image(&self, repo: &Repository, digest: &str) -> Result<Image, RegistryError> {
        if let Some(image) = self.cached(digest).await {
            return Ok(image);
        }
        let lock = self
            .fetching
            .lock()
            .map(|mut f| f.entry(digest.to_owned()).or_default().clone())
            .unwrap_or_default();
        let _guard = lock.lock().await;
        let result = match self.cached(digest).await {
            Some(image) => Ok(image),
            None => self.fetch_image(repo, digest).await,
        };
        if let Ok(mut f) = self.fetching.lock() {
            f.remove(digest);
        }
        result
    }

    /// Fetches one manifest by digest (and its config when it is one platform's image),
    /// builds the `Image` and caches it.
    async fn fetch_image(&self, repo: &Repository, digest: &str) -> Result<Image, RegistryError> {
        let fetched = self.client.get_manifest(repo, digest).await?;
        let now = self.clock.now();
        let spec = pull_spec(repo, &fetched.digest);
        let image = match manifest::parse(&fetched.media_type, &fetched.bytes)? {
            Parsed::List(index) => {
                manifest::list_image(&fetched.digest, &fetched.media_type, &index, &spec, now)
            }
            Parsed::Image(m) => {
                let config_digest = m.config().digest().to_string();
                let what = format!("the config of {}@{}", repo.path, fetched.digest);
                let bytes = self.client.get_blob(repo, &config_digest, &what).await?;
                let config = manifest::parse_config(&bytes)?;
                manifest::single_image(
                    &fetched.digest,
                    &fetched.media_type,
                    &m,
                    &config,
                    &spec,
                    now,
                )
            }
        };
        self.keep(&image).await;
        Ok(image)
    }

    /// Applies `change` to the stored stream, re-reading and re-applying after losing a race;
    /// writes nothing when `change` reports no change. Answers the stream as stored.
    pub async fn update_stream(
        &self,
        actor: &Actor,
        ns: &ProjectName,
        name: &StreamName,
        change: impl Fn(&mut ImageStream) -> bool,
    ) -> Result<Option<ImageStream>, StoreError> {
        let _turn = self.writing.acquire().await;
        for _ in 0..20 {
            let mut stream = match self.store.get::<ImageStream>(Some(ns), name.as_ref()).await {
                Ok(s) => s,
                Err(StoreError::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(e),
            };
            if !change(&mut stream) {
                return Ok(Some(stream));
            }
            let expected = stream.metadata.revision();
            match services::streams::replace(
                &*self.store,
                self.registry.as_ref(),
                actor,
                ns,
                name,
                expected,
                stream,
            )
            .await
            {
                Ok(saved) => return Ok(Some(saved)),
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::conflict(
            &tagstream_shared::resources::IMAGESTREAMS,
            name.as_str(),
        ))
    }
}

/// The child digest of a list image for `platform` (`os/arch[/variant]`).
fn pick_child(list: &Image, platform: &str) -> Option<String> {
    let mut parts = platform.split('/');
    let (os, arch, variant) = (parts.next()?, parts.next()?, parts.next());
    let matching = || {
        list.docker_image_manifests
            .iter()
            .filter(move |m| m.os == os && m.architecture == arch)
    };
    let found = match variant {
        Some(v) => matching()
            .find(|m| m.variant == v)
            .or_else(|| matching().find(|m| m.variant.is_empty())),
        None => matching().next(),
    };
    found.map(|m| m.digest.clone())
}

/// Whether a manifest type is one the importer reads (for messages).
pub fn is_supported(media: &str) -> bool {
    media_type::ALL.contains(&media)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_defaults_apply() {
        let r: ImageReference = "ruby".parse().expect("parses");
        let (repo, target) = locate(&r);
        assert_eq!(
            (repo.registry.as_str(), repo.path.as_str(), target.as_str()),
            ("docker.io", "library/ruby", "latest")
        );
        let r: ImageReference = "quay.io/org/app:1.2".parse().expect("parses");
        let (repo, target) = locate(&r);
        assert_eq!(
            (repo.registry.as_str(), repo.path.as_str(), target.as_str()),
            ("quay.io", "org/app", "1.2")
        );
        let r: ImageReference = "127.0.0.1:5000/demo/app@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
            .parse()
            .expect("parses");
        let (repo, target) = locate(&r);
        assert_eq!(repo.registry, "127.0.0.1:5000");
        assert!(target.starts_with("sha256:"));
    }

    #[test]
    fn import_modes_parse_as_openshift_names_them() {
        assert_eq!(ImportMode::parse(None), Ok(ImportMode::Legacy));
        assert_eq!(
            ImportMode::parse(Some("PreserveOriginal")),
            Ok(ImportMode::PreserveOriginal)
        );
        assert!(ImportMode::parse(Some("preserve")).is_err());
    }
}
