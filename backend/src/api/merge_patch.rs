//! What every PATCH of a stored object shares once server-side apply is set aside: only merge
//! and JSON patches are taken, and a patch that does not pin a resourceVersion is merged over
//! again when a write in between moved the object, rather than refused.

use crate::body::{BodyFormat, RawBody};
use crate::error::{ApiError, ApiResult};

use super::Resource;

/// How often a merge patch without a resourceVersion is tried again when a write in between
/// moved the object.
pub(super) const PATCH_ATTEMPTS: usize = 5;

/// Refuses a body that is neither a merge patch nor a JSON patch (an apply patch is served
/// before this is asked).
pub(super) fn merge_or_json(patch: &RawBody) -> ApiResult<()> {
    if matches!(patch.format, BodyFormat::MergePatch | BodyFormat::JsonPatch) {
        return Ok(());
    }
    Err(ApiError::UnsupportedMediaType(
        "PATCH takes application/merge-patch+json, application/json-patch+json or \
         application/apply-patch+yaml"
            .into(),
    ))
}

/// Runs `attempt` (read, patch, write) until it does not lose a race: a conflict is answered
/// at once when the patch pins `metadata.resourceVersion`, and after [`PATCH_ATTEMPTS`] tries
/// otherwise.
pub(super) async fn until_written<T, F, Fut>(
    patch: &RawBody,
    resource: &'static Resource,
    name: &str,
    mut attempt: F,
) -> ApiResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ApiResult<T>>,
{
    let pinned = patch.value.pointer("/metadata/resourceVersion").is_some();
    for _ in 0..PATCH_ATTEMPTS {
        match attempt().await {
            Err(ApiError::Conflict { .. }) if !pinned => continue,
            result => return result,
        }
    }
    Err(ApiError::Conflict {
        resource,
        name: name.to_owned(),
    })
}
