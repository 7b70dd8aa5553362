//! Answers in the format the client asks for with `Accept`: JSON by default, YAML for
//! `application/yaml` (what `kubectl get -o yaml` would print, ready for `kubectl apply -f`).

use axum::extract::FromRequestParts;
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::ApiError;

/// The response format a request asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accept {
    Json,
    Yaml,
}

impl<S: Send + Sync> FromRequestParts<S> for Accept {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let wants_yaml = parts
            .headers
            .get_all(ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|v| v.split(';').next().unwrap_or_default().trim())
            .take_while(|v| *v != "application/json")
            .any(|v| matches!(v, "application/yaml" | "application/x-yaml" | "text/yaml"));
        Ok(if wants_yaml { Self::Yaml } else { Self::Json })
    }
}

impl Accept {
    /// `value` with `code`, as JSON or YAML.
    pub fn respond<T: Serialize>(self, code: StatusCode, value: &T) -> Response {
        let json = match serde_json::to_value(value) {
            Ok(json) => json,
            Err(e) => return ApiError::Internal(Box::new(e)).into_response(),
        };
        match self {
            Self::Json => (code, axum::Json(json)).into_response(),
            Self::Yaml => (
                code,
                [(CONTENT_TYPE, HeaderValue::from_static("application/yaml"))],
                tagstream_shared::yaml::to_string(&json),
            )
                .into_response(),
        }
    }
}
