//! Image streams and stream tags: the full life cycle, optimistic concurrency, validation, and
//! the openshift/library files loaded as users would load them.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tagstream_shared::paths::{
    IMAGESTREAMS_ALL, imagestream, imagestream_status, imagestreams, imagestreamtag,
};
use tagstream_shared::{ImageStream, ImageStreamTag};

use crate::support::{TestApp, assert_status, decode, digest, fixtures, stream_json};

async fn app_with_project() -> TestApp {
    let app = TestApp::start().await;
    app.create_project("demo").await;
    app
}

#[tokio::test]
async fn stream_is_created_with_server_metadata_and_client_status_ignored() {
    let app = app_with_project().await;
    let mut body = stream_json("ruby", "latest", "quay.io/demo/ruby:3.3");
    body["status"] = json!({"tags": [{"tag": "latest", "items": [{"created": "2020-01-01T00:00:00Z",
        "dockerImageReference": "quay.io/x/y:1", "image": digest('a'), "generation": 1}]}]});
    let created = app.create_stream("demo", &body).await;
    assert_eq!(created.metadata.namespace.as_deref(), Some("demo"));
    assert_eq!(created.metadata.generation, Some(1));
    assert!(created.metadata.uid.is_some() && created.metadata.creation_timestamp.is_some());
    assert_eq!(created.spec.tags[0].generation, Some(1));
    assert!(
        created.status.tags.is_empty(),
        "status belongs to the server"
    );

    let (code, got) = app.get(&imagestream("demo", "ruby")).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(decode::<ImageStream>(got), created);
    app.stop().await;
}

#[tokio::test]
async fn lists_carry_kind_items_and_resource_version_per_project_and_across_projects() {
    let app = app_with_project().await;
    app.create_project("team-b").await;
    app.create_stream(
        "demo",
        &stream_json("ruby", "latest", "quay.io/demo/ruby:3.3"),
    )
    .await;
    app.create_stream(
        "demo",
        &stream_json("python", "3.12", "quay.io/demo/python:3.12"),
    )
    .await;
    app.create_stream("team-b", &stream_json("app", "v1", "ghcr.io/b/app:v1"))
        .await;

    let (code, list) = app.get(&imagestreams("demo")).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(list["kind"], "ImageStreamList");
    assert_eq!(list["apiVersion"], "image.openshift.io/v1");
    let rv: u64 = list["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    assert!(
        rv >= 5,
        "the list's version covers every write so far: {rv}"
    );
    let names = |list: &Value| -> Vec<String> {
        list["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| {
                format!(
                    "{}/{}",
                    s["metadata"]["namespace"].as_str().unwrap_or(""),
                    s["metadata"]["name"].as_str().unwrap_or("")
                )
            })
            .collect()
    };
    assert_eq!(names(&list), ["demo/python", "demo/ruby"]);
    let (_, all) = app.get(IMAGESTREAMS_ALL).await;
    assert_eq!(names(&all), ["demo/python", "demo/ruby", "team-b/app"]);

    let (_, body) = app.get(&imagestreams("no-such-project")).await;
    assert_status(body, StatusCode::NOT_FOUND, "NotFound");
    app.stop().await;
}

#[tokio::test]
async fn replace_bumps_generation_for_changed_tags_and_keeps_status() {
    let app = app_with_project().await;
    let mut stream = app
        .create_stream(
            "demo",
            &stream_json("ruby", "latest", "quay.io/demo/ruby:3.3"),
        )
        .await;
    if let Some(from) = stream.spec.tags[0].from.as_mut() {
        from.name = "quay.io/demo/ruby:3.4".into();
    }
    let mut added = stream.spec.tags[0].clone();
    added.name = "stable".into();
    added.generation = None;
    stream.spec.tags.push(added);
    let (code, body) = app
        .put(
            &imagestream("demo", "ruby"),
            &serde_json::to_value(&stream).unwrap_or_default(),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let replaced: ImageStream = decode(body);
    assert_eq!(replaced.metadata.generation, Some(2));
    let gens: Vec<_> = replaced.spec.tags.iter().map(|t| t.generation).collect();
    assert_eq!(gens, [Some(2), Some(2)]);
    assert_eq!(replaced.metadata.uid, stream.metadata.uid);
    assert_ne!(
        replaced.metadata.resource_version,
        stream.metadata.resource_version
    );
    app.stop().await;
}

#[tokio::test]
async fn stale_resource_version_is_rejected_with_409_and_changes_nothing() {
    let app = app_with_project().await;
    let original = app
        .create_stream(
            "demo",
            &stream_json("ruby", "latest", "quay.io/demo/ruby:3.3"),
        )
        .await;
    let mut first = serde_json::to_value(&original).unwrap_or_default();
    first["metadata"]["annotations"] = json!({"owner": "alice"});
    let (code, _) = app.put(&imagestream("demo", "ruby"), &first).await;
    assert_eq!(code, StatusCode::OK);

    let mut stale = serde_json::to_value(&original).unwrap_or_default();
    stale["metadata"]["annotations"] = json!({"owner": "bob"});
    let (code, body) = app.put(&imagestream("demo", "ruby"), &stale).await;
    let status = assert_status(body, code, "Conflict");
    assert_eq!(code, StatusCode::CONFLICT);
    assert!(
        status.message.contains("the object has been modified"),
        "{}",
        status.message
    );
    let (_, now) = app.get(&imagestream("demo", "ruby")).await;
    assert_eq!(now["metadata"]["annotations"]["owner"], "alice");

    let mut missing = stale.clone();
    missing["metadata"]
        .as_object_mut()
        .map(|m| m.remove("resourceVersion"));
    let (code, body) = app.put(&imagestream("demo", "ruby"), &missing).await;
    let status = assert_status(body, code, "Invalid");
    assert_eq!(status.causes_for("metadata.resourceVersion").count(), 1);
    app.stop().await;
}

#[tokio::test]
async fn two_writers_with_the_same_version_one_wins_one_gets_409() {
    let app = app_with_project().await;
    let original = app
        .create_stream(
            "demo",
            &stream_json("ruby", "latest", "quay.io/demo/ruby:3.3"),
        )
        .await;
    let path = imagestream("demo", "ruby");
    let writes = (0..8).map(|i| {
        let mut body = serde_json::to_value(&original).unwrap_or_default();
        body["metadata"]["annotations"] = json!({"writer": i.to_string()});
        let (app, path) = (&app, path.clone());
        async move { app.put(&path, &body).await }
    });
    let results = futures::future::join_all(writes).await;
    let ok = results.iter().filter(|(c, _)| *c == StatusCode::OK).count();
    let conflicts = results
        .iter()
        .filter(|(c, _)| *c == StatusCode::CONFLICT)
        .count();
    assert_eq!((ok, conflicts), (1, 7), "{results:?}");
    let winner = results
        .iter()
        .find(|(c, _)| *c == StatusCode::OK)
        .map(|(_, b)| b["metadata"]["annotations"]["writer"].clone());
    let (_, now) = app.get(&path).await;
    assert_eq!(
        Some(now["metadata"]["annotations"]["writer"].clone()),
        winner
    );
    app.stop().await;
}

#[tokio::test]
async fn merge_patch_changes_only_what_it_names() {
    let app = app_with_project().await;
    app.create_stream(
        "demo",
        &stream_json("ruby", "latest", "quay.io/demo/ruby:3.3"),
    )
    .await;
    let patch =
        json!({"metadata": {"labels": {"team": "web"}}, "spec": {"lookupPolicy": {"local": true}}});
    let (code, body) = app
        .send_raw(
            Method::PATCH,
            &imagestream("demo", "ruby"),
            "application/merge-patch+json",
            &patch.to_string(),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let patched: ImageStream = decode(body);
    assert_eq!(
        patched
            .metadata
            .labels
            .and_then(|l| l.get("team").cloned())
            .as_deref(),
        Some("web")
    );
    assert!(patched.spec.lookup_policy.local);
    assert_eq!(patched.spec.tags.len(), 1);

    let stale = json!({"metadata": {"resourceVersion": "1", "labels": {"team": "x"}}});
    let (code, body) = app
        .send_raw(
            Method::PATCH,
            &imagestream("demo", "ruby"),
            "application/merge-patch+json",
            &stale.to_string(),
        )
        .await;
    assert_eq!(code, StatusCode::CONFLICT);
    assert_status(body, code, "Conflict");
    let (code, body) = app
        .send_raw(
            Method::PATCH,
            &imagestream("demo", "ruby"),
            "application/json",
            "{}",
        )
        .await;
    assert_status(body, code, "UnsupportedMediaType");
    app.stop().await;
}

#[tokio::test]
async fn invalid_stream_is_422_with_a_cause_per_bad_field() {
    let app = app_with_project().await;
    let body = json!({"metadata": {"name": "Ruby"}, "spec": {"tags": [
        {"name": "ok", "from": {"kind": "DockerImage", "name": "quay.io/x/ruby:1"}},
        {"name": "ok", "from": {"kind": "DockerImage", "name": "Not A Reference"}},
        {"name": "-bad", "from": {"kind": "Pod", "name": "x"}},
        {"name": "ref", "referencePolicy": {"type": "Sometimes"}}
    ]}});
    let (code, body) = app.post(&imagestreams("demo"), &body).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    let status = assert_status(body, code, "Invalid");
    let fields: Vec<String> = status
        .details
        .iter()
        .flat_map(|d| &d.causes)
        .filter_map(|c| c.field.clone())
        .collect();
    assert_eq!(
        fields,
        [
            "metadata.name",
            "spec.tags[1].name",
            "spec.tags[1].from.name",
            "spec.tags[2].name",
            "spec.tags[2].from.kind",
            "spec.tags[3].referencePolicy.type",
        ]
    );
    assert!(
        status
            .message
            .starts_with("ImageStream \"Ruby\" is invalid: ["),
        "{}",
        status.message
    );
    let (_, list) = app.get(&imagestreams("demo")).await;
    assert_eq!(list["items"], json!([]));
    app.stop().await;
}

#[tokio::test]
async fn malformed_json_and_yaml_are_400_and_other_errors_are_statuses() {
    let app = app_with_project().await;
    let path = imagestreams("demo");
    for (content_type, body) in [
        ("application/json", "{\"metadata\": "),
        ("application/yaml", "metadata: [unclosed"),
        ("application/json", "{\"metadata\": {\"name\": 7}}"),
        ("application/json", "[1, 2]"),
        ("application/json", ""),
    ] {
        let (code, value) = app.send_raw(Method::POST, &path, content_type, body).await;
        let status = assert_status(value, code, "BadRequest");
        assert!(!status.message.is_empty(), "{content_type} {body}");
    }
    let (code, value) = app.send_raw(Method::POST, &path, "image/png", "x").await;
    assert_status(value, code, "UnsupportedMediaType");
    let (code, value) = app
        .post(
            &imagestreams("nowhere"),
            &stream_json("ruby", "latest", "quay.io/x/ruby:1"),
        )
        .await;
    let status = assert_status(value, code, "NotFound");
    assert!(status.message.contains("projects"), "{}", status.message);
    app.stop().await;
}

#[tokio::test]
async fn duplicate_stream_is_409_already_exists() {
    let app = app_with_project().await;
    app.create_stream(
        "demo",
        &stream_json("ruby", "latest", "quay.io/demo/ruby:3.3"),
    )
    .await;
    let (code, body) = app
        .post(
            &imagestreams("demo"),
            &stream_json("ruby", "other", "quay.io/demo/ruby:1"),
        )
        .await;
    assert_status(body, code, "AlreadyExists");
    let (_, got) = app.get(&imagestream("demo", "ruby")).await;
    assert_eq!(
        got["spec"]["tags"][0]["name"], "latest",
        "the first stream is untouched"
    );
    app.stop().await;
}

#[tokio::test]
async fn yaml_create_works() {
    let app = app_with_project().await;
    let yaml = "kind: ImageStream\napiVersion: image.openshift.io/v1\nmetadata:\n  name: python\nspec:\n  tags:\n  - name: \"3.12\"\n    from:\n      kind: DockerImage\n      name: quay.io/demo/python:3.12\n    importPolicy:\n      scheduled: true\n";
    let (code, body) = app
        .send_raw(
            Method::POST,
            &imagestreams("demo"),
            "application/yaml",
            yaml,
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let stream: ImageStream = decode(body);
    assert_eq!(stream.spec.tags[0].name, "3.12");
    assert!(stream.spec.tags[0].import_policy.scheduled);
    app.stop().await;
}

#[tokio::test]
async fn every_library_file_posts_like_curl_data_binary_and_reads_back_unchanged() {
    let app = app_with_project().await;
    let dir = fixtures().join("openshift-library/imagestreams");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 60);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        // As `curl -H 'Content-Type: application/json' --data-binary @file` sends it, with
        // kubectl's default `fieldValidation`: no field of OpenShift's files is unknown here.
        let (code, body) = app
            .send_raw(
                Method::POST,
                &format!("{}?fieldValidation=Strict", imagestreams("demo")),
                "application/json",
                &text,
            )
            .await;
        assert_eq!(code, StatusCode::CREATED, "{}: {body}", file.display());
        let original: Value = serde_json::from_str(&text).unwrap_or_default();
        let name = original["metadata"]["name"].as_str().unwrap_or_default();
        let (_, stored) = app.get(&imagestream("demo", name)).await;
        let mut expected_spec = original["spec"].clone();
        for tag in expected_spec["tags"].as_array_mut().into_iter().flatten() {
            tag["generation"] = json!(1);
        }
        assert_eq!(stored["spec"], expected_spec, "{}", file.display());
        assert_eq!(
            stored["metadata"]["annotations"],
            original["metadata"]["annotations"],
            "{}",
            file.display()
        );
    }
    let (_, list) = app.get(&imagestreams("demo")).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(60));
    app.stop().await;
}

#[tokio::test]
async fn stream_tag_shows_source_current_image_and_history_newest_first() {
    let app = app_with_project().await;
    let stream = app
        .create_stream(
            "demo",
            &stream_json("ruby", "latest", "quay.io/demo/ruby:3.3"),
        )
        .await;
    let (code, body) = app.get(&imagestreamtag("demo", "ruby", "latest")).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let tag: ImageStreamTag = decode(body);
    assert_eq!(tag.metadata.name(), "ruby:latest");
    assert_eq!(
        tag.tag.and_then(|t| t.from).map(|f| f.name).as_deref(),
        Some("quay.io/demo/ruby:3.3")
    );
    assert!(tag.image.is_none(), "no image before anything set one");

    let mut with_status = serde_json::to_value(&stream).unwrap_or_default();
    with_status["status"] = json!({"dockerImageRepository": "", "tags": [{"tag": "latest", "items": [
        {"created": "2026-01-02T00:00:00Z", "dockerImageReference": format!("quay.io/demo/ruby@{}", digest('b')), "image": digest('b'), "generation": 1},
        {"created": "2026-01-01T00:00:00Z", "dockerImageReference": format!("quay.io/demo/ruby@{}", digest('a')), "image": digest('a'), "generation": 1}
    ]}]});
    let (code, body) = app
        .put(&imagestream_status("demo", "ruby"), &with_status)
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(
        body["spec"],
        serde_json::to_value(&stream.spec).unwrap_or_default(),
        "status writes leave spec alone"
    );

    let (_, body) = app.get(&imagestreamtag("demo", "ruby", "latest")).await;
    let tag: ImageStreamTag = decode(body);
    assert_eq!(
        tag.image.map(|i| i.metadata.name().to_owned()),
        Some(digest('b'))
    );
    let history: Vec<&str> = tag.items.iter().map(|i| i.image.as_str()).collect();
    assert_eq!(history, [digest('b'), digest('a')]);

    let (code, body) = app.get(&imagestreamtag("demo", "ruby", "nope")).await;
    assert_status(body, code, "NotFound");
    let (code, body) = app
        .get("/apis/image.openshift.io/v1/namespaces/demo/imagestreamtags/ruby")
        .await;
    let status = assert_status(body, code, "BadRequest");
    assert!(
        status.message.contains("<stream_name>:<tag>"),
        "{}",
        status.message
    );
    app.stop().await;
}

#[tokio::test]
async fn status_writes_are_validated_and_conditioned_too() {
    let app = app_with_project().await;
    let stream = app
        .create_stream(
            "demo",
            &stream_json("ruby", "latest", "quay.io/demo/ruby:3.3"),
        )
        .await;
    let mut bad = serde_json::to_value(&stream).unwrap_or_default();
    bad["status"] = json!({"tags": [{"tag": "latest", "items": [{"created": "2026-01-01T00:00:00Z", "dockerImageReference": "quay.io/x/y:1", "image": "sha256:short", "generation": 1}]}]});
    let (code, body) = app.put(&imagestream_status("demo", "ruby"), &bad).await;
    let status = assert_status(body, code, "Invalid");
    assert_eq!(
        status.causes_for("status.tags[0].items[0].image").count(),
        1
    );
    bad["metadata"]["resourceVersion"] = json!("999999");
    bad["status"]["tags"][0]["items"][0]["image"] = json!(digest('c'));
    let (code, body) = app.put(&imagestream_status("demo", "ruby"), &bad).await;
    assert_status(body, code, "Conflict");
    app.stop().await;
}

#[tokio::test]
async fn deleted_stream_is_gone() {
    let app = app_with_project().await;
    app.create_stream(
        "demo",
        &stream_json("ruby", "latest", "quay.io/demo/ruby:3.3"),
    )
    .await;
    let (code, body) = app.delete(&imagestream("demo", "ruby")).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(body["metadata"]["name"], "ruby");
    let (code, body) = app.get(&imagestream("demo", "ruby")).await;
    assert_status(body, code, "NotFound");
    let (code, body) = app.delete(&imagestream("demo", "ruby")).await;
    assert_status(body, code, "NotFound");
    app.stop().await;
}
