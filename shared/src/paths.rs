//! The API's paths, built in one place for the console's client and checked by the server's
//! tests. Each is put together from its resource's one declaration (`crate::resources`).

use crate::resources as r;

pub const PROJECTS: &str = r::PROJECTS.collection_route;
/// Image streams across every project the caller may list.
pub const IMAGESTREAMS_ALL: &str = "/apis/image.openshift.io/v1/imagestreams";

/// Declares the path functions of namespaced resources, one line a resource:
/// `collection(ns)` is its collection in project `ns` and `item(ns, name)`, when named, one
/// object there (a doc comment documents the collection's function).
macro_rules! namespaced {
    ($($(#[$doc:meta])* $resource:ident: $collection:ident $(, $item:ident)?;)*) => {
        $(
            $(#[$doc])*
            pub fn $collection(ns: &str) -> String {
                r::$resource.collection(Some(ns))
            }

            $(
                pub fn $item(ns: &str, name: &str) -> String {
                    r::$resource.item(Some(ns), name)
                }
            )?
        )*
    };
}

namespaced! {
    IMAGESTREAMS: imagestreams, imagestream;
    IMAGESTREAMIMPORTS: imagestreamimports;
    TEMPLATES: templates, template;
    /// `POST` a template here to have it processed (nothing is stored).
    PROCESSEDTEMPLATES: processed_templates;
    TEMPLATEINSTANCES: template_instances, template_instance;
    ROLEBINDINGS: rolebindings, rolebinding;
    AUDITEVENTS: audit_events;
    /// `POST` an ImageStreamTag here to create it.
    IMAGESTREAMTAGS: imagestreamtags_in;
    TRIGGERS: triggers, trigger;
    /// A project's events: tag changes, imports and failures, webhook deliveries.
    EVENTS: events;
}

pub fn project(name: &str) -> String {
    r::PROJECTS.item(None, name)
}

/// The status subresource: the only way a client writes a stream's tag history directly.
pub fn imagestream_status(ns: &str, name: &str) -> String {
    format!("{}/status", imagestream(ns, name))
}

pub fn imagestreamtag(ns: &str, name: &str, tag: &str) -> String {
    r::IMAGESTREAMTAGS.item(Some(ns), &format!("{name}:{tag}"))
}

pub fn imagestreamimage(ns: &str, name: &str, digest: &str) -> String {
    r::IMAGESTREAMIMAGES.item(Some(ns), &format!("{name}@{digest}"))
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

pub fn access_reviews(ns: &str) -> String {
    format!("/apis/tagstream.io/v1/namespaces/{ns}/accessreviews")
}

/// A trigger's delivery log, newest first.
pub fn deliveries(ns: &str, trigger: &str) -> String {
    format!("{}/deliveries", self::trigger(ns, trigger))
}

/// `POST` here sends a delivery's event again (same event id, a new delivery).
pub fn redeliver(ns: &str, trigger: &str, delivery: &str) -> String {
    format!("{}/{delivery}/redeliver", deliveries(ns, trigger))
}

/// The workloads (from instantiated templates) that follow a stream's tags.
pub fn followers(ns: &str, stream: &str) -> String {
    format!("{}/followers", imagestream(ns, stream))
}
