//! The API's paths, built in one place for the console's client and checked by the server's
//! tests. Each is put together from its resource's one declaration (`crate::resources`).

use crate::resources as r;

pub const PROJECTS: &str = r::PROJECTS.collection_route;
/// Image streams across every project the caller may list.
pub const IMAGESTREAMS_ALL: &str = "/apis/image.openshift.io/v1/imagestreams";

pub fn project(name: &str) -> String {
    r::PROJECTS.item(None, name)
}

pub fn imagestreams(ns: &str) -> String {
    r::IMAGESTREAMS.collection(Some(ns))
}

pub fn imagestream(ns: &str, name: &str) -> String {
    r::IMAGESTREAMS.item(Some(ns), name)
}

/// The status subresource: the only way a client writes a stream's tag history directly.
pub fn imagestream_status(ns: &str, name: &str) -> String {
    format!("{}/status", imagestream(ns, name))
}

pub fn imagestreamtag(ns: &str, name: &str, tag: &str) -> String {
    r::IMAGESTREAMTAGS.item(Some(ns), &format!("{name}:{tag}"))
}

pub fn imagestreamimports(ns: &str) -> String {
    r::IMAGESTREAMIMPORTS.collection(Some(ns))
}

pub fn imagestreamimage(ns: &str, name: &str, digest: &str) -> String {
    r::IMAGESTREAMIMAGES.item(Some(ns), &format!("{name}@{digest}"))
}

pub fn templates(ns: &str) -> String {
    r::TEMPLATES.collection(Some(ns))
}

pub fn template(ns: &str, name: &str) -> String {
    r::TEMPLATES.item(Some(ns), name)
}

/// `POST` a template here to have it processed (nothing is stored).
pub fn processed_templates(ns: &str) -> String {
    r::PROCESSEDTEMPLATES.collection(Some(ns))
}

pub fn template_instances(ns: &str) -> String {
    r::TEMPLATEINSTANCES.collection(Some(ns))
}

pub fn template_instance(ns: &str, name: &str) -> String {
    r::TEMPLATEINSTANCES.item(Some(ns), name)
}

/// The one samples config.
pub const SAMPLES_CONFIG: &str = "/apis/samples.operator.openshift.io/v1/configs/cluster";

pub const USERS: &str = r::USERS.collection_route;
pub const GROUPS: &str = r::GROUPS.collection_route;
/// Who the caller is (and the CSRF token of their session).
pub const WHOAMI: &str = "/apis/tagstream.io/v1/whoami";
pub const LOGIN: &str = "/apis/tagstream.io/v1/login";
pub const LOGOUT: &str = "/apis/tagstream.io/v1/logout";
/// The caller changes their own password (`POST` a `PasswordChange`).
pub const PASSWORD: &str = "/apis/tagstream.io/v1/password";
pub const AUDIT_EVENTS_ALL: &str = "/apis/tagstream.io/v1/auditevents";

pub fn user(name: &str) -> String {
    r::USERS.item(None, name)
}

pub fn group(name: &str) -> String {
    r::GROUPS.item(None, name)
}

pub fn tokens(user: &str) -> String {
    format!("{}/{}", self::user(user), r::TOKENS.plural)
}

pub fn token(user: &str, id: &str) -> String {
    format!("{}/{id}", tokens(user))
}

pub fn invitation(token: &str) -> String {
    r::INVITATIONS.item(None, token)
}

pub fn rolebindings(ns: &str) -> String {
    r::ROLEBINDINGS.collection(Some(ns))
}

pub fn rolebinding(ns: &str, name: &str) -> String {
    r::ROLEBINDINGS.item(Some(ns), name)
}

pub fn audit_events(ns: &str) -> String {
    r::AUDITEVENTS.collection(Some(ns))
}

pub fn access_reviews(ns: &str) -> String {
    format!("/apis/tagstream.io/v1/namespaces/{ns}/accessreviews")
}

/// `POST` an ImageStreamTag here to create it.
pub fn imagestreamtags_in(ns: &str) -> String {
    r::IMAGESTREAMTAGS.collection(Some(ns))
}

pub fn triggers(ns: &str) -> String {
    r::TRIGGERS.collection(Some(ns))
}

pub fn trigger(ns: &str, name: &str) -> String {
    r::TRIGGERS.item(Some(ns), name)
}

/// A trigger's delivery log, newest first.
pub fn deliveries(ns: &str, trigger: &str) -> String {
    format!("{}/deliveries", self::trigger(ns, trigger))
}

/// `POST` here sends a delivery's event again (same event id, a new delivery).
pub fn redeliver(ns: &str, trigger: &str, delivery: &str) -> String {
    format!("{}/{delivery}/redeliver", deliveries(ns, trigger))
}

/// A project's events: tag changes, imports and failures, webhook deliveries.
pub fn events(ns: &str) -> String {
    r::EVENTS.collection(Some(ns))
}

/// The workloads (from instantiated templates) that follow a stream's tags.
pub fn followers(ns: &str, stream: &str) -> String {
    format!("{}/followers", imagestream(ns, stream))
}
