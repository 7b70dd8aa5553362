//! Who is calling: an API token (`Authorization: Bearer`), a browser session cookie (with its
//! CSRF token on every change), a trusted proxy's `X-Forwarded-User` (with a same-origin
//! `Sec-Fetch-Site` or `Origin` on every change: the browser sends the proxy's cookie to any
//! site's form), or nobody. The middleware
//! here answers that once per API request and leaves a [`Caller`] for the authorization check
//! (`crate::access`) and the handlers.

pub mod cache;
pub mod cookies;
pub mod origin;
pub mod rate_limit;
pub mod secret;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tagstream_shared::access::CLUSTER_ADMINS_GROUP;
use tagstream_shared::user::{CSRF_HEADER, SESSION_COOKIE};

use crate::app::AppState;
use crate::error::ApiError;
use crate::store::ReadPoint;

/// The caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    User(Principal),
}

/// A signed-in user, however they signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
    /// Their teams: stored Groups that list them, and the proxy's groups header.
    pub groups: Vec<String>,
    /// A member of `system:cluster-admins`.
    pub cluster_admin: bool,
    /// A project-scoped token may act only in this project.
    pub scope: Option<String>,
    /// The session, when a cookie signed them in.
    pub session: Option<SessionRef>,
    /// The SHA-256 (hex) of the API token, when a token signed them in (an open watch checks
    /// that it was not revoked since).
    pub token: Option<String>,
    /// Teams a trusted proxy's header named (not stored): kept when their stored teams are
    /// read again.
    pub header_groups: Vec<String>,
    /// The store's access epoch this caller was authenticated at: the request's authorization
    /// reads the cache at the same epoch rather than reading it again.
    pub epoch: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRef {
    pub hash: String,
    pub csrf: String,
}

impl Caller {
    pub fn principal(&self) -> Option<&Principal> {
        match self {
            Self::Anonymous => None,
            Self::User(p) => Some(p),
        }
    }

    /// The name the audit log and messages use.
    pub fn name(&self) -> &str {
        match self {
            Self::Anonymous => "system:anonymous",
            Self::User(p) => &p.name,
        }
    }
}

/// The groups a user is in (stored Groups), plus `extra` from a proxy header.
pub async fn principal(
    state: &AppState,
    name: &str,
    extra: Vec<String>,
) -> Result<Principal, ApiError> {
    let point = state.auth_cache.point(state.store.as_ref()).await?;
    principal_at(state, point.epoch, name, extra).await
}

/// [`principal`] at an access epoch the caller already read.
async fn principal_at(
    state: &AppState,
    epoch: u64,
    name: &str,
    extra: Vec<String>,
) -> Result<Principal, ApiError> {
    let mut groups: Vec<String> = state
        .auth_cache
        .at(state.store.as_ref(), epoch)
        .teams(name)
        .await?
        .to_vec();
    for g in &extra {
        if !groups.contains(g) {
            groups.push(g.clone());
        }
    }
    Ok(Principal {
        name: name.to_owned(),
        cluster_admin: groups.iter().any(|g| g == CLUSTER_ADMINS_GROUP),
        groups,
        scope: None,
        session: None,
        token: None,
        header_groups: extra,
        epoch,
    })
}

/// Whether `path` is the API's (the rest is the console): `/apis/...`, and what Kubernetes
/// clients read besides (`/api`, `/version`, `/openapi/...`).
fn is_api_path(path: &str) -> bool {
    path.starts_with("/apis")
        || path == "/api"
        || path.starts_with("/api/")
        || path == "/version"
        || path.starts_with("/openapi/")
}

/// The middleware: authenticates API requests and hands the handlers the caller and the
/// [`Actor`](crate::audit::Actor) they write as.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if !is_api_path(req.uri().path()) {
        return next.run(req).await;
    }
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    // The registry's token server and notification endpoints check credentials of their own
    // kinds (Basic, a secret header), which are no API token or session.
    let own = crate::integrated::reads_own_credentials(req.uri().path());
    let identified = if own {
        Ok((Caller::Anonymous, None))
    } else {
        identify(&state, req.method(), req.headers(), peer).await
    };
    let (caller, point) = match identified {
        Ok(identified) => identified,
        Err(e) => return e.into_response(),
    };
    // The store's read point the caller was found at: the handlers' reads from memory
    // (`read_cache`) answer at it too, rather than reading it again.
    if let Some(point) = point {
        req.extensions_mut().insert(point);
    }
    // Who acts, for the handlers to pass to every write they make.
    req.extensions_mut()
        .insert(crate::audit::Actor::from(&caller));
    req.extensions_mut().insert(caller);
    req.extensions_mut().insert(state);
    next.run(req).await
}

/// The caller, and the read point their credential was looked up at (none for nobody).
async fn identify(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
) -> Result<(Caller, Option<ReadPoint>), ApiError> {
    if let Some(value) = headers.get(AUTHORIZATION) {
        let value = value.to_str().unwrap_or_default();
        let Some(token) = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
        else {
            return Err(ApiError::Unauthorized(
                "the Authorization header must be \"Bearer <token>\"".into(),
            ));
        };
        let point = state.auth_cache.point(state.store.as_ref()).await?;
        let (p, _) = by_token_at(state, point, token.trim()).await?;
        return Ok((Caller::User(p), Some(point)));
    }
    let auth = &state.config.auth;
    if let Some(peer) = peer
        && auth.trusted_proxies.contains(&peer.ip())
        && let Some(user) = headers
            .get("x-forwarded-user")
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
    {
        // The proxy signs the browser in by its own cookie, which a page on any site can make
        // the browser send: a change must come from the console's own origin.
        if !is_safe(method) {
            let forwarded_host = headers
                .get("x-forwarded-host")
                .and_then(|v| v.to_str().ok());
            if origin::site(headers, forwarded_host) != origin::Site::SameOrigin {
                return Err(ApiError::Forbidden(format!(
                    "the request is not from this console's origin: a change signed in by the \
                     proxy must carry a same-origin Sec-Fetch-Site or Origin header \
                     ({CSRF_HEADER} cannot stand in: proxy sign-ins have no session token)"
                )));
            }
        }
        let groups = headers
            .get("x-forwarded-groups")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|g| !g.is_empty())
            .map(str::to_owned)
            .collect();
        let point = state.auth_cache.point(state.store.as_ref()).await?;
        let p = principal_at(state, point.epoch, user, groups).await?;
        return Ok((Caller::User(p), Some(point)));
    }
    let Some(cookie) = cookies::get(headers, SESSION_COOKIE) else {
        return Ok((Caller::Anonymous, None));
    };
    let hash = secret::hash_secret(cookie);
    let store = state.store.as_ref();
    let point = state.auth_cache.point(store).await?;
    let cache = state.auth_cache.at(store, point.epoch);
    let Some(mut session) = cache.session(&hash).await? else {
        return Ok((Caller::Anonymous, Some(point)));
    };
    let now = state.clock.now().timestamp();
    let expired = |s: &crate::store::Session| {
        now - s.last_seen > auth.session_idle_seconds || now - s.created > auth.session_max_seconds
    };
    if expired(&session) {
        // Another replica may have recorded use since this one cached it: the stored row
        // decides.
        match cache.session_fresh(&hash).await? {
            Some(stored) if !expired(&stored) => session = stored,
            Some(_) => {
                state.store.delete_session(&hash).await?;
                return Ok((Caller::Anonymous, None));
            }
            None => return Ok((Caller::Anonymous, Some(point))),
        }
    }
    if !is_safe(method) {
        let sent = headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !secret::same(sent, &session.csrf) {
            return Err(ApiError::Forbidden(format!(
                "the request has no valid {CSRF_HEADER} header: a change made with a session \
                 cookie must carry the session's CSRF token"
            )));
        }
    }
    // Recording use costs a write, so not on every request; but often enough that a session in
    // use never looks idle (a short idle limit, under a minute, needs it sooner).
    if now - session.last_seen >= (auth.session_idle_seconds / 2).clamp(1, 60) {
        state.store.touch_session(&hash, now).await?;
        state.auth_cache.touched(&hash, now);
    }
    let mut p = principal_at(state, point.epoch, &session.user, Vec::new()).await?;
    p.session = Some(SessionRef {
        hash,
        csrf: session.csrf,
    });
    Ok((Caller::User(p), Some(point)))
}

/// A method that changes nothing, so needs no CSRF defence.
fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The user an API token signs in (its project scope kept; 401 if it is not valid), and when
/// the token expires (Unix seconds; none: never): what is issued on the strength of a token
/// (the integrated registry's tokens) must not outlive it.
pub(crate) async fn by_token_expiring(
    state: &AppState,
    token: &str,
) -> Result<(Principal, Option<i64>), ApiError> {
    let point = state.auth_cache.point(state.store.as_ref()).await?;
    by_token_at(state, point, token).await
}

/// [`by_token_expiring`] at a read point the caller already read.
async fn by_token_at(
    state: &AppState,
    point: ReadPoint,
    token: &str,
) -> Result<(Principal, Option<i64>), ApiError> {
    let invalid =
        || ApiError::Unauthorized("the token is not valid (unknown, revoked or expired)".into());
    let hash = secret::hash_secret(token);
    let epoch = point.epoch;
    let stored = state
        .auth_cache
        .at(state.store.as_ref(), epoch)
        .token(&hash)
        .await?
        .ok_or_else(invalid)?;
    if stored
        .expires
        .is_some_and(|e| e <= state.clock.now().timestamp())
    {
        return Err(invalid());
    }
    let mut p = principal_at(state, epoch, &stored.user, Vec::new()).await?;
    p.scope = stored.project;
    p.token = Some(hash);
    Ok((p, stored.expires))
}
