//! Receiver URLs for push events from other registries (`crate::integrated::receivers`):
//! `GET .../namespaces/{ns}/receivers` tells those who may change the project's streams the URL,
//! `POST .../namespaces/{ns}/receivers` (the same people) replaces its secret by a new one (the
//! old URL is refused from then on), and `POST .../namespaces/{ns}/receivers/{secret}` takes the
//! registries' webhooks. A wrong
//! secret, an unknown project and a server without a receiver key all answer the same 404.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::{Extension, Json};
use serde_json::{Value, json};
use tagstream_shared::ProjectName;
use tagstream_shared::access::{Resource as R, Verb as V};

use super::registry_token::read_limited;
use super::{NsPath, Resource};
use crate::access::Need;
use crate::api::routes::Routes;
use crate::app::AppState;
use crate::auth::Caller;
use crate::body::Names;
use crate::error::{ApiError, ApiResult};
use crate::integrated::receivers::{self, MAX_RECEIVER_BYTES, ReceiverKey};
use crate::integrated::{receiver_formats, receiver_secrets};

pub const RECEIVERS: Resource = tagstream_shared::api_resource!(namespaced "tagstream.io" / "v1",
    "Receiver", "receivers", "receiver", [], &[V::Get, V::Create], None);

pub fn routes() -> Routes {
    Routes::new()
        .get(
            "/apis/tagstream.io/v1/namespaces/{ns}/receivers",
            Need::in_project(V::Update, R::ImageStreams),
            get_receiver,
        )
        .post(
            "/apis/tagstream.io/v1/namespaces/{ns}/receivers",
            Need::in_project(V::Update, R::ImageStreams),
            rotate_receiver,
        )
        .post(
            "/apis/tagstream.io/v1/namespaces/{ns}/receivers/{token}",
            Need::Anyone,
            post_receiver,
        )
}

fn key(state: &AppState) -> ApiResult<Arc<ReceiverKey>> {
    state.receivers.clone().ok_or_else(not_found)
}

fn not_found() -> ApiError {
    ApiError::NotFound {
        resource: &RECEIVERS,
        name: "push".into(),
    }
}

/// The receiver key and the uid of project `ns` (its secret is derived from both): for those
/// who may see it, so a missing project is its 404.
async fn key_and_uid(state: &AppState, ns: &ProjectName) -> ApiResult<(Arc<ReceiverKey>, String)> {
    let key = key(state)?;
    let project = state.store.get_project(ns).await?;
    Ok((key, project.metadata.uid.unwrap_or_default()))
}

fn path(ns: &str, secret: &str) -> String {
    format!("/apis/tagstream.io/v1/namespaces/{ns}/receivers/{secret}")
}

/// The project's receiver: its path (the secret is in it) and the payloads it takes.
async fn get_receiver(
    State(state): State<AppState>,
    Names(NsPath(ns)): Names<NsPath>,
) -> ApiResult<Json<Value>> {
    let (key, uid) = key_and_uid(&state, &ns).await?;
    let secret = receiver_secrets::current(&state, &key, &ns, &uid).await?;
    Ok(Json(receiver(&ns, &secret)))
}

/// Replaces the project's receiver secret: answers the receiver with its new path.
async fn rotate_receiver(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Names(NsPath(ns)): Names<NsPath>,
) -> ApiResult<Json<Value>> {
    let (key, uid) = key_and_uid(&state, &ns).await?;
    let secret =
        receiver_secrets::rotate(&state, &(&caller).into(), &key, &ns, &uid, &RECEIVERS).await?;
    tracing::info!(namespace = %ns, "receiver secret rotated");
    Ok(Json(receiver(&ns, &secret)))
}

fn receiver(ns: &ProjectName, secret: &str) -> Value {
    json!({
        "apiVersion": "tagstream.io/v1",
        "kind": "Receiver",
        "metadata": {"name": "push", "namespace": ns.as_str()},
        "spec": {
            "path": path(ns.as_str(), secret),
            "secret": secret,
            "formats": ["distribution", "dockerhub", "quay", "harbor", "github"],
        }
    })
}

/// A registry's push webhook: every tag of the project that imports the pushed tag is imported
/// again now.
async fn post_receiver(
    State(state): State<AppState>,
    Path((ns, token)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> ApiResult<Json<Value>> {
    let key = key(&state)?;
    let ns: ProjectName = ns.parse().map_err(|_| not_found())?;
    let project = match state.store.get_project(&ns).await {
        Ok(p) => p,
        Err(crate::store::StoreError::NotFound { .. }) => return Err(not_found()),
        Err(e) => return Err(e.into()),
    };
    let uid = project.metadata.uid.clone().unwrap_or_default();
    let secret = receiver_secrets::current(&state, &key, &ns, &uid).await?;
    if !crate::auth::secret::same(&token, &secret) {
        return Err(not_found());
    }
    let bytes = read_limited(body, MAX_RECEIVER_BYTES).await?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(signature) = header("x-hub-signature-256")
        && !receivers::github_signature_valid(&secret, &bytes, signature)
    {
        return Err(ApiError::Unauthorized(
            "X-Hub-Signature-256 does not sign this body with the receiver's secret".into(),
        ));
    }
    let (format, pushes) = receiver_formats::parse(&bytes, header("x-github-event"))?;
    let received = receivers::apply(&state, &ns, &pushes).await?;
    Ok(Json(json!({
        "format": format!("{format:?}"),
        "pushes": pushes.len(),
        "reimported": received.reimported,
        "duplicates": received.duplicates,
    })))
}
