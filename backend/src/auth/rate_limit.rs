//! Sign-in attempts per user name and per client address, in a sliding window: past the limit,
//! sign-in answers 429 with `Retry-After` until the oldest attempt leaves the window.
//!
//! An attempt is counted *before* its password is verified (a [`Reservation`]) and refunded
//! only when it succeeds, so concurrent wrong passwords cannot all slip under the limit; and
//! at most [`MAX_VERIFYING`] argon2 verifications run at once, whoever asks, so a flood of
//! sign-ins costs queueing, not memory (each verification takes ~19 MiB).
//!
//! The map is bounded: at [`MAX_KEYS`] keys, expired attempts are pruned first, then the keys
//! whose latest attempt is oldest go, so no flood of new keys resets every lockout at once.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, SemaphorePermit};

use crate::evict::evict_oldest;

/// Keys (user names and addresses) tracked at most.
pub const MAX_KEYS: usize = 100_000;
/// Password verifications running at once, across all sign-ins.
pub const MAX_VERIFYING: usize = 4;

#[derive(Debug)]
pub struct LoginLimiter {
    attempts: Mutex<HashMap<String, VecDeque<Instant>>>,
    verifying: Semaphore,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        Self {
            attempts: Mutex::default(),
            verifying: Semaphore::new(MAX_VERIFYING),
        }
    }
}

/// Attempts counted ahead of a verification: kept as failures unless [`LoginLimiter::refund`]
/// gives them back.
#[derive(Debug)]
#[must_use = "a reservation is a counted attempt"]
pub struct Reservation {
    entries: Vec<(String, Instant)>,
}

impl LoginLimiter {
    /// Counts one attempt against every `(key, limit)`, or answers how long to wait when one of
    /// them already has `limit` attempts within `window` (then nothing is counted).
    pub fn reserve(&self, keys: &[(&str, u32)], window: Duration) -> Result<Reservation, Duration> {
        self.reserve_at(Instant::now(), keys, window)
    }

    fn reserve_at(
        &self,
        now: Instant,
        keys: &[(&str, u32)],
        window: Duration,
    ) -> Result<Reservation, Duration> {
        let mut map = self.attempts.lock().unwrap_or_else(PoisonError::into_inner);
        let mut wait: Option<Duration> = None;
        for (key, limit) in keys {
            let Some(list) = map.get_mut(*key) else {
                continue;
            };
            expire(list, now, window);
            if list.len() >= *limit as usize
                && let Some(oldest) = list.front()
            {
                let w = window.saturating_sub(now.saturating_duration_since(*oldest));
                wait = Some(wait.map_or(w, |x| x.max(w)));
            }
        }
        if let Some(w) = wait {
            return Err(w);
        }
        let new_keys = keys.iter().filter(|(k, _)| !map.contains_key(*k)).count();
        if map.len() + new_keys > MAX_KEYS {
            make_room(&mut map, now, window, MAX_KEYS - new_keys.min(MAX_KEYS));
        }
        let entries = keys
            .iter()
            .map(|(key, _)| {
                map.entry((*key).to_owned()).or_default().push_back(now);
                ((*key).to_owned(), now)
            })
            .collect();
        Ok(Reservation { entries })
    }

    /// Gives back the attempts of a sign-in that succeeded; the user name's earlier failures
    /// are forgiven too.
    pub fn refund(&self, reservation: Reservation, user_key: &str) {
        let mut map = self.attempts.lock().unwrap_or_else(PoisonError::into_inner);
        for (key, at) in reservation.entries {
            if let Some(list) = map.get_mut(&key)
                && let Some(i) = list.iter().position(|t| *t == at)
            {
                list.remove(i);
            }
        }
        map.remove(user_key);
        map.retain(|_, list| !list.is_empty());
    }

    /// A turn to verify a password: waits while [`MAX_VERIFYING`] others verify, up to
    /// `patience` (`None`: the server is too busy, try again).
    pub async fn verification_slot(&self, patience: Duration) -> Option<SemaphorePermit<'_>> {
        tokio::time::timeout(patience, self.verifying.acquire())
            .await
            .ok()?
            .ok()
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.attempts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

fn expire(list: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while list
        .front()
        .is_some_and(|t| now.saturating_duration_since(*t) >= window)
    {
        list.pop_front();
    }
}

/// Shrinks `map` to at most `keep` keys: expired attempts first, then the keys whose latest
/// attempt is the oldest.
fn make_room(
    map: &mut HashMap<String, VecDeque<Instant>>,
    now: Instant,
    window: Duration,
    keep: usize,
) {
    map.retain(|_, list| {
        expire(list, now, window);
        !list.is_empty()
    });
    // Every list left holds an attempt: its latest is the key's age.
    evict_oldest(map, keep, |list| list.back().copied());
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: Duration = Duration::from_secs(60);

    #[test]
    fn limits_after_the_allowed_attempts_and_a_success_refunds() {
        let l = LoginLimiter::default();
        for _ in 0..3 {
            let r = l
                .reserve(&[("u:bob", 3), ("a:1", 100)], W)
                .expect("allowed");
            drop(r);
        }
        let wait = l.reserve(&[("u:bob", 3)], W).expect_err("limited");
        assert!(wait <= W && wait > Duration::from_secs(50));
        assert!(l.reserve(&[("u:alice", 3)], W).is_ok());
        let r = l
            .reserve(&[("u:carol", 1), ("a:1", 100)], W)
            .expect("first");
        l.refund(r, "u:carol");
        assert!(l.reserve(&[("u:carol", 1)], W).is_ok(), "refunded");
    }

    #[test]
    fn attempts_in_flight_count_against_the_limit() {
        // Reservations not yet resolved (passwords being verified) already count: the sixth
        // concurrent attempt is refused before any verification finished.
        let l = LoginLimiter::default();
        let held: Vec<Reservation> = (0..5)
            .map(|_| l.reserve(&[("u:bob", 5)], W).expect("within the limit"))
            .collect();
        assert!(l.reserve(&[("u:bob", 5)], W).is_err());
        assert_eq!(held.len(), 5);
    }

    #[test]
    fn a_full_map_prunes_expired_keys_and_keeps_live_lockouts() {
        let l = LoginLimiter::default();
        let t0 = Instant::now();
        for i in 0..MAX_KEYS - 1 {
            let key = format!("a:{i}");
            let _ = l.reserve_at(t0, &[(&key, 5)], W).expect("allowed");
        }
        let t1 = t0 + W / 2;
        for _ in 0..5 {
            let _ = l.reserve_at(t1, &[("u:bob", 5)], W).expect("allowed");
        }
        // The old keys expire; a new key arrives at a full map.
        let t2 = t0 + W;
        let _ = l.reserve_at(t2, &[("a:new", 5)], W).expect("allowed");
        assert!(
            l.reserve_at(t2, &[("u:bob", 5)], W).is_err(),
            "bob's lockout survives"
        );
        assert_eq!(l.len(), 2);
    }

    #[test]
    fn a_full_map_of_live_keys_evicts_the_oldest_only() {
        let l = LoginLimiter::default();
        let t0 = Instant::now();
        for _ in 0..2 {
            let _ = l.reserve_at(t0, &[("u:old", 2)], W).expect("allowed");
        }
        let t1 = t0 + Duration::from_secs(1);
        for _ in 0..2 {
            let _ = l.reserve_at(t1, &[("u:bob", 2)], W).expect("allowed");
        }
        let t2 = t1 + Duration::from_secs(1);
        for i in 0..MAX_KEYS - 1 {
            let key = format!("a:{i}");
            let _ = l.reserve_at(t2, &[(&key, 5)], W).expect("allowed");
        }
        assert_eq!(l.len(), MAX_KEYS);
        assert!(l.reserve_at(t2, &[("u:bob", 2)], W).is_err(), "kept");
        assert!(l.reserve_at(t2, &[("u:old", 2)], W).is_ok(), "evicted");
    }

    #[tokio::test]
    async fn verifications_are_bounded() {
        let l = LoginLimiter::default();
        let mut permits = Vec::new();
        for _ in 0..MAX_VERIFYING {
            permits.push(l.verification_slot(W).await.expect("a slot"));
        }
        assert!(l.verification_slot(Duration::ZERO).await.is_none());
        permits.pop();
        assert!(l.verification_slot(Duration::ZERO).await.is_some());
    }
}
