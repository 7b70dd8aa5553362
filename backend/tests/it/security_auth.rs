//! Issue 11, signing in and who may do what: concurrent wrong passwords are limited before they
//! are verified; neither the proxy sign-in nor the sign-in form can be driven by another site;
//! a project-scoped token acts in its project only; a registry-admin cannot rewrite or delete
//! the binding that grants admin; an invitation expires and sets a password once.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tagstream_backend::config::Config;
use tagstream_shared::paths;

use crate::support::{TestApp, client_with_token};

async fn login(app: &TestApp, user: &str, password: &str) -> StatusCode {
    app.anonymous
        .post(app.url(paths::LOGIN))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn concurrent_wrong_passwords_count_before_they_are_verified() {
    let mut config = Config::default();
    config.auth.login_attempts_per_user = 5;
    // Only the per-user limit is under test: every request comes from 127.0.0.1.
    config.auth.login_attempts_per_address = 1000;
    let app = TestApp::start_with_config(config).await;
    let bob = app.user("bob").await;
    let attempts: Vec<_> = (0..60)
        .map(|i| {
            let (client, url) = (app.anonymous.clone(), app.url(paths::LOGIN));
            tokio::spawn(async move {
                client
                    .post(url)
                    .json(&json!({"username": "bob", "password": format!("wrong-{i}")}))
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    let mut verified = 0;
    let mut limited = 0;
    for a in attempts {
        match a.await.unwrap() {
            StatusCode::UNAUTHORIZED => verified += 1,
            StatusCode::TOO_MANY_REQUESTS => limited += 1,
            other => panic!("unexpected answer {other}"),
        }
    }
    // At most the allowed attempts reach password verification (one may still be refused as
    // busy when verifications queue on a loaded machine); every other one is a 429 at once.
    assert!(
        (1..=5).contains(&verified) && verified + limited == 60,
        "{verified} attempts were verified, {limited} limited: only 5 may be verified"
    );
    // Bob is locked out now, even with his password.
    assert_eq!(
        login(&app, "bob", &bob.password).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    app.stop().await;
}

#[tokio::test]
async fn a_successful_sign_in_gives_its_attempt_back() {
    let mut config = Config::default();
    config.auth.login_attempts_per_user = 2;
    let app = TestApp::start_with_config(config).await;
    let dora = app.user("dora").await;
    for _ in 0..5 {
        assert_eq!(login(&app, "dora", &dora.password).await, StatusCode::OK);
    }
    app.stop().await;
}

fn proxy_config() -> Config {
    let mut config = Config::default();
    config.auth.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    config
}

/// A binding of `role` for `user`, as a form on another site would post it.
fn binding(name: &str, role: &str, user: &str) -> Value {
    json!({
        "metadata": {"name": name},
        "roleRef": {"kind": "ClusterRole", "name": role},
        "subjects": [{"kind": "User", "name": user}]
    })
}

#[tokio::test]
async fn a_cross_site_post_through_the_proxy_sign_in_changes_nothing() {
    let app = TestApp::start_with_config(proxy_config()).await;
    app.create_project("team").await;
    let as_sso = |req: reqwest::RequestBuilder| {
        req.header("X-Forwarded-User", "sso-admin")
            .header("X-Forwarded-Groups", "system:cluster-admins")
    };
    let post = |name: &str| {
        as_sso(app.anonymous.post(app.url(&paths::rolebindings("team"))))
            .header("Content-Type", "application/json")
            .body(binding(name, "admin", "stranger").to_string())
    };
    // A form on evil.example posted through the signed-in browser, and a request that says
    // nothing about where it comes from: both refused.
    let cross = post("evil-1")
        .header("Origin", "http://evil.example")
        .header("Sec-Fetch-Site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    let body: Value = cross.json().await.unwrap();
    assert_eq!(body["kind"], "Status");
    assert!(
        body["message"].as_str().unwrap().contains("origin"),
        "{body}"
    );
    let unknown = post("evil-2").send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::FORBIDDEN);
    let origin_only = post("evil-3")
        .header("Origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(origin_only.status(), StatusCode::FORBIDDEN);
    for name in ["evil-1", "evil-2", "evil-3"] {
        let (code, _) = app.get(&paths::rolebinding("team", name)).await;
        assert_eq!(code, StatusCode::NOT_FOUND, "{name} was not created");
    }
    // The console's own pages still work: same origin by fetch metadata or by Origin.
    let same = post("ok-1")
        .header("Sec-Fetch-Site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), StatusCode::CREATED);
    let same = post("ok-2")
        .header("Origin", app.base.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), StatusCode::CREATED);
    // Reading needs nothing of the sort.
    let read = as_sso(app.anonymous.get(app.url(paths::WHOAMI)))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn signing_in_from_another_site_is_refused() {
    let app = TestApp::start().await;
    let erin = app.user("erin").await;
    let attempt = |fetch_site: &'static str, origin: String| {
        app.anonymous
            .post(app.url(paths::LOGIN))
            .header("Sec-Fetch-Site", fetch_site)
            .header("Origin", origin)
            .json(&json!({"username": "erin", "password": erin.password}))
            .send()
    };
    let cross = attempt("cross-site", "http://evil.example".into())
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    assert!(
        cross.headers().get("set-cookie").is_none(),
        "no session was started"
    );
    let same = attempt("same-origin", app.base.clone()).await.unwrap();
    assert_eq!(same.status(), StatusCode::OK);
    assert!(same.headers().get("set-cookie").is_some());
    // Without fetch metadata, the Origin decides.
    let old_browser = app
        .anonymous
        .post(app.url(paths::LOGIN))
        .header("Origin", "http://evil.example")
        .json(&json!({"username": "erin", "password": erin.password}))
        .send()
        .await
        .unwrap();
    assert_eq!(old_browser.status(), StatusCode::FORBIDDEN);
    app.stop().await;
}

#[tokio::test]
async fn a_project_scoped_token_acts_in_its_project_only() {
    let app = TestApp::start().await;
    app.create_project("team").await;
    app.create_project("elsewhere").await;
    let carol = app.user("carol").await;
    app.grant("team", "carol", "admin").await;
    app.grant("elsewhere", "carol", "admin").await;
    let (code, scoped) = app
        .send_as(
            &carol.client,
            Method::POST,
            &paths::tokens("~"),
            Some(&json!({"spec": {"description": "ci", "project": "team"}})),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{scoped}");
    let token = client_with_token(scoped["token"].as_str().unwrap());

    let (code, body) = app
        .send_as(
            &token,
            Method::POST,
            paths::PROJECTS,
            Some(&json!({"metadata": {"name": "made-by-a-scoped-token"}})),
        )
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("\"team\""),
        "{body}"
    );
    let (code, _) = app.get(&paths::project("made-by-a-scoped-token")).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    for path in [paths::GROUPS, paths::SAMPLES_CONFIG] {
        let (code, body) = app.send_as(&token, Method::GET, path, None).await;
        assert_eq!(code, StatusCode::FORBIDDEN, "{path}: {body}");
    }
    // What is about its project (or about the caller) still answers, filtered to the scope.
    let (code, list) = app
        .send_as(&token, Method::GET, paths::PROJECTS, None)
        .await;
    assert_eq!(code, StatusCode::OK, "{list}");
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["team"]);
    let (code, _) = app.send_as(&token, Method::GET, paths::WHOAMI, None).await;
    assert_eq!(code, StatusCode::OK);
    // Carol herself, unscoped, may still create a project.
    let (code, body) = app
        .send_as(
            &carol.client,
            Method::POST,
            paths::PROJECTS,
            Some(&json!({"metadata": {"name": "carols"}})),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    app.stop().await;
}

#[tokio::test]
async fn a_registry_admin_cannot_rewrite_or_delete_the_admin_binding() {
    let app = TestApp::start().await;
    app.create_project("team").await;
    app.user("owner").await;
    let ra = app.user("ra").await;
    app.grant("team", "owner", "admin").await;
    app.grant("team", "ra", "registry-admin").await;
    let path = paths::rolebinding("team", "admin-owner");
    let (code, current) = app.get(&path).await;
    assert_eq!(code, StatusCode::OK, "{current}");

    // Demoting the owner: the new role is one ra may grant, the binding it replaces is not.
    let mut demoted = current.clone();
    demoted["roleRef"]["name"] = json!("registry-viewer");
    let (code, body) = app
        .send_as(&ra.client, Method::PUT, &path, Some(&demoted))
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
    let (code, body) = app.send_as(&ra.client, Method::DELETE, &path, None).await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
    let (code, after) = app.get(&path).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(after["roleRef"]["name"], "admin");
    assert_eq!(
        after["metadata"]["resourceVersion"],
        current["metadata"]["resourceVersion"]
    );

    // Bindings of roles ra holds stay theirs to manage.
    let (code, body) = app
        .send_as(
            &ra.client,
            Method::POST,
            &paths::rolebindings("team"),
            Some(&binding("viewers", "registry-viewer", "owner")),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let (code, body) = app
        .send_as(
            &ra.client,
            Method::DELETE,
            &paths::rolebinding("team", "viewers"),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    // The admin may change the admin binding.
    let (code, body) = app.put(&path, &demoted).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    app.stop().await;
}

async fn invite(app: &TestApp, name: &str) -> (String, i64) {
    let (code, body) = app
        .post(paths::USERS, &json!({"metadata": {"name": name}}))
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let created = chrono::DateTime::parse_from_rfc3339(
        body["metadata"]["creationTimestamp"].as_str().unwrap(),
    )
    .unwrap()
    .timestamp();
    (body["invitation"].as_str().unwrap().to_owned(), created)
}

#[tokio::test]
async fn an_invitation_sets_one_password_even_when_used_twice_at_once() {
    let app = TestApp::start().await;
    let (invitation, _) = invite(&app, "ivy").await;
    let accept = |password: &'static str| {
        app.anonymous
            .post(app.url(&paths::invitation(&invitation)))
            .json(&json!({"password": password}))
            .send()
    };
    let (a, b) = tokio::join!(accept("first-password"), accept("second-password"));
    let (a, b) = (a.unwrap().status(), b.unwrap().status());
    let mut codes = [a, b];
    codes.sort();
    assert_eq!(
        codes,
        [StatusCode::OK, StatusCode::NOT_FOUND],
        "exactly one use of the invitation sets a password"
    );
    let (winner, loser) = if a == StatusCode::OK {
        ("first-password", "second-password")
    } else {
        ("second-password", "first-password")
    };
    assert_eq!(login(&app, "ivy", winner).await, StatusCode::OK);
    assert_eq!(login(&app, "ivy", loser).await, StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn an_invitation_expires() {
    let mut config = Config::default();
    config.auth.invitation_seconds = 1;
    let app = TestApp::start_with_config(config).await;
    let (invitation, created) = invite(&app, "late").await;
    // Waits until the wall clock is past the invitation's expiry (creation + 1 s).
    while chrono::Utc::now().timestamp() <= created + 1 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (code, body) = app
        .send_as(
            &app.anonymous,
            Method::POST,
            &paths::invitation(&invitation),
            Some(&json!({"password": "too-late-password"})),
        )
        .await;
    assert_eq!(code, StatusCode::NOT_FOUND, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("expired"),
        "{body}"
    );
    assert_eq!(
        login(&app, "late", "too-late-password").await,
        StatusCode::UNAUTHORIZED
    );
    // With the default lifetime, a fresh invitation works.
    app.stop().await;
    let app = TestApp::start().await;
    let (invitation, _) = invite(&app, "prompt").await;
    let (code, body) = app
        .send_as(
            &app.anonymous,
            Method::POST,
            &paths::invitation(&invitation),
            Some(&json!({"password": "in-time-password"})),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(
        login(&app, "prompt", "in-time-password").await,
        StatusCode::OK
    );
    app.stop().await;
}
