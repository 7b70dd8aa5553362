//! `/api/v1/namespaces`: projects as Kubernetes clients know them, as OpenShift serves them
//! (`kubectl create namespace`, `get ns`, `delete ns`). A Namespace is the project under the
//! core group's name: creating one is creating the project (`projects::create`, same rules:
//! any signed-in user, the creator its admin), and each route needs what the project's does.

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use tagstream_shared::access::{Resource as R, Verb as V};
use tagstream_shared::resources::NAMESPACES;
use tagstream_shared::{List, Project};

use super::ProjectPath;
use super::projects;
use crate::access::Need;
use crate::api::routes::Routes;
use crate::app::AppState;
use crate::auth::Caller;
use crate::body::{Names, body_or_protobuf};
use crate::error::ApiResult;
use axum::extract::Request;

pub fn routes() -> Routes {
    let r = NAMESPACES;
    let project = |verb| Need::Project {
        verb,
        resource: R::Projects,
        param: "name",
    };
    Routes::new()
        .get(r.collection_route, Need::SignedInScoped, list_namespaces)
        .post(r.collection_route, Need::SignedIn, create_namespace)
        .get(r.item_route, project(V::Get), get_namespace)
        .delete(r.item_route, project(V::Delete), delete_namespace)
}

/// A project as a v1 Namespace: the same metadata and phase, the core group's type.
fn as_namespace(mut p: Project) -> Project {
    p.kind = NAMESPACES.kind.into();
    p.api_version = NAMESPACES.api_version.into();
    if p.status.phase.is_empty() {
        p.status.phase = "Active".into();
    }
    p
}

async fn list_namespaces(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<List<Project>>> {
    let (list, _) = projects::visible_list(&state, &caller).await?;
    let items = list.items.into_iter().map(as_namespace).collect();
    Ok(Json(List::new(
        NAMESPACES.kind,
        NAMESPACES.api_version,
        list.metadata.resource_version.unwrap_or_default(),
        items,
    )))
}

async fn create_namespace(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    req: Request,
) -> ApiResult<(StatusCode, Json<Project>)> {
    // kubectl 1.33 sends a Namespace in protobuf; its metadata is all a project takes.
    let namespace = body_or_protobuf(NAMESPACES.kind, req, |bytes| {
        let object = tagstream_shared::protobuf::unwrap_envelope(bytes)?;
        let mut project = Project::new("");
        project.metadata = tagstream_shared::protobuf::object_meta(object)?;
        Ok(project)
    })
    .await?;
    let created = projects::create(&state, &caller, namespace).await?;
    Ok((StatusCode::CREATED, Json(as_namespace(created))))
}

async fn get_namespace(
    state: State<AppState>,
    path: Names<ProjectPath>,
) -> ApiResult<Json<Project>> {
    Ok(Json(as_namespace(
        projects::get_project(state, path).await?.0,
    )))
}

async fn delete_namespace(
    state: State<AppState>,
    actor: Extension<crate::audit::Actor>,
    path: Names<ProjectPath>,
) -> ApiResult<Json<Project>> {
    Ok(Json(as_namespace(
        projects::delete_project(state, actor, path).await?.0,
    )))
}
