//! The integrated registry's two endpoints: its token server
//! (`GET /apis/tagstream.io/v1/registry/token`, Basic credentials: a user name and an API token;
//! `POST` the same path, the OAuth2 form of distribution's `docs/spec/auth/oauth.md` that newer
//! `docker login` sends) and its notification endpoint (`POST .../registry/notifications`, the secret header). Both
//! check their own credentials (the authentication middleware leaves them alone), so they are
//! registered for anyone; without `[registry]` both answer 404.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt as _, Limited};
use serde_json::json;
use tagstream_shared::{Status, StatusReason};

use super::Resource;
use crate::access::Need;
use crate::api::routes::Routes;
use crate::app::AppState;
use crate::error::{ApiError, ApiResult, status_response};
use crate::integrated::events::Event;
use crate::integrated::push::{self, Applied};
use crate::integrated::{Integrated, NOTIFICATIONS_PATH, SECRET_HEADER, TOKEN_PATH};
use crate::integrated::{events, input, oauth_form, token};

/// The integrated registry, as errors name it.
pub const REGISTRY: Resource = tagstream_shared::api_resource!(cluster "tagstream.io" / "v1",
    "Registry", "registries", "registry", [], &[], None);

pub fn routes() -> Routes {
    Routes::new()
        .get(TOKEN_PATH, Need::Anyone, get_token)
        .post(TOKEN_PATH, Need::Anyone, post_token)
        .post(NOTIFICATIONS_PATH, Need::Anyone, post_notifications)
}

fn integrated(state: &AppState) -> ApiResult<Arc<Integrated>> {
    state.integrated.clone().ok_or_else(|| ApiError::NotFound {
        resource: &REGISTRY,
        name: "integrated".into(),
    })
}

/// 401 with the challenge docker and skopeo answer with Basic credentials.
fn basic_challenge(message: &str) -> Response {
    let mut r = ApiError::Unauthorized(message.to_owned()).into_response();
    r.headers_mut().insert(
        WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"tagstream registry\""),
    );
    r
}

/// A token for what the caller may do with the scopes they ask for. Wrong or missing
/// credentials answer 401; a scope the caller may not use (a project they cannot see, one that
/// does not exist) is left out of the token, so the answer says nothing about it.
async fn get_token(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    match token_response(&state, &headers, &uri).await {
        Ok(r) => r,
        Err(ApiError::Unauthorized(message)) => basic_challenge(&message),
        Err(e) => e.into_response(),
    }
}

async fn token_response(state: &AppState, headers: &HeaderMap, uri: &Uri) -> ApiResult<Response> {
    let integrated = integrated(state)?;
    let request = input::token_request(uri.query())?;
    let credentials = input::basic(headers.get(AUTHORIZATION).map(HeaderValue::as_bytes))?
        .ok_or_else(|| {
            ApiError::Unauthorized("sign in with a user name and an API token".into())
        })?;
    if let Some(service) = &request.service {
        same_service(&integrated, service)?;
    }
    let (principal, expires) = signed_in(state, &credentials).await?;
    if request
        .account
        .as_ref()
        .is_some_and(|a| *a != credentials.user)
    {
        return Err(invalid_credentials());
    }
    let issued = issue(state, &integrated, &principal, expires, &request.scopes).await?;
    Ok(Json(json!({
        "token": issued.jwt,
        "access_token": issued.jwt,
        "expires_in": issued.expires_in,
        "issued_at": issued.issued_at,
    }))
    .into_response())
}

/// A token server serves one service: a request naming another is refused (a token for it
/// would be one the other service's registry could be tricked into honouring).
fn same_service(integrated: &Integrated, service: &str) -> ApiResult<()> {
    if service == integrated.config.service {
        return Ok(());
    }
    Err(ApiError::BadRequest(format!(
        "this token server serves {:?}, not {service:?}",
        integrated.config.service
    )))
}

fn invalid_credentials() -> ApiError {
    ApiError::Unauthorized(
        "the user name and API token do not match (unknown, revoked or expired)".into(),
    )
}

/// The user `credentials` sign in, and when their API token expires.
async fn signed_in(
    state: &AppState,
    credentials: &input::BasicCredentials,
) -> ApiResult<(crate::auth::Principal, Option<i64>)> {
    let (principal, expires) = crate::auth::by_token_expiring(state, &credentials.token)
        .await
        .map_err(|_| invalid_credentials())?;
    if principal.name != credentials.user {
        return Err(invalid_credentials());
    }
    Ok((principal, expires))
}

/// A signed registry token and what it says.
struct Issued {
    jwt: String,
    access: Vec<token::Access>,
    expires_in: u64,
    issued_at: String,
}

/// Signs a token granting what `principal` may do with `scopes`, living no longer than the API
/// token it is issued for (`expires`).
async fn issue(
    state: &AppState,
    integrated: &Integrated,
    principal: &crate::auth::Principal,
    expires: Option<i64>,
    scopes: &[input::Scope],
) -> ApiResult<Issued> {
    let access = token::grant(state, principal, scopes).await?;
    let now = state.clock.now();
    let expires_in = integrated.token_lifetime(now.timestamp(), expires);
    let jwt = integrated.sign(&principal.name, &access, now.timestamp(), expires_in)?;
    Ok(Issued {
        jwt,
        access,
        expires_in,
        issued_at: now.to_string(),
    })
}

/// The OAuth2 form (`grant_type=password` or `refresh_token`): an access token, the scope it
/// grants (required by the spec) and, with `access_type=offline`, a refresh token. The refresh
/// token is the API token itself: revoking or expiring it ends the refresh token too, and
/// nothing new is stored.
async fn post_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> ApiResult<Response> {
    let integrated = integrated(&state)?;
    let form = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form {
        return Err(ApiError::UnsupportedMediaType(
            "POST a token request as application/x-www-form-urlencoded".into(),
        ));
    }
    let bytes = read_limited(body, input::MAX_QUERY_BYTES).await?;
    let request = oauth_form::oauth_request(&bytes)?;
    same_service(&integrated, &request.service)?;
    let (principal, expires, refresh) = match request.grant {
        oauth_form::Grant::Password(credentials) => {
            let (p, e) = signed_in(&state, &credentials).await?;
            (p, e, credentials.token)
        }
        oauth_form::Grant::Refresh(refresh) => {
            let (p, e) = crate::auth::by_token_expiring(&state, &refresh)
                .await
                .map_err(|_| {
                    ApiError::Unauthorized(
                        "the refresh token is not valid (unknown, revoked or expired)".into(),
                    )
                })?;
            (p, e, refresh)
        }
    };
    let issued = issue(&state, &integrated, &principal, expires, &request.scopes).await?;
    let scope: Vec<String> = issued
        .access
        .iter()
        .map(|a| format!("{}:{}:{}", a.kind, a.name, a.actions.join(",")))
        .collect();
    let mut answer = json!({
        "access_token": issued.jwt,
        "scope": scope.join(" "),
        "expires_in": issued.expires_in,
        "issued_at": issued.issued_at,
    });
    if request.offline {
        answer["refresh_token"] = json!(refresh);
    }
    Ok(Json(answer).into_response())
}

/// The registry's notifications: each tag push moves its tag. Answers 503 when a push could
/// not be applied for now (the registry sends the envelope again; pushes already applied are
/// recognised by their event id), 200 otherwise, with what became of the pushes.
async fn post_notifications(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> ApiResult<Response> {
    let integrated = integrated(&state)?;
    let sent = headers
        .get(SECRET_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !integrated.is_notification_secret(sent) {
        return Err(ApiError::Unauthorized(format!(
            "a notification must carry the registry's secret in {SECRET_HEADER}"
        )));
    }
    let bytes = read_limited(body, events::MAX_ENVELOPE_BYTES).await?;
    let (events, newest) = events::events(&bytes)?;
    // How far the notifications were read is what a refused push's taking out waits on
    // (`integrated::refused`): that one came now, and once applied, the registry's time of its
    // newest event.
    let newest = newest.as_ref().map(tagstream_shared::Time::timestamp);
    state
        .store
        .heard(None, state.clock.now().timestamp())
        .await
        .map_err(ApiError::from)?;
    // Applied in a task of its own: the registry gives up on a slow answer and closes the
    // connection, which would drop this handler's future between claiming an event and applying
    // it (the delivery again would then find it claimed). The task runs to its end regardless.
    let applied = tokio::spawn(async move {
        let mut outcomes = Vec::with_capacity(events.len());
        for event in &events {
            outcomes.push(match event {
                Event::Push(p) => push::apply(&state, &integrated, p).await,
                Event::Delete(d) => push::withdraw(&state, d).await,
            });
        }
        // Not when an event was claimed already: the registry sends an envelope again when
        // the first delivery outlasts its timeout, and that delivery may still be applying it
        // (review 8 C2); it records how far it came when it is done.
        if !outcomes.iter().any(|o| {
            o.as_ref().is_err_and(push::PushError::is_transient)
                || matches!(o, Ok(Applied::Duplicate))
        }) && let Err(e) = state
                .store
                .heard(newest, state.clock.now().timestamp())
                .await
        {
            tracing::warn!(error = %e, "cannot record how far the registry's notifications were read");
        }
        outcomes
    })
    .await
    .map_err(|e| ApiError::Internal(Box::new(e)))?;
    let (mut moved, mut duplicates, mut ignored, mut refused, mut failed) = (0, 0, 0, 0, 0);
    let (mut recorded, mut gone, mut withdrawn) = (0, 0, 0);
    let mut retry = None;
    for outcome in applied {
        match outcome {
            Ok(Applied::Moved) => moved += 1,
            Ok(Applied::Duplicate) => duplicates += 1,
            Ok(Applied::Ignored) => ignored += 1,
            Ok(Applied::Refused) => refused += 1,
            Ok(Applied::Recorded) => recorded += 1,
            Ok(Applied::Gone) => gone += 1,
            Ok(Applied::Withdrawn) => withdrawn += 1,
            Err(e) if e.is_transient() => retry = Some(e.to_string()),
            Err(_) => failed += 1,
        }
    }
    if let Some(message) = retry {
        return Ok(status_response(Status::failure(
            StatusReason::ServiceUnavailable,
            format!("a push cannot be applied yet, send it again: {message}"),
        )));
    }
    Ok(Json(json!({
        "moved": moved, "duplicates": duplicates, "ignored": ignored, "refused": refused,
        "recorded": recorded, "gone": gone, "withdrawn": withdrawn, "failed": failed
    }))
    .into_response())
}

/// The body, up to `limit` bytes (413 beyond).
pub async fn read_limited(body: axum::body::Body, limit: usize) -> ApiResult<bytes::Bytes> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(ApiError::TooLarge(format!(
            "the body is larger than {limit} bytes"
        ))),
        Err(e) => Err(ApiError::BadRequest(format!("cannot read the body: {e}"))),
    }
}
