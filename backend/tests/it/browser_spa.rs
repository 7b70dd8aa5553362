//! The console as one app in real headless Chromium: going between pages and Back are client-side
//! navigations (the document stays), Back shows the page it left from memory (without asking the
//! server again), a tag reached from its stream page shows what the stream had until the tag's
//! own answer replaces it, and a live-update stream is open only while a page needs it.

#![expect(clippy::unwrap_used, reason = "a failed step is a failed test")]

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tagstream_shared::paths::{imagestream, imagestream_status};

use crate::chrome::{Browser, Then, app_with_history};
use crate::support::digest;

/// How many requests the document made for `path` (Resource Timing).
async fn requests_for(browser: &Browser, path: &str) -> u64 {
    let script = format!(
        "return performance.getEntriesByType('resource')
           .filter((e) => new URL(e.name).pathname === {path:?}).length;"
    );
    browser.eval(&script).await.as_u64().unwrap()
}

#[tokio::test]
async fn stream_to_tag_and_back_keeps_the_document_and_shows_the_stream_from_memory() {
    let app = app_with_history().await;
    let browser = Browser::start_signed_in(&app).await;
    browser.open(&app.url("/ns/demo/streams/ruby")).await;
    browser
        .text_containing("[data-test=stream-title]", "ruby")
        .await;
    browser.settled().await;
    browser.eval("window.tagstreamMark = 'stream';").await;
    let stream_path = imagestream("demo", "ruby");
    let asked = requests_for(&browser, &stream_path).await;
    assert_eq!(asked, 1, "the stream was loaded once");

    browser
        .click(
            "[data-test=tag-row][data-tag=latest] [data-test=tag-link]",
            Then::ShowsText("[data-test=tag-title]", "ruby:latest"),
        )
        .await;
    browser.find("[data-test=current-digest]").await;
    assert_eq!(
        browser.eval("return window.tagstreamMark;").await,
        Value::from("stream"),
        "stream → tag: the same document"
    );
    // The page's first frame holds its header; what is below it follows once that is painted.
    browser.find("[data-test=pull-by-digest]").await;
    browser.find("[data-test=followers]").await;
    browser.settled().await;
    assert_eq!(
        browser
            .attrs("[data-test=history-row]", "data-digest")
            .await,
        [digest('b'), digest('a')],
        "the tag's history, below its header"
    );

    // Back: the stream is shown from memory, without asking the server for it again.
    browser.back(Then::Path("/ns/demo/streams/ruby")).await;
    browser
        .text_containing("[data-test=stream-title]", "ruby")
        .await;
    assert_eq!(browser.path().await, "/ns/demo/streams/ruby");
    assert_eq!(
        browser.eval("return window.tagstreamMark;").await,
        Value::from("stream"),
        "tag → Back: the same document"
    );
    assert_eq!(
        requests_for(&browser, &stream_path).await,
        asked,
        "shown from memory: the stream was not asked for again"
    );

    // And Forward again: the tag from memory too.
    browser.client.forward().await.unwrap();
    browser
        .text_containing("[data-test=tag-title]", "ruby:latest")
        .await;
    assert_eq!(
        browser.eval("return window.tagstreamMark;").await,
        Value::from("stream")
    );
    browser.close().await;
    app.stop().await;
}

/// Keeps every live-update stream the page opens from now on in `window.tagstreamSources`.
const TRACK_SOURCES_JS: &str = "const Original = window.EventSource;
    window.tagstreamSources = [];
    window.EventSource = class extends Original {
      constructor(...args) { super(...args); window.tagstreamSources.push(this); }
    };";
const SOURCES_JS: &str = "const made = window.tagstreamSources || [];
    return [made.length, made.filter((s) => s.readyState !== EventSource.CLOSED).map((s) => s.url)];";

/// Waits until the page has opened `made` live-update streams since tracking began and `open` of
/// them are open, and answers the open ones' URLs.
async fn sources(browser: &Browser, made: u64, open: usize) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + crate::support::PATIENCE;
    loop {
        let (seen_made, seen_open): (u64, Vec<String>) =
            serde_json::from_value(browser.eval(SOURCES_JS).await).unwrap_or_default();
        if seen_made == made && seen_open.len() == open {
            return seen_open;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "expected {made} live streams made and {open} open, still {seen_made} made and open: {seen_open:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_live_stream_is_open_only_while_a_page_needs_it() {
    let app = app_with_history().await;
    let browser = Browser::start_signed_in(&app).await;
    browser.open(&app.url("/ns/demo/streams/ruby")).await;
    browser
        .text_containing("[data-test=stream-title]", "ruby")
        .await;
    browser.settled().await;
    browser.eval(TRACK_SOURCES_JS).await;

    // The tag page watches the project's streams: one stream open.
    browser
        .click(
            "[data-test=tag-row][data-tag=latest] [data-test=tag-link]",
            Then::ShowsText("[data-test=tag-title]", "ruby:latest"),
        )
        .await;
    let open = sources(&browser, 1, 1).await;
    assert!(
        open[0].contains("/namespaces/demo/imagestreams?watch=true"),
        "{open:?}"
    );

    // The tag edit page watches nothing: the tag page's stream is closed with it.
    browser.settled().await;
    browser
        .click(
            "[data-test=edit-tag]",
            Then::Shows("[data-test=tag-as-name]"),
        )
        .await;
    sources(&browser, 1, 0).await;

    // Back on the tag page, one again; and after going on to the stream, still one.
    browser
        .back(Then::Path("/ns/demo/streams/ruby/tags/latest"))
        .await;
    sources(&browser, 2, 1).await;
    browser.settled().await;
    browser
        .click(
            "[data-test=breadcrumbs] li:nth-child(3) a",
            Then::Path("/ns/demo/streams/ruby"),
        )
        .await;
    browser
        .text_containing("[data-test=stream-title]", "ruby")
        .await;
    // One per page shown that watches, and only the current page's open.
    let open = sources(&browser, 3, 1).await;
    assert!(
        open[0].contains("/namespaces/demo/imagestreams?watch=true"),
        "{open:?}"
    );
    browser.close().await;
    app.stop().await;
}

/// Keeps, from now on, each text the tag's current digest shows, in `window.tagstreamDigests`.
const RECORD_DIGESTS_JS: &str = "window.tagstreamDigests = [];
    new MutationObserver(() => {
      const shown = document.querySelector('[data-test=current-digest]')?.textContent;
      const seen = window.tagstreamDigests;
      if (shown && seen[seen.length - 1] !== shown) seen.push(shown);
    }).observe(document.body, { childList: true, subtree: true, characterData: true });
    return true;";

#[tokio::test]
async fn a_tag_opened_from_a_stale_stream_page_shows_the_stream_s_digest_then_the_current_one() {
    let app = app_with_history().await;
    let browser = Browser::start_signed_in(&app).await;
    let short = |c: char| format!("sha256:{}", c.to_string().repeat(12));
    browser.open(&app.url("/ns/demo/streams/ruby")).await;
    browser
        .text_containing("[data-test=tag-row][data-tag=latest]", &short('b'))
        .await;
    browser.settled().await;
    // The page stops following the stream (as when the document is put away), and the tag moves
    // meanwhile: the stream the console keeps in memory is stale.
    browser
        .eval("window.dispatchEvent(new PageTransitionEvent('pagehide')); return true;")
        .await;
    let (code, mut stream) = app.get(&imagestream("demo", "ruby")).await;
    assert_eq!(code, StatusCode::OK, "{stream}");
    stream["status"]["tags"][0]["items"]
        .as_array_mut()
        .unwrap()
        .insert(
            0,
            json!({"created": tagstream_shared::Time::now().to_string(),
                "dockerImageReference": format!("quay.io/demo/ruby@{}", digest('c')),
                "image": digest('c'), "generation": 1}),
        );
    let (code, body) = app.put(&imagestream_status("demo", "ruby"), &stream).await;
    assert_eq!(code, StatusCode::OK, "{body}");

    // The tag page shows the digest its stream had at once, then the server's answer.
    browser.eval(RECORD_DIGESTS_JS).await;
    browser
        .click(
            "[data-test=tag-row][data-tag=latest] [data-test=tag-link]",
            Then::ShowsText("[data-test=current-digest]", &short('c')),
        )
        .await;
    let shown: Vec<String> =
        serde_json::from_value(browser.eval("return window.tagstreamDigests;").await).unwrap();
    assert!(
        shown.len() == 2 && shown[0].contains(&short('b')) && shown[1].contains(&short('c')),
        "the stream's digest first, then the current one, and nothing else: {shown:?}"
    );
    browser.settled().await;
    assert_eq!(
        browser
            .attrs("[data-test=history-row]", "data-digest")
            .await,
        [digest('c'), digest('b'), digest('a')]
    );
    browser.close().await;
    app.stop().await;
}
