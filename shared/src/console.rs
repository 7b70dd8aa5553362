//! Every console path, as one enum: links are built from it and routed paths parse back into it,
//! so a link someone shares cannot drift from the page that answers it. The server reads it too,
//! to answer each path with the [`Bundle`] (the console's wasm app) that renders it.

use std::fmt;

use crate::{Digest, ProjectName, StreamName, StreamTagName, TagName, TemplateName};

/// A page of the console, with its typed parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/`: every project.
    Projects,
    /// `/ns/{ns}`: a project's image streams.
    Project { ns: ProjectName },
    /// `/ns/{ns}/streams/{name}`: one stream and its tags.
    Stream { ns: ProjectName, name: StreamName },
    /// `/ns/{ns}/streams/{name}/edit`: the stream as JSON, to edit and save.
    EditStream { ns: ProjectName, name: StreamName },
    /// `/ns/{ns}/streams/{name}/tags/{tag}`: one tag, its image and history (the shared link).
    Tag {
        ns: ProjectName,
        stream: StreamName,
        tag: TagName,
    },
    /// `/ns/{ns}/streams/{name}/images/{digest}`: one image and the tags that point at it.
    Image {
        ns: ProjectName,
        stream: StreamName,
        digest: Digest,
    },
    /// `/ns/{ns}/streams/{name}/compare/{a}/{b}`: two images of a stream side by side.
    Compare {
        ns: ProjectName,
        stream: StreamName,
        a: Digest,
        b: Digest,
    },
    /// `/ns/{ns}/import`: the Import image form (one tag or a whole repository).
    Import { ns: ProjectName },
    /// `/ns/{ns}/templates`: the catalog, the project's templates and the samples.
    Templates { ns: ProjectName },
    /// `/ns/{ns}/templates/{name}`: a template to instantiate in `ns`; `?source=` names the
    /// project that holds it when that is not `ns` (the samples).
    Template { ns: ProjectName, name: TemplateName },
    /// `/admin/samples`: the samples config.
    AdminSamples,
    /// `/ns/{ns}/streams/{name}/tags/{tag}/edit`: tag as another tag, policies, lookup.
    EditTag {
        ns: ProjectName,
        stream: StreamName,
        tag: TagName,
    },
    /// `/login`: sign in (`?next=` the page to return to).
    Login,
    /// `/invite/{token}`: choose a password with a one-time invitation.
    Invite { token: String },
    /// `/ns/{ns}/access`: who has which role in the project.
    Access { ns: ProjectName },
    /// `/ns/{ns}/audit`: the project's audit log.
    Audit { ns: ProjectName },
    /// `/admin/users`: users and teams.
    AdminUsers,
    /// `/admin/audit`: the whole audit log.
    AdminAudit,
    /// `/tokens`: API tokens (`?user=` another user's, for cluster admins).
    Tokens,
    /// `/ns/{ns}/triggers`: the project's webhooks and each one's delivery log.
    Triggers { ns: ProjectName },
    /// `/ns/{ns}/events`: what happened in the project lately.
    Events { ns: ProjectName },
}

impl Route {
    /// The path of the page, absolute and without a query.
    pub fn path(&self) -> String {
        match self {
            Self::Projects => "/".to_owned(),
            Self::Project { ns } => format!("/ns/{ns}"),
            Self::Stream { ns, name } => format!("/ns/{ns}/streams/{name}"),
            Self::EditStream { ns, name } => format!("/ns/{ns}/streams/{name}/edit"),
            Self::Tag { ns, stream, tag } => format!("/ns/{ns}/streams/{stream}/tags/{tag}"),
            Self::Image { ns, stream, digest } => {
                format!("/ns/{ns}/streams/{stream}/images/{digest}")
            }
            Self::Compare { ns, stream, a, b } => {
                format!("/ns/{ns}/streams/{stream}/compare/{a}/{b}")
            }
            Self::Import { ns } => format!("/ns/{ns}/import"),
            Self::Templates { ns } => format!("/ns/{ns}/templates"),
            Self::Template { ns, name } => format!("/ns/{ns}/templates/{name}"),
            Self::AdminSamples => "/admin/samples".to_owned(),
            Self::EditTag { ns, stream, tag } => {
                format!("/ns/{ns}/streams/{stream}/tags/{tag}/edit")
            }
            Self::Login => "/login".to_owned(),
            Self::Invite { token } => format!("/invite/{token}"),
            Self::Access { ns } => format!("/ns/{ns}/access"),
            Self::Audit { ns } => format!("/ns/{ns}/audit"),
            Self::AdminUsers => "/admin/users".to_owned(),
            Self::AdminAudit => "/admin/audit".to_owned(),
            Self::Tokens => "/tokens".to_owned(),
            Self::Triggers { ns } => format!("/ns/{ns}/triggers"),
            Self::Events { ns } => format!("/ns/{ns}/events"),
        }
    }

    /// Parses a console path (without query); `None` for anything the console does not serve.
    pub fn parse(path: &str) -> Option<Self> {
        let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
        Some(match segments.as_slice() {
            [] | [""] => Self::Projects,
            ["ns", ns] => Self::Project {
                ns: ns.parse().ok()?,
            },
            ["ns", ns, "streams", name] => Self::Stream {
                ns: ns.parse().ok()?,
                name: name.parse().ok()?,
            },
            ["ns", ns, "streams", name, "edit"] => Self::EditStream {
                ns: ns.parse().ok()?,
                name: name.parse().ok()?,
            },
            ["ns", ns, "streams", stream, "tags", tag] => Self::Tag {
                ns: ns.parse().ok()?,
                stream: stream.parse().ok()?,
                tag: tag.parse().ok()?,
            },
            ["ns", ns, "streams", stream, "compare", a, b] => Self::Compare {
                ns: ns.parse().ok()?,
                stream: stream.parse().ok()?,
                a: a.parse().ok()?,
                b: b.parse().ok()?,
            },
            ["ns", ns, "streams", stream, "images", digest] => Self::Image {
                ns: ns.parse().ok()?,
                stream: stream.parse().ok()?,
                digest: digest.parse().ok()?,
            },
            ["ns", ns, "import"] => Self::Import {
                ns: ns.parse().ok()?,
            },
            ["ns", ns, "templates"] => Self::Templates {
                ns: ns.parse().ok()?,
            },
            ["ns", ns, "templates", name] => Self::Template {
                ns: ns.parse().ok()?,
                name: name.parse().ok()?,
            },
            ["admin", "samples"] => Self::AdminSamples,
            ["ns", ns, "streams", stream, "tags", tag, "edit"] => Self::EditTag {
                ns: ns.parse().ok()?,
                stream: stream.parse().ok()?,
                tag: tag.parse().ok()?,
            },
            ["login"] => Self::Login,
            ["invite", token]
                if !token.is_empty()
                    && token.len() <= 128
                    && token
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
            {
                Self::Invite {
                    token: (*token).to_owned(),
                }
            }
            ["ns", ns, "access"] => Self::Access {
                ns: ns.parse().ok()?,
            },
            ["ns", ns, "audit"] => Self::Audit {
                ns: ns.parse().ok()?,
            },
            ["admin", "users"] => Self::AdminUsers,
            ["admin", "audit"] => Self::AdminAudit,
            ["tokens"] => Self::Tokens,
            ["ns", ns, "triggers"] => Self::Triggers {
                ns: ns.parse().ok()?,
            },
            ["ns", ns, "events"] => Self::Events {
                ns: ns.parse().ok()?,
            },
            _ => return None,
        })
    }

    /// The page for an OpenShift console path, `/k8s/ns/{ns}/imagestreams/{name}` or
    /// `/k8s/ns/{ns}/imagestreamtags/{name}:{tag}`, so links copied from OpenShift keep working.
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

    /// The console bundle that renders this page.
    pub fn bundle(&self) -> Bundle {
        match self {
            Self::Projects | Self::Project { .. } | Self::Stream { .. } => Bundle::Links,
            Self::Tag { .. } => Bundle::Tag,
            Self::Import { .. }
            | Self::EditStream { .. }
            | Self::Image { .. }
            | Self::Compare { .. }
            | Self::EditTag { .. } => Bundle::Tools,
            Self::Login
            | Self::Invite { .. }
            | Self::Access { .. }
            | Self::Audit { .. }
            | Self::AdminUsers
            | Self::AdminAudit
            | Self::Tokens => Bundle::Access,
            Self::Triggers { .. } | Self::Events { .. } => Bundle::Activity,
            Self::Templates { .. } | Self::Template { .. } | Self::AdminSamples => {
                Bundle::Templates
            }
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

/// The console is built as six wasm apps so that the page a shared link opens loads only what
/// it shows, and no app passes DESIGN.md's size budget: each path belongs to exactly one of them. The server answers a
/// path with its bundle's `index.html`, and a bundle hands a path of another one to the browser
/// for a full page load; both ask [`Bundle::for_path`], so they cannot disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bundle {
    /// The tag page alone: the link people share most, so it loads the least.
    Tag,
    /// The pages people browse and share besides tags: projects, a project's streams (and creating
    /// one), a stream. Also the OpenShift console redirects and "not found".
    Links,
    /// The tools: the import form, editing a stream as JSON, an image's details, compare.
    Tools,
    /// The template catalog, the template page and the samples admin page.
    Templates,
    /// Signing in, invitations, a project's access rules and audit log, users and teams, tokens.
    Access,
    /// A project's triggers (with their delivery logs) and its events.
    Activity,
}

impl Bundle {
    /// The bundle that serves `path` (without query): its page's, or the link bundle's for any
    /// path that is no page (the OpenShift redirects under `/k8s/`, and the "not found" page).
    pub fn for_path(path: &str) -> Self {
        Route::parse(path).map_or(Self::Links, |route| route.bundle())
    }

    /// The bundle's `index.html`, relative to the built console's root (Trunk's dist/): the link
    /// bundle at the root, the others in their directory, where Trunk.toml's hook builds them.
    pub fn index_html(self) -> &'static str {
        match self {
            Self::Links => "index.html",
            Self::Tools => "tools/index.html",
            Self::Templates => "templates/index.html",
            Self::Access => "access/index.html",
            Self::Tag => "tag/index.html",
            Self::Activity => "activity/index.html",
        }
    }
}

/// Where to go after signing in, given `?next=` and the console's origin
/// (`https://console.example`): `next` resolved against the origin as a browser would resolve
/// it, kept only when it stays on that origin (`/\\evil.example/`, `//evil.example/` and
/// `https://evil.example/` all leave it) and is not the sign-in page again; `/` otherwise.
/// Answers a path with its query and fragment, so the browser cannot read it differently.
pub fn after_sign_in(next: &str, origin: &str) -> String {
    let home = "/".to_owned();
    let Ok(base) = url::Url::parse(origin) else {
        return home;
    };
    // Only a path is ever meant: anything else (a scheme, `\\`, control characters, which
    // browsers strip) is refused rather than normalised into something else.
    if !next.starts_with('/') || next.contains('\\') || next.chars().any(char::is_control) {
        return home;
    }
    let Ok(target) = base.join(next) else {
        return home;
    };
    if target.origin() != base.origin() || target.path().starts_with("/login") {
        return home;
    }
    let mut out = target.path().to_owned();
    if let Some(q) = target.query() {
        out.push('?');
        out.push_str(q);
    }
    if let Some(f) = target.fragment() {
        out.push('#');
        out.push_str(f);
    }
    // A path that still starts with `//` would be read as another host when assigned.
    if out.starts_with("//") { home } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:d8b4cbc952f2a3e4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e56e03";

    fn examples() -> Vec<Route> {
        let ns: ProjectName = "demo".parse().expect("valid");
        let stream: StreamName = "ruby".parse().expect("valid");
        vec![
            Route::Projects,
            Route::Project { ns: ns.clone() },
            Route::Stream {
                ns: ns.clone(),
                name: stream.clone(),
            },
            Route::EditStream {
                ns: ns.clone(),
                name: stream.clone(),
            },
            Route::Tag {
                ns: ns.clone(),
                stream: stream.clone(),
                tag: "3.3-slim".parse().expect("valid"),
            },
            Route::Image {
                ns: ns.clone(),
                stream: stream.clone(),
                digest: D.parse().expect("valid"),
            },
            Route::Compare {
                ns: ns.clone(),
                stream,
                a: D.parse().expect("valid"),
                b: format!("sha256:{}", "e".repeat(64)).parse().expect("valid"),
            },
            Route::Import { ns: ns.clone() },
            Route::Templates { ns: ns.clone() },
            Route::Template {
                ns,
                name: "rails-postgresql-example".parse().expect("valid"),
            },
            Route::AdminSamples,
            Route::EditTag {
                ns: "demo".parse().expect("valid"),
                stream: "ruby".parse().expect("valid"),
                tag: "latest".parse().expect("valid"),
            },
            Route::Login,
            Route::Invite {
                token: "inv_0123abcd".into(),
            },
            Route::Access {
                ns: "demo".parse().expect("valid"),
            },
            Route::Audit {
                ns: "demo".parse().expect("valid"),
            },
            Route::AdminUsers,
            Route::AdminAudit,
            Route::Tokens,
            Route::Triggers {
                ns: "demo".parse().expect("valid"),
            },
            Route::Events {
                ns: "demo".parse().expect("valid"),
            },
        ]
    }

    #[test]
    fn every_path_parses_back_to_its_route() {
        for route in examples() {
            assert_eq!(Route::parse(&route.path()), Some(route.clone()), "{route}");
        }
        assert_eq!(
            Route::parse("/ns/demo/streams/ruby/tags/latest").map(|r| r.path()),
            Some("/ns/demo/streams/ruby/tags/latest".to_owned())
        );
    }

    #[test]
    fn bad_names_and_unknown_paths_do_not_parse() {
        for bad in [
            "/nope",
            "/ns/Demo",
            "/ns/demo/streams/Ruby",
            "/ns/demo/streams/ruby/tags/.x",
            "/ns/demo/streams/ruby/images/sha256:abc",
            "/ns/demo/streams/ruby/tags/latest/more",
            "/ns/demo/templates/Rails",
            "/admin/other",
            "/invite/a/b",
            "/invite/has space",
        ] {
            assert_eq!(Route::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_shared_link_pages_are_in_the_link_bundle_and_the_tools_are_not() {
        let bundles: Vec<(String, Bundle)> = examples()
            .iter()
            .map(|r| (r.path(), Bundle::for_path(&r.path())))
            .collect();
        for (path, bundle) in &bundles {
            let expected = match path.as_str() {
                "/" => Bundle::Links,
                p if p.contains("/compare/")
                    || p.contains("/images/")
                    || p.ends_with("/edit")
                    || p.ends_with("/import") =>
                {
                    Bundle::Tools
                }
                p if p.contains("/templates") || p == "/admin/samples" => Bundle::Templates,
                "/login" | "/tokens" | "/admin/users" | "/admin/audit" => Bundle::Access,
                p if p.ends_with("/triggers") || p.ends_with("/events") => Bundle::Activity,
                p if p.contains("/tags/") => Bundle::Tag,
                p if p.starts_with("/invite/")
                    || p.ends_with("/access")
                    || p.ends_with("/audit") =>
                {
                    Bundle::Access
                }
                _ => Bundle::Links,
            };
            assert_eq!(*bundle, expected, "{path}");
        }
        // Not pages of either: the link bundle redirects or says "not found".
        for other in [
            "/k8s/ns/demo/imagestreamtags/ruby:latest",
            "/nope",
            "/ns/demo/templates/Bad",
        ] {
            assert_eq!(Bundle::for_path(other), Bundle::Links, "{other}");
        }
        assert_eq!(Bundle::Links.index_html(), "index.html");
        assert_eq!(Bundle::Tools.index_html(), "tools/index.html");
        assert_eq!(Bundle::Templates.index_html(), "templates/index.html");
        assert_eq!(Bundle::Access.index_html(), "access/index.html");
        assert_eq!(Bundle::Tag.index_html(), "tag/index.html");
        assert_eq!(Bundle::Activity.index_html(), "activity/index.html");
    }

    #[test]
    fn openshift_paths_map_to_console_pages() {
        assert_eq!(
            Route::from_openshift("demo", "imagestreamtags", "ruby:latest").map(|r| r.path()),
            Some("/ns/demo/streams/ruby/tags/latest".to_owned())
        );
        assert_eq!(
            Route::from_openshift("demo", "imagestreams", "ruby").map(|r| r.path()),
            Some("/ns/demo/streams/ruby".to_owned())
        );
        assert_eq!(
            Route::from_openshift("demo", "imagestreamtags", "ruby"),
            None
        );
        assert_eq!(Route::from_openshift("demo", "pods", "x"), None);
    }

    #[test]
    fn only_paths_of_this_console_are_followed_after_sign_in() {
        let o = "https://console.example";
        assert_eq!(
            after_sign_in("/ns/demo/streams/ruby/tags/latest?x=1", o),
            "/ns/demo/streams/ruby/tags/latest?x=1"
        );
        assert_eq!(after_sign_in("/ns/demo#top", o), "/ns/demo#top");
        for bad in [
            "/\\evil.example/",
            "/\\/evil.example/",
            "\\\\evil.example/",
            "//evil.example/",
            "///evil.example/",
            "/\t/evil.example/",
            "https://evil.example/",
            "javascript:alert(1)",
            "/login?next=/login",
            "",
        ] {
            assert_eq!(after_sign_in(bad, o), "/", "{bad:?}");
        }
        assert_eq!(after_sign_in("/ns/a/../b", o), "/ns/b");
    }
}
