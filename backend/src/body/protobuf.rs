//! Bodies in Kubernetes' protobuf, which kubectl 1.33 sends built-in kinds in (a Namespace, a
//! SelfSubjectAccessReview, a RoleBinding), read by `tagstream_shared::protobuf`'s readers and
//! then checked as the JSON they stand for.

use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{
    BodyFormat, MAX_ANONYMOUS_BODY_BYTES, RawBody, content_type, decode, not_a_patch, read_limited,
};
use crate::error::ApiError;

/// Kubernetes' protobuf media type, which kubectl 1.33 sends built-in kinds in.
const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";

/// The body of a route that serves the Kubernetes built-in `kind`: JSON or YAML as [`Body`],
/// refused if it says it is another kind ([`crate::api::identity`]), or protobuf (at most
/// [`MAX_ANONYMOUS_BODY_BYTES`]: these kinds are small) read by `from_protobuf`
/// (`tagstream_shared::protobuf`).
pub async fn body_or_protobuf<T: DeserializeOwned + serde::Serialize>(
    kind: &'static str,
    req: Request,
    from_protobuf: impl FnOnce(&[u8]) -> Result<T, String>,
) -> Result<T, ApiError> {
    if !is_protobuf(&req) {
        let value = not_a_patch(RawBody::from_request(req, &()).await?)?;
        // Namespaces and self reviews: cluster-wide, no project to match.
        crate::api::identity::check(kind, &value, None)?;
        return decode(value);
    }
    let object = read_protobuf(req, from_protobuf).await?;
    // Through `decode` as a JSON body goes, so the same checks hold whatever the encoding.
    let value = serde_json::to_value(&object).map_err(|e| ApiError::Internal(Box::new(e)))?;
    decode(value)
}

/// Whether the request's body is in Kubernetes' protobuf.
pub fn is_protobuf(req: &Request) -> bool {
    content_type(req).is_some_and(|v| v.starts_with(PROTOBUF))
}

/// A protobuf body (at most [`MAX_ANONYMOUS_BODY_BYTES`]: the kinds sent so are small) as
/// `from_protobuf` reads it; one it cannot read is a 400.
pub async fn read_protobuf<T>(
    req: Request,
    from_protobuf: impl FnOnce(&[u8]) -> Result<T, String>,
) -> Result<T, ApiError> {
    let bytes = read_limited(req, MAX_ANONYMOUS_BODY_BYTES).await?;
    from_protobuf(&bytes)
        .map_err(|e| ApiError::BadRequest(format!("the protobuf body does not decode: {e}")))
}

impl RawBody {
    /// The JSON body `value` stands for (a protobuf body, read), checked from here on as if it
    /// had been sent.
    pub fn json(value: Value) -> Result<Self, ApiError> {
        let bytes = serde_json::to_vec(&value).map_err(|e| ApiError::Internal(Box::new(e)))?;
        Ok(Self {
            format: BodyFormat::Json,
            value,
            bytes: bytes.into(),
        })
    }
}
