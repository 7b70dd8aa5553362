//! Projects: create, get, list, delete, and the errors a user meets.

use reqwest::StatusCode;
use serde_json::json;
use tagstream_shared::paths::{PROJECTS, imagestream, project};

use crate::support::{TestApp, assert_status, stream_json};

#[tokio::test]
async fn project_is_created_listed_and_read_back_with_server_set_metadata() {
    let app = TestApp::start().await;
    let (code, created) = app
        .post(PROJECTS, &json!({"metadata": {"name": "demo", "uid": "forged", "annotations": {"openshift.io/display-name": "Demo team", "openshift.io/requester": "mallory"}}}))
        .await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    // Who asked for it is the server's to say: the caller, whatever the body claims.
    let annotations = &created["metadata"]["annotations"];
    assert_eq!(annotations["openshift.io/requester"], "admin");
    assert_eq!(annotations["openshift.io/display-name"], "Demo team");
    assert_eq!(created["kind"], "Project");
    assert_eq!(created["status"]["phase"], "Active");
    assert_ne!(created["metadata"]["uid"], "forged");
    assert!(
        created["metadata"]["creationTimestamp"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert!(created["metadata"]["resourceVersion"].as_str().is_some());

    let (code, got) = app.get(&project("demo")).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(got, created);

    app.create_project("other").await;
    let (code, list) = app.get(PROJECTS).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(list["kind"], "ProjectList");
    assert!(list["metadata"]["resourceVersion"].as_str().is_some());
    let names: Vec<&str> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["metadata"]["name"].as_str())
        .collect();
    assert_eq!(names, ["demo", "other"]);
    app.stop().await;
}

#[tokio::test]
async fn duplicate_project_is_rejected_with_409_already_exists() {
    let app = TestApp::start().await;
    app.create_project("demo").await;
    let (_, body) = app
        .post(PROJECTS, &json!({"metadata": {"name": "demo"}}))
        .await;
    let status = assert_status(body, StatusCode::CONFLICT, "AlreadyExists");
    assert!(
        status.message.contains("\"demo\" already exists"),
        "{}",
        status.message
    );
    app.stop().await;
}

#[tokio::test]
async fn invalid_project_name_is_422_naming_the_field() {
    let app = TestApp::start().await;
    let (code, body) = app
        .post(PROJECTS, &json!({"metadata": {"name": "Not_Valid"}}))
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    let status = assert_status(body, code, "Invalid");
    let causes = status.details.map(|d| d.causes).unwrap_or_default();
    assert_eq!(causes.len(), 1);
    assert_eq!(causes[0].field.as_deref(), Some("metadata.name"));
    let (_, body) = app.post(PROJECTS, &json!({"metadata": {}})).await;
    assert_status(body, StatusCode::UNPROCESSABLE_ENTITY, "Invalid");
    let (_, list) = app.get(PROJECTS).await;
    assert_eq!(list["items"], json!([]), "nothing was stored");
    app.stop().await;
}

#[tokio::test]
async fn deleting_a_project_deletes_its_streams() {
    let app = TestApp::start().await;
    app.create_project("demo").await;
    app.create_stream(
        "demo",
        &stream_json("ruby", "latest", "quay.io/demo/ruby:3.3"),
    )
    .await;
    let (code, deleted) = app.delete(&project("demo")).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(deleted["metadata"]["name"], "demo");
    let (_, body) = app.get(&project("demo")).await;
    assert_status(body, StatusCode::NOT_FOUND, "NotFound");
    app.create_project("demo").await;
    let (_, body) = app.get(&imagestream("demo", "ruby")).await;
    assert_status(body, StatusCode::NOT_FOUND, "NotFound");
    let (_, body) = app.delete(&project("demo-gone")).await;
    assert_status(body, StatusCode::NOT_FOUND, "NotFound");
    app.stop().await;
}

#[tokio::test]
async fn unknown_api_paths_and_methods_answer_a_status() {
    let app = TestApp::start().await;
    let (_, body) = app.get("/apis/image.openshift.io/v1/nothing-here").await;
    assert_status(body, StatusCode::NOT_FOUND, "NotFound");
    let (_, body) = app.delete(PROJECTS).await;
    assert_status(body, StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed");
    let (_, body) = app.get(&project("UPPER")).await;
    let status = assert_status(body, StatusCode::BAD_REQUEST, "BadRequest");
    assert!(status.message.contains("UPPER"), "{}", status.message);
    app.stop().await;
}
