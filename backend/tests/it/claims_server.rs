//! README claims about the server: every signed-in user reads the samples project (and changes
//! nothing there), `[auth] trusted_proxies` believes the proxy headers from the listed address
//! only, webhook redirects are not followed, a failed delivery is retried doubling up to the
//! longest wait, a delivery failing for `give_up_after_seconds` is marked Failed, and SIGTERM
//! lets an in-flight request finish.

#![expect(clippy::unwrap_used, reason = "a test that cannot proceed has failed")]

use std::path::Path;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tagstream_backend::config::{Config, WebhooksConfig};
use tagstream_shared::paths;

use crate::receiver::Receiver;
use crate::recorder::Recorder;
use crate::registry::{ImageSpec, Registry};
use crate::server::Server;
use crate::support::{ADMIN_TOKEN, TestApp, client_with_token, digest, stream_json};

#[tokio::test]
async fn every_signed_in_user_reads_the_samples_project_and_changes_nothing_there() {
    let app = TestApp::start_prepared(tempfile::tempdir().unwrap(), Config::default()).await;
    app.create_project("private").await;
    // A user with no role anywhere.
    let nobody = app.user("nobody").await;
    let as_nobody = |method, path: String, body: Option<Value>| {
        let client = nobody.client.clone();
        let app = &app;
        async move { app.send_as(&client, method, &path, body.as_ref()).await }
    };
    let (code, list) = as_nobody(Method::GET, paths::imagestreams("openshift"), None).await;
    assert_eq!(code, StatusCode::OK, "{list}");
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["metadata"]["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"ruby") && names.contains(&"nginx"),
        "{names:?}"
    );
    let (code, body) = as_nobody(Method::GET, paths::imagestream("openshift", "ruby"), None).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let (code, list) = as_nobody(Method::GET, paths::templates("openshift"), None).await;
    assert_eq!(code, StatusCode::OK, "{list}");
    assert!(!list["items"].as_array().unwrap().is_empty(), "{list}");
    let (code, list) = as_nobody(Method::GET, paths::PROJECTS.to_owned(), None).await;
    assert_eq!(code, StatusCode::OK, "{list}");
    let projects: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(projects, ["openshift"], "the samples project and no other");

    // Reading is all: writes are forbidden, naming the verb.
    let (code, body) = as_nobody(
        Method::POST,
        paths::imagestreams("openshift"),
        Some(stream_json("mine", "latest", "quay.io/demo/mine:1")),
    )
    .await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("create"),
        "{body}"
    );
    let (code, body) = as_nobody(
        Method::DELETE,
        paths::imagestream("openshift", "ruby"),
        None,
    )
    .await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
    // Another project stays invisible, and the samples are not open to anonymous callers.
    let (code, _) = as_nobody(Method::GET, paths::imagestreams("private"), None).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    let (code, _) = app
        .send_as(
            &app.anonymous,
            Method::GET,
            &paths::imagestreams("openshift"),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    app.stop().await;
}

/// A client whose connections come from `ip` (any 127.0.0.0/8 address is loopback on Linux).
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(crate::support::PATIENCE)
        .local_address(ip.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn proxy_headers_are_believed_from_the_trusted_address_only() {
    let mut config = Config::default();
    config.auth.trusted_proxies = vec!["127.0.0.2".parse().unwrap()];
    let app = TestApp::start_with_config(config).await;
    let whoami = |client: reqwest::Client| {
        let url = app.url(paths::WHOAMI);
        async move {
            client
                .get(url)
                .header("X-Forwarded-User", "sso-user")
                .header("X-Forwarded-Groups", "system:cluster-admins")
                .send()
                .await
                .unwrap()
        }
    };
    let resp = whoami(client_from("127.0.0.2")).await;
    assert_eq!(resp.status(), StatusCode::OK, "from the proxy's address");
    let who: Value = resp.json().await.unwrap();
    assert_eq!(who["username"], "sso-user");
    for other in ["127.0.0.1", "127.0.0.3"] {
        let resp = whoami(client_from(other)).await;
        assert_eq!(
            resp.status(),
            StatusCode::UNAUTHORIZED,
            "the same headers from {other} are not believed"
        );
    }
    app.stop().await;
}

fn webhook_config(allowed: Vec<String>, give_up: u64) -> Config {
    Config {
        webhooks: WebhooksConfig {
            allowed_hosts: allowed,
            timeout_seconds: 2,
            retry_initial_seconds: 1,
            retry_max_interval_seconds: 1,
            give_up_after_seconds: give_up,
        },
        ..Config::default()
    }
}

/// Creates project demo, stream ruby and a trigger `hook` on it posting to `url`, then moves
/// ruby:latest so that a delivery is queued.
async fn trigger_a_delivery(app: &TestApp, url: &str) {
    app.create_project("demo").await;
    app.create_stream(
        "demo",
        &stream_json("ruby", "latest", "quay.io/demo/ruby:3.3"),
    )
    .await;
    let trigger = json!({
        "kind": "Trigger", "apiVersion": "tagstream.io/v1", "metadata": {"name": "hook"},
        "spec": {"from": {"kind": "ImageStream", "name": "ruby"},
                 "webhook": {"url": url, "secret": "webhook-secret-for-tests"}}
    });
    let (code, body) = app.post(&paths::triggers("demo"), &trigger).await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    // The import worker writes the stream too (its quay.io source is not allowed): read,
    // modify, write, and on 409 read again, as any client does.
    for _ in 0..50 {
        let (_, mut stream) = app.get(&paths::imagestream("demo", "ruby")).await;
        stream["status"]["tags"] = json!([{"tag": "latest", "items": [{"created": "2026-01-01T00:00:00Z",
            "generation": 1, "image": digest('a'), "dockerImageReference": format!("quay.io/demo/ruby@{}", digest('a'))}]}]);
        let (code, body) = app
            .put(&paths::imagestream_status("demo", "ruby"), &stream)
            .await;
        if code == StatusCode::OK {
            return;
        }
        assert_eq!(code, StatusCode::CONFLICT, "{body}");
    }
    panic!("moving ruby:latest kept conflicting");
}

/// Waits until the newest delivery of trigger `hook` satisfies `done`.
async fn wait_for_delivery(app: &TestApp, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + crate::support::PATIENCE;
    loop {
        let (code, body) = app.get(&paths::deliveries("demo", "hook")).await;
        assert_eq!(code, StatusCode::OK, "{body}");
        if let Some(first) = body["items"].get(0)
            && done(first)
        {
            return first.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the delivery never got there: {body:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_webhook_redirect_is_not_followed() {
    let mut target = Receiver::start().await;
    // A hook that answers 307 to the receiver, counting its own requests.
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let location = target.url();
    let counted = hits.clone();
    let redirect = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let location = location.clone();
            async move {
                (
                    StatusCode::TEMPORARY_REDIRECT,
                    [(axum::http::header::LOCATION, location)],
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let redirector = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, redirect).await });
    let allowed = vec![redirector.to_string(), target.addr.to_string()];
    let app = TestApp::start_with_config(webhook_config(allowed, 120)).await;
    trigger_a_delivery(&app, &format!("http://{redirector}/hook")).await;

    let pending = wait_for_delivery(&app, |d| d["status"]["attempts"].as_u64() >= Some(2)).await;
    assert_eq!(pending["status"]["phase"], "Pending", "{pending:#}");
    assert_eq!(pending["status"]["lastStatusCode"], 307, "{pending:#}");
    assert!(
        pending["status"]["lastError"]
            .as_str()
            .unwrap_or_default()
            .contains("redirect"),
        "{pending:#}"
    );
    assert!(hits.load(std::sync::atomic::Ordering::SeqCst) >= 2);
    // Two attempts were recorded, each after its answer: a followed redirect would have reached
    // the receiver by now.
    assert!(
        target.nothing_within(Duration::from_millis(200)).await,
        "the redirect was followed"
    );
    server.abort();
    target.stop();
    app.stop().await;
}

#[tokio::test]
async fn a_delivery_failing_for_give_up_after_seconds_is_marked_failed() {
    let mut receiver = Receiver::start().await;
    receiver.answer(500);
    let app = TestApp::start_with_config(webhook_config(vec![receiver.addr.to_string()], 3)).await;
    trigger_a_delivery(&app, &receiver.url()).await;

    let failed = wait_for_delivery(&app, |d| d["status"]["phase"] == "Failed").await;
    let delivery: tagstream_shared::trigger::Delivery = crate::support::decode(failed.clone());
    let attempts = delivery.status.attempts;
    assert!(attempts >= 2, "retried before giving up: {failed:#}");
    let created = delivery.metadata.creation_timestamp.unwrap().timestamp();
    let last = delivery.status.last_attempt_time.unwrap().timestamp();
    assert!(
        (3..=15).contains(&(last - created)),
        "gave up {} s after queueing, expected 3 s: {failed:#}",
        last - created
    );
    assert!(
        failed["status"].get("nextAttemptTime").is_none(),
        "{failed:#}"
    );
    // The receiver got exactly those attempts.
    for _ in 0..attempts {
        receiver.next(crate::support::PATIENCE).await;
    }
    assert!(
        receiver.nothing_within(Duration::from_millis(1500)).await,
        "attempts went on after Failed"
    );
    let (_, events) = app.get(&paths::events("demo")).await;
    assert!(
        events["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["reason"] == "WebhookFailed"),
        "{events:#}"
    );
    receiver.stop();
    app.stop().await;
}

/// README: a failed delivery "is retried after `retry_initial_seconds`, doubling up to
/// `retry_max_interval_seconds`". With 2 s and 8 s the attempts come 2, 4, 8 and 8 s apart:
/// without doubling they would be 2 s apart, with the cap ignored the last 16 s. Due times are
/// whole seconds, so a gap may come up to a second early.
#[tokio::test]
async fn a_failing_delivery_is_retried_doubling_up_to_the_longest_wait() {
    let mut receiver = Receiver::start().await;
    receiver.answer(500);
    let mut config = webhook_config(vec![receiver.addr.to_string()], 600);
    config.webhooks.retry_initial_seconds = 2;
    config.webhooks.retry_max_interval_seconds = 8;
    let app = TestApp::start_with_config(config).await;
    trigger_a_delivery(&app, &receiver.url()).await;
    let mut at = Vec::new();
    for _ in 0..5 {
        receiver.next(crate::support::PATIENCE).await;
        at.push(std::time::Instant::now());
    }
    let gaps: Vec<f64> = at
        .windows(2)
        .map(|w| w[1].duration_since(w[0]).as_secs_f64())
        .collect();
    for (gap, expected) in gaps.iter().zip([2.0, 4.0, 8.0, 8.0]) {
        assert!(
            *gap >= expected - 1.05 && *gap <= expected + 2.5,
            "attempts {gaps:.2?} s apart, expected about [2, 4, 8, 8]"
        );
    }
    receiver.stop();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_an_in_flight_request_finish() {
    let registry = Registry::start().await;
    let (digest, _) = registry
        .push_image("demo/app", "v1", &ImageSpec::new("one"))
        .await;
    let proxy = Recorder::start(&registry.addr).await;
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        data.path(),
        Path::new("/nonexistent"),
        &format!(
            "[[registries]]\ndomain = \"{}\"\ninsecure = true\n",
            proxy.addr
        ),
    );
    let base = server.base.clone();
    let client = client_with_token(ADMIN_TOKEN);
    let created = client
        .post(format!("{base}{}", paths::PROJECTS))
        .json(&json!({"metadata": {"name": "demo"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);

    // An import whose registry request the proxy holds: the request is in flight.
    proxy.hold("HEAD", "/demo/app/manifests/v1");
    let import = json!({
        "kind": "ImageStreamImport", "apiVersion": "image.openshift.io/v1",
        "metadata": {"name": "app"},
        "spec": {"import": true, "images": [{"from": {"kind": "DockerImage",
            "name": format!("{}/demo/app:v1", proxy.addr)}, "to": {"name": "v1"}}]}
    });
    let in_flight = tokio::spawn({
        let (client, url) = (
            client.clone(),
            format!("{base}{}", paths::imagestreamimports("demo")),
        );
        async move { client.post(url).json(&import).send().await }
    });
    proxy
        .wait_for("HEAD", "/demo/app/manifests/v1", 1, Duration::from_secs(20))
        .await;
    let stopped = tokio::task::spawn_blocking(move || server.terminate());

    // Shutting down: new connections are refused while the import waits.
    let addr = base.trim_start_matches("http://").to_owned();
    let deadline = tokio::time::Instant::now() + crate::support::PATIENCE;
    while tokio::net::TcpStream::connect(&addr).await.is_ok() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server still accepts connections after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        !in_flight.is_finished(),
        "the import ended before its registry answered"
    );
    proxy.release();
    let resp = in_flight
        .await
        .unwrap()
        .expect("the in-flight request got its answer");
    assert_eq!(resp.status(), StatusCode::CREATED);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["status"]["images"][0]["status"]["status"], "Success",
        "{body:#}"
    );
    assert_eq!(
        body["status"]["images"][0]["image"]["metadata"]["name"],
        digest.as_str()
    );
    assert!(
        stopped.await.unwrap(),
        "SIGTERM ends the server with exit code 0"
    );

    // What the request wrote is there after a restart.
    let server = Server::start(data.path(), Path::new("/nonexistent"));
    let got = client
        .get(format!(
            "{}{}",
            server.base,
            paths::imagestream("demo", "app")
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), StatusCode::OK);
    assert!(server.terminate());
}
