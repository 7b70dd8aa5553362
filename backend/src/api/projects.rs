//! `/apis/project.openshift.io/v1/projects`: list, create, get, delete.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use tagstream_shared::project::API_VERSION;
use tagstream_shared::validation::validate_project;
use tagstream_shared::{List, Project, ProjectName};

use super::{PROJECTS, ProjectPath};
use crate::app::AppState;
use crate::body::{Body, Names};
use crate::error::{ApiError, ApiResult};
use crate::service;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/apis/project.openshift.io/v1/projects",
            get(list_projects).post(create_project),
        )
        .route(
            "/apis/project.openshift.io/v1/projects/{name}",
            get(get_project).delete(delete_project),
        )
}

async fn list_projects(State(state): State<AppState>) -> ApiResult<Json<List<Project>>> {
    let listed = state.store.list_projects().await?;
    Ok(Json(List::new(
        Project::KIND,
        API_VERSION,
        listed.resource_version.to_string(),
        listed.items,
    )))
}

async fn create_project(
    State(state): State<AppState>,
    Body(project): Body<Project>,
) -> ApiResult<(StatusCode, Json<Project>)> {
    let errors = validate_project(&project);
    if !errors.is_empty() {
        return Err(ApiError::Invalid {
            kind: Project::KIND,
            name: project.metadata.name().into(),
            errors,
        });
    }
    let name: ProjectName = project
        .metadata
        .name()
        .parse()
        .map_err(|e| ApiError::BadRequest(format!("invalid project name: {e}")))?;
    let project = service::project_for_create(project, name.as_str(), state.clock.now());
    let created = state
        .store
        .create_project(&name, project)
        .await
        .map_err(|e| ApiError::from_store(e, PROJECTS, name.as_str()))?;
    tracing::info!(project = %name, "project created");
    Ok((StatusCode::CREATED, Json(created)))
}

async fn get_project(
    State(state): State<AppState>,
    Names(ProjectPath(name)): Names<ProjectPath>,
) -> ApiResult<Json<Project>> {
    let project = state
        .store
        .get_project(&name)
        .await
        .map_err(|e| ApiError::from_store(e, PROJECTS, name.as_str()))?;
    Ok(Json(project))
}

async fn delete_project(
    State(state): State<AppState>,
    Names(ProjectPath(name)): Names<ProjectPath>,
) -> ApiResult<Json<Project>> {
    let project = state
        .store
        .delete_project(&name)
        .await
        .map_err(|e| ApiError::from_store(e, PROJECTS, name.as_str()))?;
    tracing::info!(project = %name, "project deleted with its streams");
    Ok(Json(project))
}
