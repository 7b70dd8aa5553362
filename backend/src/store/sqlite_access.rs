//! [`AccessStore`] on SQLite. Users and Groups are cluster objects; credentials, tokens and
//! sessions keep only hashes. Every change to an object is recorded in the audit log in its
//! own transaction.

use async_trait::async_trait;
use tagstream_shared::ProjectName;
use tagstream_shared::user::{AuditEvent, RoleBinding, Token, User};

use super::access::{AccessStore, NewInvitation, Session, StoredToken};
use super::sqlite::{Change, SqliteStore, decode_all, on_constraint};
use super::{StoreError, StoreResult};

use tagstream_shared::resources::{ROLEBINDINGS, TOKENS, USERS};

#[async_trait]
impl AccessStore for SqliteStore {
    async fn count_users(&self) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM objects WHERE resource = ?")
            .bind(USERS.plural)
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(n).unwrap_or_default())
    }

    async fn create_user(
        &self,
        mut user: User,
        password_hash: Option<String>,
        invitation: Option<NewInvitation>,
    ) -> StoreResult<User> {
        let name = user.metadata.name().to_owned();
        let (mut tx, revision) = self.begin_write().await?;
        Self::insert_in(&mut tx, revision, &USERS, "", &name, &mut user).await?;
        let (invitation_hash, invitation_expires) = invitation.map(|i| (i.hash, i.expires)).unzip();
        sqlx::query(
            "INSERT INTO credentials (user, password_hash, invitation_hash, invitation_expires) \
             VALUES (?, ?, ?, ?) \
             ON CONFLICT (user) DO UPDATE SET password_hash = excluded.password_hash, \
             invitation_hash = excluded.invitation_hash, \
             invitation_expires = excluded.invitation_expires",
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

    async fn delete_user(&self, name: &str) -> StoreResult<User> {
        let (mut tx, revision) = self.begin_write().await?;
        let user = serde_json::from_str(&Self::remove_in(&mut tx, &USERS, "", name).await?)?;
        for table in ["credentials", "tokens", "sessions"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE user = ?"))
                .bind(name)
                .execute(&mut *tx)
                .await?;
        }
        // In the same transaction: a new user of the same name must not inherit any of it.
        Self::forget_member(&mut tx, revision, name).await?;
        Self::forget_subject(&mut tx, revision, name).await?;
        self.commit(tx).await?;
        Ok(user)
    }

    async fn password_hash(&self, name: &str) -> StoreResult<Option<String>> {
        let hash: Option<Option<String>> =
            sqlx::query_scalar("SELECT password_hash FROM credentials WHERE user = ?")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
        Ok(hash.flatten())
    }

    async fn set_password(&self, name: &str, hash: String, keep: Option<&str>) -> StoreResult<()> {
        let (mut tx, _) = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE credentials SET password_hash = ?, invitation_hash = NULL, \
             invitation_expires = NULL WHERE user = ?",
        )
        .bind(hash)
        .bind(name)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(&USERS, name));
        }
        // `IS NOT` is true for every session when `keep` is NULL.
        sqlx::query("DELETE FROM sessions WHERE user = ? AND hash IS NOT ?")
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
        Ok(sqlx::query_scalar(
            "SELECT user FROM credentials WHERE invitation_hash = ? AND invitation_expires > ?",
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
        let (mut tx, _) = self.begin_write().await?;
        // The invitation is consumed by the same statement that sets the password: of two
        // concurrent uses, the second matches no row.
        let user: Option<String> = sqlx::query_scalar(
            "UPDATE credentials SET password_hash = ?, invitation_hash = NULL, \
             invitation_expires = NULL \
             WHERE invitation_hash = ? AND invitation_expires > ? RETURNING user",
        )
        .bind(password_hash)
        .bind(invitation_hash)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(user) = user else {
            return Ok(None);
        };
        sqlx::query("DELETE FROM sessions WHERE user = ?")
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

    async fn create_token(&self, user: &str, hash: &str, token: Token) -> StoreResult<Token> {
        let id = token.metadata.name().to_owned();
        let (mut tx, revision) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO tokens (id, user, hash, expires, project, body) VALUES (?, ?, ?, ?, ?, ?)",
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
            sqlx::query_scalar("SELECT body FROM tokens WHERE user = ? ORDER BY rowid")
                .bind(user)
                .fetch_all(&self.pool)
                .await?;
        decode_all(bodies)
    }

    async fn delete_token(&self, user: &str, id: &str) -> StoreResult<Token> {
        let (mut tx, _) = self.begin_write().await?;
        let body: Option<String> =
            sqlx::query_scalar("DELETE FROM tokens WHERE user = ? AND id = ? RETURNING body")
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
            sqlx::query_as("SELECT id, user, expires, project FROM tokens WHERE hash = ?")
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
        sqlx::query(
            "INSERT INTO sessions (hash, user, csrf, created, last_seen) VALUES (?, ?, ?, ?, ?)",
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
            sqlx::query_as("SELECT user, csrf, created, last_seen FROM sessions WHERE hash = ?")
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
        sqlx::query("UPDATE sessions SET last_seen = ? WHERE hash = ?")
            .bind(now)
            .bind(hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_session(&self, hash: &str) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM sessions WHERE hash = ?")
            .bind(hash)
            .execute(&mut *tx)
            .await?;
        // Through `commit`: the access epoch the deletion moved is published (cached sign-ins
        // drop it) and open watches signed in with this session re-check it now.
        self.commit(tx).await
    }

    async fn list_audit_events(
        &self,
        ns: Option<&ProjectName>,
        limit: u32,
    ) -> StoreResult<Vec<AuditEvent>> {
        let bodies: Vec<String> =
            match ns {
                Some(ns) => sqlx::query_scalar(
                    "SELECT body FROM audit_events WHERE namespace = ? ORDER BY id DESC LIMIT ?",
                )
                .bind(ns.as_str())
                .bind(limit)
                .fetch_all(&self.pool)
                .await?,
                None => {
                    sqlx::query_scalar("SELECT body FROM audit_events ORDER BY id DESC LIMIT ?")
                        .bind(limit)
                        .fetch_all(&self.pool)
                        .await?
                }
            };
        decode_all(bodies)
    }
}
