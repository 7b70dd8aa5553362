//! A notification can reach tagstream long after its push: the registry retries for as long as
//! tagstream does not answer (down, unreachable, restarting). By then the pusher may have lost
//! their role, or the project may have been deleted and its name taken by another team. Such a
//! notification must move no tag (and so fire no trigger): the pusher's rights are read again
//! when it arrives, and a project or stream younger than the push is not the one pushed to. The
//! manifest of a refused push is deleted from the registry at once, so nobody pulls it by the
//! tag it moved there (`integrated_refused_blobs`); a notification of a manifest deleted since is answered `gone`, not
//! retried forever.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::StatusCode;
use serde_json::{Value, json};
use tagstream_shared::Time;
use tagstream_shared::paths::{PROJECTS, rolebinding};

use crate::integrated_purge_history::head;
use crate::integrated_refused_blobs::checked;
use crate::integrated_registry::{Integrated, NOTIFICATIONS, copy, skopeo};
use crate::registry::{ImageSpec, Registry};
use crate::support::PATIENCE;

/// Posts one push event as the registry would, answering the status and the body.
pub(crate) async fn notify(env: &Integrated, event: Value) -> (StatusCode, Value) {
    let r = crate::support::http_client()
        .post(env.url(NOTIFICATIONS))
        .header(
            "content-type",
            "application/vnd.docker.distribution.events.v1+json",
        )
        .header("x-registry-secret", env.notification_secret())
        .body(json!({ "events": [event] }).to_string())
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

/// A push event of `digest` as `repository:tag` by `pusher`, taken by the registry at `at`.
pub(crate) fn event(
    id: &str,
    repository: &str,
    tag: &str,
    digest: &str,
    pusher: &str,
    at: Time,
) -> Value {
    json!({
        "id": id, "timestamp": at.to_string(), "action": "push",
        "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                   "digest": digest, "repository": repository, "tag": tag},
        "actor": {"name": pusher}
    })
}

#[tokio::test]
async fn a_late_notification_moves_nothing_for_a_pusher_who_lost_the_role_or_into_a_younger_project()
 {
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
    let alice = env.user("alice", None).await;
    env.grant("demo", "alice", "edit").await;
    let bob = env.user("bob", None).await;
    env.grant("demo", "bob", "edit").await;
    let push = |tag: &'static str, dest: String, who: String| {
        let from = format!("{}/src/app:{tag}", source.addr);
        async move {
            let (ok, said) = copy(&from, &dest, &who).await;
            assert!(ok, "{said}");
        }
    };
    push(
        "one",
        format!("{}/demo/app:v1", env.registry),
        format!("alice:{alice}"),
    )
    .await;
    env.wait_for_tag("demo", "app", "v1", &one, PATIENCE).await;
    // Image two is in the repository too (bob pushed it as another tag).
    push(
        "two",
        format!("{}/demo/app:other", env.registry),
        format!("bob:{bob}"),
    )
    .await;
    env.wait_for_tag("demo", "app", "other", &two, PATIENCE)
        .await;

    // Alice loses her role; then a push of hers to v1 is notified (late).
    let r = crate::support::client_with_token(crate::support::ADMIN_TOKEN)
        .delete(env.url(&rolebinding("demo", "edit-alice")))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let (code, answer) = notify(
        &env,
        event("late-1", "demo/app", "v1", &two, "alice", Time::now()),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    assert_eq!(answer["refused"], 1, "{answer}");
    assert_eq!(
        env.history("demo", "app", "v1").await,
        std::slice::from_ref(&one)
    );
    checked(&env, &two).await;
    assert_eq!(
        head(&env, "demo/app", &two).await,
        StatusCode::OK,
        "a refused push's image that the stream holds anyway (as `other`) stays in the registry"
    );
    // The same push by someone who may push moves it: the refusal was alice's rights.
    let (code, answer) = notify(
        &env,
        event("late-2", "demo/app", "v1", &two, "bob", Time::now()),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    assert_eq!(answer["moved"], 1, "{answer}");
    assert_eq!(
        env.history("demo", "app", "v1").await,
        [two.clone(), one.clone()]
    );

    // A notification that does not say when the push was cannot be told from a late one.
    let mut undated = event("late-5", "demo/app", "v1", &one, "bob", Time::now());
    undated.as_object_mut().unwrap().remove("timestamp");
    let (code, answer) = notify(&env, undated).await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    assert_eq!(answer["refused"], 1, "{answer}");
    assert_eq!(
        env.history("demo", "app", "v1").await,
        [two.clone(), one.clone()]
    );

    // A project created after the push is not the one pushed to.
    env.post(PROJECTS, json!({"metadata": {"name": "fresh"}}))
        .await;
    env.grant("fresh", "bob", "edit").await;
    push(
        "two",
        format!("{}/fresh/app:other", env.registry),
        format!("bob:{bob}"),
    )
    .await;
    env.wait_for_tag("fresh", "app", "other", &two, PATIENCE)
        .await;
    let an_hour_ago = Time::from_timestamp(Time::now().timestamp() - 3600);
    let (code, answer) = notify(
        &env,
        event("late-3", "fresh/app", "v1", &two, "bob", an_hour_ago),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    assert_eq!(answer["refused"], 1, "{answer}");
    assert_eq!(
        env.history("fresh", "app", "v1").await,
        Vec::<String>::new()
    );
    let (code, answer) = notify(
        &env,
        event("late-4", "fresh/app", "v1", &two, "bob", Time::now()),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    assert_eq!(answer["moved"], 1, "{answer}");
    assert_eq!(
        env.history("fresh", "app", "v1").await,
        std::slice::from_ref(&two)
    );
    drop(env);
}

/// (A refused push's manifest is deleted from the registry: `integrated_refused_blobs`.)
#[tokio::test]
async fn a_notification_of_a_manifest_no_longer_in_the_registry_is_not_retried() {
    let source = Registry::start().await;
    let (two, _) = source
        .push_image("src/app", "two", &ImageSpec::new("two"))
        .await;
    let env = Integrated::start("").await;
    env.post(PROJECTS, json!({"metadata": {"name": "demo"}}))
        .await;
    // bob may push: the vanished manifest below is his.
    env.user("bob", None).await;
    env.grant("demo", "bob", "edit").await;

    // A notification of a manifest the registry no longer has (deleted since the push) moves
    // nothing, makes no stream and is not answered as a failure the registry would retry.
    let (code, answer) = notify(
        &env,
        event("vanished", "demo/ghost", "v1", &two, "bob", Time::now()),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    assert_eq!(answer["gone"], 1, "{answer}");
    assert_eq!(
        env.get(&tagstream_shared::paths::imagestream("demo", "ghost"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    drop(env);
}

#[tokio::test]
async fn a_refused_push_spares_an_image_a_held_list_names_or_a_rightful_pusher_stored() {
    let source = Registry::start().await;
    let (two, _) = source
        .push_image("src/app", "two", &ImageSpec::new("two"))
        .await;
    let (list, children) = source
        .push_list(
            "src/multi",
            "m",
            &[
                ImageSpec::new("amd").platform("amd64", None),
                ImageSpec::new("arm").platform("arm64", Some("v8")),
            ],
            false,
        )
        .await;
    let env = Integrated::start("").await;
    env.post(PROJECTS, json!({"metadata": {"name": "demo"}}))
        .await;
    let bob = env.user("bob", None).await;
    env.grant("demo", "bob", "edit").await;
    // bob pushes a multi-platform image: the stream's history names the list, not its children.
    let (ok, said) = skopeo(vec![
        "copy".into(),
        "--all".into(),
        "--src-tls-verify=false".into(),
        "--dest-tls-verify=false".into(),
        "--src-no-creds".into(),
        "--preserve-digests".into(),
        "--dest-creds".into(),
        format!("bob:{bob}"),
        format!("docker://{}/src/multi:m", source.addr),
        format!("docker://{}/demo/app:multi", env.registry),
    ])
    .await;
    assert!(ok, "{said}");
    env.wait_for_tag("demo", "app", "multi", &list, PATIENCE)
        .await;
    // And `two` as v2, a tag then removed from the stream (the registry keeps its tag).
    let (ok, said) = copy(
        &format!("{}/src/app:two", source.addr),
        &format!("{}/demo/app:v2", env.registry),
        &format!("bob:{bob}"),
    )
    .await;
    assert!(ok, "{said}");
    env.wait_for_tag("demo", "app", "v2", &two, PATIENCE).await;
    let r = crate::support::client_with_token(&bob)
        .delete(env.url(&tagstream_shared::paths::imagestreamtag(
            "demo", "app", "v2",
        )))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());

    // Notifications of pushes by someone who may not push (as a late one would be): a child
    // of bob's list stays (the stream holds the list); so does `two`, which only the
    // registry's v2 still names: bob, who may push there, stored it. (Another registry tag
    // alone is no reason to keep a refused image: `integrated_refused_blobs`.)
    env.user("mallory", None).await;
    for (id, tag, digest, kept) in [
        ("child", "sneaky", &children[0], StatusCode::OK),
        ("two", "v1", &two, StatusCode::OK),
    ] {
        let (code, answer) = notify(
            &env,
            event(id, "demo/app", tag, digest, "mallory", Time::now()),
        )
        .await;
        assert_eq!(code, StatusCode::OK, "{answer}");
        assert_eq!(answer["refused"], 1, "{answer}");
        checked(&env, digest).await;
        assert_eq!(head(&env, "demo/app", digest).await, kept, "{id}: {digest}");
    }
    assert_eq!(head(&env, "demo/app", "v2").await, StatusCode::OK);
    let (ok, said) = skopeo(vec![
        "inspect".into(),
        "--tls-verify=false".into(),
        "--raw".into(),
        "--creds".into(),
        format!("bob:{bob}"),
        format!("docker://{}/demo/app:multi", env.registry),
    ])
    .await;
    assert!(ok, "bob's list is whole: {said}");
    drop(env);
}
