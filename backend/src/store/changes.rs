//! What watches read: every committed change to a watched resource, in order, with the store's
//! revision, and a signal when more may have been committed.

use async_trait::async_trait;
use tagstream_shared::watch::WatchEventType;

use super::StoreResult;

/// One change as the store recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRow {
    /// The position in the change log (a cursor; not shown to clients).
    pub id: i64,
    /// The store revision of the write: the object's resourceVersion, or the deleting one.
    pub revision: u64,
    pub kind: WatchEventType,
    /// The plural resource: `imagestreams`, `projects`, `users`...
    pub resource: String,
    pub namespace: Option<String>,
    pub name: String,
    /// The object as stored (for a deletion, as it was).
    pub body: String,
}

/// Where a watch starts reading, or that it cannot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    /// Read rows after this one.
    After(i64),
    /// The changes after the asked revision are no longer kept (the newest pruned revision).
    Gone(u64),
}

/// Where the store is, read once at the start of a request: the access epoch (what the
/// authentication cache is answered at) and the revision of the newest committed write (what the
/// read cache, `crate::read_cache`, must have caught up with before it answers). Exact as of the
/// read: every write whose response went out before it (on any replica) is included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadPoint {
    pub epoch: u64,
    pub revision: u64,
}

/// The objects written after a revision, as the change log has them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedSince {
    /// The newest committed revision the answer covers: every change up to it is in `changes`
    /// (unless `pruned`).
    pub revision: u64,
    /// Rows after the asked revision were pruned: what changed is no longer known.
    pub pruned: bool,
    /// Each changed object's resource, project ('' cluster-wide) and name, and the revision
    /// of the change.
    pub changes: Vec<(String, String, String, u64)>,
}

#[async_trait]
pub trait ChangeStore: Send + Sync {
    /// Changes every time a write commits (its value means nothing but "look again").
    fn subscribe(&self) -> tokio::sync::watch::Receiver<u64>;
    /// The cursor for "every change after revision `after`".
    async fn cursor_after(&self, after: u64) -> StoreResult<Cursor>;
    /// Up to `limit` changes to `resource` after the cursor, and the cursor to read on from;
    /// `Err(floor)` when rows after the cursor were pruned meanwhile.
    async fn changes_after(
        &self,
        cursor: i64,
        resource: &str,
        limit: u32,
    ) -> StoreResult<Result<(Vec<ChangeRow>, i64), u64>>;
    /// Each project's name and the revision that created it (only project `only`'s, when
    /// given): a watch passes on only rows at or after it, so nothing of an earlier project of
    /// the same name is replayed.
    async fn project_floors(
        &self,
        only: Option<&str>,
    ) -> StoreResult<std::collections::BTreeMap<String, u64>>;
    /// A counter that moves in every transaction that changes who may do what (a binding, user
    /// or team added, changed or gone; a token, session or project gone): open watches re-check
    /// their caller when it moves, and the authentication cache (`auth::cache`) drops what it
    /// holds. Exact as of the call: a change committed before it (on any replica) has moved it.
    /// SQLite answers it from memory (one process makes every write); PostgreSQL reads its one
    /// row, since another replica may have committed a revocation a moment ago.
    async fn access_epoch(&self) -> StoreResult<u64>;
    /// The access epoch and the newest committed revision, in one read. SQLite answers it from
    /// memory until this process commits again (it makes every write); PostgreSQL reads both
    /// rows in one statement, since another replica may have committed a moment ago (a NOTIFY
    /// could still be on its way).
    async fn read_point(&self) -> StoreResult<ReadPoint>;
    /// Every change after revision `after`, up to the newest committed revision (at most
    /// `limit` rows: more is answered as `pruned`, since a reader would drop everything
    /// anyway).
    async fn changed_since(&self, after: u64, limit: u32) -> StoreResult<ChangedSince>;
    /// Keeps the last `keep` changes (whole revisions), as the store does on its own every few
    /// hundred writes; answers the new floor.
    async fn prune_changes(&self, keep: u64) -> StoreResult<u64>;
}
