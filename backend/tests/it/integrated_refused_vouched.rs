//! What someone who may push stored stays whatever comes after: a refused push of an image that
//! shares blobs with a rightful one takes none of them out, however many rightful pushes came
//! in between (review 6 R1: only the latest 200 such pushes used to count).

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::StatusCode;

use crate::integrated_delete::registry_token;
use crate::integrated_purge_history::{head, push_blob};
use crate::integrated_refused_blobs::{
    blob_bytes, blob_status, blobs_of, bob_pushes, checked, demo, push_annotated, push_raw,
    revoke_alice, source_with,
};
use crate::integrated_registry::Integrated;
use crate::registry::Registry;

#[tokio::test]
async fn a_refused_image_sharing_blobs_with_an_old_rightful_one_takes_none_of_them() {
    let (source, [_, two]) = source_with(["one", "two"]).await;
    let env = Integrated::start("").await;
    let (alice, bob) = demo(&env).await;
    let jwt = revoke_alice(&env, &alice).await;
    // Bob stores `one` by digest (no tag names it, as a platform image before its list), then
    // goes on pushing: 250 blobs, then `two` as a tag (once it moved, everything before it was
    // heard).
    let (bob_jwt, _) = registry_token(&env, "bob", &bob, "repository:demo/app:pull,push").await;
    let (one, blobs) = push_raw(&env, &source, "one", None, &bob_jwt).await;
    for i in 0..250 {
        push_blob(
            &env,
            &bob_jwt,
            "demo/app",
            format!("filler {i}\n").as_bytes(),
        )
        .await;
    }
    bob_pushes(&env, &source, &bob, "two", "latest", &two).await;

    // Alice, who lost her role, pushes an image of her own that names the same config and
    // layers (one's manifest with an annotation): refused and taken out, and bob's image stays
    // whole.
    let hers = push_annotated(&env, &source, "one", "alice", &jwt).await;
    checked(&env, &hers).await;
    assert_eq!(head(&env, "demo/app", &hers).await, StatusCode::NOT_FOUND);
    assert_eq!(head(&env, "demo/app", &one).await, StatusCode::OK);
    for blob in &blobs {
        assert_eq!(
            blob_status(&env, "demo/app", blob).await,
            StatusCode::OK,
            "blob {blob} of bob's image"
        );
    }
    drop(env);
}

#[tokio::test]
async fn a_layer_a_rightful_client_did_not_upload_because_a_refused_one_had_stays() {
    let (source, [_]) = source_with(["one"]).await;
    let env = Integrated::start("").await;
    let (alice, bob) = demo(&env).await;
    let jwt = revoke_alice(&env, &alice).await;
    let blobs = blobs_of(&source, "src/app", "one").await;
    // Alice, who lost her role, uploads one's last layer: refused.
    let layer = blobs.last().unwrap();
    let bytes = blob_bytes(&source, "src/app", layer).await;
    assert_eq!(push_blob(&env, &jwt, "demo/app", &bytes).await, *layer);
    // Bob pushes `one` by digest; his client finds that layer in the registry and does not
    // upload it, so no notification of his names it but his manifest's.
    let (bob_jwt, _) = registry_token(&env, "bob", &bob, "repository:demo/app:pull,push").await;
    for blob in &blobs[..blobs.len() - 1] {
        let bytes = blob_bytes(&source, "src/app", blob).await;
        assert_eq!(push_blob(&env, &bob_jwt, "demo/app", &bytes).await, *blob);
    }
    let one = put_manifest(&env, &source, "one", &bob_jwt).await;
    // Once alice's upload is checked, the layer stays: bob's image uses it.
    checked(&env, layer).await;
    assert_eq!(head(&env, "demo/app", &one).await, StatusCode::OK);
    assert_eq!(
        blob_status(&env, "demo/app", layer).await,
        StatusCode::OK,
        "the layer of bob's image"
    );
    drop(env);
}

/// Puts `src/app:tag`'s manifest of `source` to demo/app by digest with `jwt`; answers its
/// digest.
async fn put_manifest(env: &Integrated, source: &Registry, tag: &str, jwt: &str) -> String {
    let body = crate::support::http_client()
        .get(format!("http://{}/v2/src/app/manifests/{tag}", source.addr))
        .header("accept", "application/vnd.oci.image.manifest.v1+json")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let digest = crate::registry::sha256(&body);
    let r = crate::support::http_client()
        .put(format!(
            "http://{}/v2/demo/app/manifests/{digest}",
            env.registry
        ))
        .bearer_auth(jwt)
        .header("content-type", "application/vnd.oci.image.manifest.v1+json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "the registry refused it");
    digest
}
