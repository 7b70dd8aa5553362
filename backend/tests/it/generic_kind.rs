//! A namespaced kind the product lacks (a ConfigMap-like `Note`) takes one type, one
//! implementation of the kind trait and one registration line: with nothing else, it is listed,
//! watched, created, read, replaced at its resourceVersion, merge-patched and deleted, answers
//! Kubernetes `Status` errors naming it, is authorized by its declared access rule, and goes
//! with its project.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tagstream_backend::access::Need;
use tagstream_backend::api::objects;
use tagstream_backend::app::AppState;
use tagstream_backend::config::Config;
use tagstream_backend::store::SqliteStore;
use tagstream_shared::access::{Resource as A, Verb as V};
use tagstream_shared::{ObjectMeta, paths};

use crate::support::{ADMIN_TOKEN, client_with_token, loopback_only, workspace_root};
use crate::watch::Events;

// 1. One type.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Note {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    metadata: ObjectMeta,
    #[serde(default)]
    data: BTreeMap<String, String>,
}

// 2. One implementation of the kind trait (editors may change notes, as they may templates).
tagstream_shared::object_impl!(kind Note, tagstream_shared::api_resource!(
    namespaced "tagstream.io" / "v1", "Note", "notes", "note", ["nt"],
    &[V::Create, V::Delete, V::Get, V::List, V::Patch, V::Update, V::Watch],
    Some(A::Templates)));

const NOTES: &str = "/apis/tagstream.io/v1/namespaces/demo/notes";

/// The server with the product's routes and, 3., the one registration line.
async fn serve() -> (String, tokio::task::JoinHandle<()>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("tagstream.db"))
        .await
        .unwrap();
    let config = Config {
        registries: vec![loopback_only()],
        ..Config::default()
    };
    let state = AppState::new(std::sync::Arc::new(store), config).unwrap();
    tagstream_backend::api::bootstrap_admin(&state, Some(ADMIN_TOKEN))
        .await
        .unwrap();
    let extra = objects::routes::<Note>();
    let app = tagstream_backend::app::router_with(state, workspace_root().join("dist"), extra);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap();
    });
    (base, task, dir)
}

async fn send(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    body: Option<(&str, &Value)>,
) -> (StatusCode, Value) {
    let mut req = client.request(method, url);
    if let Some((content_type, body)) = body {
        req = req
            .header("content-type", content_type)
            .body(body.to_string());
    }
    let resp = req.send().await.unwrap();
    let code = resp.status();
    (code, resp.json().await.unwrap_or(Value::Null))
}

#[test]
fn a_new_kinds_routes_need_its_access_rule_for_each_verb() {
    let (_, table) = objects::routes::<Note>().into_parts();
    let create = table
        .iter()
        .find(|r| r.method == "POST" && r.path == NOTES.replace("demo", "{ns}"))
        .expect("notes can be created");
    assert_eq!(
        create.need,
        Need::Project {
            verb: V::Create,
            resource: A::Templates,
            param: "ns"
        }
    );
    assert_eq!(table.len(), 6, "list, create, get, replace, patch, delete");
}

#[tokio::test]
async fn a_new_namespaced_kind_is_served_with_crud_patch_watch_and_errors() {
    use reqwest::Method as M;
    let (base, task, _dir) = serve().await;
    let admin = client_with_token(ADMIN_TOKEN);
    let url = |path: &str| format!("{base}{path}");
    let json = "application/json";

    let (code, _) = send(
        &admin,
        M::POST,
        url(paths::PROJECTS),
        Some((json, &json!({"metadata": {"name": "demo"}}))),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED);
    let (code, list) = send(&admin, M::GET, url(NOTES), None).await;
    assert_eq!(
        (code, list["kind"].as_str()),
        (StatusCode::OK, Some("NoteList"))
    );
    let list_rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_owned();
    let watch = admin
        .get(url(&format!(
            "{NOTES}?watch=true&resourceVersion={list_rv}"
        )))
        .send()
        .await
        .unwrap();
    let mut events = Events::lines(watch);

    let note = json!({"metadata": {"name": "hello"}, "data": {"greeting": "hi"}});
    let (code, created) = send(&admin, M::POST, url(NOTES), Some((json, &note))).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    assert_eq!(created["kind"], "Note");
    assert_eq!(created["apiVersion"], "tagstream.io/v1");
    assert_eq!(created["metadata"]["namespace"], "demo");
    assert!(created["metadata"]["uid"].is_string());
    let added = events.next().await;
    assert_eq!(
        (added["type"].as_str(), &added["object"]["data"]),
        (Some("ADDED"), &note["data"])
    );

    let (code, again) = send(&admin, M::POST, url(NOTES), Some((json, &note))).await;
    assert_eq!(code, StatusCode::CONFLICT);
    assert_eq!(again["reason"], "AlreadyExists");
    assert_eq!(
        again["message"],
        "notes.tagstream.io \"hello\" already exists"
    );

    let one = format!("{NOTES}/hello");
    let mut changed = created.clone();
    changed["data"]["greeting"] = json!("hello");
    let (code, replaced) = send(&admin, M::PUT, url(&one), Some((json, &changed))).await;
    assert_eq!(
        (code, &replaced["data"]["greeting"]),
        (StatusCode::OK, &json!("hello"))
    );
    assert_eq!(events.next().await["type"], "MODIFIED");
    let (code, stale) = send(&admin, M::PUT, url(&one), Some((json, &changed))).await;
    assert_eq!(
        (code, stale["reason"].as_str()),
        (StatusCode::CONFLICT, Some("Conflict"))
    );

    let patch = json!({"data": {"extra": "yes"}});
    let (code, patched) = send(
        &admin,
        M::PATCH,
        url(&one),
        Some(("application/merge-patch+json", &patch)),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{patched}");
    assert_eq!(
        patched["data"],
        json!({"greeting": "hello", "extra": "yes"})
    );
    assert_eq!(events.next().await["type"], "MODIFIED");

    let (code, missing) = send(&admin, M::GET, url(&format!("{NOTES}/nope")), None).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert_eq!(missing["message"], "notes.tagstream.io \"nope\" not found");
    let (code, bad) = send(&admin, M::GET, url(&format!("{NOTES}/Not_A_Name")), None).await;
    assert_eq!(
        (code, bad["kind"].as_str()),
        (StatusCode::BAD_REQUEST, Some("Status"))
    );
    let (code, _) = send(
        &admin,
        M::POST,
        url("/apis/tagstream.io/v1/namespaces/nowhere/notes"),
        Some((json, &note)),
    )
    .await;
    assert_eq!(code, StatusCode::NOT_FOUND, "a project must exist first");

    let (code, deleted) = send(&admin, M::DELETE, url(&one), None).await;
    assert_eq!(
        (code, &deleted["data"]["extra"]),
        (StatusCode::OK, &json!("yes"))
    );
    assert_eq!(events.next().await["type"], "DELETED");

    let (code, _) = send(&admin, M::POST, url(NOTES), Some((json, &note))).await;
    assert_eq!(code, StatusCode::CREATED);
    let (code, _) = send(&admin, M::DELETE, url(&paths::project("demo")), None).await;
    assert_eq!(code, StatusCode::OK);
    let (code, _) = send(
        &admin,
        M::POST,
        url(paths::PROJECTS),
        Some((json, &json!({"metadata": {"name": "demo"}}))),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED);
    let (code, list) = send(&admin, M::GET, url(NOTES), None).await;
    assert_eq!(
        (code, &list["items"]),
        (StatusCode::OK, &json!([])),
        "notes went with their project"
    );
    task.abort();
}
