//! Registry import against the real distribution registry on loopback: one tag, a whole
//! repository, OCI and Docker lists in both import modes, previews, pending spec tags, aliases,
//! scheduled re-import with exactly one HEAD per unchanged check, failures that keep the
//! current image, and refusals of registries that are not listed.

#![expect(clippy::unwrap_used, reason = "a test that cannot proceed has failed")]

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tagstream_backend::config::{Config, RegistryConfig};
use tagstream_shared::paths;

use crate::claims_import::{history, wait_for_stream};
use crate::registry::{ImageSpec, Registry};
use crate::support::config_allowing;
use crate::support::{TestApp, assert_status};

fn import_one(stream: &str, from: &str, tag: &str, import: bool) -> Value {
    json!({
        "kind": "ImageStreamImport",
        "apiVersion": "image.openshift.io/v1",
        "metadata": {"name": stream},
        "spec": {"import": import, "images": [
            {"from": {"kind": "DockerImage", "name": from}, "to": {"name": tag}}
        ]}
    })
}

/// Creates project demo and stream app whose `latest` follows `{registry}/demo/app:latest` on a
/// schedule, and waits for its first import.
async fn follow_scheduled(app: &TestApp, registry: &str) {
    app.create_project("demo").await;
    let stream = json!({
        "metadata": {"name": "app"},
        "spec": {"tags": [{"name": "latest", "importPolicy": {"scheduled": true},
            "from": {"kind": "DockerImage", "name": format!("{registry}/demo/app:latest")}}]}
    });
    let (code, body) = app.post(&paths::imagestreams("demo"), &stream).await;
    assert_eq!(code, StatusCode::CREATED, "{body:#}");
    wait_for_stream(app, "demo", "app", |s| history(s, "latest").len() == 1).await;
}

fn condition(stream: &Value, tag: &str) -> Option<Value> {
    stream["status"]["tags"]
        .as_array()?
        .iter()
        .find(|t| t["tag"] == tag)?["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "ImportSuccess")
        .cloned()
}

#[tokio::test]
async fn importing_one_tag_creates_the_stream_with_the_image_and_its_metadata() {
    let registry = Registry::start().await;
    let (digest, _) = registry
        .push_image("demo/app", "v1", &ImageSpec::new("one"))
        .await;
    let app = TestApp::start_with_config(config_allowing(&registry.addr, 900)).await;
    app.create_project("demo").await;
    let from = format!("{}/demo/app:v1", registry.addr);
    let (code, body) = app
        .post(
            &paths::imagestreamimports("demo"),
            &import_one("app", &from, "stable", true),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body:#}");
    let result = &body["status"]["images"][0];
    assert_eq!(result["status"]["status"], "Success", "{result:#}");
    assert_eq!(result["tag"], "stable");
    let image = &result["image"];
    assert_eq!(image["metadata"]["name"], digest.as_str());
    assert_eq!(
        image["dockerImageManifestMediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    let meta = &image["dockerImageMetadata"];
    assert_eq!(meta["Architecture"], "amd64");
    assert_eq!(meta["Os"], "linux");
    assert_eq!(meta["Created"], "2026-01-02T03:04:05Z");
    assert!(
        meta["Config"]["Env"]
            .as_array()
            .unwrap()
            .contains(&json!("APP_CONTENT=one"))
    );
    assert_eq!(meta["Config"]["Cmd"], json!(["/bin/app", "--serve"]));
    assert_eq!(meta["Config"]["WorkingDir"], "/app");
    assert_eq!(meta["Config"]["User"], "1001");
    assert!(meta["Config"]["ExposedPorts"].get("8080/tcp").is_some());
    assert_eq!(
        meta["Config"]["Labels"]["org.opencontainers.image.title"],
        "one"
    );
    let layers = image["dockerImageLayers"].as_array().unwrap();
    assert_eq!(layers.len(), 2);
    assert!(layers.iter().all(|l| l["size"].as_u64().unwrap() >= 1536));
    let layer_sum: u64 = layers.iter().map(|l| l["size"].as_u64().unwrap()).sum();
    assert!(
        meta["Size"].as_u64().unwrap() > layer_sum,
        "layers plus config"
    );

    // The stream now exists with the spec tag and one history item, pullable by digest.
    let stream = &body["status"]["import"];
    assert_eq!(stream["spec"]["tags"][0]["from"]["name"], from.as_str());
    assert_eq!(history(stream, "stable"), std::slice::from_ref(&digest));
    assert_eq!(
        stream["status"]["tags"][0]["items"][0]["dockerImageReference"],
        format!("{}/demo/app@{digest}", registry.addr)
    );
    // The stream tag answers the whole image.
    let (code, ist) = app
        .get(&paths::imagestreamtag("demo", "app", "stable"))
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(
        ist["image"]["dockerImageMetadata"]["Config"]["User"],
        "1001"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_preview_saves_nothing_and_a_repository_import_takes_every_tag() {
    let registry = Registry::start().await;
    let (v1, _) = registry
        .push_image("demo/app", "v1", &ImageSpec::new("one"))
        .await;
    let (v2, _) = registry
        .push_image("demo/app", "v2", &ImageSpec::new("two"))
        .await;
    registry
        .push_image("demo/app", "latest", &ImageSpec::new("two"))
        .await;
    let app = TestApp::start_with_config(config_allowing(&registry.addr, 900)).await;
    app.create_project("demo").await;

    let from = format!("{}/demo/app:v1", registry.addr);
    let (code, body) = app
        .post(
            &paths::imagestreamimports("demo"),
            &import_one("preview", &from, "v1", false),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body:#}");
    assert_eq!(
        body["status"]["images"][0]["image"]["metadata"]["name"],
        v1.as_str()
    );
    assert!(body["status"].get("import").is_none());
    let (code, _) = app.get(&paths::imagestream("demo", "preview")).await;
    assert_eq!(code, StatusCode::NOT_FOUND, "a preview creates no stream");

    let request = json!({
        "kind": "ImageStreamImport", "apiVersion": "image.openshift.io/v1",
        "metadata": {"name": "app"},
        "spec": {"import": true, "repository": {"from": {"kind": "DockerImage", "name": format!("{}/demo/app", registry.addr)}}}
    });
    let (code, body) = app.post(&paths::imagestreamimports("demo"), &request).await;
    assert_eq!(code, StatusCode::CREATED, "{body:#}");
    let repo = &body["status"]["repository"];
    assert_eq!(repo["status"]["status"], "Success");
    let tags: Vec<&str> = repo["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["tag"].as_str().unwrap())
        .collect();
    assert_eq!(tags, ["latest", "v1", "v2"]);
    let stream = &body["status"]["import"];
    assert_eq!(history(stream, "v1"), [v1]);
    assert_eq!(history(stream, "v2"), std::slice::from_ref(&v2));
    assert_eq!(history(stream, "latest"), [v2], "same image, shared");
    app.stop().await;
}

#[tokio::test]
async fn manifest_lists_resolve_to_amd64_or_stay_whole() {
    let registry = Registry::start().await;
    let children = [
        ImageSpec::new("x86").platform("amd64", None),
        ImageSpec::new("arm").platform("arm64", Some("v8")),
    ];
    let (oci_list, oci_children) = registry
        .push_list("demo/multi", "oci", &children, false)
        .await;
    let (docker_list, docker_children) = registry
        .push_list("demo/multi", "docker", &children, true)
        .await;
    let app = TestApp::start_with_config(config_allowing(&registry.addr, 900)).await;
    app.create_project("demo").await;
    for (tag, list, kids, list_type) in [
        (
            "oci",
            &oci_list,
            &oci_children,
            "application/vnd.oci.image.index.v1+json",
        ),
        (
            "docker",
            &docker_list,
            &docker_children,
            "application/vnd.docker.distribution.manifest.list.v2+json",
        ),
    ] {
        let from = format!("{}/demo/multi:{tag}", registry.addr);
        let (code, body) = app
            .post(
                &paths::imagestreamimports("demo"),
                &import_one("multi", &from, tag, true),
            )
            .await;
        assert_eq!(code, StatusCode::CREATED, "{body:#}");
        let image = &body["status"]["images"][0]["image"];
        assert_eq!(
            image["metadata"]["name"],
            kids[0].as_str(),
            "Legacy takes linux/amd64"
        );
        assert_eq!(image["dockerImageMetadata"]["Architecture"], "amd64");

        let mut preserve = import_one("multi-whole", &from, tag, true);
        preserve["spec"]["images"][0]["importPolicy"] = json!({"importMode": "PreserveOriginal"});
        let (code, body) = app
            .post(&paths::imagestreamimports("demo"), &preserve)
            .await;
        assert_eq!(code, StatusCode::CREATED, "{body:#}");
        let result = &body["status"]["images"][0];
        assert_eq!(result["image"]["metadata"]["name"], list.as_str());
        assert_eq!(result["image"]["dockerImageManifestMediaType"], list_type);
        let platforms: Vec<String> = result["image"]["dockerImageManifests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                format!(
                    "{}/{}{}",
                    m["os"].as_str().unwrap(),
                    m["architecture"].as_str().unwrap(),
                    m["variant"]
                        .as_str()
                        .map(|v| format!("/{v}"))
                        .unwrap_or_default()
                )
            })
            .collect();
        assert_eq!(platforms, ["linux/amd64", "linux/arm64/v8"]);
        assert_eq!(result["manifests"].as_array().unwrap().len(), 2);
        assert_eq!(
            result["manifests"][1]["dockerImageMetadata"]["Architecture"],
            "arm64"
        );
        assert_eq!(
            history(&body["status"]["import"], tag),
            std::slice::from_ref(list)
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_docker_schema2_image_imports_with_its_media_type() {
    let registry = Registry::start().await;
    let (digest, _) = registry
        .push_image("demo/legacy", "1.0", &ImageSpec::new("old").docker())
        .await;
    let app = TestApp::start_with_config(config_allowing(&registry.addr, 900)).await;
    app.create_project("demo").await;
    let from = format!("{}/demo/legacy:1.0", registry.addr);
    let (_, body) = app
        .post(
            &paths::imagestreamimports("demo"),
            &import_one("legacy", &from, "1.0", true),
        )
        .await;
    let image = &body["status"]["images"][0]["image"];
    assert_eq!(
        image["metadata"]["name"],
        digest.as_str(),
        "the stored digest, not a schema1 rewrite"
    );
    assert_eq!(
        image["dockerImageManifestMediaType"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    app.stop().await;
}

#[tokio::test]
async fn spec_tags_are_imported_in_the_background_and_aliases_follow_them() {
    let registry = Registry::start().await;
    let (digest, _) = registry
        .push_image("demo/app", "v1", &ImageSpec::new("one"))
        .await;
    let app = TestApp::start_with_config(config_allowing(&registry.addr, 900)).await;
    app.create_project("demo").await;
    let stream = json!({
        "metadata": {"name": "app"},
        "spec": {"tags": [
            {"name": "v1", "from": {"kind": "DockerImage", "name": format!("{}/demo/app:v1", registry.addr)}},
            {"name": "current", "from": {"kind": "ImageStreamTag", "name": "v1"}},
            {"name": "missing", "from": {"kind": "DockerImage", "name": format!("{}/demo/app:nope", registry.addr)}}
        ]}
    });
    let (code, body) = app.post(&paths::imagestreams("demo"), &stream).await;
    assert_eq!(code, StatusCode::CREATED, "{body:#}");
    let stream = wait_for_stream(&app, "demo", "app", |s| {
        history(s, "current").len() == 1 && condition(s, "missing").is_some()
    })
    .await;
    assert_eq!(history(&stream, "v1"), std::slice::from_ref(&digest));
    assert_eq!(history(&stream, "current"), [digest]);
    let failed = condition(&stream, "missing").unwrap();
    assert_eq!(failed["status"], "False");
    assert_eq!(failed["reason"], "NotFound");
    assert!(
        failed["message"].as_str().unwrap().contains("nope"),
        "{failed:#}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_scheduled_tag_follows_upstream_and_an_unchanged_check_is_one_head() {
    let registry = Registry::start().await;
    let (first, _) = registry
        .push_image("demo/app", "latest", &ImageSpec::new("one"))
        .await;
    let app = TestApp::start_with_config(config_allowing(&registry.addr, 1)).await;
    follow_scheduled(&app, &registry.addr).await;

    // Unchanged upstream: each check is a single HEAD of the manifest and nothing else.
    // Each end of the window is one read of the log, so both counts cover the same requests.
    let head = "\"HEAD /v2/demo/app/manifests/latest";
    let before = registry.log_now();
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let after = registry.log_now();
    let heads = after.requests(head) - before.requests(head);
    let all = after.by_tagstream() - before.by_tagstream();
    assert!(
        (2..=5).contains(&heads),
        "about one HEAD per second, got {heads}"
    );
    assert_eq!(all, heads, "an unchanged check sends nothing but the HEAD");

    // The stream tag says when the tag was last checked.
    let (_, ist) = app
        .get(&paths::imagestreamtag("demo", "app", "latest"))
        .await;
    let checked = ist["metadata"]["annotations"]["tagstream.io/last-checked"]
        .as_str()
        .unwrap_or_default();
    assert!(checked.ends_with('Z'), "last checked: {ist:#}");

    // Upstream moves: a new history item goes to the front, the old one stays.
    let (second, _) = registry
        .push_image("demo/app", "latest", &ImageSpec::new("two"))
        .await;
    let stream = wait_for_stream(&app, "demo", "app", |s| history(s, "latest").len() == 2).await;
    assert_eq!(history(&stream, "latest"), [second, first]);
    app.stop().await;
}

#[tokio::test]
async fn a_failed_check_keeps_the_image_and_the_tag_recovers() {
    let registry = Registry::start().await;
    let (digest, _) = registry
        .push_image("demo/app", "latest", &ImageSpec::new("one"))
        .await;
    let app = TestApp::start_with_config(config_allowing(&registry.addr, 1)).await;
    follow_scheduled(&app, &registry.addr).await;

    registry.delete_manifest("demo/app", &digest).await;
    let stream = wait_for_stream(&app, "demo", "app", |s| condition(s, "latest").is_some()).await;
    assert_eq!(
        history(&stream, "latest"),
        std::slice::from_ref(&digest),
        "the current image stays"
    );
    assert_eq!(condition(&stream, "latest").unwrap()["reason"], "NotFound");

    // Back upstream (the same content has the same digest): the retry clears the condition.
    registry
        .push_image("demo/app", "latest", &ImageSpec::new("one"))
        .await;
    let stream = wait_for_stream(&app, "demo", "app", |s| condition(s, "latest").is_none()).await;
    assert_eq!(history(&stream, "latest"), [digest]);
    app.stop().await;
}

#[tokio::test]
async fn unlisted_registries_are_refused_without_sending_them_anything() {
    let registry = Registry::start().await;
    registry
        .push_image("demo/app", "v1", &ImageSpec::new("one"))
        .await;
    let other = Registry::start().await;
    other
        .push_image("demo/app", "v1", &ImageSpec::new("one"))
        .await;
    let app = TestApp::start_with_config(config_allowing(&registry.addr, 900)).await;
    app.create_project("demo").await;
    let port = registry.addr.rsplit(':').next().unwrap();
    for from in [
        format!("{}/demo/app:v1", other.addr),
        format!("localhost:{port}/demo/app:v1"),
        "docker.io/library/ruby:3.3".to_owned(),
    ] {
        let (code, body) = app
            .post(
                &paths::imagestreamimports("demo"),
                &import_one("app", &from, "v1", false),
            )
            .await;
        assert_eq!(code, StatusCode::CREATED, "{body:#}");
        let status = &body["status"]["images"][0]["status"];
        assert_eq!(status["status"], "Failure", "{from}");
        assert_eq!(status["reason"], "Forbidden", "{from}");
        assert!(
            status["message"].as_str().unwrap().contains("not allowed"),
            "{status:#}"
        );
    }
    assert_eq!(other.requests_from_tagstream(), 0);
    // `localhost:{port}` is this registry under another name: the log records addresses, not
    // names, so "nothing by that name" is "nothing at all" (nothing here imports from it).
    assert_eq!(registry.requests_from_tagstream(), 0);
    app.stop().await;
}

#[tokio::test]
async fn bad_import_requests_are_invalid_with_the_field() {
    let registry = Registry::start().await;
    let app = TestApp::start_with_config(config_allowing(&registry.addr, 900)).await;
    app.create_project("demo").await;
    let mut bad = import_one("app", "Not A Reference", "v1", true);
    bad["spec"]["images"][0]["importPolicy"] = json!({"importMode": "Sometimes"});
    bad["spec"]["images"]
        .as_array_mut()
        .unwrap()
        .push(json!({"from": {"kind": "ImageStreamTag", "name": "x:y"}}));
    let (code, body) = app.post(&paths::imagestreamimports("demo"), &bad).await;
    let status = assert_status(body, StatusCode::UNPROCESSABLE_ENTITY, "Invalid");
    let fields: Vec<String> = status
        .details
        .unwrap()
        .causes
        .into_iter()
        .filter_map(|c| c.field)
        .collect();
    assert!(
        fields.contains(&"spec.images[0].from.name".to_owned()),
        "{fields:?}"
    );
    assert!(
        fields.contains(&"spec.images[0].importPolicy.importMode".to_owned()),
        "{fields:?}"
    );
    assert!(
        fields.contains(&"spec.images[1].from.kind".to_owned()),
        "{fields:?}"
    );
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    let (code, _) = app.get(&paths::imagestream("demo", "app")).await;
    assert_eq!(code, StatusCode::NOT_FOUND, "nothing written");
    app.stop().await;
}

#[tokio::test]
async fn registry_faults_leave_the_image_and_a_condition_until_they_pass() {
    use crate::faults::{Fault, FaultProxy};
    let registry = Registry::start().await;
    let proxy = FaultProxy::start(&registry.addr).await;
    let (mut current, _) = registry
        .push_image("demo/app", "latest", &ImageSpec::new("start"))
        .await;
    let mut config = Config {
        registries: vec![registry_entry(&proxy.addr, true)],
        ..Config::default()
    };
    config.import.schedule_interval_seconds = 1;
    config.import.request_timeout_seconds = 2;
    let app = TestApp::start_with_config(config).await;
    follow_scheduled(&app, &proxy.addr).await;

    for (fault, method, needle, reason) in [
        (
            Fault::Status500,
            "HEAD",
            "/manifests/",
            "ServiceUnavailable",
        ),
        (
            Fault::TooManyRequests,
            "HEAD",
            "/manifests/",
            "TooManyRequests",
        ),
        (Fault::Reset, "HEAD", "/manifests/", "ServiceUnavailable"),
        (Fault::Stall, "HEAD", "/manifests/", "Timeout"),
        (
            Fault::Truncate,
            "GET",
            "/manifests/sha256:",
            "ServiceUnavailable",
        ),
        (
            Fault::Oversized,
            "GET",
            "/manifests/sha256:",
            "RequestEntityTooLarge",
        ),
        (Fault::Truncate, "GET", "/blobs/", "ServiceUnavailable"),
        (Fault::Corrupt, "GET", "/manifests/sha256:", "InternalError"),
        (Fault::Corrupt, "GET", "/blobs/", "InternalError"),
    ] {
        let label = format!("{fault:?} on {method} {needle}");
        proxy.set(fault, method, needle);
        let (next, _) = registry
            .push_image("demo/app", "latest", &ImageSpec::new(&label))
            .await;
        let stream = wait_for_stream(&app, "demo", "app", |s| {
            condition(s, "latest").is_some_and(|c| c["reason"] == reason)
        })
        .await;
        assert_eq!(
            history(&stream, "latest")[0],
            current,
            "{label}: the image stays"
        );
        proxy.clear();
        let stream = wait_for_stream(&app, "demo", "app", |s| {
            history(s, "latest").first() == Some(&next) && condition(s, "latest").is_none()
        })
        .await;
        assert_eq!(history(&stream, "latest")[1], current, "{label}: recovered");
        current = next;
    }
    app.stop().await;
}

fn registry_entry(addr: &str, insecure: bool) -> RegistryConfig {
    RegistryConfig {
        domain: addr.to_owned(),
        insecure,
        username: None,
        password_file: None,
        ca_file: None,
    }
}

async fn import_status(app: &TestApp, from: &str) -> Value {
    let (code, body) = app
        .post(
            &paths::imagestreamimports("demo"),
            &import_one("app", from, "v1", false),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body:#}");
    body["status"]["images"][0].clone()
}

#[tokio::test]
async fn basic_auth_uses_the_configured_credentials_and_refuses_without_them() {
    use crate::registry::Options;
    let password = "s3cret-registry-password";
    let registry = Registry::start_with(Options {
        basic: Some(("robot".into(), password.into())),
        tls: false,
    })
    .await;
    let (digest, _) = registry
        .push_image("demo/app", "v1", &ImageSpec::new("one"))
        .await;
    let from = format!("{}/demo/app:v1", registry.addr);
    let secrets = tempfile::tempdir().unwrap();
    let password_file = secrets.path().join("password");
    std::fs::write(&password_file, format!("{password}\n")).unwrap();

    let anonymous = TestApp::start_with_config(Config {
        registries: vec![registry_entry(&registry.addr, true)],
        ..Config::default()
    })
    .await;
    anonymous.create_project("demo").await;
    let result = import_status(&anonymous, &from).await;
    assert_eq!(result["status"]["reason"], "Unauthorized", "{result:#}");
    anonymous.stop().await;

    let mut entry = registry_entry(&registry.addr, true);
    entry.username = Some("robot".into());
    entry.password_file = Some(password_file);
    let app = TestApp::start_with_config(Config {
        registries: vec![entry],
        ..Config::default()
    })
    .await;
    app.create_project("demo").await;
    let result = import_status(&app, &from).await;
    assert_eq!(result["status"]["status"], "Success", "{result:#}");
    assert_eq!(result["image"]["metadata"]["name"], digest.as_str());
    assert!(!result.to_string().contains(password));
    app.stop().await;
}

#[tokio::test]
async fn tls_registries_need_their_ca_unless_marked_insecure() {
    use crate::registry::Options;
    let registry = Registry::start_with(Options {
        basic: None,
        tls: true,
    })
    .await;
    let (digest, _) = registry
        .push_image("demo/app", "v1", &ImageSpec::new("one"))
        .await;
    let from = format!("{}/demo/app:v1", registry.addr);
    let ca = registry.ca_file.clone().unwrap();

    let mut with_ca = registry_entry(&registry.addr, false);
    with_ca.ca_file = Some(ca);
    for (entry, ok) in [
        (with_ca, true),
        (registry_entry(&registry.addr, false), false),
        (registry_entry(&registry.addr, true), true),
    ] {
        let label = format!(
            "ca {:?}, insecure {}",
            entry.ca_file.is_some(),
            entry.insecure
        );
        let app = TestApp::start_with_config(Config {
            registries: vec![entry],
            ..Config::default()
        })
        .await;
        app.create_project("demo").await;
        let result = import_status(&app, &from).await;
        if ok {
            assert_eq!(result["status"]["status"], "Success", "{label}: {result:#}");
            assert_eq!(result["image"]["metadata"]["name"], digest.as_str());
        } else {
            assert_eq!(
                result["status"]["reason"], "ServiceUnavailable",
                "{label}: {result:#}"
            );
            let message = result["status"]["message"].as_str().unwrap().to_lowercase();
            assert!(message.contains("certificate"), "{label}: {message}");
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn credentials_appear_in_no_response_and_no_log_line() {
    use std::process::{Command, Stdio};

    use crate::registry::Options;
    let password = "never-show-this-password";
    let registry = Registry::start_with(Options {
        basic: Some(("robot".into(), password.into())),
        tls: false,
    })
    .await;
    registry
        .push_image("demo/app", "v1", &ImageSpec::new("one"))
        .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("password"), password).unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        format!(
            "[[registries]]\ndomain = \"{}\"\ninsecure = true\nusername = \"robot\"\npassword_file = \"{}\"\n",
            registry.addr,
            dir.path().join("password").display()
        ),
    )
    .unwrap();
    // Port 0: the server binds a free port itself and prints it (a port picked here and
    // released could be taken before the server binds it).
    let mut child = Command::new(env!("CARGO_BIN_EXE_tagstream"))
        .args(["serve", "--listen", "127.0.0.1:0", "--dist", "/nonexistent"])
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--config")
        .arg(dir.path().join("config.toml"))
        .env("RUST_LOG", "trace")
        .env(
            "TAGSTREAM_BOOTSTRAP_ADMIN_TOKEN",
            crate::support::ADMIN_TOKEN,
        )
        .stdout(Stdio::from(
            std::fs::File::create(dir.path().join("out.log")).unwrap(),
        ))
        .stderr(Stdio::from(
            std::fs::File::create(dir.path().join("err.log")).unwrap(),
        ))
        .spawn()
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let base = loop {
        let out = std::fs::read_to_string(dir.path().join("out.log")).unwrap_or_default();
        if let Some(url) = out
            .lines()
            .find_map(|l| l.strip_prefix("tagstream is serving on "))
        {
            break url.trim().trim_end_matches('/').to_owned();
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the server exited: {out}"
        );
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server never said where it serves: {out}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let client = crate::support::client_with_token(crate::support::ADMIN_TOKEN);
    let mut bodies = Vec::new();
    let r = client
        .post(format!("{base}{}", paths::PROJECTS))
        .json(&json!({"metadata": {"name": "demo"}}))
        .send()
        .await
        .unwrap();
    bodies.push(r.text().await.unwrap());
    let from = format!("{}/demo/app:v1", registry.addr);
    let r = client
        .post(format!("{base}{}", paths::imagestreamimports("demo")))
        .json(&import_one("app", &from, "v1", true))
        .send()
        .await
        .unwrap();
    let body = r.text().await.unwrap();
    assert!(body.contains("\"Success\""), "{body}");
    bodies.push(body);
    for path in [
        paths::imagestream("demo", "app"),
        paths::imagestreamtag("demo", "app", "v1"),
    ] {
        bodies.push(
            client
                .get(format!("{base}{path}"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        );
    }
    let _ = child.kill();
    let _ = child.wait();
    let logs = std::fs::read_to_string(dir.path().join("err.log")).unwrap()
        + &std::fs::read_to_string(dir.path().join("out.log")).unwrap();
    assert!(
        logs.lines().count() > 5,
        "trace logging produced output: {logs}"
    );
    // The password, and the Basic header value it travels in (base64 of robot:password).
    let basic = "cm9ib3Q6bmV2ZXItc2hvdy10aGlzLXBhc3N3b3Jk";
    for text in bodies.iter().chain(std::iter::once(&logs)) {
        assert!(
            !text.contains(password) && !text.contains(basic),
            "a secret leaked: {text}"
        );
    }
}

#[tokio::test]
async fn stream_images_answer_by_digest_or_unique_prefix_with_their_metadata() {
    let registry = Registry::start().await;
    let children = [
        ImageSpec::new("x86").platform("amd64", None),
        ImageSpec::new("arm").platform("arm64", Some("v8")),
    ];
    let (list, kids) = registry
        .push_list("demo/multi", "latest", &children, false)
        .await;
    let app = TestApp::start_with_config(config_allowing(&registry.addr, 900)).await;
    app.create_project("demo").await;
    let mut request = import_one(
        "multi",
        &format!("{}/demo/multi:latest", registry.addr),
        "latest",
        true,
    );
    request["spec"]["images"][0]["importPolicy"] = json!({"importMode": "PreserveOriginal"});
    let (code, body) = app.post(&paths::imagestreamimports("demo"), &request).await;
    assert_eq!(code, StatusCode::CREATED, "{body:#}");

    let (code, isi) = app
        .get(&paths::imagestreamimage("demo", "multi", &list[..15]))
        .await;
    assert_eq!(code, StatusCode::OK, "{isi:#}");
    assert_eq!(isi["kind"], "ImageStreamImage");
    assert_eq!(isi["metadata"]["name"], format!("multi@{list}"));
    assert_eq!(
        isi["image"]["dockerImageManifests"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // A platform's child of a list in the stream is an image of the stream too.
    let (code, child) = app
        .get(&paths::imagestreamimage("demo", "multi", &kids[1]))
        .await;
    assert_eq!(code, StatusCode::OK, "{child:#}");
    assert_eq!(
        child["image"]["dockerImageMetadata"]["Architecture"],
        "arm64"
    );
    assert_eq!(child["image"]["dockerImageMetadata"]["Variant"], "v8");

    // Two digests with the same first hex digits: a short prefix is ambiguous.
    let a = format!("sha256:abcd{}", "1".repeat(60));
    let b = format!("sha256:abcd{}", "2".repeat(60));
    let (_, mut stream) = app.get(&paths::imagestream("demo", "multi")).await;
    stream["status"]["tags"][0]["items"] = json!([
        {"created": "2026-01-02T00:00:00Z", "dockerImageReference": format!("x.io/a@{a}"), "image": a, "generation": 1},
        {"created": "2026-01-01T00:00:00Z", "dockerImageReference": format!("x.io/a@{b}"), "image": b, "generation": 1}
    ]);
    let (code, body) = app
        .put(&paths::imagestream_status("demo", "multi"), &stream)
        .await;
    assert_eq!(code, StatusCode::OK, "{body:#}");
    let (code, body) = app
        .get(&paths::imagestreamimage("demo", "multi", "sha256:abcd"))
        .await;
    let status = assert_status(body, StatusCode::CONFLICT, "Conflict");
    assert!(
        status.message.contains(&a) && status.message.contains(&b),
        "{}",
        status.message
    );
    assert_eq!(code, StatusCode::CONFLICT);
    let (code, body) = app
        .get(&paths::imagestreamimage("demo", "multi", "sha256:abcd2"))
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(body["image"]["metadata"]["name"], b.as_str());
    let (code, body) = app
        .get(&paths::imagestreamimage("demo", "multi", "sha256:ffff"))
        .await;
    assert_status(body, StatusCode::NOT_FOUND, "NotFound");
    assert_eq!(code, StatusCode::NOT_FOUND);
    let (code, body) = app
        .get(&paths::imagestreamimage("demo", "multi", "nonsense"))
        .await;
    assert_status(body, StatusCode::BAD_REQUEST, "BadRequest");
    assert_eq!(code, StatusCode::BAD_REQUEST);
    app.stop().await;
}

#[tokio::test]
async fn anonymous_bearer_tokens_are_fetched_once_per_scope_and_reused() {
    use std::sync::atomic::Ordering;
    let mut registry = Registry::start().await;
    let (v1, _) = registry
        .push_image("demo/app", "v1", &ImageSpec::new("one"))
        .await;
    let (v2, _) = registry
        .push_image("demo/app", "v2", &ImageSpec::new("two"))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let token = crate::token::TokenServer::start(dir.path()).await;
    registry
        .restart_with_token(&token.realm, &token.service, &token.issuer, &token.cert)
        .await;

    // The token realm is on loopback too, so it is listed by its exact address.
    let app = TestApp::start_with_config(Config {
        registries: vec![
            registry_entry(&registry.addr, true),
            registry_entry(&token.addr, true),
        ],
        ..Config::default()
    })
    .await;
    app.create_project("demo").await;
    for (tag, digest) in [("v1", &v1), ("v2", &v2), ("v1", &v1)] {
        let result = import_status(&app, &format!("{}/demo/app:{tag}", registry.addr)).await;
        assert_eq!(result["status"]["status"], "Success", "{result:#}");
        assert_eq!(result["image"]["metadata"]["name"], digest.as_str());
    }
    assert_eq!(
        token.requests.load(Ordering::SeqCst),
        1,
        "one token for the repository's pull scope"
    );
    assert!(registry.requests("401") >= 1, "the registry did challenge");
    app.stop().await;

    // Without the realm's address listed, the token request is refused before it is sent.
    let app = TestApp::start_with_config(Config {
        registries: vec![registry_entry(&registry.addr, true)],
        ..Config::default()
    })
    .await;
    app.create_project("demo").await;
    let result = import_status(&app, &format!("{}/demo/app:v1", registry.addr)).await;
    assert_eq!(result["status"]["reason"], "Forbidden", "{result:#}");
    assert_eq!(token.requests.load(Ordering::SeqCst), 1);
    app.stop().await;
}
