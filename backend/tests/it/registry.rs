//! A real registry for import tests: Debian's `docker-registry` (the CNCF distribution
//! registry) on 127.0.0.1 with a random port and a temporary directory, filled with images this
//! harness builds and pushes itself over the distribution API (layers as real tar archives,
//! configs, OCI and Docker manifests and lists). Its access log counts the requests tagstream
//! sends.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use sha2::Digest as _;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// How a test registry is set up: Basic auth (htpasswd, bcrypt) and TLS with a test CA.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub basic: Option<(String, String)>,
    pub tls: bool,
}

pub struct Registry {
    /// `127.0.0.1:PORT`.
    pub addr: String,
    config: PathBuf,
    /// The CA that signed the registry's certificate, when it serves TLS.
    pub ca_file: Option<PathBuf>,
    scheme: &'static str,
    basic: Option<(String, String)>,
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
    http: reqwest::Client,
}

/// One read of a registry's access log. Its lines name the client by address (127.0.0.1), the
/// request line and the user agent; not the host name the client used.
pub struct AccessLog(String);

impl AccessLog {
    /// The access log of the registry whose log is `log` (with `registry.out` beside it: the
    /// access lines go to one or the other).
    pub fn of(log: &std::path::Path) -> Self {
        let mut text = std::fs::read_to_string(log).unwrap_or_default();
        text.push_str(
            &std::fs::read_to_string(log.with_file_name("registry.out")).unwrap_or_default(),
        );
        Self(text)
    }

    fn request_lines(&self) -> impl Iterator<Item = &str> {
        self.0.lines().filter(|l| l.contains("HTTP/1.1\""))
    }

    /// Requests whose line contains `needle` (`"HEAD /v2/demo/app/manifests/latest`).
    pub fn requests(&self, needle: &str) -> usize {
        self.request_lines().filter(|l| l.contains(needle)).count()
    }

    /// Requests tagstream's client made (by its user agent).
    pub fn by_tagstream(&self) -> usize {
        self.request_lines()
            .filter(|l| l.contains("tagstream/"))
            .count()
    }
}

/// What goes into a test image.
#[derive(Debug, Clone)]
pub struct ImageSpec {
    pub os: &'static str,
    pub arch: &'static str,
    pub variant: Option<&'static str>,
    pub env: Vec<String>,
    pub labels: Vec<(String, String)>,
    pub cmd: Vec<String>,
    /// Files, one layer each: (path, content).
    pub layers: Vec<(String, String)>,
    pub docker: bool,
}

impl ImageSpec {
    pub fn new(content: &str) -> Self {
        Self {
            os: "linux",
            arch: "amd64",
            variant: None,
            env: vec![
                "PATH=/usr/local/bin:/usr/bin".into(),
                format!("APP_CONTENT={content}"),
            ],
            labels: vec![("org.opencontainers.image.title".into(), content.into())],
            cmd: vec!["/bin/app".into(), "--serve".into()],
            layers: vec![
                ("etc/os-release".into(), "ID=test\n".into()),
                ("app/content.txt".into(), format!("{content}\n")),
            ],
            docker: false,
        }
    }

    pub fn platform(mut self, arch: &'static str, variant: Option<&'static str>) -> Self {
        self.arch = arch;
        self.variant = variant;
        self
    }

    pub fn docker(mut self) -> Self {
        self.docker = true;
        self
    }
}

pub fn sha256(bytes: &[u8]) -> String {
    let hash = sha2::Sha256::digest(bytes);
    format!(
        "sha256:{}",
        hash.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// A one-file USTAR archive (deterministic: fixed mtime, root owner).
fn tar_with(path: &str, content: &str) -> Vec<u8> {
    let mut header = [0u8; 512];
    header[..path.len()].copy_from_slice(path.as_bytes());
    let octal = |buf: &mut [u8], value: u64| {
        let s = format!("{:0width$o}\0", value, width = buf.len() - 1);
        buf.copy_from_slice(s.as_bytes());
    };
    octal(&mut header[100..108], 0o644);
    octal(&mut header[108..116], 0);
    octal(&mut header[116..124], 0);
    octal(&mut header[124..136], content.len() as u64);
    octal(&mut header[136..148], 1_700_000_000);
    header[148..156].copy_from_slice(b"        ");
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    let sum: u64 = header.iter().map(|&b| u64::from(b)).sum();
    let s = format!("{sum:06o}\0 ");
    header[148..156].copy_from_slice(s.as_bytes());
    let mut out = header.to_vec();
    out.extend_from_slice(content.as_bytes());
    out.resize(out.len().div_ceil(512) * 512 + 1024, 0);
    out
}

fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("openssl could not run ({e}): scripts/setup.sh --test installs it")
        });
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and a server certificate for 127.0.0.1 and localhost signed by it.
fn make_certificates(dir: &std::path::Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-sha256",
            "-days",
            "30",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-subj",
            "/CN=tagstream test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "30",
            "-sha256",
            "-extfile",
            "server.ext",
        ],
    );
}

impl Registry {
    pub async fn start() -> Self {
        Self::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(30));
        if options.tls {
            make_certificates(dir.path());
            let ca = std::fs::read(dir.path().join("ca.crt")).unwrap();
            http = http.add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap());
        }
        let http = http.build().unwrap();
        // The port is picked free outside the kernel's ephemeral range (support::reserved_port),
        // then released for the registry to bind: only a program binding that very port could
        // take it in between. The registry then exits ("address already in use"), and another
        // port is tried; its own "listening on" line says it was the one that bound the port.
        for _ in 0..10 {
            let port = crate::support::reserved_port();
            let addr = format!("127.0.0.1:{port}");
            let config = dir.path().join("config.yml");
            let mut yaml = format!(
                "version: 0.1\nlog:\n  level: info\n  formatter: text\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      enabled: false\nhttp:\n  addr: {addr}\n  secret: loopback-test-secret\n",
                dir.path().join("storage").display()
            );
            if options.tls {
                yaml.push_str(&format!(
                    "  tls:\n    certificate: {}\n    key: {}\n",
                    dir.path().join("server.crt").display(),
                    dir.path().join("server.key").display()
                ));
            }
            if let Some((user, password)) = &options.basic {
                let hash = bcrypt::hash(password, 5).unwrap();
                std::fs::write(dir.path().join("htpasswd"), format!("{user}:{hash}\n")).unwrap();
                yaml.push_str(&format!(
                    "auth:\n  htpasswd:\n    realm: basic-realm\n    path: {}\n",
                    dir.path().join("htpasswd").display()
                ));
            }
            std::fs::write(&config, yaml).unwrap();
            let log = dir.path().join("registry.log");
            let child = Command::new("docker-registry")
                .arg("serve")
                .arg(&config)
                .stdout(Stdio::from(
                    std::fs::File::create(dir.path().join("registry.out")).unwrap(),
                ))
                .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
                .spawn()
                .unwrap_or_else(|e| {
                    panic!(
                        "docker-registry could not start ({e}): scripts/setup.sh --test installs it"
                    )
                });
            let mut registry = Self {
                addr,
                config,
                ca_file: options.tls.then(|| dir.path().join("ca.crt")),
                scheme: if options.tls { "https" } else { "http" },
                basic: options.basic.clone(),
                child,
                log,
                _dir: tempfile::tempdir().unwrap(),
                http: http.clone(),
            };
            let deadline = tokio::time::Instant::now() + crate::support::PATIENCE;
            loop {
                let said = std::fs::read_to_string(&registry.log).unwrap_or_default();
                if said.contains(&format!("listening on {}", registry.addr))
                    && let Ok(r) = registry
                        .request(reqwest::Method::GET, &registry.url("/v2/"))
                        .send()
                        .await
                    && r.status().is_success()
                {
                    registry._dir = dir;
                    return registry;
                }
                if registry.child.try_wait().unwrap().is_some() {
                    break;
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "docker-registry never answered on {}: {said}",
                    registry.addr
                );
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            let said = std::fs::read_to_string(&registry.log).unwrap_or_default();
            assert!(
                said.contains("address already in use"),
                "docker-registry exited: {said}"
            );
        }
        panic!("docker-registry could not get a port in 10 tries");
    }

    /// Restarts the registry on the same storage with Bearer token auth from `token` (push
    /// images first: the harness itself does not speak the token protocol), on its old port
    /// when that is still free. The old port was released when the old registry stopped, so
    /// someone else may have taken it meanwhile: then the new registry exits ("address already
    /// in use") and another free port is tried, as `start_with` does; `addr` says where it
    /// listens in the end, and only its own "listening on" line, logged after the restart,
    /// counts as proof that it bound the port.
    pub async fn restart_with_token(
        &mut self,
        realm: &str,
        service: &str,
        issuer: &str,
        cert: &std::path::Path,
    ) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let yaml = std::fs::read_to_string(&self.config).unwrap();
        let auth = format!(
            "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
            realm,
            service,
            issuer,
            cert.display()
        );
        let dir = self.config.parent().unwrap().to_owned();
        let old_addr = self.addr.clone();
        for _ in 0..10 {
            let config = yaml.replace(
                &format!("  addr: {old_addr}\n"),
                &format!("  addr: {}\n", self.addr),
            );
            std::fs::write(&self.config, format!("{config}{auth}")).unwrap();
            // Only what the new registry logs counts (the log file is appended to).
            let logged_before = std::fs::metadata(&self.log).map_or(0, |m| m.len());
            self.child = Command::new("docker-registry")
                .arg("serve")
                .arg(&self.config)
                .stdout(Stdio::from(
                    std::fs::File::options()
                        .append(true)
                        .open(dir.join("registry.out"))
                        .unwrap(),
                ))
                .stderr(Stdio::from(
                    std::fs::File::options()
                        .append(true)
                        .open(&self.log)
                        .unwrap(),
                ))
                .spawn()
                .unwrap();
            let deadline = tokio::time::Instant::now() + crate::support::PATIENCE;
            loop {
                let said = std::fs::read(&self.log).unwrap_or_default();
                let said = String::from_utf8_lossy(
                    said.get(usize::try_from(logged_before).unwrap()..)
                        .unwrap_or_default(),
                )
                .into_owned();
                if said.contains(&format!("listening on {}", self.addr))
                    && let Ok(r) = self.http.get(self.url("/v2/")).send().await
                    && r.status() == 401
                {
                    return;
                }
                if self.child.try_wait().unwrap().is_some() {
                    assert!(
                        said.contains("address already in use"),
                        "docker-registry exited after the restart: {said}"
                    );
                    break;
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the registry did not come back with token auth on {}: {said}",
                    self.addr
                );
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            // The port was taken meanwhile: another one.
            let port = crate::support::reserved_port();
            self.addr = format!("127.0.0.1:{port}");
        }
        panic!("docker-registry could not get a port back in 10 tries");
    }

    /// Stops the registry without restarting it (a test then takes its port).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}://{}{path}", self.scheme, self.addr)
    }

    fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        let req = self.http.request(method, url);
        match &self.basic {
            Some((user, password)) => req.basic_auth(user, Some(password)),
            None => req,
        }
    }

    /// Access-log lines for requests whose request line contains `needle`
    /// (`"HEAD /v2/demo/app/manifests/latest`).
    pub fn requests(&self, needle: &str) -> usize {
        self.log_now().requests(needle)
    }

    /// Every request tagstream's client made (by its user agent).
    pub fn requests_from_tagstream(&self) -> usize {
        self.log_now().by_tagstream()
    }

    /// The access log as it is now: counts compared with each other must come from one read, or
    /// a request landing between two reads makes them disagree.
    pub fn log_now(&self) -> AccessLog {
        AccessLog::of(&self.log)
    }

    async fn push_blob(&self, repo: &str, bytes: &[u8]) -> String {
        let digest = sha256(bytes);
        let r = self
            .request(
                reqwest::Method::POST,
                &self.url(&format!("/v2/{repo}/blobs/uploads/")),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202, "start upload");
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        let location = if location.starts_with("http") {
            location
        } else {
            self.url(&location)
        };
        let sep = if location.contains('?') { '&' } else { '?' };
        let r = self
            .request(
                reqwest::Method::PUT,
                &format!("{location}{sep}digest={digest}"),
            )
            .header("content-type", "application/octet-stream")
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            201,
            "finish upload: {}",
            r.text().await.unwrap_or_default()
        );
        digest
    }

    async fn put_manifest(&self, repo: &str, reference: &str, media: &str, body: &[u8]) -> String {
        let r = self
            .request(
                reqwest::Method::PUT,
                &self.url(&format!("/v2/{repo}/manifests/{reference}")),
            )
            .header("content-type", media)
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            201,
            "manifest put: {}",
            r.text().await.unwrap_or_default()
        );
        sha256(body)
    }

    /// Builds and pushes one image as `repo:tag`; answers (manifest digest, manifest size).
    pub async fn push_image(&self, repo: &str, tag: &str, spec: &ImageSpec) -> (String, u64) {
        let (layer_type, config_type, manifest_type) = if spec.docker {
            (
                "application/vnd.docker.image.rootfs.diff.tar",
                "application/vnd.docker.container.image.v1+json",
                DOCKER_MANIFEST,
            )
        } else {
            (
                "application/vnd.oci.image.layer.v1.tar",
                "application/vnd.oci.image.config.v1+json",
                OCI_MANIFEST,
            )
        };
        let mut layers = Vec::new();
        let mut diff_ids = Vec::new();
        for (path, content) in &spec.layers {
            let tar = tar_with(path, content);
            let digest = self.push_blob(repo, &tar).await;
            diff_ids.push(digest.clone());
            layers.push(json!({"mediaType": layer_type, "digest": digest, "size": tar.len()}));
        }
        let labels: serde_json::Map<String, Value> = spec
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        let mut config = json!({
            "created": "2026-01-02T03:04:05Z",
            "author": "tagstream tests",
            "architecture": spec.arch,
            "os": spec.os,
            "config": {
                "Env": spec.env,
                "Cmd": spec.cmd,
                "WorkingDir": "/app",
                "User": "1001",
                "ExposedPorts": {"8080/tcp": {}},
                "Labels": labels,
            },
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [{"created": "2026-01-02T03:04:05Z", "created_by": "tagstream tests"}],
        });
        if let Some(v) = spec.variant {
            config["variant"] = json!(v);
        }
        let config = serde_json::to_vec(&config).unwrap();
        let config_digest = self.push_blob(repo, &config).await;
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": manifest_type,
            "config": {"mediaType": config_type, "digest": config_digest, "size": config.len()},
            "layers": layers,
        });
        let body = serde_json::to_vec(&manifest).unwrap();
        let digest = self.put_manifest(repo, tag, manifest_type, &body).await;
        (digest, body.len() as u64)
    }

    /// Pushes each child by digest and a list of them as `repo:tag`; answers the list digest
    /// and the children's digests in order.
    pub async fn push_list(
        &self,
        repo: &str,
        tag: &str,
        children: &[ImageSpec],
        docker: bool,
    ) -> (String, Vec<String>) {
        let mut entries = Vec::new();
        let mut digests = Vec::new();
        for child in children {
            let child = if docker {
                child.clone().docker()
            } else {
                child.clone()
            };
            let (digest, size) = self
                .push_image(repo, &format!("child-{}", child.arch), &child)
                .await;
            let mut platform = json!({"architecture": child.arch, "os": child.os});
            if let Some(v) = child.variant {
                platform["variant"] = json!(v);
            }
            let media = if docker {
                DOCKER_MANIFEST
            } else {
                OCI_MANIFEST
            };
            entries.push(
                json!({"mediaType": media, "digest": digest, "size": size, "platform": platform}),
            );
            digests.push(digest);
        }
        let media = if docker { DOCKER_LIST } else { OCI_INDEX };
        let list = json!({"schemaVersion": 2, "mediaType": media, "manifests": entries});
        let body = serde_json::to_vec(&list).unwrap();
        (self.put_manifest(repo, tag, media, &body).await, digests)
    }

    /// Deletes a manifest by digest (every tag pointing at it goes too).
    pub async fn delete_manifest(&self, repo: &str, digest: &str) {
        let r = self
            .request(
                reqwest::Method::DELETE,
                &self.url(&format!("/v2/{repo}/manifests/{digest}")),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
