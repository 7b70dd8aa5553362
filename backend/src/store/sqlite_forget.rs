//! What a deleted user leaves behind in other objects, removed inside the transaction that
//! deletes them: their team memberships and their RoleBinding subjects, so that a new user of
//! the same name starts with no access at all.

use tagstream_shared::user::{Group, RoleBinding, Subject, SubjectKind};

use super::StoreResult;
use super::sqlite::{Change, SqliteStore, encode};

impl SqliteStore {
    /// Takes user `name` out of every team, inside the deleting transaction.
    pub(super) async fn forget_member(
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        revision: i64,
        name: &str,
    ) -> StoreResult<()> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT name, body, resource_version FROM cluster_objects WHERE kind = ?",
        )
        .bind(Group::KIND)
        .fetch_all(&mut **tx)
        .await?;
        for (group_name, body, before) in rows {
            let mut group: Group = serde_json::from_str(&body)?;
            if !group.users.iter().any(|u| u == name) {
                continue;
            }
            group.users.retain(|u| u != name);
            let body = encode(&mut group, revision)?;
            sqlx::query(
                "UPDATE cluster_objects SET resource_version = ?, body = ? \
                 WHERE kind = ? AND name = ?",
            )
            .bind(revision)
            .bind(body)
            .bind(Group::KIND)
            .bind(&group_name)
            .execute(&mut **tx)
            .await?;
            Self::record(
                tx,
                Change::update(
                    "groups.user.openshift.io",
                    None,
                    &group_name,
                    before,
                    revision,
                ),
            )
            .await?;
        }
        Ok(())
    }

    /// Takes user `name` out of every RoleBinding, inside the deleting transaction; a binding
    /// left with no subject goes.
    pub(super) async fn forget_subject(
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        revision: i64,
        name: &str,
    ) -> StoreResult<()> {
        const RESOURCE: &str = "rolebindings.rbac.authorization.k8s.io";
        let rows: Vec<(String, String, String, i64)> =
            sqlx::query_as("SELECT namespace, name, body, resource_version FROM role_bindings")
                .fetch_all(&mut **tx)
                .await?;
        for (ns, binding_name, body, before) in rows {
            let mut binding: RoleBinding = serde_json::from_str(&body)?;
            let is_them = |s: &Subject| s.kind == SubjectKind::User && s.name == name;
            if !binding.subjects.iter().any(is_them) {
                continue;
            }
            binding.subjects.retain(|s| !is_them(s));
            if binding.subjects.is_empty() {
                sqlx::query("DELETE FROM role_bindings WHERE namespace = ? AND name = ?")
                    .bind(&ns)
                    .bind(&binding_name)
                    .execute(&mut **tx)
                    .await?;
                Self::record(
                    tx,
                    Change::delete(RESOURCE, Some(&ns), &binding_name, Some(before)),
                )
                .await?;
                continue;
            }
            let body = encode(&mut binding, revision)?;
            sqlx::query(
                "UPDATE role_bindings SET resource_version = ?, body = ? \
                 WHERE namespace = ? AND name = ?",
            )
            .bind(revision)
            .bind(body)
            .bind(&ns)
            .bind(&binding_name)
            .execute(&mut **tx)
            .await?;
            Self::record(
                tx,
                Change::update(RESOURCE, Some(&ns), &binding_name, before, revision),
            )
            .await?;
        }
        Ok(())
    }
}
