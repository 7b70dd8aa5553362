//! Repositories of the integrated registry to purge (migration 0014): recorded inside the unit
//! of work that deletes a stream or a project, so the delete never waits on the registry and a
//! purge is never forgotten; claimed by one replica at a time (`FOR UPDATE SKIP LOCKED` and a
//! lease on PostgreSQL, as webhook deliveries are) and retried until it succeeded.
//!
//! Beside them, every manifest the registry's notifications said was pushed (migration 0016,
//! by repository and digest, tagged or not): a purge deletes each of its repositories' recorded
//! manifests too, since a digest that left the history (or never had a tag) is not listed by the
//! registry, and forgets the records whose manifests it deleted.

use async_trait::async_trait;
use tagstream_shared::ImageStream;

use super::StoreResult;

/// The most digests one purge remembers from a stream's history (history is bounded anyway).
pub const MAX_DIGESTS: usize = 2_000;

/// A purge to run now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuePurge {
    /// `project/stream`, or `project/` for every repository of a deleted project.
    pub repository: String,
    /// Digests the deleted stream's history named (the registry lists tags, not old digests).
    pub digests: Vec<String>,
    /// Unix seconds of the delete.
    pub created: i64,
    pub attempts: u32,
}

/// A manifest the registry's notifications said was pushed, as a purge read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    pub repository: String,
    pub digest: String,
    /// How many notifications of it were heard when it was read: it is forgotten only if no
    /// later one came (the manifest may have been pushed again since it was deleted).
    pub pushes: i64,
}

/// What became of one pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PurgeOutcome {
    /// Purged after every token issued before the delete ran out: the row goes.
    Done,
    /// Purged or failed; look again at `at` (Unix seconds).
    Again { at: i64, error: Option<String> },
}

#[async_trait]
pub trait PurgeStore: Send + Sync {
    /// Whether a purge of `repository` (`project/stream`) or of its whole project is pending:
    /// the token server then grants nothing on it.
    async fn purge_pending(&self, repository: &str) -> StoreResult<bool>;
    /// Claims the purges due at `now` (Unix seconds) for this replica, for a lease.
    async fn due_purges(&self, now: i64, limit: u32) -> StoreResult<Vec<DuePurge>>;
    /// When the next purge is due, if any.
    async fn next_purge_due(&self) -> StoreResult<Option<i64>>;
    /// Records a pass over `purge`; `Done` removes it unless a later delete renewed it.
    async fn finish_purge(&self, purge: &DuePurge, outcome: PurgeOutcome) -> StoreResult<()>;
    /// Extends this replica's claims on the purges of `repositories` by a lease from `now`,
    /// while their passes run.
    async fn renew_purges(&self, repositories: &[String], now: i64) -> StoreResult<()>;
    /// Records that the registry stored manifest `digest` in `repository` (`project/stream`);
    /// one row per repository and digest, whatever the number of pushes.
    async fn record_push(&self, repository: &str, digest: &str, now: i64) -> StoreResult<()>;
    /// Up to `limit` recorded manifests of `repository`, or of every repository of a project
    /// when it is `project/`.
    async fn pushed(&self, repository: &str, limit: u32) -> StoreResult<Vec<Pushed>>;
    /// Forgets `pushed` (its manifest was deleted), unless a push of it was heard since it was
    /// read.
    async fn forget_push(&self, pushed: &Pushed) -> StoreResult<()>;
}

/// The digests a deleted stream's history named, its body as stored.
pub fn history_digests(body: &str) -> Vec<String> {
    let Ok(stream) = serde_json::from_str::<ImageStream>(body) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for item in stream.status.tags.iter().flat_map(|l| l.items.iter()) {
        if item.image.starts_with("sha256:") && !out.contains(&item.image) {
            out.push(item.image.clone());
        }
    }
    out.truncate(MAX_DIGESTS);
    out
}

/// A claimed purge's row: repository, digests (JSON), created, attempts.
pub(super) type DuePurgeRow = (String, String, i64, i64);

impl From<DuePurgeRow> for DuePurge {
    fn from((repository, digests, created, attempts): DuePurgeRow) -> Self {
        DuePurge {
            repository,
            digests: serde_json::from_str(&digests).unwrap_or_default(),
            created,
            attempts: u32::try_from(attempts).unwrap_or_default(),
        }
    }
}

/// A recorded push's row: repository, digest, pushes.
pub(super) type PushedRow = (String, String, i64);

impl From<PushedRow> for Pushed {
    fn from((repository, digest, pushes): PushedRow) -> Self {
        Pushed {
            repository,
            digest,
            pushes,
        }
    }
}

/// The purge SQL of `$store` on `$db`; `$lock` is what a claim's inner select locks rows with,
/// `$owner` names this replica in leases.
macro_rules! purge_sql {
    ($store:ty, $db:ty, $lock:literal, $owner:expr) => {
        const _: () = {
            use $crate::store::StoreResult;
            use $crate::store::purges::{
                DuePurge, PurgeOutcome, PurgeStore, Pushed, history_digests,
            };
            use $crate::store::unit::WriteTx;

            impl $store {
                /// Records in `tx` that `repository` must be purged of `digests` (and whatever
                /// its tags name), merged with a purge of it still pending.
                pub(super) async fn queue_purge_in(
                    tx: &mut WriteTx<$db>,
                    repository: &str,
                    mut digests: Vec<String>,
                ) -> StoreResult<()> {
                    let pending: Option<String> = sqlx::query_scalar(&Self::sql(
                        "SELECT digests FROM registry_purges WHERE repository = ?",
                    ))
                    .bind(repository)
                    .fetch_optional(&mut **tx)
                    .await?;
                    if let Some(pending) = pending {
                        let old: Vec<String> = serde_json::from_str(&pending).unwrap_or_default();
                        for d in old {
                            if !digests.contains(&d) {
                                digests.push(d);
                            }
                        }
                        digests.truncate($crate::store::purges::MAX_DIGESTS);
                    }
                    let now = tagstream_shared::Time::now().timestamp();
                    sqlx::query(&Self::sql(
                        "INSERT INTO registry_purges (repository, digests, created, next_attempt) \
                         VALUES (?, ?, ?, ?) ON CONFLICT (repository) DO UPDATE SET \
                         digests = excluded.digests, created = excluded.created, \
                         next_attempt = excluded.next_attempt, attempts = 0",
                    ))
                    .bind(repository)
                    .bind(serde_json::to_string(&digests)?)
                    .bind(now)
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
                    Ok(())
                }

                /// A deleted stream's repository, with the digests its body's history names.
                pub(super) async fn queue_stream_purge_in(
                    tx: &mut WriteTx<$db>,
                    ns: &str,
                    name: &str,
                    body: &str,
                ) -> StoreResult<()> {
                    Self::queue_purge_in(tx, &format!("{ns}/{name}"), history_digests(body)).await
                }
            }

            #[async_trait::async_trait]
            impl PurgeStore for $store {
                async fn purge_pending(&self, repository: &str) -> StoreResult<bool> {
                    let project = match repository.split_once('/') {
                        Some((p, _)) => format!("{p}/"),
                        None => format!("{repository}/"),
                    };
                    let n: i64 = sqlx::query_scalar(&Self::sql(
                        "SELECT count(*) FROM registry_purges WHERE repository IN (?, ?)",
                    ))
                    .bind(repository)
                    .bind(project)
                    .fetch_one(&self.pool)
                    .await?;
                    Ok(n > 0)
                }

                async fn due_purges(&self, now: i64, limit: u32) -> StoreResult<Vec<DuePurge>> {
                    let owner: String = ($owner)(self);
                    let lease = i64::try_from($crate::store::LeaseStore::lease_seconds(self))
                        .unwrap_or(i64::MAX);
                    $crate::store::sql::fetch_all!(
                        self,
                        $crate::store::purges::DuePurgeRow,
                        concat!(
                            "UPDATE registry_purges SET lease_owner = ?, lease_until = ? WHERE \
                         repository IN (SELECT repository FROM registry_purges \
                         WHERE next_attempt <= ? AND coalesce(lease_until, 0) <= ? \
                         ORDER BY next_attempt LIMIT ? ",
                            $lock,
                            ") RETURNING repository, digests, created, attempts"
                        ),
                        owner,
                        now.saturating_add(lease),
                        now,
                        now,
                        i64::from(limit),
                    )
                }

                async fn next_purge_due(&self) -> StoreResult<Option<i64>> {
                    Ok(sqlx::query_scalar(&Self::sql(
                        "SELECT min(GREATEST(next_attempt, coalesce(lease_until, 0))) \
                         FROM registry_purges",
                    ))
                    .fetch_one(&self.pool)
                    .await?)
                }

                async fn finish_purge(
                    &self,
                    purge: &DuePurge,
                    outcome: PurgeOutcome,
                ) -> StoreResult<()> {
                    match outcome {
                        PurgeOutcome::Done => {
                            $crate::store::sql::execute!(
                                self,
                                "DELETE FROM registry_purges WHERE repository = ? AND created = ?",
                                &purge.repository,
                                purge.created,
                            )?;
                        }
                        PurgeOutcome::Again { at, error } => {
                            let attempts = if error.is_some() { 1 } else { 0 };
                            $crate::store::sql::execute!(
                                self,
                                "UPDATE registry_purges SET attempts = attempts + ?, \
                                 next_attempt = ?, last_error = ?, lease_owner = NULL, \
                                 lease_until = NULL WHERE repository = ? AND created = ?",
                                attempts,
                                at,
                                error,
                                &purge.repository,
                                purge.created,
                            )?;
                        }
                    }
                    Ok(())
                }

                async fn renew_purges(&self, repositories: &[String], now: i64) -> StoreResult<()> {
                    let owner: String = ($owner)(self);
                    let lease = i64::try_from($crate::store::LeaseStore::lease_seconds(self))
                        .unwrap_or(i64::MAX);
                    // A few rows (one claimed batch): one statement each.
                    for repository in repositories {
                        $crate::store::sql::execute!(
                            self,
                            "UPDATE registry_purges SET lease_until = ? \
                             WHERE repository = ? AND lease_owner = ?",
                            now.saturating_add(lease),
                            repository,
                            &owner,
                        )?;
                    }
                    Ok(())
                }

                async fn record_push(
                    &self,
                    repository: &str,
                    digest: &str,
                    now: i64,
                ) -> StoreResult<()> {
                    let project = repository.split_once('/').map_or(repository, |(p, _)| p);
                    $crate::store::sql::execute!(
                        self,
                        "INSERT INTO registry_pushes (repository, digest, project, first_pushed) \
                         VALUES (?, ?, ?, ?) ON CONFLICT (repository, digest) \
                         DO UPDATE SET pushes = registry_pushes.pushes + 1",
                        repository,
                        digest,
                        project,
                        now,
                    )?;
                    Ok(())
                }

                async fn pushed(&self, repository: &str, limit: u32) -> StoreResult<Vec<Pushed>> {
                    // Two statements, not one formatted: the SQL stays static.
                    let (sql, key) = match repository.strip_suffix('/') {
                        Some(project) => (
                            "SELECT repository, digest, pushes FROM registry_pushes \
                             WHERE project = ? ORDER BY repository, digest LIMIT ?",
                            project,
                        ),
                        None => (
                            "SELECT repository, digest, pushes FROM registry_pushes \
                             WHERE repository = ? ORDER BY repository, digest LIMIT ?",
                            repository,
                        ),
                    };
                    $crate::store::sql::fetch_all!(
                        self,
                        $crate::store::purges::PushedRow,
                        sql,
                        key,
                        i64::from(limit),
                    )
                }

                async fn forget_push(&self, pushed: &Pushed) -> StoreResult<()> {
                    $crate::store::sql::execute!(
                        self,
                        "DELETE FROM registry_pushes \
                         WHERE repository = ? AND digest = ? AND pushes = ?",
                        &pushed.repository,
                        &pushed.digest,
                        pushed.pushes,
                    )?;
                    Ok(())
                }
            }
        };
    };
}
pub(super) use purge_sql;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_streams_history_digests_are_named_once() {
        let body = serde_json::json!({
            "kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
            "metadata": {"name": "app", "namespace": "demo"},
            "status": {"dockerImageRepository": "", "tags": [
                {"tag": "v1", "items": [
                    {"created": "2026-01-01T00:00:00Z", "dockerImageReference": "r/demo/app@sha256:b",
                     "image": "sha256:b", "generation": 1},
                    {"created": "2026-01-01T00:00:00Z", "dockerImageReference": "r/demo/app@sha256:a",
                     "image": "sha256:a", "generation": 1}]},
                {"tag": "v2", "items": [
                    {"created": "2026-01-01T00:00:00Z", "dockerImageReference": "r/demo/app@sha256:a",
                     "image": "sha256:a", "generation": 1}]}]}
        });
        assert_eq!(history_digests(&body.to_string()), ["sha256:b", "sha256:a"]);
        assert!(history_digests("not json").is_empty());
    }
}
