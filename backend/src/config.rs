//! The configuration file (`--config`, TOML). Unknown keys are errors, so a typo is caught at
//! start rather than silently ignored. Sections that later features read are parsed and checked
//! now so that one file works across versions.

use std::path::Path;

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Registries allowed for import, like OpenShift's `allowedRegistriesForImport`.
    #[serde(default)]
    pub registries: Vec<RegistryConfig>,
    #[serde(default)]
    pub import: ImportConfig,
    #[serde(default)]
    pub webhooks: WebhooksConfig,
    #[serde(default)]
    pub samples: SamplesConfig,
    #[serde(default)]
    pub auth: AuthConfig,
    #[serde(default)]
    pub watch: WatchConfig,
    /// The integrated registry (`[registry]`), when tagstream runs one.
    #[serde(default)]
    pub registry: Option<crate::integrated::config::IntegratedRegistryConfig>,
}

/// Sign-in: sessions, login rate limits, and single sign-on behind a trusted proxy.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// A session ends after this many seconds without a request.
    pub session_idle_seconds: i64,
    /// A session ends this many seconds after sign-in, however active.
    pub session_max_seconds: i64,
    /// Failed sign-ins allowed per user name within `login_window_seconds`.
    pub login_attempts_per_user: u32,
    /// Failed sign-ins allowed per client address within `login_window_seconds`.
    pub login_attempts_per_address: u32,
    pub login_window_seconds: u64,
    /// Addresses of reverse proxies (oauth2-proxy) whose `X-Forwarded-User` and
    /// `X-Forwarded-Groups` headers are believed. Empty (the default): header sign-in is off.
    #[serde(default)]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Mark cookies `Secure`. Unset: when the request came over TLS (`X-Forwarded-Proto: https`
    /// from a trusted proxy).
    #[serde(default)]
    pub secure_cookies: Option<bool>,
    /// An invitation (a user made without a password) stops working this many seconds after
    /// it was made.
    pub invitation_seconds: i64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            session_idle_seconds: 2 * 3600,
            session_max_seconds: 24 * 3600,
            login_attempts_per_user: 5,
            login_attempts_per_address: 20,
            login_window_seconds: 300,
            trusted_proxies: Vec::new(),
            secure_cookies: None,
            invitation_seconds: 7 * 24 * 3600,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryConfig {
    /// `host[:port]`, or `*.example.com`.
    pub domain: String,
    /// Plain HTTP or an unverified certificate allowed.
    #[serde(default)]
    pub insecure: bool,
    #[serde(default)]
    pub username: Option<String>,
    /// A file holding the password; the password itself never appears in the config.
    #[serde(default)]
    pub password_file: Option<std::path::PathBuf>,
    /// Extra CA certificates (PEM) trusted for this registry.
    #[serde(default)]
    pub ca_file: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImportConfig {
    /// How often scheduled tags are checked, in seconds (each check is jittered by ±10%).
    pub schedule_interval_seconds: u64,
    /// At most this many tags of a repository are imported by one repository import.
    pub max_repository_tags: usize,
    /// How many imports run at once.
    pub concurrency: usize,
    /// Requests per second sent to one registry.
    pub requests_per_second_per_registry: u32,
    /// Timeout for one whole registry request, in seconds (connecting: a third of it).
    pub request_timeout_seconds: u64,
    /// The longest wait between retries of a failed import, in seconds.
    pub retry_backoff_cap_seconds: u64,
    /// The platform `importMode: Legacy` picks from a manifest list.
    pub platform: String,
    /// History items kept per tag; the oldest drop off first.
    pub history_limit: usize,
}

impl Default for ImportConfig {
    fn default() -> Self {
        Self {
            schedule_interval_seconds: 900,
            max_repository_tags: 50,
            concurrency: 8,
            requests_per_second_per_registry: 200,
            request_timeout_seconds: 30,
            retry_backoff_cap_seconds: 900,
            platform: "linux/amd64".into(),
            history_limit: 15,
        }
    }
}

/// Trigger webhooks: where they may go and how hard delivery tries.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhooksConfig {
    /// `host[:port]` that webhooks may target despite the SSRF rules (an entry without a port
    /// allows any port of that host).
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// Timeout for one delivery attempt, connecting included, in seconds.
    pub timeout_seconds: u64,
    /// The wait before the first retry; each later one doubles it.
    pub retry_initial_seconds: u64,
    /// The longest wait between two attempts.
    pub retry_max_interval_seconds: u64,
    /// A delivery still failing this long after its event is given up (phase `Failed`).
    pub give_up_after_seconds: u64,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        Self {
            allowed_hosts: Vec::new(),
            timeout_seconds: 30,
            retry_initial_seconds: 5,
            retry_max_interval_seconds: 600,
            give_up_after_seconds: 24 * 3600,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SamplesConfig {
    /// The project that holds the default samples.
    pub namespace: String,
}

impl Default for SamplesConfig {
    fn default() -> Self {
        Self {
            namespace: "openshift".into(),
        }
    }
}

/// Watches (`?watch=true`): how long one runs and how many one user holds open.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WatchConfig {
    /// A watch ends after this many seconds (a smaller `timeoutSeconds` wins); clients such as
    /// kubectl and the console's live pages then resume from the last resourceVersion.
    /// Kubernetes' API server ends watches after 30 to 60 minutes.
    pub max_seconds: u64,
    /// Watches one user may hold open at once; one more is answered 429 Too Many Requests.
    pub per_user: usize,
}

impl Default for WatchConfig {
    fn default() -> Self {
        Self {
            max_seconds: 1800,
            per_user: 5,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the config file {path} is not valid: {source}")]
    Parse {
        path: String,
        source: toml::de::Error,
    },
    #[error("the config file {path} is not valid: {message}")]
    Invalid { path: String, message: String },
}

impl Config {
    /// Reads and checks the file at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: shown.clone(),
            source,
        })?;
        let config: Self = toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: shown.clone(),
            source,
        })?;
        config.check().map_err(|message| ConfigError::Invalid {
            path: shown,
            message,
        })?;
        Ok(config)
    }

    fn check(&self) -> Result<(), String> {
        let import = &self.import;
        if import.schedule_interval_seconds == 0 {
            return Err("[import] schedule_interval_seconds must be at least 1".into());
        }
        if import.concurrency == 0
            || import.requests_per_second_per_registry == 0
            || import.request_timeout_seconds == 0
            || import.retry_backoff_cap_seconds == 0
            || import.max_repository_tags == 0
            || import.history_limit == 0
        {
            return Err("[import] concurrency, requests_per_second_per_registry, request_timeout_seconds, retry_backoff_cap_seconds, max_repository_tags and history_limit must be at least 1".into());
        }
        let auth = &self.auth;
        if auth.session_idle_seconds < 1
            || auth.session_max_seconds < 1
            || auth.login_attempts_per_user == 0
            || auth.login_attempts_per_address == 0
            || auth.login_window_seconds == 0
            || auth.invitation_seconds < 1
        {
            return Err(
                "[auth] session and login limits and invitation_seconds must be at least 1".into(),
            );
        }
        if let Some(registry) = &self.registry {
            registry.check()?;
        }
        if self.watch.max_seconds == 0 || self.watch.per_user == 0 {
            return Err("[watch] max_seconds and per_user must be at least 1".into());
        }
        let hooks = &self.webhooks;
        if hooks.timeout_seconds == 0
            || hooks.retry_initial_seconds == 0
            || hooks.retry_max_interval_seconds == 0
        {
            return Err(
                "[webhooks] timeout_seconds, retry_initial_seconds and retry_max_interval_seconds must be at least 1"
                    .into(),
            );
        }
        if import.platform.split('/').count() < 2 {
            return Err(format!(
                "[import] platform {:?} is not os/architecture[/variant]",
                import.platform
            ));
        }
        for (i, r) in self.registries.iter().enumerate() {
            let host = r.domain.strip_prefix("*.").unwrap_or(&r.domain);
            let valid = !host.is_empty()
                && host.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
                });
            if !valid {
                return Err(format!(
                    "registries[{i}].domain {:?} is not host[:port] or *.domain",
                    r.domain
                ));
            }
        }
        if self
            .samples
            .namespace
            .parse::<tagstream_shared::ProjectName>()
            .is_err()
        {
            return Err(format!(
                "[samples] namespace {:?} is not a valid project name",
                self.samples.namespace
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_parses() {
        let config: Config = toml::from_str(
            r#"
            [[registries]]
            domain = "quay.io"
            insecure = false
            [import]
            schedule_interval_seconds = 900
            [webhooks]
            allowed_hosts = []
            [samples]
            namespace = "openshift"
            "#,
        )
        .expect("parses");
        assert_eq!(config.registries[0].domain, "quay.io");
        assert!(config.check().is_ok());
    }

    #[test]
    fn typos_and_bad_values_are_refused() {
        assert!(toml::from_str::<Config>("[imports]\nx = 1").is_err());
        let zero: Config =
            toml::from_str("[import]\nschedule_interval_seconds = 0").expect("parses");
        assert!(zero.check().is_err());
        let bad: Config = toml::from_str("[[registries]]\ndomain = \"a b\"").expect("parses");
        assert!(bad.check().is_err());
    }
}
