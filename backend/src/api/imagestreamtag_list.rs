//! `GET /apis/image.openshift.io/v1/namespaces/{ns}/imagestreamtags`: every tag of every stream
//! in a project, as OpenShift lists them (`kubectl get istag`). A view of the streams: each tag
//! as `GET imagestreamtags/{stream}:{tag}` shows it, without the full image (a list would cost
//! one image read per tag; `kubectl get istag NAME` has it).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use tagstream_shared::access::{Resource as R, Verb as V};
use tagstream_shared::object::Object as _;
use tagstream_shared::{ImageStreamTag, List};

use super::{IMAGESTREAMTAGS, NsPath};
use crate::access::Need;
use crate::api::routes::Routes;
use crate::app::AppState;
use crate::body::Names;
use crate::error::ApiResult;
use crate::store::Objects as _;

pub fn routes() -> Routes {
    Routes::new().get(
        IMAGESTREAMTAGS.collection_route,
        Need::in_project(V::List, R::ImageStreamTags),
        list_image_stream_tags,
    )
}

async fn list_image_stream_tags(
    State(state): State<AppState>,
    Names(NsPath(ns)): Names<NsPath>,
) -> ApiResult<Response> {
    state.store.get_project(&ns).await?;
    let listed = state
        .store
        .list::<tagstream_shared::ImageStream>(Some(&ns))
        .await?;
    // Shown as `GET imagestreamtags/{stream}:{tag}` shows each (the public pull specs).
    let streams: Vec<tagstream_shared::ImageStream> = listed
        .items
        .into_iter()
        .map(|s| crate::integrated::present::shown(&state, s))
        .collect();
    let items: Vec<ImageStreamTag> = streams
        .iter()
        .flat_map(|s| s.tag_names().into_iter().filter_map(|t| s.stream_tag(t)))
        .collect();
    let list = List::new(
        ImageStreamTag::KIND,
        ImageStreamTag::API_VERSION,
        listed.resource_version.to_string(),
        items,
    );
    Ok(axum::Json(list).into_response())
}
