//! One read-modify-write of an object at a time in this process. Writes that do not pin a
//! `metadata.resourceVersion` (merge patches such as `kubectl label`, applies, tag PUTs) read
//! the object, change it and write it at the version read; in parallel, all but one lost the
//! race and read, changed and encoded the whole object again, competing for the CPU with the
//! writer that was to win. On a 4.8 MB stream, 16 parallel labels committed once per 10-12 s
//! instead of once per 3 s, and the losers ran out of time (review J2). Now such a write first
//! waits its turn on the object, in the order the writes came (tokio's `Mutex` is fair), so that
//! N writers cost N reads and N commits.
//!
//! The queue is per process: with several replicas on PostgreSQL the store's resourceVersion
//! check still decides between them, and the loser tries again ([`super::retry`]).
//!
//! A write waiting its turn holds nothing else: not a turn of the large-request limiter
//! ([`crate::heavy`], whose 10 s wait is for CPU-heavy work itself, taken only once the turn
//! on the object is held), so writers queued on one busy object neither count against that
//! limiter nor are refused by it while they wait. Their wait is bounded by the write's
//! patience instead (429 with Retry-After). Each object's queue goes as soon as no write holds
//! or waits for it, so the map stays as small as the writes under way.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{Mutex as Queue, OwnedMutexGuard};

use crate::error::ApiError;

/// An object as stored: its kind, project (none for a cluster-wide kind) and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Object {
    pub kind: &'static str,
    pub ns: Option<String>,
    pub name: String,
}

impl Object {
    pub(super) fn new(
        kind: &'static str,
        ns: Option<&impl ToString>,
        name: &impl ToString,
    ) -> Self {
        Self {
            kind,
            ns: ns.map(ToString::to_string),
            name: name.to_string(),
        }
    }
}

/// One object's queue: the writes holding or waiting for a turn on it, and how long the
/// latest turn was held (what the next one is expected to take).
struct Line {
    queue: Arc<Queue<()>>,
    places: usize,
    last_turn: Duration,
}

static LINES: LazyLock<Mutex<HashMap<Object, Line>>> = LazyLock::new(Mutex::default);

fn lines() -> std::sync::MutexGuard<'static, HashMap<Object, Line>> {
    // The map is left consistent by every holder (no code that can panic runs under it).
    LINES.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A write's place in an object's queue, from when it asked for its turn (also while it
/// waits, so that a write whose client hung up leaves the queue) to the end of its turn.
pub(super) struct Turn {
    object: Object,
    /// When the write asked for its turn: where its patience starts.
    pub asked: Instant,
    held: Option<(OwnedMutexGuard<()>, Instant)>,
}

impl Turn {
    /// The turn of a write of `object` once every write of it asked for earlier in this
    /// process is done; a write still waiting `patience` after it asked, or whose turn
    /// comes too late for a try as long as the object's last turn before `patience` ends,
    /// is answered 429 with Retry-After.
    pub(super) async fn take(object: Object, patience: Duration) -> Result<Self, ApiError> {
        let asked = Instant::now();
        let queue = {
            let mut lines = lines();
            let line = lines.entry(object.clone()).or_insert_with(|| Line {
                queue: Arc::default(),
                places: 0,
                last_turn: Duration::ZERO,
            });
            line.places += 1;
            line.queue.clone()
        };
        let mut turn = Self {
            object,
            asked,
            held: None,
        };
        let deadline = tokio::time::Instant::from_std(asked + patience);
        if let Ok(guard) = tokio::time::timeout_at(deadline, queue.lock_owned()).await {
            let expected = lines()
                .get(&turn.object)
                .map_or(Duration::ZERO, |l| l.last_turn);
            if asked.elapsed() + expected <= patience {
                turn.held = Some((guard, Instant::now()));
                return Ok(turn);
            }
            // Too late for a try: the next write's turn starts now, and this one, unused,
            // leaves the object's last turn as it was.
        }
        Err(ApiError::TooManyRequests {
            message: format!(
                "{} {:?} is being written by many clients at once: this write waited {} s \
                 for its turn; send it again",
                turn.object.kind,
                turn.object.name,
                asked.elapsed().as_secs(),
            ),
            retry_after: 1,
        })
    }

    /// The object this turn is on.
    pub(super) fn object(&self) -> &Object {
        &self.object
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let held = self.held.take();
        let mut lines = lines();
        if let Some(line) = lines.get_mut(&self.object) {
            if let Some((_, since)) = &held {
                line.last_turn = since.elapsed();
            }
            line.places -= 1;
            if line.places == 0 {
                lines.remove(&self.object);
            }
        }
        drop(lines);
        // The next write's turn starts once the map says how long this one took.
        drop(held);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(name: &str) -> Object {
        Object::new("ImageStream", Some(&"demo"), &name)
    }

    fn queued(object: &Object) -> Option<usize> {
        lines().get(object).map(|l| l.places)
    }

    #[tokio::test]
    async fn writes_of_one_object_take_turns_in_order_and_its_queue_goes_with_the_last() {
        let patience = Duration::from_secs(60);
        let Ok(first) = Turn::take(app("turns"), patience).await else {
            panic!("nobody else writes it");
        };
        // A second write of it waits; another object's write does not.
        let second = tokio::spawn(Turn::take(app("turns"), patience));
        let other = Turn::take(app("turns-other"), patience).await;
        assert!(other.is_ok(), "another object has a queue of its own");
        drop(other);
        assert_eq!(queued(&app("turns-other")), None, "its queue went with it");
        while queued(&app("turns")) != Some(2) {
            tokio::task::yield_now().await;
        }
        assert!(!second.is_finished(), "the second waits for the first");
        drop(first);
        let second = second.await.ok().and_then(Result::ok);
        assert!(second.is_some(), "its turn came when the first ended");
        drop(second);
        assert_eq!(queued(&app("turns")), None, "no queue is kept for nobody");
    }

    #[tokio::test]
    async fn a_write_that_waits_past_its_patience_is_answered_429_and_leaves_the_queue() {
        let first = Turn::take(app("patience"), Duration::from_secs(60)).await;
        let waited = Turn::take(app("patience"), Duration::ZERO).await;
        let Err(ApiError::TooManyRequests { retry_after, .. }) = waited else {
            panic!("a write whose patience ran out waiting is a 429");
        };
        assert_eq!(retry_after, 1);
        assert_eq!(queued(&app("patience")), Some(1), "only the first is left");
        drop(first);
        assert_eq!(queued(&app("patience")), None);
    }
}
