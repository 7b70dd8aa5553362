//! What the access store keeps: users and teams (cluster objects), their credentials (hashed),
//! role bindings per project, API tokens (hashed), browser sessions (hashed), and the audit log.

use async_trait::async_trait;
use tagstream_shared::ProjectName;
use tagstream_shared::user::{AuditEvent, RoleBinding, Token, User};

use super::StoreResult;
use crate::audit::Actor;

/// A token found by its hash (a row of `tokens`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredToken {
    pub id: String,
    pub user: String,
    /// Unix seconds; none: never expires.
    pub expires: Option<i64>,
    /// The one project it may act in.
    pub project: Option<String>,
}

/// A session found by its hash (a row of `sessions`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Session {
    pub user: String,
    pub csrf: String,
    /// Unix seconds.
    pub created: i64,
    pub last_seen: i64,
}

/// A one-time invitation to choose a password: the SHA-256 (hex) of its token, and when it
/// stops working (unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvitation {
    pub hash: String,
    pub expires: i64,
}

#[async_trait]
pub trait AccessStore: Send + Sync {
    async fn count_users(&self) -> StoreResult<u64>;
    /// Stores a new user with a password hash or an invitation.
    async fn create_user(
        &self,
        actor: &Actor,
        user: User,
        password_hash: Option<String>,
        invitation: Option<NewInvitation>,
    ) -> StoreResult<User>;
    async fn password_hash(&self, name: &str) -> StoreResult<Option<String>>;
    /// Sets a password and closes any invitation; the user's sessions end, except the one
    /// whose hash is `keep` (the session that changed it).
    async fn set_password(&self, name: &str, hash: String, keep: Option<&str>) -> StoreResult<()>;
    /// The user an open invitation is for, unless it expired by `now` (unix seconds).
    async fn invitation_user(&self, invitation_hash: &str, now: i64)
    -> StoreResult<Option<String>>;
    /// Closes the open, unexpired invitation and sets its user's password, in one transaction
    /// (a second use finds no invitation); the user's sessions end. Answers the user, or
    /// `None` when no such invitation is open.
    async fn accept_invitation(
        &self,
        invitation_hash: &str,
        password_hash: String,
        now: i64,
    ) -> StoreResult<Option<String>>;

    /// Every binding of every project (to list what a caller may see).
    async fn all_role_bindings(&self) -> StoreResult<Vec<(String, RoleBinding)>>;

    async fn create_token(
        &self,
        actor: &Actor,
        user: &str,
        hash: &str,
        token: Token,
    ) -> StoreResult<Token>;
    async fn list_tokens(&self, user: &str) -> StoreResult<Vec<Token>>;
    async fn delete_token(&self, actor: &Actor, user: &str, id: &str) -> StoreResult<Token>;
    async fn token_by_hash(&self, hash: &str) -> StoreResult<Option<StoredToken>>;

    async fn create_session(&self, hash: &str, session: Session) -> StoreResult<()>;
    async fn session(&self, hash: &str) -> StoreResult<Option<Session>>;
    async fn touch_session(&self, hash: &str, now: i64) -> StoreResult<()>;
    async fn delete_session(&self, hash: &str) -> StoreResult<()>;

    /// The newest `limit` audit events, of one project or of all.
    async fn list_audit_events(
        &self,
        ns: Option<&ProjectName>,
        limit: u32,
    ) -> StoreResult<Vec<AuditEvent>>;
}
