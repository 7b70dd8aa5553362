//! Generic handlers for a [`Kind`] with plain behaviour: list (and watch), create, get,
//! replace, merge-patch and delete, registered with one line:
//! `.merge(objects::routes::<Template>())`. Each route's [`Need`] is derived from the kind's
//! access rule and the route's verb; only the verbs the kind declares are routed. The kind's
//! hooks (`Name`, `validate`, `prepare_create`, `prepare_update`, `SHOWN_AS`) do what differs
//! between kinds. A cluster-wide kind (no `{ns}` in its paths) is read generically; its writes
//! are its own module's.
//!
//! Kinds whose behaviour is special (image streams and their tags, imports, instantiation)
//! keep their own handlers; the writes of teams, role bindings (their escalation check) and
//! users take the hand-checked path of [`super::checked_writes`]; a kind
//! that is special only in some verbs (a trigger's writes keep its secret apart) takes the
//! generic ones for the rest with [`routes_for`] (or [`routes_needing`], for a kind whose
//! reads are guarded otherwise than by its access rule).

use std::marker::PhantomData;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use tagstream_shared::ProjectName;
use tagstream_shared::access::Verb as V;
use tagstream_shared::object::Kind;

use super::NsPath;
use super::accept::Accept;
use super::apply::ApplyOptions;
use super::dry_run::DryRun;
use super::field_validation::{FieldValidation, WriteRequest};
use super::merge_patch;
use super::routes::Routes;
use crate::access::Need;
use crate::app::AppState;
use crate::audit;
use crate::auth::Caller;
use crate::body::{BodyFormat, FromPath, Names, RawBody, param};
use crate::error::{ApiError, ApiResult};
use crate::read_cache::Point;
use crate::store::Objects as _;
use crate::template_service::expected_version;
use crate::watch::{ListOptions, Scope, list_or_watch};
use axum::Extension;

/// What `verb` on kind `K` needs: the kind's access rule in the project named by `{ns}`.
pub fn need<K: Kind>(verb: V) -> Need {
    match K::RESOURCE.access {
        Some(resource) => Need::in_project(verb, resource),
        // A kind without an access rule is the cluster admins' alone.
        None => Need::ClusterAdmin,
    }
}

/// Every route of kind `K` that its declared verbs call for.
pub fn routes<K: Kind>() -> Routes {
    routes_for::<K>(K::RESOURCE.verbs)
}

/// The routes of `verbs` among those kind `K` declares: for a kind whose other verbs are
/// special (a trigger's writes keep its secret apart) and handled by its own module.
pub fn routes_for<K: Kind>(verbs: &[V]) -> Routes {
    routes_needing::<K>(verbs, need::<K>)
}

/// [`routes_for`] with each verb's [`Need`] given (teams are read by everyone signed in).
/// A cluster-wide kind gets its reads only.
pub fn routes_needing<K: Kind>(verbs: &[V], need: impl Fn(V) -> Need) -> Routes {
    let r = K::RESOURCE;
    let writes = r.is_namespaced();
    let has = |verb| r.verbs.contains(&verb) && verbs.contains(&verb);
    let may_write = |verb| writes && has(verb);
    let (all, one) = (r.collection_route, r.item_route);
    Routes::new()
        .when(has(V::List), |r| r.get(all, need(V::List), list::<K>))
        .when(may_write(V::Create), |r| {
            r.post(all, need(V::Create), create::<K>)
        })
        .when(has(V::Get), |r| r.get(one, need(V::Get), get::<K>))
        .when(may_write(V::Update), |r| {
            r.put(one, need(V::Update), replace::<K>)
        })
        .when(may_write(V::Patch), |r| {
            r.patch(one, need(V::Patch), patch::<K>)
        })
        .when(may_write(V::Delete), |r| {
            r.delete(one, need(V::Delete), delete::<K>)
        })
}

/// `{ns}` when the route has one: a cluster-wide kind's paths have none.
#[derive(Debug)]
pub struct ScopePath(pub Option<ProjectName>);

impl FromPath for ScopePath {
    fn from_path(p: Vec<(String, String)>) -> Result<Self, ApiError> {
        let has_ns = p.iter().any(|(k, _)| k == "ns");
        Ok(Self(if has_ns { Some(param(&p, "ns")?) } else { None }))
    }
}

/// `{ns}` (none for a cluster-wide kind) and `{name}` of an object of kind `K`, the name
/// parsed as the kind's own name type; with the loader that fetches it (a missing object is
/// the 404 naming the kind).
#[derive(Debug)]
pub struct ObjectPath<K: Kind> {
    pub ns: Option<ProjectName>,
    pub name: K::Name,
    kind: PhantomData<fn() -> K>,
}

impl<K: Kind> FromPath for ObjectPath<K> {
    fn from_path(p: Vec<(String, String)>) -> Result<Self, ApiError> {
        Ok(Self {
            ns: ScopePath::from_path(p.clone())?.0,
            name: param(&p, "name")?,
            kind: PhantomData,
        })
    }
}

impl<K: Kind> ObjectPath<K> {
    /// The object the path names, as stored.
    pub async fn load(&self, state: &AppState) -> ApiResult<K> {
        Ok(state
            .store
            .get::<K>(self.ns.as_ref(), self.name.as_ref())
            .await?)
    }

    /// The project of a namespaced kind's path (writes are routed for those only).
    fn project(&self) -> ApiResult<&ProjectName> {
        self.ns
            .as_ref()
            .ok_or_else(|| ApiError::BadRequest("missing path parameter ns".into()))
    }
}

/// `object` as the kind shows it on a read.
pub(super) fn shown<K: Kind>(mut object: K) -> K {
    if let Some(show) = K::SHOWN_AS {
        show(&mut object);
    }
    object
}

/// A read's typed answer: JSON with the fields in the model's order (as the stored bytes
/// other reads answer), or YAML.
fn read_answer<T: serde::Serialize>(accept: Accept, value: &T) -> Response {
    match accept {
        Accept::Json => axum::response::IntoResponse::into_response(axum::Json(value)),
        Accept::Yaml => accept.respond(StatusCode::OK, value),
    }
}

/// The project must exist before anything is listed in it.
pub async fn require_project(state: &AppState, ns: &ProjectName) -> ApiResult<()> {
    state.store.get_project(ns).await?;
    Ok(())
}

fn name_matches_url<K: Kind>(object: &K, name: &K::Name) -> ApiResult<()> {
    ApiError::unless_url_name(object.name(), name.as_ref())
}

async fn list<K: Kind>(
    State(state): State<AppState>,
    Point(point): Point,
    headers: axum::http::HeaderMap,
    Names(ScopePath(ns)): Names<ScopePath>,
    accept: Accept,
    options: ListOptions,
) -> ApiResult<Response> {
    let r = K::RESOURCE;
    if let (Some(ns), Accept::Json, false, None) = (&ns, accept, options.watch, K::SHOWN_AS) {
        // As stored: the read cache's bytes.
        return super::raw::cached_list(
            &state,
            point,
            &headers,
            &K::RESOURCE,
            r.kind,
            r.api_version,
            ns,
        )
        .await;
    }
    if let Some(ns) = &ns {
        require_project(&state, ns).await?;
    }
    let mut listed = state.store.list::<K>(ns.as_ref()).await?;
    if let Some(show) = K::SHOWN_AS {
        listed.items.iter_mut().for_each(show);
    }
    let list = listed.into_list();
    if options.watch {
        let scope = match &ns {
            Some(ns) => Scope::project(r.plural, ns.as_str()),
            None => Scope::cluster(r.plural),
        };
        return list_or_watch(&state, options, scope, list).await;
    }
    Ok(read_answer(accept, &list))
}

async fn create<K: Kind>(
    State(state): State<AppState>,
    Extension(actor): Extension<audit::Actor>,
    Names(NsPath(ns)): Names<NsPath>,
    accept: Accept,
    request: WriteRequest<K>,
) -> ApiResult<Response> {
    let created = write_create(&state, &actor, &ns, request).await?;
    Ok(accept.respond(StatusCode::CREATED, &created))
}

/// Creates the request's object in `ns` after validation.
pub(super) async fn write_create<K: Kind>(
    state: &AppState,
    actor: &audit::Actor,
    ns: &ProjectName,
    request: WriteRequest<K>,
) -> ApiResult<K> {
    let mut object = request.object;
    if let Some(manager) = &request.manager {
        super::apply::updates::record(None, &mut object, manager, state.clock.now())?;
    }
    let name_text = object.name().to_owned();
    ApiError::refuse_invalid(K::RESOURCE.kind, &name_text, object.validate())?;
    let name: K::Name = name_text
        .parse()
        .map_err(|e| ApiError::BadRequest(format!("invalid name: {e}")))?;
    let uid = uuid::Uuid::new_v4().to_string();
    object.prepare_create(Some(ns.as_str()), uid, state.clock.now());
    if request.dry_run {
        // What would be stored; a name already taken is refused as the write would be.
        require_project(state, ns).await?;
        if state.store.get::<K>(Some(ns), name.as_ref()).await.is_ok() {
            return Err(ApiError::AlreadyExists {
                resource: &K::RESOURCE,
                name: name.to_string(),
            });
        }
        return Ok(object);
    }
    let created = state.store.create(actor, Some(ns), object).await?;
    tracing::info!(namespace = %ns, kind = K::RESOURCE.kind, %name, "created");
    Ok(created)
}

async fn get<K: Kind>(
    State(state): State<AppState>,
    Point(point): Point,
    Names(path): Names<ObjectPath<K>>,
    accept: Accept,
) -> ApiResult<Response> {
    if let (Some(ns), Accept::Json, None) = (&path.ns, accept, K::SHOWN_AS) {
        // As stored: the read cache's bytes.
        let (store, r, name) = (state.store.as_ref(), &K::RESOURCE, path.name.as_ref());
        let body = state
            .read_cache
            .object(store, point, r, ns.as_str(), name)
            .await?;
        return Ok(super::raw::object(body));
    }
    Ok(read_answer(accept, &shown(path.load(&state).await?)))
}

/// Writes the request's object over what the path names, at the resourceVersion it carries.
pub(super) async fn write<K: Kind>(
    state: &AppState,
    actor: &audit::Actor,
    path: &ObjectPath<K>,
    request: WriteRequest<K>,
) -> ApiResult<K> {
    let name = path.name.as_ref();
    let ns = path.project()?;
    let mut object = request.object;
    name_matches_url(&object, &path.name)?;
    ApiError::refuse_invalid(K::RESOURCE.kind, name, object.validate())?;
    let rv = object.metadata().resource_version.clone();
    let expected = expected_version(K::RESOURCE.kind, name, rv.as_deref())?;
    let old = path.load(state).await?;
    object.prepare_update(&old);
    if let Some(manager) = &request.manager {
        super::apply::updates::record(Some(&old), &mut object, manager, state.clock.now())?;
    }
    if request.dry_run {
        let stored = old.metadata().resource_version.clone();
        if stored.as_deref() != Some(expected.to_string().as_str()) {
            return Err(ApiError::Conflict {
                resource: &K::RESOURCE,
                name: name.to_owned(),
            });
        }
        object.metadata_mut().resource_version = stored;
        return Ok(object);
    }
    let updated = state
        .store
        .replace(actor, Some(ns), name, expected, object)
        .await?;
    tracing::info!(namespace = %ns, kind = K::RESOURCE.kind, name, "replaced");
    Ok(updated)
}

async fn replace<K: Kind>(
    State(state): State<AppState>,
    Extension(actor): Extension<audit::Actor>,
    Names(path): Names<ObjectPath<K>>,
    accept: Accept,
    request: WriteRequest<K>,
) -> ApiResult<Response> {
    let updated = write(&state, &actor, &path, request).await?;
    Ok(accept.respond(StatusCode::OK, &updated))
}

/// A JSON merge patch or JSON patch over the stored object; without a resourceVersion in the patch, a write
/// in between is merged over again rather than refused.
#[expect(
    clippy::too_many_arguments,
    reason = "an axum handler: one extractor per part of the request it reads"
)]
async fn patch<K: Kind>(
    State(state): State<AppState>,
    Names(path): Names<ObjectPath<K>>,
    accept: Accept,
    DryRun(dry_run): DryRun,
    fields: FieldValidation,
    options: ApplyOptions,
    Extension(caller): Extension<Caller>,
    patch: RawBody,
) -> ApiResult<Response> {
    // The same actor the route's other handlers are given.
    let actor: audit::Actor = (&caller).into();
    if patch.format == BodyFormat::ApplyPatch {
        let ns = path.project()?;
        let request = super::objects_apply::Request {
            caller: &caller,
            ns,
            name: path.name.as_ref(),
            fields: &fields,
            options: &options,
        };
        let (state, actor, at) = (&state, &actor, &path);
        let applied = move |object: K| WriteRequest {
            object,
            manager: None,
            dry_run,
        };
        let create = move |object: K| write_create(state, actor, ns, applied(object));
        let update = move |object: K| write(state, actor, at, applied(object));
        let (code, object) =
            super::objects_apply::apply(state, request, &patch, create, update).await?;
        return Ok(accept.respond(code, &object));
    }
    // Merge or JSON patch (kubectl label, annotate, patch --type merge|json).
    let manager = options.update_manager()?;
    let (ns, name) = (path.ns.as_ref(), path.name.as_ref());
    let (at, actor, path) = ((&state, &fields), &actor, &path);
    let written = merge_patch::patched_by(at, &patch, ns, name, |_, patched: K| {
        let request = WriteRequest {
            object: patched,
            manager: Some(manager.clone()),
            dry_run,
        };
        write(at.0, actor, path, request)
    })
    .await?;
    Ok(accept.respond(StatusCode::OK, &written))
}

async fn delete<K: Kind>(
    State(state): State<AppState>,
    Extension(actor): Extension<audit::Actor>,
    Names(path): Names<ObjectPath<K>>,
    accept: Accept,
    DryRun(dry_run): DryRun,
) -> ApiResult<Response> {
    if dry_run {
        return Ok(accept.respond(StatusCode::OK, &shown(path.load(&state).await?)));
    }
    let ns = path.project()?;
    let deleted: K = state
        .store
        .delete(&actor, Some(ns), path.name.as_ref())
        .await?;
    tracing::info!(namespace = %ns, kind = K::RESOURCE.kind, name = %path.name, "deleted");
    Ok(accept.respond(StatusCode::OK, &shown(deleted)))
}
