//! How long a write that lost a race tries again. A write that does not pin
//! `metadata.resourceVersion` (a merge patch, `kubectl label`, an apply, a tag PUT) is read,
//! changed and written again when another write moved the object in between, as Kubernetes'
//! `GuaranteedUpdate` does until the request times out: each lost race means another write went
//! in, so trying on ends. A fixed small number of tries made parallel unconditional patches of
//! a slow (large) stream answer 409 (review 11 E4).

use std::time::{Duration, Instant};

/// Tries made however long they take.
const FIRST_TRIES: usize = 10;

/// How long after the first try another may start, past [`FIRST_TRIES`].
const PATIENCE: Duration = Duration::from_secs(30);

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
    /// of the first.
    pub(super) fn another(&mut self) -> bool {
        self.made += 1;
        self.made <= FIRST_TRIES || self.started.elapsed() < PATIENCE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_tries_on_while_it_loses_races_then_gives_up() {
        let mut tries = Tries::new();
        assert!((0..FIRST_TRIES).all(|_| tries.another()));
        assert!(tries.another(), "within the patience, more tries");
        let mut late = Tries {
            started: Instant::now() - PATIENCE,
            made: FIRST_TRIES,
        };
        assert!(!late.another(), "past the patience and the first tries");
    }
}
