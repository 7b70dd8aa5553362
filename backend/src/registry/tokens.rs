//! The registry client's small caches keyed by what registries send: Bearer tokens per
//! registry and scope, and a flag or scheme per registry host. Token servers and repository
//! names come from outside, so every map here is bounded (expired entries go first, then the
//! oldest), a lifetime from a token server is clamped, and nothing panics while a lock is held
//! (a poisoned lock is taken over, not given up on: the data is a cache).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::evict::evict_oldest;

/// Token lifetime when the token server does not say.
pub const DEFAULT_TOKEN_SECONDS: u64 = 60;
/// The longest a token is kept, whatever the token server says: a token server answering
/// `expires_in` of years (or `u64::MAX`) still gets asked again within the hour.
pub const MAX_TOKEN_SECONDS: u64 = 3600;
/// Tokens kept at most (one per registry and repository pulled from).
pub const MAX_TOKENS: usize = 4096;
/// Registry hosts remembered at most (Basic flag, scheme, rate-limit slot).
pub const MAX_HOSTS: usize = 1024;

/// How long a token answered with `expires_in` is used: refreshed a little early so that a
/// request never carries a token about to expire, and never longer than [`MAX_TOKEN_SECONDS`].
pub fn token_lifetime(expires_in: Option<u64>) -> Duration {
    let seconds = expires_in
        .unwrap_or(DEFAULT_TOKEN_SECONDS)
        .clamp(10, MAX_TOKEN_SECONDS)
        - 5;
    Duration::from_secs(seconds)
}

/// Takes the lock even after a panic elsewhere poisoned it: a cache stays usable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Bearer tokens by (registry host, scope), each until it expires.
#[derive(Debug, Default)]
pub struct TokenCache {
    tokens: Mutex<HashMap<(String, String), (String, Instant)>>,
}

impl TokenCache {
    /// The token for `key`, if one is cached and still valid.
    pub fn get(&self, key: &(String, String)) -> Option<String> {
        let now = Instant::now();
        lock(&self.tokens)
            .get(key)
            .filter(|(_, expires)| *expires > now)
            .map(|(value, _)| value.clone())
    }

    /// Keeps `value` for `key` for `lifetime` (see [`token_lifetime`]).
    pub fn insert(&self, key: (String, String), value: String, lifetime: Duration) {
        let now = Instant::now();
        // Computed before the lock; a lifetime past what `Instant` holds (it cannot be, after
        // `token_lifetime`) keeps the token for the longest allowed instead of panicking.
        let expires = now
            .checked_add(lifetime)
            .or_else(|| now.checked_add(Duration::from_secs(MAX_TOKEN_SECONDS)))
            .unwrap_or(now);
        let mut tokens = lock(&self.tokens);
        if tokens.len() >= MAX_TOKENS && !tokens.contains_key(&key) {
            tokens.retain(|_, (_, e)| *e > now);
            evict_oldest(&mut tokens, MAX_TOKENS - 1, |(_, e)| *e);
        }
        tokens.insert(key, (value, expires));
    }

    pub fn len(&self) -> usize {
        lock(&self.tokens).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A value per registry host, at most [`MAX_HOSTS`] of them (the least recently written go).
#[derive(Debug)]
pub struct HostMap<V> {
    map: Mutex<HashMap<String, (V, Instant)>>,
}

impl<V> Default for HostMap<V> {
    fn default() -> Self {
        Self {
            map: Mutex::default(),
        }
    }
}

impl<V: Clone> HostMap<V> {
    pub fn get(&self, host: &str) -> Option<V> {
        lock(&self.map).get(host).map(|(v, _)| v.clone())
    }

    pub fn insert(&self, host: &str, value: V) {
        let mut map = lock(&self.map);
        if map.len() >= MAX_HOSTS && !map.contains_key(host) {
            evict_oldest(&mut map, MAX_HOSTS - 1, |(_, at)| *at);
        }
        map.insert(host.to_owned(), (value, Instant::now()));
    }

    /// Replaces the host's value with `f` of the old one, in one lock; answers what `f` answers.
    pub fn update<R>(&self, host: &str, f: impl FnOnce(Option<&V>) -> (V, R)) -> R {
        let mut map = lock(&self.map);
        let (value, out) = f(map.get(host).map(|(v, _)| v));
        if map.len() >= MAX_HOSTS && !map.contains_key(host) {
            evict_oldest(&mut map, MAX_HOSTS - 1, |(_, at)| *at);
        }
        map.insert(host.to_owned(), (value, Instant::now()));
        out
    }

    pub fn len(&self) -> usize {
        lock(&self.map).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_expires_in_gives_a_lifetime_within_bounds() {
        assert_eq!(token_lifetime(Some(u64::MAX)), Duration::from_secs(3595));
        assert_eq!(token_lifetime(Some(300)), Duration::from_secs(295));
        assert_eq!(token_lifetime(Some(0)), Duration::from_secs(5));
        assert_eq!(token_lifetime(None), Duration::from_secs(55));
        let cache = TokenCache::default();
        let key = ("r".to_owned(), "repository:a:pull".to_owned());
        cache.insert(key.clone(), "t".into(), token_lifetime(Some(u64::MAX)));
        cache.insert(key.clone(), "t2".into(), Duration::MAX);
        assert_eq!(cache.get(&key).as_deref(), Some("t2"));
    }

    #[test]
    fn the_token_cache_is_bounded_and_drops_expired_then_oldest() {
        let cache = TokenCache::default();
        let key = |i: usize| ("r".to_owned(), format!("repository:r{i}:pull"));
        cache.insert(key(0), "expired".into(), Duration::ZERO);
        for i in 1..MAX_TOKENS + 100 {
            cache.insert(key(i), format!("t{i}"), Duration::from_secs(60 + i as u64));
        }
        assert_eq!(cache.len(), MAX_TOKENS);
        assert_eq!(cache.get(&key(0)), None);
        assert_eq!(cache.get(&key(1)), None, "the soonest to expire went");
        let last = MAX_TOKENS + 99;
        assert_eq!(cache.get(&key(last)), Some(format!("t{last}")));
    }

    #[test]
    fn host_maps_are_bounded() {
        let hosts: HostMap<bool> = HostMap::default();
        for i in 0..MAX_HOSTS + 10 {
            hosts.insert(&format!("h{i}.example"), true);
        }
        assert_eq!(hosts.len(), MAX_HOSTS);
        assert_eq!(
            hosts.get(&format!("h{}.example", MAX_HOSTS + 9)),
            Some(true)
        );
        let got = hosts.update("h-new", |old| (old.is_none(), 7));
        assert_eq!((got, hosts.get("h-new")), (7, Some(true)));
        assert_eq!(hosts.len(), MAX_HOSTS);
    }
}
