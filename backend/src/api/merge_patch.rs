//! What every PATCH of a stored object shares once server-side apply is set aside: only merge
//! and JSON patches are taken, and a patch that does not pin a resourceVersion is merged over
//! again when a write in between moved the object, rather than refused.

use tagstream_shared::ProjectName;
use tagstream_shared::object::Kind;

use crate::app::AppState;
use crate::body::{BodyFormat, RawBody};
use crate::error::{ApiError, ApiResult};
use crate::store::Objects as _;

use super::Resource;
use super::field_validation::FieldValidation;
use super::object_turns::Object;
use super::retry::{Tries, turn};

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

/// `patch` as the merge patch a strategic merge patch is for a kind none of whose lists has a
/// merge key (kubectl sends one for a RoleBinding, the Kubernetes kind it knows): refused when
/// it carries a directive (`$patch`, `$setElementOrder/...`), which only a strategic merge
/// gives a meaning to. Any other patch is answered as it is.
pub(super) fn strategic_as_merge(patch: RawBody) -> ApiResult<RawBody> {
    fn directive(value: &serde_json::Value) -> bool {
        match value {
            serde_json::Value::Object(map) => map
                .iter()
                .any(|(key, value)| key.starts_with('$') || directive(value)),
            serde_json::Value::Array(items) => items.iter().any(directive),
            _ => false,
        }
    }
    if patch.format != BodyFormat::StrategicMergePatch {
        return Ok(patch);
    }
    if directive(&patch.value) {
        return Err(ApiError::UnsupportedMediaType(
            "a strategic merge patch with directives is not supported: send \
             application/merge-patch+json"
                .into(),
        ));
    }
    Ok(RawBody {
        format: BodyFormat::MergePatch,
        ..patch
    })
}

/// Runs `attempt` (read, patch, write) in the write's turn on the object (`resource` `name` in
/// project `ns`) until it does not lose a race: a conflict is answered at once when the patch
/// pins `metadata.resourceVersion`; otherwise it tries on, and a 429 is answered once
/// [`Tries`] gives up.
pub(super) async fn until_written<T, F, Fut>(
    patch: &RawBody,
    (resource, ns): (&'static Resource, Option<&ProjectName>),
    name: &str,
    mut attempt: F,
) -> ApiResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ApiResult<T>>,
{
    let pinned = patch.value.pointer("/metadata/resourceVersion").is_some();
    let turn = turn(Object::new(resource.kind, ns, &name)).await?;
    let mut tries = Tries::new(&turn);
    while tries.another().await {
        match attempt().await {
            Err(ApiError::Conflict { .. }) if !pinned => continue,
            result => return result,
        }
    }
    Err(tries.gave_up(resource, name))
}

/// A merge or JSON patch of the stored object `name` of kind `K` (in project `ns`), written by
/// the kind's own write: loads it, patches it as a read shows it, and hands `write` the stored
/// object and the patched one, in [`until_written`]'s turn. Each kind's write then does what
/// its create and replace do (checks, secrets, what may change), so a patch can do no more
/// than a replace.
pub(super) async fn patched_by<K, T, W, Fut>(
    (state, fields): (&AppState, &FieldValidation),
    patch: &RawBody,
    ns: Option<&ProjectName>,
    name: &str,
    write: W,
) -> ApiResult<T>
where
    K: Kind,
    W: Fn(K, K) -> Fut,
    Fut: Future<Output = ApiResult<T>>,
{
    merge_or_json(patch)?;
    until_written(patch, (&K::RESOURCE, ns), name, async || {
        let current: K = state.store.get::<K>(ns, name).await?;
        let shown = super::objects::shown(current.clone());
        let patched: K = fields.patched(K::RESOURCE.kind, shown, patch).await?;
        write(current, patched).await
    })
    .await
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::IMAGESTREAMS;

    fn patch(value: serde_json::Value) -> RawBody {
        RawBody {
            format: BodyFormat::MergePatch,
            bytes: value.to_string().into(),
            value,
        }
    }

    /// An attempt that loses `races` races, then writes; answers what `until_written` did and
    /// the tries it made.
    async fn after(races: usize, body: &RawBody) -> (ApiResult<&'static str>, usize) {
        let made = std::cell::Cell::new(0);
        let ns: ProjectName = "merge".parse().expect("a project name");
        let result = until_written(body, (&IMAGESTREAMS, Some(&ns)), "app", || {
            made.set(made.get() + 1);
            let lost = made.get() <= races;
            async move {
                if lost {
                    return Err(ApiError::Conflict {
                        resource: &IMAGESTREAMS,
                        name: "app".into(),
                    });
                }
                Ok("written")
            }
        })
        .await;
        (result, made.get())
    }

    #[tokio::test]
    async fn an_unpinned_patch_is_merged_again_while_other_writes_win_the_races() {
        // Twelve parallel writers: this one lost eleven races (five tries used to give up).
        let (result, made) = after(11, &patch(json!({"metadata": {"labels": {"a": "b"}}}))).await;
        assert_eq!((result.ok(), made), (Some("written"), 12));
        // A pinned resourceVersion is a precondition: its conflict is answered at once.
        let pinned = patch(json!({"metadata": {"resourceVersion": "7"}}));
        let (result, made) = after(11, &pinned).await;
        assert!(matches!(result, Err(ApiError::Conflict { .. })));
        assert_eq!(made, 1);
    }
}
