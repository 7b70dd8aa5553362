//! Sign-in and access control against the real server: sessions and CSRF, token scope, expiry
//! and revocation, the login rate limit, no existence leak, role bindings and escalation,
//! invitations, trusted-proxy sign-in, the audit log.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tagstream_backend::config::Config;
use tagstream_shared::paths;

use crate::support::{TestApp, assert_status, client_with_token, stream_json};

/// A browser-like session: the cookies a sign-in set, sent back by hand.
struct Session {
    cookie: String,
    csrf: String,
}

async fn sign_in(
    app: &TestApp,
    user: &str,
    password: &str,
) -> (StatusCode, Value, Option<Session>) {
    let resp = app
        .anonymous
        .post(app.url(paths::LOGIN))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .unwrap();
    let code = resp.status();
    let cookies: Vec<String> = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let retry_after = resp.headers().get("retry-after").cloned();
    let mut body: Value = resp.json().await.unwrap();
    if let Some(r) = retry_after {
        body["retryAfter"] = json!(r.to_str().unwrap());
    }
    let value = |name: &str| {
        cookies.iter().find_map(|c| {
            c.strip_prefix(&format!("{name}="))
                .map(|rest| rest.split(';').next().unwrap().to_owned())
        })
    };
    let session = match (value("tagstream-session"), value("tagstream-csrf")) {
        (Some(s), Some(c)) if code == StatusCode::OK => {
            let set = cookies
                .iter()
                .find(|c| c.starts_with("tagstream-session="))
                .unwrap();
            assert!(
                set.contains("HttpOnly") && set.contains("SameSite=Strict"),
                "{set}"
            );
            Some(Session {
                cookie: format!("tagstream-session={s}"),
                csrf: c,
            })
        }
        _ => None,
    };
    (code, body, session)
}

async fn with_cookie(
    app: &TestApp,
    s: &Session,
    method: Method,
    path: &str,
    body: Option<&Value>,
    csrf: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = app
        .anonymous
        .request(method, app.url(path))
        .header("Cookie", &s.cookie);
    if let Some(t) = csrf {
        req = req.header("X-CSRF-Token", t);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    let resp = req.send().await.unwrap();
    let code = resp.status();
    (code, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_session_cookie_needs_its_csrf_token_for_changes_and_ends_on_logout() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let (code, body, session) = sign_in(&app, "alice", &alice.password).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(body["username"], "alice");
    let s = session.unwrap();
    assert_eq!(body["csrfToken"], s.csrf.as_str());

    let (code, who) = with_cookie(&app, &s, Method::GET, paths::WHOAMI, None, None).await;
    assert_eq!(code, StatusCode::OK, "{who}");
    assert_eq!(who["username"], "alice");

    let project = json!({"metadata": {"name": "mine"}});
    let (code, body) = with_cookie(
        &app,
        &s,
        Method::POST,
        paths::PROJECTS,
        Some(&project),
        None,
    )
    .await;
    assert_status(body, StatusCode::FORBIDDEN, "Forbidden");
    assert_eq!(code, StatusCode::FORBIDDEN);
    let (code, body) = with_cookie(
        &app,
        &s,
        Method::POST,
        paths::PROJECTS,
        Some(&project),
        Some("wrong"),
    )
    .await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
    let (code, body) = with_cookie(
        &app,
        &s,
        Method::POST,
        paths::PROJECTS,
        Some(&project),
        Some(&s.csrf),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    // The creator became the project's admin.
    let (code, bindings) = with_cookie(
        &app,
        &s,
        Method::GET,
        &paths::rolebindings("mine"),
        None,
        None,
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{bindings}");
    assert_eq!(bindings["items"][0]["roleRef"]["name"], "admin");
    assert_eq!(bindings["items"][0]["subjects"][0]["name"], "alice");

    // A second sign-in gets a new session id; logging out ends the session for good.
    let (_, _, second) = sign_in(&app, "alice", &alice.password).await;
    let second = second.unwrap();
    assert_ne!(second.cookie, s.cookie);
    let (code, _) = with_cookie(&app, &s, Method::POST, paths::LOGOUT, None, Some(&s.csrf)).await;
    assert_eq!(code, StatusCode::OK);
    let (code, body) = with_cookie(&app, &s, Method::GET, paths::WHOAMI, None, None).await;
    assert_status(body, StatusCode::UNAUTHORIZED, "Unauthorized");
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    let (code, _) = with_cookie(&app, &second, Method::GET, paths::WHOAMI, None, None).await;
    assert_eq!(code, StatusCode::OK, "the other session is not affected");

    let (code, body, _) = sign_in(&app, "alice", "not her password").await;
    assert_status(body, StatusCode::UNAUTHORIZED, "Unauthorized");
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    app.stop().await;
}

/// Signs `bob` in on `app` and answers the session, checked to work.
async fn fresh_session(app: &TestApp) -> Session {
    let u = app.user("bob").await;
    let (code, body, s) = sign_in(app, "bob", &u.password).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let s = s.unwrap();
    let (code, _) = with_cookie(app, &s, Method::GET, paths::WHOAMI, None, None).await;
    assert_eq!(code, StatusCode::OK, "fresh sessions work");
    s
}

/// How long `s` keeps answering with requests every 250 ms, up to `longest`; `None` if it
/// still worked then.
async fn used_until_refused(app: &TestApp, s: &Session, longest: Duration) -> Option<Duration> {
    let start = tokio::time::Instant::now();
    while start.elapsed() < longest {
        let (code, body) = with_cookie(app, s, Method::GET, paths::WHOAMI, None, None).await;
        match code {
            StatusCode::OK => {}
            StatusCode::UNAUTHORIZED => return Some(start.elapsed()),
            _ => panic!("{code}: {body}"),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    None
}

#[tokio::test]
async fn an_idle_session_ends_but_one_in_use_does_not() {
    // Lifetimes of a few seconds: each must cover several requests even on a loaded machine.
    let mut config = Config::default();
    config.auth.session_idle_seconds = 3;
    let app = TestApp::start_with_config(config).await;
    let s = fresh_session(&app).await;
    // In use for longer than the idle limit: it keeps working (idle is not a lifetime).
    assert_eq!(
        used_until_refused(&app, &s, Duration::from_secs(5)).await,
        None,
        "a session in use ended"
    );
    // Left alone, it ends: the first request after more than the idle limit is refused.
    let idle_from = tokio::time::Instant::now();
    let deadline = idle_from + Duration::from_secs(15);
    tokio::time::sleep(Duration::from_secs(4)).await;
    loop {
        let (code, body) = with_cookie(&app, &s, Method::GET, paths::WHOAMI, None, None).await;
        if code == StatusCode::UNAUTHORIZED {
            break;
        }
        assert_eq!(code, StatusCode::OK, "{body}");
        assert!(
            tokio::time::Instant::now() < deadline,
            "an idle session never ended"
        );
        // Probing touches the session again: wait out the idle limit before each probe.
        tokio::time::sleep(Duration::from_secs(4)).await;
    }
    app.stop().await;
}

#[tokio::test]
async fn a_session_ends_after_its_lifetime_even_in_use() {
    let mut config = Config::default();
    config.auth.session_max_seconds = 3;
    let app = TestApp::start_with_config(config).await;
    let signed_in = tokio::time::Instant::now();
    let s = fresh_session(&app).await;
    let refused = used_until_refused(&app, &s, Duration::from_secs(15))
        .await
        .expect("a session in use outlived its lifetime");
    assert!(
        signed_in.elapsed() >= Duration::from_secs(3),
        "refused after {refused:?}, before its lifetime ended"
    );
    app.stop().await;
}

#[tokio::test]
async fn tokens_are_scoped_expire_and_can_be_revoked() {
    let app = TestApp::start().await;
    app.create_project("team").await;
    app.create_project("elsewhere").await;
    app.create_stream(
        "team",
        &stream_json("ruby", "latest", "quay.io/demo/ruby:3.3"),
    )
    .await;
    app.create_stream("elsewhere", &stream_json("go", "1", "quay.io/demo/go:1"))
        .await;
    let carol = app.user("carol").await;
    app.grant("team", "carol", "edit").await;
    app.grant("elsewhere", "carol", "edit").await;

    // A token limited to `team`.
    let (code, scoped) = app
        .send_as(
            &carol.client,
            Method::POST,
            &paths::tokens("~"),
            Some(&json!({"spec": {"description": "ci", "project": "team"}})),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{scoped}");
    let secret = scoped["token"].as_str().unwrap();
    assert!(secret.starts_with("tst_"));
    let scoped_client = client_with_token(secret);
    let (code, _) = app
        .send_as(
            &scoped_client,
            Method::GET,
            &paths::imagestream("team", "ruby"),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    let (code, body) = app
        .send_as(
            &scoped_client,
            Method::GET,
            &paths::imagestream("elsewhere", "go"),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::NOT_FOUND, "outside its project: {body}");
    let (code, list) = app
        .send_as(&scoped_client, Method::GET, paths::PROJECTS, None)
        .await;
    assert_eq!(code, StatusCode::OK);
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["team"], "{list}");
    let (code, _) = app
        .send_as(&scoped_client, Method::GET, &paths::tokens("~"), None)
        .await;
    assert_eq!(
        code,
        StatusCode::FORBIDDEN,
        "a scoped token cannot mint tokens"
    );

    // The secret is never shown again; listing shows the id, the scope and no secret.
    let (code, tokens) = app
        .send_as(&carol.client, Method::GET, &paths::tokens("carol"), None)
        .await;
    assert_eq!(code, StatusCode::OK);
    assert!(!tokens.to_string().contains(secret), "{tokens}");
    let id = scoped["metadata"]["name"].as_str().unwrap();
    assert!(
        tokens["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["metadata"]["name"] == id && t["spec"]["project"] == "team")
    );

    // Revoked by id: refused from then on.
    let (code, _) = app
        .send_as(
            &carol.client,
            Method::DELETE,
            &paths::token("carol", id),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    let (code, body) = app
        .send_as(
            &scoped_client,
            Method::GET,
            &paths::imagestream("team", "ruby"),
            None,
        )
        .await;
    assert_status(body, StatusCode::UNAUTHORIZED, "Unauthorized");
    assert_eq!(code, StatusCode::UNAUTHORIZED);

    // Expiring: works until its time, then not. A few seconds, so that creating it and the
    // first request fit before it ends even on a loaded machine.
    let expires =
        tagstream_shared::Time::from_timestamp(tagstream_shared::Time::now().timestamp() + 5);
    let (code, short) = app
        .send_as(
            &carol.client,
            Method::POST,
            &paths::tokens("~"),
            Some(&json!({"spec": {"expires": expires.to_string()}})),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{short}");
    let short_client = client_with_token(short["token"].as_str().unwrap());
    let (code, _) = app
        .send_as(&short_client, Method::GET, paths::WHOAMI, None)
        .await;
    assert_eq!(code, StatusCode::OK);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (code, body) = app
            .send_as(&short_client, Method::GET, paths::WHOAMI, None)
            .await;
        if code == StatusCode::UNAUTHORIZED {
            break;
        }
        assert_eq!(code, StatusCode::OK, "{body}");
        assert!(
            tokio::time::Instant::now() < deadline,
            "the token outlived its expiry"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        tagstream_shared::Time::now().timestamp() >= expires.timestamp(),
        "refused before it expired"
    );

    // Someone else's tokens are not yours to see or make.
    let dave = app.user("dave").await;
    let (code, _) = app
        .send_as(&dave.client, Method::GET, &paths::tokens("carol"), None)
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    let (code, body) = app
        .send_as(
            &carol.client,
            Method::POST,
            &paths::tokens("~"),
            Some(&json!({"spec": {"project": "Not A Project"}})),
        )
        .await;
    let status = assert_status(body, StatusCode::UNPROCESSABLE_ENTITY, "Invalid");
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(status.causes_for("spec.project").next().is_some());
    app.stop().await;
}

#[tokio::test]
async fn failed_sign_ins_are_limited_per_user_and_per_address() {
    let mut config = Config::default();
    config.auth.login_attempts_per_user = 3;
    config.auth.login_attempts_per_address = 5;
    let app = TestApp::start_with_config(config).await;
    let erin = app.user("erin").await;
    let frank = app.user("frank").await;
    for _ in 0..3 {
        let (code, _, _) = sign_in(&app, "erin", "guess").await;
        assert_eq!(code, StatusCode::UNAUTHORIZED);
    }
    // Past the limit even the right password waits, and says for how long.
    let (code, body, session) = sign_in(&app, "erin", &erin.password).await;
    assert_eq!(code, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(session.is_none());
    let wait: u64 = body["retryAfter"].as_str().unwrap().parse().unwrap();
    assert!((1..=300).contains(&wait), "{wait}");
    assert_eq!(body["reason"], "TooManyRequests");
    // Another user from the same address still may, until the address's limit.
    let (code, _, _) = sign_in(&app, "frank", &frank.password).await;
    assert_eq!(code, StatusCode::OK);
    for _ in 0..2 {
        let (code, _, _) = sign_in(&app, "frank", "guess").await;
        assert_eq!(code, StatusCode::UNAUTHORIZED);
    }
    let (code, _, _) = sign_in(&app, "someone-new", "guess").await;
    assert_eq!(
        code,
        StatusCode::TOO_MANY_REQUESTS,
        "five failures from one address"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_project_you_cannot_see_answers_as_if_it_did_not_exist() {
    let app = TestApp::start().await;
    app.create_project("secret").await;
    app.create_stream(
        "secret",
        &stream_json("ruby", "latest", "quay.io/demo/ruby:3.3"),
    )
    .await;
    let outsider = app.user("outsider").await;
    let viewer = app.user("viewer").await;
    app.grant("secret", "viewer", "view").await;

    for (path, twin) in [
        (
            paths::imagestream("secret", "ruby"),
            paths::imagestream("nothing", "ruby"),
        ),
        (paths::project("secret"), paths::project("nothing")),
        (
            paths::imagestreams("secret"),
            paths::imagestreams("nothing"),
        ),
    ] {
        let (code, hidden) = app
            .send_as(&outsider.client, Method::GET, &path, None)
            .await;
        let (twin_code, missing) = app
            .send_as(&outsider.client, Method::GET, &twin, None)
            .await;
        assert_eq!(code, StatusCode::NOT_FOUND, "{hidden}");
        assert_eq!(code, twin_code);
        assert_eq!(
            hidden["message"].as_str().unwrap().replace("secret", "X"),
            missing["message"].as_str().unwrap().replace("nothing", "X"),
            "the answers differ only by the name"
        );
    }
    let (_, list) = app
        .send_as(&outsider.client, Method::GET, paths::PROJECTS, None)
        .await;
    assert!(!list.to_string().contains("\"secret\""), "{list}");
    let (_, streams) = app
        .send_as(&outsider.client, Method::GET, paths::IMAGESTREAMS_ALL, None)
        .await;
    assert!(!streams.to_string().contains("secret"), "{streams}");

    // A viewer sees it but may not change it: 403 naming the verb and the resource.
    let (code, _) = app
        .send_as(
            &viewer.client,
            Method::GET,
            &paths::imagestream("secret", "ruby"),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    let (code, body) = app
        .send_as(
            &viewer.client,
            Method::DELETE,
            &paths::imagestream("secret", "ruby"),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("cannot delete")
            && message.contains("imagestreams")
            && message.contains("viewer"),
        "{message}"
    );
    let (_, streams) = app
        .send_as(&viewer.client, Method::GET, paths::IMAGESTREAMS_ALL, None)
        .await;
    assert_eq!(streams["items"][0]["metadata"]["namespace"], "secret");
    app.stop().await;
}

#[tokio::test]
async fn bindings_cannot_grant_more_than_their_author_holds() {
    let app = TestApp::start().await;
    app.create_project("team").await;
    let reg = app.user("reg").await;
    app.grant("team", "reg", "registry-admin").await;
    app.user("pal").await;
    let bind = |role: &str| {
        json!({"metadata": {"name": format!("{role}-pal")},
               "roleRef": {"kind": "ClusterRole", "name": role},
               "subjects": [{"kind": "User", "name": "pal"}]})
    };
    let (code, body) = app
        .send_as(
            &reg.client,
            Method::POST,
            &paths::rolebindings("team"),
            Some(&bind("admin")),
        )
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
    let (code, body) = app
        .send_as(
            &reg.client,
            Method::POST,
            &paths::rolebindings("team"),
            Some(&bind("registry-viewer")),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let (code, body) = app
        .send_as(
            &reg.client,
            Method::POST,
            &paths::rolebindings("team"),
            Some(&bind("owner")),
        )
        .await;
    let status = assert_status(body, StatusCode::UNPROCESSABLE_ENTITY, "Invalid");
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(status.causes_for("roleRef.name").next().is_some());
    app.stop().await;
}

#[tokio::test]
async fn tagging_from_another_project_needs_read_access_to_it() {
    let app = TestApp::start().await;
    for ns in ["team", "source", "closed"] {
        app.create_project(ns).await;
    }
    app.create_stream("source", &stream_json("base", "1", "quay.io/demo/base:1"))
        .await;
    app.create_stream("closed", &stream_json("base", "1", "quay.io/demo/base:1"))
        .await;
    let ed = app.user("ed").await;
    app.grant("team", "ed", "edit").await;
    app.grant("source", "ed", "view").await;
    let tag = |ns: &str| {
        json!({"kind": "ImageStreamTag", "apiVersion": "image.openshift.io/v1",
               "metadata": {"name": format!("app:{ns}")},
               "tag": {"from": {"kind": "ImageStreamTag", "name": "base:1", "namespace": ns}}})
    };
    app.create_stream("team", &json!({"metadata": {"name": "app"}}))
        .await;
    let (code, body) = app
        .send_as(
            &ed.client,
            Method::POST,
            &paths::imagestreamtags_in("team"),
            Some(&tag("source")),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let (code, body) = app
        .send_as(
            &ed.client,
            Method::POST,
            &paths::imagestreamtags_in("team"),
            Some(&tag("closed")),
        )
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
    // The same through a stream write.
    let stream = json!({"metadata": {"name": "other"}, "spec": {"tags": [
        {"name": "x", "from": {"kind": "ImageStreamTag", "name": "base:1", "namespace": "closed"}}]}});
    let (code, _) = app
        .send_as(
            &ed.client,
            Method::POST,
            &paths::imagestreams("team"),
            Some(&stream),
        )
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    app.stop().await;
}

#[tokio::test]
async fn invited_users_choose_a_password_and_sign_in() {
    let app = TestApp::start().await;
    let (code, created) = app
        .post(
            paths::USERS,
            &json!({"metadata": {"name": "gina"}, "fullName": "Gina"}),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    let invitation = created["invitation"].as_str().unwrap();
    let (code, _, _) = sign_in(&app, "gina", "anything-at-all").await;
    assert_eq!(code, StatusCode::UNAUTHORIZED, "no password yet");
    let (code, body) = app
        .send_as(
            &app.anonymous,
            Method::POST,
            &paths::invitation(invitation),
            Some(&json!({"password": "short"})),
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (code, _) = app
        .send_as(
            &app.anonymous,
            Method::POST,
            &paths::invitation(invitation),
            Some(&json!({"password": "gina-chose-this"})),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    let (code, _, _) = sign_in(&app, "gina", "gina-chose-this").await;
    assert_eq!(code, StatusCode::OK);
    let (code, _) = app
        .send_as(
            &app.anonymous,
            Method::POST,
            &paths::invitation(invitation),
            Some(&json!({"password": "another-password"})),
        )
        .await;
    assert_eq!(code, StatusCode::NOT_FOUND, "an invitation works once");
    // Nothing about the user carries a secret.
    let (_, users) = app.get(paths::USERS).await;
    let text = users.to_string();
    assert!(
        !text.contains("argon2") && !text.contains(invitation),
        "{text}"
    );
    let (_, me) = app.get(&paths::user("~")).await;
    assert_eq!(me["metadata"]["name"], "admin");
    assert_eq!(me["groups"][0], "system:cluster-admins");
    app.stop().await;
}

#[tokio::test]
async fn a_trusted_proxy_signs_users_in_by_header_and_nobody_else_can() {
    let plain = TestApp::start().await;
    let header = |c: reqwest::RequestBuilder| {
        c.header("X-Forwarded-User", "sso-user")
            .header("X-Forwarded-Groups", "devs, system:cluster-admins")
    };
    let resp = header(plain.anonymous.get(plain.url(paths::WHOAMI)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "off by default");
    plain.stop().await;

    let mut config = Config::default();
    config.auth.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    let app = TestApp::start_with_config(config).await;
    let resp = header(app.anonymous.get(app.url(paths::WHOAMI)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let who: Value = resp.json().await.unwrap();
    assert_eq!(who["username"], "sso-user");
    assert_eq!(who["groups"], json!(["devs", "system:cluster-admins"]));
    assert_eq!(who["clusterAdmin"], true);
    app.stop().await;
}

#[tokio::test]
async fn the_audit_log_records_who_changed_what_with_both_versions() {
    let app = TestApp::start().await;
    app.create_project("team").await;
    let hank = app.user("hank").await;
    app.grant("team", "hank", "edit").await;
    let (code, created) = app
        .send_as(
            &hank.client,
            Method::POST,
            &paths::imagestreams("team"),
            Some(&stream_json("ruby", "latest", "quay.io/demo/ruby:3.3")),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED);
    let v1 = created["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut changed = created.clone();
    changed["spec"]["tags"][0]["from"]["name"] = json!("quay.io/demo/ruby:3.4");
    let (code, updated) = app
        .send_as(
            &hank.client,
            Method::PUT,
            &paths::imagestream("team", "ruby"),
            Some(&changed),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{updated}");
    let v2 = updated["metadata"]["resourceVersion"].as_str().unwrap();

    let (code, log) = app.get(&paths::audit_events("team")).await;
    assert_eq!(code, StatusCode::OK, "{log}");
    let events = log["items"].as_array().unwrap();
    let update = &events[0];
    assert_eq!(update["user"], "hank");
    assert_eq!(update["verb"], "update");
    assert_eq!(update["resource"], "imagestreams.image.openshift.io");
    assert_eq!(update["name"], "ruby");
    assert_eq!(update["resourceVersionBefore"], v1.as_str());
    assert_eq!(update["resourceVersionAfter"], v2);
    assert!(update["metadata"]["creationTimestamp"].is_string());
    let create = &events[1];
    assert_eq!(
        (create["verb"].as_str(), create["user"].as_str()),
        (Some("create"), Some("hank"))
    );
    assert!(events.iter().any(
        |e| e["resource"] == "rolebindings.rbac.authorization.k8s.io" && e["user"] == "admin"
    ));

    // Editors do not read it; the cluster-wide log is for cluster admins.
    let (code, _) = app
        .send_as(
            &hank.client,
            Method::GET,
            &paths::audit_events("team"),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    let (code, _) = app
        .send_as(&hank.client, Method::GET, paths::AUDIT_EVENTS_ALL, None)
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    let (code, all) = app.get(paths::AUDIT_EVENTS_ALL).await;
    assert_eq!(code, StatusCode::OK);
    assert!(
        all["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["resource"] == "users.user.openshift.io")
    );
    app.stop().await;
}

#[tokio::test]
async fn access_reviews_answer_what_a_user_can_do_and_who_can_do_something() {
    let app = TestApp::start().await;
    app.create_project("team").await;
    let ivy = app.user("ivy").await;
    app.grant("team", "ivy", "view").await;
    let (code, mine) = app
        .send_as(
            &ivy.client,
            Method::GET,
            &paths::access_reviews("team"),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{mine}");
    assert_eq!(mine["roles"], json!(["view"]));
    let allowed = mine["allowed"].to_string();
    assert!(allowed.contains("imagestreams.image.openshift.io") && !allowed.contains("\"create\""));
    let (code, _) = app
        .send_as(
            &ivy.client,
            Method::GET,
            &format!("{}?user=admin", paths::access_reviews("team")),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN, "viewers do not review others");
    let (code, who) = app
        .get(&format!(
            "{}?verb=get&resource=imagestreams",
            paths::access_reviews("team")
        ))
        .await;
    assert_eq!(code, StatusCode::OK, "{who}");
    let names: Vec<&str> = who["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"ivy") && names.contains(&"admin"),
        "{names:?}"
    );
    let (_, ivy_review) = app
        .get(&format!("{}?user=ivy", paths::access_reviews("team")))
        .await;
    assert_eq!(ivy_review["roles"], json!(["view"]));
    app.stop().await;
}
