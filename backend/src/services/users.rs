//! Removing a user: the user, their credentials, tokens and sessions, and what they leave in
//! other objects (team memberships, RoleBinding subjects), in one unit of work, so that a new
//! user of the same name starts with no access at all.

use tagstream_shared::resources::{GROUPS, ROLEBINDINGS, USERS};
use tagstream_shared::user::{Group, RoleBinding, Subject, SubjectKind, User};

use crate::audit::Actor;
use crate::store::{Store, StoreResult, UnitOfWork};

/// Removes user `name` with everything that names them; answers the user as it was.
pub async fn delete(store: &dyn Store, actor: &Actor, name: &str) -> StoreResult<User> {
    let mut tx = store.begin(actor).await?;
    let user = serde_json::from_str(&tx.remove(&USERS, "", name).await?)?;
    tx.forget_credentials(name).await?;
    forget_member(&mut *tx, name).await?;
    forget_subject(&mut *tx, SubjectKind::User, name).await?;
    tx.commit().await?;
    Ok(user)
}

/// Takes user `name` out of every team.
async fn forget_member(tx: &mut dyn UnitOfWork, name: &str) -> StoreResult<()> {
    for mut group in tx.all::<Group>(None).await? {
        if !group.users.iter().any(|u| u == name) {
            continue;
        }
        group.users.retain(|u| u != name);
        let group_name = group.metadata.name().to_owned();
        tx.update(&GROUPS, "", &group_name, None, &mut group)
            .await?;
    }
    Ok(())
}

/// Takes the user or team `name` out of every RoleBinding; a binding left with no subject goes.
pub(super) async fn forget_subject(
    tx: &mut dyn UnitOfWork,
    kind: SubjectKind,
    name: &str,
) -> StoreResult<()> {
    let is_them = |s: &Subject| s.kind == kind && s.name == name;
    for (ns, body) in tx.bodies(&ROLEBINDINGS, None).await? {
        let mut binding: RoleBinding = serde_json::from_str(&body)?;
        if !binding.subjects.iter().any(is_them) {
            continue;
        }
        let binding_name = binding.metadata.name().to_owned();
        binding.subjects.retain(|s| !is_them(s));
        if binding.subjects.is_empty() {
            tx.remove(&ROLEBINDINGS, &ns, &binding_name).await?;
        } else {
            tx.update(&ROLEBINDINGS, &ns, &binding_name, None, &mut binding)
                .await?;
        }
    }
    Ok(())
}
