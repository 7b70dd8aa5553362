//! `/apis/tagstream.io/v1/namespaces/{ns}/events`: what happened in a project, newest first:
//! tags that moved (by a person, a follow or an import), imports that failed, webhook
//! deliveries that succeeded or gave up.

use axum::Json;
use axum::extract::State;
use tagstream_shared::List;
use tagstream_shared::access::{Resource as R, Verb as V};
use tagstream_shared::event::Event;
use tagstream_shared::trigger::API_VERSION;

use super::NsPath;
use crate::access::Need;
use crate::api::routes::Routes;
use crate::app::AppState;
use crate::body::Names;
use crate::error::ApiResult;

/// The most events a list answers.
const LIMIT: u32 = 200;

pub fn routes() -> Routes {
    Routes::new().get(
        "/apis/tagstream.io/v1/namespaces/{ns}/events",
        Need::in_project(V::List, R::Events),
        list_events,
    )
}

async fn list_events(
    State(state): State<AppState>,
    Names(NsPath(ns)): Names<NsPath>,
) -> ApiResult<Json<List<Event>>> {
    super::objects::require_project(&state, &ns).await?;
    let items = state.store.list_events(&ns, LIMIT).await?;
    let mut list = List::new(Event::KIND, API_VERSION, String::new(), items);
    list.metadata.resource_version = None;
    Ok(Json(list))
}
