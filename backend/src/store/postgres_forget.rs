//! (PostgreSQL) What a deleted user leaves behind in other objects, removed inside the transaction that
//! deletes them: their team memberships and their RoleBinding subjects, so that a new user of
//! the same name starts with no access at all.

use tagstream_shared::resources::{GROUPS, ROLEBINDINGS};
use tagstream_shared::user::{Group, RoleBinding, Subject, SubjectKind};

use super::StoreResult;
use super::postgres::PgStore;

impl PgStore {
    /// Takes user `name` out of every team, inside the deleting transaction.
    pub(super) async fn forget_member(
        tx: &mut super::postgres::PgTx,
        revision: i64,
        name: &str,
    ) -> StoreResult<()> {
        for (_, body) in Self::bodies_in(tx, &GROUPS, None).await? {
            let mut group: Group = serde_json::from_str(&body)?;
            if !group.users.iter().any(|u| u == name) {
                continue;
            }
            group.users.retain(|u| u != name);
            let group_name = group.metadata.name().to_owned();
            Self::update_in(tx, revision, &GROUPS, "", &group_name, None, &mut group).await?;
        }
        Ok(())
    }

    /// Takes user `name` out of every RoleBinding, inside the deleting transaction; a binding
    /// left with no subject goes.
    pub(super) async fn forget_subject(
        tx: &mut super::postgres::PgTx,
        revision: i64,
        name: &str,
    ) -> StoreResult<()> {
        for (ns, body) in Self::bodies_in(tx, &ROLEBINDINGS, None).await? {
            let mut binding: RoleBinding = serde_json::from_str(&body)?;
            let is_them = |s: &Subject| s.kind == SubjectKind::User && s.name == name;
            if !binding.subjects.iter().any(is_them) {
                continue;
            }
            let binding_name = binding.metadata.name().to_owned();
            binding.subjects.retain(|s| !is_them(s));
            if binding.subjects.is_empty() {
                Self::remove_in(tx, &ROLEBINDINGS, &ns, &binding_name).await?;
                continue;
            }
            Self::update_in(
                tx,
                revision,
                &ROLEBINDINGS,
                &ns,
                &binding_name,
                None,
                &mut binding,
            )
            .await?;
        }
        Ok(())
    }
}
