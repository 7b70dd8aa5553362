//! Data that outlived its owner or its access (issue 11, items 7 to 10), against the real
//! server: a new project of a deleted one's name starts with no history and no replayable
//! objects; a new user of a deleted one's name starts with no access; an open watch ends on the
//! change that revokes it and never runs unbounded; the samples project's name is reserved.

#![expect(clippy::unwrap_used, reason = "a test that cannot proceed has failed")]

use futures::StreamExt as _;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tagstream_backend::config::Config;
use tagstream_shared::paths::{
    AUDIT_EVENTS_ALL, IMAGESTREAMS_ALL, PROJECTS, audit_events, events, group, imagestream,
    imagestream_status, imagestreams, rolebinding, rolebindings, token, tokens,
};

use crate::support::{TestApp, TestUser, assert_status, stream_json};

/// A watch's events, one JSON object per line, and whether the server ended it.
struct Watch {
    stream: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: String,
}

impl Watch {
    async fn open(app: &TestApp, client: &reqwest::Client, path: &str) -> Self {
        let resp = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        Self {
            stream: resp.bytes_stream().boxed(),
            buffer: String::new(),
        }
    }

    /// The next event, or `None` once the server ended the watch; waits up to
    /// `support::PATIENCE` (a guard: the state waited for is an event or the end).
    async fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(at) = self.buffer.find('\n') {
                let line = self.buffer[..at].to_owned();
                self.buffer.drain(..=at);
                return Some(serde_json::from_str(&line).unwrap());
            }
            let chunk = tokio::time::timeout(crate::support::PATIENCE, self.stream.next())
                .await
                .expect("neither an event nor the end in time");
            match chunk {
                None => return None,
                Some(bytes) => self
                    .buffer
                    .push_str(std::str::from_utf8(&bytes.unwrap()).unwrap()),
            }
        }
    }

    /// Reads to the end: the watch must end with an ERROR event carrying a Status of `code`.
    async fn ends_with_error(mut self, code: StatusCode) {
        let mut seen = Vec::new();
        while let Some(event) = self.next().await {
            seen.push(event);
        }
        let last = seen.last().expect("an ERROR event before the end");
        assert_eq!(last["type"], "ERROR", "{seen:#?}");
        assert_eq!(last["object"]["kind"], "Status", "{last}");
        assert_eq!(last["object"]["code"], code.as_u16(), "{last}");
    }
}

async fn project_as(app: &TestApp, user: &TestUser, name: &str) -> (StatusCode, Value) {
    app.send_as(
        &user.client,
        Method::POST,
        PROJECTS,
        Some(&json!({"metadata": {"name": name}})),
    )
    .await
}

#[tokio::test]
async fn a_new_project_of_a_deleted_ones_name_has_none_of_its_history_or_objects() {
    let app = TestApp::start().await;
    app.create_project("acme").await;
    app.create_stream(
        "acme",
        &stream_json("secret-app", "v1", "quay.io/acme/secret:1"),
    )
    .await;
    // A tag move, so that the project has an event.
    let (_, mut s) = app.get(&imagestream("acme", "secret-app")).await;
    let d = crate::support::digest('a');
    s["status"] = json!({"dockerImageRepository": "", "tags": [{"tag": "v1", "items": [
        {"created": "2026-01-01T00:00:00Z", "dockerImageReference": format!("quay.io/acme/secret@{d}"),
         "image": d, "generation": 1}]}]});
    let (code, body) = app.put(&imagestream_status("acme", "secret-app"), &s).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let (_, before) = app.get(&events("acme")).await;
    assert!(before.to_string().contains("secret-app"), "{before:#}");
    let (_, before) = app.get(&audit_events("acme")).await;
    assert!(before.to_string().contains("secret-app"), "{before:#}");
    let (code, body) = app.delete(&tagstream_shared::paths::project("acme")).await;
    assert_eq!(code, StatusCode::OK, "{body}");

    let mallory = app.user("mallory").await;
    let (code, body) = project_as(&app, &mallory, "acme").await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    for path in [events("acme"), audit_events("acme")] {
        let (code, read) = app.send_as(&mallory.client, Method::GET, &path, None).await;
        assert_eq!(code, StatusCode::OK, "{path}: {read}");
        assert!(!read.to_string().contains("secret-app"), "{path}: {read:#}");
    }
    // A watch from the beginning of time replays only the new project's objects: the first
    // event is the stream created after it started.
    let mut watch = Watch::open(
        &app,
        &mallory.client,
        &format!("{}?watch=true&resourceVersion=1", imagestreams("acme")),
    )
    .await;
    let (code, body) = app
        .send_as(
            &mallory.client,
            Method::POST,
            &imagestreams("acme"),
            Some(&stream_json("fresh", "v1", "quay.io/mallory/fresh:1")),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let first = watch.next().await.unwrap();
    assert_eq!(first["object"]["metadata"]["name"], "fresh", "{first:#}");
    // The cluster-wide audit log keeps the old project's history for the admins.
    let (_, all) = app.get(AUDIT_EVENTS_ALL).await;
    assert!(all.to_string().contains("secret-app"), "{all:#}");
    app.stop().await;
}

#[tokio::test]
async fn a_new_user_of_a_deleted_ones_name_inherits_no_binding_or_team() {
    let app = TestApp::start().await;
    app.create_project("team").await;
    app.user("bob").await;
    app.grant("team", "bob", "edit").await;
    let (code, body) = app
        .post(
            tagstream_shared::paths::GROUPS,
            &json!({"metadata": {"name": "devs"}, "users": ["bob", "dana"]}),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let (code, body) = app.delete(&tagstream_shared::paths::user("bob")).await;
    assert_eq!(code, StatusCode::OK, "{body}");

    let (code, bindings) = app.get(&rolebindings("team")).await;
    assert_eq!(code, StatusCode::OK);
    assert!(!bindings.to_string().contains("\"bob\""), "{bindings:#}");
    let (_, devs) = app.get(&group("devs")).await;
    assert_eq!(devs["users"], json!(["dana"]));

    let bob = app.user("bob").await;
    let (code, body) = app
        .send_as(&bob.client, Method::GET, &imagestreams("team"), None)
        .await;
    assert_status(body, StatusCode::NOT_FOUND, "NotFound");
    assert_eq!(code, StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn a_watch_ends_when_its_role_is_removed_or_its_token_revoked() {
    let app = TestApp::start().await;
    app.create_project("team").await;
    let bob = app.user("bob").await;
    app.grant("team", "bob", "view").await;
    let watched = format!("{}?watch=true", imagestreams("team"));

    let watch = Watch::open(&app, &bob.client, &watched).await;
    let (code, body) = app.delete(&rolebinding("team", "view-bob")).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    // The project is hidden from them now, as a missing one is.
    watch.ends_with_error(StatusCode::NOT_FOUND).await;

    app.grant("team", "bob", "view").await;
    let watch = Watch::open(&app, &bob.client, &watched).await;
    let (_, list) = app.get(&tokens("bob")).await;
    let id = list["items"][0]["metadata"]["name"].as_str().unwrap();
    let (code, body) = app.delete(&token("bob", id)).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    watch.ends_with_error(StatusCode::UNAUTHORIZED).await;
    app.stop().await;
}

#[tokio::test]
async fn an_all_projects_watch_stops_showing_a_project_whose_role_was_removed() {
    let app = TestApp::start().await;
    for ns in ["one", "two"] {
        app.create_project(ns).await;
    }
    let bob = app.user("bob").await;
    app.grant("one", "bob", "view").await;
    app.grant("two", "bob", "view").await;
    let mut watch = Watch::open(&app, &bob.client, &format!("{IMAGESTREAMS_ALL}?watch=true")).await;
    let (code, body) = app.delete(&rolebinding("two", "view-bob")).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    app.create_stream("two", &stream_json("hidden", "v1", "quay.io/two/hidden:1"))
        .await;
    app.create_stream("one", &stream_json("shown", "v1", "quay.io/one/shown:1"))
        .await;
    // The watch goes on for the project they still see, and only for it.
    let first = watch.next().await.unwrap();
    assert_eq!(first["object"]["metadata"]["name"], "shown", "{first:#}");
    app.stop().await;
}

#[tokio::test]
async fn watches_end_by_themselves_and_one_user_holds_only_so_many() {
    let mut config = Config::default();
    // Generous times: the third request has to come while both watches are open, and a loaded
    // machine can take seconds per request (a 1 s watch could end before it).
    config.watch.max_seconds = 20;
    config.watch.per_user = 2;
    let app = TestApp::start_with_config(config).await;
    app.create_project("team").await;
    let bob = app.user("bob").await;
    app.grant("team", "bob", "view").await;
    let watched = format!("{}?watch=true", imagestreams("team"));

    let mut short = Watch::open(&app, &bob.client, &format!("{watched}&timeoutSeconds=6")).await;
    // No timeoutSeconds: the configured longest still ends it.
    let mut long = Watch::open(&app, &bob.client, &watched).await;
    let (code, body) = app.send_as(&bob.client, Method::GET, &watched, None).await;
    let status = assert_status(body, StatusCode::TOO_MANY_REQUESTS, "TooManyRequests");
    assert!(status.message.contains("bob"), "{}", status.message);
    assert_eq!(code, StatusCode::TOO_MANY_REQUESTS);
    // Someone else is not held back by bob's watches.
    let _admins = Watch::open(&app, &app.client, &watched).await;

    assert_eq!(short.next().await, None, "a timed-out watch ends");
    // Its slot is free again.
    let _again = Watch::open(&app, &bob.client, &watched).await;
    assert_eq!(
        long.next().await,
        None,
        "the longest watch ends at max_seconds"
    );
    app.stop().await;
}

#[tokio::test]
async fn nobody_may_create_the_samples_project() {
    let app = TestApp::start().await;
    let mallory = app.user("mallory").await;
    let (code, body) = project_as(&app, &mallory, "openshift").await;
    let status = assert_status(body, StatusCode::FORBIDDEN, "Forbidden");
    assert!(status.message.contains("reserved"), "{}", status.message);
    assert_eq!(code, StatusCode::FORBIDDEN);
    let (code, _) = app
        .get(&tagstream_shared::paths::project("openshift"))
        .await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    app.stop().await;
}
