//! The real kubectl against the real `tagstream` binary. kubectl sends a bearer token only over
//! TLS (kubernetes/kubectl#744), so the server runs behind Debian's nginx terminating TLS on
//! loopback with a throwaway self-signed certificate, as a deployment behind a proxy would.
//! Every harness has its own kubeconfig and cache directory, and its own database (SQLite, or
//! PostgreSQL with `TAGSTREAM_TEST_POSTGRES=1`).

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::server::Server;
use crate::support::{ADMIN_TOKEN, client_with_token, workspace_root};

/// The oldest and the newest kubectl of the machine image (google-cloud-cli's builds).
pub const VERSIONS: [&str; 2] = ["1.27", "1.33"];

pub fn kubectl_binary(version: &str) -> PathBuf {
    let path = PathBuf::from(format!("/usr/lib/google-cloud-sdk/bin/kubectl.{version}"));
    assert!(
        path.is_file(),
        "kubectl {version} is absent: expected {} (google-cloud-cli's kubectl builds)",
        path.display()
    );
    path
}

pub struct Kube {
    pub server: Option<Server>,
    nginx: Child,
    /// `https://127.0.0.1:PORT`, nginx in front of the server.
    pub url: String,
    dir: tempfile::TempDir,
}

impl Drop for Kube {
    fn drop(&mut self) {
        // SIGTERM, not SIGKILL: nginx's master then stops its workers before it exits (a
        // killed master leaves them running).
        let _ = Command::new("kill")
            .args(["-TERM", &self.nginx.id().to_string()])
            .status();
        let _ = self.nginx.wait();
        if let Some(server) = self.server.take() {
            server.kill();
        }
    }
}

/// nginx terminating TLS on a free port in front of `upstream`, once it listens, and the port;
/// `None` if another process took the port first (nginx then exits). The port is free when
/// chosen, but a test running beside this one may take it before nginx binds it; a bare connect
/// would then reach that test's nginx. nginx writes its pid file only after it bound every
/// port, so that file naming this nginx is the proof it listens.
fn start_nginx(dir: &Path, crt: &Path, key: &Path, upstream: &str) -> Option<(Child, u16)> {
    let port = crate::support::reserved_port();
    let d = dir.display();
    let pid_file = dir.join("nginx.pid");
    let _ = std::fs::remove_file(&pid_file);
    let conf = format!(
        "daemon off; pid {d}/nginx.pid; error_log {d}/nginx-error.log; worker_processes 1;\n\
         events {{}}\n\
         http {{ access_log off; client_body_temp_path {d}/nb; proxy_temp_path {d}/np;\n\
           server {{ listen 127.0.0.1:{port} ssl; ssl_certificate {crt}; ssl_certificate_key {key};\n\
             location / {{ proxy_pass http://{upstream}; proxy_buffering off;\n\
               proxy_http_version 1.1; proxy_read_timeout 1h; }} }} }}\n",
        crt = crt.display(),
        key = key.display(),
    );
    let conf_path = dir.join("nginx.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let mut nginx = Command::new("nginx")
        .arg("-c")
        .arg(&conf_path)
        .arg("-e")
        .arg(dir.join("nginx-error.log"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx (Debian's nginx-light) terminates TLS for kubectl");
    let pid = nginx.id().to_string();
    // nginx tries a taken port for about 2.5 s before it gives up.
    let deadline = Instant::now() + crate::support::PATIENCE;
    loop {
        let written = std::fs::read_to_string(&pid_file).unwrap_or_default();
        if written.trim() == pid {
            return Some((nginx, port));
        }
        if nginx.try_wait().unwrap().is_some() {
            return None;
        }
        assert!(Instant::now() < deadline, "nginx never started on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Kube {
    /// The server (samples applied) behind a TLS proxy; on a fresh PostgreSQL database with
    /// `TAGSTREAM_TEST_POSTGRES=1`, so that kubectl's requests run on both stores.
    pub async fn start() -> Self {
        Self::start_with("").await
    }

    /// As [`Kube::start`], with `extra` appended to the server's config (more sections).
    pub async fn start_with(extra: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        if crate::pg_support::on_postgres() {
            let url = crate::pg_support::fresh_database().await;
            std::fs::write(data.join(crate::server::DATABASE_MARKER), url).unwrap();
        }
        let server = Server::start_with(&data, &workspace_root().join("dist"), extra);
        let upstream = server.base.trim_start_matches("http://").to_owned();
        let (crt, key) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
        let openssl = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args([
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
            ])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&crt)
            .output()
            .unwrap();
        assert!(openssl.status.success(), "openssl: {openssl:?}");
        let (nginx, port) = (0..5)
            .find_map(|_| start_nginx(dir.path(), &crt, &key, &upstream))
            .expect("nginx never listened on a free port in five tries");
        std::fs::write(dir.path().join("kubeconfig"), "").unwrap();
        Self {
            server: Some(server),
            nginx,
            url: format!("https://127.0.0.1:{port}"),
            dir,
        }
    }

    /// `kubectl.<version>` with the token, its own kubeconfig and cache, and `args`.
    pub fn command(&self, version: &str, token: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(kubectl_binary(version));
        cmd.arg("--server")
            .arg(&self.url)
            .arg("--certificate-authority")
            .arg(self.dir.path().join("tls.crt"))
            .arg("--token")
            .arg(token)
            .arg("--kubeconfig")
            .arg(self.dir.path().join("kubeconfig"))
            .arg("--cache-dir")
            .arg(self.dir.path().join(format!("cache-{version}")))
            .args(args)
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null());
        cmd
    }

    /// Runs kubectl as the admin to completion (bounded: kubectl's own request timeout).
    pub fn run(&self, version: &str, args: &[&str]) -> Output {
        self.run_as(version, ADMIN_TOKEN, args)
    }

    pub fn run_as(&self, version: &str, token: &str, args: &[&str]) -> Output {
        let mut cmd = self.command(version, token, args);
        cmd.arg("--request-timeout=30s");
        cmd.output().unwrap()
    }

    /// Runs kubectl as the admin and answers its standard output, failing on an error.
    pub fn ok(&self, version: &str, args: &[&str]) -> String {
        let out = self.run(version, args);
        assert!(
            out.status.success(),
            "kubectl {version} {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn base(&self) -> String {
        self.server.as_ref().unwrap().base.clone()
    }

    /// Sends `body` to the server directly, as the admin.
    pub async fn api(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req =
            client_with_token(ADMIN_TOKEN).request(method, format!("{}{path}", self.base()));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.unwrap()
    }

    pub async fn create_project(&self, name: &str) {
        self.api(
            reqwest::Method::POST,
            tagstream_shared::paths::PROJECTS,
            Some(json!({"metadata": {"name": name}})),
        )
        .await;
    }

    /// User `name` with `role` in project `ns`; answers their API token.
    pub async fn user_with_role(&self, name: &str, ns: &str, role: &str) -> String {
        use tagstream_shared::paths;
        self.api(
            reqwest::Method::POST,
            paths::USERS,
            Some(json!({"metadata": {"name": name}, "password": format!("{name}-password")})),
        )
        .await;
        let token = self
            .api(
                reqwest::Method::POST,
                &paths::tokens(name),
                Some(json!({"spec": {}})),
            )
            .await;
        self.api(
            reqwest::Method::POST,
            &paths::rolebindings(ns),
            Some(json!({
                "metadata": {"name": format!("{role}-{name}")},
                "roleRef": {"kind": "ClusterRole", "name": role},
                "subjects": [{"kind": "User", "name": name}]
            })),
        )
        .await;
        token["token"].as_str().unwrap().to_owned()
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}
