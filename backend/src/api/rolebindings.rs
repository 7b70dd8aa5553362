//! Access rules of a project: `/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings`.
//! A binding names one of the built-in roles and the users and teams it applies to. As in
//! Kubernetes, nobody may grant a role with permissions they do not hold themselves, nor
//! replace or delete a binding granting such a role.

use crate::api::field_validation::Checked;
use crate::audit;
use crate::store::Objects as _;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use tagstream_shared::access::{Resource as R, Verb as V};
use tagstream_shared::user::{RBAC_API_VERSION, RoleBinding};
use tagstream_shared::{FieldError, ObjectMeta, ProjectName};

use super::users::expected_version;
use crate::access::{Need, may_grant, project_access};
use crate::api::routes::Routes;
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};

pub fn routes() -> Routes {
    const IN: &str = "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings";
    const ONE: &str = "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings/{name}";
    let need = |verb| Need::in_project(verb, R::RoleBindings);
    // Reading is plain (names typed as `RoleBindingName`, `:` allowed); writes check escalation.
    super::objects::routes_for::<RoleBinding>(&[V::List, V::Get])
        .post(IN, need(V::Create), create_binding)
        .put(ONE, need(V::Update), replace_binding)
        .delete(ONE, need(V::Delete), delete_binding)
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
async fn admit(
    state: &AppState,
    caller: &Caller,
    ns: &ProjectName,
    binding: &RoleBinding,
) -> ApiResult<()> {
    ApiError::refuse_invalid(
        RoleBinding::KIND,
        binding.metadata.name(),
        validate(binding),
    )?;
    let (Some(p), Some(role)) = (caller.principal(), binding.role()) else {
        return Err(ApiError::Unauthorized("sign in first".into()));
    };
    let access = project_access(state, p, ns).await?;
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
async fn may_change(
    state: &AppState,
    caller: &Caller,
    ns: &ProjectName,
    current: &RoleBinding,
) -> ApiResult<()> {
    let Some(p) = caller.principal() else {
        return Err(ApiError::Unauthorized("sign in first".into()));
    };
    let Some(role) = current.role() else {
        return Ok(());
    };
    if may_grant(&project_access(state, p, ns).await?, role) {
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

fn ns_of(raw: &str) -> ApiResult<ProjectName> {
    raw.parse()
        .map_err(|e| ApiError::BadRequest(format!("invalid project name {raw:?}: {e}")))
}

async fn create_binding(
    State(state): State<AppState>,
    Extension(actor): Extension<audit::Actor>,
    Extension(caller): Extension<Caller>,
    Path(ns): Path<String>,
    Checked(mut binding): Checked<RoleBinding>,
) -> ApiResult<(StatusCode, Json<RoleBinding>)> {
    let ns = ns_of(&ns)?;
    admit(&state, &caller, &ns, &binding).await?;
    let name = binding.metadata.name().to_owned();
    binding.kind = RoleBinding::KIND.into();
    binding.api_version = RBAC_API_VERSION.into();
    binding.metadata = ObjectMeta {
        name: Some(name.clone()),
        namespace: Some(ns.to_string()),
        uid: Some(uuid::Uuid::new_v4().to_string()),
        creation_timestamp: Some(state.clock.now()),
        labels: binding.metadata.labels,
        annotations: binding.metadata.annotations,
        ..ObjectMeta::default()
    };
    let created = state
        .store
        .create::<RoleBinding>(&actor, Some(&ns), binding)
        .await?;
    tracing::info!(project = %ns, binding = %name, "role binding created");
    Ok((StatusCode::CREATED, Json(created)))
}

async fn replace_binding(
    State(state): State<AppState>,
    Extension(actor): Extension<audit::Actor>,
    Extension(caller): Extension<Caller>,
    Path((ns, name)): Path<(String, String)>,
    Checked(mut binding): Checked<RoleBinding>,
) -> ApiResult<Json<RoleBinding>> {
    let ns = ns_of(&ns)?;
    ApiError::unless_url_name_or_unnamed(binding.metadata.name(), &name)?;
    binding.metadata.name = Some(name.clone());
    admit(&state, &caller, &ns, &binding).await?;
    let current = state
        .store
        .get::<RoleBinding>(Some(&ns), name.as_ref())
        .await?;
    may_change(&state, &caller, &ns, &current).await?;
    let expected = expected_version(
        binding.metadata.resource_version.as_deref(),
        &current.metadata,
    )?;
    binding.kind = RoleBinding::KIND.into();
    binding.api_version = RBAC_API_VERSION.into();
    binding.metadata.namespace = Some(ns.to_string());
    binding.metadata.uid = current.metadata.uid;
    binding.metadata.creation_timestamp = current.metadata.creation_timestamp;
    let updated = state
        .store
        .replace::<RoleBinding>(&actor, Some(&ns), name.as_ref(), expected, binding)
        .await?;
    Ok(Json(updated))
}

async fn delete_binding(
    State(state): State<AppState>,
    Extension(actor): Extension<audit::Actor>,
    Extension(caller): Extension<Caller>,
    Path((ns, name)): Path<(String, String)>,
) -> ApiResult<Json<RoleBinding>> {
    let ns = ns_of(&ns)?;
    let current = state
        .store
        .get::<RoleBinding>(Some(&ns), name.as_ref())
        .await?;
    may_change(&state, &caller, &ns, &current).await?;
    let deleted = state
        .store
        .delete::<RoleBinding>(&actor, Some(&ns), name.as_ref())
        .await?;
    Ok(Json(deleted))
}
