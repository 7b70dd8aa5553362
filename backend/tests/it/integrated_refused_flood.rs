//! A flood of refused pushes does not stall the taking out of others (review 10 F1): a revoked
//! pusher with a live registry token could push hundreds of tagged manifests into one
//! repository, and each take-out then asked the registry for every tag again (N × N reads of
//! manifests up to 4 MiB), while the flood filled every batch and another project's refused
//! image stayed pullable for minutes. Now each tag is read once a batch, and a batch takes a
//! turn of each repository with refusals due.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use tagstream_backend::store::Refusal;

use crate::integrated_refused_blobs::{
    bob_pushes, checked, demo, push_annotated_as, revoke_alice, source_with, tag_digest,
};
use crate::integrated_registry::Integrated;
use crate::pg_support::TestStore;
use crate::registry::AccessLog;

/// Tagged refused manifests pushed in the flood.
const FLOOD: usize = 16;

#[tokio::test]
async fn a_flood_of_refused_tags_is_taken_out_asking_for_each_tag_once_a_batch() {
    let (source, [one]) = source_with(["one"]).await;
    let env = Integrated::start("").await;
    let (alice, bob) = demo(&env).await;
    bob_pushes(&env, &source, &bob, "one", "v1", &one).await;

    // Alice, her role removed, still holds a registry token: she pushes images of her own under
    // tags of their own, all refused, all at once.
    let jwt = revoke_alice(&env, &alice).await;
    let tags: Vec<String> = (0..FLOOD).map(|i| format!("flood-{i}")).collect();
    let pushes = tags.iter().map(|tag| {
        let by = format!("alice as {tag}");
        let (env, source, jwt) = (&env, &source, &jwt);
        async move { push_annotated_as(env, source, "one", &by, Some(tag), jwt).await }
    });
    let digests = futures::future::join_all(pushes).await;
    let hers: Vec<(String, String)> = tags.into_iter().zip(digests).collect();
    for (_, digest) in &hers {
        checked(&env, digest).await;
    }
    for (tag, _) in &hers {
        assert_eq!(tag_digest(&env, "demo/app", tag).await, None, "{tag} stays");
    }
    assert!(tag_digest(&env, "demo/app", "v1").await.is_some());

    // Each take-out asks once for its own tag; what the repository's tags name is asked once a
    // batch: FLOOD × (batches + 1) requests, and the flood falls into one batch or a few (the
    // refusals are looked at again every 2 s while they wait). Asking again for every tag at
    // each take-out made at least FLOOD × (FLOOD + 1) / 2, however they fell into batches.
    let heads = AccessLog::of(&env.log).requests("\"HEAD /v2/demo/app/manifests/flood-");
    assert!(
        heads <= FLOOD * 8,
        "{heads} HEADs of the flood's {FLOOD} tags while taking them out"
    );
    drop(env);
}

#[tokio::test]
async fn a_batch_of_refused_pushes_takes_a_turn_of_each_repository() {
    let dir = tempfile::tempdir().unwrap();
    let test_store = TestStore::open(dir.path()).await;
    let store = test_store.as_dyn();
    let refusal = |repository: &str, i: usize, due: i64| Refusal {
        repository: repository.to_owned(),
        digest: format!("sha256:{i:064x}"),
        tag: Some(format!("t{i}")),
        blob: false,
        due,
        pushed: due - 10,
        seen: 0,
    };
    // A flood in five repositories, due first; one refusal in another, due last.
    let floods: Vec<String> = (0..5).map(|n| format!("flood{n}/app")).collect();
    for (n, repository) in floods.iter().enumerate() {
        for i in 0..20 {
            let due = 100 + i64::try_from(i).unwrap();
            store
                .refuse_later(&refusal(repository, n * 100 + i, due))
                .await
                .unwrap();
        }
    }
    store
        .refuse_later(&refusal("other/app", 999, 200))
        .await
        .unwrap();

    // Each repository's turn: the other one's refusal is in the batch, though 100 of the
    // flood's were due before it.
    let due = store.due_refusals(300, 16, 64).await.unwrap();
    assert_eq!(due.len(), 64);
    let count = |repo: &str| due.iter().filter(|r| r.repository == repo).count();
    assert_eq!(
        count("other/app"),
        1,
        "the other repository is not left out"
    );
    for repository in &floods {
        assert!(
            (12..=13).contains(&count(repository)),
            "{repository}: {}",
            count(repository)
        );
    }
    // Each repository's earliest first.
    let first: Vec<i64> = due
        .iter()
        .filter(|r| r.repository == "flood0/app")
        .map(|r| r.due)
        .collect();
    assert_eq!(first, (100..113).collect::<Vec<_>>());
    // One repository's turn is bounded, so is the whole batch, and what is not yet due waits.
    let alone = store.due_refusals(300, 4, 64).await.unwrap();
    assert_eq!(alone.len(), 21, "4 of each flood, 1 other");
    assert_eq!(store.due_refusals(300, 16, 5).await.unwrap().len(), 5);
    assert!(store.due_refusals(99, 16, 64).await.unwrap().is_empty());
    test_store.close().await;
}
