//! How long a write that lost a race tries again. A write that does not pin
//! `metadata.resourceVersion` (a merge patch, `kubectl label`, an apply, a tag PUT) is read,
//! changed and written again when another write moved the object in between, as Kubernetes'
//! `GuaranteedUpdate` does until the request times out: each lost race means another write went
//! in, so trying on ends. A fixed small number of tries made parallel unconditional patches of
//! a slow (large) stream answer 409 (review 11 E4).
//!
//! Such a write first waits its turn on the object ([`super::object_turns`]): the writes of one
//! process no longer race each other, only those of other replicas (or writes that pin a
//! version) do. Losers wait a little, longer each time, before reading again, and a write is
//! answered 429 with `Retry-After`, which clients (kubectl among them) send again on their
//! own, when its whole time would pass [`PATIENCE`]: its wait for the turn and its tries
//! together, a try being started only if one as long as its longest yet still fits (review J2:
//! the 11th try could start at 60 s and end past 90 s, later than Kubernetes' own 60 s request
//! deadline). Not 409: the write asked for no precondition (review 13 H2).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::error::{ApiError, ApiResult};

use super::Resource;
use super::object_turns::{Object, Turn};

/// How long a write may take, from when it asked for its turn on the object to its answer.
const PATIENCE: Duration = Duration::from_secs(60);

/// The longest pause between two tries.
const MOST_PAUSE_MS: u64 = 500;

/// The turn of a write of `object` (see [`Turn::take`]), within [`PATIENCE`].
pub(super) async fn turn(object: Object) -> ApiResult<Turn> {
    Turn::take(object, PATIENCE).await
}

/// The tries of one write, made in its turn on the object.
pub(super) struct Tries<'a> {
    turn: &'a Turn,
    made: usize,
    /// When the latest try started.
    latest: Instant,
    /// The longest try yet.
    longest: Duration,
}

impl<'a> Tries<'a> {
    pub(super) fn new(turn: &'a Turn) -> Self {
        Self {
            turn,
            made: 0,
            latest: Instant::now(),
            longest: Duration::ZERO,
        }
    }

    /// Whether another try may start: the first always (its turn came in time for it), then,
    /// after a lost race and a pause of up to 50 ms for each try made (at most
    /// [`MOST_PAUSE_MS`], drawn at random so that the losers do not all read again at once),
    /// one that would end within [`PATIENCE`] of the turn asked for if it took as long as the
    /// longest try yet. Each lost race is logged: with the writes of this process taking turns,
    /// it names a writer that does not (another replica, or a write pinning a version).
    pub(super) async fn another(&mut self) -> bool {
        if self.made > 0 {
            self.longest = self.longest.max(self.latest.elapsed());
            let object = self.turn.object();
            tracing::info!(
                kind = object.kind,
                namespace = object.ns.as_deref().unwrap_or_default(),
                name = %object.name,
                tries = self.made,
                "a write lost a race: reading the object again"
            );
            let most = (50 * self.made as u64).min(MOST_PAUSE_MS);
            let seed = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::from(d.subsec_nanos()));
            tokio::time::sleep(Duration::from_millis(seed % most)).await;
        }
        self.made += 1;
        self.latest = Instant::now();
        self.made == 1 || self.turn.asked.elapsed() + self.longest <= PATIENCE
    }

    /// The answer to a write (of `resource` `name`) that lost every race it ran.
    pub(super) fn gave_up(&self, resource: &Resource, name: &str) -> ApiError {
        ApiError::TooManyRequests {
            message: format!(
                "{} {name:?} is being written by many clients at once: this write lost every \
                 race for {} s ({} tries); send it again",
                resource.kind,
                self.turn.asked.elapsed().as_secs(),
                self.made.saturating_sub(1),
            ),
            retry_after: 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(name: &str) -> Object {
        Object::new("ImageStream", Some(&"retry"), &name)
    }

    #[tokio::test]
    async fn a_write_tries_on_while_it_loses_races_then_gives_up_with_a_429() {
        let Ok(fresh) = turn(app("fresh")).await else {
            panic!("nobody else writes it");
        };
        let mut tries = Tries::new(&fresh);
        for _ in 0..12 {
            assert!(tries.another().await, "tries within the patience");
        }
        let Ok(mut late) = turn(app("late")).await else {
            panic!("nobody else writes it");
        };
        late.asked -= PATIENCE;
        let mut tries = Tries::new(&late);
        assert!(
            tries.another().await,
            "the first try: the turn came in time"
        );
        assert!(
            !tries.another().await,
            "another would end past the patience"
        );
        let ApiError::TooManyRequests {
            retry_after,
            message,
        } = tries.gave_up(&crate::api::IMAGESTREAMS, "app")
        else {
            panic!("a write that asked for no precondition is not a conflict");
        };
        assert_eq!(retry_after, 1);
        assert!(message.contains("(1 tries)"), "{message}");
    }
}
