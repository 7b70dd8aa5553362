//! The triggers, events and followers views in real Chromium, with the real delivery worker and
//! a receiver on loopback.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tagstream_backend::config::{Config, WebhooksConfig};
use tagstream_shared::paths::{imagestream, imagestream_status, template_instances, triggers};

use crate::chrome::{Browser, Then};
use crate::followers::{FOLLOWS_RUBY_LATEST, instance_with_a_follower};
use crate::receiver::Receiver;
use crate::support::{TestApp, digest};

#[tokio::test]
async fn the_triggers_page_shows_deliveries_and_redelivers_and_the_tag_page_names_followers() {
    let mut receiver = Receiver::start().await;
    let app = TestApp::start_with_config(Config {
        webhooks: WebhooksConfig {
            allowed_hosts: vec![receiver.addr.to_string()],
            retry_initial_seconds: 1,
            retry_max_interval_seconds: 1,
            ..WebhooksConfig::default()
        },
        ..Config::default()
    })
    .await;
    app.create_project("demo").await;
    let (code, body) = app
        .post(
            &template_instances("demo"),
            &instance_with_a_follower(FOLLOWS_RUBY_LATEST),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let (code, body) = app
        .post(
            &triggers("demo"),
            &json!({"metadata": {"name": "deploy"}, "spec": {
                "from": {"kind": "ImageStreamTag", "name": "ruby:latest"},
                "webhook": {"url": receiver.url(), "secret": "browser-test-secret"}}}),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    // The tag gets an image (retrying if the import worker wrote the stream meanwhile).
    for attempt in 0.. {
        let (_, mut stream) = app.get(&imagestream("demo", "ruby")).await;
        stream["status"]["tags"] = json!([{"tag": "latest", "items": [{
            "created": "2026-01-01T00:00:00Z", "generation": 1, "image": digest('d'),
            "dockerImageReference": format!("quay.io/demo/ruby@{}", digest('d'))}]}]);
        let (code, body) = app.put(&imagestream_status("demo", "ruby"), &stream).await;
        if code == StatusCode::OK {
            break;
        }
        assert!(code == StatusCode::CONFLICT && attempt < 10, "{body}");
    }
    receiver.next(crate::support::PATIENCE).await;

    let user = app.user("dev").await;
    app.grant("demo", "dev", "edit").await;
    let browser = Browser::start().await;
    browser.sign_in(&app, &user.name, &user.password).await;

    browser
        .open(&app.url("/ns/demo/streams/ruby/tags/latest"))
        .await;
    browser
        .text_containing(
            "[data-test=follower-workload]",
            "Followed by Deployment frontend (container web)",
        )
        .await;
    browser
        .text_containing("[data-test=follower-trigger]", "deploy")
        .await;

    browser
        .open(&app.url("/ns/demo/triggers?trigger=deploy"))
        .await;
    browser
        .text_containing("[data-test=trigger-row]", "ImageStreamTag ruby:latest")
        .await;
    let deadline = tokio::time::Instant::now() + crate::support::PATIENCE;
    loop {
        browser.find("[data-test=delivery-row]").await;
        if browser
            .attrs("[data-test=delivery-row]", "data-phase")
            .await
            .first()
            .is_some_and(|p| p == "Delivered")
        {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "never Delivered");
        browser
            .click("#log-title button", Then::Shows("[data-test=delivery-row]"))
            .await;
        // Polling: the page reloads the log when asked; ask again a moment later.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Two rows once redelivered: the redelivery is logged beside the first.
    browser
        .click(
            "[data-test=redeliver]",
            Then::Shows("[data-test=delivery-row] ~ [data-test=delivery-row]"),
        )
        .await;
    let again = receiver.next(crate::support::PATIENCE).await;
    assert_eq!(again.json()["newDigest"], digest('d'));

    browser.open(&app.url("/ns/demo/events")).await;
    browser
        .text_containing(
            "[data-test=events-table]",
            "ruby:latest now points at dddddddddddd",
        )
        .await;
    browser
        .text_containing("[data-test=events-table]", "WebhookDelivered")
        .await;
    browser.close().await;
    receiver.stop();
    app.stop().await;
}
