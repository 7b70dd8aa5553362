//! `/apis/tagstream.io/v1/namespaces/{ns}/triggers`: webhooks that follow a stream tag or a
//! stream (list and watch, create, get, replace, merge or JSON patch, delete), each one's
//! delivery log, and Redeliver. A secret is taken on create, replace and patch and never
//! answered.

use crate::api::field_validation::{Checked, FieldValidation};
use crate::audit;
use crate::store::Objects as _;
use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use tagstream_shared::access::{Resource as R, Verb as V};
use tagstream_shared::trigger::{API_VERSION, Delivery, Trigger, validate_trigger};
use tagstream_shared::{FieldError, List, ProjectName, Time, TriggerName};

use super::{NsPath, merge_patch};
use crate::access::Need;
use crate::api::routes::Routes;
use crate::app::AppState;
use crate::body::{FromPath, Names, RawBody, param};
use crate::error::{ApiError, ApiResult};
use crate::store::DELIVERIES_RESOURCE;
use crate::watch::{ListOptions, Scope, list_or_watch};

/// The most deliveries a log answers.
const LOG_LIMIT: u32 = 100;

pub fn routes() -> Routes {
    const IN: &str = "/apis/tagstream.io/v1/namespaces/{ns}/triggers";
    const ONE: &str = "/apis/tagstream.io/v1/namespaces/{ns}/triggers/{name}";
    const LOG: &str = "/apis/tagstream.io/v1/namespaces/{ns}/triggers/{name}/deliveries";
    const REDELIVER: &str =
        "/apis/tagstream.io/v1/namespaces/{ns}/triggers/{name}/deliveries/{delivery}/redeliver";
    let need = |verb| Need::in_project(verb, R::Triggers);
    // Reading is plain; writes keep the webhook secret apart from the stored object.
    super::objects::routes_for::<Trigger>(&[V::List, V::Get])
        .post(IN, need(V::Create), create_trigger)
        .put(ONE, need(V::Update), replace_trigger)
        .patch(ONE, need(V::Patch), patch_trigger)
        .delete(ONE, need(V::Delete), delete_trigger)
        .get(LOG, need(V::Get), list_deliveries)
        .post(REDELIVER, need(V::Update), redeliver)
}

/// `{ns}` and `{name}` of a trigger.
#[derive(Debug)]
struct TriggerPath(ProjectName, TriggerName);

impl FromPath for TriggerPath {
    fn from_path(p: Vec<(String, String)>) -> Result<Self, ApiError> {
        Ok(Self(param(&p, "ns")?, param(&p, "name")?))
    }
}

/// `{ns}`, `{name}` and `{delivery}` (an id) of one delivery.
#[derive(Debug)]
struct DeliveryPath(ProjectName, TriggerName, String);

impl FromPath for DeliveryPath {
    fn from_path(p: Vec<(String, String)>) -> Result<Self, ApiError> {
        let id = p
            .iter()
            .find(|(k, _)| k == "delivery")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        Ok(Self(param(&p, "ns")?, param(&p, "name")?, id))
    }
}

/// Validation, and the SSRF rules as far as they can be told without resolving a name.
fn check(state: &AppState, trigger: &Trigger, creating: bool) -> ApiResult<()> {
    let name = trigger.metadata.name();
    ApiError::refuse_invalid(Trigger::KIND, name, validate_trigger(trigger, creating))?;
    let url = &trigger.spec.webhook.url;
    if let Err(why) = state.deliverer.sender.check_without_dns(url) {
        ApiError::refuse_invalid(
            Trigger::KIND,
            name,
            vec![FieldError::invalid("spec.webhook.url", url, why)],
        )?;
    }
    Ok(())
}

/// What the server keeps of a trigger as written: its identity and spec, no secret.
fn stored(mut trigger: Trigger, ns: &ProjectName, old: Option<&Trigger>) -> Trigger {
    trigger.kind = Trigger::KIND.into();
    trigger.api_version = API_VERSION.into();
    trigger.spec.webhook.secret = None;
    let meta = &mut trigger.metadata;
    meta.namespace = Some(ns.to_string());
    meta.generate_name = None;
    meta.keep_server_owned(old.map(|old| &old.metadata));
    match old {
        Some(old) => {
            meta.uid.clone_from(&old.metadata.uid);
            meta.creation_timestamp = old.metadata.creation_timestamp;
            meta.generation = Some(old.metadata.generation.unwrap_or(1) + 1);
        }
        None => {
            meta.uid = Some(uuid::Uuid::new_v4().to_string());
            meta.creation_timestamp = Some(Time::now());
            meta.generation = Some(1);
        }
    }
    trigger
}

async fn create_trigger(
    State(state): State<AppState>,
    Extension(actor): Extension<audit::Actor>,
    Names(NsPath(ns)): Names<NsPath>,
    Checked(trigger): Checked<Trigger>,
) -> ApiResult<(StatusCode, Json<Trigger>)> {
    check(&state, &trigger, true)?;
    let name = trigger.metadata.name().to_owned();
    let secret = trigger.spec.webhook.secret.clone().unwrap_or_default();
    let created = state
        .store
        .create_trigger(&actor, &ns, stored(trigger, &ns, None), secret)
        .await?;
    tracing::info!(namespace = %ns, trigger = %name, "trigger created");
    Ok((StatusCode::CREATED, Json(created)))
}

async fn replace_trigger(
    State(state): State<AppState>,
    Extension(actor): Extension<audit::Actor>,
    Names(TriggerPath(ns, name)): Names<TriggerPath>,
    Checked(trigger): Checked<Trigger>,
) -> ApiResult<Json<Trigger>> {
    Ok(Json(replaced(&state, &actor, (&ns, &name), trigger).await?))
}

/// A merge or JSON patch (kubectl apply, edit, label), written as a replace: a patch that sets
/// `spec.webhook.secret` replaces the secret, one that does not keeps it (the stored trigger
/// has none to patch).
async fn patch_trigger(
    State(state): State<AppState>,
    Extension(actor): Extension<audit::Actor>,
    Names(TriggerPath(ns, name)): Names<TriggerPath>,
    fields: FieldValidation,
    patch: RawBody,
) -> ApiResult<Json<Trigger>> {
    let (of, at) = ((&state, &fields), (&ns, &name));
    let actor = &actor;
    let patched = merge_patch::patched_by(of, &patch, Some(&ns), name.as_str(), |_, trigger| {
        replaced(&state, actor, at, trigger)
    })
    .await?;
    Ok(Json(patched))
}

/// Writes `trigger` over the stored one at the resourceVersion it carries; its secret, when
/// it has one, replaces the stored secret.
async fn replaced(
    state: &AppState,
    actor: &audit::Actor,
    (ns, name): (&ProjectName, &TriggerName),
    trigger: Trigger,
) -> ApiResult<Trigger> {
    ApiError::unless_url_name(trigger.metadata.name(), name.as_str())?;
    check(state, &trigger, false)?;
    let expected = crate::template_service::expected_version(
        Trigger::KIND,
        name.as_str(),
        trigger.metadata.resource_version.as_deref(),
    )?;
    let old = state
        .store
        .get::<Trigger>(Some(ns), name.as_str().as_ref())
        .await?;
    let secret = trigger
        .spec
        .webhook
        .secret
        .clone()
        .filter(|s| !s.is_empty());
    let updated = state
        .store
        .update_trigger(
            actor,
            ns,
            name.as_str(),
            expected,
            stored(trigger, ns, Some(&old)),
            secret,
        )
        .await?;
    tracing::info!(namespace = %ns, trigger = %name, "trigger replaced");
    Ok(updated)
}

async fn delete_trigger(
    State(state): State<AppState>,
    Extension(actor): Extension<audit::Actor>,
    Names(TriggerPath(ns, name)): Names<TriggerPath>,
) -> ApiResult<Json<Trigger>> {
    let deleted = state
        .store
        .delete_trigger(&actor, &ns, name.as_str())
        .await?;
    tracing::info!(namespace = %ns, trigger = %name, "trigger deleted");
    Ok(Json(deleted))
}

/// The trigger's deliveries, newest first (at most 100).
/// With `?watch=true`, every new delivery and attempt in the project from then on (the console
/// reloads the trigger's log when one arrives).
async fn list_deliveries(
    State(state): State<AppState>,
    Names(TriggerPath(ns, name)): Names<TriggerPath>,
    options: ListOptions,
) -> ApiResult<Response> {
    state
        .store
        .get::<Trigger>(Some(&ns), name.as_str().as_ref())
        .await?;
    let listed = state
        .store
        .list_deliveries(&ns, name.as_str(), LOG_LIMIT)
        .await?;
    let list = List::new(
        Delivery::KIND,
        API_VERSION,
        listed.resource_version.to_string(),
        listed.items,
    );
    list_or_watch(
        &state,
        options,
        Scope::project(DELIVERIES_RESOURCE, ns.as_str()),
        list,
    )
    .await
}

/// Sends a delivery's event again: a new delivery with the same event id, due now.
async fn redeliver(
    State(state): State<AppState>,
    Names(DeliveryPath(ns, name, id)): Names<DeliveryPath>,
) -> ApiResult<(StatusCode, Json<Delivery>)> {
    let delivery = state
        .store
        .redeliver(&ns, name.as_str(), &id, Time::now().timestamp())
        .await?;
    tracing::info!(namespace = %ns, trigger = %name, delivery = %id, "redelivery queued");
    Ok((StatusCode::CREATED, Json(delivery)))
}
