//! Back is instant (issue 17): going Back from the tag page to the stream page it was opened from
//! shows the stream, from memory, in the very first frame the browser draws after the `popstate`,
//! not its skeleton.

#![expect(clippy::unwrap_used, reason = "a failed step is a failed test")]

use serde_json::{Value, json};

use crate::chrome::{Browser, Then, app_with_history};

/// Goes Back and answers what the first frame after the `popstate` holds (the `requestAnimationFrame`
/// callback runs just before that frame is drawn, after every task and microtask the `popstate`
/// started): the path, the stream title, the tag rows and whatever under `main` says it is loading.
const BACK_FIRST_FRAME_JS: &str = "const done = arguments[arguments.length - 1];
    addEventListener('popstate', () => requestAnimationFrame(() => done({
      path: location.pathname,
      title: document.querySelector('[data-test=stream-title]')?.textContent ?? null,
      tags: Array.from(document.querySelectorAll('[data-test=tag-row]')).map((r) => r.dataset.tag),
      loading: Array.from(document.querySelectorAll('main [aria-busy=true]')).map((e) => e.textContent.trim()),
    })), { once: true });
    history.back();";

#[tokio::test]
async fn back_from_the_tag_page_shows_the_stream_in_the_first_frame() {
    let app = app_with_history().await;
    let browser = Browser::start_signed_in(&app).await;
    browser.open(&app.url("/ns/demo/streams/ruby")).await;
    browser.find("[data-test=tag-row][data-tag=latest]").await;
    browser
        .click(
            "[data-test=tag-row][data-tag=latest] [data-test=tag-link]",
            Then::ShowsText("[data-test=tag-title]", "ruby:latest"),
        )
        .await;
    browser.find("[data-test=current-digest]").await;
    browser.settled().await;

    let first_frame = browser
        .client
        .execute_async(BACK_FIRST_FRAME_JS, vec![])
        .await
        .unwrap();
    assert_eq!(
        first_frame,
        json!({"path": "/ns/demo/streams/ruby", "title": "ruby", "tags": ["latest"], "loading": []}),
        "the first frame after Back shows the stream and its tags, nothing loading"
    );
    // And it stays: the page checks nothing it showed from memory is stale by asking again.
    browser.settled().await;
    assert_eq!(
        browser
            .eval("return document.querySelector('[data-test=stream-title]').textContent;")
            .await,
        Value::from("ruby")
    );
    browser.close().await;
    app.stop().await;
}
