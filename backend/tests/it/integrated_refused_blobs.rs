//! What a refused push leaves in the integrated registry is taken out again, blobs included: a
//! registry token outlives a removed role (and an upload begun before a delete can land after the
//! name's purge), so the registry stores what tagstream then refuses. A blob pushed alone by
//! someone who may no longer push loses its link, unless a manifest of the repository uses it
//! (deleting it then would break a rightful image); a refused image takes the blobs only it
//! used along, and the tag it overwrote names the stream's image again; a manifest pushed by
//! digest alone is refused like a tagged one.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tagstream_shared::Time;
use tagstream_shared::paths::{PROJECTS, rolebinding};

use crate::integrated_delete::registry_token;
use crate::integrated_late_push::{event, notify};
use crate::integrated_purge_history::{get_blob, head, push_blob};
use crate::integrated_registry::{Integrated, copy, copy_with_token, skopeo};
use crate::registry::{ImageSpec, Registry};
use crate::support::{ADMIN_TOKEN, PATIENCE};

const MANIFESTS: &str = "application/vnd.oci.image.manifest.v1+json, \
     application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json";

/// A source registry with an image of its own as `src/app:{tag}` for each of `tags`; answers it
/// and their manifests' digests.
pub(crate) async fn source_with<const N: usize>(tags: [&str; N]) -> (Registry, [String; N]) {
    let source = Registry::start().await;
    let mut digests = Vec::with_capacity(N);
    for tag in tags {
        digests.push(
            source
                .push_image("src/app", tag, &ImageSpec::new(tag))
                .await
                .0,
        );
    }
    (source, digests.try_into().unwrap())
}

/// The manifest of `repo:tag` in the (unauthenticated) source registry.
async fn source_manifest(source: &Registry, repo: &str, tag: &str) -> Value {
    crate::support::http_client()
        .get(format!("http://{}/v2/{repo}/manifests/{tag}", source.addr))
        .header("accept", MANIFESTS)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The config and layer digests of `repo:tag` in the (unauthenticated) source registry.
pub(crate) async fn blobs_of(source: &Registry, repo: &str, tag: &str) -> Vec<String> {
    let m = source_manifest(source, repo, tag).await;
    std::iter::once(&m["config"])
        .chain(m["layers"].as_array().unwrap())
        .map(|d| d["digest"].as_str().unwrap().to_owned())
        .collect()
}

/// The bytes of blob `digest` in the source registry.
pub(crate) async fn blob_bytes(source: &Registry, repo: &str, digest: &str) -> Vec<u8> {
    crate::support::http_client()
        .get(format!("http://{}/v2/{repo}/blobs/{digest}", source.addr))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec()
}

/// The digest `repo:tag` names in the integrated registry, if it has the tag (admin's token).
pub(crate) async fn tag_digest(env: &Integrated, repo: &str, tag: &str) -> Option<String> {
    let (jwt, _) = registry_token(
        env,
        "admin",
        ADMIN_TOKEN,
        &format!("repository:{repo}:pull"),
    )
    .await;
    let r = crate::support::http_client()
        .head(format!("http://{}/v2/{repo}/manifests/{tag}", env.registry))
        .bearer_auth(jwt)
        .header("accept", MANIFESTS)
        .send()
        .await
        .unwrap();
    (r.status() == StatusCode::OK).then(|| {
        r.headers()["docker-content-digest"]
            .to_str()
            .unwrap()
            .to_owned()
    })
}

/// The status of a GET of blob `digest` in `repo` with the admin's registry token (asking to
/// push too: a repository with no stream yet grants nothing to pull).
pub(crate) async fn blob_status(env: &Integrated, repo: &str, digest: &str) -> StatusCode {
    let (jwt, _) = registry_token(
        env,
        "admin",
        ADMIN_TOKEN,
        &format!("repository:{repo}:pull,push"),
    )
    .await;
    crate::support::http_client()
        .get(format!("http://{}/v2/{repo}/blobs/{digest}", env.registry))
        .bearer_auth(jwt)
        .send()
        .await
        .unwrap()
        .status()
}

/// Waits until the server's log has `line`.
pub(crate) async fn logged(env: &Integrated, line: &str) {
    let start = Instant::now();
    loop {
        let log = std::fs::read_to_string(&env.server.stderr).unwrap_or_default();
        if log.contains(line) {
            return;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "the server never logged {line:?}; its log: {log}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the refused push of `digest` was checked again and taken out of the registry (or
/// kept): that happens a few seconds after its notification, once the ones queued behind it
/// were read.
pub(crate) async fn checked(env: &Integrated, digest: &str) {
    let start = Instant::now();
    loop {
        let log = std::fs::read_to_string(&env.server.stderr).unwrap_or_default();
        if log
            .lines()
            .any(|l| l.contains("a refused push was checked") && l.contains(digest))
        {
            return;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "the refused push of {digest} was never checked; server log: {log}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A project `demo` where alice and bob may push; answers their API tokens.
pub(crate) async fn demo(env: &Integrated) -> (String, String) {
    env.post(PROJECTS, json!({"metadata": {"name": "demo"}}))
        .await;
    let alice = env.user("alice", None).await;
    env.grant("demo", "alice", "edit").await;
    let bob = env.user("bob", None).await;
    env.grant("demo", "bob", "edit").await;
    (alice, bob)
}

/// A registry token alice takes while she may push to demo/app, then the removal of her role:
/// the token stays good with the registry (it checks the token, not the role).
pub(crate) async fn revoke_alice(env: &Integrated, alice: &str) -> String {
    let (jwt, _) = registry_token(env, "alice", alice, "repository:demo/app:pull,push").await;
    let r = crate::support::client_with_token(ADMIN_TOKEN)
        .delete(env.url(&rolebinding("demo", "edit-alice")))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    jwt
}

/// Bob pushes `src/app:from` of `source` as `demo/app:tag` with skopeo; waits for the tag to
/// name `digest`.
pub(crate) async fn bob_pushes(
    env: &Integrated,
    source: &Registry,
    bob: &str,
    from: &str,
    tag: &str,
    digest: &str,
) {
    let (ok, said) = copy(
        &format!("{}/src/app:{from}", source.addr),
        &format!("{}/demo/app:{tag}", env.registry),
        &format!("bob:{bob}"),
    )
    .await;
    assert!(ok, "{said}");
    env.wait_for_tag("demo", "app", tag, digest, PATIENCE).await;
}

/// Bob removes `tag` from the stream (the registry keeps its tag).
async fn bob_drops(env: &Integrated, bob: &str, tag: &str) {
    let r = crate::support::client_with_token(bob)
        .delete(env.url(&tagstream_shared::paths::imagestreamtag("demo", "app", tag)))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
}

#[tokio::test]
async fn a_blob_pushed_alone_after_its_pusher_lost_the_role_is_unlinked_unless_an_image_uses_it() {
    let (source, [_]) = source_with(["one"]).await;
    let env = Integrated::start("").await;
    let (alice, bob) = demo(&env).await;
    let (ok, said) = copy(
        &format!("{}/src/app:one", source.addr),
        &format!("{}/demo/app:v1", env.registry),
        &format!("bob:{bob}"),
    )
    .await;
    assert!(ok, "{said}");
    let one_blobs = blobs_of(&source, "src/app", "one").await;

    // Alice keeps a registry token from while she could push, and loses her role; the registry
    // still takes her uploads (it checks the token): first one of the layers of bob's image,
    // then a blob of her own that no manifest names.
    let jwt = revoke_alice(&env, &alice).await;
    let shared = one_blobs.last().unwrap();
    let bytes = blob_bytes(&source, "src/app", shared).await;
    assert_eq!(push_blob(&env, &jwt, "demo/app", &bytes).await, *shared);
    let own = push_blob(&env, &jwt, "demo/app", b"alice's late upload\n").await;

    // Her blob's link goes (a few seconds after its notification): nobody can fetch it by
    // digest from this repository now.
    let start = Instant::now();
    while get_blob(&env, "admin", ADMIN_TOKEN, "demo/app", &own).await != StatusCode::NOT_FOUND {
        assert!(
            start.elapsed() < PATIENCE,
            "alice's refused blob {own} is still in demo/app; server log: {}",
            std::fs::read_to_string(&env.server.stderr).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The layer bob's image uses stays, and bob's image is whole.
    checked(&env, shared).await;
    assert_eq!(
        get_blob(&env, "bob", &bob, "demo/app", shared).await,
        StatusCode::OK
    );
    let dir = tempfile::tempdir().unwrap();
    let (ok, said) = skopeo(vec![
        "copy".into(),
        "--src-tls-verify=false".into(),
        "--src-creds".into(),
        format!("bob:{bob}"),
        format!("docker://{}/demo/app:v1", env.registry),
        format!("dir:{}", dir.path().display()),
    ])
    .await;
    assert!(ok, "bob's image lost a layer: {said}");
    drop(env);
}

#[tokio::test]
async fn a_refused_image_takes_its_own_blobs_along_and_the_tag_it_overwrote_comes_back() {
    let (source, [one, two]) = source_with(["one", "two"]).await;
    let env = Integrated::start("").await;
    let (alice, bob) = demo(&env).await;
    bob_pushes(&env, &source, &bob, "one", "v1", &one).await;
    // Alice, with a token from before she lost her role, pushes `two` over v1 (its blobs, then
    // its manifest: the registry takes them all, it checks the token).
    let jwt = revoke_alice(&env, &alice).await;
    let (pushed, _) = push_raw(&env, &source, "two", Some("v1"), &jwt).await;
    assert_eq!(pushed, two);
    // And as a tag the stream does not have: another registry tag is no reason to keep it.
    push_raw(&env, &source, "two", Some("v9"), &jwt).await;
    let start = Instant::now();
    while head(&env, "demo/app", &two).await != StatusCode::NOT_FOUND {
        assert!(
            start.elapsed() < PATIENCE,
            "the refused image {two} is still in demo/app"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    logged(
        &env,
        "the tag a refused push overwrote names the stream's image again",
    )
    .await;
    // v1 in the registry names the stream's image again, not nothing.
    assert_eq!(tag_digest(&env, "demo/app", "v1").await, Some(one.clone()));
    assert_eq!(
        env.history("demo", "app", "v1").await,
        std::slice::from_ref(&one)
    );
    // The blobs only `two` used are gone; those `one` uses (a shared base layer) stay.
    let one_blobs = blobs_of(&source, "src/app", "one").await;
    let two_blobs = blobs_of(&source, "src/app", "two").await;
    let mut only_two = 0;
    for blob in &two_blobs {
        let expected = if one_blobs.contains(blob) {
            StatusCode::OK
        } else {
            only_two += 1;
            StatusCode::NOT_FOUND
        };
        assert_eq!(
            get_blob(&env, "bob", &bob, "demo/app", blob).await,
            expected,
            "blob {blob} of the refused image"
        );
    }
    assert!(only_two > 0 && only_two < two_blobs.len(), "{two_blobs:?}");
    drop(env);
}

#[tokio::test]
async fn a_manifest_pushed_by_digest_alone_is_refused_like_a_tagged_one() {
    let (source, [_, _]) = source_with(["two", "three"]).await;
    let env = Integrated::start("").await;
    let (alice, bob) = demo(&env).await;
    let jwt = revoke_alice(&env, &alice).await;
    // A push by digest alone (no tag) by someone who may no longer push there is refused and
    // taken out, blobs and all; the same by someone who may push is left alone.
    let (two, two_blobs) = push_raw(&env, &source, "two", None, &jwt).await;
    checked(&env, &two).await;
    assert_eq!(head(&env, "demo/app", &two).await, StatusCode::NOT_FOUND);
    for blob in &two_blobs {
        checked(&env, blob).await;
        assert_eq!(
            blob_status(&env, "demo/app", blob).await,
            StatusCode::NOT_FOUND,
            "alice's blob {blob}"
        );
    }
    let (bob_jwt, _) = registry_token(&env, "bob", &bob, "repository:demo/app:pull,push").await;
    let (three, _) = push_raw(&env, &source, "three", None, &bob_jwt).await;
    // Bob's notifications come after alice's were checked; once his manifest's is read (the
    // registry sends them in order, so a later push's notification tells), nothing of his was
    // refused.
    let (code, answer) = notify(
        &env,
        event("after-bob", "demo/app", "", &three, "bob", Time::now()),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    assert_eq!(head(&env, "demo/app", &three).await, StatusCode::OK);
    assert!(
        !std::fs::read_to_string(&env.server.stderr)
            .unwrap_or_default()
            .contains(&three),
        "bob's push by digest was refused"
    );
    drop(env);
}

#[tokio::test]
async fn a_rightful_push_of_the_same_image_soon_after_a_refused_one_keeps_it() {
    let (source, [one, two]) = source_with(["one", "two"]).await;
    let env = Integrated::start("").await;
    let (alice, bob) = demo(&env).await;
    for (tag, digest) in [("v1", &one), ("v2", &two)] {
        let from = if tag == "v1" { "one" } else { "two" };
        bob_pushes(&env, &source, &bob, from, tag, digest).await;
    }
    // `two` stays in the registry only as its tag v2 (the stream drops the tag).
    bob_drops(&env, &bob, "v2").await;

    // Alice, who lost her role, pushes `two` over v1: refused. Right behind it (as when the
    // registry sends a backlog) comes bob's push of the same image as v3.
    let jwt = revoke_alice(&env, &alice).await;
    let (ok, said) = copy_with_token(
        &format!("{}/src/app:two", source.addr),
        &format!("{}/demo/app:v1", env.registry),
        &jwt,
    )
    .await;
    assert!(ok, "{said}");
    let (code, answer) = notify(
        &env,
        event("bob-v3", "demo/app", "v3", &two, "bob", Time::now()),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    assert_eq!(answer["moved"], 1, "bob's push moved nothing: {answer}");

    // Once alice's push is checked again, the image stays (the stream holds it now) and v1
    // names the stream's image again.
    checked(&env, &two).await;
    logged(
        &env,
        "the tag a refused push overwrote names the stream's image again",
    )
    .await;
    assert_eq!(head(&env, "demo/app", &two).await, StatusCode::OK);
    assert_eq!(
        env.history("demo", "app", "v3").await,
        std::slice::from_ref(&two)
    );
    assert_eq!(tag_digest(&env, "demo/app", "v1").await, Some(one.clone()));
    assert_eq!(
        env.history("demo", "app", "v1").await,
        std::slice::from_ref(&one)
    );
    drop(env);
}

#[tokio::test]
async fn a_refused_push_of_an_image_the_stream_holds_cannot_roll_a_tag_back() {
    let (source, [one, two]) = source_with(["one", "two"]).await;
    let env = Integrated::start("").await;
    let (alice, bob) = demo(&env).await;
    for (from, tag, digest) in [("one", "old", &one), ("two", "prod", &two)] {
        bob_pushes(&env, &source, &bob, from, tag, digest).await;
    }
    // Alice, who lost her role, pushes the old image over prod: an image the stream holds (as
    // `old`), so it stays in the registry, but prod there must not name it.
    let jwt = revoke_alice(&env, &alice).await;
    let (ok, said) = copy_with_token(
        &format!("{}/src/app:one", source.addr),
        &format!("{}/demo/app:prod", env.registry),
        &jwt,
    )
    .await;
    assert!(ok, "{said}");
    checked(&env, &one).await;
    logged(
        &env,
        "the tag a refused push overwrote names the stream's image again",
    )
    .await;
    assert_eq!(
        tag_digest(&env, "demo/app", "prod").await,
        Some(two.clone())
    );
    assert_eq!(tag_digest(&env, "demo/app", "old").await, Some(one.clone()));
    assert_eq!(
        env.history("demo", "app", "prod").await,
        std::slice::from_ref(&two)
    );
    drop(env);
}

/// Pushes an image of `by`'s own to `demo/app` by digest alone with registry token `jwt`: the
/// manifest of `src/app:tag` of `source` with an annotation, so it names the same config and
/// layers, none of them uploaded (the registry must have them); answers its digest.
pub(crate) async fn push_annotated(
    env: &Integrated,
    source: &Registry,
    tag: &str,
    by: &str,
    jwt: &str,
) -> String {
    push_annotated_as(env, source, tag, by, None, jwt).await
}

/// [`push_annotated`], as `as_tag` when given.
pub(crate) async fn push_annotated_as(
    env: &Integrated,
    source: &Registry,
    tag: &str,
    by: &str,
    as_tag: Option<&str>,
    jwt: &str,
) -> String {
    let oci = "application/vnd.oci.image.manifest.v1+json";
    let mut manifest = source_manifest(source, "src/app", tag).await;
    assert_eq!(manifest["mediaType"], oci, "the source's images are OCI");
    manifest["annotations"] = json!({ "by": by });
    let body = serde_json::to_vec(&manifest).unwrap();
    let digest = crate::registry::sha256(&body);
    let reference = as_tag.unwrap_or(&digest);
    let r = crate::support::http_client()
        .put(format!(
            "http://{}/v2/demo/app/manifests/{reference}",
            env.registry
        ))
        .bearer_auth(jwt)
        .header("content-type", oci)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "the registry refused it");
    digest
}

/// Pushes `src/app:tag` of `source` to `demo/app` as `as_tag`, or by digest alone (no tag names
/// it: as a multi-platform push stores each platform's image before the list), with registry
/// token `jwt`, blobs then manifest as a client does; answers the manifest's digest and its
/// blobs.
pub(crate) async fn push_raw(
    env: &Integrated,
    source: &Registry,
    tag: &str,
    as_tag: Option<&str>,
    jwt: &str,
) -> (String, Vec<String>) {
    let blobs = blobs_of(source, "src/app", tag).await;
    for blob in &blobs {
        let bytes = blob_bytes(source, "src/app", blob).await;
        assert_eq!(push_blob(env, jwt, "demo/app", &bytes).await, *blob);
    }
    let r = crate::support::http_client()
        .get(format!("http://{}/v2/src/app/manifests/{tag}", source.addr))
        .header("accept", MANIFESTS)
        .send()
        .await
        .unwrap();
    let media = r.headers()["content-type"].to_str().unwrap().to_owned();
    let body = r.bytes().await.unwrap();
    let digest = crate::registry::sha256(&body);
    let reference = as_tag.unwrap_or(&digest);
    let r = crate::support::http_client()
        .put(format!(
            "http://{}/v2/demo/app/manifests/{reference}",
            env.registry
        ))
        .bearer_auth(jwt)
        .header("content-type", media)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "the manifest was not stored"
    );
    (digest, blobs)
}

#[tokio::test]
async fn what_someone_who_may_push_stored_by_digest_survives_a_refused_push_of_it() {
    let (source, [_]) = source_with(["three"]).await;
    let env = Integrated::start("").await;
    let (alice, bob) = demo(&env).await;
    let jwt = revoke_alice(&env, &alice).await;
    // Bob stores an image by digest (no tag, no list yet): its notifications are his.
    let (bob_jwt, _) = registry_token(&env, "bob", &bob, "repository:demo/app:pull,push").await;
    let (three, blobs) = push_raw(&env, &source, "three", None, &bob_jwt).await;
    // Alice, who lost her role, uploads one of its layers again, and someone who may not push
    // there pushes the same manifest by digest: both refused, and neither takes out what bob
    // stored.
    let layer = blobs.last().unwrap();
    let bytes = blob_bytes(&source, "src/app", layer).await;
    assert_eq!(push_blob(&env, &jwt, "demo/app", &bytes).await, *layer);
    checked(&env, layer).await;
    env.user("mallory", None).await;
    let (code, answer) = notify(
        &env,
        event(
            "mallory-three",
            "demo/app",
            "",
            &three,
            "mallory",
            Time::now(),
        ),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    assert_eq!(answer["refused"], 1, "{answer}");
    checked(&env, &three).await;
    assert_eq!(head(&env, "demo/app", &three).await, StatusCode::OK);
    for blob in &blobs {
        assert_eq!(
            blob_status(&env, "demo/app", blob).await,
            StatusCode::OK,
            "bob's blob {blob}"
        );
    }
    drop(env);
}

#[tokio::test]
async fn a_list_naming_a_layer_does_not_hold_up_the_notifications_behind_it() {
    let (source, [one]) = source_with(["one"]).await;
    let env = Integrated::start("").await;
    let (_, bob) = demo(&env).await;
    // An index whose "child" is a layer: distribution takes it, and answers 500 when that
    // child is asked for as a manifest.
    let (jwt, _) = registry_token(&env, "bob", &bob, "repository:demo/poison:pull,push").await;
    let layer = push_blob(&env, &jwt, "demo/poison", b"a layer, not an image\n").await;
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": layer, "size": 22,
            "platform": {"architecture": "amd64", "os": "linux"}
        }]
    })
    .to_string();
    let r = crate::support::http_client()
        .put(format!(
            "http://{}/v2/demo/poison/manifests/zz",
            env.registry
        ))
        .bearer_auth(&jwt)
        .header("content-type", "application/vnd.oci.image.index.v1+json")
        .body(index)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "the registry refused the index"
    );
    logged(&env, "which the registry cannot read as an image").await;
    // The registry's next notifications are read: a push right after moves its tag.
    bob_pushes(&env, &source, &bob, "one", "v1", &one).await;
    drop(env);
}
