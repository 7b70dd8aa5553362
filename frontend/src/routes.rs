//! The console's route table, declared once: each page's path pattern, its typed parameters and
//! the component that renders it, in one line of [`console_routes!`]. From that one declaration
//! come the [`Route`] enum (links are built from it, so a link someone shares cannot drift from
//! the page that answers it), [`Route::path`], [`Route::parse`] and [`Route::page`] (what the
//! app's one router shows). Also the query strings pages put in their links.

use std::fmt;

use leptos::prelude::*;
use tagstream_shared::{Digest, ProjectName, StreamName, StreamTagName, TagName, TemplateName};

use crate::pages;

/// Declares the route table: `Variant { field: Type, .. } = ["literal", field, ..] => Page`.
/// A segment is either a literal (matched as is) or the name of a field (parsed with `FromStr`,
/// so a malformed name is "not found" rather than a request the server would refuse).
macro_rules! console_routes {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident $({ $($field:ident : $ty:ty),* $(,)? })? = [$($seg:tt),*] => $page:path
    ),* $(,)?) => {
        /// A page of the console, with its typed parameters.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Route {
            $( $(#[doc = $doc])* $variant $({ $($field: $ty),* })? ),*
        }

        impl Route {
            /// The path of the page, absolute and without a query.
            pub fn path(&self) -> String {
                match self {
                    $( Self::$variant $({ $($field),* })? => {
                        let mut out = String::new();
                        $( console_routes!(@push out $seg); )*
                        if out.is_empty() {
                            out.push('/');
                        }
                        out
                    } )*
                }
            }

            /// Parses a console path (without query); `None` for anything the console does not
            /// serve.
            pub fn parse(path: &str) -> Option<Self> {
                let segments: Vec<&str> =
                    path.trim_end_matches('/').split('/').skip(1).collect();
                $(
                    if let [$($seg),*] = segments.as_slice()
                        && let ($($(Some($field),)*)?) = ($($($field.parse().ok(),)*)?)
                    {
                        return Some(Self::$variant $({ $($field),* })?);
                    }
                )*
                None
            }

            /// The page that renders this route. The page reads its parameters back from the
            /// path itself ([`crate::pages::use_route`]).
            pub fn page(&self) -> AnyView {
                match self {
                    $( Self::$variant { .. } => view! { <$page /> }.into_any(), )*
                }
            }
        }
    };
    (@push $out:ident $lit:literal) => {
        $out.push('/');
        $out.push_str($lit);
    };
    (@push $out:ident $field:ident) => {
        $out.push('/');
        $out.push_str(&$field.to_string());
    };
}

console_routes! {
    /// `/`: every project.
    Projects = [] => pages::projects::ProjectsPage,
    /// `/ns/{ns}`: a project's image streams.
    Project { ns: ProjectName } = ["ns", ns] => pages::project::ProjectPage,
    /// `/ns/{ns}/streams/{name}`: one stream and its tags.
    Stream { ns: ProjectName, name: StreamName } = ["ns", ns, "streams", name]
        => pages::stream::StreamPage,
    /// `/ns/{ns}/streams/{name}/edit`: the stream as JSON, to edit and save.
    EditStream { ns: ProjectName, name: StreamName } = ["ns", ns, "streams", name, "edit"]
        => pages::edit_stream::EditStreamPage,
    /// `/ns/{ns}/streams/{name}/tags/{tag}`: one tag, its image and history (the shared link).
    Tag { ns: ProjectName, stream: StreamName, tag: TagName }
        = ["ns", ns, "streams", stream, "tags", tag] => pages::tag::TagPage,
    /// `/ns/{ns}/streams/{name}/tags/{tag}/edit`: tag as another tag, policies, lookup.
    EditTag { ns: ProjectName, stream: StreamName, tag: TagName }
        = ["ns", ns, "streams", stream, "tags", tag, "edit"] => pages::routed::EditTagRoute,
    /// `/ns/{ns}/streams/{name}/images/{digest}`: one image and the tags that point at it.
    Image { ns: ProjectName, stream: StreamName, digest: Digest }
        = ["ns", ns, "streams", stream, "images", digest] => pages::image::ImagePage,
    /// `/ns/{ns}/streams/{name}/compare/{a}/{b}`: two images of a stream side by side.
    Compare { ns: ProjectName, stream: StreamName, a: Digest, b: Digest }
        = ["ns", ns, "streams", stream, "compare", a, b] => pages::compare::ComparePage,
    /// `/ns/{ns}/import`: the Import image form (one tag or a whole repository).
    Import { ns: ProjectName } = ["ns", ns, "import"] => pages::import::ImportPage,
    /// `/ns/{ns}/templates`: the catalog, the project's templates and the samples.
    Templates { ns: ProjectName } = ["ns", ns, "templates"] => pages::templates::TemplatesPage,
    /// `/ns/{ns}/templates/{name}`: a template to instantiate in `ns`; `?source=` names the
    /// project that holds it when that is not `ns` (the samples).
    Template { ns: ProjectName, name: TemplateName } = ["ns", ns, "templates", name]
        => pages::template::TemplatePage,
    /// `/ns/{ns}/access`: who has which role in the project.
    Access { ns: ProjectName } = ["ns", ns, "access"] => pages::routed::AccessRoute,
    /// `/ns/{ns}/audit`: the project's audit log.
    Audit { ns: ProjectName } = ["ns", ns, "audit"] => pages::routed::AuditRoute,
    /// `/ns/{ns}/triggers`: the project's webhooks and each one's delivery log.
    Triggers { ns: ProjectName } = ["ns", ns, "triggers"] => pages::triggers::TriggersPage,
    /// `/ns/{ns}/events`: what happened in the project lately.
    Events { ns: ProjectName } = ["ns", ns, "events"] => pages::events::EventsPage,
    /// `/admin/samples`: the samples config.
    AdminSamples = ["admin", "samples"] => pages::admin_samples::AdminSamplesPage,
    /// `/admin/users`: users and teams.
    AdminUsers = ["admin", "users"] => pages::admin_users::AdminUsersPage,
    /// `/admin/audit`: the whole audit log.
    AdminAudit = ["admin", "audit"] => pages::routed::AuditRoute,
    /// `/tokens`: API tokens (`?user=` another user's, for cluster admins).
    Tokens = ["tokens"] => pages::admin_users::TokensPage,
    /// `/login`: sign in (`?next=` the page to return to).
    Login = ["login"] => pages::login::LoginPage,
    /// `/invite/{token}`: choose a password with a one-time invitation.
    Invite { token: InviteToken } = ["invite", token] => pages::routed::InviteRoute,
    /// `/k8s/ns/{ns}/{resource}/{name}`: an OpenShift console path, redirected to the same
    /// object's page here ([`Route::from_openshift`]) so links copied from OpenShift keep working.
    OpenShift { ns: String, resource: String, name: String } = ["k8s", "ns", ns, resource, name]
        => pages::openshift::OpenShiftRedirect,
}

impl Route {
    /// The page for an OpenShift console path, `/k8s/ns/{ns}/imagestreams/{name}` or
    /// `/k8s/ns/{ns}/imagestreamtags/{name}:{tag}`.
    pub fn from_openshift(ns: &str, resource: &str, name: &str) -> Option<Self> {
        let ns: ProjectName = ns.parse().ok()?;
        match resource {
            "imagestreams" => Some(Self::Stream {
                ns,
                name: name.parse().ok()?,
            }),
            "imagestreamtags" => {
                let StreamTagName { stream, tag } = name.parse().ok()?;
                Some(Self::Tag { ns, stream, tag })
            }
            _ => None,
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

/// An invitation's one-time token as it appears in its link: 1 to 128 ASCII letters, digits
/// and `_`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteToken(pub String);

impl std::str::FromStr for InviteToken {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        let ok = !s.is_empty()
            && s.len() <= 128
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        ok.then(|| Self(s.to_owned())).ok_or(())
    }
}

impl fmt::Display for InviteToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `?k=v&...` from `pairs`, percent-encoded; pairs with an empty value are left out, and no pairs
/// make an empty string.
pub fn query_string<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let query: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.as_ref().is_empty())
        .map(|(k, v)| format!("{}={}", encode(k.as_ref()), encode(v.as_ref())))
        .collect();
    match query.is_empty() {
        true => String::new(),
        false => format!("?{}", query.join("&")),
    }
}

/// Percent-encodes a query value: everything but unreserved characters.
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(b));
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
#[path = "routes_tests.rs"]
mod tests;
