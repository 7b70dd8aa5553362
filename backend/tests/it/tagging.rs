//! Tagging as `oc tag` does it, through ImageStreamTag writes: aliases that follow their source
//! (also from another project), pins to one image (a unique digest prefix accepted), revert as a
//! new history item, removal, the history limit, and concurrent edits that lose nothing.

#![expect(clippy::unwrap_used, reason = "a test that cannot proceed has failed")]

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tagstream_backend::config::Config;
use tagstream_shared::paths;

use crate::support::{TestApp, assert_status};

fn digest(c: char) -> String {
    format!("sha256:{}", c.to_string().repeat(64))
}

fn tag_body(from_kind: &str, from_name: &str, namespace: Option<&str>) -> Value {
    let mut from = json!({"kind": from_kind, "name": from_name});
    if let Some(ns) = namespace {
        from["namespace"] = json!(ns);
    }
    json!({"kind": "ImageStreamTag", "apiVersion": "image.openshift.io/v1", "tag": {"from": from}})
}

/// Writes `images` (newest first) as the history of `ns/stream:tag` through the status
/// subresource, as an import would.
async fn set_history(app: &TestApp, ns: &str, stream: &str, tag: &str, images: &[String]) {
    // The worker writes the stream too (its made-up DockerImage source cannot be imported):
    // read, modify, write, and on 409 read again, as any client does.
    for _ in 0..50 {
        if try_set_history(app, ns, stream, tag, images).await {
            return;
        }
    }
    panic!("{ns}/{stream}: the history write kept conflicting");
}

async fn try_set_history(
    app: &TestApp,
    ns: &str,
    stream: &str,
    tag: &str,
    images: &[String],
) -> bool {
    let (code, mut s) = app.get(&paths::imagestream(ns, stream)).await;
    assert_eq!(code, StatusCode::OK, "{s:#}");
    let items: Vec<Value> = images
        .iter()
        .enumerate()
        .map(|(i, d)| json!({"created": format!("2026-01-{:02}T00:00:00Z", 28 - i), "dockerImageReference": format!("quay.io/demo/{stream}@{d}"), "image": d, "generation": 1}))
        .collect();
    let mut tags: Vec<Value> = s["status"]["tags"].as_array().cloned().unwrap_or_default();
    tags.retain(|t| t["tag"] != tag);
    tags.push(json!({"tag": tag, "items": items}));
    s["status"] = json!({"dockerImageRepository": "", "tags": tags});
    let (code, body) = app.put(&paths::imagestream_status(ns, stream), &s).await;
    match code {
        StatusCode::OK => true,
        StatusCode::CONFLICT => false,
        other => panic!("{other}: {body:#}"),
    }
}

fn history(stream: &Value, tag: &str) -> Vec<String> {
    stream["status"]["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["tag"] == tag)
        .flat_map(|t| t["items"].as_array().cloned().unwrap_or_default())
        .map(|i| i["image"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn wait_for_history(
    app: &TestApp,
    ns: &str,
    stream: &str,
    tag: &str,
    want: &[String],
) -> Value {
    let mut last = Value::Null;
    let deadline = std::time::Instant::now() + crate::support::PATIENCE;
    while std::time::Instant::now() < deadline {
        let (code, s) = app.get(&paths::imagestream(ns, stream)).await;
        assert_eq!(code, StatusCode::OK, "{s:#}");
        if history(&s, tag) == want {
            return s;
        }
        last = s;
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{ns}/{stream}:{tag} never had history {want:?}; last {last:#}");
}

async fn app_with_source() -> TestApp {
    let app = TestApp::start_with_config(Config::default()).await;
    app.create_project("demo").await;
    let (code, body) = app
        .post(
            &paths::imagestreams("demo"),
            &json!({"metadata": {"name": "app"}, "spec": {"tags": [
                {"name": "source", "from": {"kind": "DockerImage", "name": "quay.io/demo/app:source"}}]}}),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body:#}");
    set_history(&app, "demo", "app", "source", &[digest('a')]).await;
    app
}

#[tokio::test]
async fn a_followed_tag_moves_with_its_source_and_a_pinned_one_stays() {
    let app = app_with_source().await;
    let (code, body) = app
        .put(
            &paths::imagestreamtag("demo", "app", "alias"),
            &tag_body("ImageStreamTag", "source", None),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body:#}");
    assert_eq!(body["kind"], "ImageStreamTag");
    // Pinned by a unique digest prefix, as the console's "pin" writes it.
    let (code, body) = app
        .put(
            &paths::imagestreamtag("demo", "app", "pinned"),
            &tag_body(
                "ImageStreamImage",
                &format!("app@{}", &digest('a')[..14]),
                None,
            ),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body:#}");
    wait_for_history(&app, "demo", "app", "alias", &[digest('a')]).await;
    wait_for_history(&app, "demo", "app", "pinned", &[digest('a')]).await;

    // The source moves: the alias follows with a new item, the pin does not.
    set_history(&app, "demo", "app", "source", &[digest('b'), digest('a')]).await;
    let s = wait_for_history(&app, "demo", "app", "alias", &[digest('b'), digest('a')]).await;
    assert_eq!(history(&s, "pinned"), [digest('a')]);

    // Another project follows it too.
    app.create_project("other").await;
    let (code, body) = app
        .put(
            &paths::imagestreamtag("other", "mirror", "latest"),
            &tag_body("ImageStreamTag", "app:source", Some("demo")),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body:#}");
    wait_for_history(&app, "other", "mirror", "latest", &[digest('b')]).await;
    app.stop().await;
}

#[tokio::test]
async fn revert_adds_an_item_and_keeps_the_old_ones() {
    let app = app_with_source().await;
    // `prod` is reverted below; `watch` keeps following the source, to show when it has moved.
    for tag in ["prod", "watch"] {
        let (code, body) = app
            .put(
                &paths::imagestreamtag("demo", "app", tag),
                &tag_body("ImageStreamTag", "source", None),
            )
            .await;
        assert_eq!(code, StatusCode::CREATED, "{body:#}");
    }
    set_history(&app, "demo", "app", "source", &[digest('b'), digest('a')]).await;
    wait_for_history(&app, "demo", "app", "prod", &[digest('b'), digest('a')]).await;

    // Revert prod to the earlier image: pin it there.
    let (code, body) = app
        .put(
            &paths::imagestreamtag("demo", "app", "prod"),
            &tag_body("ImageStreamImage", &format!("app@{}", digest('a')), None),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{body:#}");
    // The answer already shows it: the earlier image is current again, as a new item.
    let items: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["image"].as_str().unwrap())
        .collect();
    assert_eq!(items, [digest('a'), digest('b'), digest('a')]);
    // And it stays: the source moves on, a tag following it moves too, and the pin does not.
    set_history(
        &app,
        "demo",
        "app",
        "source",
        &[digest('c'), digest('b'), digest('a')],
    )
    .await;
    let s = wait_for_history(
        &app,
        "demo",
        "app",
        "watch",
        &[digest('c'), digest('b'), digest('a')],
    )
    .await;
    assert_eq!(
        history(&s, "prod"),
        [digest('a'), digest('b'), digest('a')],
        "the pin followed the source"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_history_keeps_the_configured_number_of_items() {
    let mut config = Config::default();
    config.import.history_limit = 3;
    let app = TestApp::start_with_config(config).await;
    app.create_project("demo").await;
    let (code, body) = app
        .post(
            &paths::imagestreams("demo"),
            &json!({"metadata": {"name": "app"}, "spec": {"tags": [
                {"name": "source", "from": {"kind": "DockerImage", "name": "quay.io/demo/app:source"}},
                {"name": "alias", "from": {"kind": "ImageStreamTag", "name": "source"}}]}}),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body:#}");
    let mut seen = Vec::new();
    for c in ['a', 'b', 'c', 'd', 'e'] {
        seen.insert(0, digest(c));
        set_history(&app, "demo", "app", "source", &[digest(c)]).await;
        let want: Vec<String> = seen.iter().take(3).cloned().collect();
        wait_for_history(&app, "demo", "app", "alias", &want).await;
    }
    app.stop().await;
}

#[tokio::test]
async fn tags_are_created_once_refused_when_invalid_and_removed_whole() {
    let app = app_with_source().await;
    let mut body = tag_body("ImageStreamTag", "source", None);
    body["metadata"] = json!({"name": "app:copy"});
    let (code, created) = app
        .post(
            "/apis/image.openshift.io/v1/namespaces/demo/imagestreamtags",
            &body,
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{created:#}");
    let (code, again) = app
        .post(
            "/apis/image.openshift.io/v1/namespaces/demo/imagestreamtags",
            &body,
        )
        .await;
    assert_status(again, StatusCode::CONFLICT, "AlreadyExists");
    assert_eq!(code, StatusCode::CONFLICT);

    let (code, bad) = app
        .put(
            &paths::imagestreamtag("demo", "app", "broken"),
            &tag_body("DockerImage", "Not A Ref", None),
        )
        .await;
    let status = assert_status(bad, StatusCode::UNPROCESSABLE_ENTITY, "Invalid");
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = status
        .details
        .unwrap()
        .causes
        .into_iter()
        .filter_map(|c| c.field)
        .collect();
    assert_eq!(fields, ["tag.from.name"]);

    wait_for_history(&app, "demo", "app", "copy", &[digest('a')]).await;
    let (code, gone) = app
        .delete(&paths::imagestreamtag("demo", "app", "copy"))
        .await;
    assert_eq!(code, StatusCode::OK, "{gone:#}");
    assert_eq!(gone["status"], "Success");
    let (_, s) = app.get(&paths::imagestream("demo", "app")).await;
    assert!(
        s["spec"]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["name"] != "copy")
    );
    assert!(history(&s, "copy").is_empty(), "its history went with it");
    let (code, body) = app
        .delete(&paths::imagestreamtag("demo", "app", "copy"))
        .await;
    assert_status(body, StatusCode::NOT_FOUND, "NotFound");
    assert_eq!(code, StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn twelve_clients_making_sixty_concurrent_edits_lose_none() {
    let app = std::sync::Arc::new(app_with_source().await);
    let mut clients = Vec::new();
    for client in 0..12 {
        let app = app.clone();
        clients.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for edit in 0..5 {
                let name = format!("c{client}-e{edit}");
                if edit % 2 == 0 {
                    // Read, modify, write with the resourceVersion; on 409 read again.
                    loop {
                        let (_, mut s) = app.get(&paths::imagestream("demo", "app")).await;
                        s["spec"]["tags"].as_array_mut().unwrap().push(json!({
                            "name": name, "from": {"kind": "ImageStreamTag", "name": "source"}}));
                        let (code, body) = app.put(&paths::imagestream("demo", "app"), &s).await;
                        match code {
                            StatusCode::OK => break,
                            StatusCode::CONFLICT => continue,
                            other => panic!("{other}: {body:#}"),
                        }
                    }
                } else {
                    loop {
                        let (code, body) = app
                            .put(
                                &paths::imagestreamtag("demo", "app", &name),
                                &tag_body("ImageStreamTag", "source", None),
                            )
                            .await;
                        match code {
                            StatusCode::CREATED => break,
                            StatusCode::CONFLICT => continue,
                            other => panic!("{other}: {body:#}"),
                        }
                    }
                }
                acknowledged.push(name);
            }
            acknowledged
        }));
    }
    let mut acknowledged = Vec::new();
    for c in clients {
        acknowledged.extend(c.await.unwrap());
    }
    assert_eq!(acknowledged.len(), 60);
    let (_, s) = app.get(&paths::imagestream("demo", "app")).await;
    let names: Vec<&str> = s["spec"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    for name in &acknowledged {
        assert!(
            names.contains(&name.as_str()),
            "{name} was acknowledged but is missing"
        );
    }
    assert_eq!(names.len(), 61, "the source and the sixty edits");
}
