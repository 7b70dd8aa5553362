//! Failed sign-ins per user name and per client address, in a sliding window: past the limit,
//! sign-in answers 429 with `Retry-After` until the oldest failure leaves the window.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginLimiter {
    /// How long `key` must wait, if it has `limit` failures within `window`.
    pub fn wait(&self, key: &str, limit: u32, window: Duration) -> Option<Duration> {
        let now = Instant::now();
        let mut map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let list = map.get_mut(key)?;
        while list
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            list.pop_front();
        }
        if list.len() < limit as usize {
            return None;
        }
        let oldest = *list.front()?;
        Some(window.saturating_sub(now.duration_since(oldest)))
    }

    pub fn fail(&self, key: &str) {
        let mut map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() > 100_000 {
            map.clear();
        }
        map.entry(key.to_owned())
            .or_default()
            .push_back(Instant::now());
    }

    pub fn succeed(&self, key: &str) {
        let mut map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_after_the_allowed_failures() {
        let l = LoginLimiter::default();
        let w = Duration::from_secs(60);
        for _ in 0..3 {
            assert!(l.wait("u:bob", 3, w).is_none());
            l.fail("u:bob");
        }
        let wait = l.wait("u:bob", 3, w).expect("limited");
        assert!(wait <= w && wait > Duration::from_secs(50));
        assert!(l.wait("u:alice", 3, w).is_none());
        l.succeed("u:bob");
        assert!(l.wait("u:bob", 3, w).is_none());
    }
}
