//! The HTTP API: one module per resource, merged here, with the API-wide fallbacks (an unknown
//! `/apis/...` path or method answers a `Status`, not the console).

mod accept;
mod accessreviews;
mod apply;
mod auditevents;
mod checked_writes;
mod discovery;
pub mod dry_run;
mod duplicate_fields;
mod events;
mod field_schema;
pub mod field_validation;
mod groups;
pub(crate) mod identity;
mod imagestream_writes;
mod imagestreamimages;
mod imagestreamimports;
mod imagestreams;
mod imagestreams_apply;
mod imagestreamtag_apply;
mod imagestreamtag_list;
mod imagestreamtag_patch;
mod imagestreamtag_write;
mod imagestreamtags;
mod list_options;
mod merge_patch;
mod namespaces;
mod object_turns;
pub mod objects;
mod objects_apply;
mod openapi;
mod projects;
mod protobuf_kinds;
pub(crate) mod raw;
mod receivers;
mod registry_token;
mod retry;
mod rolebindings;
pub mod routes;
mod samples;
mod selfreviews;
mod session;
mod table;
mod templateinstances;
mod templates;
mod triggers;
mod users;

use axum::Router;

use crate::app::AppState;
use crate::body::{FromPath, param};
use crate::error::ApiError;
use tagstream_shared::{ProjectName, StreamName, StreamTagName, TemplateName};

/// A resource as the API names it in errors (`imagestreams.image.openshift.io`): its one
/// declaration in `tagstream_shared::resources`.
pub use tagstream_shared::object::ApiResource as Resource;
pub use tagstream_shared::resources::{
    GROUPS, IMAGESTREAMIMAGES, IMAGESTREAMS, IMAGESTREAMTAGS, INVITATIONS, PROCESSEDTEMPLATES,
    PROJECTS, ROLEBINDINGS, SAMPLES_CONFIGS, TEMPLATEINSTANCES, TEMPLATES, TOKENS, USERS,
};

/// `{ns}` and `{name}` of a template or template instance.
#[derive(Debug)]
pub struct TemplatePath(pub ProjectName, pub TemplateName);

impl FromPath for TemplatePath {
    fn from_path(p: Vec<(String, String)>) -> Result<Self, ApiError> {
        Ok(Self(param(&p, "ns")?, param(&p, "name")?))
    }
}

/// `{ns}` in a path.
#[derive(Debug)]
pub struct NsPath(pub ProjectName);

/// `{name}` of a project.
#[derive(Debug)]
pub struct ProjectPath(pub ProjectName);

/// `{ns}` and `{name}` of a stream.
#[derive(Debug)]
pub struct StreamPath(pub ProjectName, pub StreamName);

/// `{ns}` and `{name}:{tag}` of a stream tag.
#[derive(Debug)]
pub struct StreamTagPath(pub ProjectName, pub StreamTagName);

impl FromPath for NsPath {
    fn from_path(p: Vec<(String, String)>) -> Result<Self, ApiError> {
        Ok(Self(param(&p, "ns")?))
    }
}

impl FromPath for ProjectPath {
    fn from_path(p: Vec<(String, String)>) -> Result<Self, ApiError> {
        Ok(Self(param(&p, "name")?))
    }
}

impl FromPath for StreamPath {
    fn from_path(p: Vec<(String, String)>) -> Result<Self, ApiError> {
        Ok(Self(param(&p, "ns")?, param(&p, "name")?))
    }
}

impl FromPath for StreamTagPath {
    fn from_path(p: Vec<(String, String)>) -> Result<Self, ApiError> {
        Ok(Self(param(&p, "ns")?, param(&p, "name")?))
    }
}

/// Every API route, each with the permission it needs.
pub fn routes() -> routes::Routes {
    routes::Routes::new()
        .merge(session::routes())
        .merge(users::routes())
        .merge(groups::routes())
        .merge(rolebindings::routes())
        .merge(auditevents::routes())
        .merge(accessreviews::routes())
        .merge(projects::routes())
        .merge(namespaces::routes())
        .merge(imagestreams::routes())
        .merge(imagestreamtags::routes())
        .merge(imagestreamtag_patch::routes())
        .merge(imagestreamimports::routes())
        .merge(imagestreamimages::routes())
        .merge(templates::routes())
        .merge(templateinstances::routes())
        .merge(samples::routes())
        .merge(triggers::routes())
        .merge(events::routes())
        .merge(registry_token::routes())
        .merge(receivers::routes())
        // Kubernetes clients: discovery and the list views kubectl reads.
        .merge(discovery::routes())
        .merge(imagestreamtag_list::routes())
        // kubectl auth can-i / whoami, answered from the routes above.
        .merge(selfreviews::routes())
}

pub use users::bootstrap as bootstrap_admin;

/// The table of every route and what it needs (the authorization matrix test walks it).
pub fn route_table() -> Vec<routes::RouteRule> {
    routes().into_parts().1
}

/// The API router, with the API-wide fallbacks.
pub fn router() -> Router<AppState> {
    router_with(routes::Routes::new())
}

/// The API router with `extra` routes beside the product's (a kind registered from outside,
/// as the generic-kind test does).
pub fn router_with(extra: routes::Routes) -> Router<AppState> {
    routes()
        .merge(extra)
        .into_parts()
        .0
        .route("/apis/{*rest}", axum::routing::any(no_route))
        .route("/api/{*rest}", axum::routing::any(no_route))
        .route("/openapi/{*rest}", axum::routing::any(no_route))
        .method_not_allowed_fallback(method_not_allowed)
        // Selectors, chunks and tables for every GET (kubectl's list options).
        .layer(axum::middleware::from_fn(table::shape))
}

async fn no_route(uri: axum::http::Uri) -> ApiError {
    ApiError::NoRoute(uri.path().to_owned())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
