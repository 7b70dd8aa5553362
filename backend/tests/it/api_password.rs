//! Changing one's own password (`POST /apis/tagstream.io/v1/password`) against the real server:
//! the current password is required and counts as a sign-in attempt, the new one follows the
//! invitation rules, every other session of the user ends while the one asking stays, and
//! nobody changes another user's password this way.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tagstream_backend::config::Config;
use tagstream_shared::paths;

use crate::support::{Session, TestApp, assert_status, sign_in_at};

/// Signs in with a password: the answer's code, and the session when it succeeded.
async fn sign_in(app: &TestApp, user: &str, password: &str) -> (StatusCode, Option<Session>) {
    sign_in_at(app.url(paths::LOGIN), user, password).await
}

async fn signed_in(app: &TestApp, user: &str, password: &str) -> Session {
    let (code, session) = sign_in(app, user, password).await;
    assert_eq!(code, StatusCode::OK, "signing in as {user}");
    session.unwrap()
}

async fn as_session(
    app: &TestApp,
    s: &Session,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let mut req = app
        .anonymous
        .request(method, app.url(path))
        .header("Cookie", &s.cookie)
        .header("X-CSRF-Token", &s.csrf);
    if let Some(b) = body {
        req = req.json(b);
    }
    let resp = req.send().await.unwrap();
    let code = resp.status();
    (code, resp.json().await.unwrap_or(Value::Null))
}

async fn change(app: &TestApp, s: &Session, current: &str, new: &str) -> (StatusCode, Value) {
    as_session(
        app,
        s,
        Method::POST,
        paths::PASSWORD,
        Some(&json!({"currentPassword": current, "newPassword": new})),
    )
    .await
}

#[tokio::test]
async fn a_user_changes_their_password_and_their_other_sessions_end() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let laptop = signed_in(&app, "alice", &alice.password).await;
    let phone = signed_in(&app, "alice", &alice.password).await;

    // A wrong current password changes nothing, and says which field is wrong.
    let (code, body) = change(&app, &laptop, "not-my-password", "a-new-password").await;
    let status = assert_status(body, StatusCode::UNPROCESSABLE_ENTITY, "Invalid");
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        status.causes_for("currentPassword").next().is_some(),
        "{status:?}"
    );
    let (code, _) = as_session(&app, &phone, Method::GET, paths::WHOAMI, None).await;
    assert_eq!(code, StatusCode::OK, "a refused change ends no session");

    // A new password too short for an invitation is refused the same way.
    let (code, body) = change(&app, &laptop, &alice.password, "short").await;
    let status = assert_status(body, StatusCode::UNPROCESSABLE_ENTITY, "Invalid");
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        status.causes_for("newPassword").next().is_some(),
        "{status:?}"
    );

    let (code, body) = change(&app, &laptop, &alice.password, "a-new-password").await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "Success", "{body}");

    // The session that asked stays; the other one ended.
    let (code, who) = as_session(&app, &laptop, Method::GET, paths::WHOAMI, None).await;
    assert_eq!(code, StatusCode::OK, "{who}");
    assert_eq!(who["username"], "alice");
    let (code, body) = as_session(&app, &phone, Method::GET, paths::WHOAMI, None).await;
    assert_eq!(
        code,
        StatusCode::UNAUTHORIZED,
        "the other session ended: {body}"
    );

    // The new password signs in; the old one no longer does.
    let (code, _) = sign_in(&app, "alice", "a-new-password").await;
    assert_eq!(code, StatusCode::OK);
    let (code, _) = sign_in(&app, "alice", &alice.password).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn another_users_password_cannot_be_changed_this_way() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let s = signed_in(&app, "alice", &alice.password).await;

    // The body names no user: naming one is refused before anything is checked.
    let (code, body) = as_session(
        &app,
        &s,
        Method::POST,
        paths::PASSWORD,
        Some(&json!({
            "username": "bob",
            "currentPassword": bob.password,
            "newPassword": "taken-over-password"
        })),
    )
    .await;
    assert!(code.is_client_error(), "{code} {body}");
    assert_eq!(body["kind"], "Status", "{body}");
    // Bob's current password is not Alice's: the change is for the caller, and refused.
    let (code, body) = change(&app, &s, &bob.password, "taken-over-password").await;
    assert_status(body, StatusCode::UNPROCESSABLE_ENTITY, "Invalid");
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);

    // Bob's password is his as before; nobody signs in with the one tried.
    let (code, _) = sign_in(&app, "bob", &bob.password).await;
    assert_eq!(code, StatusCode::OK);
    for user in ["bob", "alice"] {
        let (code, _) = sign_in(&app, user, "taken-over-password").await;
        assert_eq!(code, StatusCode::UNAUTHORIZED, "{user}");
    }
    // Without a session or token, nobody's password changes.
    let (code, body) = app
        .send_as(
            &app.anonymous,
            Method::POST,
            paths::PASSWORD,
            Some(&json!({"currentPassword": bob.password, "newPassword": "taken-over-password"})),
        )
        .await;
    assert_status(body, StatusCode::UNAUTHORIZED, "Unauthorized");
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn wrong_current_passwords_count_against_the_sign_in_limit() {
    let mut config = Config::default();
    config.auth.login_attempts_per_user = 3;
    config.auth.login_attempts_per_address = 100;
    let app = TestApp::start_with_config(config).await;
    let erin = app.user("erin").await;
    let s = signed_in(&app, "erin", &erin.password).await;
    let before = app.store().password_hash("erin").await.unwrap();
    for _ in 0..3 {
        let (code, body) = change(&app, &s, "guess", "a-new-password").await;
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    // Past the limit even the right current password waits, and so does signing in.
    let (code, body) = change(&app, &s, &erin.password, "a-new-password").await;
    assert_status(body, StatusCode::TOO_MANY_REQUESTS, "TooManyRequests");
    assert_eq!(code, StatusCode::TOO_MANY_REQUESTS);
    let (code, _) = sign_in(&app, "erin", &erin.password).await;
    assert_eq!(code, StatusCode::TOO_MANY_REQUESTS);
    // Nothing changed meanwhile: the old password is still the one on record.
    assert_eq!(app.store().password_hash("erin").await.unwrap(), before);
    app.stop().await;
}
