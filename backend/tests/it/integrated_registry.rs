//! The integrated registry, all real processes: Debian's `docker-registry` on loopback,
//! configured by `tagstream registry-config` to use a real `tagstream serve` as its token server
//! and notification endpoint, and Debian's `skopeo` as the client. A push with a user's API
//! token moves the tag at once and fires the trigger; a viewer can pull but not push; a user
//! without a role gets no access, whether or not the project exists; a notification delivered
//! twice moves the tag once (`integrated_receivers`).

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tagstream_shared::paths::{PROJECTS, imagestreamtag, rolebindings, tokens, triggers};

use crate::receiver::Receiver;
use crate::registry::{ImageSpec, Registry};
use crate::server::Server;
use crate::support::{ADMIN_TOKEN, client_with_token};

const SERVICE: &str = "tagstream-registry";
pub const TOKEN: &str = "/apis/tagstream.io/v1/registry/token";
pub const NOTIFICATIONS: &str = "/apis/tagstream.io/v1/registry/notifications";
/// `[registry] public_host`: what clients are told to pull from.
pub const PUBLIC_HOST: &str = "registry.example.test";

/// tagstream serving with `[registry]`, and the registry it configured.
pub struct Integrated {
    pub server: Server,
    pub data: tempfile::TempDir,
    /// `127.0.0.1:PORT` of the integrated registry.
    pub registry: String,
    pub child: Child,
    pub log: PathBuf,
    pub admin: reqwest::Client,
}

impl Drop for Integrated {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Integrated {
    /// Starts tagstream with `[registry]` (and `extra` config), writes the registry's config
    /// with `tagstream registry-config` and starts `docker-registry serve` with it.
    pub async fn start(extra: &str) -> Self {
        Self::start_with(extra, false).await.0
    }

    /// As [`Self::start`], with the registry's notifications sent through a proxy that can hold
    /// them back (answering the registry 500, so that it queues them and tries again, as when
    /// tagstream is slow or away); answers the proxy too.
    pub async fn start_held(extra: &str) -> (Self, crate::faults::FaultProxy) {
        let (env, proxy) = Self::start_with(extra, true).await;
        (env, proxy.unwrap())
    }

    async fn start_with(extra: &str, held: bool) -> (Self, Option<crate::faults::FaultProxy>) {
        let data = tempfile::tempdir().unwrap();
        let port = crate::support::reserved_port();
        let registry = format!("127.0.0.1:{port}");
        if crate::pg_support::on_postgres() {
            let url = crate::pg_support::fresh_database().await;
            std::fs::write(data.path().join(crate::server::DATABASE_MARKER), url).unwrap();
        }
        let section = format!(
            "[registry]\nurl = \"http://{registry}\"\npublic_host = \"{PUBLIC_HOST}\"\n{extra}"
        );
        let server = Server::start_with(data.path(), Path::new("/nonexistent"), &section);
        let yml = data.path().join("registry.yml");
        let mut config = Command::new(env!("CARGO_BIN_EXE_tagstream"));
        config.arg("registry-config");
        // The keys are in the server's database: registry-config reads the same one.
        if let Ok(url) = std::fs::read_to_string(data.path().join(crate::server::DATABASE_MARKER)) {
            config.arg("--database-url").arg(url.trim());
        }
        let out = config
            .arg("--config")
            .arg(data.path().join("loopback-only.toml"))
            .arg("--data-dir")
            .arg(data.path())
            .args(["--tagstream-url", &server.base])
            .arg("--output")
            .arg(&yml)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "registry-config: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut proxy = None;
        if held {
            let upstream = server.base.trim_start_matches("http://").to_owned();
            let held = crate::faults::FaultProxy::start(&upstream).await;
            let config = std::fs::read_to_string(&yml).unwrap();
            let direct = format!("{}{NOTIFICATIONS}", server.base);
            assert!(config.contains(&direct), "{config}");
            let via = format!("http://{}{NOTIFICATIONS}", held.addr);
            std::fs::write(&yml, config.replace(&direct, &via)).unwrap();
            proxy = Some(held);
        }
        let log = data.path().join("registry.log");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&yml)
            .stdout(Stdio::from(
                std::fs::File::create(data.path().join("registry.out")).unwrap(),
            ))
            .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
            .spawn()
            .expect("docker-registry runs (scripts/setup.sh --test installs it)");
        let me = Self {
            server,
            data,
            registry,
            child,
            log,
            admin: client_with_token(ADMIN_TOKEN),
        };
        // Ready when it asks for a token from tagstream.
        let deadline = Instant::now() + crate::support::PATIENCE;
        loop {
            if let Ok(r) = crate::support::get_url(format!("http://{}/v2/", me.registry)).await
                && r.status() == StatusCode::UNAUTHORIZED
            {
                let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
                assert!(
                    challenge.contains(&format!("{}{TOKEN}", me.server.base)),
                    "{challenge}"
                );
                break;
            }
            assert!(
                Instant::now() < deadline,
                "docker-registry did not start: {}",
                std::fs::read_to_string(&me.log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        (me, proxy)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base)
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        let r = self
            .admin
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        let code = r.status();
        let body: Value = r.json().await.unwrap();
        assert!(code.is_success(), "POST {path}: {code} {body}");
        body
    }

    /// Creates user `name` with an API token (optionally limited to `project`); answers it.
    pub async fn user(&self, name: &str, project: Option<&str>) -> String {
        let (code, _) = self.get(&tagstream_shared::paths::user(name)).await;
        if code == StatusCode::NOT_FOUND {
            self.post(
                tagstream_shared::paths::USERS,
                json!({"metadata": {"name": name}, "password": format!("{name}-password")}),
            )
            .await;
        }
        let spec = match project {
            Some(p) => json!({"spec": {"project": p}}),
            None => json!({"spec": {}}),
        };
        let body = self.post(&tokens(name), spec).await;
        body["token"].as_str().unwrap().to_owned()
    }

    pub async fn grant(&self, ns: &str, user: &str, role: &str) {
        self.post(
            &rolebindings(ns),
            json!({"metadata": {"name": format!("{role}-{user}").replace(':', "-")},
                   "roleRef": {"kind": "ClusterRole", "name": role},
                   "subjects": [{"kind": "User", "name": user}]}),
        )
        .await;
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self.admin.get(self.url(path)).send().await.unwrap();
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }

    /// The digests of `stream:tag`'s history, newest first (empty while it has none).
    pub async fn history(&self, ns: &str, stream: &str, tag: &str) -> Vec<String> {
        let (code, body) = self
            .get(&tagstream_shared::paths::imagestream(ns, stream))
            .await;
        if code != StatusCode::OK {
            return Vec::new();
        }
        body["status"]["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| t["tag"] == tag)
            .flat_map(|t| t["items"].as_array().cloned().unwrap_or_default())
            .map(|i| i["image"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Waits (at most `within`) until `stream:tag` points at `digest`; answers how long it took.
    pub async fn wait_for_tag(
        &self,
        ns: &str,
        stream: &str,
        tag: &str,
        digest: &str,
        within: Duration,
    ) -> Duration {
        let start = Instant::now();
        loop {
            let history = self.history(ns, stream, tag).await;
            if history.first().map(String::as_str) == Some(digest) {
                return start.elapsed();
            }
            assert!(
                start.elapsed() < within,
                "{ns}/{stream}:{tag} did not move to {digest} within {within:?}: {history:?}; \
                 registry log: {}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Asks the token server for `scope` as `user:token`; answers the status and the token's
    /// `access` claim (null without a token).
    pub async fn token_access(&self, user: &str, token: &str, scope: &str) -> (StatusCode, Value) {
        let r = crate::support::http_client()
            .get(self.url(TOKEN))
            .query(&[("service", SERVICE), ("scope", scope), ("account", user)])
            .basic_auth(user, Some(token))
            .send()
            .await
            .unwrap();
        let code = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        let Some(jwt) = body["token"].as_str() else {
            return (code, Value::Null);
        };
        let claims = jwt.split('.').nth(1).unwrap();
        let claims: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(claims)
                .unwrap(),
        )
        .unwrap();
        (code, claims["access"].clone())
    }

    /// The notification secret, as the registry's config (from `registry-config`) holds it.
    pub fn notification_secret(&self) -> String {
        let yml = std::fs::read_to_string(self.data.path().join("registry.yml")).unwrap();
        let line = yml
            .lines()
            .find_map(|l| l.trim().strip_prefix("X-Registry-Secret: "))
            .unwrap();
        serde_json::from_str::<Vec<String>>(line).unwrap().remove(0)
    }
}

/// Runs skopeo (off the async threads); answers whether it succeeded and what it said.
pub async fn skopeo(args: Vec<String>) -> (bool, String) {
    tokio::task::spawn_blocking(move || {
        let out = Command::new("skopeo")
            .arg("--insecure-policy")
            .args(["--command-timeout", "60s"])
            .args(&args)
            .output()
            .expect("skopeo runs (scripts/setup.sh --test installs it)");
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), said)
    })
    .await
    .unwrap()
}

/// `skopeo copy` from the plain source registry to the integrated one, with `creds`.
pub async fn copy(source: &str, dest: &str, creds: &str) -> (bool, String) {
    copy_as(source, dest, ["--dest-creds", creds]).await
}

/// `skopeo copy` as [`copy`], with a registry token the token server issued earlier (as a
/// client holding one pushes, whatever became of the rights it was issued for).
pub async fn copy_with_token(source: &str, dest: &str, jwt: &str) -> (bool, String) {
    copy_as(source, dest, ["--dest-registry-token", jwt]).await
}

async fn copy_as(source: &str, dest: &str, auth: [&str; 2]) -> (bool, String) {
    skopeo(vec![
        "copy".into(),
        "--src-tls-verify=false".into(),
        "--dest-tls-verify=false".into(),
        "--src-no-creds".into(),
        "--preserve-digests".into(),
        auth[0].into(),
        auth[1].into(),
        format!("docker://{source}"),
        format!("docker://{dest}"),
    ])
    .await
}

#[tokio::test]
async fn a_push_with_a_users_token_moves_the_tag_at_once_and_fires_the_trigger() {
    let receiver = Receiver::start().await;
    let hook_host = receiver.url();
    let hook_host = hook_host
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let source = Registry::start().await;
    let (one, _) = source
        .push_image("src/app", "one", &ImageSpec::new("one"))
        .await;
    let (two, _) = source
        .push_image("src/app", "two", &ImageSpec::new("two"))
        .await;
    let env = Integrated::start(&format!(
        "[webhooks]\nallowed_hosts = [\"{hook_host}\"]\ntimeout_seconds = 5\nretry_initial_seconds = 1\nretry_max_interval_seconds = 1\n"
    ))
    .await;
    env.post(PROJECTS, json!({"metadata": {"name": "demo"}}))
        .await;
    let pusher = env.user("pusher", None).await;
    env.grant("demo", "pusher", "edit").await;

    // The first push creates the stream and its tag.
    let dest = format!("{}/demo/app:v1", env.registry);
    let (ok, said) = copy(
        &format!("{}/src/app:one", source.addr),
        &dest,
        &format!("pusher:{pusher}"),
    )
    .await;
    assert!(ok, "the push was refused: {said}");
    let took = env
        .wait_for_tag("demo", "app", "v1", &one, crate::support::PATIENCE)
        .await;
    // Nothing polls a pushed tag (it has no import schedule): the registry's notification moved
    // it. How fast is a figure for BENCHMARKS.md, not a pass/fail bound.
    eprintln!("push to tag move: {took:?}");
    let (_, istag) = env.get(&imagestreamtag("demo", "app", "v1")).await;
    assert_eq!(
        istag["image"]["dockerImageReference"],
        format!("{PUBLIC_HOST}/demo/app@{one}"),
        "pushed tags show the public pull spec: {istag}"
    );
    assert_eq!(
        istag["image"]["dockerImageMetadata"]["Config"]["Labels"]["org.opencontainers.image.title"],
        "one",
        "the image's metadata was read from the registry: {istag}"
    );

    // A trigger on the tag hears of the next push, with the new digest.
    env.post(
        &triggers("demo"),
        json!({"kind": "Trigger", "apiVersion": "tagstream.io/v1", "metadata": {"name": "deploy"},
               "spec": {"from": {"kind": "ImageStreamTag", "name": "app:v1"},
                        "webhook": {"url": receiver.url(), "secret": "hook-secret"}}}),
    )
    .await;
    let (ok, said) = copy(
        &format!("{}/src/app:two", source.addr),
        &dest,
        &format!("pusher:{pusher}"),
    )
    .await;
    assert!(ok, "the second push was refused: {said}");
    let took = env
        .wait_for_tag("demo", "app", "v1", &two, crate::support::PATIENCE)
        .await;
    // Nothing polls a pushed tag (it has no import schedule): the registry's notification moved
    // it. How fast is a figure for BENCHMARKS.md, not a pass/fail bound.
    eprintln!("push to tag move: {took:?}");
    assert_eq!(
        env.history("demo", "app", "v1").await,
        [two.clone(), one.clone()]
    );
    let mut receiver = receiver;
    let hook = receiver.next(crate::support::PATIENCE).await;
    assert_eq!(hook.json()["newDigest"], two, "{}", hook.json());
    assert!(hook.signed_with("hook-secret"));
    receiver.stop();
    drop(env);
}

#[tokio::test]
async fn viewers_pull_but_cannot_push_and_others_get_no_access_anywhere() {
    let source = Registry::start().await;
    let (one, _) = source
        .push_image("src/app", "one", &ImageSpec::new("one"))
        .await;
    source
        .push_image("src/app", "two", &ImageSpec::new("two"))
        .await;
    let env = Integrated::start("").await;
    env.post(PROJECTS, json!({"metadata": {"name": "demo"}}))
        .await;
    env.post(PROJECTS, json!({"metadata": {"name": "other"}}))
        .await;
    let pusher = env.user("pusher", None).await;
    env.grant("demo", "pusher", "system:image-pusher").await;
    let viewer = env.user("viewer", None).await;
    env.grant("demo", "viewer", "view").await;
    let nobody = env.user("nobody", None).await;
    let scoped = env.user("pusher", Some("other")).await;

    let dest = format!("{}/demo/app:v1", env.registry);
    let (ok, said) = copy(
        &format!("{}/src/app:one", source.addr),
        &dest,
        &format!("pusher:{pusher}"),
    )
    .await;
    assert!(ok, "an image pusher may push: {said}");
    env.wait_for_tag("demo", "app", "v1", &one, crate::support::PATIENCE)
        .await;

    // The viewer pulls...
    let (ok, said) = skopeo(vec![
        "inspect".into(),
        "--tls-verify=false".into(),
        "--creds".into(),
        format!("viewer:{viewer}"),
        format!("docker://{dest}"),
    ])
    .await;
    assert!(ok, "a viewer may pull: {said}");
    assert!(said.contains(&one), "{said}");
    // ...but cannot push; the tag stays.
    let (ok, said) = copy(
        &format!("{}/src/app:two", source.addr),
        &dest,
        &format!("viewer:{viewer}"),
    )
    .await;
    assert!(!ok, "a viewer pushed: {said}");
    assert_eq!(
        env.history("demo", "app", "v1").await,
        std::slice::from_ref(&one)
    );

    // A user without a role cannot pull; a token of theirs grants nothing, exactly as for a
    // project that does not exist.
    let (ok, said) = skopeo(vec![
        "inspect".into(),
        "--tls-verify=false".into(),
        "--creds".into(),
        format!("nobody:{nobody}"),
        format!("docker://{dest}"),
    ])
    .await;
    assert!(!ok, "a user without a role pulled: {said}");
    let real = env
        .token_access("nobody", &nobody, "repository:demo/app:pull,push")
        .await;
    let ghost = env
        .token_access("nobody", &nobody, "repository:ghost/app:pull,push")
        .await;
    assert_eq!(real, (StatusCode::OK, json!([])));
    assert_eq!(real, ghost, "the answer tells existing projects apart");

    // What each may do, as the token says it.
    let (_, access) = env
        .token_access("viewer", &viewer, "repository:demo/app:pull,push")
        .await;
    assert_eq!(
        access,
        json!([{"type": "repository", "name": "demo/app", "actions": ["pull"]}])
    );
    let (_, access) = env
        .token_access("pusher", &pusher, "repository:demo/app:pull,push")
        .await;
    assert_eq!(
        access,
        json!([{"type": "repository", "name": "demo/app", "actions": ["pull", "push"]}])
    );
    // A token limited to project `other` stays there.
    let (_, access) = env
        .token_access("pusher", &scoped, "repository:demo/app:pull,push")
        .await;
    assert_eq!(access, json!([]));
    // A wrong token, or another user's, is refused with a Basic challenge.
    for (user, token) in [("pusher", "tst_wrong"), ("viewer", pusher.as_str())] {
        let (code, _) = env
            .token_access(user, token, "repository:demo/app:pull")
            .await;
        assert_eq!(code, StatusCode::UNAUTHORIZED, "{user}");
    }
    let r = crate::support::get_url(env.url(&format!("{TOKEN}?scope=repository:demo/app:pull")))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    drop(env);
}
