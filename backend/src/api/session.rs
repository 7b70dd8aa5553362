//! Signing in and out of the console, who the caller is, changing one's own password, and
//! accepting an invitation: `/apis/tagstream.io/v1/{login,logout,whoami,password,invitations/{token}}`.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::header::SET_COOKIE;
use axum::http::{Extensions, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use tagstream_shared::paths::{LOGIN, LOGOUT, PASSWORD, WHOAMI};
use tagstream_shared::user::{
    AcceptInvitation, CSRF_COOKIE, Identity, Login, PasswordChange, SESSION_COOKIE,
    TAGSTREAM_API_VERSION,
};
use tagstream_shared::{FieldError, Status};

use crate::access::Need;
use crate::api::routes::Routes;
use crate::app::AppState;
use crate::auth::secret::{hash_password, hash_secret, new_secret, random_hex, verify_password};
use crate::auth::{Caller, cookies, origin};
use crate::body::{AnonymousBody, Body};
use crate::error::{ApiError, ApiResult};
use crate::store::Session;

pub fn routes() -> Routes {
    Routes::new()
        .post(LOGIN, Need::Anyone, login)
        .post(LOGOUT, Need::Anyone, logout)
        .get(WHOAMI, Need::SignedInScoped, whoami)
        // The caller's own password only (the body names no user); not with a project-scoped
        // token, which acts in its project only.
        .post(PASSWORD, Need::SignedIn, change_password)
        .post(
            "/apis/tagstream.io/v1/invitations/{token}",
            Need::Anyone,
            accept_invitation,
        )
}

/// How long a sign-in waits for a turn to verify its password before answering 429.
const VERIFY_PATIENCE: Duration = Duration::from_secs(10);

/// A password's problems, as a field error (the rule is the shared one the console checks too).
pub fn check_password(field: &str, password: &str) -> Option<FieldError> {
    tagstream_shared::user::check_password(password)
        .map(|message| FieldError::invalid(field, "(hidden)", message))
}

/// Whether cookies go out with `Secure`: as configured, or when a trusted proxy says the
/// request came over TLS.
fn secure(state: &AppState, headers: &HeaderMap, peer: Option<SocketAddr>) -> bool {
    state.config.auth.secure_cookies.unwrap_or_else(|| {
        peer.is_some_and(|p| state.config.auth.trusted_proxies.contains(&p.ip()))
            && headers
                .get("x-forwarded-proto")
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"))
    })
}

fn identity(caller: &Caller) -> Identity {
    let p = caller.principal();
    Identity {
        kind: "Identity".into(),
        api_version: TAGSTREAM_API_VERSION.into(),
        username: caller.name().to_owned(),
        groups: p.map(|p| p.groups.clone()).unwrap_or_default(),
        cluster_admin: p.is_some_and(|p| p.cluster_admin),
        csrf_token: p.and_then(|p| p.session.as_ref()).map(|s| s.csrf.clone()),
    }
}

async fn whoami(Extension(caller): Extension<Caller>) -> Json<Identity> {
    Json(identity(&caller))
}

/// A hash to verify against when the user does not exist, so that the answer takes as long.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password").unwrap_or_default())
}

async fn login(
    State(state): State<AppState>,
    extensions: Extensions,
    headers: HeaderMap,
    AnonymousBody(login): AnonymousBody<Login>,
) -> ApiResult<Response> {
    let peer = extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    let auth = &state.config.auth;
    // Login CSRF: a page on another site must not sign the browser in as someone else.
    let forwarded_host = peer
        .filter(|p| auth.trusted_proxies.contains(&p.ip()))
        .and_then(|_| headers.get("x-forwarded-host"))
        .and_then(|v| v.to_str().ok());
    if origin::site(&headers, forwarded_host) == origin::Site::CrossSite {
        return Err(ApiError::Forbidden(
            "sign-in is accepted only from this console's own pages (the request's Origin or \
             Sec-Fetch-Site names another site)"
                .into(),
        ));
    }
    if !verify_attempt(&state, &login.username, &login.password, peer).await? {
        tracing::info!(user = %login.username, "sign-in refused");
        return Err(ApiError::Unauthorized(
            "the user name or the password is wrong".into(),
        ));
    }
    // A new session id at every sign-in; the one the browser had (if any) ends.
    if let Some(old) = cookies::get(&headers, SESSION_COOKIE) {
        state.store.delete_session(&hash_secret(old)).await?;
    }
    let random = |e: getrandom::Error| ApiError::Internal(Box::new(e));
    let id = new_secret("").map_err(random)?;
    let csrf = random_hex(32).map_err(random)?;
    let now = state.clock.now().timestamp();
    state
        .store
        .create_session(
            &hash_secret(&id),
            Session {
                user: login.username.clone(),
                csrf: csrf.clone(),
                created: now,
                last_seen: now,
            },
        )
        .await?;
    tracing::info!(user = %login.username, "signed in");
    let mut p = crate::auth::principal(&state, &login.username, Vec::new()).await?;
    p.session = Some(crate::auth::SessionRef {
        hash: hash_secret(&id),
        csrf: csrf.clone(),
    });
    let secure = secure(&state, &headers, peer);
    let max_age = auth.session_max_seconds;
    let mut response = Json(identity(&Caller::User(p))).into_response();
    set_cookie(
        &mut response,
        &cookies::set(SESSION_COOKIE, &id, true, secure, max_age),
    );
    set_cookie(
        &mut response,
        &cookies::set(CSRF_COOKIE, &csrf, false, secure, max_age),
    );
    Ok(response)
}

/// Whether `password` is `username`'s, as one attempt under the sign-in limits (per user name
/// and per client address): a wrong password counts, a right one is given back, and past the
/// limit the answer is 429 without checking. Sign-in and a password change share it, so a
/// stolen session cannot guess its user's password faster than the sign-in page could.
async fn verify_attempt(
    state: &AppState,
    username: &str,
    password: &str,
    peer: Option<SocketAddr>,
) -> ApiResult<bool> {
    let auth = &state.config.auth;
    let window = Duration::from_secs(auth.login_window_seconds);
    let user_key = format!("user:{username}");
    let addr_key = format!(
        "addr:{}",
        peer.map(|p| p.ip().to_string()).unwrap_or_default()
    );
    // The attempt counts before the password is checked, so that concurrent attempts cannot
    // all pass the limit; a success gives it back.
    let reservation = state
        .login_limiter
        .reserve(
            &[
                (&user_key, auth.login_attempts_per_user),
                (&addr_key, auth.login_attempts_per_address),
            ],
            window,
        )
        .map_err(|wait| {
            let secs = wait.as_secs().max(1);
            ApiError::TooManyRequests {
                message: format!("too many wrong passwords: try again in {secs} seconds"),
                retry_after: secs,
            }
        })?;
    let stored = state.store.password_hash(username).await?;
    let password = password.to_owned();
    let ok = {
        let Some(_slot) = state.login_limiter.verification_slot(VERIFY_PATIENCE).await else {
            return Err(ApiError::TooManyRequests {
                message: "the server is busy checking other passwords: try again in a moment"
                    .into(),
                retry_after: 1,
            });
        };
        let phc = stored.clone().unwrap_or_else(|| decoy_hash().to_owned());
        tokio::task::spawn_blocking(move || verify_password(&password, &phc))
            .await
            .map_err(|e| ApiError::Internal(Box::new(e)))?
    } && stored.is_some();
    if ok {
        state.login_limiter.refund(reservation, &user_key);
    }
    Ok(ok)
}

/// The caller's new password: the current one checked as a sign-in attempt, the new one by the
/// invitation rules; every other session of theirs ends (the one asking stays signed in).
async fn change_password(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    extensions: Extensions,
    Body(body): Body<PasswordChange>,
) -> ApiResult<Json<Status>> {
    let name = caller.name().to_owned();
    let invalid = |e: FieldError| ApiError::Invalid {
        kind: "PasswordChange",
        name: name.clone(),
        errors: vec![e],
    };
    if let Some(e) = check_password("newPassword", &body.new_password) {
        return Err(invalid(e));
    }
    let peer = extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    if !verify_attempt(&state, &name, &body.current_password, peer).await? {
        tracing::info!(user = %name, "password change refused: wrong current password");
        // Not 401: the caller is signed in, only the password they typed is wrong.
        return Err(invalid(FieldError::invalid(
            "currentPassword",
            "(hidden)",
            "is not your current password",
        )));
    }
    let phc = hash_new_password(&state, body.new_password).await?;
    let keep = caller
        .principal()
        .and_then(|p| p.session.as_ref())
        .map(|s| s.hash.as_str());
    state.store.set_password(&name, phc, keep).await?;
    tracing::info!(user = %name, "password changed; the user's other sessions ended");
    Ok(Json(Status::success()))
}

/// Hashes a new password off the async workers, in one of the few slots the sign-in limiter
/// hands out: hashing costs what verifying does, so both share one bound.
pub(super) async fn hash_new_password(state: &AppState, password: String) -> ApiResult<String> {
    let Some(_slot) = state.login_limiter.verification_slot(VERIFY_PATIENCE).await else {
        return Err(ApiError::TooManyRequests {
            message: "the server is busy checking passwords: try again in a moment".into(),
            retry_after: 1,
        });
    };
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| ApiError::Internal(Box::new(e)))?
        .map_err(|e| ApiError::Internal(Box::new(e)))
}

fn set_cookie(response: &mut Response, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        response.headers_mut().append(SET_COOKIE, v);
    }
}

async fn logout(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    extensions: Extensions,
    headers: HeaderMap,
) -> ApiResult<Response> {
    if let Some(session) = caller.principal().and_then(|p| p.session.as_ref()) {
        state.store.delete_session(&session.hash).await?;
        tracing::info!(user = %caller.name(), "signed out");
    }
    let peer = extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    let secure = secure(&state, &headers, peer);
    let mut response = Json(Status::success()).into_response();
    set_cookie(
        &mut response,
        &cookies::set(SESSION_COOKIE, "", true, secure, 0),
    );
    set_cookie(
        &mut response,
        &cookies::set(CSRF_COOKIE, "", false, secure, 0),
    );
    Ok(response)
}

async fn accept_invitation(
    State(state): State<AppState>,
    Path(token): Path<String>,
    AnonymousBody(body): AnonymousBody<AcceptInvitation>,
) -> ApiResult<Json<Status>> {
    if let Some(e) = check_password("password", &body.password) {
        return Err(ApiError::Invalid {
            kind: "Invitation",
            name: String::new(),
            errors: vec![e],
        });
    }
    let hash = hash_secret(&token);
    let now = state.clock.now().timestamp();
    let gone = || ApiError::NotFound {
        resource: &super::INVITATIONS,
        name: "(the invitation: used, expired or never made)".into(),
    };
    // Looked up first so that a made-up token costs no password hashing.
    if state.store.invitation_user(&hash, now).await?.is_none() {
        return Err(gone());
    }
    let phc = hash_new_password(&state, body.password).await?;
    // Consuming the invitation and setting the password are one statement: a second use of
    // the same invitation, even a concurrent one, finds it gone.
    let Some(user) = state.store.accept_invitation(&hash, phc, now).await? else {
        return Err(gone());
    };
    tracing::info!(%user, "invitation accepted");
    Ok(Json(Status::success()))
}
