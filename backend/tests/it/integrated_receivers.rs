//! Push events arriving by notification: the integrated registry's notification delivered
//! again changes nothing, and a distribution notification posted to a project's receiver URL
//! re-imports the tags following the pushed one from another (loopback) registry at once, with
//! `referencePolicy: Local` tags showing the integrated registry's public pull spec.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::StatusCode;
use serde_json::{Value, json};
use tagstream_shared::paths::{PROJECTS, imagestreamtag};

use crate::integrated_registry::{Integrated, NOTIFICATIONS, PUBLIC_HOST, copy};
use crate::registry::{ImageSpec, Registry};

#[tokio::test]
async fn a_notification_delivered_twice_moves_the_tag_once() {
    let source = Registry::start().await;
    let (one, _) = source
        .push_image("src/app", "one", &ImageSpec::new("one"))
        .await;
    let (two, _) = source
        .push_image("src/app", "two", &ImageSpec::new("two"))
        .await;
    let env = Integrated::start("").await;
    env.post(PROJECTS, json!({"metadata": {"name": "demo"}}))
        .await;
    let pusher = env.user("pusher", None).await;
    env.grant("demo", "pusher", "registry-editor").await;
    for (tag, digest) in [("one", &one), ("two", &two)] {
        let (ok, said) = copy(
            &format!("{}/src/app:{tag}", source.addr),
            &format!("{}/demo/app:v1", env.registry),
            &format!("pusher:{pusher}"),
        )
        .await;
        assert!(ok, "{said}");
        env.wait_for_tag("demo", "app", "v1", digest, crate::support::PATIENCE)
            .await;
    }
    assert_eq!(
        env.history("demo", "app", "v1").await,
        [two.clone(), one.clone()]
    );

    // The registry delivering an old event again (it retries when it saw no answer).
    let envelope = json!({"events": [{
        "id": "retried-event-1", "action": "push",
        "timestamp": tagstream_shared::Time::now().to_string(),
        "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                   "digest": one, "repository": "demo/app", "tag": "v1"},
        "actor": {"name": "pusher"}
    }]});
    let send = |secret: String| {
        let url = env.url(NOTIFICATIONS);
        let body = envelope.to_string();
        async move {
            crate::support::http_client()
                .post(url)
                .header(
                    "content-type",
                    "application/vnd.docker.distribution.events.v1+json",
                )
                .header("x-registry-secret", secret)
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(send("wrong".into()).await, StatusCode::UNAUTHORIZED);
    assert_eq!(env.history("demo", "app", "v1").await.len(), 2);
    let secret = env.notification_secret();
    assert_eq!(send(secret.clone()).await, StatusCode::OK);
    assert_eq!(send(secret.clone()).await, StatusCode::OK);
    assert_eq!(
        env.history("demo", "app", "v1").await,
        [one.clone(), two.clone(), one.clone()],
        "the event applied once"
    );
    // A body that is no envelope is refused.
    let r = crate::support::http_client()
        .post(env.url(NOTIFICATIONS))
        .header("x-registry-secret", secret)
        .body("{\"hello\": 1}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    drop(env);
}

#[tokio::test]
async fn a_push_event_posted_to_a_receiver_reimports_the_tag_without_waiting_for_the_schedule() {
    let source = Registry::start().await;
    let (one, _) = source
        .push_image("src/app", "latest", &ImageSpec::new("one"))
        .await;
    // Scheduled checks every 900 s (the default): only the receiver can move the tag.
    let env = Integrated::start(&format!(
        "[[registries]]\ndomain = \"{}\"\ninsecure = true\n",
        source.addr
    ))
    .await;
    env.post(PROJECTS, json!({"metadata": {"name": "demo"}}))
        .await;
    let from = format!("{}/src/app:latest", source.addr);
    env.post(
        &tagstream_shared::paths::imagestreams("demo"),
        json!({"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
               "metadata": {"name": "app"},
               "spec": {"tags": [
                   {"name": "latest", "from": {"kind": "DockerImage", "name": from}},
                   {"name": "local", "from": {"kind": "DockerImage", "name": from},
                    "referencePolicy": {"type": "Local"}}]}}),
    )
    .await;
    env.wait_for_tag("demo", "app", "latest", &one, crate::support::PATIENCE)
        .await;
    env.wait_for_tag("demo", "app", "local", &one, crate::support::PATIENCE)
        .await;
    // A Local tag is pulled through the integrated registry; the other from its source.
    let (_, local) = env.get(&imagestreamtag("demo", "app", "local")).await;
    assert_eq!(
        local["image"]["dockerImageReference"],
        format!("{PUBLIC_HOST}/demo/app@{one}"),
        "{local}"
    );
    let (_, source_tag) = env.get(&imagestreamtag("demo", "app", "latest")).await;
    assert_eq!(
        source_tag["image"]["dockerImageReference"],
        format!("{}/src/app@{one}", source.addr),
        "{source_tag}"
    );
    let (two, _) = source
        .push_image("src/app", "latest", &ImageSpec::new("two"))
        .await;

    let (code, receiver) = env
        .get("/apis/tagstream.io/v1/namespaces/demo/receivers")
        .await;
    assert_eq!(code, StatusCode::OK, "{receiver}");
    let path = receiver["spec"]["path"].as_str().unwrap().to_owned();
    let envelope = json!({"events": [{
        "id": "source-push-1", "action": "push",
        "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": two,
                   "repository": "src/app", "tag": "latest",
                   "url": format!("http://{}/v2/src/app/manifests/{two}", source.addr)},
        "request": {"host": source.addr}
    }]});
    let deliver = |path: String, body: String| {
        let url = env.url(&path);
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
    let (code, answer) = deliver(path.clone(), envelope.to_string()).await;
    assert_eq!(
        (code, answer["reimported"].clone()),
        (StatusCode::OK, json!(2)),
        "both tags follow the pushed one: {answer}"
    );
    env.wait_for_tag("demo", "app", "latest", &two, crate::support::PATIENCE)
        .await;
    assert_eq!(
        env.history("demo", "app", "latest").await,
        [two.clone(), one.clone()]
    );
    env.wait_for_tag("demo", "app", "local", &two, crate::support::PATIENCE)
        .await;

    // The same event again asks for nothing: the stream's spec is not touched.
    let (_, before) = env
        .get(&tagstream_shared::paths::imagestream("demo", "app"))
        .await;
    let (code, answer) = deliver(path.clone(), envelope.to_string()).await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    assert_eq!(
        (answer["reimported"].clone(), answer["duplicates"].clone()),
        (json!(0), json!(1))
    );
    let (_, after) = env
        .get(&tagstream_shared::paths::imagestream("demo", "app"))
        .await;
    assert_eq!(
        before["metadata"]["generation"],
        after["metadata"]["generation"]
    );

    // Unknown payloads are refused; a wrong secret finds nothing.
    let (code, _) = deliver(path.clone(), "{\"hello\": 1}".into()).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    let (code, _) = deliver(
        "/apis/tagstream.io/v1/namespaces/demo/receivers/wrong".into(),
        envelope.to_string(),
    )
    .await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    drop(env);
}
