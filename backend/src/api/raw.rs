//! Answers made of the stored JSON itself. The store keeps each object as the JSON the shared
//! model type encodes (`Stored::encode`, at every write), which is exactly what decoding it and
//! encoding it again would answer: so a read that changes nothing per caller sends the stored
//! bytes as they are, and a list is those bytes between the list's own envelope. What the API
//! layers do afterwards (kubectl's tables and selectors, compression) reads these bytes as it
//! read the encoded ones.

use axum::body::Body;
use axum::http::header::{CONTENT_ENCODING, CONTENT_TYPE, VARY};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse as _, Response};
use bytes::Bytes;
use tagstream_shared::object::ApiResource;
use tagstream_shared::{List, ProjectName};

use crate::app::AppState;
use crate::error::ApiError;
use crate::read_cache::{self, ReadPoint};

/// One stored object, as stored.
pub fn object(body: impl Into<Bytes>) -> Response {
    json(StatusCode::OK, Body::from(body.into()))
}

/// A list of `item_kind` at `resource_version` whose items are the stored `bodies`, in order:
/// the bytes `List::new(item_kind, api_version, ..)` would encode to with the decoded items.
pub fn list(
    item_kind: &str,
    api_version: &str,
    resource_version: u64,
    bodies: &[String],
) -> Response {
    list_of(
        item_kind,
        api_version,
        resource_version,
        &list_items(bodies),
    )
}

/// The end of a list whose items are the stored `bodies`: `[body,body]}` (what follows the
/// envelope [`list_of`] writes).
pub fn list_items(bodies: &[String]) -> Vec<u8> {
    items_of(bodies.iter().map(String::as_bytes))
}

/// [`list_items`] of bodies as bytes.
pub fn items_of<'a>(bodies: impl Iterator<Item = &'a [u8]> + Clone) -> Vec<u8> {
    let size = 3 + bodies.clone().map(|b| b.len() + 1).sum::<usize>();
    let mut out = Vec::with_capacity(size);
    out.push(b'[');
    for (i, body) in bodies.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(body);
    }
    out.extend_from_slice(b"]}");
    out
}

/// A list of `item_kind` at `resource_version` ending with `items` (from [`list_items`]).
pub fn list_of(
    item_kind: &str,
    api_version: &str,
    resource_version: u64,
    items: &[u8],
) -> Response {
    match list_whole(item_kind, api_version, resource_version, items) {
        Ok(whole) => json(StatusCode::OK, Body::from(whole)),
        Err(e) => e.into_response(),
    }
}

/// The bytes of [`list_of`]'s answer.
pub fn list_whole(
    item_kind: &str,
    api_version: &str,
    resource_version: u64,
    items: &[u8],
) -> Result<Vec<u8>, ApiError> {
    // The envelope is the model's own encoding of an empty list; the items go where its `[]`
    // is (`items` is the last field, so the envelope ends with `[]}`).
    let empty: List<()> = List::new(
        item_kind,
        api_version,
        resource_version.to_string(),
        Vec::new(),
    );
    let envelope = serde_json::to_string(&empty).map_err(|e| ApiError::Internal(Box::new(e)))?;
    let Some(head) = envelope.strip_suffix("[]}") else {
        return Err(ApiError::Internal(
            format!("a list's envelope does not end with its items: {envelope}").into(),
        ));
    };
    // One copy of the items (a millisecond for megabytes): the envelope names the revision of
    // this request.
    let mut out = Vec::with_capacity(head.len() + items.len());
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(items);
    Ok(out)
}

/// JSON already gzipped (the compression layer leaves an encoded answer alone).
pub fn gzipped_json(body: Bytes) -> Response {
    let mut response = json(StatusCode::OK, Body::from(body));
    let headers = response.headers_mut();
    headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// Lists of this many bytes of items or more are gzipped here, from memory, when the client
/// accepts it; smaller ones are left to the compression layer.
const GZIP_FROM: usize = 64 * 1024;

/// Project `ns`'s list of resource `r` as stored, from the read cache: gzipped once per
/// revision when big and accepted, the same bytes otherwise.
pub async fn cached_list(
    state: &AppState,
    point: ReadPoint,
    headers: &HeaderMap,
    r: &'static ApiResource,
    item_kind: &str,
    api_version: &str,
    ns: &ProjectName,
) -> Result<Response, ApiError> {
    let cache = &state.read_cache;
    let (revision, items) = cache.list(state.store.as_ref(), point, r, ns).await?;
    if items.len() < GZIP_FROM || !read_cache::accepts_gzip(headers) {
        return Ok(list_of(item_kind, api_version, revision, &items));
    }
    if let Some(gz) = cache.cached_gzip(r, ns, revision, &items) {
        return Ok(gzipped_json(gz));
    }
    let whole = list_whole(item_kind, api_version, revision, &items)?;
    let gz = Bytes::from(read_cache::gzip(&whole).map_err(|e| ApiError::Internal(Box::new(e)))?);
    cache.keep_gzip(r, ns, revision, &items, gz.clone());
    Ok(gzipped_json(gz))
}

fn json(code: StatusCode, body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = code;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use tagstream_shared::ImageStream;

    #[tokio::test]
    async fn a_list_of_stored_bodies_is_the_bytes_the_typed_list_encodes_to() {
        let mut a = ImageStream::new("a");
        a.metadata.namespace = Some("demo".into());
        a.metadata.labels = Some([("team".to_owned(), "web".to_owned())].into());
        let b = ImageStream::new("b");
        let bodies: Vec<String> = [&a, &b]
            .iter()
            .map(|s| serde_json::to_string(s).expect("encodes"))
            .collect();
        for (items, stored) in [(vec![a.clone(), b.clone()], &bodies[..]), (vec![], &[][..])] {
            let typed = serde_json::to_vec(&List::new(
                ImageStream::KIND,
                "image.openshift.io/v1",
                "42".into(),
                items,
            ))
            .expect("encodes");
            let raw = list(ImageStream::KIND, "image.openshift.io/v1", 42, stored);
            let bytes = axum::body::to_bytes(raw.into_body(), usize::MAX)
                .await
                .expect("a body");
            assert_eq!(
                String::from_utf8_lossy(&bytes),
                String::from_utf8_lossy(&typed)
            );
        }
    }
}
