//! The rough edges a new user met (issue 17), in real Chromium against the real build: the top
//! bar's links and user name spaced apart, breadcrumbs naming the project on the access and
//! edit-tag pages, changing one's own password on the account page, the delivery log updating
//! live, a sample stream that cannot reach its registry saying so and when it tries next, and
//! the import form's policy checkboxes one per row.

#![expect(clippy::unwrap_used, reason = "a failed step is a failed test")]

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tagstream_backend::config::{Config, WebhooksConfig};
use tagstream_shared::paths::{self, imagestream, imagestream_status, template_instances};

use crate::chrome::{Browser, Then, dist};
use crate::followers::{FOLLOWS_RUBY_LATEST, instance_with_a_follower};
use crate::import_hint::refusing_address;
use crate::receiver::Receiver;
use crate::support::{TestApp, config_allowing, digest, stream_json};

/// The horizontal space between each element of `css`'s children and the next, in pixels.
async fn gaps_between_children(browser: &Browser, css: &str) -> Vec<i64> {
    let gaps = browser
        .eval(&format!(
            "const kids = Array.from(document.querySelector({}).children);
             return kids.slice(1).map((k, i) => Math.round(
                 k.getBoundingClientRect().left - kids[i].getBoundingClientRect().right));",
            json!(css)
        ))
        .await;
    gaps.as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn the_top_bar_spaces_its_links_and_the_user_name() {
    let app = TestApp::start_with_dist(&dist()).await;
    let browser = Browser::start_signed_in(&app).await;
    browser.open(&app.url("/")).await;
    browser
        .text_containing("[data-test=signed-in-as]", "alice")
        .await;
    // A cluster admin's account end: Users, Audit, Tokens, the user name, Sign out.
    let texts = browser.texts("nav.session > *").await;
    assert_eq!(
        texts,
        ["Users", "Audit", "Tokens", "alice", "Sign out"],
        "the account links in order"
    );
    let gaps = gaps_between_children(&browser, "nav.session").await;
    assert!(
        gaps.iter().all(|g| *g >= 8),
        "the links and the user name run together: gaps {gaps:?} px between {texts:?}"
    );
    // The main links too, and the account end stays apart from them.
    let main = gaps_between_children(&browser, "header.topbar").await;
    assert!(main.iter().all(|g| *g >= 8), "top bar gaps {main:?} px");
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn breadcrumbs_name_the_project_on_the_access_and_edit_tag_pages() {
    let app = TestApp::start_with_dist(&dist()).await;
    app.create_project("demo").await;
    app.create_stream(
        "demo",
        &stream_json("ruby", "latest", "quay.io/demo/ruby:1"),
    )
    .await;
    let browser = Browser::start_signed_in(&app).await;

    browser.open(&app.url("/ns/demo/access")).await;
    browser
        .text_containing("[data-test=breadcrumbs] [aria-current=page]", "Access")
        .await;
    assert_eq!(
        browser.attrs("[data-test=breadcrumb]", "href").await,
        ["/", "/ns/demo", "/ns/demo/access"]
    );
    assert_eq!(
        browser.texts("[data-test=breadcrumb]").await,
        ["Projects", "demo", "Access"]
    );

    browser
        .open(&app.url("/ns/demo/streams/ruby/tags/latest/edit"))
        .await;
    browser
        .text_containing("[data-test=breadcrumbs] [aria-current=page]", "Edit")
        .await;
    assert_eq!(
        browser.texts("[data-test=breadcrumb]").await,
        ["Projects", "demo", "ruby", "latest", "Edit"]
    );
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_user_changes_their_password_on_their_account_page() {
    let app = TestApp::start_with_dist(&dist()).await;
    let carol = app.user("carol").await;
    let laptop = Browser::start().await;
    laptop.sign_in(&app, "carol", &carol.password).await;
    let phone = Browser::start_beside(&laptop).await;
    phone.sign_in(&app, "carol", &carol.password).await;

    laptop.open(&app.url("/tokens")).await;
    let type_into = |css: &'static str, text: String| {
        let laptop = &laptop;
        async move {
            let input = laptop.find(css).await;
            input.clear().await.unwrap();
            input.send_keys(&text).await.unwrap();
        }
    };
    // The new password's rule shows as you type, the server's answer beside its field.
    type_into("[data-test=new-password]", "short".into()).await;
    laptop
        .text_containing("[data-test=new-password-error]", "at least 8 characters")
        .await;
    type_into("[data-test=current-password]", "not-my-password".into()).await;
    type_into("[data-test=new-password]", "carol-new-password".into()).await;
    laptop
        .click(
            "[data-test=change-password-submit]",
            Then::ShowsText(
                "[data-test=current-password-error]",
                "is not your current password",
            ),
        )
        .await;
    type_into("[data-test=current-password]", carol.password.clone()).await;
    laptop
        .click(
            "[data-test=change-password-submit]",
            Then::ShowsText("[data-test=password-changed]", "Password changed"),
        )
        .await;

    // This browser stays signed in; the other one was signed out.
    laptop.open(&app.url("/tokens")).await;
    laptop
        .text_containing("[data-test=signed-in-as]", "carol")
        .await;
    phone.open(&app.url("/tokens")).await;
    let deadline = tokio::time::Instant::now() + crate::support::PATIENCE;
    while !phone.path().await.starts_with("/login") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the other session still shows {}",
            phone.path().await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The new password signs in there; the old one no longer does (the API says so).
    phone.sign_in_here("carol", "carol-new-password").await;
    let (code, _) = app
        .send_as(
            &app.anonymous,
            reqwest::Method::POST,
            paths::LOGIN,
            Some(&json!({"username": "carol", "password": carol.password})),
        )
        .await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    phone.close().await;
    laptop.close().await;
    app.stop().await;
}

#[tokio::test]
async fn the_delivery_log_updates_live() {
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
            &paths::triggers("demo"),
            &json!({"metadata": {"name": "deploy"}, "spec": {
                "from": {"kind": "ImageStreamTag", "name": "ruby:latest"},
                "webhook": {"url": receiver.url(), "secret": "browser-test-secret"}}}),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let browser = Browser::start_signed_in(&app).await;
    browser
        .open(&app.url("/ns/demo/triggers?trigger=deploy"))
        .await;
    browser.find("[data-test=deliveries-empty]").await;

    // The tag gets an image while the page is open; nobody touches the page.
    for attempt in 0.. {
        let (_, mut stream) = app.get(&imagestream("demo", "ruby")).await;
        stream["status"]["tags"] = json!([{"tag": "latest", "items": [{
            "created": "2026-01-01T00:00:00Z", "generation": 1, "image": digest('e'),
            "dockerImageReference": format!("quay.io/demo/ruby@{}", digest('e'))}]}]);
        let (code, body) = app.put(&imagestream_status("demo", "ruby"), &stream).await;
        if code == StatusCode::OK {
            break;
        }
        assert!(code == StatusCode::CONFLICT && attempt < 10, "{body}");
    }
    let sent = receiver.next(crate::support::PATIENCE).await;
    assert_eq!(sent.json()["newDigest"], digest('e'));
    // The delivery appears, and then its outcome, without a reload or a click.
    browser
        .find("[data-test=delivery-row][data-phase=Delivered]")
        .await;
    browser
        .text_containing(
            "[data-test=delivery-log] [data-test=live-updated]",
            "Updated",
        )
        .await;
    let rows = browser.texts("[data-test=delivery-row]").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    browser.close().await;
    receiver.stop();
    app.stop().await;
}

#[tokio::test]
async fn a_sample_stream_that_cannot_reach_its_registry_says_when_it_tries_next_and_how_to_mirror()
{
    let (_held, addr) = refusing_address();
    let app =
        TestApp::start_prepared(tempfile::tempdir().unwrap(), config_allowing(&addr, 900)).await;
    // As on a machine without internet, every sample image is out of reach.
    let (code, body) = app
        .put(
            paths::SAMPLES_CONFIG,
            &json!({"metadata": {"name": "cluster"}, "spec": {"samplesRegistry": addr}}),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let browser = Browser::start_signed_in(&app).await;

    browser.open(&app.url("/ns/openshift/streams/ruby")).await;
    let summary = format!("cannot reach {addr}. ");
    let hint = browser
        .text_containing("[data-test=condition-hint]", &summary)
        .await;
    assert!(hint.starts_with(&summary), "{hint}");
    // Other tags may still show the failure from before the samples config moved them to the
    // unreachable registry (their retry is not due yet): judge the ones that reached it.
    let whole: Vec<String> = browser.attrs("[data-test=condition-hint]", "title").await;
    let unreachable: Vec<&String> = whole.iter().filter(|t| t.starts_with(&summary)).collect();
    assert!(!unreachable.is_empty(), "{whole:?}");
    assert!(
        unreachable
            .iter()
            .all(|t| t.contains("[[registries]]") && t.contains("samplesRegistry")),
        "{whole:?}"
    );

    let tag: Value = {
        let (code, list) = app.get(&paths::imagestreams("openshift")).await;
        assert_eq!(code, StatusCode::OK);
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["metadata"]["name"] == "ruby")
            .unwrap()["spec"]["tags"][0]["name"]
            .clone()
    };
    let tag = tag.as_str().unwrap();
    browser
        .open(&app.url(&format!("/ns/openshift/streams/ruby/tags/{tag}")))
        .await;
    let message = browser
        .text_containing("[data-test=condition-message]", &summary)
        .await;
    assert!(
        message.contains("[[registries]]") && message.contains("samplesRegistry"),
        "{message}"
    );
    // The tag page says when the next try is.
    assert!(
        message.contains("; next try ") && message.ends_with(" UTC)"),
        "{message}"
    );
    browser
        .text_containing("[data-test=condition-badge]", "ServiceUnavailable")
        .await;
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn the_import_forms_policy_checkboxes_stand_one_per_row() {
    let app = TestApp::start_with_dist(&dist()).await;
    app.create_project("demo").await;
    let browser = Browser::start_signed_in(&app).await;
    browser.open(&app.url("/ns/demo/import")).await;
    browser.find("[data-test=import-preserve]").await;
    let boxes = browser
        .eval(
            "return Array.from(document.querySelector('[data-test=import-scheduled]')
                .closest('fieldset').querySelectorAll('label'))
                .map((l) => { const r = l.getBoundingClientRect(); return [r.left, r.top, r.bottom]; });",
        )
        .await;
    let boxes: Vec<Vec<f64>> = serde_json::from_value(boxes).unwrap();
    assert_eq!(boxes.len(), 3, "{boxes:?}");
    for pair in boxes.windows(2) {
        let (above, below) = (&pair[0], &pair[1]);
        assert!(
            below[1] >= above[2] - 0.5,
            "a checkbox shares a line with the one before: {boxes:?}"
        );
        assert!(
            (below[0] - above[0]).abs() < 0.5,
            "the checkboxes do not line up: {boxes:?}"
        );
    }
    // Each label is its checkbox then its text, on one line.
    let lines = browser.texts("fieldset.checks label").await;
    assert_eq!(
        lines,
        [
            "Check for new images on a schedule",
            "Insecure registry (plain HTTP or an unverified certificate)",
            "Keep manifest lists whole (every platform) instead of linux/amd64",
        ]
    );
    browser.close().await;
    app.stop().await;
}
