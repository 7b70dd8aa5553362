//! Discovery as the Kubernetes apiserver serves it, so kubectl and client libraries find every
//! resource: `/version`, `/api`, `/api/v1`, `/apis`, `/apis/{group}/{version}`, and the
//! aggregated form of `/api` and `/apis` when the client's `Accept` asks for it. The documents
//! are built from the resource catalogue (`tagstream_shared::discovery`); OpenAPI is beside it
//! (`super::openapi`).
//!
//! Readable by any signed-in caller, project-scoped tokens included (Kubernetes'
//! `system:discovery`): the list of kinds is the same for everyone. `/version` is public, as
//! Kubernetes' `system:public-info-viewer` makes it.

use axum::http::header::{ACCEPT, CONTENT_TYPE, VARY};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tagstream_shared::discovery::{self, AggregatedVersion};

use crate::access::Need;
use crate::api::routes::Routes;
use crate::error::{ApiError, ApiResult};

pub fn routes() -> Routes {
    let mut routes = Routes::new()
        .get("/version", Need::Anyone, get_version)
        .get("/api", Need::SignedInScoped, get_core_versions)
        .get("/api/v1", Need::SignedInScoped, get_resources)
        .get("/apis", Need::SignedInScoped, get_groups);
    for path in group_version_paths() {
        routes = routes.get(path, Need::SignedInScoped, get_resources);
    }
    super::openapi::add_routes(routes)
}

/// `/apis/{group}/{version}` of every served group-version, as fixed paths: the router's
/// catch-all for unknown `/apis/...` paths cannot sit beside a `{group}/{version}` pattern.
fn group_version_paths() -> &'static [&'static str] {
    static PATHS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    PATHS.get_or_init(|| {
        discovery::api_group_list()
            .groups
            .iter()
            .flat_map(|g| &g.versions)
            // Built once per process, for the life of the server.
            .map(|v| &*Box::leak(format!("/apis/{}", v.group_version).into_boxed_str()))
            .collect()
    })
}

fn json<T: Serialize>(value: &T, content_type: &str) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => {
            let mut response = (StatusCode::OK, body).into_response();
            let headers = response.headers_mut();
            if let Ok(v) = HeaderValue::from_str(content_type) {
                headers.insert(CONTENT_TYPE, v);
            }
            // A cache in between must not answer one form for the other.
            headers.insert(VARY, HeaderValue::from_static("Accept"));
            response
        }
        Err(e) => ApiError::Internal(Box::new(e)).into_response(),
    }
}

fn aggregated_asked(headers: &HeaderMap) -> Option<AggregatedVersion> {
    headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(AggregatedVersion::from_accept)
}

async fn get_version() -> Response {
    json(
        &discovery::VersionInfo::new(env!("CARGO_PKG_VERSION")),
        "application/json",
    )
}

async fn get_core_versions(headers: HeaderMap) -> Response {
    match aggregated_asked(&headers) {
        Some(v) => json(&discovery::aggregated(v, true), &v.content_type()),
        None => json(&discovery::api_versions(), "application/json"),
    }
}

async fn get_groups(headers: HeaderMap) -> Response {
    match aggregated_asked(&headers) {
        Some(v) => json(&discovery::aggregated(v, false), &v.content_type()),
        None => json(&discovery::api_group_list(), "application/json"),
    }
}

/// `/api/v1` or `/apis/{group}/{version}`: the path names the group-version.
async fn get_resources(uri: axum::http::Uri) -> ApiResult<Response> {
    let path = uri.path();
    let (group, version) = match path.strip_prefix("/apis/") {
        Some(gv) => gv.split_once('/').unwrap_or((gv, "")),
        None => ("", path.trim_start_matches("/api/")),
    };
    discovery::api_resource_list(group, version)
        .map(|list| json(&list, "application/json"))
        .ok_or_else(|| ApiError::NoRoute(path.to_owned()))
}
