//! Removing a team: the team and the RoleBinding subjects that name it, in one unit of work, so
//! that a new team of the same name starts with no access at all (review 18 N7), as a new user
//! of a deleted user's name does.

use tagstream_shared::resources::GROUPS;
use tagstream_shared::user::{Group, SubjectKind};

use crate::audit::Actor;
use crate::store::{Store, StoreResult};

/// Removes team `name` and every binding's subject naming it; answers the team as it was.
pub async fn delete(store: &dyn Store, actor: &Actor, name: &str) -> StoreResult<Group> {
    let mut tx = store.begin(actor).await?;
    let group = serde_json::from_str(&tx.remove(&GROUPS, "", name).await?)?;
    super::users::forget_subject(&mut *tx, SubjectKind::Group, name).await?;
    tx.commit().await?;
    Ok(group)
}
