//! Push events already applied (the integrated registry's notifications and receivers'
//! deliveries), so that a delivery sent again changes nothing.

use async_trait::async_trait;

use super::StoreResult;

/// How long an applied event is remembered, in seconds: registries give up retrying long before.
pub const REMEMBER_SECONDS: i64 = 7 * 24 * 3600;

#[async_trait]
pub trait RegistryEventStore {
    /// Records event `id` from `source` as being applied; `false` if it was recorded before
    /// (it must then not be applied again). Forgets events older than [`REMEMBER_SECONDS`].
    async fn claim_event(&self, source: &str, id: &str, now: i64) -> StoreResult<bool>;
    /// Forgets a claim whose event could not be applied, so that a retry applies it.
    async fn release_event(&self, source: &str, id: &str) -> StoreResult<()>;
}
