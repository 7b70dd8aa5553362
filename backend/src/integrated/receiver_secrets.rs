//! Rotating a project's receiver secret. The secret is derived from the shared (stored)
//! receiver key, the project's name and uid, and a salt (`receivers::ReceiverKey::secret`); a
//! rotation stores a new random salt for the project, so the old URL answers 404 from then on,
//! on every replica at once (the salt is in the store, beside the project, and goes with it).
//! A project never rotated has no salt: its secret is the one it always had. The salt alone
//! reveals nothing: without the key (in the store, never served) no secret can be derived from it.

use serde::{Deserialize, Serialize};
use tagstream_shared::object::ApiResource;
use tagstream_shared::{ObjectMeta, ProjectName};

use super::receivers::ReceiverKey;
use crate::app::AppState;
use crate::error::ApiError;
use crate::store::{Objects as _, StoreError};

/// Where salts are kept in the generic object store; never served (no route lists them).
pub const RECEIVER_SALTS: ApiResource = tagstream_shared::api_resource!(namespaced "tagstream.io" / "v1",
    "ReceiverSalt", "receiversalts", "receiversalt", [], &[], None);

/// The name of a project's one salt object.
const NAME: &str = "push";

/// A project's current receiver salt.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiverSalt {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub api_version: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
    pub salt: String,
}

tagstream_shared::object_impl!(kind ReceiverSalt, RECEIVER_SALTS);

/// The stored salt of `ns` and its resourceVersion; none before the first rotation.
async fn stored(state: &AppState, ns: &ProjectName) -> Result<Option<(String, u64)>, ApiError> {
    match state.store.get::<ReceiverSalt>(Some(ns), NAME).await {
        Ok(s) => {
            let rv = s.metadata.revision();
            Ok(Some((s.salt, rv)))
        }
        Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The receiver secret `ns` (with uid `uid`) has now.
pub async fn current(
    state: &AppState,
    key: &ReceiverKey,
    ns: &ProjectName,
    uid: &str,
) -> Result<String, ApiError> {
    let salt = stored(state, ns).await?.map(|(s, _)| s).unwrap_or_default();
    Ok(key.secret(ns.as_str(), uid, &salt))
}

/// Replaces the receiver secret of `ns` by a new one; answers it. Two rotations at once: one
/// wins, the other answers 409 naming `resource` (its caller reads the receiver again).
pub async fn rotate(
    state: &AppState,
    actor: &crate::audit::Actor,
    key: &ReceiverKey,
    ns: &ProjectName,
    uid: &str,
    resource: &'static ApiResource,
) -> Result<String, ApiError> {
    let salt = crate::auth::secret::random_hex(16).map_err(|e| ApiError::Internal(Box::new(e)))?;
    let mut object = ReceiverSalt {
        metadata: ObjectMeta::named(NAME),
        salt: salt.clone(),
        ..ReceiverSalt::default()
    };
    tagstream_shared::object::Kind::prepare_create(
        &mut object,
        Some(ns.as_str()),
        crate::service::new_uid(),
        state.clock.now(),
    );
    let written = match stored(state, ns).await? {
        None => state.store.create(actor, Some(ns), object).await.map(drop),
        Some((_, rv)) => state
            .store
            .replace(actor, Some(ns), NAME, rv, object)
            .await
            .map(drop),
    };
    match written {
        Ok(()) => Ok(key.secret(ns.as_str(), uid, &salt)),
        Err(StoreError::AlreadyExists { .. } | StoreError::Conflict { .. }) => {
            Err(ApiError::Conflict {
                resource,
                name: NAME.into(),
            })
        }
        Err(e) => Err(e.into()),
    }
}
