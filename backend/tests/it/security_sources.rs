//! Cross-project reads through tags (issue 11, item 1) and what a template instance shows its
//! readers (item 14), against the real server, worker and docker-registry: a user with no role
//! in a project cannot make any writer of spec tags (here a template instance) or the import
//! worker copy that project's image into their own stream; a user who may read it still can.

#![expect(clippy::unwrap_used, reason = "a test that cannot proceed has failed")]

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tagstream_shared::paths::{
    PROJECTS, imagestream, imagestreamtag, template_instance, template_instances,
};
use tagstream_shared::{ImageStream, ProjectName, StreamName};

use crate::registry::{ImageSpec, Registry};
use crate::support::config_allowing;
use crate::support::{TestApp, TestUser, assert_status, decode, stream_json};

/// Project `victim` whose stream `app:latest` holds a real image with a secret in its
/// environment; answers the app, the registry (kept alive) and the image's digest.
async fn victim_with_image() -> (TestApp, Registry, String) {
    let registry = Registry::start().await;
    let mut spec = ImageSpec::new("victim");
    spec.env.push("DATABASE_PASSWORD=hunter2".into());
    let (digest, _) = registry.push_image("victim/app", "latest", &spec).await;
    let app = TestApp::start_with_config(config_allowing(&registry.addr, 1)).await;
    app.create_project("victim").await;
    let mut stream = stream_json(
        "app",
        "latest",
        &format!("{}/victim/app:latest", registry.addr),
    );
    stream["spec"]["tags"][0]["importPolicy"] = json!({"scheduled": true});
    app.create_stream("victim", &stream).await;
    let tag = imagestreamtag("victim", "app", "latest");
    wait_for(&app, &tag, |t| {
        t["image"]["metadata"]["name"] == digest.as_str()
    })
    .await;
    (app, registry, digest)
}

/// Polls `path` as the admin until `done` holds (the worker runs in the background).
async fn wait_for(app: &TestApp, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    let deadline = std::time::Instant::now() + crate::support::PATIENCE;
    while std::time::Instant::now() < deadline {
        let (code, body) = app.get(path).await;
        if code == StatusCode::OK && done(&body) {
            return body;
        }
        last = body;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{path} never reached the expected state; last seen {last:#}");
}

/// A template whose one image stream follows `victim/app:latest`, and a generated secret.
fn stealing_instance(stream: &str) -> Value {
    json!({
        "kind": "TemplateInstance", "apiVersion": "template.openshift.io/v1",
        "metadata": {"name": "steal"},
        "spec": {"template": {
            "kind": "Template", "apiVersion": "template.openshift.io/v1",
            "metadata": {"name": "steal"},
            "objects": [{
                "kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
                "metadata": {"name": stream},
                "spec": {"tags": [{"name": "latest", "from": {
                    "kind": "ImageStreamTag", "namespace": "victim", "name": "app:latest"}}]}
            }],
            "parameters": [
                {"name": "SECRET", "generate": "expression", "from": "[a-z]{12}",
                 "value": "typed-by-the-user"}
            ]
        }}
    })
}

/// `name` with their own project `own` (they are its admin).
async fn user_with_project(app: &TestApp, name: &str, own: &str) -> TestUser {
    let user = app.user(name).await;
    let (code, body) = app
        .send_as(
            &user.client,
            Method::POST,
            PROJECTS,
            Some(&json!({"metadata": {"name": own}})),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    user
}

#[tokio::test]
async fn a_template_instance_cannot_copy_an_image_from_a_project_its_user_cannot_read() {
    let (app, _registry, digest) = victim_with_image().await;
    let mallory = user_with_project(&app, "mallory", "mal").await;

    let (code, body) = app
        .send_as(
            &mallory.client,
            Method::POST,
            &template_instances("mal"),
            Some(&stealing_instance("stolen")),
        )
        .await;
    let status = assert_status(body, StatusCode::FORBIDDEN, "Forbidden");
    assert!(status.message.contains("victim"), "{}", status.message);
    assert_eq!(code, StatusCode::FORBIDDEN);

    // Nothing was created, so nothing can follow the victim's tag.
    let (code, _) = app
        .send_as(
            &mallory.client,
            Method::GET,
            &imagestream("mal", "stolen"),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    let (code, _) = app
        .send_as(
            &mallory.client,
            Method::GET,
            &template_instance("mal", "steal"),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    let (_, streams) = app.get(&tagstream_shared::paths::imagestreams("mal")).await;
    assert!(!streams.to_string().contains(&digest), "{streams:#}");
    app.stop().await;
}

#[tokio::test]
async fn the_worker_does_not_copy_across_projects_a_link_nobody_authorized() {
    let (app, _registry, digest) = victim_with_image().await;
    app.create_project("mal").await;
    // A stream following the victim's tag that reached the store without the check (as from
    // a writer that forgot it), with a forged grant in its metadata.
    let mut stream: ImageStream = decode(json!({
        "metadata": {"name": "stolen", "annotations": {
            "tagstream.io/source-grants":
                r#"{"latest":{"kind":"ImageStreamTag","namespace":"victim","name":"app:latest","by":"admin"}}"#
        }},
        "spec": {"tags": [{"name": "latest", "from": {
            "kind": "ImageStreamTag", "namespace": "victim", "name": "app:latest"}}]}
    }));
    stream =
        tagstream_backend::service::stream_for_create(stream, "mal", tagstream_shared::Time::now());
    let ns: ProjectName = "mal".parse().unwrap();
    let name: StreamName = "stolen".parse().unwrap();
    app.store()
        .create_image_stream(&ns, &name, stream)
        .await
        .unwrap();

    // The worker's verdict, either way: an image copied, or the refusal recorded.
    let stolen = wait_for(&app, &imagestream("mal", "stolen"), |s| {
        let tag = &s["status"]["tags"][0];
        tag["items"].as_array().is_some_and(|i| !i.is_empty())
            || tag["conditions"].as_array().is_some_and(|c| !c.is_empty())
    })
    .await;
    assert!(!stolen.to_string().contains(&digest), "{stolen:#}");
    let condition = &stolen["status"]["tags"][0]["conditions"][0];
    assert_eq!(condition["type"], "ImportSuccess", "{stolen:#}");
    assert_eq!(condition["status"], "False");
    assert_eq!(condition["reason"], "Forbidden");
    assert!(
        condition["message"]
            .as_str()
            .unwrap()
            .contains("another project"),
        "{condition}"
    );
    let (_, tag) = app.get(&imagestreamtag("mal", "stolen", "latest")).await;
    assert!(!tag.to_string().contains("hunter2"), "{tag:#}");
    app.stop().await;
}

#[tokio::test]
async fn a_reader_of_the_source_project_instantiates_a_follower_and_its_value_stays_masked() {
    let (app, _registry, digest) = victim_with_image().await;
    let bob = user_with_project(&app, "bob", "bobs").await;
    app.grant("victim", "bob", "view").await;
    let carol = app.user("carol").await;
    app.grant("bobs", "carol", "view").await;

    let (code, body) = app
        .send_as(
            &bob.client,
            Method::POST,
            &template_instances("bobs"),
            Some(&stealing_instance("mirror")),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    // Its creator sees the value they typed, once.
    assert_eq!(
        body["spec"]["template"]["parameters"][0]["value"],
        "typed-by-the-user"
    );

    // The worker follows the authorized link, recording who authorized it.
    let path = imagestreamtag("bobs", "mirror", "latest");
    wait_for(&app, &path, |t| {
        t["image"]["metadata"]["name"] == digest.as_str()
    })
    .await;
    let (_, stream) = app.get(&imagestream("bobs", "mirror")).await;
    let grants = stream["metadata"]["annotations"]["tagstream.io/source-grants"]
        .as_str()
        .unwrap();
    assert!(grants.contains("\"by\":\"bob\""), "{grants}");

    // A viewer of the project reads the instance with the typed value masked.
    for path in [
        template_instance("bobs", "steal"),
        template_instances("bobs"),
    ] {
        let (code, read) = app.send_as(&carol.client, Method::GET, &path, None).await;
        assert_eq!(code, StatusCode::OK, "{read}");
        assert!(!read.to_string().contains("typed-by-the-user"), "{read:#}");
        assert!(read.to_string().contains("*****"), "{read:#}");
    }
    app.stop().await;
}

/// Stream `base` in `ns`, created by `client`, whose tag `v1` imports `image` (a reference).
async fn stream_at(app: &TestApp, client: &reqwest::Client, ns: &str, image: &str) {
    let stream = stream_json("base", "v1", image);
    let (code, body) = app
        .send_as(
            client,
            Method::POST,
            &tagstream_shared::paths::imagestreams(ns),
            Some(&stream),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
}

/// A grant holds for the project it was made for: once that project is deleted, whoever
/// creates a project of the same name cannot feed the streams that followed the old one (the
/// attack review moved `prod/app:latest` to an image of its choosing this way).
#[tokio::test]
async fn a_grant_does_not_carry_over_to_a_new_project_of_the_same_name() {
    let registry = Registry::start().await;
    let (good, _) = registry
        .push_image("team/base", "v1", &ImageSpec::new("good"))
        .await;
    let (evil, _) = registry
        .push_image("mallory/backdoor", "v1", &ImageSpec::new("evil"))
        .await;
    let app = TestApp::start_with_config(config_allowing(&registry.addr, 1)).await;
    let good_ref = format!("{}/team/base:v1", registry.addr);
    let evil_ref = format!("{}/mallory/backdoor:v1", registry.addr);
    app.create_project("srcp").await;
    stream_at(&app, &app.client, "srcp", &good_ref).await;
    app.create_project("prod").await;
    let follower = json!({"metadata": {"name": "app"}, "spec": {"tags": [{"name": "latest",
        "from": {"kind": "ImageStreamTag", "namespace": "srcp", "name": "base:v1"}}]}});
    app.create_stream("prod", &follower).await;
    let app_tag = imagestreamtag("prod", "app", "latest");
    wait_for(&app, &app_tag, |t| {
        t["image"]["metadata"]["name"] == good.as_str()
    })
    .await;

    let (code, body) = app
        .send_as(
            &app.client,
            Method::DELETE,
            &tagstream_shared::paths::project("srcp"),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let mallory = app.user("mallory").await;
    let (code, body) = app
        .send_as(
            &mallory.client,
            Method::POST,
            PROJECTS,
            Some(&json!({"metadata": {"name": "srcp"}})),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    stream_at(&app, &mallory.client, "srcp", &evil_ref).await;
    wait_for(&app, &imagestreamtag("srcp", "base", "v1"), |t| {
        t["image"]["metadata"]["name"] == evil.as_str()
    })
    .await;

    // The worker's verdict: the link is refused, and the tag keeps the image it had.
    let stream = wait_for(&app, &imagestream("prod", "app"), |s| {
        s["status"]["tags"][0]["conditions"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["reason"] == "Forbidden"))
    })
    .await;
    assert!(!stream.to_string().contains(&evil), "{stream:#}");
    let (_, tag) = app.get(&app_tag).await;
    assert_eq!(tag["image"]["metadata"]["name"], good.as_str(), "{tag:#}");
    app.stop().await;
}

/// Image metadata is stored once per digest: a status write naming another project's digest
/// would read that project's image (its environment included) through one's own stream tag.
/// The attack review did exactly that; now such a write is refused naming the field, and the
/// image stays unreadable from the other project.
#[tokio::test]
async fn a_status_write_cannot_name_another_projects_image() {
    let (app, _registry, digest) = victim_with_image().await;
    let alice = user_with_project(&app, "alice", "attack").await;
    let (code, own) = app
        .send_as(
            &alice.client,
            Method::POST,
            &tagstream_shared::paths::imagestreams("attack"),
            Some(&json!({"metadata": {"name": "own"}, "spec": {"tags": []}})),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{own}");
    let mut with_status = own;
    with_status["status"] = json!({"dockerImageRepository": "", "tags": [{"tag": "a", "items": [
        {"created": "2026-01-01T00:00:00Z", "generation": 1, "image": digest,
         "dockerImageReference": format!("x/y@{digest}")}]}]});
    let (code, body) = app
        .send_as(
            &alice.client,
            Method::PUT,
            &tagstream_shared::paths::imagestream_status("attack", "own"),
            Some(&with_status),
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body:#}");
    assert_status(body.clone(), code, "Invalid");
    assert_eq!(
        body["details"]["causes"][0]["field"], "status.tags[0].items[0].image",
        "{body:#}"
    );
    for path in [
        tagstream_shared::paths::imagestreamimage("attack", "own", &digest),
        imagestreamtag("attack", "own", "a"),
    ] {
        let (code, body) = app.send_as(&alice.client, Method::GET, &path, None).await;
        assert_eq!(code, StatusCode::NOT_FOUND, "{path}: {body:#}");
        assert!(!body.to_string().contains("hunter2"), "{body:#}");
    }
    app.stop().await;
}
