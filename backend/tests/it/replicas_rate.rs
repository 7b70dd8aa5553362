//! Registry rate limits with several replicas: `[import] requests_per_second_per_registry`
//! holds per replica (README, "Several replicas on one PostgreSQL"), and background imports
//! and scheduled checks run on one replica at a time, so however many replicas run, the
//! background traffic to one registry stays within the limit. Three real `tagstream serve`
//! processes on one throwaway PostgreSQL import many tags due at once from the real registry
//! behind the recording proxy, which times every request as it reaches the registry.
//!
//! Counts, not timings, decide: the busiest one-second window and the average rate over the
//! whole run, each with a margin a machine's hiccup stays within (a stall bunches a second's
//! requests, it cannot make more of them) and that a registry without a limit (30 tags due at
//! once asked in a fraction of a second) or every replica at work (three times the limit)
//! clearly exceeds.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use tagstream_shared::paths::{PROJECTS, imagestreams};

use crate::claims_import::stream_of;
use crate::pg_support::fresh_database;
use crate::recorder::Recorder;
use crate::registry::{ImageSpec, Registry};
use crate::replicas::start_all;

/// `requests_per_second_per_registry` here.
const LIMIT: usize = 4;
/// Tags due at once (all imported on creation, then checked every second).
const TAGS: usize = 30;

/// The most of `times` (in order) within any `window`.
fn busiest(times: &[Instant], window: Duration) -> usize {
    let mut most = 0;
    let mut start = 0;
    for (end, t) in times.iter().enumerate() {
        while t.duration_since(times[start]) >= window {
            start += 1;
        }
        most = most.max(end + 1 - start);
    }
    most
}

/// How many requests arrived in each whole second from the first, for the failure message.
fn per_second(times: &[Instant]) -> Vec<usize> {
    let Some(first) = times.first() else {
        return Vec::new();
    };
    let mut counts = Vec::new();
    for t in times {
        let s = usize::try_from(t.duration_since(*first).as_secs()).unwrap_or(usize::MAX);
        if counts.len() <= s {
            counts.resize(s + 1, 0);
        }
        counts[s] += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread")]
async fn background_checks_of_many_tags_stay_within_the_registry_rate_limit_with_three_replicas() {
    let registry = Registry::start().await;
    registry
        .push_image("demo/app", "v1", &ImageSpec::new("rated"))
        .await;
    let proxy = Recorder::start(&registry.addr).await;
    let db = fresh_database().await;
    // Checks due every second: far more than LIMIT allows, so the limit alone paces them.
    // Two imports at a time: a replica waking from a stall sends at most the two requests it
    // had waited for at once.
    let config = format!(
        "[[registries]]\ndomain = \"{}\"\ninsecure = true\n[import]\n\
         schedule_interval_seconds = 1\nrequests_per_second_per_registry = {LIMIT}\n\
         concurrency = 2\n",
        proxy.addr
    );
    let replicas = start_all(&db, &config, 3);
    let (code, _) = replicas[0]
        .post(PROJECTS, &json!({"metadata": {"name": "demo"}}))
        .await;
    assert_eq!(code, StatusCode::CREATED);
    let from = format!("{}/demo/app:v1", proxy.addr);
    let names: Vec<String> = (0..TAGS).map(|i| format!("t{i:02}")).collect();
    let tags: Vec<(&str, String)> = names.iter().map(|n| (n.as_str(), from.clone())).collect();
    let (code, body) = replicas[1]
        .post(&imagestreams("demo"), &stream_of("app", &tags, true))
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");

    // Every tag imported and then checked again on schedule: twice TAGS requests at least.
    let want = 2 * TAGS;
    let seen = proxy.wait_for("", "", want, Duration::from_secs(120)).await;
    let heads = seen.iter().filter(|s| s.line.starts_with("HEAD ")).count();
    assert!(heads > TAGS, "no scheduled check yet: {seen:?}");
    let times: Vec<Instant> = seen.iter().map(|s| s.at).collect();
    let busiest = busiest(&times, Duration::from_secs(1));
    let span = times[times.len() - 1]
        .duration_since(times[0])
        .as_secs_f64();
    let rate = (times.len() - 1) as f64 / span.max(0.001);
    let counts = per_second(&times);
    // The figures, for the report of a run (`--nocapture`).
    eprintln!(
        "{} requests in {span:.1} s ({rate:.2}/s), busiest second {busiest}, per second {counts:?}",
        times.len()
    );
    // One replica at LIMIT/s puts at most LIMIT (one more at a window's edge) in a second; a
    // stall of up to a second here bunches at most LIMIT more. No limit: 30 tags in well under
    // a second; three replicas at work: 3 x LIMIT in every second.
    assert!(
        busiest <= 2 * LIMIT + 1,
        "{busiest} requests within one second (limit {LIMIT}/s); per second: {counts:?}"
    );
    let ceiling = LIMIT as f64 * 1.5;
    assert!(
        rate <= ceiling,
        "{} requests in {span:.1} s: {rate:.1}/s on average (limit {LIMIT}/s); per second: \
         {counts:?}",
        times.len()
    );
}
