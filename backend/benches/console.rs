//! How fast a shared tag link shows its content: the real server and release console, cold
//! navigations in headless Chromium on loopback. The time is the tag page's current-digest
//! element's render time (Element Timing, from the start of navigation), so polling adds nothing.
//!
//! `cargo bench -p tagstream-backend --bench console` (after `trunk build --release`).

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

use serde_json::Value;

const RUNS: usize = 30;

#[tokio::main]
async fn main() {
    let app = chrome::app_with_history().await;
    let browser = chrome::Browser::start_signed_in(&app).await;
    let url = app.url("/ns/demo/streams/ruby/tags/latest");
    let mut times = Vec::with_capacity(RUNS);
    for run in 0..=RUNS {
        browser.open("about:blank").await;
        browser.open(&url).await;
        let rendered = browser
            .client
            .execute_async(
                r"const done = arguments[arguments.length - 1];
                  new PerformanceObserver((list) => {
                    for (const e of list.getEntries()) {
                      if (e.identifier === 'tag-current-digest') done(e.renderTime || e.loadTime);
                    }
                  }).observe({ type: 'element', buffered: true });",
                vec![],
            )
            .await
            .unwrap();
        let ms = match rendered {
            Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
            other => panic!("no element timing: {other}"),
        };
        if run > 0 {
            // The first navigation warms the HTTP cache and compiles the wasm; the rest are what a
            // returning user sees. Both are reported.
            times.push(ms);
        } else {
            println!("first navigation (cold cache): {ms:.1} ms");
        }
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    println!(
        "tag page content rendered after navigation, {RUNS} runs: median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        at(0.5),
        at(0.95),
        at(1.0)
    );
    browser.close().await;
    app.stop().await;
}
