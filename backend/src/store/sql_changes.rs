//! The SQL of the change log (cursors, changes after a revision, pruning) and of the
//! registry's event claims, written once for both stores (see `sql.rs` for how a statement is
//! put in a store's dialect). Where the dialects differ in more than placeholders, the store
//! names its word: `IS_NOT` (a comparison true when one side is NULL), `INSERTION_ORDER` (the
//! column rows were inserted by); `GREATEST` is written as PostgreSQL spells it and SQLite's
//! `sql` reads it as its `max`.

/// [`ChangeStore`](super::ChangeStore) and [`RegistryEventStore`](super::RegistryEventStore)
/// for `$store`.
macro_rules! change_sql {
    ($store:ty) => {
        const _: () = {
            use async_trait::async_trait;
            use tagstream_shared::watch::WatchEventType;
            use $crate::store::changes::{ChangeRow, ChangeStore, Cursor};
            use $crate::store::registry_events::{REMEMBER_SECONDS, RegistryEventStore};
            use $crate::store::{StoreError, StoreResult};

            type Row = (i64, i64, String, String, Option<String>, String, String);

            impl $store {
                async fn floor(&self) -> StoreResult<u64> {
                    let floor: i64 =
                        sqlx::query_scalar("SELECT value FROM change_floor WHERE id = 1")
                            .fetch_one(&self.pool)
                            .await?;
                    Ok(u64::try_from(floor).unwrap_or_default())
                }
            }

        impl $store {
            /// The access epoch and the newest committed revision, read in one statement (one
            /// snapshot on either store).
            pub(super) async fn query_point(&self) -> StoreResult<$crate::store::ReadPoint> {
                let (epoch, revision): (i64, i64) = sqlx::query_as(&Self::sql(
                    "SELECT (SELECT value FROM access_epoch WHERE id = 1), \
                     (SELECT value FROM revision WHERE id = 1)",
                ))
                .fetch_one(&self.pool)
                .await?;
                Ok($crate::store::ReadPoint {
                    epoch: u64::try_from(epoch).unwrap_or_default(),
                    revision: u64::try_from(revision).unwrap_or_default(),
                })
            }
        }

        #[async_trait]
        impl ChangeStore for $store {
            fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
                self.changed.subscribe()
            }

            async fn cursor_after(&self, after: u64) -> StoreResult<Cursor> {
                let floor = self.floor().await?;
                if after < floor {
                    return Ok(Cursor::Gone(floor));
                }
                let after = i64::try_from(after).unwrap_or(i64::MAX);
                let id: Option<i64> = sqlx::query_scalar(&Self::sql("SELECT max(id) FROM changes WHERE revision <= ?"))
                    .bind(after)
                    .fetch_one(&self.pool)
                    .await?;
                match id {
                    Some(id) => Ok(Cursor::After(id)),
                    // Nothing kept at or before the revision: start before the oldest row kept.
                    None => {
                        let min: Option<i64> = sqlx::query_scalar(&Self::sql("SELECT min(id) FROM changes"))
                            .fetch_one(&self.pool)
                            .await?;
                        Ok(Cursor::After(min.map_or(0, |m| m - 1)))
                    }
                }
            }

            async fn changes_after(
                &self,
                cursor: i64,
                resource: &str,
                limit: u32,
            ) -> StoreResult<Result<(Vec<ChangeRow>, i64), u64>> {
                let mut tx = self.begin_read().await?;
                let oldest: Option<i64> = sqlx::query_scalar(&Self::sql("SELECT min(id) FROM changes"))
                    .fetch_one(&mut *tx)
                    .await?;
                if oldest.is_some_and(|o| o > cursor + 1) {
                    // Rows right after the cursor were pruned: the watch fell too far behind.
                    let floor: i64 = sqlx::query_scalar(&Self::sql("SELECT value FROM change_floor WHERE id = 1"))
                        .fetch_one(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    return Ok(Err(u64::try_from(floor).unwrap_or_default()));
                }
                let newest: Option<i64> = sqlx::query_scalar(&Self::sql("SELECT max(id) FROM changes"))
                    .fetch_one(&mut *tx)
                    .await?;
                let rows: Vec<Row> = sqlx::query_as(&Self::sql("SELECT id, revision, type, resource, namespace, name, body FROM changes \
                     WHERE id > ? AND resource = ? ORDER BY id LIMIT ?"),
                )
                .bind(cursor)
                .bind(resource)
                .bind(i64::from(limit))
                .fetch_all(&mut *tx)
                .await?;
                tx.commit().await?;
                let full = rows.len() >= usize::try_from(limit).unwrap_or(usize::MAX);
                let next = match (full, rows.last()) {
                    (true, Some(last)) => last.0,
                    _ => newest.unwrap_or(cursor).max(cursor),
                };
                rows.into_iter()
                    .map(|(id, revision, kind, resource, namespace, name, body)| {
                        Ok(ChangeRow {
                            id,
                            revision: u64::try_from(revision).unwrap_or_default(),
                            kind: WatchEventType::parse(&kind).ok_or_else(|| {
                                StoreError::Config(format!("change {id} has an unknown type {kind:?}"))
                            })?,
                            resource,
                            namespace,
                            name,
                            body,
                        })
                    })
                    .collect::<StoreResult<Vec<_>>>()
                    .map(|rows| Ok((rows, next)))
            }

            async fn project_floors(
                &self,
                only: Option<&str>,
            ) -> StoreResult<std::collections::BTreeMap<String, u64>> {
                let rows: Vec<(String, i64)> = match only {
                    Some(name) => {
                        sqlx::query_as(&Self::sql("SELECT name, created_revision FROM projects WHERE name = ?"))
                            .bind(name)
                            .fetch_all(&self.pool)
                            .await?
                    }
                    None => {
                        sqlx::query_as(&Self::sql("SELECT name, created_revision FROM projects"))
                            .fetch_all(&self.pool)
                            .await?
                    }
                };
                Ok(rows
                    .into_iter()
                    .map(|(name, at)| (name, u64::try_from(at).unwrap_or_default()))
                    .collect())
            }

            async fn access_epoch(&self) -> StoreResult<u64> {
                Ok(self.point().await?.epoch)
            }

            async fn read_point(&self) -> StoreResult<$crate::store::ReadPoint> {
                self.point().await
            }

            async fn changed_since(
                &self,
                after: u64,
                limit: u32,
            ) -> StoreResult<$crate::store::ChangedSince> {
                // One snapshot: the newest revision, the floor and the rows agree. Writes take
                // the revision row's lock until they commit, so every revision up to the one
                // read here is committed, and its rows are all visible.
                let mut tx = self.begin_read().await?;
                let revision: i64 = sqlx::query_scalar(&Self::sql("SELECT value FROM revision WHERE id = 1"))
                    .fetch_one(&mut *tx)
                    .await?;
                let floor: i64 = sqlx::query_scalar(&Self::sql("SELECT value FROM change_floor WHERE id = 1"))
                    .fetch_one(&mut *tx)
                    .await?;
                let after_db = i64::try_from(after).unwrap_or(i64::MAX);
                let revision_u = u64::try_from(revision).unwrap_or_default();
                let pruned = $crate::store::ChangedSince {
                    revision: revision_u,
                    pruned: true,
                    changes: Vec::new(),
                };
                if floor > after_db {
                    tx.commit().await?;
                    return Ok(pruned);
                }
                let rows: Vec<(String, Option<String>, String, i64)> = sqlx::query_as(&Self::sql(
                    "SELECT resource, namespace, name, revision FROM changes \
                     WHERE revision > ? AND revision <= ? ORDER BY id LIMIT ?",
                ))
                .bind(after_db)
                .bind(revision)
                .bind(i64::from(limit) + 1)
                .fetch_all(&mut *tx)
                .await?;
                tx.commit().await?;
                if rows.len() > usize::try_from(limit).unwrap_or(usize::MAX) {
                    return Ok(pruned);
                }
                Ok($crate::store::ChangedSince {
                    revision: revision_u,
                    pruned: false,
                    changes: rows
                        .into_iter()
                        .map(|(resource, ns, name, at)| {
                            (resource, ns.unwrap_or_default(), name, u64::try_from(at).unwrap_or_default())
                        })
                        .collect(),
                })
            }

            async fn prune_changes(&self, keep: u64) -> StoreResult<u64> {
                let keep = i64::try_from(keep).unwrap_or(i64::MAX);
                let mut tx = self.pool.begin().await?;
                sqlx::query(&Self::sql("UPDATE change_floor SET value = GREATEST(value, coalesce(\
                        (SELECT revision FROM changes WHERE id <= (SELECT max(id) FROM changes) - ? \
                         ORDER BY id DESC LIMIT 1), value)) WHERE id = 1"),
                )
                .bind(keep)
                .execute(&mut *tx)
                .await?;
                sqlx::query(&Self::sql("DELETE FROM changes WHERE revision <= (SELECT value FROM change_floor WHERE id = 1)"),
                )
                .execute(&mut *tx)
                .await?;
                let floor: i64 = sqlx::query_scalar(&Self::sql("SELECT value FROM change_floor WHERE id = 1"))
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(u64::try_from(floor).unwrap_or_default())
            }
        }

        #[async_trait]
        impl RegistryEventStore for $store {
            async fn claim_event(&self, source: &str, id: &str, now: i64) -> StoreResult<bool> {
                $crate::store::sql::execute!(
                    self,
                    "DELETE FROM registry_events WHERE received < ?",
                    now.saturating_sub(REMEMBER_SECONDS),
                )?;
                let done = sqlx::query(&Self::sql("INSERT INTO registry_events (source, id, received) VALUES (?, ?, ?) \
                     ON CONFLICT (source, id) DO NOTHING"),
                )
                .bind(source)
                .bind(id)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn release_event(&self, source: &str, id: &str) -> StoreResult<()> {
                $crate::store::sql::execute!(
                    self,
                    "DELETE FROM registry_events WHERE source = ? AND id = ?",
                    source,
                    id,
                )?;
                Ok(())
            }
        }
        };
    };
}
pub(super) use change_sql;
