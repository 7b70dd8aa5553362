//! Imports with several real `tagstream serve` processes on one throwaway PostgreSQL, in front
//! of the real registry behind a recording proxy (which counts and times every request): a
//! scheduled tag is checked once per interval however many replicas run, also after the
//! worker's holder dies; a failing import is retried once per backoff step and, once it
//! succeeds, done once; every replica shows when a tag was last checked; and an import a killed
//! replica was in the middle of is finished by a survivor once its lease runs out.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tagstream_shared::paths::{PROJECTS, imagestream, imagestreams, imagestreamtag};

use crate::claims_import::stream_of;
use crate::pg_support::fresh_database;
use crate::recorder::{Recorder, Seen};
use crate::registry::{ImageSpec, Registry};
use crate::replicas::{Replica, start_all};

/// The schedule interval and the retry backoff cap here, in seconds.
const INTERVAL: f64 = 2.0;
/// Timers never fire early; a little room for the proxy's own clock reading.
const EARLY: f64 = 0.05;

/// Config for replicas that import from `proxy` every `INTERVAL` seconds and retry as often.
fn importing_from(proxy: &Recorder) -> String {
    format!(
        "[[registries]]\ndomain = \"{}\"\ninsecure = true\n[import]\n\
         schedule_interval_seconds = {INTERVAL}\nretry_backoff_cap_seconds = {INTERVAL}\n",
        proxy.addr
    )
}

fn gaps(seen: &[Seen]) -> Vec<f64> {
    seen.windows(2)
        .map(|w| w[1].at.duration_since(w[0].at).as_secs_f64())
        .collect()
}

/// Asserts that no two requests came closer than `at_least` seconds (less the clock's room).
fn spaced(what: &str, seen: &[Seen], at_least: f64) {
    let gaps = gaps(seen);
    assert!(
        gaps.iter().all(|g| *g >= at_least - EARLY),
        "{what}: requests {gaps:?} s apart, some closer than {at_least} s (more than one replica \
         at work)"
    );
}

/// The current image of `stream:latest` as `r` shows it, waiting (up to 30 s) for one.
async fn wait_for_image(r: &Replica, stream: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, body) = r.get(&imagestream("demo", stream)).await;
        if let Some(image) = body["status"]["tags"]
            .as_array()
            .and_then(|t| t.iter().find(|t| t["tag"] == "latest"))
            .and_then(|t| t["items"][0]["image"].as_str())
        {
            return image.to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "{stream}:latest was never imported: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn create(r: &Replica, stream: &Value) {
    let (code, body) = r.post(&imagestreams("demo"), stream).await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scheduled_tag_is_checked_once_per_interval_and_a_retried_import_done_once_with_three_replicas()
 {
    let registry = Registry::start().await;
    registry
        .push_image("demo/app", "v1", &ImageSpec::new("scheduled"))
        .await;
    let proxy = Recorder::start(&registry.addr).await;
    let db = fresh_database().await;
    let mut replicas = start_all(&db, &importing_from(&proxy), 3);
    let (code, _) = replicas[0]
        .post(PROJECTS, &json!({"metadata": {"name": "demo"}}))
        .await;
    assert_eq!(code, StatusCode::CREATED);
    let (checked, late) = (
        format!("{}/demo/app:v1", proxy.addr),
        format!("{}/demo/app:late", proxy.addr),
    );
    create(
        &replicas[1],
        &stream_of("app", &[("latest", checked)], true),
    )
    .await;
    // Not there yet: it fails, and is retried every INTERVAL (the backoff's cap).
    create(&replicas[2], &stream_of("late", &[("latest", late)], false)).await;

    // The import on creation, then scheduled checks: never two within an interval (the
    // jitter takes up to 10% off it).
    let head_checked = "/manifests/v1 ";
    let seen = proxy
        .wait_for("HEAD", head_checked, 4, Duration::from_secs(40))
        .await;
    spaced("scheduled checks", &seen, INTERVAL * 0.9);
    let retries = proxy
        .wait_for("HEAD", "/manifests/late ", 3, Duration::from_secs(40))
        .await;
    spaced("retries", &retries, INTERVAL);

    // Every replica says when the tag was last checked, whichever replica checked it.
    for r in &replicas {
        let (code, ist) = r.get(&imagestreamtag("demo", "app", "latest")).await;
        assert_eq!(code, StatusCode::OK, "{ist}");
        assert!(
            ist["metadata"]["annotations"]["tagstream.io/last-checked"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z')),
            "{} shows no last check: {ist:#}",
            r.base
        );
    }

    // The worker's holder is one of the three: two die (SIGKILL), and the survivor carries on
    // once their lease has run out, still once per interval.
    let before = proxy.seen("HEAD", head_checked).len();
    replicas[0].kill();
    replicas[1].kill();
    let seen = proxy
        .wait_for("HEAD", head_checked, before + 3, Duration::from_secs(40))
        .await;
    spaced(
        "scheduled checks across the takeover",
        &seen,
        INTERVAL * 0.9,
    );

    // The missing image appears: the next retry imports it, once, and nobody asks again.
    let (digest, _) = registry
        .push_image("demo/app", "late", &ImageSpec::new("late"))
        .await;
    let survivor = &replicas[2];
    assert_eq!(wait_for_image(survivor, "late").await, digest);
    let heads = proxy.seen("HEAD", "/manifests/late ").len();
    tokio::time::sleep(Duration::from_secs_f64(INTERVAL * 2.0)).await;
    assert_eq!(
        proxy.seen("HEAD", "/manifests/late ").len(),
        heads,
        "an imported tag was asked about again"
    );
    assert_eq!(
        proxy.seen("GET", &format!("/manifests/{digest}")).len(),
        1,
        "the image was fetched more than once"
    );
    let (_, stream) = survivor.get(&imagestream("demo", "late")).await;
    assert_eq!(
        stream["status"]["tags"][0]["items"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "{stream}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_import_a_killed_replica_was_doing_is_finished_by_a_survivor() {
    let registry = Registry::start().await;
    let (digest, _) = registry
        .push_image("demo/app", "v1", &ImageSpec::new("held"))
        .await;
    let proxy = Recorder::start(&registry.addr).await;
    let head = "/manifests/v1 ";
    // The registry holds every HEAD for the tag: the import in flight stays in flight.
    proxy.hold("HEAD", head);
    let db = fresh_database().await;
    let extra = importing_from(&proxy);
    let mut a = Replica::start(&db, &extra);
    let (code, _) = a
        .post(PROJECTS, &json!({"metadata": {"name": "demo"}}))
        .await;
    assert_eq!(code, StatusCode::CREATED);
    let from = format!("{}/demo/app:v1", proxy.addr);
    create(&a, &stream_of("app", &[("latest", from)], false)).await;
    proxy
        .wait_for("HEAD", head, 1, Duration::from_secs(20))
        .await;

    // A alone ran: its import is in flight. Two more replicas start and leave it alone while
    // A lives, for longer than the lease (A renews it during the pass).
    let survivors = start_all(&db, &extra, 2);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        proxy.seen("HEAD", head).len(),
        1,
        "another replica imported the tag A was importing"
    );

    // A dies; once its lease has run out a survivor imports the tag.
    a.kill();
    proxy.release();
    assert_eq!(wait_for_image(&survivors[0], "app").await, digest);
    assert_eq!(wait_for_image(&survivors[1], "app").await, digest);
    assert_eq!(
        proxy.seen("HEAD", head).len(),
        2,
        "A's try and one survivor's"
    );
    assert_eq!(
        proxy.seen("GET", &format!("/manifests/{digest}")).len(),
        1,
        "the image was fetched more than once"
    );
}
