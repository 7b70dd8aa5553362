//! Triggers against the real server and a real receiver on loopback: a tag move is posted,
//! signed, to the webhook; retries reach a receiver that comes up late; a SIGKILLed server
//! delivers after its restart; private targets are refused; secrets are never read back.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use std::path::Path;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tagstream_backend::config::{Config, WebhooksConfig};
use tagstream_shared::paths::{
    PROJECTS, deliveries, events, imagestream, imagestream_status, imagestreams, redeliver,
    trigger, triggers,
};

use crate::receiver::{Receiver, closed_port};
use crate::server::Server;
use crate::support::{TestApp, assert_status, digest, stream_json};

pub(crate) const SECRET: &str = "webhook-secret-for-tests";

pub(crate) fn config(allowed: &[String]) -> Config {
    Config {
        webhooks: WebhooksConfig {
            allowed_hosts: allowed.to_vec(),
            timeout_seconds: 2,
            retry_initial_seconds: 1,
            retry_max_interval_seconds: 1,
            give_up_after_seconds: 120,
        },
        ..Config::default()
    }
}

pub(crate) fn trigger_json(name: &str, kind: &str, from: &str, url: &str) -> Value {
    json!({
        "kind": "Trigger", "apiVersion": "tagstream.io/v1",
        "metadata": {"name": name},
        "spec": {"from": {"kind": kind, "name": from}, "webhook": {"url": url, "secret": SECRET}}
    })
}

/// Points `stream:tag` at `image` (a new history item at the front) through the status
/// subresource, as an import would; retries on 409 (the import worker writes too).
pub(crate) async fn move_tag(
    client: &reqwest::Client,
    base: &str,
    ns: &str,
    stream: &str,
    tag: &str,
    image: &str,
) {
    for _ in 0..10 {
        if try_move_tag(client, base, ns, stream, tag, image).await {
            return;
        }
    }
    panic!("moving {stream}:{tag} kept conflicting");
}

async fn try_move_tag(
    client: &reqwest::Client,
    base: &str,
    ns: &str,
    stream: &str,
    tag: &str,
    image: &str,
) -> bool {
    let url = format!("{base}{}", imagestream(ns, stream));
    let mut body: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
    let item = json!({"created": "2026-01-01T00:00:00Z", "generation": 1, "image": image,
        "dockerImageReference": format!("quay.io/demo/{stream}@{image}")});
    let tags = body["status"]["tags"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut found = false;
    let mut new_tags = Vec::new();
    for mut t in tags {
        if t["tag"] == tag {
            found = true;
            let mut items = vec![item.clone()];
            items.extend(t["items"].as_array().cloned().unwrap_or_default());
            t["items"] = json!(items);
        }
        new_tags.push(t);
    }
    if !found {
        new_tags.push(json!({"tag": tag, "items": [item]}));
    }
    body["status"]["tags"] = json!(new_tags);
    let resp = client
        .put(format!("{base}{}", imagestream_status(ns, stream)))
        .json(&body)
        .send()
        .await
        .unwrap();
    if resp.status() == StatusCode::CONFLICT {
        return false;
    }
    assert_eq!(resp.status(), StatusCode::OK, "{:?}", resp.text().await);
    true
}

async fn deliveries_of(app: &TestApp, ns: &str, name: &str) -> Vec<Value> {
    let (code, body) = app.get(&deliveries(ns, name)).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    body["items"].as_array().cloned().unwrap()
}

/// Waits until the newest delivery of `name` satisfies `done`.
async fn wait_for_delivery(
    app: &TestApp,
    ns: &str,
    name: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + crate::support::PATIENCE;
    loop {
        let items = deliveries_of(app, ns, name).await;
        if let Some(first) = items.first()
            && done(first)
        {
            return first.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the delivery never got there: {items:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_tag_move_is_posted_signed_to_the_webhook_and_logged() {
    let mut receiver = Receiver::start().await;
    let app = TestApp::start_with_config(config(&[receiver.addr.to_string()])).await;
    app.create_project("demo").await;
    app.create_stream(
        "demo",
        &stream_json("ruby", "latest", "quay.io/demo/ruby:3.3"),
    )
    .await;
    move_tag(
        &app.client,
        &app.base,
        "demo",
        "ruby",
        "latest",
        &digest('a'),
    )
    .await;
    let (code, created) = app
        .post(
            &triggers("demo"),
            &trigger_json("deploy", "ImageStreamTag", "ruby:latest", &receiver.url()),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    assert!(
        created["spec"]["webhook"].get("secret").is_none(),
        "{created}"
    );
    let (_, read) = app.get(&trigger("demo", "deploy")).await;
    assert!(read["spec"]["webhook"].get("secret").is_none(), "{read}");
    // A stream trigger on another stream hears nothing.
    let (code, _) = app
        .post(
            &triggers("demo"),
            &trigger_json("py", "ImageStream", "python", &receiver.url()),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED);

    move_tag(
        &app.client,
        &app.base,
        "demo",
        "ruby",
        "latest",
        &digest('b'),
    )
    .await;
    let got = receiver.next(crate::support::PATIENCE).await;
    assert!(got.signed_with(SECRET), "bad signature: {:?}", got.headers);
    assert!(!got.signed_with("another-secret"));
    let event = got.json();
    assert_eq!(event["type"], "ImageStreamTagChanged");
    assert_eq!(
        (
            event["project"].as_str(),
            event["stream"].as_str(),
            event["tag"].as_str()
        ),
        (Some("demo"), Some("ruby"), Some("latest"))
    );
    assert_eq!(event["oldDigest"], digest('a'));
    assert_eq!(event["newDigest"], digest('b'));
    assert_eq!(
        event["pullSpec"],
        format!("quay.io/demo/ruby@{}", digest('b'))
    );
    assert_eq!(event["trigger"], "deploy");
    assert_eq!(
        got.headers["x-tagstream-event"].to_str().unwrap(),
        event["id"].as_str().unwrap()
    );

    let log = wait_for_delivery(&app, "demo", "deploy", |d| {
        d["status"]["phase"] == "Delivered"
    })
    .await;
    assert_eq!(log["status"]["attempts"], 1);
    assert_eq!(log["status"]["lastStatusCode"], 200);
    assert!(log["status"]["lastLatencyMillis"].is_u64());
    assert_eq!(log["event"]["id"], event["id"]);

    // Redeliver: the same event (same id) once more.
    let id = log["metadata"]["name"].as_str().unwrap();
    let (code, again) = app.post(&redeliver("demo", "deploy", id), &json!({})).await;
    assert_eq!(code, StatusCode::CREATED, "{again}");
    let second = receiver.next(crate::support::PATIENCE).await;
    assert_eq!(second.json()["id"], event["id"]);
    assert!(second.signed_with(SECRET));

    // Paused: nothing is sent for the next move.
    let (_, mut t) = app.get(&trigger("demo", "deploy")).await;
    t["spec"]["paused"] = json!(true);
    let (code, body) = app.put(&trigger("demo", "deploy"), &t).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    move_tag(
        &app.client,
        &app.base,
        "demo",
        "ruby",
        "latest",
        &digest('c'),
    )
    .await;
    assert!(receiver.nothing_within(Duration::from_secs(2)).await);

    // The events page has the moves and the delivery.
    let (code, list) = app.get(&events("demo")).await;
    assert_eq!(code, StatusCode::OK, "{list}");
    let reasons: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    assert!(reasons.contains(&"TagUpdated"), "{reasons:?}");
    assert!(reasons.contains(&"WebhookDelivered"), "{reasons:?}");
    receiver.stop();
    app.stop().await;
}

#[tokio::test]
async fn a_receiver_that_is_down_gets_the_event_after_retries() {
    let closed = closed_port();
    let port = closed.port();
    let app = TestApp::start_with_config(config(&[format!("127.0.0.1:{port}")])).await;
    app.create_project("demo").await;
    app.create_stream(
        "demo",
        &stream_json("ruby", "latest", "quay.io/demo/ruby:3.3"),
    )
    .await;
    let url = format!("http://127.0.0.1:{port}/hook");
    let (code, body) = app
        .post(
            &triggers("demo"),
            &trigger_json("all", "ImageStream", "ruby", &url),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    move_tag(
        &app.client,
        &app.base,
        "demo",
        "ruby",
        "latest",
        &digest('a'),
    )
    .await;
    let failing = wait_for_delivery(&app, "demo", "all", |d| {
        d["status"]["attempts"].as_u64().unwrap_or_default() >= 2
    })
    .await;
    assert_eq!(failing["status"]["phase"], "Pending");
    assert!(
        failing["status"]["lastError"]
            .as_str()
            .unwrap()
            .contains("connect"),
        "{failing}"
    );
    assert!(failing["status"].get("nextAttemptTime").is_some());

    let mut receiver = Receiver::start_on(closed).await;
    let got = receiver.next(crate::support::PATIENCE).await;
    assert!(got.signed_with(SECRET));
    assert_eq!(got.json()["newDigest"], digest('a'));
    let done =
        wait_for_delivery(&app, "demo", "all", |d| d["status"]["phase"] == "Delivered").await;
    assert!(done["status"]["attempts"].as_u64().unwrap() >= 3, "{done}");
    receiver.stop();
    app.stop().await;
}

#[tokio::test]
async fn private_webhook_targets_are_refused_unless_allowed() {
    let receiver = Receiver::start().await;
    // The receiver's port is not listed: only another port is.
    let app = TestApp::start_with_config(config(&["127.0.0.1:1".into()])).await;
    app.create_project("demo").await;
    for url in [
        receiver.url(),
        format!("http://[::1]:{}/hook", receiver.addr.port()),
        "http://169.254.169.254/latest/meta-data".into(),
        "http://10.0.0.1/hook".into(),
    ] {
        let (code, body) = app
            .post(
                &triggers("demo"),
                &trigger_json("hook", "ImageStream", "ruby", &url),
            )
            .await;
        let status = assert_status(body, StatusCode::UNPROCESSABLE_ENTITY, "Invalid");
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
        let causes = status.details.unwrap().causes;
        assert_eq!(
            causes[0].field.as_deref(),
            Some("spec.webhook.url"),
            "{url}"
        );
        assert!(
            causes[0].message.contains("refused"),
            "{}",
            causes[0].message
        );
    }
    // A name is checked after resolution, when sending: localhost resolves to loopback.
    let name_url = format!("http://localhost:{}/hook", receiver.addr.port());
    let (code, body) = app
        .post(
            &triggers("demo"),
            &trigger_json("byname", "ImageStream", "ruby", &name_url),
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // Bad input is a Status naming each field.
    let (code, body) = app
        .post(
            &triggers("demo"),
            &json!({"metadata": {"name": "x"}, "spec": {"from": {"kind": "Pod", "name": "a"},
                    "webhook": {"url": "ftp://x"}}}),
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    let status = assert_status(body, StatusCode::UNPROCESSABLE_ENTITY, "Invalid");
    let fields: Vec<String> = status
        .details
        .unwrap()
        .causes
        .into_iter()
        .filter_map(|c| c.field)
        .collect();
    assert_eq!(
        fields,
        ["spec.from.kind", "spec.webhook.url", "spec.webhook.secret"]
    );
    // Refused means not stored: no trigger exists that could ever send to these targets.
    let (code, list) = app.get(&triggers("demo")).await;
    assert_eq!(code, StatusCode::OK, "{list}");
    assert_eq!(list["items"], json!([]), "{list}");
    receiver.stop();
    app.stop().await;
}

/// A name no literal rule knows that resolves to a local address: this machine's own name, or
/// another name /etc/hosts gives a loopback address. Fails, naming what to add, where there is
/// none: passing without checking anything would claim what was never shown.
async fn local_name() -> String {
    let mut names: Vec<String> = std::fs::read_to_string("/etc/hostname")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    for line in std::fs::read_to_string("/etc/hosts")
        .unwrap_or_default()
        .lines()
    {
        let mut words = line
            .split('#')
            .next()
            .unwrap_or_default()
            .split_whitespace();
        if words.next().is_some_and(|a| a.starts_with("127.")) {
            names.extend(words.map(str::to_owned));
        }
    }
    for name in &names {
        if name == "localhost" || name.ends_with(".localhost") {
            continue;
        }
        let local = tokio::net::lookup_host((name.as_str(), 80))
            .await
            .is_ok_and(|mut a| a.any(|a| !tagstream_backend::registry::policy::is_public(a.ip())));
        if local {
            return name.clone();
        }
    }
    panic!(
        "no host name here resolves to a local address (tried {names:?}): this test needs one; \
         give the machine's name a line in /etc/hosts (127.0.1.1 <name>)"
    );
}

#[tokio::test]
async fn a_name_resolving_to_loopback_fails_at_delivery_without_a_request() {
    let host = local_name().await;
    let mut receiver = Receiver::start().await;
    let app = TestApp::start_with_config(config(&[])).await;
    app.create_project("demo").await;
    app.create_stream(
        "demo",
        &stream_json("ruby", "latest", "quay.io/demo/ruby:3.3"),
    )
    .await;
    let url = format!("http://{host}:{}/hook", receiver.addr.port());
    let (code, body) = app
        .post(
            &triggers("demo"),
            &trigger_json("sneaky", "ImageStream", "ruby", &url),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    move_tag(
        &app.client,
        &app.base,
        "demo",
        "ruby",
        "latest",
        &digest('a'),
    )
    .await;
    let failed =
        wait_for_delivery(&app, "demo", "sneaky", |d| d["status"]["phase"] == "Failed").await;
    let error = failed["status"]["lastError"].as_str().unwrap();
    assert!(
        error.contains("refused") && error.contains("resolves to"),
        "{failed}"
    );
    assert!(receiver.nothing_within(Duration::from_millis(500)).await);
    receiver.stop();
    app.stop().await;
}

#[tokio::test]
async fn a_server_killed_after_a_tag_change_delivers_after_restart() {
    let mut receiver = Receiver::start().await;
    // Hold the first request open: the server is mid-delivery when it is killed.
    receiver.answer(0);
    let data = tempfile::tempdir().unwrap();
    let extra = format!(
        "[webhooks]\nallowed_hosts = [\"{}\"]\ntimeout_seconds = 30\nretry_initial_seconds = 1\nretry_max_interval_seconds = 1\n",
        receiver.addr
    );
    let server = Server::start_with(data.path(), Path::new("/nonexistent"), &extra);
    let client = crate::support::client_with_token(crate::support::ADMIN_TOKEN);
    let base = server.base.clone();
    let post = |path: String, body: Value| {
        let client = client.clone();
        let base = base.clone();
        async move {
            let resp = client
                .post(format!("{base}{path}"))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert!(resp.status().is_success(), "{:?}", resp.text().await);
        }
    };
    post(PROJECTS.into(), json!({"metadata": {"name": "demo"}})).await;
    post(
        imagestreams("demo"),
        stream_json("ruby", "latest", "quay.io/demo/ruby:3.3"),
    )
    .await;
    post(
        triggers("demo"),
        trigger_json("deploy", "ImageStreamTag", "ruby:latest", &receiver.url()),
    )
    .await;
    move_tag(&client, &base, "demo", "ruby", "latest", &digest('e')).await;
    let first = receiver.next(crate::support::PATIENCE).await;
    server.kill();

    receiver.answer(200);
    let server = Server::start_with(data.path(), Path::new("/nonexistent"), &extra);
    let again = receiver.next(Duration::from_secs(20)).await;
    assert_eq!(again.json()["id"], first.json()["id"], "the same event");
    assert_eq!(again.json()["newDigest"], digest('e'));
    assert!(again.signed_with(SECRET));
    // And it is logged as delivered.
    let deadline = tokio::time::Instant::now() + crate::support::PATIENCE;
    loop {
        let log: Value = client
            .get(format!("{}{}", server.base, deliveries("demo", "deploy")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if log["items"][0]["status"]["phase"] == "Delivered" {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{log}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(server.terminate());
    receiver.stop();
}

#[tokio::test]
async fn triggers_follow_project_roles_and_never_show_secrets() {
    let mut receiver = Receiver::start().await;
    let app = TestApp::start_with_config(config(&[receiver.addr.to_string()])).await;
    app.create_project("demo").await;
    let viewer = app.user("viewer").await;
    let editor = app.user("editor").await;
    app.grant("demo", "viewer", "view").await;
    app.grant("demo", "editor", "edit").await;
    let body = trigger_json("hook", "ImageStream", "ruby", "https://hooks.example.com/x");
    let (code, _) = app
        .send_as(&viewer.client, Method::POST, &triggers("demo"), Some(&body))
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    let (code, created) = app
        .send_as(&editor.client, Method::POST, &triggers("demo"), Some(&body))
        .await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    let (code, list) = app
        .send_as(&viewer.client, Method::GET, &triggers("demo"), None)
        .await;
    assert_eq!(code, StatusCode::OK);
    assert!(!list.to_string().contains(SECRET), "{list}");
    // Replacing without a secret keeps it; the stored object never has one.
    let mut t = created.clone();
    assert!(t["spec"]["webhook"].get("secret").is_none(), "{t}");
    t["spec"]["webhook"]["url"] = json!(receiver.url());
    let (code, replaced) = app.put(&trigger("demo", "hook"), &t).await;
    assert_eq!(code, StatusCode::OK, "{replaced}");
    assert!(!replaced.to_string().contains(SECRET));
    // Kept: the next delivery, to the new URL, is still signed with it.
    app.create_stream(
        "demo",
        &stream_json("ruby", "latest", "quay.io/demo/ruby:3.3"),
    )
    .await;
    move_tag(
        &app.client,
        &app.base,
        "demo",
        "ruby",
        "latest",
        &digest('a'),
    )
    .await;
    let got = receiver.next(crate::support::PATIENCE).await;
    assert!(
        got.signed_with(SECRET),
        "the replaced trigger lost its secret: {:?}",
        got.headers
    );
    receiver.stop();
    let (code, body) = app.put(&trigger("demo", "hook"), &t).await;
    assert_status(body, StatusCode::CONFLICT, "Conflict");
    assert_eq!(code, StatusCode::CONFLICT);
    let (code, _) = app.delete(&trigger("demo", "hook")).await;
    assert_eq!(code, StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn a_failed_import_is_on_the_projects_events_page() {
    let app = TestApp::start_with_config(config(&[])).await;
    app.create_project("demo").await;
    // The test config allows no reachable registry: the import fails, the tag keeps no image.
    app.create_stream(
        "demo",
        &stream_json("ruby", "latest", "quay.io/demo/ruby:3.3"),
    )
    .await;
    let deadline = tokio::time::Instant::now() + crate::support::PATIENCE;
    loop {
        let (code, list) = app.get(&events("demo")).await;
        assert_eq!(code, StatusCode::OK, "{list}");
        let failed = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["reason"] == "ImportFailed");
        if let Some(e) = failed {
            assert_eq!(e["type"], "Warning");
            assert_eq!(e["involvedObject"]["name"], "ruby:latest");
            assert!(e["message"].as_str().unwrap().contains("quay.io"), "{e}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no ImportFailed: {list}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.stop().await;
}
