//! The real `tagstream` binary: it prints where it serves, keeps data across a restart, stops
//! cleanly on SIGTERM, and serves the console with deep links falling back to index.html.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use tagstream_shared::paths::{PROJECTS, imagestream, imagestreams};

use crate::support::{TestApp, stream_json};

pub struct Server {
    child: Child,
    pub base: String,
    /// Where its standard error goes (its log, at `warn`).
    pub stderr: PathBuf,
}

/// What the servers of the tests log: warnings, the integrated registry's INFO lines (each
/// purge pass, refused push taken out, notification applied, what a take-out put back or let
/// go), which tests wait for, and each race a write lost (`api::retry`), which tests count. The
/// whole module, not a list of its files: code moved between them once hid a line five tests
/// waited for.
pub const LOG_FILTER: &str =
    "warn,tagstream_backend::integrated=info,tagstream_backend::api::retry=info";

/// A file in a server's data dir naming the database it serves from (`--database-url`), for
/// tests that run a real server on PostgreSQL with `TAGSTREAM_TEST_POSTGRES=1`.
pub const DATABASE_MARKER: &str = "server-database-url";

/// Numbers the servers' error logs: several starts share a data dir.
static STARTS: AtomicUsize = AtomicUsize::new(0);

/// The first line `child` prints, waiting at most 30 s: a server that never says where it serves
/// fails the test instead of hanging it. Kills the child when it says nothing.
pub fn first_line(child: &mut Child, log: &Path) -> String {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(line) if !line.is_empty() => line,
        outcome => {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the server printed no first line ({outcome:?}); its log: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
    }
}

/// The URL in the line `tagstream serve` starts with.
fn served_at(line: &str) -> String {
    line.trim()
        .strip_prefix("tagstream is serving on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .trim_end_matches('/')
        .to_owned()
}

/// A server a test forgot to stop (or one a failed test left) ends with the test.
impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Server {
    /// Starts `tagstream serve` on an ephemeral port over `data_dir`; answers once it printed its URL.
    pub fn start(data_dir: &Path, dist: &Path) -> Self {
        Self::start_with(data_dir, dist, "")
    }

    /// As `start`, with `extra` appended to the config file (more sections).
    pub fn start_with(data_dir: &Path, dist: &Path, extra: &str) -> Self {
        Self::start_as(data_dir, dist, extra, Some(crate::support::ADMIN_TOKEN))
    }

    /// As `start_with`, with `token` as the bootstrap admin token, or none.
    pub fn start_as(data_dir: &Path, dist: &Path, extra: &str, token: Option<&str>) -> Self {
        // Only a loopback address that answers nothing may be imported from: the samples'
        // Docker Hub tags must not send a test to the internet.
        let config = data_dir.join("loopback-only.toml");
        let stderr = data_dir.join(format!(
            "stderr-{}.log",
            STARTS.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::write(
            &config,
            format!("[[registries]]\ndomain = \"127.0.0.1:9\"\ninsecure = true\n{extra}"),
        )
        .unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_tagstream"));
        command
            .args(["serve", "--listen", "127.0.0.1:0"])
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--dist")
            .arg(dist)
            .env("RUST_LOG", LOG_FILTER);
        if let Ok(url) = std::fs::read_to_string(data_dir.join(DATABASE_MARKER)) {
            command.arg("--database-url").arg(url.trim());
        }
        match token {
            Some(token) => command.env("TAGSTREAM_BOOTSTRAP_ADMIN_TOKEN", token),
            None => command.env_remove("TAGSTREAM_BOOTSTRAP_ADMIN_TOKEN"),
        };
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::from(std::fs::File::create(&stderr).unwrap()))
            .spawn()
            .unwrap();
        let base = served_at(&first_line(&mut child, &stderr));
        Self {
            child,
            base,
            stderr,
        }
    }

    /// Kills the process with SIGKILL: no shutdown of any kind runs.
    pub fn kill(mut self) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-KILL", &pid]).status().unwrap();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and answers whether the process exited successfully (within `PATIENCE`).
    pub fn terminate(mut self) -> bool {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let deadline = Instant::now() + crate::support::PATIENCE;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        false
    }
}

#[tokio::test]
async fn data_survives_a_restart_and_sigterm_stops_cleanly() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), Path::new("/nonexistent"));
    let client = crate::support::client_with_token(crate::support::ADMIN_TOKEN);
    let created = client
        .post(format!("{}{PROJECTS}", server.base))
        .json(&json!({"metadata": {"name": "demo"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let created = client
        .post(format!("{}{}", server.base, imagestreams("demo")))
        .json(&stream_json("ruby", "latest", "quay.io/demo/ruby:3.3"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    assert!(
        server.terminate(),
        "SIGTERM should end the server with exit code 0"
    );
    assert!(
        data.path().join("tagstream.db").is_file(),
        "the SQLite file lives in the data dir"
    );

    let server = Server::start(data.path(), Path::new("/nonexistent"));
    let got = client
        .get(format!("{}{}", server.base, imagestream("demo", "ruby")))
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), StatusCode::OK);
    let body: serde_json::Value = got.json().await.unwrap();
    assert_eq!(
        body["spec"]["tags"][0]["from"]["name"],
        "quay.io/demo/ruby:3.3"
    );
    assert!(server.terminate());
}

#[tokio::test]
async fn bad_flags_and_config_fail_at_start_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.toml");
    std::fs::write(&config, "[imports]\nschedule = 1\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tagstream"))
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.toml") && stderr.contains("imports"),
        "{stderr}"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_tagstream"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--listen",
        "--data-dir",
        "--database-url",
        "--config",
        "--dist",
        "TAGSTREAM_LISTEN",
        "TAGSTREAM_DATABASE_URL",
    ] {
        assert!(help.contains(flag), "--help documents {flag}");
    }
}

#[tokio::test]
async fn console_deep_links_get_the_one_index_html_and_missing_assets_get_404() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(
        dist.path().join("index.html"),
        "<!doctype html><title>console</title>",
    )
    .unwrap();
    std::fs::write(dist.path().join("app.js"), "console.log(1)").unwrap();
    std::fs::write(dist.path().join("app-0123456789abcdef_bg.wasm"), b"\0asm").unwrap();
    let app = TestApp::start_with_dist(dist.path()).await;
    // Every console page, and any other path that is not a file (the console says "not found").
    for path in [
        "/",
        "/ns/demo",
        "/ns/demo/streams/ruby",
        "/ns/demo/streams/python/tags/3.12",
        "/ns/demo/streams/ruby/tags/latest/edit",
        "/ns/demo/import",
        "/ns/demo/streams/ruby/compare/sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        "/ns/demo/templates/rails-postgresql-example",
        "/admin/samples",
        "/login",
        "/invite/inv_0123",
        "/ns/demo/access",
        "/ns/demo/triggers",
        "/tokens",
        "/k8s/ns/demo/imagestreams/ruby",
        "/somewhere",
    ] {
        let resp = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert_eq!(
            resp.headers()["cache-control"],
            "no-cache",
            "{path}: a new build must reach returning users"
        );
        assert!(
            resp.text()
                .await
                .unwrap()
                .contains("<title>console</title>"),
            "{path}"
        );
    }
    let js = app.client.get(app.url("/app.js")).send().await.unwrap();
    assert_eq!(js.status(), StatusCode::OK);
    assert!(js.headers().get("cache-control").is_none(), "not hashed");
    let hashed = app
        .client
        .get(app.url("/app-0123456789abcdef_bg.wasm"))
        .send()
        .await
        .unwrap();
    assert_eq!(hashed.status(), StatusCode::OK);
    assert_eq!(
        hashed.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let missing = app.client.get(app.url("/missing.js")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

/// The console's files as `scripts/console.sh` leaves them: each with a gzip and a brotli copy
/// made at build time, which the server sends as they are to a client that accepts the encoding
/// instead of compressing the file again for every request. A tag page preloads its first
/// reads.
#[tokio::test]
async fn the_console_files_are_served_from_their_precompressed_copies() {
    use std::io::{Read as _, Write as _};

    let dist = tempfile::tempdir().unwrap();
    std::fs::write(
        dist.path().join("index.html"),
        "<!doctype html><title>console</title>",
    )
    .unwrap();
    // Big enough that the server would compress it on the fly, and not the same bytes as
    // either copy.
    let wasm: Vec<u8> = (0..64 * 1024_u32)
        .flat_map(|i| (i % 251).to_le_bytes())
        .collect();
    let name = "app-0123456789abcdef_bg.wasm";
    std::fs::write(dist.path().join(name), &wasm).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&wasm).unwrap();
    let gz = gz.finish().unwrap();
    std::fs::write(dist.path().join(format!("{name}.gz")), &gz).unwrap();
    // Served as it is: what matters here is that these very bytes go out, marked as brotli.
    let br = b"stands for the brotli copy".to_vec();
    std::fs::write(dist.path().join(format!("{name}.br")), &br).unwrap();
    let app = TestApp::start_with_dist(dist.path()).await;

    let get = |accept: Option<&'static str>| {
        let mut request = app.client.get(app.url(&format!("/{name}")));
        if let Some(accept) = accept {
            request = request.header("Accept-Encoding", accept);
        }
        async move {
            let resp = request.send().await.unwrap();
            let head = resp.headers().clone();
            assert_eq!(resp.status(), StatusCode::OK);
            (head, resp.bytes().await.unwrap().to_vec())
        }
    };
    for (accept, encoding, body) in [
        (Some("gzip, deflate, br, zstd"), Some("br"), &br),
        (Some("gzip, deflate"), Some("gzip"), &gz),
        (None, None, &wasm),
    ] {
        let (head, bytes) = get(accept).await;
        assert_eq!(
            head.get("content-encoding").map(|v| v.to_str().unwrap()),
            encoding,
            "{accept:?}: {head:?}"
        );
        assert!(bytes == *body, "{accept:?}: the file's copy as it is");
        assert_eq!(head["content-type"], "application/wasm", "{accept:?}");
        assert_eq!(head["vary"], "accept-encoding", "{accept:?}");
        assert_eq!(
            head["cache-control"], "public, max-age=31536000, immutable",
            "{accept:?}"
        );
    }
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut unzipped)
        .unwrap();
    assert!(unzipped == wasm, "the gzip copy is the file");

    // The page itself is still revalidated on every visit.
    let page = app
        .client
        .get(app.url("/ns/demo/streams/ruby/tags/latest"))
        .header("Accept-Encoding", "gzip, br")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["cache-control"], "no-cache");
    // And names what the tag page reads first, for the browser to ask while the wasm loads.
    let links: Vec<String> = page
        .headers()
        .get_all("link")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    for read in [
        tagstream_shared::paths::WHOAMI.to_owned(),
        tagstream_shared::paths::imagestreamtag("demo", "ruby", "latest"),
    ] {
        let link = format!("<{read}>; rel=preload; as=fetch; crossorigin");
        assert!(links.contains(&link), "{link} in {links:?}");
    }
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("<title>console</title>")
    );
    app.stop().await;
}

#[tokio::test]
async fn first_start_without_a_bootstrap_token_prints_a_one_time_admin_password() {
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("loopback-only.toml");
    std::fs::write(
        &config,
        "[[registries]]\ndomain = \"127.0.0.1:9\"\ninsecure = true\n",
    )
    .unwrap();
    let log = data.path().join("err.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tagstream"))
        .args(["serve", "--listen", "127.0.0.1:0", "--dist", "/nonexistent"])
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(data.path())
        .env("RUST_LOG", "warn")
        .env_remove("TAGSTREAM_BOOTSTRAP_ADMIN_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
        .spawn()
        .unwrap();
    let base = served_at(&first_line(&mut child, &log));
    let text = std::fs::read_to_string(&log).unwrap();
    let password = text
        .split("one-time password is ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no password in the log: {text}"));
    let client = crate::support::http_client();
    let resp = client
        .post(format!("{base}{}", tagstream_shared::paths::LOGIN))
        .json(&json!({"username": "admin", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let who: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(who["clusterAdmin"], true);
    let _ = child.kill();
    let _ = child.wait();

    // A second start over the same data prints no new password: the admin exists. (The log has
    // all a start prints before it says where it serves.)
    let server = Server::start_as(data.path(), Path::new("/nonexistent"), "", None);
    let second = std::fs::read_to_string(&server.stderr).unwrap();
    assert!(
        !second.contains("password"),
        "the second start printed: {second}"
    );
    assert!(server.terminate());
}
