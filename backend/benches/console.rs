//! How fast the console shows what people open, in headless Chromium on loopback against the real
//! server and release console:
//! - a shared tag link opened cold (the HTTP cache emptied before each run) and warm, to the
//!   current digest rendered (Element Timing, from the start of navigation);
//! - the click from a stream page to one of its tags (a client-side navigation), to the tag's
//!   current digest rendered (Element Timing, from the click);
//! - Back from the tag page to the stream page it was opened from (a client-side navigation that
//!   shows the page from memory), to the first frame showing the stream's tags: how long from
//!   `history.back()` and how many frames after the `popstate`;
//! - layout shift after first content on the tag, stream and project pages opened cold (the sum of
//!   `layout-shift` entries, which a page only has once something it painted moved).
//!
//! `cargo bench -p tagstream-backend --bench console` (after `scripts/console.sh`).

#![expect(
    clippy::unwrap_used,
    reason = "a benchmark that cannot run has nothing to report"
)]
#![expect(clippy::print_stdout, reason = "the report is the output")]

#[path = "../tests/it/chrome.rs"]
#[expect(
    dead_code,
    reason = "shared with the browser tests, which use the rest"
)]
mod chrome;
// The test support picks SQLite or PostgreSQL per run, so it needs its PostgreSQL half too.
#[path = "../tests/it/pg_support.rs"]
mod pg_support;
#[path = "../tests/it/support.rs"]
#[expect(dead_code, reason = "shared with the API tests, which use the rest")]
mod support;

use std::time::Duration;

use reqwest::{Method, Url};
use serde_json::{Value, json};

const RUNS: usize = 30;
const COLD_RUNS: usize = 15;

/// `url::ParseError`, through reqwest (which re-exports `Url` but not it).
type UrlError = <Url as std::str::FromStr>::Err;

/// Chromedriver's pass-through to the DevTools protocol, for what WebDriver has no command for
/// (emptying the HTTP cache).
#[derive(Debug)]
struct Cdp(&'static str);

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(&self, base: &Url, session: Option<&str>) -> Result<Url, UrlError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or("")
        ))
    }

    fn method_and_body(&self, _: &Url) -> (Method, Option<String>) {
        let body = json!({ "cmd": self.0, "params": {} }).to_string();
        (Method::POST, Some(body))
    }
}

/// The render time of the element `identifier` painted after `since` (ms on the page's clock).
const ELEMENT_AFTER_JS: &str = "const [identifier, since, done] = arguments;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const at = e.renderTime || e.loadTime;
        if (e.identifier === identifier && at >= since) done(at);
      }
    }).observe({ type: 'element', buffered: true });";

/// Clicks the tag link at a time on the page's clock and answers how long until the tag's
/// current digest was rendered.
const CLICK_TO_TAG_JS: &str = "const done = arguments[arguments.length - 1];
    const link = document.querySelector('[data-test=tag-row][data-tag=latest] [data-test=tag-link]');
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if (e.identifier === 'tag-current-digest' && e.renderTime >= start) done(e.renderTime - start);
      }
    }).observe({ type: 'element' });
    const start = performance.now();
    link.click();";

/// Goes Back and answers `[ms, frames]`: the time from `history.back()` to the start of the first
/// frame that shows the stream's tag rows with nothing under `main` loading, and which frame after
/// the `popstate` that was (1: the first one painted after it).
const BACK_JS: &str = "const done = arguments[arguments.length - 1];
    const shown = () => location.pathname === '/ns/demo/streams/ruby'
      && document.querySelector('[data-test=tag-row]')
      && !document.querySelector('main [aria-busy=true]');
    let frames = 0;
    const frame = (at) => {
      frames += 1;
      if (shown()) done([at - start, frames]); else requestAnimationFrame(frame);
    };
    window.addEventListener('popstate', () => requestAnimationFrame(frame), { once: true });
    const start = performance.now();
    history.back();";

/// The layout shift the page has had (buffered `layout-shift` entries, not after input).
const SHIFT_JS: &str = "const done = arguments[arguments.length - 1];
    let total = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (!e.hadRecentInput) total += e.value;
    }).observe({ type: 'layout-shift', buffered: true });
    setTimeout(() => done(total), 0);";

fn ms(value: Value) -> f64 {
    match value {
        Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        other => panic!("no element timing: {other}"),
    }
}

fn report(what: &str, mut times: Vec<f64>) {
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    println!(
        "{what}, {} runs: median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        times.len(),
        at(0.5),
        at(0.95),
        at(1.0)
    );
}

async fn rendered_after(browser: &chrome::Browser, identifier: &str, since: f64) -> f64 {
    ms(browser
        .client
        .execute_async(ELEMENT_AFTER_JS, vec![json!(identifier), json!(since)])
        .await
        .unwrap())
}

#[tokio::main]
async fn main() {
    let app = chrome::app_with_history().await;
    let browser = chrome::Browser::start_signed_in(&app).await;
    let tag_url = app.url("/ns/demo/streams/ruby/tags/latest");

    // A shared tag link opened cold: nothing cached, the wasm compiled afresh.
    let mut cold = Vec::with_capacity(COLD_RUNS);
    for _ in 0..COLD_RUNS {
        browser.open("about:blank").await;
        browser
            .client
            .issue_cmd(Cdp("Network.clearBrowserCache"))
            .await
            .unwrap();
        browser.open(&tag_url).await;
        cold.push(rendered_after(&browser, "tag-current-digest", 0.0).await);
    }
    report("tag link opened cold (empty HTTP cache)", cold);

    // The same link again with the console in the HTTP cache: a returning user.
    let mut warm = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        browser.open("about:blank").await;
        browser.open(&tag_url).await;
        warm.push(rendered_after(&browser, "tag-current-digest", 0.0).await);
    }
    report("tag link opened warm (console cached)", warm);

    // Stream page → tag page, a client-side navigation; the tag not visited before in this
    // document, so its data is fetched.
    let mut navigation = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        browser.open("about:blank").await;
        browser.open(&app.url("/ns/demo/streams/ruby")).await;
        browser
            .find("[data-test=tag-row][data-tag=latest] [data-test=tag-link]")
            .await;
        browser.settled().await;
        navigation.push(ms(browser
            .client
            .execute_async(CLICK_TO_TAG_JS, vec![])
            .await
            .unwrap()));
    }
    report("stream → tag, client-side navigation", navigation);

    // Tag → Back → stream: the stream page from memory. The tag page is reached by a click, as
    // people do, so Back is a client-side navigation within the same document.
    let mut back = Vec::with_capacity(RUNS);
    let mut worst_frame = 0_u64;
    for _ in 0..RUNS {
        browser.open("about:blank").await;
        browser.open(&app.url("/ns/demo/streams/ruby")).await;
        browser
            .click(
                "[data-test=tag-row][data-tag=latest] [data-test=tag-link]",
                chrome::Then::Shows("[data-test=current-digest]"),
            )
            .await;
        browser.settled().await;
        let answer = browser.client.execute_async(BACK_JS, vec![]).await.unwrap();
        let (ms, frame): (f64, u64) = serde_json::from_value(answer).unwrap();
        back.push(ms);
        worst_frame = worst_frame.max(frame);
    }
    report(
        "tag → Back → stream, to the first frame showing its tags",
        back,
    );
    println!("  shown in frame {worst_frame} after the popstate at worst (1 = the first)");

    // Layout shift on each page opened cold, once everything it loads has arrived (the session
    // menu, the access review, live updates and the tag's followers included).
    for (page, path, content) in [
        (
            "tag",
            "/ns/demo/streams/ruby/tags/latest",
            "[data-test=history-row]",
        ),
        ("stream", "/ns/demo/streams/ruby", "[data-test=tag-row]"),
        ("project", "/ns/demo", "[data-test=stream-row]"),
    ] {
        let mut worst = 0.0_f64;
        for _ in 0..5 {
            browser.open("about:blank").await;
            browser
                .client
                .issue_cmd(Cdp("Network.clearBrowserCache"))
                .await
                .unwrap();
            browser.open(&app.url(path)).await;
            browser.find(content).await;
            browser.find("[data-test=signed-in-as]").await;
            browser.settled().await;
            // Whatever arrives last (a live stream opening, the followers) has had its frame.
            tokio::time::sleep(Duration::from_millis(1500)).await;
            let shift = browser
                .client
                .execute_async(SHIFT_JS, vec![])
                .await
                .unwrap();
            worst = worst.max(shift.as_f64().unwrap_or(f64::NAN));
        }
        println!("layout shift on the {page} page opened cold, worst of 5 runs: {worst:.4}");
    }
    browser.close().await;
    app.stop().await;
}
