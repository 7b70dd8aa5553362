//! README claims about imports, against the real registry on loopback: the repository import
//! cap (`max_repository_tags`), the platform `importMode: Legacy` picks (`[import] platform`),
//! one fetch per digest however many tags point at it, an unchanged scheduled check that writes
//! nothing, and a re-import asked for with `generation: 0`.

#![expect(clippy::unwrap_used, reason = "a test that cannot proceed has failed")]

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tagstream_shared::paths;

use crate::registry::{ImageSpec, Registry};
use crate::support::TestApp;
use crate::support::config_allowing;

/// Polls the stream until `done` holds for it (the worker runs in the background). The deadline
/// only bounds a failure, and is far above the slowest state these tests wait for: a stalled
/// registry costs four request timeouts plus backoff (about 10 s at the 2 s timeout they
/// configure) before its condition appears, and a loaded CI machine stretches that.
pub async fn wait_for_stream(
    app: &TestApp,
    ns: &str,
    name: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let (code, body) = app.get(&paths::imagestream(ns, name)).await;
        if code == StatusCode::OK && done(&body) {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "stream {ns}/{name} never reached the expected state; last seen {body:#}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The digests in `tag`'s history, newest first.
pub fn history(stream: &Value, tag: &str) -> Vec<String> {
    stream["status"]["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["tag"] == tag)
        .flat_map(|t| t["items"].as_array().cloned().unwrap_or_default())
        .map(|i| i["image"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// A stream whose tags each import `(tag, reference)`, optionally on a schedule.
pub fn stream_of(name: &str, tags: &[(&str, String)], scheduled: bool) -> Value {
    let tags: Vec<Value> = tags
        .iter()
        .map(|(tag, from)| {
            json!({"name": tag, "importPolicy": {"scheduled": scheduled},
                   "from": {"kind": "DockerImage", "name": from}})
        })
        .collect();
    json!({"metadata": {"name": name}, "spec": {"tags": tags}})
}

fn import_one(stream: &str, from: &str) -> Value {
    json!({
        "kind": "ImageStreamImport", "apiVersion": "image.openshift.io/v1",
        "metadata": {"name": stream},
        "spec": {"import": true, "images": [{"from": {"kind": "DockerImage", "name": from}, "to": {"name": "latest"}}]}
    })
}

#[tokio::test]
async fn a_repository_import_takes_max_repository_tags_and_asks_nothing_about_the_rest() {
    let registry = Registry::start().await;
    for tag in ["a", "b", "c", "d", "e"] {
        registry
            .push_image("demo/app", tag, &ImageSpec::new(tag))
            .await;
    }
    let mut config = config_allowing(&registry.addr, 900);
    config.import.max_repository_tags = 3;
    let app = TestApp::start_with_config(config).await;
    app.create_project("demo").await;
    let request = json!({
        "kind": "ImageStreamImport", "apiVersion": "image.openshift.io/v1",
        "metadata": {"name": "app"},
        "spec": {"import": true, "repository": {"from": {"kind": "DockerImage", "name": format!("{}/demo/app", registry.addr)}}}
    });
    let (code, body) = app.post(&paths::imagestreamimports("demo"), &request).await;
    assert_eq!(code, StatusCode::CREATED, "{body:#}");
    let repo = &body["status"]["repository"];
    let imported: Vec<&str> = repo["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["tag"].as_str().unwrap())
        .collect();
    assert_eq!(imported, ["a", "b", "c"], "{repo:#}");
    assert_eq!(repo["additionalTags"], json!(["d", "e"]), "{repo:#}");
    let (_, stream) = app.get(&paths::imagestream("demo", "app")).await;
    let spec_tags: Vec<&str> = stream["spec"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(spec_tags, ["a", "b", "c"], "only the first three are kept");
    // The tags beyond the cap were never asked about.
    for tag in ["d", "e"] {
        for method in ["HEAD", "GET"] {
            let needle = format!("\"{method} /v2/demo/app/manifests/{tag} ");
            assert_eq!(registry.requests(&needle), 0, "{needle} was sent");
        }
    }
    assert_eq!(registry.requests("\"HEAD /v2/demo/app/manifests/a "), 1);
    app.stop().await;
}

#[tokio::test]
async fn legacy_mode_takes_the_configured_platform_from_a_manifest_list() {
    let registry = Registry::start().await;
    let children = [
        ImageSpec::new("x86").platform("amd64", None),
        ImageSpec::new("arm").platform("arm64", Some("v8")),
    ];
    let (_, kids) = registry
        .push_list("demo/multi", "latest", &children, false)
        .await;
    let from = format!("{}/demo/multi:latest", registry.addr);

    let mut config = config_allowing(&registry.addr, 900);
    config.import.platform = "linux/arm64/v8".into();
    let app = TestApp::start_with_config(config).await;
    app.create_project("demo").await;
    let (code, body) = app
        .post(
            &paths::imagestreamimports("demo"),
            &import_one("multi", &from),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body:#}");
    let image = &body["status"]["images"][0]["image"];
    assert_eq!(image["metadata"]["name"], kids[1].as_str(), "{image:#}");
    assert_eq!(image["dockerImageMetadata"]["Architecture"], "arm64");
    // A spec tag imported in the background picks the same child.
    app.create_stream("demo", &stream_of("bg", &[("latest", from.clone())], false))
        .await;
    let stream = wait_for_stream(&app, "demo", "bg", |s| !history(s, "latest").is_empty()).await;
    assert_eq!(history(&stream, "latest"), [kids[1].clone()]);
    app.stop().await;

    // A platform the list lacks fails the import and names it.
    let mut config = config_allowing(&registry.addr, 900);
    config.import.platform = "linux/s390x".into();
    let app = TestApp::start_with_config(config).await;
    app.create_project("demo").await;
    let (code, body) = app
        .post(
            &paths::imagestreamimports("demo"),
            &import_one("multi", &from),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body:#}");
    let status = &body["status"]["images"][0]["status"];
    assert_eq!(status["status"], "Failure", "{status:#}");
    assert!(
        status["message"].as_str().unwrap().contains("linux/s390x"),
        "{status:#}"
    );
    app.stop().await;
}

#[tokio::test]
async fn image_metadata_is_fetched_once_per_digest_for_every_tag_pointing_at_it() {
    let registry = Registry::start().await;
    let mut digests = Vec::new();
    for tag in ["a", "b", "c", "d"] {
        // The same content under four tags: one manifest digest.
        let (digest, _) = registry
            .push_image("demo/app", tag, &ImageSpec::new("shared"))
            .await;
        digests.push(digest);
    }
    digests.dedup();
    assert_eq!(digests.len(), 1, "one image under four tags");
    let app = TestApp::start_with_config(config_allowing(&registry.addr, 900)).await;
    app.create_project("demo").await;
    app.create_project("other").await;
    let from = |tag: &str| format!("{}/demo/app:{tag}", registry.addr);
    let tags: Vec<(&str, String)> = ["a", "b", "c", "d"].iter().map(|t| (*t, from(t))).collect();
    app.create_stream("demo", &stream_of("app", &tags, false))
        .await;
    app.create_stream("other", &stream_of("copy", &[("x", from("a"))], false))
        .await;
    let done = |s: &Value| {
        ["a", "b", "c", "d"]
            .iter()
            .all(|t| !history(s, t).is_empty())
    };
    wait_for_stream(&app, "demo", "app", done).await;
    wait_for_stream(&app, "other", "copy", |s| !history(s, "x").is_empty()).await;
    let (code, body) = app
        .post(
            &paths::imagestreamimports("other"),
            &import_one("more", &from("c")),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body:#}");
    assert_eq!(body["status"]["images"][0]["status"]["status"], "Success");

    // Six tags resolved (six HEADs), one manifest and one config fetched.
    assert_eq!(registry.requests("\"HEAD /v2/demo/app/manifests/"), 6);
    assert_eq!(
        registry.requests(&format!("\"GET /v2/demo/app/manifests/{}", digests[0])),
        1,
        "the manifest is fetched once"
    );
    assert_eq!(
        registry.requests("\"GET /v2/demo/app/blobs/"),
        1,
        "the config is fetched once (layers never)"
    );
    // Every tag answers the whole image.
    let (_, ist) = app.get(&paths::imagestreamtag("other", "copy", "x")).await;
    assert_eq!(
        ist["image"]["dockerImageMetadata"]["Config"]["User"],
        "1001"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_unchanged_scheduled_check_writes_nothing() {
    let registry = Registry::start().await;
    registry
        .push_image("demo/app", "latest", &ImageSpec::new("one"))
        .await;
    let app = TestApp::start_with_config(config_allowing(&registry.addr, 1)).await;
    app.create_project("demo").await;
    let from = format!("{}/demo/app:latest", registry.addr);
    app.create_stream("demo", &stream_of("app", &[("latest", from)], true))
        .await;
    let before = wait_for_stream(&app, "demo", "app", |s| history(s, "latest").len() == 1).await;
    let tag_path = paths::imagestreamtag("demo", "app", "latest");
    let checked = |ist: &Value| {
        ist["metadata"]["annotations"]["tagstream.io/last-checked"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let (_, ist) = app.get(&tag_path).await;
    let first_check = checked(&ist);
    let heads = "\"HEAD /v2/demo/app/manifests/latest";
    let heads_before = registry.requests(heads);

    // Wait until at least two more checks happened and the tag says it was checked later.
    let deadline = tokio::time::Instant::now() + crate::support::PATIENCE;
    loop {
        let (_, ist) = app.get(&tag_path).await;
        if registry.requests(heads) >= heads_before + 2 && checked(&ist) != first_check {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no two more checks: {} HEADs, last checked {}",
            registry.requests(heads),
            checked(&ist)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, after) = app.get(&paths::imagestream("demo", "app")).await;
    assert_eq!(
        after["metadata"]["resourceVersion"], before["metadata"]["resourceVersion"],
        "an unchanged check wrote the stream: {after:#}"
    );
    assert_eq!(after["status"], before["status"]);
    app.stop().await;
}

#[tokio::test]
async fn setting_a_tags_generation_to_zero_imports_it_again() {
    let registry = Registry::start().await;
    let (first, _) = registry
        .push_image("demo/app", "latest", &ImageSpec::new("one"))
        .await;
    let app = TestApp::start_with_config(config_allowing(&registry.addr, 900)).await;
    app.create_project("demo").await;
    let from = format!("{}/demo/app:latest", registry.addr);
    app.create_stream("demo", &stream_of("app", &[("latest", from)], false))
        .await;
    let stream = wait_for_stream(&app, "demo", "app", |s| history(s, "latest").len() == 1).await;
    assert_eq!(history(&stream, "latest"), std::slice::from_ref(&first));

    // Upstream moves; the tag is not scheduled, so only asking again imports it.
    let (second, _) = registry
        .push_image("demo/app", "latest", &ImageSpec::new("two"))
        .await;
    let heads = "\"HEAD /v2/demo/app/manifests/latest";
    assert_eq!(registry.requests(heads), 1, "no check without asking");
    let mut edited = stream.clone();
    edited["spec"]["tags"][0]["generation"] = json!(0);
    let (code, body) = app.put(&paths::imagestream("demo", "app"), &edited).await;
    assert_eq!(code, StatusCode::OK, "{body:#}");
    let generation = body["metadata"]["generation"].as_i64().unwrap();
    assert!(
        generation > stream["metadata"]["generation"].as_i64().unwrap(),
        "{body:#}"
    );
    assert_eq!(body["spec"]["tags"][0]["generation"], generation);
    let stream = wait_for_stream(&app, "demo", "app", |s| history(s, "latest").len() == 2).await;
    assert_eq!(history(&stream, "latest"), [second, first]);
    assert_eq!(registry.requests(heads), 2);
    app.stop().await;
}
