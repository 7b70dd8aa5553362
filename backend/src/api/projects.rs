//! `/apis/project.openshift.io/v1/projects`: list, create, get, delete.

use crate::access::Need;
use crate::api::field_validation::Checked;
use crate::api::routes::Routes;
use crate::audit;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use tagstream_shared::access::Role;
use tagstream_shared::access::{Resource as R, Verb as V};
use tagstream_shared::project::API_VERSION;
use tagstream_shared::user::{RoleBinding, Subject};
use tagstream_shared::validation::validate_project;
use tagstream_shared::{List, Project, ProjectName};

use super::{PROJECTS, ProjectPath, raw};
use crate::app::AppState;
use crate::auth::Caller;
use crate::body::Names;
use crate::error::{ApiError, ApiResult};
use crate::read_cache::Point;
use crate::service;
use crate::watch::{ListOptions, Scope, list_or_watch};
use axum::response::Response;

pub fn routes() -> Routes {
    const ALL: &str = "/apis/project.openshift.io/v1/projects";
    const ONE: &str = "/apis/project.openshift.io/v1/projects/{name}";
    Routes::new()
        .get(ALL, Need::SignedInScoped, list_projects)
        .post(ALL, Need::SignedIn, create_project)
        .get(
            ONE,
            Need::Project {
                verb: V::Get,
                resource: R::Projects,
                param: "name",
            },
            get_project,
        )
        .delete(
            ONE,
            Need::Project {
                verb: V::Delete,
                resource: R::Projects,
                param: "name",
            },
            delete_project,
        )
}

/// The projects the caller can see (all of them for a cluster admin): from the read cache,
/// filtered for the caller, unless a watch starts (its events are built from objects).
async fn list_projects(
    State(state): State<AppState>,
    Point(point): Point,
    Extension(caller): Extension<Caller>,
    options: ListOptions,
) -> ApiResult<Response> {
    if !options.watch {
        let visible = crate::access::visible_projects(&state, &caller, V::Get, R::Projects).await?;
        let (revision, all) = state
            .read_cache
            .projects(state.store.as_ref(), point)
            .await?;
        let items = all
            .iter()
            .filter(|(name, _)| visible.as_ref().is_none_or(|v| v.contains(name)))
            .map(|(_, body)| &body[..]);
        return Ok(raw::list_of(
            Project::KIND,
            API_VERSION,
            revision,
            &raw::items_of(items),
        ));
    }
    let (list, visible) = visible_list(&state, &caller).await?;
    let scope = Scope::visible_to(PROJECTS.plural, visible, V::Get, R::Projects);
    list_or_watch(&state, options, scope, list).await
}

/// The projects `caller` sees, and which those are (`None`: every one).
pub(super) async fn visible_list(
    state: &AppState,
    caller: &Caller,
) -> ApiResult<(List<Project>, Option<std::collections::BTreeSet<String>>)> {
    let visible = crate::access::visible_projects(state, caller, V::Get, R::Projects).await?;
    let listed = state.store.list_projects().await?;
    let items = listed
        .items
        .into_iter()
        .filter(|p| {
            visible
                .as_ref()
                .is_none_or(|v| v.contains(p.metadata.name()))
        })
        .collect();
    let list = List::new(
        Project::KIND,
        API_VERSION,
        listed.resource_version.to_string(),
        items,
    );
    Ok((list, visible))
}

/// Creates a project; its creator becomes its admin (RoleBinding `admin`), as in OpenShift.
async fn create_project(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Checked(project): Checked<Project>,
) -> ApiResult<(StatusCode, Json<Project>)> {
    Ok((
        StatusCode::CREATED,
        Json(create(&state, &caller, project).await?),
    ))
}

/// The annotation naming a project's creator (OpenShift's `openshift.io/requester`).
const REQUESTER: &str = "openshift.io/requester";

/// The one way a project is made (also as a Namespace, `api::namespaces`): validated, its
/// creator its admin. The samples project's name is reserved.
pub(super) async fn create(
    state: &AppState,
    caller: &Caller,
    project: Project,
) -> ApiResult<Project> {
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
    // Every user reads the samples project; whoever created it would be its admin. Only the
    // server makes it (the samples Config, `Managed`), so the name is reserved here.
    if name.as_str() == state.config.samples.namespace {
        return Err(ApiError::Forbidden(format!(
            "the project name \"{name}\" is reserved for the samples, which every user reads: \
             the server creates it when the samples Config is Managed"
        )));
    }
    let mut project = service::project_for_create(project, name.as_str(), state.clock.now());
    // Who asked for the project is the server's to say, as OpenShift's project request does:
    // a value sent by the client would let anyone pass their project off as someone else's.
    project
        .metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert(REQUESTER.into(), caller.name().into());
    let created = state
        .store
        .create_project(
            &caller.into(),
            &name,
            project,
            Some(RoleBinding::new(
                "admin",
                Role::Admin,
                vec![Subject::user(caller.name())],
            )),
        )
        .await?;
    tracing::info!(project = %name, "project created");
    Ok(created)
}

pub(super) async fn get_project(
    State(state): State<AppState>,
    Names(ProjectPath(name)): Names<ProjectPath>,
) -> ApiResult<Json<Project>> {
    let project = state.store.get_project(&name).await?;
    Ok(Json(project))
}

pub(super) async fn delete_project(
    State(state): State<AppState>,
    Extension(actor): Extension<audit::Actor>,
    Names(ProjectPath(name)): Names<ProjectPath>,
) -> ApiResult<Json<Project>> {
    let project = state.store.delete_project(&actor, &name).await?;
    tracing::info!(project = %name, "project deleted with its streams");
    Ok(Json(project))
}
