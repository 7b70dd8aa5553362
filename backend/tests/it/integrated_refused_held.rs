//! What a refused push's take-out deletes is held, and put back when a rightful push made before
//! the delete turns out to use it (review 8 C4): the registry serves the refused push's blobs
//! until they are deleted, so a rightful client pushing meanwhile skips them, and its
//! notification can come after the delete (here the registry's notifications are held back by a
//! proxy, as a backlog or a slow tagstream holds them).

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::StatusCode;
use tagstream_backend::store::Held;

use crate::faults::Fault;
use crate::integrated_delete::registry_token;
use crate::integrated_purge_history::head;
use crate::integrated_refused_blobs::{
    blob_status, blobs_of, checked, demo, logged, push_annotated, push_raw, revoke_alice,
    source_with, tag_digest,
};
use crate::integrated_registry::{Integrated, NOTIFICATIONS, copy, skopeo};
use crate::pg_support::TestStore;
use crate::registry::{AccessLog, Registry};
use crate::support::PATIENCE;

/// Alice, who lost her role, pushes `src/app:one` of `source` as `demo/app:v1` (refused); then
/// the registry's notifications are held back. Answers the refused image's digest and blobs.
async fn refused_then_held(
    env: &Integrated,
    proxy: &crate::faults::FaultProxy,
    source: &Registry,
    alice: &str,
) -> (String, Vec<String>) {
    let jwt = revoke_alice(env, alice).await;
    let (refused, blobs) = push_raw(env, source, "one", Some("v1"), &jwt).await;
    logged(env, "a pushed tag was not moved").await;
    proxy.set(Fault::Status500, "POST", NOTIFICATIONS);
    (refused, blobs)
}

/// Waits until the refused push of `digest` is taken out, and shows it took `blob` out of
/// `demo/app` (the rightful push's notification is still held back).
async fn taken_out(env: &Integrated, digest: &str, blob: &str) {
    checked(env, digest).await;
    assert_eq!(head(env, "demo/app", digest).await, StatusCode::NOT_FOUND);
    assert_eq!(
        blob_status(env, "demo/app", blob).await,
        StatusCode::NOT_FOUND,
        "the take-out did not delete the refused push's blob: this test shows nothing"
    );
}

/// Whether bob can copy `demo/app@reference` out of the registry, every blob of it.
async fn bob_pulls(env: &Integrated, bob: &str, reference: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    skopeo(vec![
        "copy".into(),
        "--src-tls-verify=false".into(),
        "--src-creds".into(),
        format!("bob:{bob}"),
        format!("docker://{}/demo/app{reference}", env.registry),
        format!("dir:{}", dir.path().display()),
    ])
    .await
}

#[tokio::test]
async fn a_rightful_image_sharing_a_refused_ones_layers_pushed_before_the_take_out_is_put_back() {
    let (source, [one]) = source_with(["one"]).await;
    let (env, proxy) = Integrated::start_held("").await;
    let (alice, bob) = demo(&env).await;
    // (A stream for bob to pull from: no tag push creates it here.)
    env.post(
        &tagstream_shared::paths::imagestreams("demo"),
        serde_json::json!({"metadata": {"name": "app"}}),
    )
    .await;
    let (refused, blobs) = refused_then_held(&env, &proxy, &source, &alice).await;
    assert_eq!(refused, one);

    // Bob pushes an image of his own naming the same config and layers (one's manifest with an
    // annotation): his client uploads none of them, since the registry has them.
    let (bob_jwt, _) = registry_token(&env, "bob", &bob, "repository:demo/app:pull,push").await;
    let his = push_annotated(&env, &source, "one", "bob", &bob_jwt).await;

    // With his notification still queued, the refused push is taken out, its blobs with it.
    taken_out(&env, &refused, blobs.last().unwrap()).await;

    // His notification comes: what his image uses is back, and it pulls whole.
    proxy.clear();
    logged(&env, "a refused push's take-out had deleted a blob").await;
    for blob in &blobs {
        assert_eq!(
            blob_status(&env, "demo/app", blob).await,
            StatusCode::OK,
            "blob {blob} of bob's image"
        );
    }
    let (ok, said) = bob_pulls(&env, &bob, &format!("@{his}")).await;
    assert!(ok, "bob's image does not pull: {said}");
    // The refused image stays out; the hold is let go once the notifications were read.
    assert_eq!(
        head(&env, "demo/app", &refused).await,
        StatusCode::NOT_FOUND
    );
    // Every hold (each blob and the manifest) is let go, and what was put back is not linked
    // again: a mount over a link a pull reads answered it 500 (review 12 G3).
    let holds = blobs.len() + 1;
    logged_times(
        &env,
        "a refused push's take-out let go of what it held",
        holds,
    )
    .await;
    let log = AccessLog::of(&env.log);
    for blob in &blobs {
        let mounts = log.requests(&format!("/v2/demo/app/blobs/uploads/?mount={blob}"));
        assert_eq!(mounts, 1, "blob {blob} linked again {mounts} times");
    }
    drop(env);
}

/// Waits until the server's log has `line` `times` times or more.
async fn logged_times(env: &Integrated, line: &str, times: usize) {
    let start = std::time::Instant::now();
    loop {
        let log = std::fs::read_to_string(&env.server.stderr).unwrap_or_default();
        if log.lines().filter(|l| l.contains(line)).count() >= times {
            return;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "the server logged {line:?} fewer than {times} times; its log: {log}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_rightful_push_of_the_refused_image_itself_before_the_take_out_is_put_back_and_moves_its_tag()
 {
    let (source, [one]) = source_with(["one"]).await;
    let (env, proxy) = Integrated::start_held("").await;
    let (alice, bob) = demo(&env).await;
    let (refused, blobs) = refused_then_held(&env, &proxy, &source, &alice).await;

    // Bob pushes the same build as v2 with skopeo: it uploads nothing, the registry has it all.
    let (ok, said) = copy(
        &format!("{}/src/app:one", source.addr),
        &format!("{}/demo/app:v2", env.registry),
        &format!("bob:{bob}"),
    )
    .await;
    assert!(ok, "{said}");
    taken_out(&env, &refused, blobs.last().unwrap()).await;
    assert_eq!(tag_digest(&env, "demo/app", "v2").await, None);

    proxy.clear();
    env.wait_for_tag("demo", "app", "v2", &one, PATIENCE).await;
    assert_eq!(tag_digest(&env, "demo/app", "v2").await, Some(one.clone()));
    assert_eq!(blobs_of(&source, "src/app", "one").await, blobs);
    for blob in &blobs {
        assert_eq!(blob_status(&env, "demo/app", blob).await, StatusCode::OK);
    }
    let (ok, said) = bob_pulls(&env, &bob, ":v2").await;
    assert!(ok, "bob's push does not pull: {said}");
    drop(env);
}

#[tokio::test]
async fn a_late_notification_of_an_earlier_delete_does_not_shorten_a_newer_hold() {
    let dir = tempfile::tempdir().unwrap();
    let test_store = TestStore::open(dir.path()).await;
    let store = test_store.as_dyn();
    let digest = format!("sha256:{}", "d".repeat(64));
    // The same blob was taken out at 100 and held; it had been taken out once before, at 50.
    let held = Held {
        repository: "demo/app".to_owned(),
        digest: digest.clone(),
        manifest: None,
        deleted: 100,
        restored: false,
    };
    store.hold(&held).await.unwrap();
    // The registry's notification of the delete at 50 comes late: this hold is not told of.
    store
        .delete_heard("demo/app", &digest, 52, 120)
        .await
        .unwrap();
    assert!(store.due_holds(1_000, 0, 10).await.unwrap().is_empty());
    // The notification of its own delete does.
    store
        .delete_heard("demo/app", &digest, 102, 130)
        .await
        .unwrap();
    assert_eq!(store.due_holds(130, 0, 10).await.unwrap(), [held]);
    assert!(
        store.due_holds(129, 0, 10).await.unwrap().is_empty(),
        "heard at 130"
    );
    test_store.close().await;
}
