//! How long a write that lost a race tries again. A write that does not pin
//! `metadata.resourceVersion` (a merge patch, `kubectl label`, an apply, a tag PUT) is read,
//! changed and written again when another write moved the object in between, as Kubernetes'
//! `GuaranteedUpdate` does until the request times out: each lost race means another write went
//! in, so trying on ends. A fixed small number of tries made parallel unconditional patches of
//! a slow (large) stream answer 409 (review 11 E4). Losers wait a little, longer each time,
//! before reading again (each read of a large object slows the winner), and a write that lost
//! every race for [`PATIENCE`] is answered 429 with `Retry-After`, which clients (kubectl among
//! them) send again on their own: not 409, since it asked for no precondition (review 13 H2).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::error::ApiError;

use super::Resource;

/// Tries made however long they take.
const FIRST_TRIES: usize = 10;

/// How long after the first try another may start, past [`FIRST_TRIES`].
const PATIENCE: Duration = Duration::from_secs(60);

/// The longest pause between two tries.
const MOST_PAUSE_MS: u64 = 500;

/// The tries of one write.
pub(super) struct Tries {
    started: Instant,
    made: usize,
}

impl Tries {
    pub(super) fn new() -> Self {
        Self {
            started: Instant::now(),
            made: 0,
        }
    }

    /// Whether another try may start: the first [`FIRST_TRIES`], then any within [`PATIENCE`]
    /// of the first; after a lost race, once a pause of up to 50 ms for each try made (at most
    /// [`MOST_PAUSE_MS`]), drawn at random so that the losers do not all read again at once.
    pub(super) async fn another(&mut self) -> bool {
        if self.made > 0 {
            let most = (50 * self.made as u64).min(MOST_PAUSE_MS);
            let seed = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::from(d.subsec_nanos()));
            tokio::time::sleep(Duration::from_millis(seed % most)).await;
        }
        self.made += 1;
        self.made <= FIRST_TRIES || self.started.elapsed() < PATIENCE
    }

    /// The answer to a write (of `resource` `name`) that lost every race it ran.
    pub(super) fn gave_up(&self, resource: &Resource, name: &str) -> ApiError {
        ApiError::TooManyRequests {
            message: format!(
                "{} {name:?} is being written by many clients at once: this write lost every \
                 race for {} s ({} tries); send it again",
                resource.kind,
                self.started.elapsed().as_secs(),
                self.made,
            ),
            retry_after: 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_write_tries_on_while_it_loses_races_then_gives_up_with_a_429() {
        let mut tries = Tries::new();
        for _ in 0..=FIRST_TRIES {
            assert!(
                tries.another().await,
                "the first tries, and more within the patience"
            );
        }
        let mut late = Tries {
            started: Instant::now() - PATIENCE,
            made: FIRST_TRIES,
        };
        assert!(
            !late.another().await,
            "past the patience and the first tries"
        );
        let ApiError::TooManyRequests { retry_after, .. } =
            late.gave_up(&crate::api::IMAGESTREAMS, "app")
        else {
            panic!("a write that asked for no precondition is not a conflict");
        };
        assert_eq!(retry_after, 1);
    }
}
