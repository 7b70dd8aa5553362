//! Several real `tagstream serve` processes on one throwaway PostgreSQL, on loopback: a write
//! on one is read and watched on another, optimistic concurrency holds across them, a webhook
//! is delivered once however many replicas run, and a killed replica's delivery is finished by
//! a survivor once its lease runs out. These run on PostgreSQL whatever
//! `TAGSTREAM_TEST_POSTGRES` says (the cluster is started on first use).

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tagstream_shared::paths::{PROJECTS, deliveries, imagestream, imagestreams, triggers};

use crate::pg_support::fresh_database;
use crate::receiver::Receiver;
use crate::server::first_line;
use crate::support::{ADMIN_TOKEN, client_with_token, digest, stream_json};
use crate::watch::Events;

/// A stream with no tags: no import worker writes to it behind the test's back.
pub fn plain_stream(name: &str) -> Value {
    json!({"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
           "metadata": {"name": name}, "spec": {}})
}

/// Seconds a replica's claims hold here: short, so a takeover is quick to see.
pub const LEASE_SECONDS: &str = "2";

/// One `tagstream serve` process on the shared database; killed (SIGKILL) when dropped.
pub struct Replica {
    child: Child,
    pub base: String,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Replica {
    /// Starts a replica on `database`, with `extra` appended to its config file.
    pub fn start(database: &str, extra: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        std::fs::write(
            &config,
            format!("[[registries]]\ndomain = \"127.0.0.1:9\"\ninsecure = true\n{extra}"),
        )
        .unwrap();
        let log = dir.path().join("stderr.log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_tagstream"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--database-url",
                database,
            ])
            .args(["--database-lease-seconds", LEASE_SECONDS])
            .args(["--database-max-connections", "4"])
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(dir.path())
            .arg("--dist")
            .arg(PathBuf::from("/nonexistent"))
            .env("TAGSTREAM_BOOTSTRAP_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
            .spawn()
            .unwrap();
        let line = first_line(&mut child, &log);
        let base = line
            .trim()
            .strip_prefix("tagstream is serving on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .trim_end_matches('/')
            .to_owned();
        Self {
            child,
            base,
            client: client_with_token(ADMIN_TOKEN),
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Its own data directory (each replica has another), holding its `config.toml`.
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, self.url(path));
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req.send().await.unwrap();
        let code = resp.status();
        (code, resp.json().await.unwrap())
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }

    /// SIGKILL: no shutdown runs, its leases are simply left to run out.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            // What the replica logged (warnings and errors), to tell why the test failed.
            let log = std::fs::read_to_string(self._dir.path().join("stderr.log"));
            eprintln!("{} logged: {}", self.base, log.unwrap_or_default());
        }
    }
}

/// Two replicas on one fresh database (started one after the other would hide a start-up race:
/// they start at once).
pub async fn two_replicas(extra: &str) -> (Replica, Replica) {
    let db = fresh_database().await;
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| Replica::start(&db, extra));
        let b = s.spawn(|| Replica::start(&db, extra));
        (a.join().unwrap(), b.join().unwrap())
    });
    (a, b)
}

/// `n` replicas on `database`, started at once.
pub fn start_all(database: &str, extra: &str, n: usize) -> Vec<Replica> {
    std::thread::scope(|s| {
        let started: Vec<_> = (0..n)
            .map(|_| s.spawn(|| Replica::start(database, extra)))
            .collect();
        started.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_on_one_replica_is_read_and_watched_on_another() {
    let (a, b) = two_replicas("").await;
    let (code, body) = a
        .post(PROJECTS, &json!({"metadata": {"name": "demo"}}))
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    // B reads what A wrote.
    let (code, list) = b.get(&imagestreams("demo")).await;
    assert_eq!(code, StatusCode::OK, "{list}");
    let list_rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_owned();

    let resp = b
        .client
        .get(b.url(&format!(
            "{}?watch=true&resourceVersion={list_rv}",
            imagestreams("demo")
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut events = Events::lines(resp);
    // How soon B sees it (NOTIFY, not the fallback tick) is a benchmark figure, not asserted
    // here: under a loaded CI machine any bound is a flake.
    let (code, created) = a.post(&imagestreams("demo"), &plain_stream("ruby")).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    let event = events.next().await;
    assert_eq!(event["type"], "ADDED", "{event}");
    assert_eq!(event["object"]["metadata"]["name"], "ruby");

    // An update through A, then a watch on B resuming from the create's resourceVersion: the
    // update, and only it, in order.
    let mut stream = created.clone();
    stream["metadata"]["labels"] = json!({"tier": "web"});
    let (code, updated) = a.put(&imagestream("demo", "ruby"), &stream).await;
    assert_eq!(code, StatusCode::OK, "{updated}");
    let event = events.next().await;
    assert_eq!(event["type"], "MODIFIED");
    let created_rv = created["metadata"]["resourceVersion"].as_str().unwrap();
    let resp = b
        .client
        .get(b.url(&format!(
            "{}?watch=true&resourceVersion={created_rv}",
            imagestreams("demo")
        )))
        .send()
        .await
        .unwrap();
    let mut resumed = Events::lines(resp);
    let event = resumed.next().await;
    assert_eq!(
        (
            event["type"].as_str(),
            event["object"]["metadata"]["resourceVersion"].as_str()
        ),
        (
            Some("MODIFIED"),
            updated["metadata"]["resourceVersion"].as_str()
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_write_is_409_whichever_replica_wrote_first_and_concurrent_edits_lose_nothing() {
    let (a, b) = two_replicas("").await;
    let (code, _) = a
        .post(PROJECTS, &json!({"metadata": {"name": "demo"}}))
        .await;
    assert_eq!(code, StatusCode::CREATED);
    let (code, stream) = b.post(&imagestreams("demo"), &plain_stream("ruby")).await;
    assert_eq!(code, StatusCode::CREATED, "{stream}");

    // Both hold the same version; A writes first, B's write at the old version is a 409.
    let mut first = stream.clone();
    first["metadata"]["labels"] = json!({"by": "a"});
    let (code, _) = a.put(&imagestream("demo", "ruby"), &first).await;
    assert_eq!(code, StatusCode::OK);
    let mut second = stream.clone();
    second["metadata"]["labels"] = json!({"by": "b"});
    let (code, body) = b.put(&imagestream("demo", "ruby"), &second).await;
    assert_eq!(code, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["reason"], "Conflict");

    // 20 increments through each replica at once, each re-read on a 409: all 40 count.
    let bump = |r: &Replica, who: &'static str| {
        let (client, url) = (r.client.clone(), r.url(&imagestream("demo", "ruby")));
        async move {
            for _ in 0..20 {
                loop {
                    let mut s: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
                    let n: u64 = s["metadata"]["annotations"]["count"]
                        .as_str()
                        .map_or(0, |v| v.parse().unwrap());
                    s["metadata"]["annotations"]["count"] = json!((n + 1).to_string());
                    s["metadata"]["annotations"]["last"] = json!(who);
                    let code = client.put(&url).json(&s).send().await.unwrap().status();
                    if code == StatusCode::OK {
                        break;
                    }
                    assert_eq!(code, StatusCode::CONFLICT);
                }
            }
        }
    };
    tokio::join!(bump(&a, "a"), bump(&b, "b"));
    let (_, s) = b.get(&imagestream("demo", "ruby")).await;
    assert_eq!(s["metadata"]["annotations"]["count"], "40", "{s}");
}

/// Config for replicas that may post to `receiver` and retry quickly.
pub fn webhooks(receiver: &Receiver) -> String {
    format!(
        "[webhooks]\nallowed_hosts = [\"{}\"]\ntimeout_seconds = 30\nretry_initial_seconds = 1\n\
         retry_max_interval_seconds = 1\n",
        receiver.addr
    )
}

/// Points `stream:tag` at `image` through `r`'s status subresource, as an import would;
/// re-reads on a 409 (the import worker records its failures in the same stream).
pub async fn move_tag(r: &Replica, stream: &str, tag: &str, image: &str) {
    for _ in 0..10 {
        if try_move_tag(r, stream, tag, image).await {
            return;
        }
    }
    panic!("moving {stream}:{tag} kept conflicting");
}

async fn try_move_tag(r: &Replica, stream: &str, tag: &str, image: &str) -> bool {
    let (_, mut body) = r.get(&imagestream("demo", stream)).await;
    let item = json!({"created": "2026-01-01T00:00:00Z", "generation": 1, "image": image,
        "dockerImageReference": format!("quay.io/demo/{stream}@{image}")});
    let mut tags = body["status"]["tags"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    match tags.iter_mut().find(|t| t["tag"] == tag) {
        Some(t) => {
            let mut items = vec![item];
            items.extend(t["items"].as_array().cloned().unwrap_or_default());
            t["items"] = json!(items);
        }
        None => tags.push(json!({"tag": tag, "items": [item]})),
    }
    body["status"]["tags"] = json!(tags);
    let (code, put) = r
        .put(
            &tagstream_shared::paths::imagestream_status("demo", stream),
            &body,
        )
        .await;
    if code == StatusCode::CONFLICT {
        return false;
    }
    assert_eq!(code, StatusCode::OK, "{put}");
    true
}

pub async fn with_trigger(r: &Replica, receiver: &Receiver) {
    let (code, _) = r
        .post(PROJECTS, &json!({"metadata": {"name": "demo"}}))
        .await;
    assert_eq!(code, StatusCode::CREATED);
    let (code, _) = r
        .post(
            &imagestreams("demo"),
            &stream_json("ruby", "latest", "quay.io/demo/ruby:3.3"),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED);
    move_tag(r, "ruby", "latest", &digest('a')).await;
    let trigger = json!({
        "kind": "Trigger", "apiVersion": "tagstream.io/v1", "metadata": {"name": "deploy"},
        "spec": {"from": {"kind": "ImageStreamTag", "name": "ruby:latest"},
                 "webhook": {"url": receiver.url(), "secret": "s3cret-for-replica-tests"}}
    });
    let (code, body) = r.post(&triggers("demo"), &trigger).await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
}

/// Waits (up to `PATIENCE`) until the newest delivery of the trigger satisfies `done`.
pub async fn wait_for_delivery(r: &Replica, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + crate::support::PATIENCE;
    loop {
        let (_, body) = r.get(&deliveries("demo", "deploy")).await;
        if let Some(first) = body["items"].as_array().and_then(|i| i.first())
            && done(first)
        {
            return first.clone();
        }
        assert!(
            Instant::now() < deadline,
            "the delivery never got there: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_tag_move_is_delivered_once_with_three_replicas() {
    let mut receiver = Receiver::start().await;
    let db = fresh_database().await;
    let extra = webhooks(&receiver);
    let replicas = start_all(&db, &extra, 3);
    with_trigger(&replicas[0], &receiver).await;
    // Five moves, made through the three replicas in turn: five requests, five event ids.
    let images = ['b', 'c', 'd', 'e', 'f'];
    for (i, c) in images.iter().enumerate() {
        move_tag(&replicas[i % 3], "ruby", "latest", &digest(*c)).await;
    }
    let mut seen = Vec::new();
    for _ in &images {
        let got = receiver.next(crate::support::PATIENCE).await.json();
        seen.push((
            got["newDigest"].as_str().unwrap().to_owned(),
            got["id"].clone(),
        ));
    }
    assert!(
        receiver.nothing_within(Duration::from_secs(3)).await,
        "a delivery was sent twice"
    );
    let mut digests: Vec<String> = seen.iter().map(|(d, _)| d.clone()).collect();
    digests.sort();
    let want: Vec<String> = images.iter().map(|c| digest(*c)).collect();
    assert_eq!(digests, want);
    let (_, log) = replicas[2].get(&deliveries("demo", "deploy")).await;
    let items = log["items"].as_array().unwrap();
    assert_eq!(items.len(), 5, "{log}");
    assert!(
        items
            .iter()
            .all(|d| d["status"]["phase"] == "Delivered" && d["status"]["attempts"] == 1),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delivery_a_killed_replica_was_sending_is_finished_by_the_survivor() {
    let mut receiver = Receiver::start().await;
    let db = fresh_database().await;
    let extra = webhooks(&receiver);
    let mut a = Replica::start(&db, &extra);
    with_trigger(&a, &receiver).await;
    // A alone runs: it claims the delivery, and the receiver holds its request unanswered.
    receiver.answer(0);
    move_tag(&a, "ruby", "latest", &digest('b')).await;
    let first = receiver.next(crate::support::PATIENCE).await.json();
    let b = Replica::start(&db, &extra);
    receiver.answer(200);
    // B leaves A's claim alone while A still waits for the answer, longer than the lease (A
    // renews its claim)...
    assert!(
        receiver.nothing_within(Duration::from_secs(5)).await,
        "B sent the delivery A was still sending"
    );
    a.kill();
    // ...and sends it once A's lease has run out.
    let again = receiver.next(crate::support::PATIENCE).await.json();
    assert_eq!(again["id"], first["id"], "the same event, sent again");
    let done = wait_for_delivery(&b, |d| d["status"]["phase"] == "Delivered").await;
    assert_eq!(done["status"]["lastStatusCode"], 200, "{done}");
    assert!(receiver.nothing_within(Duration::from_secs(3)).await);
}

/// What `tagstream serve --database-url URL` prints to stderr when it refuses to start.
fn refusal(database: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tagstream"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            database,
        ])
        .arg("--data-dir")
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(!out.status.success(), "it started: {out:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_database_or_a_newer_schema_stops_the_start_with_a_clear_error() {
    // A loopback port held closed: nothing answers there.
    let closed = crate::receiver::closed_port();
    let url = format!("postgres://tagstream@127.0.0.1:{}/nowhere", closed.port());
    let stderr = refusal(&url);
    assert!(
        stderr.contains(&format!(
            "cannot reach the PostgreSQL database at 127.0.0.1:{}/nowhere",
            closed.port()
        )),
        "{stderr}"
    );

    let db = fresh_database().await;
    drop(Replica::start(&db, ""));
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&db)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (9999, 'from the future', true, '\\x00', 0)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let stderr = refusal(&db);
    assert!(
        stderr.contains("has schema version 9999, newer than this tagstream's "),
        "{stderr}"
    );
}
