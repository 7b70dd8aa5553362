//! Who may do what, decided in one place before any side effect. Every API route declares a
//! [`Need`] when it is registered (`api::routes`); [`authorize`] checks it against the caller's
//! roles, computed from the project's RoleBindings with the predicates in
//! `tagstream_shared::access` (the same ones the console uses to hide what would be refused).
//!
//! A project the caller cannot see answers 404, exactly as a missing one does; one they see but
//! may not change answers 403 naming the verb and the resource.

use std::collections::BTreeSet;

use axum::extract::{FromRequestParts as _, RawPathParams, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tagstream_shared::ProjectName;
use tagstream_shared::access::{ProjectAccess, Resource, Role, Verb};
use tagstream_shared::user::{RoleBinding, SubjectKind};

use crate::api::PROJECTS;
use crate::app::AppState;
use crate::auth::{Caller, Principal};
use crate::error::ApiError;

/// What a route requires of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Nobody in particular: sign-in, sign-out, accepting an invitation, unknown paths.
    Anyone,
    /// Any signed-in user acting cluster-wide (creating a project, reading teams or the
    /// samples config). A project-scoped token is refused: it acts in its project only.
    SignedIn,
    /// Any signed-in user, project-scoped tokens included: the handler answers only what the
    /// caller's projects allow (lists filtered by [`visible_projects`], which honours the
    /// scope), or only about the caller.
    SignedInScoped,
    /// A member of `system:cluster-admins`.
    ClusterAdmin,
    /// `verb` on `resource` in the project named by path parameter `param`.
    Project {
        verb: Verb,
        resource: Resource,
        param: &'static str,
    },
    /// The user named by path parameter `param` (`~` is the caller), or a cluster admin.
    SelfOrClusterAdmin { param: &'static str },
}

impl Need {
    /// `verb` on `resource` in the project named by the path's `{ns}`: what most routes of a
    /// project's objects need.
    pub const fn in_project(verb: Verb, resource: Resource) -> Self {
        Self::Project {
            verb,
            resource,
            param: "ns",
        }
    }
}

/// The route's middleware: checks `need` for the caller the authentication middleware found.
pub async fn authorize(need: Need, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let params = match RawPathParams::from_request_parts(&mut parts, &()).await {
        Ok(p) => p,
        Err(e) => return ApiError::BadRequest(format!("bad path: {e}")).into_response(),
    };
    // Borrowed, not cloned: this runs on every API request.
    let (Some(caller), Some(state)) = (
        parts.extensions.get::<Caller>(),
        parts.extensions.get::<AppState>(),
    ) else {
        return ApiError::Internal("the route runs without authentication".into()).into_response();
    };
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned())
    };
    if let Err(e) = check(state, caller, need, param).await {
        return e.into_response();
    }
    // A watch on this route checks the same again when access changes (`watch_access`).
    let grant = crate::watch_access::RouteGrant {
        need,
        params: params
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
    };
    parts.extensions.insert(grant);
    next.run(Request::from_parts(parts, body)).await
}

/// Whether `caller` meets `need`, with path parameters from `param`.
pub async fn check(
    state: &AppState,
    caller: &Caller,
    need: Need,
    param: impl Fn(&str) -> Option<String>,
) -> Result<(), ApiError> {
    if need == Need::Anyone {
        return Ok(());
    }
    let Caller::User(p) = caller else {
        return Err(ApiError::Unauthorized(
            "sign in first: this request needs a signed-in user or an API token".into(),
        ));
    };
    match need {
        Need::Anyone | Need::SignedInScoped => Ok(()),
        Need::SignedIn => match p.scope {
            None => Ok(()),
            Some(_) => Err(ApiError::Forbidden(format!(
                "User {:?} cannot do this with this token: it acts across projects{}",
                p.name,
                scope_note(p)
            ))),
        },
        Need::ClusterAdmin => {
            if p.cluster_admin && p.scope.is_none() {
                Ok(())
            } else {
                Err(ApiError::Forbidden(format!(
                    "User {:?} cannot do this: it needs a cluster admin{}",
                    p.name,
                    scope_note(p)
                )))
            }
        }
        Need::SelfOrClusterAdmin { param: key } => {
            let target = param(key).unwrap_or_default();
            let own = target == "~" || target == p.name;
            if p.scope.is_none() && (own || p.cluster_admin) {
                Ok(())
            } else {
                Err(ApiError::Forbidden(format!(
                    "User {:?} cannot act for user {target:?}: only they or a cluster admin \
                     can{}",
                    p.name,
                    scope_note(p)
                )))
            }
        }
        Need::Project {
            verb,
            resource,
            param: key,
        } => {
            let raw = param(key).unwrap_or_default();
            let ns: ProjectName = raw
                .parse()
                .map_err(|e| ApiError::BadRequest(format!("invalid project name {raw:?}: {e}")))?;
            let access = project_access(state, p, &ns).await?;
            if !access.sees_project() {
                return Err(ApiError::NotFound {
                    resource: &PROJECTS,
                    name: ns.to_string(),
                });
            }
            if access.allows(verb, resource) {
                Ok(())
            } else {
                Err(ApiError::Denied {
                    user: p.name.clone(),
                    verb,
                    resource,
                    namespace: Some(ns.to_string()),
                })
            }
        }
    }
}

fn scope_note(p: &Principal) -> String {
    p.scope
        .as_deref()
        .map(|s| format!(" (the token is limited to project {s:?})"))
        .unwrap_or_default()
}

/// The roles a binding list grants `p` (directly or through a team).
pub fn roles_of(p: &Principal, bindings: &[RoleBinding]) -> Vec<Role> {
    let mut roles = BTreeSet::new();
    for b in bindings {
        let Some(role) = b.role() else { continue };
        let applies = b.subjects.iter().any(|s| match s.kind {
            SubjectKind::User => s.name == p.name,
            SubjectKind::Group => p.groups.contains(&s.name),
        });
        if applies {
            roles.insert(role);
        }
    }
    roles.into_iter().collect()
}

/// What `p` holds in project `ns`.
pub async fn project_access(
    state: &AppState,
    p: &Principal,
    ns: &ProjectName,
) -> Result<ProjectAccess, ApiError> {
    if p.scope.as_deref().is_some_and(|s| s != ns.as_str()) {
        return Ok(ProjectAccess::default());
    }
    if p.cluster_admin {
        return Ok(ProjectAccess {
            cluster_admin: true,
            ..ProjectAccess::default()
        });
    }
    let bindings = state
        .auth_cache
        .at(state.store.as_ref(), p.epoch)
        .bindings(ns)
        .await?;
    Ok(ProjectAccess {
        cluster_admin: false,
        roles: roles_of(p, &bindings),
        public_read: ns.as_str() == state.config.samples.namespace,
    })
}

/// The projects `caller` may list things in (`None`: all of them, for a cluster admin).
pub async fn visible_projects(
    state: &AppState,
    caller: &Caller,
    verb: Verb,
    resource: Resource,
) -> Result<Option<BTreeSet<String>>, ApiError> {
    let Some(p) = caller.principal() else {
        return Ok(Some(BTreeSet::new()));
    };
    if p.cluster_admin && p.scope.is_none() {
        return Ok(None);
    }
    let by_ns = state
        .auth_cache
        .at(state.store.as_ref(), p.epoch)
        .all_bindings()
        .await?;
    let samples = &state.config.samples.namespace;
    let mut out = BTreeSet::new();
    for ns in by_ns.keys().chain(std::iter::once(samples)) {
        if p.scope.as_deref().is_some_and(|s| s != ns) {
            continue;
        }
        let access = ProjectAccess {
            cluster_admin: p.cluster_admin,
            roles: roles_of(p, by_ns.get(ns).map_or(&[][..], Vec::as_slice)),
            public_read: ns == samples,
        };
        if access.sees_project() && access.allows(verb, resource) {
            out.insert(ns.clone());
        }
    }
    Ok(Some(out))
}

/// Whether `caller`, tagging into some project, may read a stream of project `source`
/// (tagging from another project needs read access to the source stream).
pub async fn may_read_source(
    state: &AppState,
    caller: &Caller,
    source: &str,
) -> Result<bool, ApiError> {
    let Some(p) = caller.principal() else {
        return Ok(false);
    };
    let Ok(ns) = source.parse::<ProjectName>() else {
        return Ok(false);
    };
    let access = project_access(state, p, &ns).await?;
    Ok(access.allows(Verb::Get, Resource::ImageStreams))
}

/// Whether `p` may grant `role` in a project where they hold `access`: as Kubernetes RBAC
/// prevents escalation, only someone who holds every permission of a role may bind it.
pub fn may_grant(access: &ProjectAccess, role: Role) -> bool {
    access.cluster_admin
        || Verb::ALL.iter().all(|&verb| {
            Resource::ALL
                .iter()
                .all(|&res| !role.allows(verb, res) || access.allows(verb, res))
        })
}
