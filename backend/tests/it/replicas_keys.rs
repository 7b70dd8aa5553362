//! The key material every replica shares is kept in the database, with nothing to copy: two
//! real `tagstream serve` processes on one throwaway PostgreSQL, each with its own data
//! directory and started at once, answer the same receiver URL (a delivery through either
//! works) and sign registry tokens with one key, which the real docker-registry, configured by
//! `tagstream registry-config` run against the other replica's data directory, trusts. On
//! SQLite, an install upgraded from the key files an earlier version kept in
//! `DATA_DIR/registry/` keeps its receiver URL, token certificate and notification secret,
//! also once the files are gone.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use hmac::{Hmac, Mac as _};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;
use tagstream_shared::paths::{PROJECTS, imagestreams, project};

use crate::integrated_registry::{NOTIFICATIONS, TOKEN};
use crate::pg_support::fresh_database;
use crate::replicas::two_replicas;
use crate::server::Server;
use crate::support::{ADMIN_TOKEN, client_with_token, digest};

const RECEIVERS: &str = "/apis/tagstream.io/v1/namespaces/demo/receivers";

/// `[registry]` for an integrated registry listening on `127.0.0.1:port`.
fn registry_section(port: u16) -> String {
    format!("[registry]\nurl = \"http://127.0.0.1:{port}\"\n")
}

async fn get(base: &str, path: &str) -> (StatusCode, Value) {
    let r = client_with_token(ADMIN_TOKEN)
        .get(format!("{base}{path}"))
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

async fn post(base: &str, path: &str, body: &Value) -> Value {
    let r = client_with_token(ADMIN_TOKEN)
        .post(format!("{base}{path}"))
        .json(body)
        .send()
        .await
        .unwrap();
    let code = r.status();
    let body: Value = r.json().await.unwrap();
    assert!(code.is_success(), "POST {path}: {code} {body}");
    body
}

/// The path of project demo's receiver URL, as the server at `base` answers it.
async fn receiver_path(base: &str) -> String {
    let (code, body) = get(base, RECEIVERS).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    body["spec"]["path"].as_str().unwrap().to_owned()
}

/// A distribution push notification of `127.0.0.1:9/src/app:latest` sent to `path` at `base`.
async fn deliver(base: &str, path: &str) -> (StatusCode, Value) {
    let envelope = json!({"events": [{
        "id": format!("push-{}", uuid::Uuid::new_v4()), "action": "push",
        "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                   "digest": digest('a'), "repository": "src/app", "tag": "latest"},
        "request": {"host": "127.0.0.1:9"}
    }]});
    let r = crate::support::http_client()
        .post(format!("{base}{path}"))
        .header(
            "content-type",
            "application/vnd.docker.distribution.events.v1+json",
        )
        .body(envelope.to_string())
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

/// Project demo with a stream whose tag imports `127.0.0.1:9/src/app:latest` (nothing answers
/// there: the imports fail, which changes nothing here).
async fn demo_with_stream(base: &str) {
    post(base, PROJECTS, &json!({"metadata": {"name": "demo"}})).await;
    post(
        base,
        &imagestreams("demo"),
        &json!({"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
                "metadata": {"name": "app"},
                "spec": {"tags": [{"name": "latest", "from": {"kind": "DockerImage",
                    "name": "127.0.0.1:9/src/app:latest"}}]}}),
    )
    .await;
}

/// A registry token for the catalog, issued to admin by the server at `base`, and the
/// certificate (DER, base64) its header names as the signer.
async fn catalog_token(base: &str) -> (String, String) {
    let r = crate::support::http_client()
        .get(format!("{base}{TOKEN}"))
        .query(&[
            ("service", "tagstream-registry"),
            ("scope", "registry:catalog:*"),
        ])
        .basic_auth("admin", Some(ADMIN_TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    let jwt = body["token"].as_str().unwrap().to_owned();
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(jwt.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    let x5c = header["x5c"][0].as_str().unwrap().to_owned();
    (jwt, x5c)
}

/// Runs `tagstream registry-config` with `config` over `data_dir`, its database named by
/// `TAGSTREAM_DATABASE_URL` when given (as `serve` reads it); answers the written file's path.
fn registry_config(config: &Path, data_dir: &Path, database: Option<&str>, base: &str) -> PathBuf {
    let yml = data_dir.join("registry.yml");
    let mut command = Command::new(env!("CARGO_BIN_EXE_tagstream"));
    command
        .arg("registry-config")
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--tagstream-url", base])
        .arg("--output")
        .arg(&yml)
        .env("RUST_LOG", "warn");
    match database {
        Some(url) => command.env("TAGSTREAM_DATABASE_URL", url),
        None => command.env_remove("TAGSTREAM_DATABASE_URL"),
    };
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "registry-config: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    yml
}

/// The notification secret a registry config written by `registry-config` holds.
fn secret_in(yml: &Path) -> String {
    let text = std::fs::read_to_string(yml).unwrap();
    let line = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("X-Registry-Secret: "))
        .unwrap();
    serde_json::from_str::<Vec<String>>(line).unwrap().remove(0)
}

/// `docker-registry serve` with a config from `registry-config`; killed when dropped.
struct DockerRegistry {
    child: Child,
    log: PathBuf,
}

impl Drop for DockerRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl DockerRegistry {
    /// Starts it and waits until it answers at `addr` (with a token challenge).
    async fn start(yml: &Path, addr: &str) -> Self {
        let log = yml.with_extension("log");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(yml)
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
            .spawn()
            .expect("docker-registry runs (scripts/setup.sh --test installs it)");
        let me = Self { child, log };
        let deadline = Instant::now() + crate::support::PATIENCE;
        loop {
            if let Ok(r) = crate::support::get_url(format!("http://{addr}/v2/")).await
                && r.status() == StatusCode::UNAUTHORIZED
            {
                return me;
            }
            assert!(
                Instant::now() < deadline,
                "docker-registry did not start: {}",
                std::fs::read_to_string(&me.log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// The status of `GET /v2/_catalog` with `token`.
    async fn catalog(&self, addr: &str, token: &str) -> StatusCode {
        crate::support::http_client()
            .get(format!("http://{addr}/v2/_catalog"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
    }
}

/// The key files an earlier version kept in `data_dir`, which must not be made any more.
fn key_files(data_dir: &Path) -> Vec<&'static str> {
    ["receivers.key", "token.key", "notifications.secret"]
        .into_iter()
        .filter(|f| data_dir.join("registry").join(f).exists())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_replicas_with_their_own_data_dirs_answer_one_receiver_url_that_works_through_either() {
    let (a, b) = two_replicas("").await;
    demo_with_stream(&a.base).await;
    let path = receiver_path(&a.base).await;
    assert_eq!(
        receiver_path(&b.base).await,
        path,
        "the replicas derive the receiver URL from different keys"
    );
    let (code, answer) = deliver(&b.base, &path).await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    assert_eq!(answer["reimported"], 1, "{answer}");
    for r in [&a, &b] {
        assert_eq!(key_files(r.data_dir()), Vec::<&str>::new());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn replicas_started_at_once_sign_with_one_key_that_the_registry_configured_from_another_trusts()
 {
    let port = crate::support::reserved_port();
    let addr = format!("127.0.0.1:{port}");
    let db = fresh_database().await;
    // Both start at once on the fresh database: both make the keys, one set is kept.
    let (a, b) = {
        let extra = registry_section(port);
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(|| crate::replicas::Replica::start(&db, &extra));
            let b = s.spawn(|| crate::replicas::Replica::start(&db, &extra));
            (a.join().unwrap(), b.join().unwrap())
        });
        (a, b)
    };
    let (from_a, signer_a) = catalog_token(&a.base).await;
    let (from_b, signer_b) = catalog_token(&b.base).await;
    assert_eq!(signer_a, signer_b, "the replicas sign with different keys");

    // The registry is configured from B's data directory (and the database), A is its realm.
    let yml = registry_config(
        &b.data_dir().join("config.toml"),
        b.data_dir(),
        Some(&db),
        &a.base,
    );
    assert_eq!(
        key_files(b.data_dir()),
        Vec::<&str>::new(),
        "only the certificate is written"
    );
    let registry = DockerRegistry::start(&yml, &addr).await;
    assert_eq!(registry.catalog(&addr, &from_a).await, StatusCode::OK);
    assert_eq!(registry.catalog(&addr, &from_b).await, StatusCode::OK);

    // The notification secret in that config is the one both replicas check.
    let secret = secret_in(&yml);
    for r in [&a, &b] {
        let code = crate::support::http_client()
            .post(r.url(NOTIFICATIONS))
            .header(
                "content-type",
                "application/vnd.docker.distribution.events.v1+json",
            )
            .header("x-registry-secret", &secret)
            .body(json!({"events": []}).to_string())
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(code, StatusCode::OK, "{} refused the secret", r.base);
    }
}

/// HMAC-SHA256 hex, as the receivers' secrets have always been derived.
fn hmac_hex(key: &str, parts: &[&[u8]]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    for p in parts {
        mac.update(p);
    }
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes the key files as an earlier tagstream kept them; answers the receivers' key, the
/// certificate (DER, base64) and the notification secret.
fn old_key_files(data_dir: &Path) -> (String, String, String) {
    let dir = data_dir.join("registry");
    std::fs::create_dir_all(&dir).unwrap();
    let (receivers, secret) = ("0123456789abcdef".repeat(4), "fedcba9876543210".repeat(4));
    std::fs::write(dir.join("receivers.key"), &receivers).unwrap();
    std::fs::write(dir.join("notifications.secret"), &secret).unwrap();
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "openssl {args:?}: {out:?}");
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "30",
        "-keyout",
        "token.key",
        "-out",
        "token.crt",
        "-subj",
        "/CN=tagstream registry token signer",
    ]);
    run(&[
        "x509",
        "-in",
        "token.crt",
        "-outform",
        "DER",
        "-out",
        "old.der",
    ]);
    let der = std::fs::read(dir.join("old.der")).unwrap();
    std::fs::remove_file(dir.join("old.der")).unwrap();
    (
        receivers,
        base64::engine::general_purpose::STANDARD.encode(der),
        secret,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn an_install_upgraded_from_key_files_keeps_its_receiver_url_and_token_signer_without_them() {
    let data = tempfile::tempdir().unwrap();
    let (receivers, cert, secret) = old_key_files(data.path());
    let section = registry_section(crate::support::reserved_port());
    let dist = Path::new("/nonexistent");
    let server = Server::start_with(data.path(), dist, &section);
    demo_with_stream(&server.base).await;
    let (_, demo) = get(&server.base, &project("demo")).await;
    let uid = demo["metadata"]["uid"].as_str().unwrap().to_owned();
    // The URL the earlier version answered: derived from its key file, the name and the uid.
    let old_path = format!(
        "{RECEIVERS}/{}",
        hmac_hex(&receivers, &[b"receiver\0", b"demo", b"\0", uid.as_bytes()])
    );
    assert_eq!(receiver_path(&server.base).await, old_path);
    assert_eq!(catalog_token(&server.base).await.1, cert);
    assert!(server.terminate(), "the server did not stop cleanly");

    // The files go (they are read only to import them): nothing changes.
    std::fs::remove_dir_all(data.path().join("registry")).unwrap();
    let server = Server::start_with(data.path(), dist, &section);
    assert_eq!(receiver_path(&server.base).await, old_path);
    let (code, answer) = deliver(&server.base, &old_path).await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    assert_eq!(answer["reimported"], 1, "{answer}");
    assert_eq!(catalog_token(&server.base).await.1, cert);
    // registry-config (on the same SQLite file) writes the old certificate and secret.
    let yml = registry_config(
        &data.path().join("loopback-only.toml"),
        data.path(),
        None,
        &server.base,
    );
    assert_eq!(secret_in(&yml), secret);
    let written = std::fs::read_to_string(data.path().join("registry/token.crt")).unwrap();
    let b64: String = written
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert_eq!(b64, cert);
}
