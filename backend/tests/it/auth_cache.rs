//! Authentication and authorization answered from memory (issue 16) never outlive what they
//! were read from: a revoked token, an ended session, a deleted user, a removed role or team
//! membership is refused by the very next request, and a new grant works on the very next
//! request, after the cache was filled by the requests before. On PostgreSQL (here with
//! `TAGSTREAM_TEST_POSTGRES=1`, and always between two real replicas) the change is made
//! through one replica and refused by the other.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tagstream_shared::paths;
use tagstream_shared::user::{CSRF_HEADER, SESSION_COOKIE};

use crate::replicas::two_replicas;
use crate::support::{TestApp, client_with_token};

/// A stream with no tags: nothing imports into it behind the test's back.
fn plain_stream(name: &str) -> Value {
    json!({"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
           "metadata": {"name": name}, "spec": {}})
}

fn binding(name: &str, role: &str, kind: &str, subject: &str) -> Value {
    json!({"metadata": {"name": name},
           "roleRef": {"kind": "ClusterRole", "name": role},
           "subjects": [{"kind": kind, "name": subject}]})
}

/// A new API token of `user` (made by the admin): its id and a client sending it.
async fn new_token(app: &TestApp, user: &str) -> (String, reqwest::Client) {
    let (code, body) = app.post(&paths::tokens(user), &json!({"spec": {}})).await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    (
        body["metadata"]["name"].as_str().unwrap().to_owned(),
        client_with_token(body["token"].as_str().unwrap()),
    )
}

/// `client`'s GET of `path`, asked `times` times (the first fills the cache), all answered
/// `expected`.
async fn get_as(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    times: usize,
    expected: StatusCode,
) {
    for _ in 0..times {
        let (code, body) = app.send_as(client, Method::GET, path, None).await;
        assert_eq!(code, expected, "GET {path}: {body}");
    }
}

async fn demo_with_stream(app: &TestApp) {
    app.create_project("demo").await;
    let (code, body) = app
        .post(&paths::imagestreams("demo"), &plain_stream("ruby"))
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn a_revoked_token_is_refused_on_the_very_next_request() {
    let app = TestApp::start().await;
    demo_with_stream(&app).await;
    let bob = app.user("bob").await;
    app.grant("demo", "bob", "view").await;
    let (id, token) = new_token(&app, "bob").await;
    let ruby = paths::imagestream("demo", "ruby");
    get_as(&app, &token, &ruby, 3, StatusCode::OK).await;
    get_as(&app, &token, paths::WHOAMI, 2, StatusCode::OK).await;

    let (code, body) = app.delete(&paths::token("bob", &id)).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    get_as(&app, &token, &ruby, 1, StatusCode::UNAUTHORIZED).await;
    get_as(&app, &token, paths::WHOAMI, 1, StatusCode::UNAUTHORIZED).await;
    // Bob's other token was not revoked.
    get_as(&app, &bob.client, &ruby, 1, StatusCode::OK).await;
    app.stop().await;
}

#[tokio::test]
async fn a_removed_role_is_refused_and_a_new_one_works_on_the_very_next_request() {
    let app = TestApp::start().await;
    demo_with_stream(&app).await;
    let bob = app.user("bob").await;
    let ruby = paths::imagestream("demo", "ruby");
    let streams = paths::imagestreams("demo");
    // No role: the project is as invisible as a missing one, however often asked.
    get_as(&app, &bob.client, &ruby, 2, StatusCode::NOT_FOUND).await;

    app.grant("demo", "bob", "view").await;
    get_as(&app, &bob.client, &ruby, 2, StatusCode::OK).await;
    let (code, body) = app
        .send_as(
            &bob.client,
            Method::POST,
            &streams,
            Some(&plain_stream("a")),
        )
        .await;
    assert_eq!(
        code,
        StatusCode::FORBIDDEN,
        "a viewer creates nothing: {body}"
    );

    app.grant("demo", "bob", "edit").await;
    let (code, body) = app
        .send_as(
            &bob.client,
            Method::POST,
            &streams,
            Some(&plain_stream("a")),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "an editor creates: {body}");

    let (code, body) = app.delete(&paths::rolebinding("demo", "edit-bob")).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let (code, body) = app
        .send_as(
            &bob.client,
            Method::POST,
            &streams,
            Some(&plain_stream("b")),
        )
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN, "edit was removed: {body}");

    let (code, body) = app.delete(&paths::rolebinding("demo", "view-bob")).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    get_as(&app, &bob.client, &ruby, 1, StatusCode::NOT_FOUND).await;
    // The project list, answered from every project's bindings, no longer has it either.
    let (code, list) = app
        .send_as(&bob.client, Method::GET, paths::PROJECTS, None)
        .await;
    assert_eq!(code, StatusCode::OK, "{list}");
    assert_eq!(list["items"], json!([]), "{list}");

    // A role through a team: it goes when bob leaves the team.
    let (code, body) = app
        .post(
            paths::GROUPS,
            &json!({"metadata": {"name": "devs"}, "users": ["bob"]}),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let (code, body) = app
        .post(
            &paths::rolebindings("demo"),
            &binding("view-devs", "view", "Group", "devs"),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    get_as(&app, &bob.client, &ruby, 2, StatusCode::OK).await;
    let (code, mut group) = app.get(&paths::group("devs")).await;
    assert_eq!(code, StatusCode::OK, "{group}");
    group["users"] = json!([]);
    let (code, body) = app.put(&paths::group("devs"), &group).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    get_as(&app, &bob.client, &ruby, 1, StatusCode::NOT_FOUND).await;
    app.stop().await;
}

/// Signs `user` in with their password: the session and CSRF cookies' values.
async fn sign_in(app: &TestApp, user: &str, password: &str) -> (String, String) {
    let resp = app
        .anonymous
        .post(app.url(paths::LOGIN))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let cookie = |name: &str| {
        resp.headers()
            .get_all("set-cookie")
            .iter()
            .find_map(|c| {
                c.to_str()
                    .unwrap()
                    .strip_prefix(&format!("{name}="))
                    .map(|rest| rest.split(';').next().unwrap().to_owned())
            })
            .unwrap()
    };
    (cookie(SESSION_COOKIE), cookie("tagstream-csrf"))
}

/// GET `path` with session cookie `session`: the status.
async fn get_with_session(app: &TestApp, session: &str, path: &str) -> StatusCode {
    app.anonymous
        .get(app.url(path))
        .header("Cookie", format!("{SESSION_COOKIE}={session}"))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn an_ended_session_and_a_deleted_user_are_refused_on_the_very_next_request() {
    let app = TestApp::start().await;
    demo_with_stream(&app).await;
    let carol = app.user("carol").await;
    app.grant("demo", "carol", "view").await;
    let ruby = paths::imagestream("demo", "ruby");

    // Signed out: the session's next request is nobody's.
    let (session, csrf) = sign_in(&app, "carol", &carol.password).await;
    for _ in 0..2 {
        assert_eq!(
            get_with_session(&app, &session, &ruby).await,
            StatusCode::OK
        );
    }
    let resp = app
        .anonymous
        .post(app.url(paths::LOGOUT))
        .header("Cookie", format!("{SESSION_COOKIE}={session}"))
        .header(CSRF_HEADER, csrf)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    assert_eq!(
        get_with_session(&app, &session, &ruby).await,
        StatusCode::UNAUTHORIZED
    );

    // Deleted: neither the session nor the token signs anybody in.
    let (session, _) = sign_in(&app, "carol", &carol.password).await;
    for _ in 0..2 {
        assert_eq!(
            get_with_session(&app, &session, &ruby).await,
            StatusCode::OK
        );
    }
    get_as(&app, &carol.client, &ruby, 2, StatusCode::OK).await;
    let (code, body) = app.delete(&paths::user("carol")).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(
        get_with_session(&app, &session, &ruby).await,
        StatusCode::UNAUTHORIZED
    );
    get_as(&app, &carol.client, &ruby, 1, StatusCode::UNAUTHORIZED).await;
    app.stop().await;
}

/// `client`'s request to `replica`: the status.
async fn send_to(
    replica: &crate::replicas::Replica,
    client: &reqwest::Client,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> StatusCode {
    let mut req = client.request(method, replica.url(path));
    if let Some(body) = body {
        req = req.json(body);
    }
    req.send().await.unwrap().status()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_or_role_revoked_on_one_replica_is_refused_by_the_other_on_the_next_request() {
    let (a, b) = two_replicas("").await;
    let (code, body) = a
        .post(paths::PROJECTS, &json!({"metadata": {"name": "demo"}}))
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let (code, body) = a
        .post(&paths::imagestreams("demo"), &plain_stream("ruby"))
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let (code, body) = a
        .post(
            paths::USERS,
            &json!({"metadata": {"name": "bob"}, "password": "bob-password"}),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let (code, token) = a.post(&paths::tokens("bob"), &json!({"spec": {}})).await;
    assert_eq!(code, StatusCode::CREATED, "{token}");
    let bob = client_with_token(token["token"].as_str().unwrap());
    let id = token["metadata"]["name"].as_str().unwrap();
    for (name, role) in [("view-bob", "view"), ("edit-bob", "edit")] {
        let (code, body) = a
            .post(
                &paths::rolebindings("demo"),
                &binding(name, role, "User", "bob"),
            )
            .await;
        assert_eq!(code, StatusCode::CREATED, "{body}");
    }
    let ruby = paths::imagestream("demo", "ruby");
    let streams = paths::imagestreams("demo");

    // B answers bob from memory after the first request...
    for _ in 0..3 {
        assert_eq!(
            send_to(&b, &bob, Method::GET, &ruby, None).await,
            StatusCode::OK
        );
    }
    let created = send_to(&b, &bob, Method::POST, &streams, Some(&plain_stream("a"))).await;
    assert_eq!(created, StatusCode::CREATED);
    // ...and refuses at once what A took away: the edit role, then the token.
    let (code, body) = a
        .send(
            Method::DELETE,
            &paths::rolebinding("demo", "edit-bob"),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let refused = send_to(&b, &bob, Method::POST, &streams, Some(&plain_stream("b"))).await;
    assert_eq!(refused, StatusCode::FORBIDDEN);
    assert_eq!(
        send_to(&b, &bob, Method::GET, &ruby, None).await,
        StatusCode::OK,
        "bob still views"
    );
    let (code, body) = a.send(Method::DELETE, &paths::token("bob", id), None).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(
        send_to(&b, &bob, Method::GET, &ruby, None).await,
        StatusCode::UNAUTHORIZED
    );
}
