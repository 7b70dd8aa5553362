//! The route table's paths parse back into their routes, and nothing else parses.

use super::*;

const D: &str = "sha256:d8b4cbc952f2a3e4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e56e03";

fn examples() -> Vec<Route> {
    let ns: ProjectName = "demo".parse().expect("valid");
    let stream: StreamName = "ruby".parse().expect("valid");
    let tag: TagName = "3.3-slim".parse().expect("valid");
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
            tag: tag.clone(),
        },
        Route::EditTag {
            ns: ns.clone(),
            stream: stream.clone(),
            tag,
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
            ns: ns.clone(),
            name: "rails-postgresql-example".parse().expect("valid"),
        },
        Route::Access { ns: ns.clone() },
        Route::Audit { ns: ns.clone() },
        Route::Triggers { ns: ns.clone() },
        Route::Events { ns },
        Route::AdminSamples,
        Route::AdminUsers,
        Route::AdminAudit,
        Route::Tokens,
        Route::Login,
        Route::Invite {
            token: "inv_0123abcd".parse().expect("valid"),
        },
        Route::OpenShift {
            ns: "demo".into(),
            resource: "imagestreamtags".into(),
            name: "ruby:latest".into(),
        },
    ]
}

#[test]
fn every_path_parses_back_to_its_route() {
    for route in examples() {
        assert_eq!(Route::parse(&route.path()), Some(route.clone()), "{route}");
    }
    assert_eq!(Route::Projects.path(), "/");
    assert_eq!(
        Route::parse("/ns/demo/streams/ruby/tags/latest").map(|r| r.path()),
        Some("/ns/demo/streams/ruby/tags/latest".to_owned())
    );
    assert_eq!(Route::parse("/ns/demo/"), Route::parse("/ns/demo"));
    assert_eq!(Route::parse(""), Some(Route::Projects));
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
        "/k8s/ns/demo/imagestreams",
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
