//! Teams: `/apis/user.openshift.io/v1/groups[/{name}]` (OpenShift's Group, `users: [...]`).
//! Every signed-in user may read them (to pick a team on the access page); cluster admins
//! change them.

use tagstream_shared::access::Verb as V;
use tagstream_shared::object::Kind as _;
use tagstream_shared::user::{Group, USER_API_VERSION};
use tagstream_shared::{FieldError, ObjectMeta};

use super::checked_writes::{self, WriteHooks};
use super::users::check_user_name;
use crate::access::Need;
use crate::api::routes::Routes;
use crate::error::{ApiError, ApiResult};

pub fn routes() -> Routes {
    // Everyone signed in reads them, generically (a cluster-wide kind: no `{ns}`); cluster
    // admins write them (a kind without an access rule).
    let writes = checked_writes::routes::<Group>(&[V::Create, V::Update, V::Patch, V::Delete]);
    super::objects::routes_needing::<Group>(&[V::List, V::Get], |_| Need::SignedIn).merge(writes)
}

fn validate(group: &Group) -> ApiResult<()> {
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
    ApiError::refuse_invalid(Group::KIND, name, errors)
}

fn normalized(mut group: Group) -> Group {
    group.kind = Group::KIND.into();
    group.api_version = USER_API_VERSION.into();
    group.users.sort();
    group.users.dedup();
    group
}

/// A team's members are kept sorted and once each; its name and members are checked as sent
/// on a create, as they will be stored on a replace.
impl WriteHooks for Group {
    fn created(group: Self, metadata: ObjectMeta) -> ApiResult<Self> {
        validate(&group)?;
        let mut group = normalized(group);
        group.metadata = metadata;
        Ok(group)
    }

    async fn remove(
        state: &crate::app::AppState,
        actor: &crate::audit::Actor,
        _ns: Option<&tagstream_shared::ProjectName>,
        name: &str,
    ) -> ApiResult<Self> {
        Ok(crate::services::groups::delete(&*state.store, actor, name).await?)
    }

    fn replacement(group: Self, current: Self) -> ApiResult<Self> {
        let mut group = normalized(group);
        validate(&group)?;
        group.prepare_update(&current);
        Ok(group)
    }
}
