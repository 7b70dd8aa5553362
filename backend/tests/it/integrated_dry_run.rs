//! A dry run (`dryRun=All`, `kubectl --dry-run=server`) answers a stream as the real write's
//! answer shows it when tagstream runs an integrated registry: the stream's repository at the
//! registry's public host (`status.publicDockerImageRepository`) and at its internal address,
//! for a dry-run create and a dry-run delete alike.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tagstream_shared::paths::{PROJECTS, imagestream, imagestreams};

use crate::integrated_registry::{Integrated, PUBLIC_HOST};
use crate::support::stream_json;

async fn send(env: &Integrated, method: Method, path: &str, body: Option<&Value>) -> Value {
    let mut req = env.admin.request(method, env.url(path));
    if let Some(body) = body {
        req = req.json(body);
    }
    let r = req.send().await.unwrap();
    let code = r.status();
    let answer: Value = r.json().await.unwrap();
    assert!(code.is_success(), "{path}: {code} {answer}");
    answer
}

/// What a stream answer says of where the stream is pulled from.
fn repositories(stream: &Value) -> Value {
    json!([
        stream["status"]["publicDockerImageRepository"],
        stream["status"]["dockerImageRepository"]
    ])
}

#[tokio::test]
async fn dry_run_answers_show_the_stream_as_the_real_writes_do() {
    let env = Integrated::start("").await;
    env.post(PROJECTS, json!({"metadata": {"name": "demo"}}))
        .await;
    let body = stream_json("app", "v1", "quay.io/x/app:1");
    let collection = imagestreams("demo");
    let dry = format!("{collection}?dryRun=All");
    let tried = send(&env, Method::POST, &dry, Some(&body)).await;
    let (code, _) = env.get(&imagestream("demo", "app")).await;
    assert_eq!(code, StatusCode::NOT_FOUND, "the dry run stored nothing");
    let created = send(&env, Method::POST, &collection, Some(&body)).await;
    let public = format!("{PUBLIC_HOST}/demo/app");
    assert_eq!(created["status"]["publicDockerImageRepository"], public);
    assert_eq!(repositories(&tried), repositories(&created), "{tried}");

    let item = imagestream("demo", "app");
    let tried = send(&env, Method::DELETE, &format!("{item}?dryRun=All"), None).await;
    let (code, _) = env.get(&item).await;
    assert_eq!(code, StatusCode::OK, "the dry run deleted nothing");
    let deleted = send(&env, Method::DELETE, &item, None).await;
    assert_eq!(deleted["status"]["publicDockerImageRepository"], public);
    assert_eq!(repositories(&tried), repositories(&deleted), "{tried}");
}
