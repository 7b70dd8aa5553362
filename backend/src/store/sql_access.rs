//! The SQL of access (users' credentials, role bindings, tokens, sessions, the audit log),
//! written once for both stores (see `sql.rs` for how a statement is put in a store's dialect).

/// [`AccessStore`](super::AccessStore) for `$store` on `$db`.
macro_rules! access_sql {
    ($store:ty, $db:ty) => {
        const _: () = {
            use async_trait::async_trait;
            use tagstream_shared::ProjectName;
            use tagstream_shared::resources::{ROLEBINDINGS, TOKENS, USERS};
            use tagstream_shared::user::{AuditEvent, RoleBinding, Token, User};
            use $crate::audit::Actor;
            use $crate::store::access::{AccessStore, NewInvitation, Session, StoredToken};
            use $crate::store::sqlite::{Change, decode_all, on_constraint};
            use $crate::store::unit::WriteTx;
            use $crate::store::{StoreError, StoreResult};

        impl $store {
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
                let hash: Option<Option<String>> = $crate::store::sql::fetch_optional!(
                    scalar: self,
                    "SELECT password_hash FROM credentials WHERE \"user\" = ?",
                    name,
                )?;
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
                StoreError::unless_changed(done.rows_affected(), &USERS, name)?;
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
                $crate::store::sql::fetch_optional!(
                    scalar: self,
                    "SELECT \"user\" FROM credentials WHERE invitation_hash = ? AND invitation_expires > ?",
                    invitation_hash,
                    now,
                )
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
                let logged = format!("{user}/{id}");
                self.commit_recorded(tx, Change::create(&TOKENS, None, &logged, revision))
                    .await?;
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
                let logged = format!("{user}/{id}");
                self.commit_recorded(tx, Change::delete(&TOKENS, None, &logged, None))
                    .await?;
                Ok(token)
            }

            async fn token_by_hash(&self, hash: &str) -> StoreResult<Option<StoredToken>> {
                $crate::store::sql::fetch_optional!(
                    self,
                    "SELECT id, \"user\", expires, project FROM tokens WHERE hash = ?",
                    hash,
                )
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
                $crate::store::sql::fetch_optional!(
                    self,
                    "SELECT \"user\", csrf, created, last_seen FROM sessions WHERE hash = ?",
                    hash,
                )
            }

            async fn touch_session(&self, hash: &str, now: i64) -> StoreResult<()> {
                $crate::store::sql::execute!(
                    self,
                    "UPDATE sessions SET last_seen = ? WHERE hash = ?",
                    now,
                    hash,
                )?;
                Ok(())
            }

            async fn delete_session(&self, hash: &str) -> StoreResult<()> {
                $crate::store::sql::execute!(
                    self,
                    "DELETE FROM sessions WHERE hash = ?",
                    hash,
                )?;
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

        };
    };
}
pub(super) use access_sql;
