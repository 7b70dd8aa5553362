//! The one typed client of the tagstream API. Same origin, relative URLs; every failure comes back
//! as a Kubernetes `Status`, including a network failure or a body that is not one.

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tagstream_shared::event::Event;
use tagstream_shared::trigger::{Delivery, Trigger};
use tagstream_shared::user::{
    AcceptInvitation, AccessReview, AuditEvent, CSRF_COOKIE, CSRF_HEADER, Group, Identity, Login,
    PasswordChange, RoleBinding, Token, User, UserCreate, UserCreated,
};
use tagstream_shared::{
    ImageStream, ImageStreamImage, ImageStreamImport, ImageStreamTag, List, Project, SamplesConfig,
    Status, StatusReason, Template, TemplateInstance, paths,
};

/// What every call answers.
pub type ApiResult<T> = Result<T, Status>;

/// The media type a pasted stream is sent with; the server parses either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    Json,
    Yaml,
}

impl BodyFormat {
    fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Yaml => "application/yaml",
        }
    }

    /// JSON when the text starts like a JSON object, YAML otherwise.
    pub fn detect(text: &str) -> Self {
        match text.trim_start().starts_with('{') {
            true => Self::Json,
            false => Self::Yaml,
        }
    }
}

pub async fn list_projects() -> ApiResult<List<Project>> {
    get_kept(paths::PROJECTS).await
}

pub async fn get_project(name: &str) -> ApiResult<Project> {
    get_kept(&paths::project(name)).await
}

pub async fn create_project(project: &Project) -> ApiResult<Project> {
    send(json(Request::post(paths::PROJECTS), project)).await
}

pub async fn delete_project(name: &str) -> ApiResult<Project> {
    send(Request::delete(&paths::project(name)).build()).await
}

pub async fn list_streams(ns: &str) -> ApiResult<List<ImageStream>> {
    get_kept(&paths::imagestreams(ns)).await
}

pub async fn get_stream(ns: &str, name: &str) -> ApiResult<ImageStream> {
    get_kept(&paths::imagestream(ns, name)).await
}

pub async fn create_stream(ns: &str, stream: &ImageStream) -> ApiResult<ImageStream> {
    send(json(Request::post(&paths::imagestreams(ns)), stream)).await
}

/// Creates a stream from text as the user pasted it; the server parses and validates it.
pub async fn create_stream_text(
    ns: &str,
    text: &str,
    format: BodyFormat,
) -> ApiResult<ImageStream> {
    let request = Request::post(&paths::imagestreams(ns))
        .header("Content-Type", format.content_type())
        .body(text.to_owned());
    send(request).await
}

/// Replaces the whole stream; the server refuses a stale `metadata.resourceVersion` with 409.
pub async fn replace_stream(ns: &str, name: &str, stream: &ImageStream) -> ApiResult<ImageStream> {
    send(json(Request::put(&paths::imagestream(ns, name)), stream)).await
}

pub async fn delete_stream(ns: &str, name: &str) -> ApiResult<serde_json::Value> {
    send(Request::delete(&paths::imagestream(ns, name)).build()).await
}

pub async fn get_stream_tag(ns: &str, name: &str, tag: &str) -> ApiResult<ImageStreamTag> {
    get_kept(&paths::imagestreamtag(ns, name, tag)).await
}

/// Sets one tag of a stream (its source and policies), as `oc tag` does.
pub async fn set_stream_tag(
    ns: &str,
    name: &str,
    tag: &str,
    body: &ImageStreamTag,
) -> ApiResult<ImageStreamTag> {
    send(json(
        Request::put(&paths::imagestreamtag(ns, name, tag)),
        body,
    ))
    .await
}

pub async fn list_templates(ns: &str) -> ApiResult<List<Template>> {
    send(Request::get(&paths::templates(ns)).build()).await
}

pub async fn get_template(ns: &str, name: &str) -> ApiResult<Template> {
    send(Request::get(&paths::template(ns, name)).build()).await
}

/// Instantiates in `ns`: the answer holds generated values and the other objects, once.
pub async fn instantiate(ns: &str, instance: &TemplateInstance) -> ApiResult<TemplateInstance> {
    send(json(
        Request::post(&paths::template_instances(ns)),
        instance,
    ))
    .await
}

pub async fn list_template_instances(ns: &str) -> ApiResult<List<TemplateInstance>> {
    send(Request::get(&paths::template_instances(ns)).build()).await
}

/// Removes a tag and its history.
pub async fn delete_stream_tag(ns: &str, name: &str, tag: &str) -> ApiResult<Status> {
    send(Request::delete(&paths::imagestreamtag(ns, name, tag)).build()).await
}

/// One image of a stream with its imported metadata.
pub async fn get_stream_image(ns: &str, name: &str, digest: &str) -> ApiResult<ImageStreamImage> {
    send(Request::get(&paths::imagestreamimage(ns, name, digest)).build()).await
}

/// Looks images up in a registry; with `spec.import` it also tags them into the stream.
pub async fn import_images(ns: &str, request: &ImageStreamImport) -> ApiResult<ImageStreamImport> {
    send(json(Request::post(&paths::imagestreamimports(ns)), request)).await
}

pub async fn get_samples_config() -> ApiResult<SamplesConfig> {
    send(Request::get(paths::SAMPLES_CONFIG).build()).await
}

pub async fn replace_samples_config(config: &SamplesConfig) -> ApiResult<SamplesConfig> {
    send(json(Request::put(paths::SAMPLES_CONFIG), config)).await
}

/// Signs in with a password; the server sets the session and CSRF cookies.
pub async fn login(login: &Login) -> ApiResult<Identity> {
    send(json(Request::post(paths::LOGIN), login)).await
}

pub async fn logout() -> ApiResult<Status> {
    send(Request::post(paths::LOGOUT).build()).await
}

/// Who is signed in; a 401 when nobody is.
pub async fn whoami() -> ApiResult<Identity> {
    send(Request::get(paths::WHOAMI).build()).await
}

/// Changes the caller's own password; their other sessions end, this one stays.
pub async fn change_password(change: &PasswordChange) -> ApiResult<Status> {
    send(json(Request::post(paths::PASSWORD), change)).await
}

pub async fn accept_invitation(token: &str, password: &str) -> ApiResult<Status> {
    let body = AcceptInvitation {
        password: password.to_owned(),
    };
    send(json(Request::post(&paths::invitation(token)), &body)).await
}

pub async fn list_role_bindings(ns: &str) -> ApiResult<List<RoleBinding>> {
    send(Request::get(&paths::rolebindings(ns)).build()).await
}

pub async fn create_role_binding(ns: &str, binding: &RoleBinding) -> ApiResult<RoleBinding> {
    send(json(Request::post(&paths::rolebindings(ns)), binding)).await
}

pub async fn replace_role_binding(ns: &str, binding: &RoleBinding) -> ApiResult<RoleBinding> {
    let path = paths::rolebinding(ns, binding.metadata.name());
    send(json(Request::put(&path), binding)).await
}

pub async fn delete_role_binding(ns: &str, name: &str) -> ApiResult<RoleBinding> {
    send(Request::delete(&paths::rolebinding(ns, name)).build()).await
}

/// What the caller holds in `ns`: the roles part of their access review (the shared predicates
/// decide from it), without the lists the console's link pages do not show.
pub async fn project_access(ns: &str) -> ApiResult<tagstream_shared::access::ProjectAccess> {
    get_kept(&paths::access_reviews(ns)).await
}

/// `query`: empty for the caller's own access, `user=NAME`, or `verb=V&resource=R`.
pub async fn access_review(ns: &str, query: &str) -> ApiResult<AccessReview> {
    let path = match query.is_empty() {
        true => paths::access_reviews(ns),
        false => format!("{}?{query}", paths::access_reviews(ns)),
    };
    send(Request::get(&path).build()).await
}

pub async fn list_users() -> ApiResult<List<User>> {
    send(Request::get(paths::USERS).build()).await
}

pub async fn create_user(user: &UserCreate) -> ApiResult<UserCreated> {
    send(json(Request::post(paths::USERS), user)).await
}

pub async fn delete_user(name: &str) -> ApiResult<User> {
    send(Request::delete(&paths::user(name)).build()).await
}

pub async fn list_groups() -> ApiResult<List<Group>> {
    send(Request::get(paths::GROUPS).build()).await
}

pub async fn create_group(group: &Group) -> ApiResult<Group> {
    send(json(Request::post(paths::GROUPS), group)).await
}

pub async fn replace_group(group: &Group) -> ApiResult<Group> {
    let path = paths::group(group.metadata.name());
    send(json(Request::put(&path), group)).await
}

pub async fn delete_group(name: &str) -> ApiResult<Group> {
    send(Request::delete(&paths::group(name)).build()).await
}

pub async fn list_tokens(user: &str) -> ApiResult<List<Token>> {
    send(Request::get(&paths::tokens(user)).build()).await
}

/// The answer carries the secret, once.
pub async fn create_token(user: &str, token: &Token) -> ApiResult<Token> {
    send(json(Request::post(&paths::tokens(user)), token)).await
}

pub async fn delete_token(user: &str, id: &str) -> ApiResult<Status> {
    send(Request::delete(&paths::token(user, id)).build()).await
}

/// The audit log of a project, or of everything with `None`.
pub async fn audit_events(ns: Option<&str>) -> ApiResult<List<AuditEvent>> {
    let path = ns.map_or_else(|| paths::AUDIT_EVENTS_ALL.to_owned(), paths::audit_events);
    send(Request::get(&path).build()).await
}

/// The CSRF token the server set for this session, from its cookie.
fn csrf_token() -> Option<String> {
    use leptos::wasm_bindgen::JsCast as _;
    let cookies = leptos::prelude::document()
        .dyn_into::<web_sys::HtmlDocument>()
        .ok()?
        .cookie()
        .ok()?;
    cookies
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == CSRF_COOKIE)
        .map(|(_, v)| v.to_owned())
}

/// Nobody is signed in (or the session ended): to the sign-in page, coming back here after.
fn to_sign_in() {
    let location = leptos::prelude::window().location();
    let here = format!(
        "{}{}",
        location.pathname().unwrap_or_default(),
        location.search().unwrap_or_default()
    );
    if here.starts_with("/login") || here.starts_with("/invite/") {
        return;
    }
    let next = String::from(js_sys::encode_uri_component(&here));
    _ = location.assign(&format!("/login?next={next}"));
}

pub async fn list_triggers(ns: &str) -> ApiResult<List<Trigger>> {
    send(Request::get(&paths::triggers(ns)).build()).await
}

pub async fn create_trigger(ns: &str, trigger: &Trigger) -> ApiResult<Trigger> {
    send(json(Request::post(&paths::triggers(ns)), trigger)).await
}

/// Replaces a trigger (pausing or resuming it); without a secret the stored one stays.
pub async fn replace_trigger(ns: &str, trigger: &Trigger) -> ApiResult<Trigger> {
    let path = paths::trigger(ns, trigger.metadata.name());
    send(json(Request::put(&path), trigger)).await
}

pub async fn delete_trigger(ns: &str, name: &str) -> ApiResult<Trigger> {
    send(Request::delete(&paths::trigger(ns, name)).build()).await
}

pub async fn list_deliveries(ns: &str, trigger: &str) -> ApiResult<List<Delivery>> {
    send(Request::get(&paths::deliveries(ns, trigger)).build()).await
}

/// Sends a delivery's event again (same event id).
pub async fn redeliver(ns: &str, trigger: &str, delivery: &str) -> ApiResult<Delivery> {
    send(Request::post(&paths::redeliver(ns, trigger, delivery)).build()).await
}

pub async fn list_events(ns: &str) -> ApiResult<List<Event>> {
    send(Request::get(&paths::events(ns)).build()).await
}

/// The request with `body` as JSON.
fn json<T: Serialize>(builder: RequestBuilder, body: &T) -> Result<Request, gloo_net::Error> {
    builder.json(body)
}

/// A GET whose answer is kept for the page's next visit ([`crate::remembered`]).
async fn get_kept<T: DeserializeOwned + Clone + 'static>(path: &str) -> ApiResult<T> {
    let (code, text) = exchange(Request::get(path).build()).await?;
    let value: T = serde_json::from_str(&text).map_err(|e| not_understood(code, &e))?;
    crate::remembered::keep(path, value.clone());
    Ok(value)
}

async fn send<T: DeserializeOwned>(request: Result<Request, gloo_net::Error>) -> ApiResult<T> {
    let (code, text) = exchange(request).await?;
    serde_json::from_str(&text).map_err(|e| not_understood(code, &e))
}

/// A success whose body does not decode as what the page asked for.
fn not_understood(code: u16, e: &serde_json::Error) -> Status {
    Status::failure(
        StatusReason::InternalError,
        format!("The server answered {code} with a body the console does not understand: {e}"),
    )
}

/// The one round trip, not generic so that every call shares its code: the body of a success
/// with its code, or the failure as a `Status`.
async fn exchange(request: Result<Request, gloo_net::Error>) -> Result<(u16, String), Status> {
    let request = request.map_err(|e| {
        Status::failure(
            StatusReason::BadRequest,
            format!("The request could not be built: {e}"),
        )
    })?;
    if !matches!(
        request.method(),
        gloo_net::http::Method::GET | gloo_net::http::Method::HEAD
    ) && let Some(token) = csrf_token()
    {
        request.headers().set(CSRF_HEADER, &token);
    }
    let response = request.send().await.map_err(|e| {
        Status::failure(
            StatusReason::ServiceUnavailable,
            format!("The tagstream server could not be reached: {e}"),
        )
    })?;
    read(response).await
}

async fn read(response: Response) -> Result<(u16, String), Status> {
    let code = response.status();
    if code == 401 && !response.url().ends_with(paths::LOGIN) {
        to_sign_in();
    }
    let text = response.text().await.map_err(|e| {
        Status::failure(
            StatusReason::ServiceUnavailable,
            format!("The server's answer ({code}) could not be read: {e}"),
        )
    })?;
    if response.ok() {
        return Ok((code, text));
    }
    match serde_json::from_str::<Status>(&text) {
        Ok(status) => Err(status),
        Err(_) => Err(not_a_status(code, &text)),
    }
}

/// A failure whose body is not a `Status` (a proxy's error page, say): keep the code and a glimpse.
fn not_a_status(code: u16, body: &str) -> Status {
    let reason = match code {
        400 => StatusReason::BadRequest,
        401 => StatusReason::Unauthorized,
        403 => StatusReason::Forbidden,
        404 => StatusReason::NotFound,
        409 => StatusReason::Conflict,
        422 => StatusReason::Invalid,
        429 => StatusReason::TooManyRequests,
        502 | 503 => StatusReason::ServiceUnavailable,
        504 => StatusReason::Timeout,
        _ => StatusReason::InternalError,
    };
    let glimpse: String = body.trim().chars().take(200).collect();
    let mut status = Status::failure(
        reason,
        match glimpse.is_empty() {
            true => format!("The server answered HTTP {code} without an explanation."),
            false => format!("The server answered HTTP {code}: {glimpse}"),
        },
    );
    status.code = code;
    status
}
