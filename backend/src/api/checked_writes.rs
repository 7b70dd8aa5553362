//! The write path of kinds whose writes are checked by hand (teams, role bindings, users):
//! one create, replace (or patch) and delete sequence (load → authorize → change → store →
//! answer), with a [`WriteHooks`] implementation per kind for the steps where it differs: a
//! role binding's escalation check, a team's member list, the fields of a user a replace may
//! change.
//!
//! Unlike the generic handlers of [`super::objects`], these writes take no dry run and record
//! no `managedFields`: their wire format is as it was when each kind had its own handlers.

use axum::Json;
use axum::extract::{FromRequestParts, Path};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use tagstream_shared::access::Verb as V;
use tagstream_shared::object::Kind;
use tagstream_shared::{ObjectMeta, ProjectName, Time};

use super::field_validation::{Checked, FieldValidation};
use super::merge_patch;
use super::routes::Routes;
use super::users::expected_version;
use crate::app::AppState;
use crate::audit;
use crate::auth::Caller;
use crate::body::RawBody;
use crate::error::{ApiError, ApiResult};
use crate::store::Objects as _;

/// A checked write as every handler here takes it: the state, who acts, the caller, and the
/// path's project (none for a cluster-wide kind) and name (empty on a create).
pub(super) struct WriteCall {
    state: AppState,
    actor: audit::Actor,
    caller: Caller,
    ns: Option<ProjectName>,
    name: String,
}

impl FromRequestParts<AppState> for WriteCall {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let missing = |what: &str| ApiError::Internal(format!("no {what} on the request").into());
        let actor = parts.extensions.get::<audit::Actor>().cloned();
        let caller = parts.extensions.get::<Caller>().cloned();
        let Path(params) = Path::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::BadRequest(e.body_text()))?;
        let (ns, name) = scope_and_name(params)?;
        Ok(Self {
            state: state.clone(),
            actor: actor.ok_or_else(|| missing("actor"))?,
            caller: caller.ok_or_else(|| missing("caller"))?,
            ns,
            name,
        })
    }
}

impl WriteCall {
    fn at(&self) -> WriteAt<'_> {
        WriteAt::new(&self.state, &self.caller, self.ns.as_ref())
    }
}

/// Who writes, and where: the caller, and the project of a namespaced kind.
pub(super) struct WriteAt<'a> {
    pub state: &'a AppState,
    pub caller: &'a Caller,
    pub ns: Option<&'a ProjectName>,
}

impl<'a> WriteAt<'a> {
    fn new(state: &'a AppState, caller: &'a Caller, ns: Option<&'a ProjectName>) -> Self {
        Self { state, caller, ns }
    }

    /// The stored object `name`, if the caller may change it.
    async fn changeable<K: WriteHooks>(&self, name: &str) -> ApiResult<K> {
        let current = self.state.store.get::<K>(self.ns, name).await?;
        K::may_change(self, &current).await?;
        Ok(current)
    }
}

/// What one kind does at the steps of the shared sequence; each step has the plain default.
pub(super) trait WriteHooks: Kind {
    /// Refuses a body before anything is loaded (its name is the URL's on a replace): invalid,
    /// or granting what the caller may not grant.
    fn admit(_at: &WriteAt<'_>, _body: &Self) -> impl Future<Output = ApiResult<()>> + Send {
        async { Ok(()) }
    }

    /// Refuses replacing or deleting `current`, as stored.
    fn may_change(
        _at: &WriteAt<'_>,
        _current: &Self,
    ) -> impl Future<Output = ApiResult<()>> + Send {
        async { Ok(()) }
    }

    /// What a create stores: the admitted body with the server's `metadata`.
    fn created(mut body: Self, metadata: ObjectMeta) -> ApiResult<Self> {
        body.set_type_meta();
        *body.metadata_mut() = metadata;
        Ok(body)
    }

    /// What a replace stores over `current`: the admitted body keeping what the caller may
    /// not change.
    fn replacement(mut body: Self, current: Self) -> ApiResult<Self> {
        body.prepare_update(&current);
        Ok(body)
    }

    /// Removes `name`, answering it as it was: the store's delete, or the kind's service where
    /// removing it changes other objects too (a team leaves the bindings that name it).
    fn remove(
        state: &AppState,
        actor: &audit::Actor,
        ns: Option<&ProjectName>,
        name: &str,
    ) -> impl Future<Output = ApiResult<Self>> + Send {
        async move { Ok(state.store.delete::<Self>(actor, ns, name).await?) }
    }

    /// How a written object is answered.
    fn answered(_state: &AppState, object: Self) -> impl Future<Output = ApiResult<Self>> + Send {
        async move { Ok(object) }
    }
}

/// The routes of `verbs` (among create, update, patch and delete) for kind `K`, each needing
/// what the kind's access rule asks for the verb (cluster admins, for a kind without one).
pub(super) fn routes<K: WriteHooks>(verbs: &[V]) -> Routes {
    let (all, one) = (K::RESOURCE.collection_route, K::RESOURCE.item_route);
    let need = super::objects::need::<K>;
    verbs
        .iter()
        .fold(Routes::new(), |routes, &verb| match verb {
            V::Create => routes.post(all, need(verb), create::<K>),
            V::Update => routes.put(one, need(verb), replace::<K>),
            V::Patch => routes.patch(one, need(verb), patch::<K>),
            V::Delete => routes.delete(one, need(verb), delete::<K>),
            _ => routes,
        })
}

/// The metadata a new object is stored with: its name, labels and annotations as sent, the
/// project it is created in, a new uid and the creation time; nothing else the client sent.
pub(super) fn created_meta(sent: &ObjectMeta, ns: Option<&ProjectName>, now: Time) -> ObjectMeta {
    ObjectMeta {
        name: Some(sent.name().to_owned()),
        namespace: ns.map(ToString::to_string),
        uid: Some(uuid::Uuid::new_v4().to_string()),
        creation_timestamp: Some(now),
        labels: sent.labels.clone(),
        annotations: sent.annotations.clone(),
        ..ObjectMeta::default()
    }
}

/// `{ns}` (absent for a cluster-wide kind) and `{name}` of the path, the name as sent.
fn scope_and_name(params: Vec<(String, String)>) -> ApiResult<(Option<ProjectName>, String)> {
    let mut ns = None;
    let mut name = String::new();
    for (key, value) in params {
        match key.as_str() {
            "ns" => {
                ns = Some(value.parse().map_err(|e| {
                    ApiError::BadRequest(format!("invalid project name {value:?}: {e}"))
                })?);
            }
            "name" => name = value,
            _ => {}
        }
    }
    Ok((ns, name))
}

async fn create<K: WriteHooks>(call: WriteCall, Checked(body): Checked<K>) -> ApiResult<Response> {
    let (at, state) = (call.at(), &call.state);
    K::admit(&at, &body).await?;
    let metadata = created_meta(body.metadata(), at.ns, state.clock.now());
    let object = K::created(body, metadata)?;
    let created = state.store.create::<K>(&call.actor, at.ns, object).await?;
    let name = created.name();
    tracing::info!(kind = K::RESOURCE.kind, namespace = ?at.ns, name, "created");
    let created = K::answered(state, created).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

async fn replace<K: WriteHooks>(call: WriteCall, Checked(body): Checked<K>) -> ApiResult<Json<K>> {
    Ok(Json(
        written(&call.at(), &call.actor, &call.name, body).await?,
    ))
}

/// A merge or JSON patch (kubectl apply, edit, label): the patched object is written as a
/// replace writes its body, so it passes the same checks (a binding's escalation check sees
/// the role the patch leaves) and changes only what a replace may change. None of these
/// kinds has a list with a merge key, so a strategic merge patch is taken as a merge patch.
async fn patch<K: WriteHooks>(
    call: WriteCall,
    fields: FieldValidation,
    patch: RawBody,
) -> ApiResult<Json<K>> {
    let at = call.at();
    let (to, actor, name) = (&at, &call.actor, call.name.as_str());
    let of = (&call.state, &fields);
    let patch = merge_patch::strategic_as_merge(patch)?;
    let patched = merge_patch::patched_by(of, &patch, at.ns, name, |_, object: K| {
        written(to, actor, name, object)
    })
    .await?;
    Ok(Json(patched))
}

/// Writes `body` over the stored object `name` (a body without a name takes the URL's), at
/// the resourceVersion it carries (the stored one, if none), as the kind's hooks allow.
async fn written<K: WriteHooks>(
    at: &WriteAt<'_>,
    actor: &audit::Actor,
    name: &str,
    mut body: K,
) -> ApiResult<K> {
    ApiError::unless_url_name_or_unnamed(body.name(), name)?;
    body.metadata_mut().name = Some(name.to_owned());
    K::admit(at, &body).await?;
    let sent = body.metadata().resource_version.clone();
    let current: K = at.changeable(name).await?;
    let stored = current.metadata().clone();
    let object = K::replacement(body, current)?;
    let expected = expected_version(K::RESOURCE.kind, sent.as_deref(), &stored)?;
    let updated = at
        .state
        .store
        .replace::<K>(actor, at.ns, name, expected, object)
        .await?;
    K::answered(at.state, updated).await
}

async fn delete<K: WriteHooks>(call: WriteCall) -> ApiResult<Json<K>> {
    let at = call.at();
    at.changeable::<K>(&call.name).await?;
    let deleted = K::remove(&call.state, &call.actor, at.ns, &call.name).await?;
    Ok(Json(deleted))
}
