//! The API's paths, built in one place for the console's client and checked by the server's tests.

pub const PROJECTS: &str = "/apis/project.openshift.io/v1/projects";
pub const IMAGESTREAMS_ALL: &str = "/apis/image.openshift.io/v1/imagestreams";

pub fn project(name: &str) -> String {
    format!("{PROJECTS}/{name}")
}

pub fn imagestreams(ns: &str) -> String {
    format!("/apis/image.openshift.io/v1/namespaces/{ns}/imagestreams")
}

pub fn imagestream(ns: &str, name: &str) -> String {
    format!("{}/{name}", imagestreams(ns))
}

/// The status subresource: the only way a client writes a stream's tag history directly.
pub fn imagestream_status(ns: &str, name: &str) -> String {
    format!("{}/status", imagestream(ns, name))
}

pub fn imagestreamtag(ns: &str, name: &str, tag: &str) -> String {
    format!("/apis/image.openshift.io/v1/namespaces/{ns}/imagestreamtags/{name}:{tag}")
}

pub fn imagestreamimports(ns: &str) -> String {
    format!("/apis/image.openshift.io/v1/namespaces/{ns}/imagestreamimports")
}

pub fn imagestreamimage(ns: &str, name: &str, digest: &str) -> String {
    format!("/apis/image.openshift.io/v1/namespaces/{ns}/imagestreamimages/{name}@{digest}")
}

pub fn templates(ns: &str) -> String {
    format!("/apis/template.openshift.io/v1/namespaces/{ns}/templates")
}

pub fn template(ns: &str, name: &str) -> String {
    format!("{}/{name}", templates(ns))
}

/// `POST` a template here to have it processed (nothing is stored).
pub fn processed_templates(ns: &str) -> String {
    format!("/apis/template.openshift.io/v1/namespaces/{ns}/processedtemplates")
}

pub fn template_instances(ns: &str) -> String {
    format!("/apis/template.openshift.io/v1/namespaces/{ns}/templateinstances")
}

pub fn template_instance(ns: &str, name: &str) -> String {
    format!("{}/{name}", template_instances(ns))
}

/// The one samples config.
pub const SAMPLES_CONFIG: &str = "/apis/samples.operator.openshift.io/v1/configs/cluster";

pub const USERS: &str = "/apis/user.openshift.io/v1/users";
pub const GROUPS: &str = "/apis/user.openshift.io/v1/groups";
/// Who the caller is (and the CSRF token of their session).
pub const WHOAMI: &str = "/apis/tagstream.io/v1/whoami";
pub const LOGIN: &str = "/apis/tagstream.io/v1/login";
pub const LOGOUT: &str = "/apis/tagstream.io/v1/logout";
/// The caller changes their own password (`POST` a `PasswordChange`).
pub const PASSWORD: &str = "/apis/tagstream.io/v1/password";
pub const AUDIT_EVENTS_ALL: &str = "/apis/tagstream.io/v1/auditevents";

pub fn user(name: &str) -> String {
    format!("{USERS}/{name}")
}

pub fn group(name: &str) -> String {
    format!("{GROUPS}/{name}")
}

pub fn tokens(user: &str) -> String {
    format!("{USERS}/{user}/tokens")
}

pub fn token(user: &str, id: &str) -> String {
    format!("{}/{id}", tokens(user))
}

pub fn invitation(token: &str) -> String {
    format!("/apis/tagstream.io/v1/invitations/{token}")
}

pub fn rolebindings(ns: &str) -> String {
    format!("/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings")
}

pub fn rolebinding(ns: &str, name: &str) -> String {
    format!("{}/{name}", rolebindings(ns))
}

pub fn audit_events(ns: &str) -> String {
    format!("/apis/tagstream.io/v1/namespaces/{ns}/auditevents")
}

pub fn access_reviews(ns: &str) -> String {
    format!("/apis/tagstream.io/v1/namespaces/{ns}/accessreviews")
}

/// `POST` an ImageStreamTag here to create it.
pub fn imagestreamtags_in(ns: &str) -> String {
    format!("/apis/image.openshift.io/v1/namespaces/{ns}/imagestreamtags")
}

pub fn triggers(ns: &str) -> String {
    format!("/apis/tagstream.io/v1/namespaces/{ns}/triggers")
}

pub fn trigger(ns: &str, name: &str) -> String {
    format!("{}/{name}", triggers(ns))
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
    format!("/apis/tagstream.io/v1/namespaces/{ns}/events")
}

/// The workloads (from instantiated templates) that follow a stream's tags.
pub fn followers(ns: &str, stream: &str) -> String {
    format!("{}/followers", imagestream(ns, stream))
}
