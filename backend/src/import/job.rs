//! One import job: resolve the tag's source, record the image or the failure on the stream,
//! and set the tag's timers for its next check or retry.

use std::time::Instant;

use tagstream_shared::{ImageReference, ProjectName, StreamName};

use super::status::{failure_message, record_failure, record_image};
use super::{ImportMode, Importer, TagKey};
use crate::audit::Actor;
use crate::registry::RegistryError;

/// One import the pass decided on.
#[derive(Debug)]
pub(super) struct Job {
    pub(super) ns: ProjectName,
    pub(super) stream: StreamName,
    pub(super) tag: String,
    pub(super) from: String,
    pub(super) mode: ImportMode,
    pub(super) generation: i64,
    pub(super) scheduled: bool,
}

impl Importer {
    /// Imports one tag and records the outcome; answers the tag, when it next needs attention,
    /// and for a failure, when the next try is (milliseconds since the epoch, kept in the store
    /// so that every replica's ImageStreamTag answer can say it).
    pub(super) async fn run_job(&self, job: Job) -> (TagKey, Option<Instant>, Option<i64>) {
        let key: TagKey = (job.ns.to_string(), job.stream.to_string(), job.tag.clone());
        let resolved = match job.from.parse::<ImageReference>() {
            Ok(reference) => self.resolve(&reference, job.mode).await,
            Err(e) => Err(RegistryError::BadReference(format!(
                "{:?} is not a valid image reference: {e}",
                job.from
            ))),
        };
        let now = self.clock.now();
        let mut timers = self.timers(&key);
        let limit = self.config.history_limit;
        let mut next_try = None;
        let written = match &resolved {
            Ok(r) => {
                let digest = r.image.digest().to_owned();
                let spec = r.pull_spec.clone();
                self.update_stream(&Actor::IMPORTER, &job.ns, &job.stream, |s| {
                    // Only if the tag still imports what was resolved.
                    let Some(tag) = s.spec_tag(&job.tag) else {
                        return false;
                    };
                    if tag.from.as_ref().map(|f| f.name.as_str()) != Some(job.from.as_str()) {
                        return false;
                    }
                    let generation = tag.generation.unwrap_or(job.generation);
                    record_image(s, &job.tag, &digest, &spec, generation, now, limit)
                })
                .await
            }
            Err(e) => {
                tracing::warn!(ns = %job.ns, stream = %job.stream, tag = %job.tag, from = %job.from, error = %e, "import failed");
                // Another try of the same failure writes nothing: the message says the same.
                // When the next try is goes beside the tag's last check, before the failure is
                // written, so that whoever reads the failure can also read when it is retried.
                let wait = self.backoff(timers.failures + 1);
                let at_ms = super::epoch_ms();
                let next_ms =
                    at_ms.saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX));
                next_try = Some(next_ms);
                if let Err(e) = self
                    .store
                    .record_checks(&[(key.clone(), next_try)], at_ms)
                    .await
                {
                    tracing::warn!(error = %e, "cannot record when a failed import is tried next");
                }
                let (reason, message) = (e.reason(), failure_message(e));
                self.update_stream(&Actor::IMPORTER, &job.ns, &job.stream, |s| {
                    if s.spec_tag(&job.tag).is_none() {
                        return false;
                    }
                    record_failure(s, &job.tag, reason, &message, job.generation, now)
                })
                .await
            }
        };
        if let Err(e) = written {
            tracing::warn!(error = %e, ns = %job.ns, stream = %job.stream, "cannot record an import");
        }
        let at = Instant::now();
        match resolved {
            Ok(_) => {
                timers.failures = 0;
                timers.next_retry = None;
                timers.next_check = Some(at + self.jittered_interval());
                if !job.scheduled {
                    // Followers of this tag may move now.
                    self.wake();
                }
            }
            Err(_) => {
                timers.failures += 1;
                timers.next_retry = Some(at + self.backoff(timers.failures));
            }
        }
        let next = [timers.next_retry, timers.next_check]
            .into_iter()
            .flatten()
            .min();
        self.set_timers(key.clone(), timers);
        (key, next, next_try)
    }
}
