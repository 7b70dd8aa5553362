//! Request bodies: JSON or YAML by `Content-Type`, JSON merge patches, and typed path names.
//! Every failure here is a `Status` (400, 413, 415), never axum's plain-text rejection.

use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;

/// The largest body the API reads.
pub const MAX_BODY_BYTES: usize = 4 << 20;

/// What a body's `Content-Type` says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    Json,
    Yaml,
    MergePatch,
    /// No useful type (curl's default `application/x-www-form-urlencoded`, `text/plain`, none):
    /// JSON if it starts like JSON, YAML otherwise, so `curl --data-binary @file` just works.
    Sniff,
}

impl BodyFormat {
    fn from_content_type(value: Option<&str>) -> Result<Self, ApiError> {
        let Some(value) = value else {
            return Ok(Self::Sniff);
        };
        let essence = value
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "application/json" => Ok(Self::Json),
            ""
            | "application/x-www-form-urlencoded"
            | "text/plain"
            | "application/octet-stream" => Ok(Self::Sniff),
            "application/yaml" | "application/x-yaml" | "text/yaml" | "text/x-yaml" => {
                Ok(Self::Yaml)
            }
            "application/merge-patch+json" => Ok(Self::MergePatch),
            other => Err(ApiError::UnsupportedMediaType(format!(
                "the body's content type {other:?} is not supported: send application/json or \
                 application/yaml (application/merge-patch+json for PATCH)"
            ))),
        }
    }
}

/// A parsed body of type `T`, from JSON or YAML.
#[derive(Debug)]
pub struct Body<T>(pub T);

/// A body as a JSON value, with the format it came in.
#[derive(Debug)]
pub struct RawBody {
    pub format: BodyFormat,
    pub value: Value,
}

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .map(|v| v.to_str().unwrap_or("?"));
        let format = BodyFormat::from_content_type(content_type)?;
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::TooLarge
                } else {
                    ApiError::BadRequest(format!("could not read the request body: {e}"))
                }
            })?;
        if bytes.len() > MAX_BODY_BYTES {
            return Err(ApiError::TooLarge);
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::BadRequest("the request body is empty".into()));
        }
        let value = match format {
            BodyFormat::Json | BodyFormat::MergePatch => serde_json::from_slice(&bytes)
                .map_err(|e| ApiError::BadRequest(format!("the body is not valid JSON: {e}")))?,
            BodyFormat::Sniff if bytes.trim_ascii_start().starts_with(b"{") => {
                serde_json::from_slice(&bytes)
                    .map_err(|e| ApiError::BadRequest(format!("the body is not valid JSON: {e}")))?
            }
            BodyFormat::Yaml | BodyFormat::Sniff => serde_yaml::from_slice(&bytes)
                .map_err(|e| ApiError::BadRequest(format!("the body is not valid YAML: {e}")))?,
        };
        Ok(Self { format, value })
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let raw = RawBody::from_request(req, state).await?;
        if raw.format == BodyFormat::MergePatch {
            return Err(ApiError::UnsupportedMediaType(
                "a merge patch is accepted only by PATCH".into(),
            ));
        }
        decode(raw.value).map(Body)
    }
}

/// Turns a JSON value into `T`; a shape mismatch is the client's error (400).
pub fn decode<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    if !value.is_object() {
        return Err(ApiError::BadRequest("the body must be an object".into()));
    }
    serde_json::from_value(value)
        .map_err(|e| ApiError::BadRequest(format!("the body does not decode: {e}")))
}

/// RFC 7386 JSON merge patch: objects merge key by key, `null` removes, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(target) = target {
        for (key, value) in patch {
            if value.is_null() {
                target.remove(key);
            } else {
                merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

/// Path parameters parsed into typed names; a malformed one is a 400 naming it.
#[derive(Debug)]
pub struct Names<T>(pub T);

/// Parsing from a path segment into a typed name, with what to call it in an error.
pub trait FromPath: Sized {
    fn from_path(params: Vec<(String, String)>) -> Result<Self, ApiError>;
}

impl<S: Send + Sync, T: FromPath> FromRequestParts<S> for Names<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(params) = Path::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::BadRequest(format!("bad path: {e}")))?;
        T::from_path(params).map(Names)
    }
}

/// Parses the path parameter `key` as `T`.
pub fn param<T>(params: &[(String, String)], key: &str) -> Result<T, ApiError>
where
    T: std::str::FromStr<Err = tagstream_shared::NameError>,
{
    let value = params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .ok_or_else(|| ApiError::BadRequest(format!("missing path parameter {key}")))?;
    value
        .parse()
        .map_err(|e| ApiError::BadRequest(format!("invalid {key} {value:?} in the path: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}, "t": [1, 2]});
        merge_patch(
            &mut doc,
            &json!({"a": "z", "c": {"f": null}, "t": [3], "n": {"x": 1}}),
        );
        assert_eq!(
            doc,
            json!({"a": "z", "c": {"d": "e"}, "t": [3], "n": {"x": 1}})
        );
    }

    #[test]
    fn content_types_map_to_formats() {
        assert_eq!(
            BodyFormat::from_content_type(None).ok(),
            Some(BodyFormat::Sniff)
        );
        assert_eq!(
            BodyFormat::from_content_type(Some("application/x-www-form-urlencoded")).ok(),
            Some(BodyFormat::Sniff)
        );
        assert_eq!(
            BodyFormat::from_content_type(Some("application/yaml; charset=utf-8")).ok(),
            Some(BodyFormat::Yaml)
        );
        assert!(BodyFormat::from_content_type(Some("text/html")).is_err());
    }
}
