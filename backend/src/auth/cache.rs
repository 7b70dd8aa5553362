//! Authentication and authorization answered from memory: API tokens and sessions by hash, each
//! user's teams and each project's RoleBindings, as the store last answered them.
//!
//! Exactness comes from the store's access epoch (`ChangeStore::access_epoch`), which moves in
//! the transaction of every change to who may do what: a binding, user or team added, changed
//! or removed, a token, session or project removed (the schema's triggers, on every replica's
//! writes). Every entry is tagged with the epoch read *before* the store was asked for it, and a
//! lookup answers from memory only when the epoch now is that same one; when it moved,
//! everything is dropped and read again. So a revoked token, a deleted user or a removed role
//! is refused by the next request, including after a change made through another replica (on
//! PostgreSQL the epoch is read from the database on each request for exactly that reason; on
//! SQLite, where this process makes every write, it is read again only after a commit: see
//! `ChangeStore::read_point`).
//!
//! What is not exact by the epoch is checked on every use: a token's expiry and a session's
//! idle and absolute limits (against the clock), and a session's `last_seen`, which another
//! replica may have moved (a session that looks expired from memory is read again before it is
//! ended).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use tagstream_shared::ProjectName;
use tagstream_shared::user::{Group, RoleBinding};

use crate::store::{Objects as _, ReadPoint, Session, Store, StoreResult, StoredToken};

/// Entries kept per map: a flood of distinct tokens or users empties a map rather than growing
/// it without bound.
const MAX_ENTRIES: usize = 10_000;

/// Every RoleBinding of every project, by project.
pub type AllBindings = BTreeMap<String, Vec<RoleBinding>>;

/// The cache; one per server, in `AppState`.
#[derive(Debug, Default)]
pub struct AuthCache {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// The access epoch every entry below was read at (or after).
    epoch: u64,
    tokens: HashMap<String, StoredToken>,
    sessions: HashMap<String, Session>,
    /// A user's name → the stored Groups that list them.
    teams: HashMap<String, Arc<[String]>>,
    /// A project's name → its RoleBindings.
    bindings: HashMap<String, Arc<[RoleBinding]>>,
    all_bindings: Option<Arc<AllBindings>>,
}

impl Inner {
    /// Drops everything when `epoch` is newer than what the entries were read at; answers
    /// whether entries may be used (and stored) at `epoch`.
    fn at(&mut self, epoch: u64) -> bool {
        if epoch > self.epoch {
            *self = Self {
                epoch,
                ..Self::default()
            };
        }
        epoch == self.epoch
    }
}

fn put<V>(map: &mut HashMap<String, V>, key: &str, value: V) {
    if map.len() >= MAX_ENTRIES && !map.contains_key(key) {
        map.clear();
    }
    map.insert(key.to_owned(), value);
}

impl AuthCache {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The maps hold no invariant a panic could break halfway: a poisoned lock is usable.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The store's read point now: its epoch is what the lookups below are answered at.
    pub async fn point(&self, store: &dyn Store) -> StoreResult<ReadPoint> {
        store.read_point().await
    }

    /// The lookups at access `epoch` (read from `store` just before), answered from memory
    /// when they can be.
    pub fn at<'a>(&'a self, store: &'a dyn Store, epoch: u64) -> CacheAt<'a> {
        CacheAt {
            cache: self,
            store,
            epoch,
        }
    }

    /// Records that the session's use was stored at `now` (so it is not recorded again at once).
    pub fn touched(&self, hash: &str, now: i64) {
        if let Some(s) = self.lock().sessions.get_mut(hash) {
            s.last_seen = s.last_seen.max(now);
        }
    }
}

/// The cache's lookups at one access epoch, over one store (see [`AuthCache::at`]).
pub struct CacheAt<'a> {
    cache: &'a AuthCache,
    store: &'a dyn Store,
    epoch: u64,
}

impl std::fmt::Debug for CacheAt<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheAt")
            .field("epoch", &self.epoch)
            .finish_non_exhaustive()
    }
}

impl CacheAt<'_> {
    /// Answers from memory at the epoch when it can; otherwise runs `load` and keeps its answer
    /// (unless the epoch moved on meanwhile: then the next lookup reads again anyway).
    async fn cached<V: Clone>(
        &self,
        map: fn(&mut Inner) -> &mut HashMap<String, V>,
        key: &str,
        load: impl Future<Output = StoreResult<Option<V>>>,
    ) -> StoreResult<Option<V>> {
        {
            let mut inner = self.cache.lock();
            if inner.at(self.epoch)
                && let Some(v) = map(&mut inner).get(key)
            {
                return Ok(Some(v.clone()));
            }
        }
        let loaded = load.await?;
        if let Some(v) = &loaded {
            let mut inner = self.cache.lock();
            if inner.at(self.epoch) {
                put(map(&mut inner), key, v.clone());
            }
        }
        Ok(loaded)
    }

    /// The token with this hash (expiry not checked: the caller checks it against the clock).
    pub async fn token(&self, hash: &str) -> StoreResult<Option<StoredToken>> {
        self.cached(|i| &mut i.tokens, hash, self.store.token_by_hash(hash))
            .await
    }

    /// The session with this hash, from memory: its `last_seen` may be older than the stored
    /// one (another replica recorded use), so a session that looks expired from here must be
    /// read with [`CacheAt::session_fresh`] before it is ended.
    pub async fn session(&self, hash: &str) -> StoreResult<Option<Session>> {
        self.cached(|i| &mut i.sessions, hash, self.store.session(hash))
            .await
    }

    /// The session as stored now, kept for the next lookup.
    pub async fn session_fresh(&self, hash: &str) -> StoreResult<Option<Session>> {
        let stored = self.store.session(hash).await?;
        let mut inner = self.cache.lock();
        if inner.at(self.epoch) {
            match &stored {
                Some(s) => put(&mut inner.sessions, hash, s.clone()),
                None => {
                    inner.sessions.remove(hash);
                }
            }
        }
        Ok(stored)
    }

    /// The stored Groups that list user `name`.
    pub async fn teams(&self, name: &str) -> StoreResult<Arc<[String]>> {
        let load = async {
            let groups = self.store.list::<Group>(None).await?.items;
            let teams: Arc<[String]> = groups
                .into_iter()
                .filter(|g| g.users.iter().any(|u| u == name))
                .map(|g| g.metadata.name().to_owned())
                .collect();
            Ok(Some(teams))
        };
        Ok(self
            .cached(|i| &mut i.teams, name, load)
            .await?
            .unwrap_or_default())
    }

    /// Project `ns`'s RoleBindings.
    pub async fn bindings(&self, ns: &ProjectName) -> StoreResult<Arc<[RoleBinding]>> {
        let load = async {
            let bindings: Arc<[RoleBinding]> =
                self.store.list::<RoleBinding>(Some(ns)).await?.items.into();
            Ok(Some(bindings))
        };
        Ok(self
            .cached(|i| &mut i.bindings, ns.as_str(), load)
            .await?
            .unwrap_or_default())
    }

    /// Every project's RoleBindings (what a caller may see across projects).
    pub async fn all_bindings(&self) -> StoreResult<Arc<AllBindings>> {
        {
            let mut inner = self.cache.lock();
            if inner.at(self.epoch)
                && let Some(all) = &inner.all_bindings
            {
                return Ok(all.clone());
            }
        }
        let mut by_ns = AllBindings::new();
        for (ns, b) in self.store.all_role_bindings().await? {
            by_ns.entry(ns).or_default().push(b);
        }
        let all = Arc::new(by_ns);
        let mut inner = self.cache.lock();
        if inner.at(self.epoch) {
            inner.all_bindings = Some(all.clone());
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newer_epoch_drops_everything_and_an_older_one_stores_nothing() {
        let mut inner = Inner::default();
        assert!(inner.at(3));
        put(
            &mut inner.teams,
            "alice",
            Arc::from(vec!["devs".to_owned()]),
        );
        assert!(inner.at(3));
        assert!(inner.teams.contains_key("alice"));
        // A lookup that read the epoch before a change, finishing after a newer one was seen.
        assert!(inner.at(4));
        assert!(inner.teams.is_empty());
        assert!(!inner.at(3), "an answer read at an older epoch is not kept");
    }
}
