//! The SQL of access, the change log and registry events, written once for both stores (see
//! `sql.rs` for how a statement is put in a store's dialect). Where the dialects differ in more
//! than placeholders, the store names its word: `IS_NOT` (a comparison true when one side is
//! NULL), `INSERTION_ORDER` (the column rows were inserted by); `GREATEST` is written as
//! PostgreSQL spells it and SQLite's `sql` reads it as its `max`.

/// [`AccessStore`](super::AccessStore), [`ChangeStore`](super::ChangeStore) and
/// [`RegistryEventStore`](super::RegistryEventStore) for `$store` on `$db`.
macro_rules! more_sql {
    ($store:ty, $db:ty) => {
        const _: () = {
            use async_trait::async_trait;
            use tagstream_shared::ProjectName;
            use tagstream_shared::resources::{ROLEBINDINGS, TOKENS, USERS};
            use tagstream_shared::user::{AuditEvent, RoleBinding, Token, User};
            use tagstream_shared::watch::WatchEventType;
            use $crate::audit::Actor;
            use $crate::store::access::{AccessStore, NewInvitation, Session, StoredToken};
            use $crate::store::changes::{ChangeRow, ChangeStore, Cursor};
            use $crate::store::registry_events::{REMEMBER_SECONDS, RegistryEventStore};
            use $crate::store::sqlite::{Change, decode_all, on_constraint};
            use $crate::store::unit::WriteTx;
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

            /// Removes a user's credentials, tokens and sessions, inside the unit deleting them.
            pub(super) async fn forget_credentials(tx: &mut WriteTx<$db>, name: &str) -> StoreResult<()> {
                for table in ["credentials", "tokens", "sessions"] {
                    sqlx::query(&Self::sql(&format!("DELETE FROM {table} WHERE \"user\" = ?")))
                        .bind(name)
                        .execute(&mut **tx)
                        .await?;
                }
                Ok(())
            }
        }

        #[async_trait]
        impl AccessStore for $store {
            async fn count_users(&self) -> StoreResult<u64> {
                let n: i64 = sqlx::query_scalar(&Self::sql("SELECT count(*) FROM objects WHERE resource = ?"))
                    .bind(USERS.plural)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(u64::try_from(n).unwrap_or_default())
            }

            async fn create_user(
                &self,
                actor: &Actor,
                mut user: User,
                password_hash: Option<String>,
                invitation: Option<NewInvitation>,
            ) -> StoreResult<User> {
                let name = user.metadata.name().to_owned();
                let mut tx = self.begin_write(actor).await?;
                let revision = tx.revision;
                Self::insert_in(&mut tx, revision, &USERS, "", &name, &mut user).await?;
                let (invitation_hash, invitation_expires) = invitation.map(|i| (i.hash, i.expires)).unzip();
                sqlx::query(&Self::sql("INSERT INTO credentials (\"user\", password_hash, invitation_hash, invitation_expires) \
                     VALUES (?, ?, ?, ?) \
                     ON CONFLICT (\"user\") DO UPDATE SET password_hash = excluded.password_hash, \
                     invitation_hash = excluded.invitation_hash, \
                     invitation_expires = excluded.invitation_expires"),
                )
                .bind(&name)
                .bind(password_hash)
                .bind(invitation_hash)
                .bind(invitation_expires)
                .execute(&mut *tx)
                .await?;
                self.commit(tx).await?;
                Ok(user)
            }

            async fn password_hash(&self, name: &str) -> StoreResult<Option<String>> {
                let hash: Option<Option<String>> =
                    sqlx::query_scalar(&Self::sql("SELECT password_hash FROM credentials WHERE \"user\" = ?"))
                        .bind(name)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(hash.flatten())
            }

            async fn set_password(&self, name: &str, hash: String, keep: Option<&str>) -> StoreResult<()> {
                // Not audited: credentials are no object of the log.
                let mut tx = self.begin_write(&Actor::SERVER).await?;
                let done = sqlx::query(&Self::sql("UPDATE credentials SET password_hash = ?, invitation_hash = NULL, \
                     invitation_expires = NULL WHERE \"user\" = ?"),
                )
                .bind(hash)
                .bind(name)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::not_found(&USERS, name));
                }
                // `IS_NOT` is true for every session when `keep` is NULL.
                sqlx::query(&Self::sql(
                    &"DELETE FROM sessions WHERE \"user\" = ? AND hash IS NOT ?"
                        .replace("IS NOT", Self::IS_NOT),
                ))
                    .bind(name)
                    .bind(keep)
                    .execute(&mut *tx)
                    .await?;
                self.commit(tx).await?;
                Ok(())
            }

            async fn invitation_user(
                &self,
                invitation_hash: &str,
                now: i64,
            ) -> StoreResult<Option<String>> {
                Ok(sqlx::query_scalar(&Self::sql("SELECT \"user\" FROM credentials WHERE invitation_hash = ? AND invitation_expires > ?"),
                )
                .bind(invitation_hash)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn accept_invitation(
                &self,
                invitation_hash: &str,
                password_hash: String,
                now: i64,
            ) -> StoreResult<Option<String>> {
                // Not audited: credentials are no object of the log.
                let mut tx = self.begin_write(&Actor::SERVER).await?;
                // The invitation is consumed by the same statement that sets the password: of two
                // concurrent uses, the second matches no row.
                let user: Option<String> = sqlx::query_scalar(&Self::sql("UPDATE credentials SET password_hash = ?, invitation_hash = NULL, \
                     invitation_expires = NULL \
                     WHERE invitation_hash = ? AND invitation_expires > ? RETURNING \"user\""),
                )
                .bind(password_hash)
                .bind(invitation_hash)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(user) = user else {
                    return Ok(None);
                };
                sqlx::query(&Self::sql("DELETE FROM sessions WHERE \"user\" = ?"))
                    .bind(&user)
                    .execute(&mut *tx)
                    .await?;
                self.commit(tx).await?;
                Ok(Some(user))
            }

            async fn all_role_bindings(&self) -> StoreResult<Vec<(String, RoleBinding)>> {
                let mut tx = self.pool.begin().await?;
                let rows = Self::bodies_in(&mut tx, &ROLEBINDINGS, None).await?;
                tx.commit().await?;
                rows.into_iter()
                    .map(|(ns, body)| Ok((ns, serde_json::from_str(&body)?)))
                    .collect()
            }

            async fn create_token(
                &self,
                actor: &Actor,
                user: &str,
                hash: &str,
                token: Token,
            ) -> StoreResult<Token> {
                let id = token.metadata.name().to_owned();
                let mut tx = self.begin_write(actor).await?;
                let revision = tx.revision;
                sqlx::query(&Self::sql("INSERT INTO tokens (id, \"user\", hash, expires, project, body) VALUES (?, ?, ?, ?, ?, ?)"),
                )
                .bind(&id)
                .bind(user)
                .bind(hash)
                .bind(
                    token
                        .spec
                        .expires
                        .as_ref()
                        .map(tagstream_shared::Time::timestamp),
                )
                .bind(token.spec.project.as_deref())
                .bind(serde_json::to_string(&token)?)
                .execute(&mut *tx)
                .await
                .map_err(on_constraint(&TOKENS, None, &id))?;
                Self::record(
                    &mut tx,
                    Change::create(&TOKENS, None, &format!("{user}/{id}"), revision),
                )
                .await?;
                self.commit(tx).await?;
                Ok(token)
            }

            async fn list_tokens(&self, user: &str) -> StoreResult<Vec<Token>> {
                let bodies: Vec<String> =
                    sqlx::query_scalar(&Self::sql(
                        &"SELECT body FROM tokens WHERE \"user\" = ? ORDER BY rowid"
                            .replace("rowid", Self::INSERTION_ORDER),
                    ))
                        .bind(user)
                        .fetch_all(&self.pool)
                        .await?;
                decode_all(bodies)
            }

            async fn delete_token(&self, actor: &Actor, user: &str, id: &str) -> StoreResult<Token> {
                let mut tx = self.begin_write(actor).await?;
                let body: Option<String> =
                    sqlx::query_scalar(&Self::sql("DELETE FROM tokens WHERE \"user\" = ? AND id = ? RETURNING body"))
                        .bind(user)
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                let token = serde_json::from_str(&body.ok_or_else(|| StoreError::not_found(&TOKENS, id))?)?;
                Self::record(
                    &mut tx,
                    Change::delete(&TOKENS, None, &format!("{user}/{id}"), None),
                )
                .await?;
                self.commit(tx).await?;
                Ok(token)
            }

            async fn token_by_hash(&self, hash: &str) -> StoreResult<Option<StoredToken>> {
                let row: Option<(String, String, Option<i64>, Option<String>)> =
                    sqlx::query_as(&Self::sql("SELECT id, \"user\", expires, project FROM tokens WHERE hash = ?"))
                        .bind(hash)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map(|(id, user, expires, project)| StoredToken {
                    id,
                    user,
                    expires,
                    project,
                }))
            }

            async fn create_session(&self, hash: &str, session: Session) -> StoreResult<()> {
                sqlx::query(&Self::sql("INSERT INTO sessions (hash, \"user\", csrf, created, last_seen) VALUES (?, ?, ?, ?, ?)"),
                )
                .bind(hash)
                .bind(&session.user)
                .bind(&session.csrf)
                .bind(session.created)
                .bind(session.last_seen)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn session(&self, hash: &str) -> StoreResult<Option<Session>> {
                let row: Option<(String, String, i64, i64)> =
                    sqlx::query_as(&Self::sql("SELECT \"user\", csrf, created, last_seen FROM sessions WHERE hash = ?"))
                        .bind(hash)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map(|(user, csrf, created, last_seen)| Session {
                    user,
                    csrf,
                    created,
                    last_seen,
                }))
            }

            async fn touch_session(&self, hash: &str, now: i64) -> StoreResult<()> {
                sqlx::query(&Self::sql("UPDATE sessions SET last_seen = ? WHERE hash = ?"))
                    .bind(now)
                    .bind(hash)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn delete_session(&self, hash: &str) -> StoreResult<()> {
                sqlx::query(&Self::sql("DELETE FROM sessions WHERE hash = ?"))
                    .bind(hash)
                    .execute(&self.pool)
                    .await?;
                // Open watches signed in with this session re-check it now.
                self.changed.send_modify(|n| *n = n.wrapping_add(1));
                Ok(())
            }

            async fn list_audit_events(
                &self,
                ns: Option<&ProjectName>,
                limit: u32,
            ) -> StoreResult<Vec<AuditEvent>> {
                let bodies: Vec<String> =
                    match ns {
                        Some(ns) => sqlx::query_scalar(&Self::sql("SELECT body FROM audit_events WHERE namespace = ? ORDER BY id DESC LIMIT ?"),
                        )
                        .bind(ns.as_str())
                        .bind(i64::from(limit))
                        .fetch_all(&self.pool)
                        .await?,
                        None => {
                            sqlx::query_scalar(&Self::sql("SELECT body FROM audit_events ORDER BY id DESC LIMIT ?"))
                                .bind(i64::from(limit))
                                .fetch_all(&self.pool)
                                .await?
                        }
                    };
                decode_all(bodies)
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
                sqlx::query(&Self::sql("DELETE FROM registry_events WHERE received < ?"))
                    .bind(now.saturating_sub(REMEMBER_SECONDS))
                    .execute(&self.pool)
                    .await?;
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
                sqlx::query(&Self::sql("DELETE FROM registry_events WHERE source = ? AND id = ?"))
                    .bind(source)
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }
        }
        };
    };
}
pub(super) use more_sql;
