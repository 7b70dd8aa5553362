//! Teams: `/apis/user.openshift.io/v1/groups[/{name}]` (OpenShift's Group, `users: [...]`).
//! Every signed-in user may read them (to pick a team on the access page); cluster admins
//! change them.

use crate::api::field_validation::Checked;
use crate::audit;
use crate::store::Objects as _;
use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use tagstream_shared::access::Verb as V;
use tagstream_shared::paths::GROUPS as GROUPS_PATH;
use tagstream_shared::user::{Group, USER_API_VERSION};
use tagstream_shared::{FieldError, ObjectMeta};

use super::users::{check_user_name, expected_version};
use crate::access::Need;
use crate::api::routes::Routes;
use crate::app::AppState;
use crate::error::{ApiError, ApiResult};

pub fn routes() -> Routes {
    const ONE: &str = "/apis/user.openshift.io/v1/groups/{name}";
    // Everyone signed in reads them, generically (a cluster-wide kind: no `{ns}`).
    super::objects::routes_needing::<Group>(&[V::List, V::Get], |_| Need::SignedIn)
        .post(GROUPS_PATH, Need::ClusterAdmin, create_group)
        .put(ONE, Need::ClusterAdmin, replace_group)
        .delete(ONE, Need::ClusterAdmin, delete_group)
}

fn validate(group: &Group) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let name = group.metadata.name();
    if let Err(e) = name.parse::<tagstream_shared::GroupName>() {
        errors.push(FieldError::invalid("metadata.name", name, e));
    }
    for (i, u) in group.users.iter().enumerate() {
        if let Some(msg) = check_user_name(u) {
            errors.push(FieldError::invalid(format!("users[{i}]"), u, msg));
        }
    }
    errors
}

fn normalized(mut group: Group) -> Group {
    group.kind = Group::KIND.into();
    group.api_version = USER_API_VERSION.into();
    group.users.sort();
    group.users.dedup();
    group
}

async fn create_group(
    State(state): State<AppState>,
    Extension(actor): Extension<audit::Actor>,
    Checked(group): Checked<Group>,
) -> ApiResult<(StatusCode, Json<Group>)> {
    ApiError::refuse_invalid(Group::KIND, group.metadata.name(), validate(&group))?;
    let mut group = normalized(group);
    let name = group.metadata.name().to_owned();
    group.metadata = ObjectMeta {
        name: Some(name.clone()),
        uid: Some(uuid::Uuid::new_v4().to_string()),
        creation_timestamp: Some(state.clock.now()),
        labels: group.metadata.labels,
        annotations: group.metadata.annotations,
        ..ObjectMeta::default()
    };
    let created = state.store.create::<Group>(&actor, None, group).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn replace_group(
    State(state): State<AppState>,
    Extension(actor): Extension<audit::Actor>,
    Path(name): Path<String>,
    Checked(group): Checked<Group>,
) -> ApiResult<Json<Group>> {
    ApiError::unless_url_name_or_unnamed(group.metadata.name(), &name)?;
    let current = state.store.get::<Group>(None, name.as_ref()).await?;
    let mut group = normalized(group);
    group.metadata.name = Some(name.clone());
    ApiError::refuse_invalid(Group::KIND, group.metadata.name(), validate(&group))?;
    let expected = expected_version(
        group.metadata.resource_version.as_deref(),
        &current.metadata,
    )?;
    group.metadata.uid = current.metadata.uid;
    group.metadata.creation_timestamp = current.metadata.creation_timestamp;
    let updated = state
        .store
        .replace::<Group>(&actor, None, name.as_ref(), expected, group)
        .await?;
    Ok(Json(updated))
}

async fn delete_group(
    State(state): State<AppState>,
    Extension(actor): Extension<audit::Actor>,
    Path(name): Path<String>,
) -> ApiResult<Json<Group>> {
    let group = state
        .store
        .delete::<Group>(&actor, None, name.as_ref())
        .await?;
    Ok(Json(group))
}
