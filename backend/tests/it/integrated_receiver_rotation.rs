//! Rotating a project's receiver secret: `POST .../namespaces/{ns}/receivers` (by those who may
//! change the project's streams) answers a new receiver URL; deliveries to the old one are
//! refused from then on and change nothing, the new one re-imports as before. The salt a
//! rotation keeps is stored on SQLite and PostgreSQL alike (`TAGSTREAM_TEST_POSTGRES=1`).

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::StatusCode;
use serde_json::{Value, json};
use tagstream_shared::paths::{PROJECTS, imagestream, imagestreams};

use crate::integrated_registry::Integrated;
use crate::registry::{ImageSpec, Registry};
use crate::support::{TestApp, client_with_token};

const RECEIVERS: &str = "/apis/tagstream.io/v1/namespaces/demo/receivers";

#[tokio::test]
async fn a_rotated_receiver_secret_replaces_the_old_one() {
    let source = Registry::start().await;
    let (one, _) = source
        .push_image("src/app", "latest", &ImageSpec::new("one"))
        .await;
    let env = Integrated::start(&format!(
        "[[registries]]\ndomain = \"{}\"\ninsecure = true\n",
        source.addr
    ))
    .await;
    env.post(PROJECTS, json!({"metadata": {"name": "demo"}}))
        .await;
    env.post(
        &imagestreams("demo"),
        json!({"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
               "metadata": {"name": "app"},
               "spec": {"tags": [{"name": "latest", "from": {"kind": "DockerImage",
                   "name": format!("{}/src/app:latest", source.addr)}}]}}),
    )
    .await;
    env.wait_for_tag("demo", "app", "latest", &one, crate::support::PATIENCE)
        .await;
    let (two, _) = source
        .push_image("src/app", "latest", &ImageSpec::new("two"))
        .await;
    let (_, before) = env.get(RECEIVERS).await;
    let old = before["spec"]["path"].as_str().unwrap().to_owned();

    // A viewer may not rotate it: refused before anything changes.
    let viewer = env.user("viewer", None).await;
    env.grant("demo", "viewer", "view").await;
    let r = client_with_token(&viewer)
        .post(env.url(RECEIVERS))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(env.get(RECEIVERS).await.1["spec"]["path"], old.as_str());

    // An editor rotates it; the answer and every later read name the new URL.
    let editor = env.user("editor", None).await;
    env.grant("demo", "editor", "edit").await;
    let r = client_with_token(&editor)
        .post(env.url(RECEIVERS))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let rotated: Value = r.json().await.unwrap();
    let new = rotated["spec"]["path"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert_eq!(env.get(RECEIVERS).await.1["spec"]["path"], new.as_str());

    let envelope = json!({"events": [{
        "id": "source-push-2", "action": "push",
        "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": two,
                   "repository": "src/app", "tag": "latest"},
        "request": {"host": source.addr}
    }]})
    .to_string();
    let deliver = |path: String| {
        let url = env.url(&path);
        let body = envelope.clone();
        async move {
            let r = crate::support::http_client()
                .post(url)
                .header(
                    "content-type",
                    "application/vnd.docker.distribution.events.v1+json",
                )
                .body(body)
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    // The old URL is refused like any wrong one, and asks for no import.
    let (_, stream) = env.get(&imagestream("demo", "app")).await;
    let (code, answer) = deliver(old).await;
    assert_eq!(code, StatusCode::NOT_FOUND, "{answer}");
    assert_eq!(answer["kind"], "Status");
    let (_, after) = env.get(&imagestream("demo", "app")).await;
    assert_eq!(
        stream["metadata"]["generation"], after["metadata"]["generation"],
        "the old secret asked for an import"
    );
    // The new one works.
    let (code, answer) = deliver(new).await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    assert_eq!(answer["reimported"], 1, "{answer}");
    env.wait_for_tag("demo", "app", "latest", &two, crate::support::PATIENCE)
        .await;
    drop(env);
}

#[tokio::test]
async fn rotations_are_kept_in_the_store_and_each_replaces_the_last() {
    use tagstream_backend::integrated::{receiver_secrets, receivers::ReceiverKey};
    use tagstream_shared::ProjectName;

    let app = TestApp::start().await;
    app.create_project("demo").await;
    let keys = tempfile::tempdir().unwrap();
    let state = app.state();
    let key = ReceiverKey::load_or_create(state.store.as_ref(), keys.path())
        .await
        .unwrap();
    let ns: ProjectName = "demo".parse().unwrap();
    let (_, project) = app.get(&tagstream_shared::paths::project("demo")).await;
    let uid = project["metadata"]["uid"].as_str().unwrap();
    let first = receiver_secrets::current(state, &key, &ns, uid)
        .await
        .unwrap();
    assert_eq!(
        first,
        key.secret("demo", uid, ""),
        "never rotated: the old secret"
    );
    let resource = &receiver_secrets::RECEIVER_SALTS;
    let second = receiver_secrets::rotate(
        state,
        &tagstream_backend::audit::Actor::named("alice"),
        &key,
        &ns,
        uid,
        resource,
    )
    .await
    .unwrap();
    assert_ne!(second, first);
    assert_eq!(
        receiver_secrets::current(state, &key, &ns, uid)
            .await
            .unwrap(),
        second
    );
    let third = receiver_secrets::rotate(
        state,
        &tagstream_backend::audit::Actor::named("alice"),
        &key,
        &ns,
        uid,
        resource,
    )
    .await
    .unwrap();
    assert!(third != second && third != first);
    assert_eq!(
        receiver_secrets::current(state, &key, &ns, uid)
            .await
            .unwrap(),
        third
    );
}
