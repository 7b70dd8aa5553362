//! The purge of a deleted stream or project removes every manifest pushed to its repositories,
//! not only those its tags and history still name: a digest that left the history (a tag moved
//! past the history limit, a removed tag), one pushed by digest alone, and one the old owner
//! pushed with a token still valid while the purge was pending, and blobs pushed with no manifest
//! at all. The next owner of the name cannot pull any of them by digest. All real processes (the
//! `integrated_registry` harness, skopeo as the client); on PostgreSQL too with
//! `TAGSTREAM_TEST_POSTGRES=1`. On the store alone: the record of pushes is one row per
//! repository and digest, and a purge forgetting a digest pushed again since it read it keeps the
//! record.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tagstream_shared::paths::{PROJECTS, imagestream, imagestreams, imagestreamtag, project};

use crate::integrated_delete::{
    SHORT_TOKENS, inspect, refused_while_purging, registry_token, send, wait_for_grant,
};
use crate::integrated_registry::{Integrated, copy, copy_with_token};
use crate::pg_support::TestStore;
use crate::registry::{ImageSpec, Registry};
use crate::support::{ADMIN_TOKEN, client_with_token};

/// How long a pushed tag may take to move.
const MOVES: Duration = crate::support::PATIENCE;

/// Short registry tokens, and a history of one item per tag: a tag pushed twice forgets its
/// first image.
fn config() -> String {
    format!("{SHORT_TOKENS}[import]\nhistory_limit = 1\n")
}

/// A source registry holding `src/app:one` ... `:five`; their digests.
async fn source() -> (Registry, [String; 5]) {
    let source = Registry::start().await;
    let mut digests = Vec::new();
    for tag in ["one", "two", "three", "four", "five"] {
        let (d, _) = source
            .push_image("src/app", tag, &ImageSpec::new(tag))
            .await;
        digests.push(d);
    }
    (source, digests.try_into().unwrap())
}

/// `skopeo copy` of `src/app:tag` to `dest` (under the integrated registry) as `user`.
async fn push_as(env: &Integrated, source: &Registry, tag: &str, dest: &str, creds: &str) {
    let (ok, said) = copy(
        &format!("{}/src/app:{tag}", source.addr),
        &format!("{}/{dest}", env.registry),
        creds,
    )
    .await;
    assert!(ok, "the push of {tag} to {dest} was refused: {said}");
}

/// The status of a HEAD of `repo`'s manifest `digest` (or tag), with the admin's registry token.
pub(crate) async fn head(env: &Integrated, repo: &str, digest: &str) -> StatusCode {
    let (jwt, access) = registry_token(
        env,
        "admin",
        ADMIN_TOKEN,
        &format!("repository:{repo}:pull,push"),
    )
    .await;
    assert_ne!(access, json!([]), "the admin holds {repo}");
    crate::support::http_client()
        .head(format!(
            "http://{}/v2/{repo}/manifests/{digest}",
            env.registry
        ))
        .bearer_auth(jwt)
        .header(
            "accept",
            "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, \
             application/vnd.docker.distribution.manifest.v2+json",
        )
        .send()
        .await
        .unwrap()
        .status()
}

/// Bob, the next owner, cannot pull any of `old` (`repo@digest`) by digest, nor does the
/// registry hold them.
async fn next_owner_pulls_none_of(env: &Integrated, bob: &str, old: &[(&str, &str, &str)]) {
    for (what, repo, digest) in old {
        let (ok, said) = inspect(env, "bob", bob, &format!("{repo}@{digest}")).await;
        assert!(
            !ok,
            "bob pulled the old owner's {what} {repo}@{digest}: {said}"
        );
        assert!(said.contains("manifest unknown"), "{what}: {said}");
        assert_eq!(
            head(env, repo, digest).await,
            StatusCode::NOT_FOUND,
            "{what} {repo}@{digest} was not purged"
        );
    }
}

/// Waits until a purge pass over `repository` has finished (the server logs each).
async fn first_pass_done(env: &Integrated, repository: &str) {
    let line = format!("registry repository purged repository={repository} ");
    let start = std::time::Instant::now();
    loop {
        let log = std::fs::read_to_string(&env.server.stderr).unwrap_or_default();
        if log.contains(&line) {
            return;
        }
        assert!(
            start.elapsed() < crate::support::PATIENCE,
            "no purge pass over {repository} finished; server log: {log}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Pushes `content` as a blob alone (no manifest names it) to `repo` with registry token `jwt`,
/// as a client would (a monolithic upload); answers its digest.
pub(crate) async fn push_blob(env: &Integrated, jwt: &str, repo: &str, content: &[u8]) -> String {
    match upload(env, jwt, repo, content).await {
        Ok(digest) => digest,
        Err(status) => panic!("the upload was not started: {status}"),
    }
}

/// [`push_blob`], answering the registry's refusal to start the upload, if it refused.
async fn upload(
    env: &Integrated,
    jwt: &str,
    repo: &str,
    content: &[u8],
) -> Result<String, StatusCode> {
    let digest = crate::registry::sha256(content);
    let client = crate::support::http_client();
    let r = client
        .post(format!("http://{}/v2/{repo}/blobs/uploads/", env.registry))
        .bearer_auth(jwt)
        .send()
        .await
        .unwrap();
    if r.status() != StatusCode::ACCEPTED {
        return Err(r.status());
    }
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let location = if location.starts_with('/') {
        format!("http://{}{location}", env.registry)
    } else {
        location
    };
    let r = client
        .put(location)
        .query(&[("digest", digest.as_str())])
        .bearer_auth(jwt)
        .header("content-type", "application/octet-stream")
        .body(content.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "the blob was not stored");
    Ok(digest)
}

/// The status of a GET of blob `digest` in `repo` by `user`, with their registry token.
pub(crate) async fn get_blob(
    env: &Integrated,
    user: &str,
    token: &str,
    repo: &str,
    digest: &str,
) -> StatusCode {
    let (jwt, access) = registry_token(env, user, token, &format!("repository:{repo}:pull")).await;
    assert_ne!(access, json!([]), "{user} may pull {repo}");
    crate::support::http_client()
        .get(format!("http://{}/v2/{repo}/blobs/{digest}", env.registry))
        .bearer_auth(jwt)
        .send()
        .await
        .unwrap()
        .status()
}

fn new_stream(name: &str) -> serde_json::Value {
    json!({"kind": "ImageStream", "apiVersion": "image.openshift.io/v1", "metadata": {"name": name}})
}

#[tokio::test]
async fn digests_that_left_a_deleted_streams_history_never_reach_the_next_owner() {
    let (source, [one, two, three, four, five]) = source().await;
    let env = Integrated::start(&config()).await;
    env.post(PROJECTS, json!({"metadata": {"name": "demo"}}))
        .await;
    let alice = env.user("alice", None).await;
    env.grant("demo", "alice", "edit").await;
    let bob = env.user("bob", None).await;
    env.grant("demo", "bob", "edit").await;
    let creds = format!("alice:{alice}");

    // `one` leaves v1's history (one item long) when `two` is pushed over it.
    push_as(&env, &source, "one", "demo/app:v1", &creds).await;
    env.wait_for_tag("demo", "app", "v1", &one, MOVES).await;
    push_as(&env, &source, "two", "demo/app:v1", &creds).await;
    env.wait_for_tag("demo", "app", "v1", &two, MOVES).await;
    assert_eq!(
        env.history("demo", "app", "v1").await,
        std::slice::from_ref(&two)
    );
    // `three` leaves with its tag.
    push_as(&env, &source, "three", "demo/app:v2", &creds).await;
    env.wait_for_tag("demo", "app", "v2", &three, MOVES).await;
    send(
        &env,
        &client_with_token(&alice),
        reqwest::Method::DELETE,
        &imagestreamtag("demo", "app", "v2"),
        None,
    )
    .await;
    assert!(env.history("demo", "app", "v2").await.is_empty());
    // `four` is pushed by digest alone: no tag, no history.
    push_as(&env, &source, "four", &format!("demo/app@{four}"), &creds).await;
    // The registry notifies in order: once v3 moved, the push of `four` was heard too.
    push_as(&env, &source, "five", "demo/app:v3", &creds).await;
    env.wait_for_tag("demo", "app", "v3", &five, MOVES).await;
    // Before the delete every one of them can be pulled by digest.
    for digest in [&one, &three, &four] {
        let (ok, said) = inspect(&env, "alice", &alice, &format!("demo/app@{digest}")).await;
        assert!(ok, "alice cannot pull {digest}: {said}");
    }

    send(
        &env,
        &client_with_token(&alice),
        reqwest::Method::DELETE,
        &imagestream("demo", "app"),
        None,
    )
    .await;
    send(
        &env,
        &client_with_token(&bob),
        reqwest::Method::POST,
        &imagestreams("demo"),
        Some(new_stream("app")),
    )
    .await;
    refused_while_purging(&env, &bob).await;
    wait_for_grant(&env, "bob", &bob).await;
    next_owner_pulls_none_of(
        &env,
        &bob,
        &[
            ("tag moved past the history limit", "demo/app", &one),
            ("history", "demo/app", &two),
            ("removed tag", "demo/app", &three),
            ("digest-only push", "demo/app", &four),
            ("tag", "demo/app", &five),
        ],
    )
    .await;
}

#[tokio::test]
async fn digests_pushed_to_a_deleted_project_even_while_purging_never_reach_the_next_owner() {
    let (source, [one, two, three, four, _]) = source().await;
    let env = Integrated::start(&config()).await;
    env.post(PROJECTS, json!({"metadata": {"name": "demo"}}))
        .await;
    let alice = env.user("alice", None).await;
    env.grant("demo", "alice", "edit").await;
    let creds = format!("alice:{alice}");

    push_as(&env, &source, "one", "demo/app:v1", &creds).await;
    env.wait_for_tag("demo", "app", "v1", &one, MOVES).await;
    push_as(&env, &source, "two", "demo/app:v1", &creds).await;
    env.wait_for_tag("demo", "app", "v1", &two, MOVES).await;
    // `three` by digest alone to a repository no stream names.
    push_as(
        &env,
        &source,
        "three",
        &format!("demo/other@{three}"),
        &creds,
    )
    .await;
    assert_eq!(
        env.get(&imagestream("demo", "other")).await.0,
        StatusCode::NOT_FOUND,
        "a push by digest makes no stream"
    );

    // alice keeps a registry token from before the delete, and pushes `four` by digest with it
    // while the purge is pending: the token server grants her nothing new, the registry still
    // takes the token.
    let (jwt, access) =
        registry_token(&env, "alice", &alice, "repository:demo/app:pull,push").await;
    assert_eq!(
        access,
        json!([{"type": "repository", "name": "demo/app", "actions": ["pull", "push"]}])
    );
    // A blob pushed alone, with no manifest naming it: no tag lists it, no history names it.
    let lone_blob = push_blob(&env, &jwt, "demo/app", b"alice's lone blob").await;
    assert_eq!(
        get_blob(&env, "alice", &alice, "demo/app", &lone_blob).await,
        StatusCode::OK,
        "the lone blob can be fetched before the delete"
    );
    send(
        &env,
        &env.admin,
        reqwest::Method::DELETE,
        &project("demo"),
        None,
    )
    .await;
    // The purge's first pass runs at once and deletes what it finds, blob links included; the
    // next one waits for the old tokens to run out. alice pushes in between, as a holder of
    // such a token would (a push racing the first pass could lose its blobs to it).
    first_pass_done(&env, "demo/").await;
    let (ok, said) = copy_with_token(
        &format!("{}/src/app:four", source.addr),
        &format!("{}/demo/app@{four}", env.registry),
        &jwt,
    )
    .await;
    assert!(ok, "the old token was refused before it expired: {said}");
    let blob_while_purging = push_blob(&env, &jwt, "demo/app", b"pushed while purging").await;

    let bob = env.user("bob", None).await;
    let as_bob = client_with_token(&bob);
    send(
        &env,
        &as_bob,
        reqwest::Method::POST,
        PROJECTS,
        Some(json!({"metadata": {"name": "demo"}})),
    )
    .await;
    for name in ["app", "other"] {
        send(
            &env,
            &as_bob,
            reqwest::Method::POST,
            &imagestreams("demo"),
            Some(new_stream(name)),
        )
        .await;
    }
    refused_while_purging(&env, &bob).await;
    wait_for_grant(&env, "bob", &bob).await;
    // The purge settled only once the registry stopped taking alice's old token: it takes one
    // for a minute past its expiry, and a push with it now would land in bob's project.
    assert_eq!(
        upload(&env, &jwt, "demo/app", b"pushed after the purge").await,
        Err(StatusCode::UNAUTHORIZED),
        "the registry still took the old owner's token once the purge had settled"
    );
    next_owner_pulls_none_of(
        &env,
        &bob,
        &[
            ("tag moved past the history limit", "demo/app", &one),
            ("tag", "demo/app", &two),
            (
                "digest-only push to a repository without a stream",
                "demo/other",
                &three,
            ),
            ("digest-only push while purging", "demo/app", &four),
        ],
    )
    .await;
    for (what, blob) in [
        ("a blob pushed alone", &lone_blob),
        ("a blob pushed alone while purging", &blob_while_purging),
    ] {
        assert_eq!(
            get_blob(&env, "bob", &bob, "demo/app", blob).await,
            StatusCode::NOT_FOUND,
            "bob fetched the old owner's {what} {blob}"
        );
    }
}

#[tokio::test]
async fn pushes_are_recorded_once_per_digest_and_one_heard_again_outlives_forgetting() {
    let dir = tempfile::tempdir().unwrap();
    let test_store = TestStore::open(dir.path()).await;
    let store = test_store.as_dyn();
    let a = format!("sha256:{}", "a".repeat(64));
    let b = format!("sha256:{}", "b".repeat(64));
    // A flood of pushes of one manifest is one row.
    for _ in 0..3 {
        store.record_push("demo/app", &a, 1).await.unwrap();
    }
    store.record_push("demo/app", &b, 2).await.unwrap();
    store.record_push("demo/other", &a, 3).await.unwrap();
    store.record_push("demox/app", &a, 3).await.unwrap();
    let app = store.pushed("demo/app", 10).await.unwrap();
    let counted: Vec<(&str, i64)> = app.iter().map(|p| (p.digest.as_str(), p.pushes)).collect();
    assert_eq!(counted, [(a.as_str(), 3), (b.as_str(), 1)]);
    // A project's purge reads every repository under `demo/`, and not `demox/`.
    let project = store.pushed("demo/", 10).await.unwrap();
    let repos: Vec<&str> = project.iter().map(|p| p.repository.as_str()).collect();
    assert_eq!(repos, ["demo/app", "demo/app", "demo/other"]);
    assert_eq!(store.pushed("demo/", 2).await.unwrap().len(), 2, "bounded");
    // `a` is pushed again after the purge read it: forgetting it then keeps the record.
    store.record_push("demo/app", &a, 4).await.unwrap();
    for p in &app {
        store.forget_push(p).await.unwrap();
    }
    let left = store.pushed("demo/app", 10).await.unwrap();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!((left[0].digest.as_str(), left[0].pushes), (a.as_str(), 4));
    store.forget_push(&left[0]).await.unwrap();
    assert!(store.pushed("demo/app", 10).await.unwrap().is_empty());
    assert_eq!(store.pushed("demo/", 10).await.unwrap().len(), 1);
    test_store.close().await;
}

#[tokio::test]
async fn a_repository_of_more_tags_than_a_page_is_purged_in_one_pass() {
    let source = Registry::start().await;
    let (one, _) = source
        .push_image("src/app", "one", &ImageSpec::new("one"))
        .await;
    let env = Integrated::start(SHORT_TOKENS).await;
    env.post(PROJECTS, json!({"metadata": {"name": "demo"}}))
        .await;
    let alice = env.user("alice", None).await;
    env.grant("demo", "alice", "edit").await;
    push_as(
        &env,
        &source,
        "one",
        "demo/app:t0",
        &format!("alice:{alice}"),
    )
    .await;
    env.wait_for_tag("demo", "app", "t0", &one, MOVES).await;
    // 120 more tags of the same manifest, put straight through the registry's API: more than
    // the page of 100 the purge asks for (which distribution 2.8 does not honour).
    let (jwt, _) = registry_token(&env, "alice", &alice, "repository:demo/app:pull,push").await;
    let client = crate::support::http_client();
    let manifest = client
        .get(format!("http://{}/v2/demo/app/manifests/t0", env.registry))
        .bearer_auth(&jwt)
        .header("accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json")
        .send()
        .await
        .unwrap();
    let media = manifest.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let bytes = manifest.bytes().await.unwrap();
    for i in 1..=120 {
        let r = client
            .put(format!(
                "http://{}/v2/demo/app/manifests/t{i}",
                env.registry
            ))
            .bearer_auth(&jwt)
            .header("content-type", &media)
            .body(bytes.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "tag t{i}");
    }
    // The registry notifies in order: once t120 moved, every push was heard.
    env.wait_for_tag("demo", "app", "t120", &one, MOVES).await;
    send(
        &env,
        &client_with_token(&alice),
        reqwest::Method::DELETE,
        &imagestream("demo", "app"),
        None,
    )
    .await;
    first_pass_done(&env, "demo/app").await;
    let log = std::fs::read_to_string(&env.server.stderr).unwrap_or_default();
    let pass = log
        .lines()
        .find(|l| l.contains("registry repository purged repository=demo/app "))
        .unwrap_or_default();
    assert!(
        pass.contains("complete=true"),
        "the first pass did not list every tag at once: {pass}"
    );
}
