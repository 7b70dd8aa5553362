//! `/apis/template.openshift.io/v1/namespaces/{ns}/templates`: list, create, get, replace,
//! delete; and `processedtemplates`, which processes the template in the body with the shared
//! engine and stores nothing. Every answer is JSON, or YAML for `Accept: application/yaml`.

use crate::access::Need;
use crate::api::routes::Routes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use tagstream_shared::access::{Resource as R, Verb as V};
use tagstream_shared::template::API_VERSION;
use tagstream_shared::template::process::validate_template;
use tagstream_shared::{FieldError, List, ProjectName, Template, TemplateName};

use super::accept::Accept;
use super::{NsPath, TEMPLATES, TemplatePath};
use crate::app::AppState;
use crate::body::{Body, Names};
use crate::error::{ApiError, ApiResult};
use crate::template_service;
use crate::watch::{ListOptions, Scope, list_or_watch};

pub fn routes() -> Routes {
    const IN: &str = "/apis/template.openshift.io/v1/namespaces/{ns}/templates";
    const ONE: &str = "/apis/template.openshift.io/v1/namespaces/{ns}/templates/{name}";
    Routes::new()
        .get(
            IN,
            Need::Project {
                verb: V::List,
                resource: R::Templates,
                param: "ns",
            },
            list_templates,
        )
        .post(
            IN,
            Need::Project {
                verb: V::Create,
                resource: R::Templates,
                param: "ns",
            },
            create_template,
        )
        .get(
            ONE,
            Need::Project {
                verb: V::Get,
                resource: R::Templates,
                param: "ns",
            },
            get_template,
        )
        .put(
            ONE,
            Need::Project {
                verb: V::Update,
                resource: R::Templates,
                param: "ns",
            },
            replace_template,
        )
        .delete(
            ONE,
            Need::Project {
                verb: V::Delete,
                resource: R::Templates,
                param: "ns",
            },
            delete_template,
        )
        .post(
            "/apis/template.openshift.io/v1/namespaces/{ns}/processedtemplates",
            Need::Project {
                verb: V::Create,
                resource: R::ProcessedTemplates,
                param: "ns",
            },
            create_processed_template,
        )
}

fn invalid(name: &str, errors: Vec<FieldError>) -> ApiResult<()> {
    match errors.is_empty() {
        true => Ok(()),
        false => Err(ApiError::Invalid {
            kind: Template::KIND,
            name: name.into(),
            errors,
        }),
    }
}

/// The project must exist before anything is done in it.
pub(super) async fn require_project(state: &AppState, ns: &ProjectName) -> ApiResult<()> {
    state
        .store
        .get_project(ns)
        .await
        .map(|_| ())
        .map_err(|e| ApiError::from(e))
}

async fn list_templates(
    State(state): State<AppState>,
    Names(NsPath(ns)): Names<NsPath>,
    accept: Accept,
    options: ListOptions,
) -> ApiResult<Response> {
    require_project(&state, &ns).await?;
    let listed = state.store.list_templates(&ns).await?;
    let list = List::new(
        Template::KIND,
        API_VERSION,
        listed.resource_version.to_string(),
        listed.items,
    );
    if options.watch {
        let scope = Scope::project(TEMPLATES.plural, ns.as_str());
        return list_or_watch(&state, options, scope, list).await;
    }
    Ok(accept.respond(StatusCode::OK, &list))
}

async fn create_template(
    State(state): State<AppState>,
    Names(NsPath(ns)): Names<NsPath>,
    accept: Accept,
    Body(template): Body<Template>,
) -> ApiResult<Response> {
    let name_text = template.metadata.name().to_owned();
    invalid(&name_text, validate_template(&template))?;
    invalid(
        &name_text,
        template_service::namespace_errors(&template.metadata, &ns),
    )?;
    let name: TemplateName = name_text
        .parse()
        .map_err(|e| ApiError::BadRequest(format!("invalid name: {e}")))?;
    let template = template_service::template_for_create(template, &ns, state.clock.now());
    let created = state.store.create_template(&ns, &name, template).await?;
    tracing::info!(namespace = %ns, template = %name, "template created");
    Ok(accept.respond(StatusCode::CREATED, &created))
}

async fn get_template(
    State(state): State<AppState>,
    Names(TemplatePath(ns, name)): Names<TemplatePath>,
    accept: Accept,
) -> ApiResult<Response> {
    let template = state.store.get_template(&ns, &name).await?;
    Ok(accept.respond(StatusCode::OK, &template))
}

async fn replace_template(
    State(state): State<AppState>,
    Names(TemplatePath(ns, name)): Names<TemplatePath>,
    accept: Accept,
    Body(template): Body<Template>,
) -> ApiResult<Response> {
    if template.metadata.name() != name.as_str() {
        return Err(ApiError::BadRequest(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            template.metadata.name()
        )));
    }
    invalid(name.as_str(), validate_template(&template))?;
    let expected = template_service::expected_version(
        Template::KIND,
        name.as_str(),
        template.metadata.resource_version.as_deref(),
    )?;
    let old = state.store.get_template(&ns, &name).await?;
    let new = template_service::template_for_update(template, &old);
    let updated = state
        .store
        .update_template(&ns, &name, expected, new)
        .await?;
    tracing::info!(namespace = %ns, template = %name, "template replaced");
    Ok(accept.respond(StatusCode::OK, &updated))
}

async fn delete_template(
    State(state): State<AppState>,
    Names(TemplatePath(ns, name)): Names<TemplatePath>,
    accept: Accept,
) -> ApiResult<Response> {
    let deleted = state.store.delete_template(&ns, &name).await?;
    tracing::info!(namespace = %ns, template = %name, "template deleted");
    Ok(accept.respond(StatusCode::OK, &deleted))
}

/// Processes the template in the body: the answer is the template with its objects processed and
/// every parameter's final value, generated ones included. Missing required parameters are a
/// 422 with one cause per parameter; so is a value or an output over the engine's limits.
async fn create_processed_template(
    State(state): State<AppState>,
    Names(NsPath(ns)): Names<NsPath>,
    accept: Accept,
    Body(template): Body<Template>,
) -> ApiResult<Response> {
    require_project(&state, &ns).await?;
    let name = template.metadata.name().to_owned();
    let mut errors = validate_template(&template);
    errors.retain(|e| e.field != "metadata.name");
    invalid(&name, errors)?;
    let processed = template_service::process_bounded(template)
        .await?
        .map_err(|errors| ApiError::Invalid {
            kind: Template::KIND,
            name: name.clone(),
            errors,
        })?;
    Ok(accept.respond(StatusCode::CREATED, &processed))
}
