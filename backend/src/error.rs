//! The API's one error type and its one mapping to a Kubernetes `Status` response. Internal
//! detail (a database error) is logged here and never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tagstream_shared::{FieldError, Status, StatusReason};

use crate::api::Resource;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{resource} {name:?} not found")]
    NotFound {
        resource: &'static Resource,
        name: String,
    },
    #[error("{resource} {name:?} already exists")]
    AlreadyExists {
        resource: &'static Resource,
        name: String,
    },
    #[error("stale resourceVersion for {resource} {name:?}")]
    Conflict {
        resource: &'static Resource,
        name: String,
    },
    #[error("{kind} {name:?} is invalid")]
    Invalid {
        kind: &'static str,
        name: String,
        errors: Vec<FieldError>,
    },
    #[error("{resource} {name:?} matches several objects")]
    Ambiguous {
        resource: &'static Resource,
        name: String,
        candidates: Vec<String>,
    },
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A server-side apply would take fields other managers hold (409, one cause per field).
    #[error("{message}")]
    ApplyConflict {
        kind: String,
        message: String,
        causes: Vec<tagstream_shared::status::StatusCause>,
        /// The object addressed, when it is not the stored object itself (an ImageStreamTag
        /// `stream:tag` applied as its stream's tag): the Status names it, as the other 409s
        /// about it do.
        about: Option<Box<(&'static Resource, String)>>,
    },
    /// Fields the server would drop, refused by `fieldValidation=Strict`.
    #[error("{kind} has unknown fields {fields:?}")]
    UnknownFields {
        kind: &'static str,
        fields: Vec<String>,
        /// Keys the body repeats within one object (`fieldValidation=Strict`).
        duplicates: Vec<String>,
        /// The body's syntax, `json` or `yaml`, as kube-apiserver names it in the message.
        syntax: &'static str,
    },
    /// A watch from a resourceVersion older than the changes kept.
    #[error("too old resource version: {asked} ({oldest})")]
    Gone { asked: u64, oldest: u64 },
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("{user} cannot {verb} {resource}")]
    Denied {
        user: String,
        verb: tagstream_shared::access::Verb,
        resource: tagstream_shared::access::Resource,
        namespace: Option<String>,
    },
    #[error("too many requests: {message}")]
    TooManyRequests { message: String, retry_after: u64 },
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// Something over a size limit; the message names the limit.
    #[error("too large: {0}")]
    TooLarge(String),
    /// Work that ran past its deadline; the message names it.
    #[error("timeout: {0}")]
    Timeout(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("no such API path: {0}")]
    NoRoute(String),
    #[error("internal error: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    /// Nothing when the body names the object the URL names (`url`); else the 400 saying both.
    pub fn unless_url_name(sent: &str, url: &str) -> ApiResult<()> {
        if sent == url {
            return Ok(());
        }
        Err(Self::BadRequest(format!(
            "the name of the object ({sent}) does not match the name on the URL ({url})"
        )))
    }

    /// As [`ApiError::unless_url_name`], but a body without a name takes the URL's.
    pub fn unless_url_name_or_unnamed(sent: &str, url: &str) -> ApiResult<()> {
        if sent.is_empty() {
            return Ok(());
        }
        Self::unless_url_name(sent, url)
    }

    /// The 422 that names the `kind` object `name`, made from the field errors a check
    /// answered (for `map_err`).
    pub fn invalid(kind: &'static str, name: &str) -> impl FnOnce(Vec<FieldError>) -> Self {
        let name = name.to_owned();
        move |errors| Self::Invalid { kind, name, errors }
    }

    /// Nothing when `errors` is empty; else the 422 that names the `kind` object `name` and
    /// every field wrong with it.
    pub fn refuse_invalid(
        kind: &'static str,
        name: &str,
        errors: Vec<FieldError>,
    ) -> ApiResult<()> {
        if errors.is_empty() {
            return Ok(());
        }
        Err(Self::Invalid {
            kind,
            name: name.into(),
            errors,
        })
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// The `Status` body, worded as the Kubernetes API server words it.
    pub fn to_status(&self) -> Status {
        match self {
            Self::NotFound { resource, name } => Status::failure(
                StatusReason::NotFound,
                format!("{resource} {name:?} not found"),
            )
            .about(resource.group, resource.plural, name),
            Self::AlreadyExists { resource, name } => Status::failure(
                StatusReason::AlreadyExists,
                format!("{resource} {name:?} already exists"),
            )
            .about(resource.group, resource.plural, name),
            Self::Conflict { resource, name } => Status::failure(
                StatusReason::Conflict,
                format!(
                    "Operation cannot be fulfilled on {resource} {name:?}: the object has been \
                     modified; please apply your changes to the latest version and try again"
                ),
            )
            .about(resource.group, resource.plural, name),
            Self::Invalid { kind, name, errors } => Status::invalid(kind, name, errors),
            Self::Ambiguous {
                resource,
                name,
                candidates,
            } => Status::failure(
                StatusReason::Conflict,
                format!(
                    "{resource} {name:?} is ambiguous: it matches {}; give more of the digest",
                    candidates.join(", ")
                ),
            )
            .about(resource.group, resource.plural, name),
            Self::BadRequest(message) => Status::failure(StatusReason::BadRequest, message.clone()),
            Self::ApplyConflict {
                kind,
                message,
                causes,
                about,
            } => {
                let mut status = Status::failure(StatusReason::Conflict, message.clone());
                status.details = Some(tagstream_shared::status::StatusDetails {
                    kind: Some(kind.clone()),
                    causes: causes.clone(),
                    ..Default::default()
                });
                match about.as_deref() {
                    Some((resource, name)) => status.about(resource.group, resource.plural, name),
                    None => status,
                }
            }
            Self::UnknownFields {
                kind,
                fields,
                duplicates,
                syntax,
            } => {
                use tagstream_shared::status::{CauseType, StatusCause};
                let named: Vec<String> = duplicates
                    .iter()
                    .map(|f| format!("{syntax}: duplicate field {f:?}"))
                    .chain(fields.iter().map(|f| format!("unknown field {f:?}")))
                    .collect();
                let mut status = Status::failure(
                    StatusReason::BadRequest,
                    format!(
                        "{kind} in the body: strict decoding error: {}",
                        named.join(", ")
                    ),
                );
                let cause = |reason, message: &str, field: &String| StatusCause {
                    reason: Some(reason),
                    message: message.into(),
                    field: Some(field.clone()),
                };
                status.details = Some(tagstream_shared::status::StatusDetails {
                    kind: Some((*kind).into()),
                    causes: duplicates
                        .iter()
                        .map(|f| {
                            let why = "duplicate field: only its last value would be kept";
                            cause(CauseType::FieldValueDuplicate, why, f)
                        })
                        .chain(fields.iter().map(|f| {
                            let why = "unknown field: the server would not keep it";
                            cause(CauseType::FieldValueInvalid, why, f)
                        }))
                        .collect(),
                    ..Default::default()
                });
                status
            }
            Self::Gone { asked, oldest } => Status::failure(
                StatusReason::Gone,
                format!(
                    "too old resource version: {asked} ({oldest}); list again and watch from \
                     the list's resourceVersion"
                ),
            ),
            Self::Unauthorized(message) => {
                Status::failure(StatusReason::Unauthorized, message.clone())
            }
            Self::Forbidden(message) => Status::failure(StatusReason::Forbidden, message.clone()),
            Self::Denied {
                user,
                verb,
                resource,
                namespace,
            } => {
                let place = namespace.as_deref().map_or_else(
                    || " at the cluster scope".to_owned(),
                    |ns| format!(" in the namespace {ns:?}"),
                );
                Status::failure(
                    StatusReason::Forbidden,
                    format!(
                        "{resource}.{group} is forbidden: User {user:?} cannot {verb} resource \
                         {plural:?} in API group {group:?}{place}",
                        resource = resource.plural(),
                        group = resource.group(),
                        plural = resource.plural(),
                    ),
                )
                .about(resource.group(), resource.plural(), "")
            }
            Self::TooManyRequests { message, .. } => {
                Status::failure(StatusReason::TooManyRequests, message.clone())
            }
            Self::UnsupportedMediaType(message) => {
                Status::failure(StatusReason::UnsupportedMediaType, message.clone())
            }
            Self::TooLarge(message) => {
                Status::failure(StatusReason::RequestEntityTooLarge, message.clone())
            }
            Self::Timeout(message) => Status::failure(StatusReason::Timeout, message.clone()),
            Self::MethodNotAllowed => Status::failure(
                StatusReason::MethodNotAllowed,
                "the server does not allow this method on the requested resource",
            ),
            Self::NoRoute(path) => Status::failure(
                StatusReason::NotFound,
                format!("the server could not find the requested resource ({path})"),
            ),
            Self::Internal(_) => Status::failure(
                StatusReason::InternalError,
                "an internal error occurred; the server log has the details",
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(err) = &self {
            tracing::error!(error = %err, source = ?err.source(), "internal error");
        }
        let mut response = status_response(self.to_status());
        if let Self::TooManyRequests { retry_after, .. } = &self {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(*retry_after),
            );
        }
        if let Self::Unauthorized(_) = &self {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"tagstream\""),
            );
        }
        response
    }
}

/// A `Status` as an HTTP response with its code.
pub fn status_response(status: Status) -> Response {
    let code = StatusCode::from_u16(status.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (code, Json(status)).into_response()
}

/// The one mapping of store outcomes: missing is 404, taken 409 AlreadyExists, stale 409
/// Conflict, each naming the resource and object the store named; the rest is internal.
impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound { resource, name } => Self::NotFound { resource, name },
            StoreError::AlreadyExists { resource, name } => Self::AlreadyExists { resource, name },
            StoreError::Conflict { resource, name } => Self::Conflict { resource, name },
            e @ StoreError::TooLarge { .. } => Self::TooLarge(format!(
                "{e}: remove some of it first (tags, annotations, history), or split it"
            )),
            StoreError::NoProject { name } => Self::NotFound {
                resource: &crate::api::PROJECTS,
                name,
            },
            other => Self::Internal(Box::new(other)),
        }
    }
}
