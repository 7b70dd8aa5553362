//! The integrated registry: Debian's `docker-registry` (the CNCF distribution registry) stores
//! the images, and tagstream decides who may push and pull (it is the registry's token server)
//! and hears of every push (the registry's notifications), moving the pushed tag at once.
//!
//! - `input`, `oauth_form`: every outside input of the token server, bounded and checked there;
//! - `token`: what a caller may do to each repository, and the signed JWT saying so;
//! - `keys`: the signing key, its certificate, the notification secret and the receivers' key,
//!   in the store, shared by every replica;
//! - `events`: distribution's notification envelopes, bounded and checked;
//! - `push`: a pushed tag becomes a stream's new history item;
//! - `reader`: the pushed image's metadata, read from the registry;
//! - `present`: streams read with the pull specs clients use (`public_host`);
//! - `purge`, `purge_api`: a deleted stream's or project's repositories purged from the
//!   registry, every recorded push included;
//! - `registry_config`: the registry's config file that wires all this up;
//! - `receivers`, `receiver_formats`, `receiver_secrets`: per-project receiver URLs for push
//!   events from registries tagstream does not run, and rotating their secrets.

pub mod config;
pub mod events;
mod held;
mod in_use;
pub mod input;
pub mod keys;
pub mod oauth_form;
pub mod present;
pub mod purge;
mod purge_api;
pub mod push;
mod put_back;
pub mod reader;
pub mod receiver_formats;
pub mod receiver_secrets;
pub mod receivers;
mod refused;
pub mod registry_config;
pub mod token;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::store::Store;
use config::IntegratedRegistryConfig;

/// The path of the token endpoint (the registry's `auth.token.realm`).
pub const TOKEN_PATH: &str = "/apis/tagstream.io/v1/registry/token";
/// The path the registry sends its notifications to.
pub const NOTIFICATIONS_PATH: &str = "/apis/tagstream.io/v1/registry/notifications";
/// The header that carries the notification secret.
pub const SECRET_HEADER: &str = "x-registry-secret";

/// Whether requests to `path` bring credentials of their own kind (Basic to the token server,
/// a secret header or signature to the notification endpoints) that the handler checks, rather
/// than an API token or session for the authentication middleware.
pub fn reads_own_credentials(path: &str) -> bool {
    path == TOKEN_PATH || path == NOTIFICATIONS_PATH || receivers::is_receiver_path(path)
}

/// What the token server and the notification endpoint share.
#[derive(Debug)]
pub struct Integrated {
    pub config: IntegratedRegistryConfig,
    /// `url` parsed, ending in `/`.
    api_url: url::Url,
    keys: keys::TokenKeys,
    notification_secret: String,
    http: reqwest::Client,
    store: Arc<dyn Store>,
    purges: purge::PurgeControl,
    /// Rightful pushes heard, per repository (for the take-outs' reads of tags).
    moves: in_use::Moves,
}

/// Why the integrated registry's side of tagstream cannot start.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Keys(#[from] keys::KeyError),
    #[error("{0}")]
    Config(String),
    #[error("cannot build the registry client: {0}")]
    Client(#[from] reqwest::Error),
}

impl Integrated {
    /// Reads the key material from the store (making it, or importing it from the files of
    /// an earlier version in `data_dir`, on first start).
    pub async fn open(
        config: IntegratedRegistryConfig,
        data_dir: &Path,
        store: Arc<dyn Store>,
        timeout: Duration,
    ) -> Result<Self, OpenError> {
        let api_url = config.api_url().map_err(OpenError::Config)?;
        Ok(Self {
            api_url,
            keys: keys::token_keys(store.as_ref(), data_dir).await?,
            notification_secret: keys::notification_secret(store.as_ref(), data_dir).await?,
            http: reader::http_client(timeout)?,
            store,
            config,
            purges: purge::PurgeControl::default(),
            moves: in_use::Moves::default(),
        })
    }

    /// Whether `sent` is the notification secret (compared in constant time).
    pub fn is_notification_secret(&self, sent: &str) -> bool {
        crate::auth::secret::same(sent, &self.notification_secret)
    }

    /// `public_host/project/stream@digest`: what clients pull.
    pub fn pull_spec(&self, repo: &str, digest: &str) -> String {
        present::pull_spec(&self.config, repo, digest)
    }

    /// How long a token issued at `now` may live: `token_seconds`, but never past
    /// `credential_expires`, the expiry of the API token it is issued for.
    pub fn token_lifetime(&self, now: i64, credential_expires: Option<i64>) -> u64 {
        let configured = self.config.token_seconds;
        match credential_expires {
            Some(e) => u64::try_from(e.saturating_sub(now))
                .unwrap_or(0)
                .min(configured),
            None => configured,
        }
    }

    /// Signs a token for `subject` with `access`, valid for `seconds` from `now`.
    pub fn sign(
        &self,
        subject: &str,
        access: &[token::Access],
        now: i64,
        seconds: u64,
    ) -> crate::error::ApiResult<String> {
        token::sign(
            &self.keys,
            &self.config.issuer,
            &self.config.service,
            subject,
            access,
            now,
            seconds,
        )
    }
}
