//! The audit log: `/apis/tagstream.io/v1/namespaces/{ns}/auditevents` for a project's admins,
//! `/apis/tagstream.io/v1/auditevents` for cluster admins. Newest first; `?limit=` (default
//! 200, at most 1000).

use crate::body::QueryParams;
use axum::Json;
use axum::extract::{Path, State};
use tagstream_shared::access::{Resource as R, Verb as V};
use tagstream_shared::paths::AUDIT_EVENTS_ALL;
use tagstream_shared::user::{AuditEvent, AuditQuery, TAGSTREAM_API_VERSION};
use tagstream_shared::{List, ProjectName};

use crate::access::Need;
use crate::api::routes::Routes;
use crate::app::AppState;
use crate::error::{ApiError, ApiResult};

pub fn routes() -> Routes {
    Routes::new()
        .get(AUDIT_EVENTS_ALL, Need::ClusterAdmin, list_all)
        .get(
            "/apis/tagstream.io/v1/namespaces/{ns}/auditevents",
            Need::in_project(V::List, R::AuditEvents),
            list_in_project,
        )
}

fn list(items: Vec<AuditEvent>) -> Json<List<AuditEvent>> {
    Json(List::new(
        AuditEvent::KIND,
        TAGSTREAM_API_VERSION,
        String::new(),
        items,
    ))
}

async fn list_all(
    State(state): State<AppState>,
    QueryParams(q): QueryParams<AuditQuery>,
) -> ApiResult<Json<List<AuditEvent>>> {
    Ok(list(state.store.list_audit_events(None, q.limit()).await?))
}

async fn list_in_project(
    State(state): State<AppState>,
    Path(ns): Path<String>,
    QueryParams(q): QueryParams<AuditQuery>,
) -> ApiResult<Json<List<AuditEvent>>> {
    let ns: ProjectName = ns
        .parse()
        .map_err(|e| ApiError::BadRequest(format!("invalid project name: {e}")))?;
    Ok(list(
        state.store.list_audit_events(Some(&ns), q.limit()).await?,
    ))
}
