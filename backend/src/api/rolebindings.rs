//! Access rules of a project: `/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings`.
//! A binding names one of the built-in roles and the users and teams it applies to. As in
//! Kubernetes, nobody may grant a role with permissions they do not hold themselves, nor
//! replace or delete a binding granting such a role.

use tagstream_shared::access::Verb as V;
use tagstream_shared::user::RoleBinding;
use tagstream_shared::{FieldError, ProjectName};

use super::checked_writes::{self, WriteAt, WriteHooks};
use crate::access::{may_grant, project_access};
use crate::api::routes::Routes;
use crate::error::{ApiError, ApiResult};

pub fn routes() -> Routes {
    // Reading is plain (names typed as `RoleBindingName`, `:` allowed); writes check escalation.
    let writes =
        checked_writes::routes::<RoleBinding>(&[V::Create, V::Update, V::Patch, V::Delete]);
    super::objects::routes_for::<RoleBinding>(&[V::List, V::Get]).merge(writes)
}

fn validate(binding: &RoleBinding) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let name = binding.metadata.name();
    if let Err(e) = name.parse::<tagstream_shared::RoleBindingName>() {
        errors.push(FieldError::invalid("metadata.name", name, e));
    }
    if let Err(msg) = binding
        .role_ref
        .name
        .parse::<tagstream_shared::access::Role>()
    {
        errors.push(FieldError::invalid(
            "roleRef.name",
            &binding.role_ref.name,
            msg,
        ));
    }
    if !matches!(binding.role_ref.kind.as_str(), "ClusterRole" | "Role") {
        errors.push(FieldError::invalid(
            "roleRef.kind",
            &binding.role_ref.kind,
            "must be ClusterRole (the built-in roles)",
        ));
    }
    if binding.subjects.is_empty() {
        errors.push(FieldError::required(
            "subjects",
            "at least one user or group",
        ));
    }
    for (i, s) in binding.subjects.iter().enumerate() {
        if s.name.trim().is_empty() {
            errors.push(FieldError::required(
                format!("subjects[{i}].name"),
                "the user or group",
            ));
        }
    }
    errors
}

/// Refuses an invalid binding, or one granting more than the caller holds.
async fn admit(at: &WriteAt<'_>, ns: &ProjectName, binding: &RoleBinding) -> ApiResult<()> {
    ApiError::refuse_invalid(
        RoleBinding::KIND,
        binding.metadata.name(),
        validate(binding),
    )?;
    let (Some(p), Some(role)) = (at.caller.principal(), binding.role()) else {
        return Err(ApiError::Unauthorized("sign in first".into()));
    };
    let access = project_access(at.state, p, ns).await?;
    if !may_grant(&access, role) {
        return Err(ApiError::Forbidden(format!(
            "User {:?} cannot grant role {role:?} in the namespace {:?}: it allows things the \
             user may not do there",
            p.name,
            ns.as_str()
        )));
    }
    Ok(())
}

/// Refuses changing or deleting `current` unless the caller could grant its role: a
/// registry-admin may manage bindings, but not take away (or rewrite) the one granting admin.
async fn may_change(at: &WriteAt<'_>, ns: &ProjectName, current: &RoleBinding) -> ApiResult<()> {
    let Some(p) = at.caller.principal() else {
        return Err(ApiError::Unauthorized("sign in first".into()));
    };
    let Some(role) = current.role() else {
        return Ok(());
    };
    if may_grant(&project_access(at.state, p, ns).await?, role) {
        return Ok(());
    }
    Err(ApiError::Forbidden(format!(
        "User {:?} cannot change the binding {:?} in the namespace {:?}: it grants role \
         {role:?}, which allows things the user may not do there",
        p.name,
        current.metadata.name(),
        ns.as_str()
    )))
}

/// The project of a binding's path: every binding route has one.
fn project<'a>(at: &WriteAt<'a>) -> ApiResult<&'a ProjectName> {
    at.ns
        .ok_or_else(|| ApiError::BadRequest("missing path parameter ns".into()))
}

/// A binding is checked (and refused when it grants more than the caller holds) before
/// anything is loaded; a stored one is changed or deleted only by who could grant its role.
impl WriteHooks for RoleBinding {
    async fn admit(at: &WriteAt<'_>, binding: &Self) -> ApiResult<()> {
        admit(at, project(at)?, binding).await
    }

    async fn may_change(at: &WriteAt<'_>, current: &Self) -> ApiResult<()> {
        may_change(at, project(at)?, current).await
    }
}
