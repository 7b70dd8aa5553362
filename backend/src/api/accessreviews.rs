//! "What can <user> do here" and "who can <verb> <resource> here":
//! `GET /apis/tagstream.io/v1/namespaces/{ns}/accessreviews`. Without parameters it answers for
//! the caller (the console hides what the server would refuse); `?user=` and
//! `?verb=&resource=` are for those who may read the project's access rules.

use crate::body::QueryParams;
use crate::store::Objects as _;
use axum::extract::{Path, State};
use axum::{Extension, Json};
use tagstream_shared::ProjectName;
use tagstream_shared::access::{CLUSTER_ADMINS_GROUP, ProjectAccess, Resource, Role, Verb};
use tagstream_shared::user::{
    AccessReview, AccessReviewQuery, Permission, ReviewSubject, SubjectKind, TAGSTREAM_API_VERSION,
};

use crate::access::{Need, project_access};
use crate::api::routes::Routes;
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};

pub fn routes() -> Routes {
    Routes::new().get(
        "/apis/tagstream.io/v1/namespaces/{ns}/accessreviews",
        Need::in_project(Verb::Get, Resource::Projects),
        review,
    )
}

fn allowed(access: &ProjectAccess) -> Vec<Permission> {
    let mut out = Vec::new();
    for r in Resource::ALL {
        for v in Verb::ALL {
            if access.allows(v, r) {
                out.push(Permission::new(v, r));
            }
        }
    }
    out
}

async fn review(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(ns): Path<String>,
    QueryParams(q): QueryParams<AccessReviewQuery>,
) -> ApiResult<Json<AccessReview>> {
    let ns: ProjectName = ns
        .parse()
        .map_err(|e| ApiError::BadRequest(format!("invalid project name: {e}")))?;
    let Some(me) = caller.principal() else {
        return Err(ApiError::Unauthorized("sign in first".into()));
    };
    let mine = project_access(&state, me, &ns).await?;
    let mut answer = AccessReview {
        kind: "AccessReview".into(),
        api_version: TAGSTREAM_API_VERSION.into(),
        namespace: ns.to_string(),
        ..AccessReview::default()
    };
    let asks_others = q.user.as_deref().is_some_and(|u| u != "~" && u != me.name)
        || q.verb.is_some()
        || q.resource.is_some();
    if asks_others && !mine.allows(Verb::Get, Resource::RoleBindings) {
        return Err(ApiError::Denied {
            user: me.name.clone(),
            verb: Verb::Get,
            resource: Resource::RoleBindings,
            namespace: Some(ns.to_string()),
        });
    }
    if let (Some(verb), Some(resource)) = (&q.verb, &q.resource) {
        let verb: Verb = verb.parse().map_err(ApiError::BadRequest)?;
        let resource: Resource = resource.parse().map_err(ApiError::BadRequest)?;
        let bindings = state
            .store
            .list::<tagstream_shared::user::RoleBinding>(Some(&ns))
            .await?
            .items;
        for b in &bindings {
            let Some(role) = b.role() else { continue };
            if !role.allows(verb, resource) {
                continue;
            }
            for s in &b.subjects {
                answer.subjects.push(ReviewSubject {
                    kind: s.kind,
                    name: s.name.clone(),
                    role: role.as_str().into(),
                });
            }
        }
        if ns.as_str() == state.config.samples.namespace && Role::View.allows(verb, resource) {
            answer.subjects.push(ReviewSubject {
                kind: SubjectKind::Group,
                name: "system:authenticated".into(),
                role: Role::View.as_str().into(),
            });
        }
        answer.subjects.push(ReviewSubject {
            kind: SubjectKind::Group,
            name: CLUSTER_ADMINS_GROUP.into(),
            role: "cluster-admin".into(),
        });
        return Ok(Json(answer));
    }
    let (name, access) = match q.user.as_deref() {
        Some(u) if u != "~" && u != me.name => {
            let p = crate::auth::principal(&state, u, Vec::new()).await?;
            let access = project_access(&state, &p, &ns).await?;
            (u.to_owned(), access)
        }
        _ => (me.name.clone(), mine),
    };
    answer.user = Some(name);
    answer.roles.clone_from(&access.roles);
    answer.cluster_admin = access.cluster_admin;
    answer.public_read = access.public_read;
    answer.allowed = allowed(&access);
    Ok(Json(answer))
}
