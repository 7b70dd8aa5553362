//! Access control as people meet it in the console: signing in, a project admin adding a
//! teammate as viewer, the teammate seeing but not changing, then raised to edit and changing.

#![expect(clippy::unwrap_used, reason = "a failed step is a failed test")]

use std::time::Duration;

use fantoccini::Locator;
use reqwest::{Method, StatusCode};
use serde_json::json;
use tagstream_shared::paths;

use crate::chrome::{Browser, Then, dist};
use crate::support::{TestApp, stream_json};

#[tokio::test]
async fn an_admin_adds_a_viewer_who_sees_but_cannot_change_until_raised_to_edit() {
    let app = TestApp::start_with_dist(&dist()).await;
    let lead = app.user("lead").await;
    let mate = app.user("mate").await;
    // The lead creates the project, so the lead is its admin.
    let (code, body) = app
        .send_as(
            &lead.client,
            Method::POST,
            paths::PROJECTS,
            Some(&json!({"metadata": {"name": "team"}})),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let (code, body) = app
        .send_as(
            &lead.client,
            Method::POST,
            &paths::imagestreams("team"),
            Some(&stream_json("ruby", "latest", "quay.io/demo/ruby:3.3")),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");

    // A deep link opened signed out goes to sign in, then back to the link.
    let browser = Browser::start().await;
    browser.open(&app.url("/ns/team/access")).await;
    browser.find("[data-test=login-form]").await;
    browser.sign_in_here("lead", &lead.password).await;
    browser.find("[data-test=add-member]").await;
    assert_eq!(browser.path().await, "/ns/team/access");
    browser
        .find("[data-test=add-name]")
        .await
        .send_keys("mate")
        .await
        .unwrap();
    browser
        .click("[data-test=add-role] option[value=view]", Then::Selected)
        .await;
    browser
        .click(
            "[data-test=add-submit]",
            Then::ShowsText("[data-test=access-done]", "mate is now view"),
        )
        .await;
    browser
        .find("[data-test=member-row][data-member=mate]")
        .await;

    // The teammate sees the stream, without the actions a viewer may not take.
    browser.sign_in(&app, "mate", "mate-password").await;
    browser.open(&app.url("/ns/team/streams/ruby")).await;
    browser
        .text_containing("[data-test=stream-title]", "ruby")
        .await;
    browser.find("[data-test=tag-row]").await;
    // Delete would show only once the access review answered: wait for the answer, or the check
    // below passes whatever the answer.
    browser.settled().await;
    assert!(
        browser
            .client
            .find_all(Locator::Css("[data-test=delete-stream]"))
            .await
            .unwrap()
            .is_empty(),
        "a viewer is not offered Delete"
    );
    // And the server refuses what the console hid.
    let (code, _) = app
        .send_as(
            &mate.client,
            Method::DELETE,
            &paths::imagestream("team", "ruby"),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN);

    // The lead raises the teammate to edit.
    browser.sign_in(&app, "lead", &lead.password).await;
    browser.open(&app.url("/ns/team/access")).await;
    browser
        .click(
            "[data-test=member-row][data-member=mate] [data-test=member-role] option[value=edit]",
            Then::ShowsText("[data-test=access-done]", "mate is now edit"),
        )
        .await;

    // Now the teammate edits: the Delete action is there and works.
    browser.sign_in(&app, "mate", "mate-password").await;
    browser.open(&app.url("/ns/team/streams/ruby")).await;
    browser
        .click(
            "[data-test=delete-stream]",
            Then::Shows("[data-test=confirm-delete]"),
        )
        .await;
    browser
        .click("[data-test=confirm-delete]", Then::Path("/ns/team"))
        .await;
    let deadline = tokio::time::Instant::now() + crate::support::PATIENCE;
    loop {
        let (code, _) = app.get(&paths::imagestream("team", "ruby")).await;
        if code == StatusCode::NOT_FOUND {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the teammate's delete never happened"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, log) = app.get(&paths::audit_events("team")).await;
    assert!(
        log["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["user"] == "mate" && e["verb"] == "delete"),
        "the audit log names the teammate: {log}"
    );
    browser.close().await;
    app.stop().await;
}
