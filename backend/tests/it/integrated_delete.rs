//! Deleting a stream or a project purges its repository from the integrated registry, so the
//! next owner of the name never gets the old images: until the purge has run (after every token
//! issued before the delete ran out) the token server grants nothing on the name; afterwards
//! the old tags and digests are unknown to the registry, and the new owner's pushes work. A
//! delete while the registry is down still purges once it is back. All real processes (the
//! `integrated_registry` harness); on PostgreSQL too with `TAGSTREAM_TEST_POSTGRES=1`.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tagstream_shared::paths::{PROJECTS, imagestream, imagestreams, project};

use crate::integrated_registry::{Integrated, TOKEN, copy, skopeo};
use crate::registry::{ImageSpec, Registry};
use crate::support::{ADMIN_TOKEN, client_with_token};

/// Registry tokens live 10 s here (the least allowed), so a purge settles within 72 s (their
/// life, the minute the registry still takes them after, and 2 s).
pub(crate) const SHORT_TOKENS: &str = "token_seconds = 10\n";
/// How long a purge may take to settle: the tokens' life, the registry's leeway, the margin,
/// and slack.
pub(crate) const SETTLES: Duration = Duration::from_secs(150);

/// A source registry holding `src/app:one`, `:two` and `:three`; their digests.
async fn source() -> (Registry, [String; 3]) {
    let source = Registry::start().await;
    let mut digests = Vec::new();
    for tag in ["one", "two", "three"] {
        let (d, _) = source
            .push_image("src/app", tag, &ImageSpec::new(tag))
            .await;
        digests.push(d);
    }
    (source, digests.try_into().unwrap())
}

/// The raw registry token the token server gives `user` for `scope`.
pub(crate) async fn registry_token(
    env: &Integrated,
    user: &str,
    token: &str,
    scope: &str,
) -> (String, Value) {
    let r = crate::support::http_client()
        .get(env.url(TOKEN))
        .query(&[("service", "tagstream-registry"), ("scope", scope)])
        .basic_auth(user, Some(token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    let jwt = body["token"].as_str().unwrap().to_owned();
    let claims = jwt.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(claims)
            .unwrap(),
    )
    .unwrap();
    (jwt, claims["access"].clone())
}

/// Waits until `user` is granted `pull` and `push` on `demo/app` again (the purge settled);
/// answers how long that took.
pub(crate) async fn wait_for_grant(env: &Integrated, user: &str, token: &str) -> Duration {
    let start = Instant::now();
    loop {
        let (_, access) = registry_token(env, user, token, "repository:demo/app:pull,push").await;
        if access
            == json!([{"type": "repository", "name": "demo/app", "actions": ["pull", "push"]}])
        {
            return start.elapsed();
        }
        assert_eq!(access, json!([]), "a partial grant while purging");
        assert!(
            start.elapsed() < SETTLES,
            "the purge of demo/app did not settle within {SETTLES:?}; server log: {}",
            std::fs::read_to_string(&env.server.stderr).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// How many purge passes failed so far, as the server's log says.
fn failed_passes(env: &Integrated) -> usize {
    std::fs::read_to_string(&env.server.stderr)
        .unwrap_or_default()
        .matches("cannot purge a registry repository yet")
        .count()
}

/// The status of a HEAD of `demo/app`'s manifest `reference`, with the admin's registry token.
async fn head_manifest(env: &Integrated, reference: &str) -> StatusCode {
    let (jwt, access) =
        registry_token(env, "admin", ADMIN_TOKEN, "repository:demo/app:pull,push").await;
    assert_ne!(access, json!([]), "the admin holds demo/app");
    crate::support::http_client()
        .head(format!(
            "http://{}/v2/demo/app/manifests/{reference}",
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

/// `skopeo inspect` of `reference` (under the integrated registry) as `user`.
pub(crate) async fn inspect(
    env: &Integrated,
    user: &str,
    token: &str,
    reference: &str,
) -> (bool, String) {
    skopeo(vec![
        "inspect".into(),
        "--tls-verify=false".into(),
        "--creds".into(),
        format!("{user}:{token}"),
        format!("docker://{}/{reference}", env.registry),
    ])
    .await
}

async fn push(env: &Integrated, source: &Registry, tag: &str, user: &str, token: &str) {
    let (ok, said) = copy(
        &format!("{}/src/app:{tag}", source.addr),
        &format!("{}/demo/app:v1", env.registry),
        &format!("{user}:{token}"),
    )
    .await;
    assert!(ok, "{user}'s push of {tag} was refused: {said}");
}

pub(crate) async fn send(
    env: &Integrated,
    client: &reqwest::Client,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> StatusCode {
    let mut req = client.request(method, env.url(path));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let code = r.status();
    assert!(
        code.is_success(),
        "{path}: {code} {}",
        r.text().await.unwrap_or_default()
    );
    code
}

/// What bob sees once the purge settled: the old tag and digests are unknown to the registry
/// (even with a stream of that name to pull from), and his own push works.
async fn next_owner_gets_nothing_old(
    env: &Integrated,
    source: &Registry,
    bob: &str,
    old: &[&str],
    new: &str,
) {
    for digest in old {
        assert_eq!(
            head_manifest(env, digest).await,
            StatusCode::NOT_FOUND,
            "{digest} was not purged"
        );
    }
    assert_eq!(
        head_manifest(env, "v1").await,
        StatusCode::NOT_FOUND,
        "the old tag stayed"
    );
    let (ok, said) = inspect(env, "bob", bob, "demo/app:v1").await;
    assert!(!ok, "bob pulled the old owner's tag: {said}");
    assert!(said.contains("manifest unknown"), "{said}");
    let (ok, said) = inspect(env, "bob", bob, &format!("demo/app@{}", old[0])).await;
    assert!(!ok, "bob pulled the old owner's digest: {said}");
    assert!(said.contains("manifest unknown"), "{said}");
    push(env, source, "three", "bob", bob).await;
    env.wait_for_tag("demo", "app", "v1", new, crate::support::PATIENCE)
        .await;
    let (ok, said) = inspect(env, "bob", bob, "demo/app:v1").await;
    assert!(ok, "bob cannot pull his own push: {said}");
    assert!(said.contains(new), "{said}");
}

/// Before the purge settled, bob gets nothing on the name: no token, no pull of the old tag.
pub(crate) async fn refused_while_purging(env: &Integrated, bob: &str) {
    let (_, access) = registry_token(env, "bob", bob, "repository:demo/app:pull,push").await;
    assert_eq!(access, json!([]), "a grant on a name still being purged");
    let (ok, said) = inspect(env, "bob", bob, "demo/app:v1").await;
    assert!(
        !ok,
        "bob pulled the old owner's tag while it was purged: {said}"
    );
    assert!(
        said.contains("denied") || said.contains("unauthorized"),
        "{said}"
    );
}

#[tokio::test]
async fn a_deleted_projects_images_never_reach_the_next_owner_of_its_name() {
    let (source, [one, _, three]) = source().await;
    let env = Integrated::start(SHORT_TOKENS).await;
    assert_eq!(
        env.data.path().join("tagstream.db").exists(),
        !crate::pg_support::on_postgres(),
        "the server runs on the database the run asked for"
    );
    env.post(PROJECTS, json!({"metadata": {"name": "demo"}}))
        .await;
    let alice = env.user("alice", None).await;
    env.grant("demo", "alice", "edit").await;
    push(&env, &source, "one", "alice", &alice).await;
    env.wait_for_tag("demo", "app", "v1", &one, crate::support::PATIENCE)
        .await;

    let started = Instant::now();
    send(
        &env,
        &env.admin,
        reqwest::Method::DELETE,
        &project("demo"),
        None,
    )
    .await;
    let deleted_in = started.elapsed();
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
    send(&env, &as_bob, reqwest::Method::POST, &imagestreams("demo"),
        Some(json!({"kind": "ImageStream", "apiVersion": "image.openshift.io/v1", "metadata": {"name": "app"}}))).await;
    refused_while_purging(&env, &bob).await;
    let settled = wait_for_grant(&env, "bob", &bob).await;
    eprintln!("project delete answered in {deleted_in:?}; purge settled {settled:?} later");
    next_owner_gets_nothing_old(&env, &source, &bob, &[&one], &three).await;
    // alice has no role in bob's project: nothing there for her.
    let (ok, said) = inspect(&env, "alice", &alice, "demo/app:v1").await;
    assert!(!ok, "{said}");
}

#[tokio::test]
async fn a_deleted_streams_images_and_history_never_reach_the_next_stream_of_its_name() {
    let (source, [one, two, three]) = source().await;
    let env = Integrated::start(SHORT_TOKENS).await;
    env.post(PROJECTS, json!({"metadata": {"name": "demo"}}))
        .await;
    let alice = env.user("alice", None).await;
    env.grant("demo", "alice", "edit").await;
    let bob = env.user("bob", None).await;
    env.grant("demo", "bob", "edit").await;
    // `one` is only in v1's history once `two` is pushed over it.
    push(&env, &source, "one", "alice", &alice).await;
    env.wait_for_tag("demo", "app", "v1", &one, crate::support::PATIENCE)
        .await;
    push(&env, &source, "two", "alice", &alice).await;
    env.wait_for_tag("demo", "app", "v1", &two, crate::support::PATIENCE)
        .await;

    send(
        &env,
        &client_with_token(&alice),
        reqwest::Method::DELETE,
        &imagestream("demo", "app"),
        None,
    )
    .await;
    send(&env, &client_with_token(&bob), reqwest::Method::POST, &imagestreams("demo"),
        Some(json!({"kind": "ImageStream", "apiVersion": "image.openshift.io/v1", "metadata": {"name": "app"}}))).await;
    refused_while_purging(&env, &bob).await;
    wait_for_grant(&env, "bob", &bob).await;
    next_owner_gets_nothing_old(&env, &source, &bob, &[&one, &two], &three).await;
}

#[tokio::test]
async fn a_delete_while_the_registry_is_down_purges_once_it_is_back() {
    let (source, [one, _, three]) = source().await;
    let mut env = Integrated::start(SHORT_TOKENS).await;
    env.post(PROJECTS, json!({"metadata": {"name": "demo"}}))
        .await;
    let alice = env.user("alice", None).await;
    env.grant("demo", "alice", "edit").await;
    let bob = env.user("bob", None).await;
    env.grant("demo", "bob", "edit").await;
    push(&env, &source, "one", "alice", &alice).await;
    env.wait_for_tag("demo", "app", "v1", &one, crate::support::PATIENCE)
        .await;

    env.child.kill().unwrap();
    env.child.wait().unwrap();
    // The delete does not fail for the registry (a pass against it would be refused at once,
    // so how long the delete took proves nothing; timings are for the benchmarks).
    send(
        &env,
        &client_with_token(&alice),
        reqwest::Method::DELETE,
        &imagestream("demo", "app"),
        None,
    )
    .await;
    // Five failed passes (backing off 1, 2, 4, 8 s) take the last past the old tokens' life:
    // a failed pass settles nothing, so still nothing for bob.
    let start = Instant::now();
    while failed_passes(&env) < 5 {
        assert!(start.elapsed() < SETTLES, "no failed purge passes logged");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, access) = registry_token(&env, "bob", &bob, "repository:demo/app:pull,push").await;
    assert_eq!(access, json!([]), "granted before any purge could run");

    env.child = Command::new("docker-registry")
        .arg("serve")
        .arg(env.data.path().join("registry.yml"))
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(&env.log).unwrap()))
        .spawn()
        .unwrap();
    wait_for_grant(&env, "bob", &bob).await;
    send(&env, &client_with_token(&bob), reqwest::Method::POST, &imagestreams("demo"),
        Some(json!({"kind": "ImageStream", "apiVersion": "image.openshift.io/v1", "metadata": {"name": "app"}}))).await;
    next_owner_gets_nothing_old(&env, &source, &bob, &[&one], &three).await;
}

/// What the admin is granted on `repository` for `actions`.
async fn admin_access(env: &Integrated, repository: &str, actions: &str) -> Value {
    registry_token(
        env,
        "admin",
        ADMIN_TOKEN,
        &format!("repository:{repository}:{actions}"),
    )
    .await
    .1
}

#[tokio::test]
async fn a_template_instances_removal_and_a_namespace_delete_hold_the_names_until_purged() {
    let env = Integrated::start(SHORT_TOKENS).await;
    env.post(PROJECTS, json!({"metadata": {"name": "demo"}}))
        .await;
    let instances = "/apis/template.openshift.io/v1/namespaces/demo/templateinstances";
    env.post(
        instances,
        json!({"kind": "TemplateInstance", "apiVersion": "template.openshift.io/v1",
               "metadata": {"name": "first"},
               "spec": {"template": {"kind": "Template", "apiVersion": "template.openshift.io/v1",
                   "metadata": {"name": "t"},
                   "objects": [{"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
                                "metadata": {"name": "tpl"}}]}}}),
    )
    .await;
    // Pulling needs the stream: there it is.
    assert_eq!(
        admin_access(&env, "demo/tpl", "pull").await,
        json!([{"type": "repository", "name": "demo/tpl", "actions": ["pull"]}])
    );
    send(
        &env,
        &env.admin,
        reqwest::Method::DELETE,
        &format!("{instances}/first"),
        None,
    )
    .await;
    assert_eq!(
        env.get(&imagestream("demo", "tpl")).await.0,
        StatusCode::NOT_FOUND,
        "the instance's stream went with it"
    );
    assert_eq!(admin_access(&env, "demo/tpl", "pull,push").await, json!([]));

    env.post(PROJECTS, json!({"metadata": {"name": "other"}}))
        .await;
    env.post(
        &imagestreams("other"),
        json!({"kind": "ImageStream", "apiVersion": "image.openshift.io/v1", "metadata": {"name": "app"}}),
    )
    .await;
    assert_ne!(
        admin_access(&env, "other/app", "pull,push").await,
        json!([])
    );
    send(
        &env,
        &env.admin,
        reqwest::Method::DELETE,
        "/api/v1/namespaces/other",
        None,
    )
    .await;
    env.post(PROJECTS, json!({"metadata": {"name": "other"}}))
        .await;
    // Its stream's repository, and any other repository of the old project, wait for the purge.
    assert_eq!(
        admin_access(&env, "other/app", "pull,push").await,
        json!([])
    );
    assert_eq!(
        admin_access(&env, "other/unnamed", "pull,push").await,
        json!([])
    );
    // Another project's names are not held.
    assert_ne!(
        admin_access(&env, "demo/fresh", "pull,push").await,
        json!([])
    );
}
