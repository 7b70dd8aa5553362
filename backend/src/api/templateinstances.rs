//! `/apis/template.openshift.io/v1/namespaces/{ns}/templateinstances`: instantiate (create),
//! list, get (generic), merge or JSON patch of labels and annotations, delete. Creating
//! processes `spec.template` with the values in its `parameters[].value`, creates every
//! ImageStream among the objects in the project and records the instance, in one transaction;
//! the answer carries the other objects as a `List` in `status.manifests` (JSON, or YAML with
//! `Accept: application/yaml`).

use crate::access::Need;
use crate::api::field_validation::{Checked, FieldValidation, WriteRequest};
use crate::api::routes::Routes;
use crate::audit;
use crate::services;
use crate::store::Objects as _;
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use tagstream_shared::access::{Resource as R, Verb as V};
use tagstream_shared::{FieldError, TemplateInstance, TemplateName};

use super::accept::Accept;
use super::merge_patch;
use super::objects::{ObjectPath, require_project, shown, write};
use super::{IMAGESTREAMS, NsPath, TEMPLATEINSTANCES, TemplatePath};
use crate::app::AppState;
use crate::auth::Caller;
use crate::body::{Names, RawBody};
use crate::error::{ApiError, ApiResult};
use crate::source_access::{Actor, authorize_sources};
use crate::store::StoreError;
use crate::template_service::{self, generated_name, plan_instance, validate_instance_template};

pub fn routes() -> Routes {
    const IN: &str = TEMPLATEINSTANCES.collection_route;
    const ONE: &str = TEMPLATEINSTANCES.item_route;
    let need = |verb| Need::in_project(verb, R::TemplateInstances);
    // Reads are generic (the kind masks generated values on every read); creating
    // instantiates, deleting goes through the instance's service.
    super::objects::routes_for::<TemplateInstance>(&[V::List, V::Get])
        .post(IN, need(V::Create), create_template_instance)
        .patch(ONE, need(V::Patch), patch_template_instance)
        .delete(ONE, need(V::Delete), delete_template_instance)
}

/// A merge or JSON patch (kubectl apply, edit, label) changes an instance's labels and
/// annotations; a change to its `spec` (as a read shows it) is refused, naming it immutable,
/// as OpenShift does. The stored spec, generated values unmasked, is kept; the generic replace
/// writes the rest.
async fn patch_template_instance(
    State(state): State<AppState>,
    Extension(actor): Extension<audit::Actor>,
    Names(path): Names<ObjectPath<TemplateInstance>>,
    accept: Accept,
    fields: FieldValidation,
    patch: RawBody,
) -> ApiResult<Response> {
    let (of, actor, at) = ((&state, &fields), &actor, &path);
    let (ns, name) = (path.ns.as_ref(), path.name.as_ref());
    let written = merge_patch::patched_by(of, &patch, ns, name, |current, patched| async move {
        let (mut object, patched): (TemplateInstance, TemplateInstance) = (current, patched);
        // Both as a read shows them: kubectl sends the value typed for a generated parameter
        // again, which reads masked (review 19 P3).
        if shown(patched.clone()).spec != shown(object.clone()).spec {
            return Err(ApiError::Invalid {
                kind: TemplateInstance::KIND,
                name: name.to_owned(),
                errors: vec![FieldError {
                    value: None,
                    ..FieldError::invalid("spec", "", "field is immutable")
                }],
            });
        }
        object.metadata = patched.metadata;
        let request = WriteRequest {
            object,
            manager: None,
            dry_run: false,
        };
        write(of.0, actor, at, request).await
    })
    .await?;
    Ok(accept.respond(StatusCode::OK, &shown(written)))
}

async fn create_template_instance(
    State(state): State<AppState>,
    Extension(actor): Extension<audit::Actor>,
    Extension(caller): Extension<Caller>,
    Names(NsPath(ns)): Names<NsPath>,
    accept: Accept,
    Checked(request): Checked<TemplateInstance>,
) -> ApiResult<Response> {
    let name_text = match (
        request.metadata.name(),
        request.metadata.generate_name.as_deref(),
    ) {
        ("", Some(prefix)) if !prefix.is_empty() => generated_name(prefix),
        (name, _) => name.to_owned(),
    };
    let name: TemplateName = name_text.parse().map_err(|e| ApiError::Invalid {
        kind: TemplateInstance::KIND,
        name: name_text.clone(),
        errors: vec![match name_text.is_empty() {
            true => FieldError::required("metadata.name", "name or generateName is required"),
            false => FieldError::invalid("metadata.name", &name_text, e),
        }],
    })?;
    require_project(&state, &ns).await?;
    ApiError::refuse_invalid(
        TemplateInstance::KIND,
        name.as_str(),
        validate_instance_template(&request.spec.template),
    )?;
    // Missing required parameters and bad generators: the fields OpenShift names
    // (`template.parameters[i]`), all at once.
    let processed = template_service::process_bounded(request.spec.template.clone())
        .await?
        .map_err(ApiError::invalid(TemplateInstance::KIND, name.as_str()))?;
    let mut plan = plan_instance(request, name.as_str(), processed, &ns, state.clock.now())
        .map_err(ApiError::invalid(TemplateInstance::KIND, name.as_str()))?;
    // The same check as every other writer of spec tags: a stream following another project's
    // stream needs the caller to read that project, and records that it was allowed.
    for (_, stream) in &mut plan.streams {
        authorize_sources(&state, Actor::Caller(&caller), ns.as_str(), stream, None).await?;
    }
    // Name the stream in the way, rather than a bare conflict; the transaction below stays the
    // guarantee if one appears in between.
    for (stream_name, _) in &plan.streams {
        match state
            .store
            .get::<tagstream_shared::ImageStream>(Some(&ns), stream_name.as_ref())
            .await
        {
            Ok(_) => {
                return Err(ApiError::AlreadyExists {
                    resource: &IMAGESTREAMS,
                    name: stream_name.to_string(),
                });
            }
            Err(StoreError::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let stream_count = plan.streams.len();
    let stored = services::templates::instantiate(
        &*state.store,
        &actor,
        &ns,
        &name,
        plan.record,
        plan.streams,
    )
    .await
    // All or nothing, answered about the instance (the streams were checked above).
    .map_err(|e| ApiError::from(e.about(&TEMPLATEINSTANCES, name.as_str())))?;
    // Its streams may have tags to import or to follow now.
    state.importer.wake();
    let mut answer = plan.answer;
    answer.metadata.resource_version = stored.metadata.resource_version;
    tracing::info!(namespace = %ns, instance = %name, streams = stream_count, "template instantiated");
    Ok(accept.respond(StatusCode::CREATED, &answer))
}

async fn delete_template_instance(
    State(state): State<AppState>,
    Extension(actor): Extension<audit::Actor>,
    Names(TemplatePath(ns, name)): Names<TemplatePath>,
    accept: Accept,
) -> ApiResult<Response> {
    let mut deleted =
        services::templates::remove_instance(&*state.store, &actor, &ns, &name).await?;
    deleted.mask_generated();
    tracing::info!(namespace = %ns, instance = %name, "template instance deleted");
    Ok(accept.respond(StatusCode::OK, &deleted))
}
