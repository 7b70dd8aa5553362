//! The Kubernetes `Status` object: the one shape every error takes on the wire.

use serde::{Deserialize, Serialize};

use crate::validation::FieldError;

/// Why a request failed, as Kubernetes names it (`StatusReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub enum StatusReason {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    AlreadyExists,
    Conflict,
    Gone,
    Invalid,
    MethodNotAllowed,
    NotAcceptable,
    RequestEntityTooLarge,
    UnsupportedMediaType,
    TooManyRequests,
    InternalError,
    ServiceUnavailable,
    Timeout,
    /// A reason this build does not know (a newer server); shown by its message.
    #[serde(other)]
    Unknown,
}

impl StatusReason {
    /// The HTTP status code Kubernetes pairs with the reason.
    pub fn code(self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::Unauthorized => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::NotAcceptable => 406,
            Self::AlreadyExists | Self::Conflict => 409,
            Self::Gone => 410,
            Self::RequestEntityTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::Invalid => 422,
            Self::TooManyRequests => 429,
            Self::InternalError | Self::Unknown => 500,
            Self::ServiceUnavailable => 503,
            Self::Timeout => 504,
        }
    }
}

/// What is wrong with one field (`CauseType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub enum CauseType {
    FieldValueNotFound,
    FieldValueRequired,
    FieldValueDuplicate,
    FieldValueInvalid,
    FieldValueNotSupported,
    FieldValueForbidden,
    FieldValueTooLong,
    FieldValueTooMany,
    /// A server-side apply would take a field another field manager holds.
    FieldManagerConflict,
    #[serde(other)]
    Unknown,
}

crate::meta::wire_struct! {
    /// One cause of a failure, naming the field it concerns (`spec.tags[0].name`).
    #[derive(Eq)]
    pub struct StatusCause {
        /// What is wrong with the field (`FieldValueInvalid`).
        pub reason?: Option<CauseType>,
        /// What is wrong, for people.
        pub message: String = default,
        /// The field concerned, as a path (`spec.tags[0].name`).
        pub field?: Option<String>,
    }

    /// Which object a failure concerns, and its causes.
    #[derive(Default, Eq)]
    pub struct StatusDetails {
        /// The name of the object concerned.
        pub name?: Option<String>,
        /// The API group of the object concerned.
        pub group?: Option<String>,
        /// The resource of the object concerned (`imagestreams`).
        pub kind?: Option<String>,
        /// Each problem found, naming its field.
        pub causes?: Vec<StatusCause>,
    }

    /// The body of every error response.
    #[derive(Eq)]
    pub struct Status {
        /// `Status`.
        pub kind: String,
        /// `v1`.
        pub api_version: String,
        /// Always empty.
        pub metadata: serde_json::Map<String, serde_json::Value> = default,
        /// `Failure` or `Success`.
        pub status: String,
        /// What happened, for people.
        pub message: String = default,
        /// Why it failed, for programs (`NotFound`, `Conflict`, `Invalid`...).
        pub reason: StatusReason,
        /// Which object is concerned, and each problem found.
        pub details?: Option<StatusDetails>,
        /// The HTTP status code of the answer.
        pub code: u16,
    }
}

impl Status {
    /// A failure with a reason and a message for people.
    pub fn failure(reason: StatusReason, message: impl Into<String>) -> Self {
        Self {
            kind: "Status".into(),
            api_version: "v1".into(),
            metadata: serde_json::Map::new(),
            status: "Failure".into(),
            message: message.into(),
            reason,
            details: None,
            code: reason.code(),
        }
    }

    /// `status: Success`, as an import answers for each image that worked.
    pub fn success() -> Self {
        Self {
            status: "Success".into(),
            code: 200,
            ..Self::failure(StatusReason::Unknown, "")
        }
    }

    /// Names the object concerned: its `group`, `kind` (the resource, as Kubernetes does) and name.
    pub fn about(mut self, group: &str, kind: &str, name: &str) -> Self {
        let details = self.details.get_or_insert_with(StatusDetails::default);
        details.group = Some(group.into());
        details.kind = Some(kind.into());
        details.name = Some(name.into());
        self
    }

    /// A 422 Invalid naming every bad field, worded as Kubernetes does:
    /// `ImageStream "Ruby" is invalid: [metadata.name: Invalid value: ...]`.
    pub fn invalid(kind: &str, name: &str, errors: &[FieldError]) -> Self {
        let listed: Vec<String> = errors.iter().map(ToString::to_string).collect();
        let joined = match listed.as_slice() {
            [one] => one.clone(),
            _ => format!("[{}]", listed.join(", ")),
        };
        let mut status = Self::failure(
            StatusReason::Invalid,
            format!("{kind} {name:?} is invalid: {joined}"),
        );
        status.details = Some(StatusDetails {
            name: Some(name.into()),
            kind: Some(kind.into()),
            group: None,
            causes: errors.iter().map(FieldError::to_cause).collect(),
        });
        status
    }

    /// The causes that name `field` exactly, for showing next to a form input.
    pub fn causes_for<'a>(&'a self, field: &'a str) -> impl Iterator<Item = &'a StatusCause> + 'a {
        self.details
            .iter()
            .flat_map(|d| d.causes.iter())
            .filter(move |c| c.field.as_deref() == Some(field))
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Status {}
