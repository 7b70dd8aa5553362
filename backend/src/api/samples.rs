//! `/apis/samples.operator.openshift.io/v1/configs/cluster`: the samples config. A change is
//! applied at once (as the samples operator reacts to its Config) and again at every start.

use crate::access::Need;
use crate::api::field_validation::Checked;
use crate::api::routes::Routes;
use crate::audit;
use crate::services;
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use tagstream_shared::samples::CONFIG_NAME;
use tagstream_shared::{FieldError, SamplesConfig};

use super::accept::Accept;
use crate::app::AppState;
use crate::error::{ApiError, ApiResult};
use crate::samples::{self, SamplesError};

pub fn routes() -> Routes {
    const ONE: &str = "/apis/samples.operator.openshift.io/v1/configs/cluster";
    Routes::new()
        .get(ONE, Need::SignedIn, get_samples_config)
        .put(ONE, Need::ClusterAdmin, replace_samples_config)
}

fn samples_error(e: SamplesError) -> ApiError {
    match e {
        SamplesError::Store(e) => ApiError::from(e),
        other => ApiError::Internal(Box::new(other)),
    }
}

/// Checks what a user may write: a registry host, and names in the skipped lists.
fn validate(config: &SamplesConfig) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let registry = &config.spec.samples_registry;
    let host_ok = registry
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']' | b'/'));
    if !host_ok || registry.starts_with('/') || registry.ends_with('/') {
        errors.push(FieldError::invalid(
            "spec.samplesRegistry",
            registry,
            "must be a registry host[:port], optionally with a path (e.g. mirror.example.com:5000)",
        ));
    }
    errors.extend(misnamed::<tagstream_shared::StreamName>(
        "spec.skippedImagestreams",
        &config.spec.skipped_imagestreams,
        "must be an image stream name",
    ));
    errors.extend(misnamed::<tagstream_shared::TemplateName>(
        "spec.skippedTemplates",
        &config.spec.skipped_templates,
        "must be a template name",
    ));
    errors
}

/// A field error for each entry of the list at `field` that is not a `T` name.
fn misnamed<'a, T: std::str::FromStr>(
    field: &'a str,
    names: &'a [String],
    message: &'a str,
) -> impl Iterator<Item = FieldError> + 'a {
    names
        .iter()
        .enumerate()
        .filter(|(_, name)| name.parse::<T>().is_err())
        .map(move |(i, name)| FieldError::invalid(format!("{field}[{i}]"), name, message))
}

async fn get_samples_config(State(state): State<AppState>, accept: Accept) -> ApiResult<Response> {
    let config = samples::current_config(&state).await?;
    Ok(accept.respond(StatusCode::OK, &config))
}

/// Replaces the spec (the status is the server's) and applies it.
async fn replace_samples_config(
    State(state): State<AppState>,
    Extension(actor): Extension<audit::Actor>,
    accept: Accept,
    Checked(config): Checked<SamplesConfig>,
) -> ApiResult<Response> {
    ApiError::unless_url_name_or_unnamed(config.metadata.name(), CONFIG_NAME)?;
    let errors = validate(&config);
    if !errors.is_empty() {
        return Err(ApiError::Invalid {
            kind: SamplesConfig::KIND,
            name: CONFIG_NAME.into(),
            errors,
        });
    }
    let expected = match config.metadata.resource_version.as_deref() {
        None | Some("") => None,
        Some(rv) => Some(rv.parse::<u64>().map_err(|_| ApiError::Invalid {
            kind: SamplesConfig::KIND,
            name: CONFIG_NAME.into(),
            errors: vec![FieldError::invalid(
                "metadata.resourceVersion",
                rv,
                "must be the resourceVersion the object was read at",
            )],
        })?),
    };
    let mut stored = samples::current_config(&state).await?;
    stored.spec = config.spec;
    services::templates::put_samples_config(&*state.store, &actor, expected, stored).await?;
    let applied = samples::reconcile(&state, &actor)
        .await
        .map_err(samples_error)?;
    tracing::info!(
        state = applied.spec.management_state.as_str(),
        "samples config replaced"
    );
    Ok(accept.respond(StatusCode::OK, &applied))
}
