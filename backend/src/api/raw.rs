//! Answers made of the stored JSON itself. The store keeps each object as the JSON the shared
//! model type encodes (`Stored::encode`, at every write), which is exactly what decoding it and
//! encoding it again would answer: so a read that changes nothing per caller sends the stored
//! bytes as they are, and a list is those bytes between the list's own envelope. What the API
//! layers do afterwards (kubectl's tables and selectors, compression) reads these bytes as it
//! read the encoded ones.

use axum::body::Body;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse as _, Response};
use tagstream_shared::List;

use crate::error::ApiError;

/// One stored object, as stored.
pub fn object(body: String) -> Response {
    json(StatusCode::OK, Body::from(body))
}

/// A list of `item_kind` at `resource_version` whose items are the stored `bodies`, in order:
/// the bytes `List::new(item_kind, api_version, ..)` would encode to with the decoded items.
pub fn list(
    item_kind: &str,
    api_version: &str,
    resource_version: u64,
    bodies: &[String],
) -> Response {
    // The envelope is the model's own encoding of an empty list; the items go where its `[]`
    // is (`items` is the last field, so the envelope ends with `[]}`).
    let empty: List<()> = List::new(
        item_kind,
        api_version,
        resource_version.to_string(),
        Vec::new(),
    );
    let envelope = match serde_json::to_string(&empty) {
        Ok(e) => e,
        Err(e) => return ApiError::Internal(Box::new(e)).into_response(),
    };
    let Some(head) = envelope.strip_suffix("[]}") else {
        return ApiError::Internal(
            format!("a list's envelope does not end with its items: {envelope}").into(),
        )
        .into_response();
    };
    let size = head.len() + 2 + bodies.iter().map(|b| b.len() + 1).sum::<usize>();
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(head.as_bytes());
    out.push(b'[');
    for (i, body) in bodies.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(body.as_bytes());
    }
    out.extend_from_slice(b"]}");
    json(StatusCode::OK, Body::from(out))
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
