//! README claims about when the import worker asks the registry, measured from the times the
//! requests reach a recording proxy in front of the real registry: scheduled checks every
//! `schedule_interval_seconds` jittered by ±10%, and failed imports retried after 5 s, then
//! doubling, up to `retry_backoff_cap_seconds`. Bounds are wide above (a loaded machine is late)
//! and tight below (a timer never fires early).

use std::time::Duration;

use crate::claims_import::stream_of;
use crate::recorder::Recorder;
use crate::registry::{ImageSpec, Registry};
use crate::support::TestApp;
use crate::support::config_allowing;

/// How late a check may come on a loaded 2-core machine.
const LATE: f64 = 2.5;
/// Timers never fire early; a little room for the proxy's own clock reading.
const EARLY: f64 = 0.05;

fn gaps(times: &[std::time::Instant]) -> Vec<f64> {
    times
        .windows(2)
        .map(|w| w[1].duration_since(w[0]).as_secs_f64())
        .collect()
}

#[tokio::test]
async fn scheduled_checks_are_spread_by_ten_percent_jitter() {
    const TAGS: usize = 10;
    const INTERVAL: f64 = 5.0;
    let registry = Registry::start().await;
    for i in 0..TAGS {
        registry
            .push_image("demo/app", &format!("t{i}"), &ImageSpec::new("same"))
            .await;
    }
    let proxy = Recorder::start(&registry.addr).await;
    let app = TestApp::start_with_config(config_allowing(&proxy.addr, 5)).await;
    app.create_project("demo").await;
    // One stream per tag, so that their writes never conflict and delay one another.
    for i in 0..TAGS {
        let from = format!("{}/demo/app:t{i}", proxy.addr);
        app.create_stream(
            "demo",
            &stream_of(&format!("s{i}"), &[("latest", from)], true),
        )
        .await;
    }
    // For each tag: the import on creation, then two scheduled checks; the time between the two
    // checks is the jittered interval (a check is one HEAD and writes nothing).
    let mut intervals = Vec::new();
    for i in 0..TAGS {
        let seen = proxy
            .wait_for(
                "HEAD",
                &format!("/manifests/t{i} "),
                3,
                Duration::from_secs(40),
            )
            .await;
        let gap = gaps(&[seen[1].at, seen[2].at])[0];
        intervals.push(gap);
    }
    let (low, high) = (INTERVAL * 0.9, INTERVAL * 1.1);
    for gap in &intervals {
        assert!(
            *gap >= low - EARLY && *gap <= high + LATE,
            "a check {gap:.3} s after the last, outside {low}..{high} s: {intervals:?}"
        );
    }
    let min = intervals.iter().copied().fold(f64::MAX, f64::min);
    let max = intervals.iter().copied().fold(f64::MIN, f64::max);
    // Ten draws from a 1 s wide window spread less than 0.3 s with probability ~1.5e-4; without
    // jitter they all sit at the same interval.
    assert!(
        max - min >= 0.3,
        "the checks are in lockstep (spread {:.3} s): {intervals:?}",
        max - min
    );
    app.stop().await;
}

#[tokio::test]
async fn a_failing_import_is_retried_after_5_s_then_doubling_up_to_the_cap() {
    let registry = Registry::start().await;
    registry
        .push_image("demo/app", "present", &ImageSpec::new("one"))
        .await;
    let proxy = Recorder::start(&registry.addr).await;
    let mut config = config_allowing(&proxy.addr, 900);
    config.import.retry_backoff_cap_seconds = 20;
    let app = TestApp::start_with_config(config).await;
    app.create_project("demo").await;
    let from = format!("{}/demo/app:missing", proxy.addr);
    app.create_stream("demo", &stream_of("app", &[("latest", from)], false))
        .await;
    // The import on creation, then retries after 5 s, 10 s, 20 s and 20 s (the cap, not 40 s).
    // A cap of 10 could not tell doubling from "5 s, then always the cap".
    let seen = proxy
        .wait_for("HEAD", "/manifests/missing ", 5, Duration::from_secs(120))
        .await;
    let times: Vec<_> = seen.iter().map(|s| s.at).collect();
    let observed = gaps(&times[..5]);
    for (gap, expected) in observed.iter().zip([5.0, 10.0, 20.0, 20.0]) {
        assert!(
            *gap >= expected - EARLY && *gap <= expected + LATE,
            "retries {observed:?} s apart, expected about [5, 10, 20, 20]"
        );
    }
    app.stop().await;
}
