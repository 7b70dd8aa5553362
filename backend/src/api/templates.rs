//! `/apis/template.openshift.io/v1/namespaces/{ns}/templates`: list, create, get, replace,
//! delete by the generic handlers (`api::objects`); and `processedtemplates`, which processes
//! the template in the body with the shared engine and stores nothing. Every answer is JSON, or
//! YAML for `Accept: application/yaml`.

use crate::access::Need;
use crate::api::field_validation::Checked;
use crate::api::routes::Routes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use tagstream_shared::Template;
use tagstream_shared::access::{Resource as R, Verb as V};
use tagstream_shared::template::process::validate_template;

use super::accept::Accept;
use super::{NsPath, PROCESSEDTEMPLATES};
use crate::app::AppState;
use crate::body::Names;
use crate::error::{ApiError, ApiResult};
use crate::template_service;

pub fn routes() -> Routes {
    super::objects::routes::<Template>().post(
        PROCESSEDTEMPLATES.collection_route,
        Need::in_project(V::Create, R::ProcessedTemplates),
        create_processed_template,
    )
}

/// Processes the template in the body: the answer is the template with its objects processed and
/// every parameter's final value, generated ones included. Missing required parameters are a
/// 422 with one cause per parameter; so is a value or an output over the engine's limits.
async fn create_processed_template(
    State(state): State<AppState>,
    Names(NsPath(ns)): Names<NsPath>,
    accept: Accept,
    Checked(template): Checked<Template>,
) -> ApiResult<Response> {
    super::objects::require_project(&state, &ns).await?;
    let name = template.metadata.name().to_owned();
    let mut errors = validate_template(&template);
    errors.retain(|e| e.field != "metadata.name");
    ApiError::refuse_invalid(Template::KIND, &name, errors)?;
    let processed = template_service::process_bounded(template)
        .await?
        .map_err(ApiError::invalid(Template::KIND, &name))?;
    Ok(accept.respond(StatusCode::CREATED, &processed))
}
