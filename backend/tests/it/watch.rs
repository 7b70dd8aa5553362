//! `?watch=true` against the real server: events in order, resuming from a resourceVersion,
//! 410 once pruned, server-sent events with ids, and the same authorization as the list.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use std::time::Duration;

use futures::StreamExt as _;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tagstream_shared::paths::{IMAGESTREAMS_ALL, PROJECTS, imagestream, imagestreams, triggers};

use crate::support::{TestApp, assert_status, stream_json};

/// Reads a streaming response line by line (JSON lines) or event by event (SSE).
pub struct Events {
    stream: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: String,
    separator: &'static str,
}

impl Events {
    pub fn lines(resp: reqwest::Response) -> Self {
        Self {
            stream: resp.bytes_stream().boxed(),
            buffer: String::new(),
            separator: "\n",
        }
    }

    pub fn sse(resp: reqwest::Response) -> Self {
        Self {
            stream: resp.bytes_stream().boxed(),
            buffer: String::new(),
            separator: "\n\n",
        }
    }

    /// The next line or event's text, waiting up to 10 s.
    pub async fn next_raw(&mut self) -> String {
        loop {
            if let Some(at) = self.buffer.find(self.separator) {
                let item = self.buffer[..at].to_owned();
                self.buffer.drain(..at + self.separator.len());
                return item;
            }
            let chunk = tokio::time::timeout(crate::support::PATIENCE, self.stream.next())
                .await
                .expect("no event in time")
                .expect("the stream ended")
                .unwrap();
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// The next JSON watch event (lines).
    pub async fn next(&mut self) -> Value {
        serde_json::from_str(&self.next_raw().await).unwrap()
    }

    /// Whether nothing arrives within `within`.
    pub async fn quiet_for(&mut self, within: Duration) -> bool {
        if !self.buffer.is_empty() {
            return false;
        }
        tokio::time::timeout(within, self.stream.next())
            .await
            .is_err()
    }
}

async fn watch(client: &reqwest::Client, url: String) -> reqwest::Response {
    client.get(url).send().await.unwrap()
}

fn rv(event: &Value) -> u64 {
    event["object"]["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_watch_sees_create_update_delete_in_order_and_resumes_from_a_resource_version() {
    let app = TestApp::start().await;
    app.create_project("demo").await;
    app.create_project("other").await;
    let (_, list) = app.get(&imagestreams("demo")).await;
    let list_rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = watch(
        &app.client,
        app.url(&format!(
            "{}?watch=true&resourceVersion={list_rv}",
            imagestreams("demo")
        )),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let mut events = Events::lines(resp);

    let created = app
        .create_stream(
            "demo",
            &stream_json("ruby", "latest", "quay.io/demo/ruby:3.3"),
        )
        .await;
    // Another project's stream is not this watch's business.
    app.create_stream("other", &stream_json("ruby", "latest", "quay.io/x/ruby:1"))
        .await;
    let mut body = serde_json::to_value(&created).unwrap();
    body["spec"]["tags"][0]["from"]["name"] = json!("quay.io/demo/ruby:3.4");
    let (code, updated) = app.put(&imagestream("demo", "ruby"), &body).await;
    assert_eq!(code, StatusCode::OK, "{updated}");
    let (code, _) = app.delete(&imagestream("demo", "ruby")).await;
    assert_eq!(code, StatusCode::OK);

    let added = events.next().await;
    let modified = events.next().await;
    let deleted = events.next().await;
    assert_eq!(
        [&added["type"], &modified["type"], &deleted["type"]],
        ["ADDED", "MODIFIED", "DELETED"]
    );
    for e in [&added, &modified, &deleted] {
        assert_eq!(e["object"]["metadata"]["name"], "ruby");
        assert_eq!(e["object"]["metadata"]["namespace"], "demo");
        assert_eq!(e["object"]["kind"], "ImageStream");
    }
    assert_eq!(
        rv(&added),
        created
            .metadata
            .resource_version
            .unwrap()
            .parse::<u64>()
            .unwrap()
    );
    assert_eq!(
        rv(&modified).to_string(),
        updated["metadata"]["resourceVersion"].as_str().unwrap()
    );
    assert_eq!(
        modified["object"]["spec"]["tags"][0]["from"]["name"],
        "quay.io/demo/ruby:3.4"
    );
    assert!(rv(&added) < rv(&modified) && rv(&modified) < rv(&deleted));
    assert!(events.quiet_for(Duration::from_millis(300)).await);

    // Resuming from the first event's version gives what came after it, in order.
    let resp = watch(
        &app.client,
        app.url(&format!(
            "{}?watch=true&resourceVersion={}",
            imagestreams("demo"),
            rv(&added)
        )),
    )
    .await;
    let mut resumed = Events::lines(resp);
    assert_eq!(resumed.next().await["type"], "MODIFIED");
    assert_eq!(resumed.next().await["type"], "DELETED");
    assert!(resumed.quiet_for(Duration::from_millis(300)).await);

    // Without a resourceVersion the watch starts with the list: one ADDED per object.
    app.create_stream("demo", &stream_json("python", "3", "quay.io/demo/python:3"))
        .await;
    let resp = watch(
        &app.client,
        app.url(&format!("{}?watch=true", imagestreams("demo"))),
    )
    .await;
    let mut fresh = Events::lines(resp);
    let first = fresh.next().await;
    assert_eq!(first["type"], "ADDED");
    assert_eq!(first["object"]["metadata"]["name"], "python");

    // Once the log is pruned past a version, a watch from it is 410 Gone.
    app.store().prune_changes(0).await.unwrap();
    let (_, body) = app
        .get(&format!(
            "{}?watch=true&resourceVersion={}",
            imagestreams("demo"),
            rv(&added)
        ))
        .await;
    let status = assert_status(body, StatusCode::GONE, "Gone");
    assert!(
        status.message.contains("too old resource version"),
        "{}",
        status.message
    );
    // A watch that was open meanwhile keeps working from the newest changes.
    app.create_stream("demo", &stream_json("perl", "5", "quay.io/demo/perl:5"))
        .await;
    let next = fresh.next().await;
    assert_eq!(
        (
            next["type"].as_str(),
            next["object"]["metadata"]["name"].as_str()
        ),
        (Some("ADDED"), Some("perl"))
    );
    drop((events, resumed, fresh));
    app.stop().await;
}

#[tokio::test]
async fn server_sent_events_carry_the_resource_version_as_id_and_resume_from_last_event_id() {
    let app = TestApp::start().await;
    let resp = app
        .client
        .get(app.url(&format!("{PROJECTS}?watch=true")))
        .header("Accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut events = Events::sse(resp);
    // The list (empty here) ends with its resourceVersion as the id.
    let bookmark = events.next_raw().await;
    assert!(bookmark.starts_with("id: "), "{bookmark}");
    app.create_project("demo").await;
    let event = events.next_raw().await;
    let (id_line, data_line) = event.split_once('\n').unwrap();
    let id = id_line.strip_prefix("id: ").unwrap().to_owned();
    let data: Value = serde_json::from_str(data_line.strip_prefix("data: ").unwrap()).unwrap();
    assert_eq!(data["type"], "ADDED");
    assert_eq!(data["object"]["metadata"]["name"], "demo");
    assert_eq!(data["object"]["metadata"]["resourceVersion"], id.as_str());
    app.create_project("later").await;

    // What EventSource does after a dropped connection.
    let resp = app
        .client
        .get(app.url(&format!("{PROJECTS}?watch=true")))
        .header("Accept", "text/event-stream")
        .header("Last-Event-ID", &id)
        .send()
        .await
        .unwrap();
    let mut resumed = Events::sse(resp);
    let event = resumed.next_raw().await;
    assert!(event.contains("\"name\":\"later\""), "{event}");
    drop((events, resumed));
    app.stop().await;
}

#[tokio::test]
async fn a_watch_is_authorized_like_its_list_and_filtered_to_visible_projects() {
    let app = TestApp::start().await;
    app.create_project("mine").await;
    app.create_project("secret").await;
    let viewer = app.user("viewer").await;
    app.grant("mine", "viewer", "view").await;

    let (code, _) = app
        .send_as(
            &app.anonymous,
            Method::GET,
            &format!("{}?watch=true", imagestreams("mine")),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    let (code, body) = app
        .send_as(
            &viewer.client,
            Method::GET,
            &format!("{}?watch=true", imagestreams("secret")),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::NOT_FOUND, "{body}");
    let (code, body) = app
        .send_as(
            &viewer.client,
            Method::GET,
            &format!("{}?watch=maybe", imagestreams("mine")),
            None,
        )
        .await;
    assert_status(body, StatusCode::BAD_REQUEST, "BadRequest");
    assert_eq!(code, StatusCode::BAD_REQUEST);
    // Triggers are watched like any list; a viewer may read them.
    let (code, _) = app
        .send_as(
            &viewer.client,
            Method::GET,
            &format!("{}?watch=true&timeoutSeconds=0", triggers("mine")),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::OK);

    let resp = watch(
        &viewer.client,
        app.url(&format!("{IMAGESTREAMS_ALL}?watch=true")),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let mut events = Events::lines(resp);
    app.create_stream("secret", &stream_json("hidden", "1", "quay.io/x/hidden:1"))
        .await;
    app.create_stream("mine", &stream_json("shown", "1", "quay.io/x/shown:1"))
        .await;
    let event = events.next().await;
    assert_eq!(event["object"]["metadata"]["name"], "shown");
    assert!(events.quiet_for(Duration::from_millis(300)).await);
    drop(events);
    app.stop().await;
}

#[tokio::test]
async fn deleting_a_project_is_seen_as_the_deletion_of_its_streams() {
    let app = TestApp::start().await;
    app.create_project("demo").await;
    app.create_stream(
        "demo",
        &stream_json("ruby", "latest", "quay.io/demo/ruby:3.3"),
    )
    .await;
    let (_, list) = app.get(IMAGESTREAMS_ALL).await;
    let list_rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = watch(
        &app.client,
        app.url(&format!(
            "{IMAGESTREAMS_ALL}?watch=true&resourceVersion={list_rv}"
        )),
    )
    .await;
    let mut events = Events::lines(resp);
    let (code, _) = app.delete(&tagstream_shared::paths::project("demo")).await;
    assert_eq!(code, StatusCode::OK);
    let deleted = events.next().await;
    assert_eq!(deleted["type"], "DELETED");
    assert_eq!(deleted["object"]["metadata"]["name"], "ruby");
    assert!(list_rv.parse::<u64>().unwrap() < rv(&deleted));
    drop(events);
    app.stop().await;
}
