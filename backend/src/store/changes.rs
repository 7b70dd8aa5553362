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
    /// Keeps the last `keep` changes (whole revisions), as the store does on its own every few
    /// hundred writes; answers the new floor.
    async fn prune_changes(&self, keep: u64) -> StoreResult<u64>;
}
