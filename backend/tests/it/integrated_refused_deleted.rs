//! What was deleted from the integrated registry stays deleted against refused pushes, and a
//! refused push's leftovers go whatever shape they came in: an image its owner deleted is not
//! brought back by someone who may no longer push there (a push that passed the check vouches
//! for what it pushed, not for what was deleted after); a manifest first uploaded as a blob goes
//! as both; a tag the refused push overwrote comes back even when its manifest is already gone.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::StatusCode;

use crate::integrated_delete::registry_token;
use crate::integrated_purge_history::{head, push_blob};
use crate::integrated_refused_blobs::{
    blob_status, bob_pushes, checked, demo, logged, push_raw, revoke_alice, source_with, tag_digest,
};
use crate::integrated_registry::{Integrated, copy_with_token};

/// Deletes manifest (or blob, `what` = "blobs") `digest` of demo/app as bob, who may delete
/// there; answers the status.
async fn bob_deletes(env: &Integrated, bob: &str, what: &str, digest: &str) -> StatusCode {
    let (jwt, _) = registry_token(env, "bob", bob, "repository:demo/app:pull,push,delete").await;
    crate::support::http_client()
        .delete(format!(
            "http://{}/v2/demo/app/{what}/{digest}",
            env.registry
        ))
        .bearer_auth(jwt)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn an_image_its_owner_deleted_is_not_brought_back_by_a_refused_push() {
    let (source, [one]) = source_with(["one"]).await;
    let env = Integrated::start("").await;
    let (alice, bob) = demo(&env).await;
    // Bob pushed `one` as `old` (so the stream's history names it), then withdrew it from the
    // registry: a release pulled for a flaw.
    bob_pushes(&env, &source, &bob, "one", "old", &one).await;
    let jwt = revoke_alice(&env, &alice).await;
    assert_eq!(
        bob_deletes(&env, &bob, "manifests", &one).await,
        StatusCode::ACCEPTED
    );
    logged(&env, "deleted from the registry: vouched for no more").await;
    assert_eq!(head(&env, "demo/app", &one).await, StatusCode::NOT_FOUND);
    // Alice, who lost her role, pushes it again by digest, blobs and all: refused, and taken
    // out again although bob once pushed it and the stream's history still names it.
    let (again, _) = push_raw(&env, &source, "one", None, &jwt).await;
    assert_eq!(again, one);
    checked(&env, &one).await;
    assert_eq!(
        head(&env, "demo/app", &one).await,
        StatusCode::NOT_FOUND,
        "the image bob deleted is back"
    );
    // Bob pushing it again himself vouches for it again.
    bob_pushes(&env, &source, &bob, "one", "again", &one).await;
    assert_eq!(head(&env, "demo/app", &one).await, StatusCode::OK);
    drop(env);
}

#[tokio::test]
async fn a_manifest_first_uploaded_as_a_blob_is_taken_out_as_both() {
    let (source, [_]) = source_with(["two"]).await;
    let env = Integrated::start("").await;
    let (alice, _) = demo(&env).await;
    let jwt = revoke_alice(&env, &alice).await;
    // Alice, who lost her role, uploads the image's manifest as a blob first, then pushes the
    // manifest by digest: two refusals of one digest.
    let r = crate::support::http_client()
        .get(format!("http://{}/v2/src/app/manifests/two", source.addr))
        .header("accept", "application/vnd.oci.image.manifest.v1+json")
        .send()
        .await
        .unwrap();
    let body = r.bytes().await.unwrap();
    let digest = push_blob(&env, &jwt, "demo/app", &body).await;
    let (two, blobs) = push_raw(&env, &source, "two", None, &jwt).await;
    assert_eq!(two, digest, "the blob is the manifest's bytes");
    checked(&env, &two).await;
    logged(&env, "its manifest was deleted from the registry").await;
    logged(&env, "the blob's link was deleted from the registry").await;
    assert_eq!(
        head(&env, "demo/app", &two).await,
        StatusCode::NOT_FOUND,
        "the refused manifest is still pullable"
    );
    assert_eq!(
        blob_status(&env, "demo/app", &two).await,
        StatusCode::NOT_FOUND,
        "the refused manifest's bytes are still fetchable as a blob"
    );
    for blob in &blobs {
        assert_eq!(
            blob_status(&env, "demo/app", blob).await,
            StatusCode::NOT_FOUND,
            "alice's blob {blob}"
        );
    }
    drop(env);
}

#[tokio::test]
async fn a_tag_a_refused_push_overwrote_comes_back_when_its_manifest_is_already_gone() {
    let (source, [one, two]) = source_with(["one", "two"]).await;
    let env = Integrated::start("").await;
    let (alice, bob) = demo(&env).await;
    bob_pushes(&env, &source, &bob, "one", "prod", &one).await;
    // Alice, who lost her role, pushes `two` over prod; before tagstream takes it out, bob
    // deletes it from the registry himself, which untags prod there (as a take-out that failed
    // after its delete leaves it).
    let jwt = revoke_alice(&env, &alice).await;
    let (ok, said) = copy_with_token(
        &format!("{}/src/app:two", source.addr),
        &format!("{}/demo/app:prod", env.registry),
        &jwt,
    )
    .await;
    assert!(ok, "{said}");
    assert_eq!(
        bob_deletes(&env, &bob, "manifests", &two).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(tag_digest(&env, "demo/app", "prod").await, None);
    checked(&env, &two).await;
    logged(
        &env,
        "the tag a refused push overwrote names the stream's image again",
    )
    .await;
    assert_eq!(
        tag_digest(&env, "demo/app", "prod").await,
        Some(one.clone()),
        "prod is missing from the registry while the stream names {one}"
    );
    drop(env);
}
