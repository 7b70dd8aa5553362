//! What keeps a watch within its caller's access after it started: the route's [`Need`] and the
//! caller travel with the watch ([`WatchAccess`]) and are checked again whenever the store's
//! access epoch moves (a binding, user, team, token, session or project changed or went), so the
//! change that revokes access ends the watch with an `ERROR` event carrying the Status the
//! request would now get. [`WatchSlots`] caps the watches one user holds open.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::http::request::Parts;

use crate::access::Need;
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;

/// What a route's authorization decided on, left in the request for a watch to check again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteGrant {
    pub need: Need,
    /// The path parameters the check read.
    pub params: Vec<(String, String)>,
}

/// The caller of a watch and what its route needs of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchAccess {
    pub caller: Caller,
    pub grant: RouteGrant,
}

impl WatchAccess {
    /// From a request the authentication and authorization middleware ran on.
    pub fn from_parts(parts: &Parts) -> Option<Self> {
        Some(Self {
            caller: parts.extensions.get::<Caller>()?.clone(),
            grant: parts.extensions.get::<RouteGrant>()?.clone(),
        })
    }

    /// Checks the watch's caller again as the request would be checked now: the token or
    /// session still valid, teams read again, the route's need still met. Answers the caller
    /// as they are now, or the error the request would now get.
    pub async fn recheck(&self, state: &AppState) -> Result<Caller, ApiError> {
        let Caller::User(p) = &self.caller else {
            return self.check(state, self.caller.clone()).await;
        };
        let now = state.clock.now().timestamp();
        if let Some(hash) = &p.token {
            let stored = state.store.token_by_hash(hash).await?;
            if stored.is_none_or(|t| t.expires.is_some_and(|e| e <= now)) {
                return Err(ApiError::Unauthorized(
                    "the token of this watch was revoked or expired".into(),
                ));
            }
        }
        if let Some(session) = &p.session {
            let stored = state.store.session(&session.hash).await?;
            if stored.is_none_or(|s| now - s.created > state.config.auth.session_max_seconds) {
                return Err(ApiError::Unauthorized(
                    "the session of this watch ended: sign in again".into(),
                ));
            }
        }
        let mut fresh = crate::auth::principal(state, &p.name, p.header_groups.clone()).await?;
        fresh.scope.clone_from(&p.scope);
        fresh.session.clone_from(&p.session);
        fresh.token.clone_from(&p.token);
        self.check(state, Caller::User(fresh)).await
    }

    async fn check(&self, state: &AppState, caller: Caller) -> Result<Caller, ApiError> {
        let params = &self.grant.params;
        crate::access::check(state, &caller, self.grant.need, |key| {
            params
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        })
        .await?;
        Ok(caller)
    }
}

/// The watches each user holds open.
#[derive(Debug, Default)]
pub struct WatchSlots {
    open: Mutex<HashMap<String, usize>>,
}

impl WatchSlots {
    /// Takes one of `limit` slots of `user`, or answers 429 when all are taken.
    pub fn take(self: &Arc<Self>, user: &str, limit: usize) -> Result<WatchSlot, ApiError> {
        let mut open = self
            .open
            .lock()
            .map_err(|_| ApiError::Internal("the watch slots lock is poisoned".into()))?;
        let held = open.entry(user.to_owned()).or_default();
        if *held >= limit {
            return Err(ApiError::TooManyRequests {
                message: format!(
                    "{user:?} already holds {held} open watches, the most one user may: close \
                     one first"
                ),
                retry_after: 5,
            });
        }
        *held += 1;
        Ok(WatchSlot {
            slots: self.clone(),
            user: user.to_owned(),
        })
    }

    /// How many watches `user` holds open.
    pub fn held(&self, user: &str) -> usize {
        self.open
            .lock()
            .ok()
            .and_then(|o| o.get(user).copied())
            .unwrap_or_default()
    }
}

/// One open watch's slot, given back when the watch ends (its stream is dropped).
#[derive(Debug)]
pub struct WatchSlot {
    slots: Arc<WatchSlots>,
    user: String,
}

impl Drop for WatchSlot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.slots.open.lock()
            && let Some(held) = open.get_mut(&self.user)
        {
            *held = held.saturating_sub(1);
            if *held == 0 {
                open.remove(&self.user);
            }
        }
    }
}
