//! Bodies answered from memory (issue 16): single objects of the generic `objects` table (a
//! stream GET, a template's, a binding's...) and a project's list of one resource, as the store
//! last answered them, kept exact by the store's change log.
//!
//! Exactness: every write takes the next revision and records each object it touches in the
//! change log in its own transaction (the schema's triggers, so no write path can forget it).
//! The cache knows the revision it has applied every change up to (`synced`). A request reads
//! the store's [`ReadPoint`] once, when it is authenticated (SQLite: from memory until this
//! process commits again; PostgreSQL: one statement, as the access epoch always was), and the
//! cache answers only once `synced` has reached that revision, first reading the changes after
//! `synced` when it has not (one query, only after writes). So a write whose response went out
//! before the request started, through this replica or another, has been applied: its object
//! (and its project's list) is gone from memory and read again. An entry read from the store is
//! kept only if no changes were applied while it was being read (else a change applied in
//! between could be older than the read but newer than what it would invalidate); and a change
//! removes an entry only if it is newer than the entry's own revision.
//!
//! The project list is kept too, whole (every project, each encoded once), since which projects
//! a caller sees differs per caller: the handler filters it (`access::visible_projects`, itself
//! from the auth cache). A project's change in the log drops it.
//!
//! Authorization is not this module's: the route's `Need` has been checked before a handler
//! asks, and entries are keyed by resource, project and name, so an answer never crosses
//! projects. A project's removal or re-creation drops every list (objects go with their
//! project one change each).
//!
//! Bounded: at most [`MAX_ENTRIES`] entries and [`MAX_BYTES`] of bodies; a body over
//! [`MAX_BODY`] is answered but not kept; the oldest entries go first.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use tagstream_shared::ProjectName;
use tagstream_shared::object::ApiResource;

use crate::app::AppState;
use crate::error::ApiError;
pub use crate::store::ReadPoint;
use crate::store::{Store, StoreResult};

/// Entries kept at most (objects and lists together).
pub const MAX_ENTRIES: usize = 10_000;
/// Bytes of bodies kept at most.
pub const MAX_BYTES: usize = 64 << 20;
/// A larger body is not kept (one entry must not push out everything else).
pub const MAX_BODY: usize = 8 << 20;
/// Changes read in one catch-up at most: after more, everything is dropped instead.
const CATCH_UP_ROWS: u32 = 5_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    /// resource, project ('' cluster-wide), name.
    Object(String, String, String),
    /// resource, project: the items of the project's list.
    List(String, String),
}

#[derive(Debug)]
struct Entry {
    bytes: Bytes,
    /// The object's resourceVersion, or the revision a list was read at: a change at or
    /// before it is already in `bytes`.
    revision: u64,
    /// Its place in `order`.
    seq: u64,
    /// A list's whole answer gzipped, and the revision that answer names.
    gzip: Option<(u64, Bytes)>,
}

impl Entry {
    fn size(&self) -> usize {
        self.bytes.len() + self.gzip.as_ref().map_or(0, |(_, g)| g.len())
    }
}

/// Every project by name, each as its JSON, in name order.
pub type ProjectItems = Arc<[(String, Bytes)]>;

#[derive(Debug, Default)]
struct Inner {
    /// Every change up to this revision has been applied (`None`: nothing read yet).
    synced: Option<u64>,
    /// Moves whenever changes are applied.
    applied: u64,
    entries: HashMap<Key, Entry>,
    /// Keys in insertion order, for eviction (a key whose entry was replaced or removed since
    /// stays until it is reached, and is skipped by its `seq`).
    order: VecDeque<(Key, u64)>,
    next_seq: u64,
    bytes: usize,
    /// Every project, and the revision it was read at (not counted in `bytes`: one small
    /// body per project).
    projects: Option<(u64, ProjectItems)>,
}

impl Inner {
    fn remove(&mut self, key: &Key, newer_than: Option<u64>) {
        if let Some(e) = self.entries.get(key)
            && newer_than.is_none_or(|rev| rev > e.revision)
            && let Some(e) = self.entries.remove(key)
        {
            self.bytes -= e.size();
        }
    }

    fn insert(&mut self, key: Key, bytes: Bytes, revision: u64) {
        if bytes.len() > MAX_BODY {
            return;
        }
        self.remove(&key, None);
        while !self.entries.is_empty()
            && (self.entries.len() >= MAX_ENTRIES || self.bytes + bytes.len() > MAX_BYTES)
        {
            let Some((old, seq)) = self.order.pop_front() else {
                break;
            };
            if self.entries.get(&old).is_some_and(|e| e.seq == seq) {
                self.remove(&old, None);
            }
        }
        if self.order.len() > 2 * MAX_ENTRIES {
            let entries = &self.entries;
            self.order
                .retain(|(k, seq)| entries.get(k).is_some_and(|e| e.seq == *seq));
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.bytes += bytes.len();
        self.order.push_back((key.clone(), seq));
        self.entries.insert(
            key,
            Entry {
                bytes,
                revision,
                seq,
                gzip: None,
            },
        );
    }

    fn clear(&mut self) {
        self.entries.clear();
        self.order.clear();
        self.bytes = 0;
        self.projects = None;
    }
}

/// The cache; one per server, in `AppState`.
#[derive(Debug, Default)]
pub struct ReadCache {
    inner: Mutex<Inner>,
    /// One catch-up at a time; the others wait for it and find it done.
    catching_up: tokio::sync::Mutex<()>,
}

impl ReadCache {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // No invariant a panic could break halfway matters more than an entry lost: usable.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Applies the change log until it covers `point`; answers the `applied` count then.
    async fn catch_up(&self, store: &dyn Store, point: ReadPoint) -> StoreResult<u64> {
        {
            let mut inner = self.lock();
            match inner.synced {
                Some(s) if s >= point.revision => return Ok(inner.applied),
                // Nothing kept yet: whatever is read from now on is at least this new.
                None => {
                    inner.synced = Some(point.revision);
                    inner.applied += 1;
                    return Ok(inner.applied);
                }
                Some(_) => {}
            }
        }
        let _one = self.catching_up.lock().await;
        let from = {
            let inner = self.lock();
            match inner.synced {
                Some(s) if s >= point.revision => return Ok(inner.applied),
                Some(s) => s,
                None => 0,
            }
        };
        let changed = store.changed_since(from, CATCH_UP_ROWS).await?;
        let mut inner = self.lock();
        if changed.pruned {
            inner.clear();
        }
        for (resource, ns, name, revision) in changed.changes {
            if resource == "projects" {
                if inner
                    .projects
                    .as_ref()
                    .is_some_and(|(at, _)| revision > *at)
                {
                    inner.projects = None;
                }
                // A project gone or made again: its lists go (a list answers 404 without it).
                let entries = &mut inner.entries;
                let mut freed = 0;
                entries.retain(|k, e| {
                    let keep = !matches!(k, Key::List(_, list_ns) if *list_ns == name);
                    if !keep {
                        freed += e.size();
                    }
                    keep
                });
                inner.bytes -= freed;
                continue;
            }
            inner.remove(&Key::List(resource.clone(), ns.clone()), Some(revision));
            inner.remove(&Key::Object(resource, ns, name), Some(revision));
        }
        inner.synced = Some(changed.revision.max(from));
        inner.applied += 1;
        Ok(inner.applied)
    }

    /// Object `name` of resource `r` in project `ns` ('' for a cluster-wide kind), as stored:
    /// from memory when the store has not changed it since it was read.
    pub async fn object(
        &self,
        store: &dyn Store,
        point: ReadPoint,
        r: &'static ApiResource,
        ns: &str,
        name: &str,
    ) -> StoreResult<Bytes> {
        let applied = self.catch_up(store, point).await?;
        let key = Key::Object(r.plural.to_owned(), ns.to_owned(), name.to_owned());
        if let Some(e) = self.lock().entries.get(&key) {
            return Ok(e.bytes.clone());
        }
        let (revision, body) = store.get_row(r, ns, name).await?;
        let bytes = Bytes::from(body);
        let mut inner = self.lock();
        if inner.applied == applied {
            inner.insert(key, bytes.clone(), revision);
        }
        Ok(bytes)
    }

    /// Project `ns`'s objects of resource `r`: the revision the answer is at and the list's
    /// items as `raw::list_items` writes them; `NotFound` for a missing project.
    pub async fn list(
        &self,
        store: &dyn Store,
        point: ReadPoint,
        r: &'static ApiResource,
        ns: &ProjectName,
    ) -> StoreResult<(u64, Bytes)> {
        let applied = self.catch_up(store, point).await?;
        let key = Key::List(r.plural.to_owned(), ns.as_str().to_owned());
        if let Some(e) = self.lock().entries.get(&key) {
            // Nothing in it changed up to `synced` (which covers the request's point): the
            // list at the request's point is these items.
            return Ok((e.revision.max(point.revision), e.bytes.clone()));
        }
        store.get_project(ns).await?;
        let listed = store.list_bodies(r, Some(ns.as_str())).await?;
        let bytes = Bytes::from(crate::api::raw::list_items(&listed.items));
        let mut inner = self.lock();
        if inner.applied == applied {
            inner.insert(key, bytes.clone(), listed.resource_version);
        }
        Ok((listed.resource_version, bytes))
    }

    /// Every project (each encoded as the model encodes it) and the revision the answer is at:
    /// the project list before it is filtered for its caller.
    pub async fn projects(
        &self,
        store: &dyn Store,
        point: ReadPoint,
    ) -> StoreResult<(u64, ProjectItems)> {
        let applied = self.catch_up(store, point).await?;
        if let Some((at, items)) = &self.lock().projects {
            return Ok(((*at).max(point.revision), items.clone()));
        }
        let listed = store.list_projects().await?;
        let items = listed
            .items
            .iter()
            .map(|p| {
                Ok((
                    p.metadata.name().to_owned(),
                    Bytes::from(serde_json::to_vec(p)?),
                ))
            })
            .collect::<StoreResult<ProjectItems>>()?;
        let mut inner = self.lock();
        if inner.applied == applied {
            inner.projects = Some((listed.resource_version, items.clone()));
        }
        Ok((listed.resource_version, items))
    }

    /// The gzip of a list's whole answer at `revision`, kept by [`ReadCache::keep_gzip`],
    /// if the list's items are still `items` (as [`ReadCache::list`] answered them).
    pub fn cached_gzip(
        &self,
        r: &'static ApiResource,
        ns: &ProjectName,
        revision: u64,
        items: &Bytes,
    ) -> Option<Bytes> {
        let key = Key::List(r.plural.to_owned(), ns.as_str().to_owned());
        let inner = self.lock();
        let e = inner.entries.get(&key)?;
        let (at, gz) = e.gzip.as_ref()?;
        (same_bytes(&e.bytes, items) && *at == revision).then(|| gz.clone())
    }

    /// Keeps `gz`, the gzip of a list's whole answer at `revision`, beside its items while
    /// they stay (a big list is compressed once per revision rather than once per request).
    pub fn keep_gzip(
        &self,
        r: &'static ApiResource,
        ns: &ProjectName,
        revision: u64,
        items: &Bytes,
        gz: Bytes,
    ) {
        let key = Key::List(r.plural.to_owned(), ns.as_str().to_owned());
        let mut inner = self.lock();
        let mut grew = 0;
        if let Some(e) = inner.entries.get_mut(&key)
            && same_bytes(&e.bytes, items)
        {
            let before = e.size();
            e.gzip = Some((revision, gz));
            grew = e.size().saturating_sub(before);
        }
        inner.bytes += grew;
    }

    /// Entries and bytes held now (for tests and logs).
    pub fn size(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.entries.len(), inner.bytes)
    }
}

/// The very bytes an entry holds (one allocation), not merely equal ones.
fn same_bytes(a: &Bytes, b: &Bytes) -> bool {
    a.as_ptr() == b.as_ptr() && a.len() == b.len()
}

/// `bytes` gzipped at the fastest level (a 5 MB list in tens of milliseconds, about tenfold
/// smaller).
pub fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write as _;
    let mut out = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 8),
        flate2::Compression::fast(),
    );
    out.write_all(bytes)?;
    out.finish()
}

/// Whether the client accepts gzip (`Accept-Encoding`, a zero q-value refusing it).
pub fn accepts_gzip(headers: &axum::http::HeaderMap) -> bool {
    accepts(headers, "gzip")
}

/// Whether the client accepts content coding `coding` (`Accept-Encoding`, a zero q-value
/// refusing it).
pub fn accepts(headers: &axum::http::HeaderMap, coding: &str) -> bool {
    headers
        .get_all(axum::http::header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|offered| {
            let mut parts = offered.split(';').map(str::trim);
            parts.next().is_some_and(|c| c.eq_ignore_ascii_case(coding))
                && !parts.any(|p| {
                    p.strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                        .is_some_and(|q| q <= 0.0)
                })
        })
}

/// A handler's read point: the one its request's authentication read (see
/// `auth::authenticate`), or one read now when no credential was looked up.
#[derive(Debug, Clone, Copy)]
pub struct Point(pub ReadPoint);

impl axum::extract::FromRequestParts<AppState> for Point {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, ApiError> {
        if let Some(point) = parts.extensions.get::<ReadPoint>() {
            return Ok(Self(*point));
        }
        Ok(Self(state.store.read_point().await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(name: &str) -> Key {
        Key::Object("imagestreams".into(), "demo".into(), name.into())
    }

    #[test]
    fn gzip_is_accepted_unless_refused() {
        let with = |v: &'static str| {
            let mut h = axum::http::HeaderMap::new();
            h.insert(
                axum::http::header::ACCEPT_ENCODING,
                axum::http::HeaderValue::from_static(v),
            );
            accepts_gzip(&h)
        };
        assert!(with("gzip"));
        assert!(with("br, GZIP;q=0.5"));
        assert!(!with("gzip;q=0"));
        assert!(!with("br, deflate"));
        assert!(!accepts_gzip(&axum::http::HeaderMap::new()));
    }

    #[test]
    fn a_change_removes_only_what_is_older_than_it() {
        let mut inner = Inner::default();
        inner.insert(object("a"), Bytes::from_static(b"{}"), 5);
        inner.remove(&object("a"), Some(5));
        assert!(
            inner.entries.contains_key(&object("a")),
            "read at 5: has it"
        );
        inner.remove(&object("a"), Some(6));
        assert!(inner.entries.is_empty());
        assert_eq!(inner.bytes, 0);
    }

    #[test]
    fn entries_and_bytes_stay_bounded_oldest_out_first() {
        let mut inner = Inner::default();
        for i in 0..MAX_ENTRIES + 10 {
            inner.insert(object(&i.to_string()), Bytes::from_static(b"{}"), 1);
        }
        assert_eq!(inner.entries.len(), MAX_ENTRIES);
        assert!(!inner.entries.contains_key(&object("0")));
        assert!(
            inner
                .entries
                .contains_key(&object(&(MAX_ENTRIES + 9).to_string()))
        );
        let big = Bytes::from(vec![b' '; MAX_BODY]);
        for i in 0..(MAX_BYTES / MAX_BODY) + 2 {
            inner.insert(object(&format!("big{i}")), big.clone(), 1);
        }
        assert!(inner.bytes <= MAX_BYTES, "{} bytes", inner.bytes);
        inner.insert(object("huge"), Bytes::from(vec![b' '; MAX_BODY + 1]), 1);
        assert!(!inner.entries.contains_key(&object("huge")));
        assert!(inner.order.len() <= 2 * MAX_ENTRIES + 1);
    }
}
