//! Every console path, as one enum: links are built from it and routed paths parse back into it,
//! so a link someone shares cannot drift from the page that answers it.

use std::fmt;

use tagstream_shared::{Digest, ProjectName, StreamName, StreamTagName, TagName, TemplateName};

/// A page of the console, with its typed parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/`: every project.
    Projects,
    /// `/ns/{ns}`: a project's image streams.
    Project { ns: ProjectName },
    /// `/ns/{ns}/streams/{name}`: one stream and its tags.
    Stream { ns: ProjectName, name: StreamName },
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
    /// `/ns/{ns}/templates`: the catalog, the project's templates and the samples.
    Templates { ns: ProjectName },
    /// `/ns/{ns}/templates/{name}`: a template to instantiate in `ns`; `?source=` names the
    /// project that holds it when that is not `ns` (the samples).
    Template { ns: ProjectName, name: TemplateName },
    /// `/ns/{ns}/triggers`: the project's webhooks and each one's delivery log.
    Triggers { ns: ProjectName },
    /// `/ns/{ns}/events`: what happened in the project lately.
    Events { ns: ProjectName },
    /// `/admin/samples`: the samples config.
    AdminSamples,
}

impl Route {
    /// The path of the page, absolute and without a query.
    pub fn path(&self) -> String {
        match self {
            Self::Projects => "/".to_owned(),
            Self::Project { ns } => format!("/ns/{ns}"),
            Self::Stream { ns, name } => format!("/ns/{ns}/streams/{name}"),
            Self::Tag { ns, stream, tag } => format!("/ns/{ns}/streams/{stream}/tags/{tag}"),
            Self::Image { ns, stream, digest } => {
                format!("/ns/{ns}/streams/{stream}/images/{digest}")
            }
            Self::Compare { ns, stream, a, b } => {
                format!("/ns/{ns}/streams/{stream}/compare/{a}/{b}")
            }
            Self::Templates { ns } => format!("/ns/{ns}/templates"),
            Self::Template { ns, name } => format!("/ns/{ns}/templates/{name}"),
            Self::Triggers { ns } => format!("/ns/{ns}/triggers"),
            Self::Events { ns } => format!("/ns/{ns}/events"),
            Self::AdminSamples => "/admin/samples".to_owned(),
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
            ["ns", ns, "templates"] => Self::Templates {
                ns: ns.parse().ok()?,
            },
            ["ns", ns, "templates", name] => Self::Template {
                ns: ns.parse().ok()?,
                name: name.parse().ok()?,
            },
            ["ns", ns, "triggers"] => Self::Triggers {
                ns: ns.parse().ok()?,
            },
            ["ns", ns, "events"] => Self::Events {
                ns: ns.parse().ok()?,
            },
            ["admin", "samples"] => Self::AdminSamples,
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
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
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
            Route::Templates { ns: ns.clone() },
            Route::Triggers { ns: ns.clone() },
            Route::Events { ns: ns.clone() },
            Route::Template {
                ns,
                name: "rails-postgresql-example".parse().expect("valid"),
            },
            Route::AdminSamples,
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
        ] {
            assert_eq!(Route::parse(bad), None, "{bad}");
        }
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
    fn query_values_are_encoded_and_empty_ones_dropped() {
        assert_eq!(
            query_string(&[("q", "ubi 9&x"), ("page", "")]),
            "?q=ubi%209%26x"
        );
        assert_eq!(query_string::<&str, &str>(&[]), "");
    }
}
