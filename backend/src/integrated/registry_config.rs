//! `tagstream registry-config`: the docker-registry config that makes the registry trust
//! tagstream's tokens (`auth.token`) and tell tagstream about every push (`notifications`),
//! listening where `[registry] url` says. Strings are written as JSON strings, which YAML reads
//! as double-quoted scalars, so no path or URL can break the file.

use std::path::Path;

use super::config::IntegratedRegistryConfig;
use super::{NOTIFICATIONS_PATH, TOKEN_PATH};

/// Everything the file is made from.
#[derive(Debug)]
pub struct RegistryFile<'a> {
    pub config: &'a IntegratedRegistryConfig,
    /// How the registry and clients reach tagstream, without a trailing `/`.
    pub tagstream_url: &'a str,
    /// Where the registry keeps its blobs and manifests.
    pub storage: &'a Path,
    /// tagstream's token certificate (the registry's `rootcertbundle`).
    pub cert: &'a Path,
    /// The notification secret.
    pub secret: &'a str,
    /// The registry's own `http.secret` (it signs upload state with it).
    pub http_secret: &'a str,
}

fn q(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// The registry's listen address: the host and port of `[registry] url`.
pub fn listen_addr(config: &IntegratedRegistryConfig) -> Result<String, String> {
    let url = config.api_url()?;
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or(5000);
    Ok(format!("{host}:{port}"))
}

/// The config file's text.
pub fn render(f: &RegistryFile<'_>) -> Result<String, String> {
    let addr = listen_addr(f.config)?;
    let base = f.tagstream_url.trim_end_matches('/');
    let tls = if f.config.api_url()?.scheme() == "https" {
        "  # [registry] url is https: add tls.certificate and tls.key here.\n"
    } else {
        ""
    };
    Ok(format!(
        "# Written by `tagstream registry-config`: docker-registry with tagstream as its token\n\
         # server and notification endpoint. Start it with: docker-registry serve THIS_FILE\n\
         version: 0.1\n\
         log:\n  level: info\n  formatter: text\n\
         storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      enabled: true\n      age: 24h\n      interval: 1h\n      dryrun: false\n\
         http:\n  addr: {addr}\n  secret: {http_secret}\n  headers:\n    X-Content-Type-Options: [nosniff]\n{tls}\
         auth:\n  token:\n    realm: {realm}\n    service: {service}\n    issuer: {issuer}\n    rootcertbundle: {cert}\n\
         notifications:\n  endpoints:\n    - name: tagstream\n      url: {notify}\n      headers:\n        X-Registry-Secret: [{secret}]\n      timeout: 5s\n      threshold: 5\n      backoff: 1s\n      ignore:\n        actions: [pull]\n",
        storage = q(&f.storage.display().to_string()),
        addr = q(&addr),
        http_secret = q(f.http_secret),
        realm = q(&format!("{base}{TOKEN_PATH}")),
        service = q(&f.config.service),
        issuer = q(&f.config.issuer),
        cert = q(&f.cert.display().to_string()),
        notify = q(&format!("{base}{NOTIFICATIONS_PATH}")),
        secret = q(f.secret),
    ))
}

/// `tagstream registry-config`: reads the config file, makes or reads the key material in the
/// database (`serve`'s), writes the token certificate where the registry reads it
/// (`DATA_DIR/registry/token.crt`) and writes the registry's config.
pub async fn run(args: &crate::cli::RegistryConfigArgs) -> Result<(), String> {
    use std::io::Write as _;
    let config = crate::config::Config::load(&args.config).map_err(|e| e.to_string())?;
    let registry = config.registry.ok_or_else(|| {
        format!(
            "{} has no [registry] section: add one with url = \"http://127.0.0.1:5000\"",
            args.config.display()
        )
    })?;
    let tagstream_url = args
        .tagstream_url
        .clone()
        .or_else(|| registry.tagstream_url.clone())
        .ok_or(
            "say how the registry reaches tagstream: --tagstream-url or [registry] tagstream_url",
        )?;
    url::Url::parse(&tagstream_url)
        .map_err(|e| format!("--tagstream-url {tagstream_url:?} is not a URL: {e}"))?;
    std::fs::create_dir_all(&args.data_dir)
        .map_err(|e| format!("cannot create {}: {e}", args.data_dir.display()))?;
    let data_dir = std::fs::canonicalize(&args.data_dir)
        .map_err(|e| format!("cannot resolve {}: {e}", args.data_dir.display()))?;
    // A small pool: this runs a few statements and exits.
    let settings = crate::store::DatabaseSettings {
        max_connections: 2,
        ..crate::store::DatabaseSettings::default()
    };
    let store = crate::store::open_with(&args.database_url(), settings)
        .await
        .map_err(|e| format!("cannot open the database: {e}"))?;
    let keys = super::keys::token_keys(store.as_ref(), &data_dir)
        .await
        .map_err(|e| e.to_string())?;
    let secret = super::keys::notification_secret(store.as_ref(), &data_dir)
        .await
        .map_err(|e| e.to_string())?;
    let cert = write_cert(&data_dir, &keys.cert_pem)?;
    let storage = match &args.storage {
        Some(s) => s.clone(),
        None => super::keys::dir(&data_dir).join("storage"),
    };
    std::fs::create_dir_all(&storage)
        .map_err(|e| format!("cannot create {}: {e}", storage.display()))?;
    let storage = std::fs::canonicalize(&storage)
        .map_err(|e| format!("cannot resolve {}: {e}", storage.display()))?;
    let http_secret = crate::auth::secret::random_hex(32).map_err(|e| e.to_string())?;
    let text = render(&RegistryFile {
        config: &registry,
        tagstream_url: &tagstream_url,
        storage: &storage,
        cert: &cert,
        secret: &secret,
        http_secret: &http_secret,
    })?;
    match &args.output {
        Some(path) => {
            use std::os::unix::fs::OpenOptionsExt as _;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            f.write_all(text.as_bytes())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        None => std::io::stdout()
            .write_all(text.as_bytes())
            .map_err(|e| format!("cannot write the config: {e}"))?,
    }
    Ok(())
}

/// Writes the token certificate to `DATA_DIR/registry/token.crt` (replacing it at once, so a
/// registry starting meanwhile reads the old one or the new one, never half of one); answers
/// its path. Only the certificate: the signing key stays in the database.
fn write_cert(data_dir: &Path, pem: &str) -> Result<std::path::PathBuf, String> {
    let dir = super::keys::dir(data_dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join("token.crt");
    let tmp = dir.join(format!("token.crt.tmp{}", std::process::id()));
    std::fs::write(&tmp, pem).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}
