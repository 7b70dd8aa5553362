//! `[registry]`: the integrated registry (Debian's `docker-registry`, the CNCF distribution
//! registry) that tagstream is the token server and notification endpoint for.

use serde::Deserialize;

/// The `[registry]` section. Without it the token server and the notification endpoint answer
/// 404 and `tagstream registry-config` refuses to run.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntegratedRegistryConfig {
    /// Where tagstream reaches the registry's API (`http://127.0.0.1:5000`): pushed images'
    /// manifests and configs are read there, and `registry-config` makes the registry listen
    /// on its host and port.
    pub url: String,
    /// The `host[:port]` clients push to and pull from (`registry.example.com`); pull specs of
    /// pushed tags and of `referencePolicy: Local` tags name it. Default: `url`'s host and port.
    #[serde(default)]
    pub public_host: Option<String>,
    /// How the registry and clients reach tagstream (`https://tagstream.example.com`): the
    /// token realm and the notification URL are under it. `registry-config --tagstream-url`
    /// overrides it.
    #[serde(default)]
    pub tagstream_url: Option<String>,
    /// The registry's `auth.token.service`: tokens name it as their audience.
    #[serde(default = "IntegratedRegistryConfig::default_service")]
    pub service: String,
    /// The registry's `auth.token.issuer`.
    #[serde(default = "IntegratedRegistryConfig::default_issuer")]
    pub issuer: String,
    /// How long a token is valid, in seconds (clients ask again when it runs out).
    #[serde(default = "IntegratedRegistryConfig::default_token_seconds")]
    pub token_seconds: u64,
}

impl IntegratedRegistryConfig {
    fn default_service() -> String {
        "tagstream-registry".into()
    }
    fn default_issuer() -> String {
        "tagstream".into()
    }
    fn default_token_seconds() -> u64 {
        300
    }

    /// The registry's API base URL, parsed (`http` or `https`, a host, no path).
    pub fn api_url(&self) -> Result<url::Url, String> {
        let url = url::Url::parse(&self.url)
            .map_err(|e| format!("[registry] url {:?} is not a URL: {e}", self.url))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(format!(
                "[registry] url {:?} must be http:// or https:// with a host",
                self.url
            ));
        }
        if url.path() != "/" || url.query().is_some() {
            return Err(format!(
                "[registry] url {:?} must name the registry's root, without a path",
                self.url
            ));
        }
        Ok(url)
    }

    /// `host[:port]` of `url`, as references name a registry.
    pub fn internal_host(&self) -> Result<String, String> {
        let url = self.api_url()?;
        let host = url.host_str().unwrap_or_default();
        Ok(match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_owned(),
        })
    }

    /// What clients pull from: `public_host`, or the registry's own host and port.
    pub fn public_host(&self) -> String {
        self.public_host
            .clone()
            .or_else(|| self.internal_host().ok())
            .unwrap_or_default()
    }

    /// Checked when the config file is loaded.
    pub fn check(&self) -> Result<(), String> {
        self.api_url()?;
        if let Some(host) = &self.public_host
            && (host.is_empty() || host.contains(['/', ' ', '@']) || host.len() > 253)
        {
            return Err(format!(
                "[registry] public_host {host:?} must be host[:port], without a scheme or path"
            ));
        }
        if let Some(t) = &self.tagstream_url {
            let u = url::Url::parse(t)
                .map_err(|e| format!("[registry] tagstream_url {t:?} is not a URL: {e}"))?;
            if !matches!(u.scheme(), "http" | "https") {
                return Err(format!("[registry] tagstream_url {t:?} must be http(s)"));
            }
        }
        if self.service.is_empty() || self.issuer.is_empty() {
            return Err("[registry] service and issuer must not be empty".into());
        }
        if !(10..=86_400).contains(&self.token_seconds) {
            return Err("[registry] token_seconds must be between 10 and 86400".into());
        }
        Ok(())
    }
}
