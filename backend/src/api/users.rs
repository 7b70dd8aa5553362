//! `/apis/user.openshift.io/v1/users[/{name}]` (`~` is the caller) and each user's API tokens,
//! `/apis/user.openshift.io/v1/users/{name}/tokens[/{id}]`. Passwords and token secrets are
//! stored hashed and never returned (a new token's secret once, in the answer that creates it).

use super::checked_writes::{self, WriteHooks, created_meta};
use crate::api::field_validation::FieldValidation;
use crate::audit;
use crate::services;
use crate::store::Objects as _;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use tagstream_shared::access::{CLUSTER_ADMINS_GROUP, Verb as V};
use tagstream_shared::paths::USERS as USERS_PATH;
use tagstream_shared::user::{
    TAGSTREAM_API_VERSION, Token, USER_API_VERSION, User, UserCreate, UserCreated,
};
use tagstream_shared::{FieldError, List, ObjectMeta, ProjectName, Status};

use crate::access::Need;
use crate::api::routes::Routes;
use crate::app::AppState;
use crate::auth::Caller;
use crate::auth::secret::{hash_secret, new_secret, random_hex};
use crate::body::RawBody;
use crate::error::{ApiError, ApiResult};
use crate::store::{NewInvitation, StoreError};

pub fn routes() -> Routes {
    const ONE: &str = "/apis/user.openshift.io/v1/users/{name}";
    const TOKENS_OF: &str = "/apis/user.openshift.io/v1/users/{name}/tokens";
    const TOKEN: &str = "/apis/user.openshift.io/v1/users/{name}/tokens/{id}";
    let own = Need::SelfOrClusterAdmin { param: "name" };
    Routes::new()
        .get(USERS_PATH, Need::ClusterAdmin, list_users)
        .post(USERS_PATH, Need::ClusterAdmin, create_user)
        .get(ONE, own, get_user)
        .delete(ONE, Need::ClusterAdmin, delete_user)
        .get(TOKENS_OF, own, list_tokens)
        .post(TOKENS_OF, own, create_token)
        .delete(TOKEN, own, delete_token)
        // Cluster admins only: users have no access rule.
        .merge(checked_writes::routes::<User>(&[V::Update, V::Patch]))
}

/// A replace changes a user's full name, labels and annotations, and nothing else; a user is
/// answered with their teams.
impl WriteHooks for User {
    fn replacement(body: Self, mut user: Self) -> ApiResult<Self> {
        user.full_name = body.full_name;
        user.metadata.labels = body.metadata.labels;
        user.metadata.annotations = body.metadata.annotations;
        Ok(user)
    }

    async fn answered(state: &AppState, user: Self) -> ApiResult<Self> {
        with_groups(state, user).await
    }
}

/// OpenShift's rule for user names (`tagstream_shared::UserName`), as a field error's text.
pub fn check_user_name(name: &str) -> Option<String> {
    name.parse::<tagstream_shared::UserName>()
        .err()
        .map(|e| e.0)
}

/// The user a path names: `~` is the caller.
fn target(caller: &Caller, name: &str) -> String {
    if name == "~" {
        caller.name().to_owned()
    } else {
        name.to_owned()
    }
}

async fn with_groups(state: &AppState, mut user: User) -> ApiResult<User> {
    let name = user.metadata.name().to_owned();
    user.groups = crate::auth::principal(state, &name, Vec::new())
        .await?
        .groups;
    Ok(user)
}

/// The users with their teams; a watch sends each user as stored (teams are not recomputed).
async fn list_users(
    State(state): State<AppState>,
    options: crate::watch::ListOptions,
) -> ApiResult<axum::response::Response> {
    let listed = state.store.list::<User>(None).await?;
    let mut items = Vec::with_capacity(listed.items.len());
    for u in listed.items {
        items.push(with_groups(&state, u).await?);
    }
    let list = List::new(
        User::KIND,
        USER_API_VERSION,
        listed.resource_version.to_string(),
        items,
    );
    crate::watch::list_or_watch(&state, options, crate::watch::Scope::cluster("users"), list).await
}

async fn get_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> ApiResult<Json<User>> {
    let name = target(&caller, &name);
    let user = match state.store.get::<User>(None, name.as_ref()).await {
        Ok(u) => u,
        // Signed in through a proxy without a stored user: who they are, as the proxy said.
        Err(StoreError::NotFound { .. }) if name == caller.name() => User {
            kind: User::KIND.into(),
            api_version: USER_API_VERSION.into(),
            metadata: ObjectMeta::named(name.clone()),
            ..User::default()
        },
        Err(e) => return Err(ApiError::from(e)),
    };
    let mut user = with_groups(&state, user).await?;
    if name == caller.name()
        && let Some(p) = caller.principal()
    {
        user.groups.clone_from(&p.groups);
    }
    Ok(Json(user))
}

async fn create_user(
    State(state): State<AppState>,
    Extension(actor): Extension<audit::Actor>,
    fields: FieldValidation,
    raw: RawBody,
) -> ApiResult<(StatusCode, Json<UserCreated>)> {
    // The User alone first: through UserCreate's flattened User a value that does not decode
    // would lose the name of its field (`fullName: 5`).
    let mut user = raw.value.clone();
    if let Some(object) = user.as_object_mut() {
        object.remove("password");
    }
    let _: User = crate::body::decode(user)?;
    // A User and its initial password: `fieldValidation` knows the User's fields and that one.
    let body: UserCreate = fields
        .decode_request(User::KIND, &raw, &["password"])
        .await?;
    let name = body.user.metadata.name().to_owned();
    let mut errors = Vec::new();
    if let Some(msg) = check_user_name(&name) {
        errors.push(FieldError::invalid("metadata.name", &name, msg));
    }
    if let Some(p) = &body.password
        && let Some(e) = super::session::check_password("password", p)
    {
        errors.push(e);
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid {
            kind: User::KIND,
            name,
            errors,
        });
    }
    let internal = |e: String| ApiError::Internal(e.into());
    let (password_hash, invitation) = match body.password {
        Some(p) => (
            Some(super::session::hash_new_password(&state, p).await?),
            None,
        ),
        None => (
            None,
            Some(new_secret("inv_").map_err(|e| internal(e.to_string()))?),
        ),
    };
    let user = User {
        kind: User::KIND.into(),
        api_version: USER_API_VERSION.into(),
        metadata: created_meta(&body.user.metadata, None, state.clock.now()),
        full_name: body.user.full_name.clone(),
        groups: Vec::new(),
        extra: body.user.extra.clone(),
    };
    let created = state
        .store
        .create_user(
            &actor,
            user,
            password_hash,
            invitation.as_deref().map(|token| NewInvitation {
                hash: hash_secret(token),
                expires: state.clock.now().timestamp() + state.config.auth.invitation_seconds,
            }),
        )
        .await?;
    tracing::info!(user = %name, invited = invitation.is_some(), "user created");
    Ok((
        StatusCode::CREATED,
        Json(UserCreated {
            user: created,
            invitation,
        }),
    ))
}

/// The resourceVersion a checked write is conditioned on: the body's (a 422 naming it when it
/// is not one, as for every kind), or without one the stored one: an unconditional replace, as
/// Kubernetes allows for role bindings (review 18 N8).
pub fn expected_version(
    kind: &'static str,
    sent: Option<&str>,
    stored: &ObjectMeta,
) -> ApiResult<u64> {
    match sent.filter(|rv| !rv.is_empty()) {
        Some(rv) => crate::template_service::expected_version(kind, stored.name(), Some(rv)),
        None => Ok(stored.revision()),
    }
}

async fn delete_user(
    State(state): State<AppState>,
    Extension(actor): Extension<audit::Actor>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> ApiResult<Json<User>> {
    if name == caller.name() {
        return Err(ApiError::Forbidden(
            "you cannot delete yourself: ask another cluster admin".into(),
        ));
    }
    let user = services::users::delete(&*state.store, &actor, &name).await?;
    // Their team memberships and RoleBindings went in the same unit of work.
    tracing::info!(user = %name, "user deleted");
    Ok(Json(user))
}

async fn list_tokens(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> ApiResult<Json<List<Token>>> {
    let name = target(&caller, &name);
    let items = state.store.list_tokens(&name).await?;
    Ok(Json(List::new(
        Token::KIND,
        TAGSTREAM_API_VERSION,
        String::new(),
        items,
    )))
}

async fn create_token(
    State(state): State<AppState>,
    Extension(actor): Extension<audit::Actor>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    fields: FieldValidation,
    raw: RawBody,
) -> ApiResult<(StatusCode, Json<Token>)> {
    // Checked as every typed body is: a User sent here is refused, not taken for a token.
    let body: Token = fields.decode_request(Token::KIND, &raw, &[]).await?;
    let name = target(&caller, &name);
    state.store.get::<User>(None, name.as_ref()).await?;
    let mut errors = Vec::new();
    if let Some(p) = &body.spec.project
        && let Err(e) = p.parse::<ProjectName>()
    {
        errors.push(FieldError::invalid("spec.project", p, e.to_string()));
    }
    let now = state.clock.now();
    if let Some(exp) = &body.spec.expires
        && exp.timestamp() <= now.timestamp()
    {
        errors.push(FieldError::invalid(
            "spec.expires",
            &exp.to_string(),
            "must be in the future",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid {
            kind: Token::KIND,
            name: String::new(),
            errors,
        });
    }
    let internal = |e: getrandom::Error| ApiError::Internal(Box::new(e));
    let id = random_hex(6).map_err(internal)?;
    let secret = new_secret("tst_").map_err(internal)?;
    let token = Token {
        kind: Token::KIND.into(),
        api_version: TAGSTREAM_API_VERSION.into(),
        metadata: ObjectMeta {
            creation_timestamp: Some(now),
            ..ObjectMeta::named(id.clone())
        },
        spec: body.spec,
        token: None,
    };
    let mut created = state
        .store
        .create_token(&actor, &name, &hash_secret(&secret), token)
        .await?;
    tracing::info!(user = %name, token = %id, "API token created");
    created.token = Some(secret);
    Ok((StatusCode::CREATED, Json(created)))
}

async fn delete_token(
    State(state): State<AppState>,
    Extension(actor): Extension<audit::Actor>,
    Extension(caller): Extension<Caller>,
    Path((name, id)): Path<(String, String)>,
) -> ApiResult<Json<Status>> {
    let name = target(&caller, &name);
    state.store.delete_token(&actor, &name, &id).await?;
    tracing::info!(user = %name, token = %id, "API token revoked");
    Ok(Json(Status::success()))
}

/// At first start: user `admin` in `system:cluster-admins`, with the bootstrap token when one
/// is given, otherwise with a one-time password printed to the log.
pub async fn bootstrap(state: &AppState, token: Option<&str>) -> Result<(), ApiError> {
    if state.store.count_users().await? > 0 {
        return Ok(());
    }
    // The server creates the first admin on its own.
    let actor = audit::Actor::SERVER;
    let internal = |e: String| ApiError::Internal(e.into());
    let password = if token.is_none() {
        Some(random_hex(12).map_err(|e| internal(e.to_string()))?)
    } else {
        None
    };
    let phc = match &password {
        Some(p) => Some(super::session::hash_new_password(state, p.clone()).await?),
        None => None,
    };
    let user = User {
        kind: User::KIND.into(),
        api_version: USER_API_VERSION.into(),
        metadata: ObjectMeta {
            name: Some("admin".into()),
            uid: Some(uuid::Uuid::new_v4().to_string()),
            creation_timestamp: Some(state.clock.now()),
            ..ObjectMeta::default()
        },
        ..User::default()
    };
    state.store.create_user(&actor, user, phc, None).await?;
    let group = tagstream_shared::user::Group {
        kind: tagstream_shared::user::Group::KIND.into(),
        api_version: USER_API_VERSION.into(),
        metadata: ObjectMeta {
            name: Some(CLUSTER_ADMINS_GROUP.into()),
            creation_timestamp: Some(state.clock.now()),
            ..ObjectMeta::default()
        },
        users: vec!["admin".into()],
        extra: Default::default(),
    };
    match state
        .store
        .create::<tagstream_shared::user::Group>(&actor, None, group.clone())
        .await
    {
        Ok(_) => {}
        Err(StoreError::AlreadyExists { .. }) => {
            let mut g = state
                .store
                .get::<tagstream_shared::user::Group>(None, CLUSTER_ADMINS_GROUP.as_ref())
                .await?;
            if !g.users.iter().any(|u| u == "admin") {
                g.users.push("admin".into());
                let expected = g.metadata.revision();
                state
                    .store
                    .replace::<tagstream_shared::user::Group>(
                        &actor,
                        None,
                        CLUSTER_ADMINS_GROUP.as_ref(),
                        expected,
                        g,
                    )
                    .await?;
            }
        }
        Err(e) => return Err(e.into()),
    }
    match (token, password) {
        (Some(token), _) => {
            let t = Token {
                kind: Token::KIND.into(),
                api_version: TAGSTREAM_API_VERSION.into(),
                metadata: ObjectMeta {
                    name: Some("bootstrap".into()),
                    creation_timestamp: Some(state.clock.now()),
                    ..ObjectMeta::default()
                },
                spec: tagstream_shared::user::TokenSpec {
                    description: "TAGSTREAM_BOOTSTRAP_ADMIN_TOKEN".into(),
                    ..Default::default()
                },
                token: None,
            };
            state
                .store
                .create_token(&actor, "admin", &hash_secret(token), t)
                .await?;
            tracing::info!(
                "first start: user admin (cluster admin) created with the bootstrap token"
            );
        }
        (None, Some(password)) => {
            tracing::warn!(
                "first start: user admin (cluster admin) created; its one-time password is {password} \
                 (sign in and create your own users; this is not shown again)"
            );
        }
        (None, None) => {}
    }
    Ok(())
}
