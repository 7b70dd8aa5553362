//! Key material shared by every replica on one database (`server_keys`): the receivers' key,
//! the registry token signing key with its certificate, the notification secret. Each is
//! written once, by whichever process needs it first; two processes making one at once keep
//! one (the first insert wins and both read back the winner). What each holds and where it came
//! from is `integrated::keys`'s business; the store only keeps text by name.

use async_trait::async_trait;

use super::StoreResult;

#[async_trait]
pub trait KeyStore: Send + Sync {
    /// The stored value of key `name`, if it has been made.
    async fn server_key(&self, name: &str) -> StoreResult<Option<String>>;

    /// Stores `value` as key `name` unless the key exists; answers the value stored now (the
    /// one given, or the one another process stored first).
    async fn keep_server_key(&self, name: &str, value: &str) -> StoreResult<String>;
}
