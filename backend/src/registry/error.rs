//! What can go wrong talking to a registry, and how each failure reads on a tag's
//! `ImportSuccess=False` condition and in an import's per-image `Status`.

use tagstream_shared::StatusReason;

#[derive(Debug, Clone, thiserror::Error)]
pub enum RegistryError {
    #[error(
        "importing from registry {0} is not allowed: it is not in the [[registries]] list of the server's configuration"
    )]
    NotAllowed(String),
    #[error(
        "refusing to connect to {0}: it is not a public address and no registry is listed by that exact address and port"
    )]
    AddressRefused(String),
    #[error("{0}")]
    BadReference(String),
    #[error("{what} not found in {registry}")]
    NotFound { registry: String, what: String },
    #[error("{registry} refused the credentials or requires them: {message}")]
    Unauthorized { registry: String, message: String },
    #[error("{registry} answered {code} after {attempts} attempts")]
    Server {
        registry: String,
        code: u16,
        attempts: usize,
    },
    #[error(
        "{registry} is rate limiting requests (429) and did not recover after {attempts} attempts"
    )]
    RateLimited { registry: String, attempts: usize },
    #[error("cannot reach {registry}: {message}")]
    Unreachable { registry: String, message: String },
    #[error("{registry} took longer than {seconds} s to answer")]
    Timeout { registry: String, seconds: u64 },
    #[error("{what} is larger than {limit} bytes; refusing to read it")]
    TooLarge { what: String, limit: u64 },
    #[error("{what} does not match its digest: expected {expected}, got {actual}")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },
    #[error("unsupported manifest media type {0:?}")]
    UnsupportedMediaType(String),
    #[error("{what} is not valid: {message}")]
    Malformed { what: String, message: String },
    #[error("the manifest list has no image for platform {platform}")]
    NoPlatform { platform: String },
}

impl RegistryError {
    /// The reason a condition and a per-image Status carry.
    pub fn reason(&self) -> StatusReason {
        match self {
            Self::NotAllowed(_) | Self::AddressRefused(_) => StatusReason::Forbidden,
            Self::BadReference(_) => StatusReason::BadRequest,
            Self::NotFound { .. } | Self::NoPlatform { .. } => StatusReason::NotFound,
            Self::Unauthorized { .. } => StatusReason::Unauthorized,
            Self::RateLimited { .. } => StatusReason::TooManyRequests,
            Self::Unreachable { .. } | Self::Server { .. } => StatusReason::ServiceUnavailable,
            Self::Timeout { .. } => StatusReason::Timeout,
            Self::TooLarge { .. } => StatusReason::RequestEntityTooLarge,
            Self::UnsupportedMediaType(_) => StatusReason::UnsupportedMediaType,
            Self::DigestMismatch { .. } | Self::Malformed { .. } => StatusReason::InternalError,
        }
    }

    /// Worth trying again later (the registry may recover), as opposed to a refusal that only a
    /// change of configuration or reference fixes. Both are retried with backoff; this only
    /// tells people which it is.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Server { .. }
                | Self::RateLimited { .. }
                | Self::Unreachable { .. }
                | Self::Timeout { .. }
        )
    }
}
