//! The import worker: one pass over every stream imports pending tags, moves tags that follow
//! another stream tag, re-checks scheduled tags when due and retries failed imports when their
//! backoff has passed; then it sleeps until the next thing is due or it is woken.

use crate::store::Objects as _;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use tagstream_shared::{ImageStream, ProjectName, SourceKind, StreamName};

use super::job::Job;
use super::status::{has_failed, status_generation};
use super::{ImportMode, Importer, TagKey, TagTimers};

/// The lease the import worker's passes run under when replicas share the database: one
/// replica at a time checks schedules and retries, and another takes over when it dies.
const IMPORT_LEASE: &str = "import-worker";

pub(super) async fn run(importer: Arc<Importer>) {
    let shared = importer.store.shared();
    let mut changed = importer.store.subscribe();
    // The holder renews well before its lease runs out; the others try as often.
    let renew = Duration::from_secs(importer.store.lease_seconds() / 3).max(Duration::from_secs(1));
    let mut held = false;
    while !importer.is_stopped() {
        let holder = match importer.store.claim(IMPORT_LEASE).await {
            Ok(held) => held,
            Err(e) => {
                tracing::warn!(error = %e, "import worker: cannot claim its lease");
                false
            }
        };
        if holder && !held && shared {
            // Taken (back) over: another replica ran the worker meanwhile, so this one's timers
            // are stale; each tag's schedule continues from its last recorded check instead.
            importer.forget_timers();
        }
        held = holder;
        let next = if holder {
            renewing(&importer, renew, importer.pass()).await
        } else {
            None
        };
        let mut wait = next
            .map(|t| t.saturating_duration_since(Instant::now()))
            .unwrap_or(Duration::from_secs(3600))
            .max(Duration::from_millis(20));
        if shared {
            wait = wait.min(renew);
        }
        tokio::select! {
            () = importer.wake.notified() => {}
            // Another replica's write (a new tag to import) wakes the holder here.
            _ = changed.changed(), if shared => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
    if shared && let Err(e) = importer.store.release(IMPORT_LEASE).await {
        tracing::warn!(error = %e, "import worker: cannot give its lease up");
    }
}

/// Runs `pass` while renewing the lease every `renew`: a pass held up by a slow registry longer
/// than the lease must not let another replica take the worker over and import the same tags
/// a second time while this one still works on them.
async fn renewing<T>(importer: &Importer, renew: Duration, pass: impl Future<Output = T>) -> T {
    tokio::pin!(pass);
    loop {
        tokio::select! {
            out = &mut pass => return out,
            () = tokio::time::sleep(renew) => match importer.store.claim(IMPORT_LEASE).await {
                Ok(true) => {}
                Ok(false) => tracing::warn!(
                    "import worker: its lease was taken over during a pass (the database was \
                     unreachable for longer than the lease)"
                ),
                Err(e) => tracing::warn!(error = %e, "import worker: cannot renew its lease"),
            },
        }
    }
}

impl Importer {
    pub(super) fn timers(&self, key: &TagKey) -> TagTimers {
        self.timers
            .lock()
            .ok()
            .and_then(|t| t.get(key).cloned())
            .unwrap_or_default()
    }

    pub(super) fn set_timers(&self, key: TagKey, timers: TagTimers) {
        if let Ok(mut t) = self.timers.lock() {
            t.insert(key, timers);
        }
    }

    fn forget_timers(&self) {
        if let Ok(mut t) = self.timers.lock() {
            t.clear();
        }
    }

    /// Runs one pass and answers when the next one is due.
    pub(super) async fn pass(&self) -> Option<Instant> {
        let streams = match self.store.list::<ImageStream>(None).await {
            Ok(listed) => listed.items,
            Err(e) => {
                tracing::warn!(error = %e, "import pass: cannot list streams");
                return Some(Instant::now() + Duration::from_secs(5));
            }
        };
        // Which project each name is now (grants hold for the project they were made for).
        let projects: HashMap<String, String> = match self.store.list_projects().await {
            Ok(listed) => listed
                .items
                .into_iter()
                .filter_map(|p| Some((p.metadata.name?, p.metadata.resource_version?)))
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "import pass: cannot list projects");
                return Some(Instant::now() + Duration::from_secs(5));
            }
        };
        // When each tag was last checked, by whichever replica: a scheduled tag this worker has
        // no timers for continues from there.
        let checked: HashMap<TagKey, i64> = match self.store.checks().await {
            Ok(found) => found.into_iter().collect(),
            Err(e) => {
                tracing::warn!(error = %e, "import pass: cannot read the last checks");
                HashMap::new()
            }
        };
        let (now, now_ms) = (Instant::now(), super::epoch_ms());
        let mut next: Option<Instant> = None;
        let mut soonest = |t: Instant| next = Some(next.map_or(t, |n: Instant| n.min(t)));
        let mut jobs = Vec::new();
        let mut aliases_moved = false;
        // The tags this pass saw: timers of any other tag (removed, or its stream or project
        // deleted) are dropped at the end, so that memory follows the streams and a new tag of
        // the same name starts afresh.
        let mut live = HashSet::new();
        for stream in &streams {
            let (Some(ns), Ok(name)) = (
                stream
                    .metadata
                    .namespace
                    .as_deref()
                    .and_then(|n| n.parse::<ProjectName>().ok()),
                stream.metadata.name().parse::<StreamName>(),
            ) else {
                continue;
            };
            if self
                .follow_aliases(&ns, &name, stream, &streams, &projects)
                .await
            {
                aliases_moved = true;
            }
            for tag in &stream.spec.tags {
                let Some(from) = tag.from.as_ref() else {
                    continue;
                };
                if from.source_kind() != Some(SourceKind::DockerImage) {
                    continue;
                }
                let key: TagKey = (ns.to_string(), name.to_string(), tag.name.clone());
                live.insert(key.clone());
                let mut timers = self.timers(&key);
                let generation = tag.generation.unwrap_or(0);
                let pending = generation > status_generation(stream, &tag.name);
                let failed = has_failed(stream, &tag.name);
                let mode =
                    ImportMode::parse(tag.import_policy.import_mode.as_deref()).unwrap_or_default();
                let by_digest = from.name.contains('@');
                let job = |scheduled| Job {
                    ns: ns.clone(),
                    stream: name.clone(),
                    tag: tag.name.clone(),
                    from: from.name.clone(),
                    mode,
                    generation,
                    scheduled,
                };
                if pending || failed {
                    match timers.next_retry {
                        Some(at) if at > now => soonest(at),
                        Some(_) => jobs.push(job(false)),
                        None if pending => jobs.push(job(false)),
                        None => {
                            // A failure recorded before this process started: back off from now.
                            let at = now + self.backoff(timers.failures.max(1));
                            timers.next_retry = Some(at);
                            soonest(at);
                            self.set_timers(key, timers);
                        }
                    }
                } else if tag.import_policy.scheduled && !by_digest {
                    match timers.next_check {
                        Some(at) if at > now => soonest(at),
                        Some(_) => jobs.push(job(true)),
                        None => {
                            let since = checked.get(&key).map_or(Duration::ZERO, |at| {
                                Duration::from_millis(
                                    u64::try_from(now_ms.saturating_sub(*at)).unwrap_or(0),
                                )
                            });
                            let at = now + self.jittered_interval().saturating_sub(since);
                            timers.next_check = Some(at);
                            soonest(at);
                            self.set_timers(key, timers);
                        }
                    }
                }
            }
        }
        // At most `concurrency` jobs at once: each ends in a write, and a pass of many failing
        // tags must not take every database connection from the requests.
        let results: Vec<(TagKey, Option<Instant>, Option<i64>)> = futures::stream::iter(jobs)
            .map(|job| self.run_job(job))
            .buffer_unordered(self.config.concurrency.max(1))
            .collect()
            .await;
        let asked: Vec<(TagKey, Option<i64>)> = results
            .iter()
            .map(|(key, _, next_try)| (key.clone(), *next_try))
            .collect();
        if let Err(e) = self.store.record_checks(&asked, super::epoch_ms()).await {
            tracing::warn!(error = %e, "import pass: cannot record when tags were checked");
        }
        for at in results.into_iter().filter_map(|(_, at, _)| at) {
            soonest(at);
        }
        if let Ok(mut timers) = self.timers.lock() {
            timers.retain(|key, _| live.contains(key));
        }
        let gone: Vec<TagKey> = checked.into_keys().filter(|k| !live.contains(k)).collect();
        if !gone.is_empty()
            && let Err(e) = self.store.forget_checks(&gone).await
        {
            tracing::warn!(error = %e, "import pass: cannot forget the checks of removed tags");
        }
        if aliases_moved {
            // A moved alias may itself be followed: look again straight away.
            soonest(Instant::now());
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Actor;
    use crate::store::{SqliteStore, Store as _};
    use tagstream_shared::{ObjectReference, Project, TagReference, Time};

    fn docker_tag(name: &str) -> TagReference {
        TagReference {
            name: name.into(),
            from: Some(ObjectReference {
                kind: "DockerImage".into(),
                // No registry is allowed: the import fails at once, without the network.
                name: "quay.io/demo/app:1".into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    impl Importer {
        fn tracked_tags(&self) -> usize {
            self.timers.lock().map(|t| t.len()).unwrap_or_default()
        }
    }

    #[tokio::test]
    async fn timers_go_with_their_tag_and_stream() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Arc::new(
            SqliteStore::open(&dir.path().join("t.db"))
                .await
                .expect("opens"),
        );
        let policy = Arc::new(crate::registry::RegistryPolicy::from_config(&[]).expect("policy"));
        let client = crate::registry::RegistryClient::new(policy, Duration::from_secs(1), 10)
            .expect("client");
        let importer = Importer::new(
            client,
            store.clone(),
            Arc::new(crate::clock::SystemClock),
            crate::config::ImportConfig::default(),
        );
        let ns: ProjectName = "demo".parse().expect("valid");
        let name: StreamName = "app".parse().expect("valid");
        store
            .create_project(&Actor::SERVER, &ns, Project::new("demo"), None)
            .await
            .expect("project");
        let mut stream = ImageStream::new("app");
        stream.spec.tags = vec![docker_tag("a"), docker_tag("b")];
        let stream = crate::service::stream_for_create(stream, "demo", Time::now());
        crate::services::streams::create(&*store, None, &Actor::SERVER, &ns, &name, stream)
            .await
            .expect("stream");
        importer.pass().await;
        assert_eq!(importer.tracked_tags(), 2, "both failed imports back off");

        let stored = store
            .get::<ImageStream>(Some(&ns), name.as_ref())
            .await
            .expect("stored");
        let mut new = stored.clone();
        new.spec.tags.retain(|t| t.name == "a");
        let new = crate::service::stream_for_update(new, &stored);
        let expected = stored
            .metadata
            .resource_version
            .as_deref()
            .and_then(|v| v.parse().ok())
            .expect("a version");
        crate::services::streams::replace(&*store, None, &Actor::SERVER, &ns, &name, expected, new)
            .await
            .expect("updated");
        importer.pass().await;
        assert_eq!(importer.tracked_tags(), 1, "the removed tag's timers went");

        store
            .delete::<ImageStream>(&Actor::SERVER, Some(&ns), name.as_ref())
            .await
            .expect("deleted");
        importer.pass().await;
        assert_eq!(
            importer.tracked_tags(),
            0,
            "the deleted stream's timers went"
        );
    }
}
