//! `TestApp`: the real router over a temporary SQLite file (or, with
//! `TAGSTREAM_TEST_POSTGRES=1`, a fresh database in one throwaway PostgreSQL cluster per test
//! run: see `pg_support`), served on 127.0.0.1 with an ephemeral port, and a JSON client for it.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use std::path::{Path, PathBuf};

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tagstream_backend::app::{AppState, router};
use tagstream_backend::config::{Config, RegistryConfig};
use tagstream_backend::store::Store;

use crate::pg_support::TestStore;
use tagstream_shared::{ImageStream, Status};
use tokio::sync::oneshot;

/// How long a test waits for a state that should arrive soon (a tag moved, a webhook sent, a
/// page element shown, a process ready). It bounds a failure only: a passing test returns as
/// soon as the state is there. It is generous because CI runs the whole suite in parallel on
/// two cores beside other work, where a retrying import or a browser render takes many times
/// what it takes idle.
pub const PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

/// The bootstrap admin's API token in every test app: `client` sends it.
pub const ADMIN_TOKEN: &str = "tst_test-admin-token-for-the-integration-tests";

pub struct TestApp {
    pub base: String,
    /// Signed in as `admin`, a cluster admin (bearer token).
    pub client: reqwest::Client,
    /// Nobody: no token, no cookie.
    pub anonymous: reqwest::Client,
    /// Holds the database file for as long as the app lives.
    _dir: Option<tempfile::TempDir>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    store: TestStore,
    background: AppState,
}

/// How much of `tagstream serve` a test app runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Launch {
    /// The API only.
    Plain,
    /// The API and the import worker.
    Background,
    /// As `serve`: the samples applied, then the worker.
    Prepared,
}

/// A loopback port for a program the test starts and that binds it itself (docker-registry,
/// chromedriver, nginx, a server given `--listen`). A port picked with `bind(":0")` and released
/// comes from the kernel's ephemeral range, so any other socket of the run (a server binding
/// `:0`, an outgoing connection) may be given it before the program binds it; CI saw
/// docker-registry fail with "address already in use" on the port tagstream had just taken.
/// These ports come from just below that range, which the kernel never hands out by itself, and
/// no two calls in this process answer the same one; a bind checks nobody else holds it.
pub fn reserved_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let (low, high) = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| {
            let mut it = s.split_whitespace().map(|p| p.parse::<u32>().ok());
            Some((it.next()??, it.next()??))
        })
        .unwrap_or((32768, 60999));
    // 12,000 ports below the range, or above it when it starts too low.
    let (start, span) = if low > 13_024 {
        (low - 12_000, 12_000)
    } else {
        (high + 1, 65_535 - high)
    };
    let offset = std::process::id() % span;
    for _ in 0..span {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = start + (offset + n) % span;
        let Ok(port) = u16::try_from(port) else {
            continue;
        };
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port between {start} and {}", start + span)
}

/// A registry entry that allows nothing reachable: tests never talk to the internet.
pub fn loopback_only() -> RegistryConfig {
    RegistryConfig {
        domain: "127.0.0.1:9".into(),
        insecure: true,
        username: None,
        password_file: None,
        ca_file: None,
    }
}

/// The repository's root (the workspace).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The console build to serve: `TAGSTREAM_DIST`, else the workspace's dist/.
fn console_dist() -> PathBuf {
    std::env::var_os("TAGSTREAM_DIST").map_or_else(|| workspace_root().join("dist"), PathBuf::from)
}

impl TestApp {
    pub async fn start() -> Self {
        Self::start_with_dist(&workspace_root().join("dist")).await
    }

    pub async fn start_with_dist(dist: &Path) -> Self {
        // No background worker: these tests write streams and histories directly and would race
        // with it recording that their made-up sources cannot be imported.
        Self::launch(
            tempfile::tempdir().unwrap(),
            Config::default(),
            dist,
            Launch::Plain,
        )
        .await
    }

    /// The app with `config` (registries, import intervals) and its background worker, serving
    /// the console the browser tests are pointed at (`TAGSTREAM_DIST`, as every other start):
    /// the workspace's own dist/ here made the import, triggers and delivery-log browser tests
    /// drive whatever console that folder held, not the build under test.
    pub async fn start_with_config(config: Config) -> Self {
        Self::launch(
            tempfile::tempdir().unwrap(),
            config,
            &console_dist(),
            Launch::Background,
        )
        .await
    }

    /// Starts as `tagstream serve` does (the samples applied per `config`), over the database in
    /// `dir`: a fresh temp dir, or one kept from an earlier run to test a restart.
    pub async fn start_prepared(dir: tempfile::TempDir, config: Config) -> Self {
        Self::launch(dir, config, &console_dist(), Launch::Prepared).await
    }

    async fn launch(dir: tempfile::TempDir, mut config: Config, dist: &Path, how: Launch) -> Self {
        // Tests reach nothing but loopback: without registries of their own, only an address
        // that answers nothing is allowed (the default list would send the samples' imports to
        // Docker Hub).
        if config.registries.is_empty() {
            config.registries = vec![loopback_only()];
        }
        let store = TestStore::open(dir.path()).await;
        let state = AppState::new(store.shared(), config).unwrap();
        if how == Launch::Prepared {
            tagstream_backend::app::prepare(&state, Some(ADMIN_TOKEN))
                .await
                .unwrap();
        } else {
            tagstream_backend::api::bootstrap_admin(&state, Some(ADMIN_TOKEN))
                .await
                .unwrap();
        }
        if how != Launch::Plain {
            state.start_background();
        }
        let background = state.clone();
        let app = router(state, dist.to_owned());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        Self {
            base,
            client: client_with_token(ADMIN_TOKEN),
            anonymous: http_client(),
            _dir: Some(dir),
            stop: Some(stop),
            task: Some(task),
            store,
            background,
        }
    }

    /// Stops the server and hands back the directory holding its database, for a restart.
    pub async fn stop_keeping_data(mut self) -> tempfile::TempDir {
        let dir = self._dir.take().unwrap();
        self.shutdown().await;
        dir
    }

    pub async fn stop(mut self) {
        self.shutdown().await;
    }

    async fn shutdown(&mut self) {
        self.background.stop_watches();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.background.stop_background();
        self.store.close().await;
    }

    /// The app's store, for what no API does (pruning the change log).
    pub fn store(&self) -> &dyn Store {
        self.store.as_dyn()
    }

    /// The app's state, for server functions no route reaches in a test app (the receiver key
    /// is made only by `tagstream serve`).
    pub fn state(&self) -> &AppState {
        &self.background
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends `body` (JSON) with `method`, answering the status and the JSON body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, self.url(path));
        if let Some(body) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
        (status, value)
    }

    /// Sends raw bytes with a content type.
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: &str,
    ) -> (StatusCode, Value) {
        self.send_raw_as(&self.client, method, path, content_type, body)
            .await
    }

    /// Sends raw bytes with a content type with `client` (a user's).
    pub async fn send_raw_as(
        &self,
        client: &reqwest::Client,
        method: Method,
        path: &str,
        content_type: &str,
        body: &str,
    ) -> (StatusCode, Value) {
        let resp = client
            .request(method, self.url(path))
            .header("Content-Type", content_type)
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")),
        )
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.send(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(Method::DELETE, path, None).await
    }

    /// Creates project `name`, asserting success.
    pub async fn create_project(&self, name: &str) {
        let (code, body) = self
            .post(
                tagstream_shared::paths::PROJECTS,
                &json!({"metadata": {"name": name}}),
            )
            .await;
        assert_eq!(code, StatusCode::CREATED, "{body}");
    }

    /// Creates a stream from `body` in `ns`, asserting success, and answers it.
    pub async fn create_stream(&self, ns: &str, body: &Value) -> ImageStream {
        let (code, value) = self
            .post(&tagstream_shared::paths::imagestreams(ns), body)
            .await;
        assert_eq!(code, StatusCode::CREATED, "{value}");
        decode(value)
    }
}

/// The tests' HTTP client: a server that stops answering fails the test, it does not hang it.
/// Bounded per connection and per read, not per request, so a watch may stay open as long as
/// events keep coming.
fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(10))
        .read_timeout(std::time::Duration::from_secs(60))
}

/// A signed-in browser's cookies, sent back by hand.
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

/// Signs `user` in with a password at `login_url`: the answer's code, and the session (its
/// cookie and CSRF token) if it worked.
pub async fn sign_in_at(
    login_url: String,
    user: &str,
    password: &str,
) -> (StatusCode, Option<Session>) {
    let resp = http_client()
        .post(login_url)
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .unwrap();
    let code = resp.status();
    let cookie = |name: &str| {
        resp.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| c.strip_prefix(&format!("{name}=")))
            .map(|rest| rest.split(';').next().unwrap().to_owned())
    };
    let session = match (cookie("tagstream-session"), cookie("tagstream-csrf")) {
        (Some(s), Some(csrf)) if code == StatusCode::OK => Some(Session {
            cookie: format!("tagstream-session={s}"),
            csrf,
        }),
        _ => None,
    };
    (code, session)
}

/// A client without credentials.
pub fn http_client() -> reqwest::Client {
    client_builder().build().unwrap()
}

/// `reqwest::get`, with the test clients' timeouts (a stalled server fails the test instead of
/// hanging it).
pub async fn get_url(url: impl reqwest::IntoUrl) -> reqwest::Result<reqwest::Response> {
    http_client().get(url).send().await
}

/// A client that sends `token` as its bearer token on every request.
pub fn client_with_token(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    client_builder().default_headers(headers).build().unwrap()
}

/// A user of the test app: a client signed in with their own API token.
pub struct TestUser {
    pub name: String,
    pub password: String,
    pub client: reqwest::Client,
}

impl TestApp {
    /// Creates user `name` (password `<name>-password`) with an API token, as the admin.
    pub async fn user(&self, name: &str) -> TestUser {
        let password = format!("{name}-password");
        let (code, body) = self
            .post(
                tagstream_shared::paths::USERS,
                &json!({"metadata": {"name": name}, "password": password}),
            )
            .await;
        assert_eq!(code, StatusCode::CREATED, "{body}");
        let (code, body) = self
            .post(&tagstream_shared::paths::tokens(name), &json!({"spec": {}}))
            .await;
        assert_eq!(code, StatusCode::CREATED, "{body}");
        let token = body["token"].as_str().unwrap();
        TestUser {
            name: name.into(),
            password,
            client: client_with_token(token),
        }
    }

    /// User `alice`, a cluster admin with a password (for signing in a browser); created once.
    pub async fn browser_admin(&self) -> (String, String) {
        let (code, _) = self.get(&tagstream_shared::paths::user("alice")).await;
        if code == StatusCode::NOT_FOUND {
            self.user("alice").await;
            let (code, mut group) = self
                .get(&tagstream_shared::paths::group(
                    tagstream_shared::access::CLUSTER_ADMINS_GROUP,
                ))
                .await;
            assert_eq!(code, StatusCode::OK, "{group}");
            group["users"].as_array_mut().unwrap().push(json!("alice"));
            let (code, body) = self
                .put(
                    &tagstream_shared::paths::group(tagstream_shared::access::CLUSTER_ADMINS_GROUP),
                    &group,
                )
                .await;
            assert_eq!(code, StatusCode::OK, "{body}");
        }
        ("alice".into(), "alice-password".into())
    }

    /// Binds `role` to user `user` in project `ns`, as the admin.
    pub async fn grant(&self, ns: &str, user: &str, role: &str) {
        let (code, body) = self
            .post(
                &tagstream_shared::paths::rolebindings(ns),
                &json!({
                    "metadata": {"name": format!("{role}-{user}").replace(':', "-")},
                    "roleRef": {"kind": "ClusterRole", "name": role},
                    "subjects": [{"kind": "User", "name": user}]
                }),
            )
            .await;
        assert_eq!(code, StatusCode::CREATED, "{body}");
    }

    /// Sends a request with `client` (a user's, or `anonymous`).
    pub async fn send_as(
        &self,
        client: &reqwest::Client,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut req = client.request(method, self.url(path));
        if let Some(body) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }
}

pub fn decode<T: DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{e}: {value}"))
}

/// Asserts `body` is a Status with `reason` and `code`, and answers it.
pub fn assert_status(body: Value, code: StatusCode, reason: &str) -> Status {
    assert_eq!(body["kind"], "Status", "{body}");
    assert_eq!(body["reason"], reason, "{body}");
    assert_eq!(body["code"], code.as_u16(), "{body}");
    decode(body)
}

/// A stream with one DockerImage tag.
pub fn stream_json(name: &str, tag: &str, from: &str) -> Value {
    json!({
        "kind": "ImageStream",
        "apiVersion": "image.openshift.io/v1",
        "metadata": {"name": name},
        "spec": {"tags": [{"name": tag, "from": {"kind": "DockerImage", "name": from}}]}
    })
}

/// A digest made of one repeated hex digit.
pub fn digest(c: char) -> String {
    format!("sha256:{}", c.to_string().repeat(64))
}

/// The shared fixtures, beside the repository.
pub fn fixtures() -> PathBuf {
    let dir = std::env::var_os("TAGSTREAM_FIXTURES").map_or_else(
        || workspace_root().join("../shared/fixtures"),
        PathBuf::from,
    );
    assert!(
        dir.join("SOURCES.md").is_file(),
        "the shared fixtures are absent: expected them at {} (or set TAGSTREAM_FIXTURES)",
        dir.display()
    );
    dir
}

/// A config allowing exactly the registry at `addr` (plain HTTP), scheduled checks every
/// `interval` seconds (900 is the product's default).
pub fn config_allowing(addr: &str, interval: u64) -> Config {
    let mut config = Config {
        registries: vec![RegistryConfig {
            domain: addr.to_owned(),
            insecure: true,
            username: None,
            password_file: None,
            ca_file: None,
        }],
        ..Config::default()
    };
    config.import.schedule_interval_seconds = interval;
    config
}

/// What keeps a port handed to docker-registry or chromedriver from being given to someone else
/// first: it lies outside the range the kernel picks from, and no two callers get the same one.
#[test]
fn reserved_ports_lie_outside_the_ephemeral_range_and_never_repeat() {
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap();
    let mut bounds = range.split_whitespace().map(|p| p.parse::<u16>().unwrap());
    let (low, high) = (bounds.next().unwrap(), bounds.next().unwrap());
    let ports: Vec<u16> = (0..200).map(|_| reserved_port()).collect();
    for port in &ports {
        assert!(!(low..=high).contains(port), "{port} is in {low}-{high}");
    }
    let distinct: std::collections::HashSet<_> = ports.iter().collect();
    assert_eq!(distinct.len(), ports.len(), "{ports:?}");
}
