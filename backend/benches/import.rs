//! Import at scale against the real registry on loopback: a repository import of 1,000 tags
//! (wall time and registry requests per tag, beside `skopeo inspect` of one tag on the same
//! registry in the same run), and a scheduled pass over 1,000 unchanged tags (requests and wall
//! time; the target is 1,000 HEADs in under 10 s).
//!
//! `cargo bench -p tagstream-backend --bench import`

#![expect(
    clippy::unwrap_used,
    reason = "a benchmark that cannot run has nothing to report"
)]
#![expect(clippy::print_stdout, reason = "the report is the output")]

#[path = "../tests/it/registry.rs"]
#[expect(dead_code, reason = "shared with the import tests, which use the rest")]
mod registry;
// The test support picks SQLite or PostgreSQL per run, so it needs its PostgreSQL half too.
#[path = "../tests/it/pg_support.rs"]
mod pg_support;
#[path = "../tests/it/support.rs"]
#[expect(dead_code, reason = "shared with the API tests, which use the rest")]
mod support;

use std::time::Instant;

use futures::StreamExt as _;
use serde_json::json;
use tagstream_backend::app::AppState;
use tagstream_backend::config::{Config, RegistryConfig};
use tagstream_backend::import::ImportMode;
use tagstream_backend::store::SqliteStore;
use tagstream_shared::{ImageReference, paths};

const TAGS: usize = 1000;

#[tokio::main]
async fn main() {
    let registry = registry::Registry::start().await;
    let (digest, _) = registry
        .push_image("bench/app", "t0", &registry::ImageSpec::new("bench"))
        .await;
    let manifest = reqwest::Client::new()
        .get(registry.url(&format!("/v2/bench/app/manifests/{digest}")))
        .header("accept", registry::OCI_MANIFEST)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let started = Instant::now();
    futures::stream::iter(1..TAGS)
        .map(|i| {
            let url = registry.url(&format!("/v2/bench/app/manifests/t{i}"));
            let body = manifest.clone();
            async move {
                reqwest::Client::new()
                    .put(url)
                    .header("content-type", registry::OCI_MANIFEST)
                    .body(body)
                    .send()
                    .await
                    .unwrap();
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    println!(
        "set-up: {TAGS} tags pushed in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let mut config = Config {
        registries: vec![RegistryConfig {
            domain: registry.addr.clone(),
            insecure: true,
            username: None,
            password_file: None,
            ca_file: None,
        }],
        ..Config::default()
    };
    config.import.max_repository_tags = TAGS;
    let app = support::TestApp::start_with_config(config.clone()).await;
    app.create_project("bench").await;
    let before = registry.requests_from_tagstream();
    let started = Instant::now();
    let (code, body) = app
        .post(
            &paths::imagestreamimports("bench"),
            &json!({"metadata": {"name": "app"}, "spec": {"import": true, "repository": {
                "from": {"kind": "DockerImage", "name": format!("{}/bench/app", registry.addr)}}}}),
        )
        .await;
    let wall = started.elapsed();
    assert_eq!(code, 201, "{body}");
    let imported = body["status"]["repository"]["images"]
        .as_array()
        .map_or(0, Vec::len);
    let requests = registry.requests_from_tagstream() - before;
    println!(
        "repository import of {imported} tags: {:.2} s, {requests} registry requests ({:.3} per tag)",
        wall.as_secs_f64(),
        requests as f64 / imported.max(1) as f64
    );
    app.stop().await;

    let skopeo = std::process::Command::new("skopeo")
        .args(["inspect", "--tls-verify=false", "--no-tags"])
        .arg(format!("docker://{}/bench/app:t1", registry.addr))
        .output();
    match skopeo {
        Ok(_) => {
            let started = Instant::now();
            let runs = 10;
            for _ in 0..runs {
                std::process::Command::new("skopeo")
                    .args(["inspect", "--tls-verify=false", "--no-tags"])
                    .arg(format!("docker://{}/bench/app:t1", registry.addr))
                    .output()
                    .unwrap();
            }
            println!(
                "skopeo inspect --no-tags of one tag, same registry: {:.1} ms (mean of {runs})",
                started.elapsed().as_secs_f64() * 1000.0 / f64::from(runs)
            );
        }
        Err(e) => println!("skopeo not available ({e}); no comparison"),
    }

    // A scheduled pass: every tag checked once, all unchanged (the image is cached).
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("bench.db"))
        .await
        .unwrap();
    let state = AppState::new(std::sync::Arc::new(store), config).unwrap();
    let first: ImageReference = format!("{}/bench/app:t0", registry.addr).parse().unwrap();
    state
        .importer
        .resolve(&first, ImportMode::Legacy)
        .await
        .unwrap();
    let before = registry.requests_from_tagstream();
    let started = Instant::now();
    let results: Vec<_> = futures::stream::iter(0..TAGS)
        .map(|i| {
            let importer = state.importer.clone();
            let reference: ImageReference =
                format!("{}/bench/app:t{i}", registry.addr).parse().unwrap();
            async move { importer.resolve(&reference, ImportMode::Legacy).await }
        })
        .buffer_unordered(state.importer.config.concurrency)
        .collect()
        .await;
    let wall = started.elapsed();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let requests = registry.requests_from_tagstream() - before;
    let heads = registry.requests("\"HEAD /v2/bench/app/manifests/");
    println!(
        "scheduled pass over {ok} unchanged tags: {:.2} s, {requests} registry requests ({heads} HEADs in the whole run)",
        wall.as_secs_f64()
    );
}
