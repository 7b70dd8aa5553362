//! README claims about the console in real Chromium: the tag page's copy buttons put the pull
//! spec on the clipboard and say so, Remove tag removes the tag and goes back to its stream,
//! and the stream and project-list pages follow changes made elsewhere without a reload.

#![expect(clippy::unwrap_used, reason = "a failed step is a failed test")]

use std::time::Duration;

use fantoccini::Locator;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tagstream_shared::paths;

use crate::chrome::{Browser, Then, app_with_history};
use crate::support::digest;

/// A Chrome DevTools command sent through chromedriver (`goog/cdp/execute`).
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &reqwest::Url,
        session: Option<&str>,
    ) -> Result<reqwest::Url, url_parse::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &reqwest::Url) -> (axum::http::Method, Option<String>) {
        let body = json!({"cmd": self.cmd, "params": self.params});
        (axum::http::Method::POST, Some(body.to_string()))
    }
}

/// `url::ParseError` by the path reqwest re-exports it under.
mod url_parse {
    pub type ParseError = <reqwest::Url as std::str::FromStr>::Err;
}

/// The clipboard's text, read in the page (permission granted through DevTools).
async fn clipboard(browser: &Browser) -> String {
    let value = browser
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             navigator.clipboard.readText().then(done, e => done('refused: ' + e));",
            Vec::new(),
        )
        .await
        .unwrap();
    value.as_str().unwrap_or_default().to_owned()
}

/// Waits until the clipboard holds `expected`.
async fn clipboard_holds(browser: &Browser, expected: &str) {
    let deadline = tokio::time::Instant::now() + crate::support::PATIENCE;
    let mut seen = clipboard(browser).await;
    while seen != expected {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the clipboard holds {seen:?}, not {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        seen = clipboard(browser).await;
    }
}

#[tokio::test]
async fn the_copy_buttons_copy_the_pull_specs_and_remove_tag_removes_it() {
    let app = app_with_history().await;
    let browser = Browser::start_signed_in(&app).await;
    browser
        .client
        .issue_cmd(Cdp {
            cmd: "Browser.grantPermissions",
            params: json!({"origin": app.base,
                "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]}),
        })
        .await
        .unwrap();
    browser
        .open(&app.url("/ns/demo/streams/ruby/tags/latest"))
        .await;
    let by_digest = format!("quay.io/demo/ruby@{}", digest('b'));
    browser
        .text_containing("[data-test=pull-by-digest]", &by_digest)
        .await;

    // Each button copies its whole pull spec and confirms it next to itself.
    for (button, expected) in [
        ("copy-pull-by-digest", by_digest.as_str()),
        ("copy-pull-by-tag", "quay.io/demo/ruby:3.3"),
    ] {
        browser
            .click(
                &format!("[data-test={button}]"),
                Then::ShowsText(
                    &format!("[data-test={button}] + .copy-status [data-test=copied]"),
                    "Copied",
                ),
            )
            .await;
        clipboard_holds(&browser, expected).await;
    }

    // Remove tag asks first (and asks again after a Cancel), then removes the tag with its
    // history and shows the stream.
    browser
        .click(
            "[data-test=remove-tag]",
            Then::ShowsText("dialog[open] [data-test=confirm-title]", "ruby:latest"),
        )
        .await;
    browser
        .click(
            "dialog[open] [data-test=confirm-cancel]",
            Then::Gone("dialog[open]"),
        )
        .await;
    browser
        .click(
            "[data-test=remove-tag]",
            Then::ShowsText("dialog[open] [data-test=confirm-title]", "ruby:latest"),
        )
        .await;
    browser
        .click(
            "dialog[open] [data-test=confirm-delete]",
            Then::Path("/ns/demo/streams/ruby"),
        )
        .await;
    browser
        .text_containing("[data-test=stream-title]", "ruby")
        .await;
    let (code, _) = app
        .get(&paths::imagestreamtag("demo", "ruby", "latest"))
        .await;
    assert_eq!(code, StatusCode::NOT_FOUND, "the tag is gone");
    let (_, stream) = app.get(&paths::imagestream("demo", "ruby")).await;
    assert!(
        stream["spec"]["tags"]
            .as_array()
            .is_none_or(|t| t.is_empty()),
        "the spec tag is gone: {stream:#}"
    );
    assert!(
        stream["status"]["tags"]
            .as_array()
            .is_none_or(|t| t.is_empty()),
        "its history went with it: {stream:#}"
    );
    assert!(
        browser
            .client
            .find_all(Locator::Css("[data-test=tag-row][data-tag=latest]"))
            .await
            .unwrap()
            .is_empty(),
        "the stream page lists no removed tag"
    );
    browser.close().await;
    app.stop().await;
}

async fn mark_not_reloaded(browser: &Browser) {
    browser
        .eval("window.__notReloaded = true; return true;")
        .await;
}

async fn assert_not_reloaded(browser: &Browser) {
    assert_eq!(
        browser.eval("return window.__notReloaded === true;").await,
        json!(true),
        "the page was reloaded"
    );
}

#[tokio::test]
async fn the_stream_and_project_list_pages_follow_changes_without_a_reload() {
    let app = app_with_history().await;
    let browser = Browser::start_signed_in(&app).await;

    browser.open(&app.url("/ns/demo/streams/ruby")).await;
    browser.find("[data-test=tag-row][data-tag=latest]").await;
    mark_not_reloaded(&browser).await;
    // Someone else adds a tag to the stream.
    let (code, body) = app
        .put(
            &paths::imagestreamtag("demo", "ruby", "edge"),
            &json!({"kind": "ImageStreamTag", "apiVersion": "image.openshift.io/v1",
                "metadata": {"name": "ruby:edge"},
                "tag": {"name": "edge", "from": {"kind": "DockerImage", "name": "quay.io/demo/ruby:edge"}}}),
        )
        .await;
    assert!(code.is_success(), "{body}");
    browser.find("[data-test=tag-row][data-tag=edge]").await;
    browser
        .text_containing("[data-test=live-updated]", "Updated just now")
        .await;
    assert_not_reloaded(&browser).await;

    browser.open(&app.url("/")).await;
    browser
        .find("[data-test=project-row][data-name=demo]")
        .await;
    mark_not_reloaded(&browser).await;
    app.create_project("arrived-later").await;
    browser
        .find("[data-test=project-row][data-name=arrived-later]")
        .await;
    browser
        .text_containing("[data-test=live-updated]", "Updated just now")
        .await;
    assert_not_reloaded(&browser).await;
    browser.close().await;
    app.stop().await;
}
