//! `/ns/{ns}/streams/{name}/images/{digest}`: one image of a stream, and which of its tags point at
//! it now or did before.

use leptos::prelude::*;
use tagstream_shared::{
    Digest, Image, ImageStream, ImageStreamImage, ProjectName, StreamName, TagEvent, TagName,
};

use crate::api;
use crate::components::breadcrumbs::Breadcrumbs;
use crate::components::copy_button::CopyButton;
use crate::components::import_form::{image_size, platform};
use crate::components::loaded::Loaded;
use crate::components::not_found::NotFoundView;
use crate::components::relative_time::RelativeTime;
use crate::components::short_digest::ShortDigest;
use crate::format;
use crate::pages::{set_title, use_route};
use crate::routes::Route;

#[component]
pub fn ImagePage() -> impl IntoView {
    match use_route() {
        Some(Route::Image { ns, stream, digest }) => {
            view! { <ImageView ns stream digest /> }.into_any()
        }
        _ => view! { <NotFoundView what="image" /> }.into_any(),
    }
}

#[component]
fn ImageView(ns: ProjectName, stream: StreamName, digest: Digest) -> impl IntoView {
    let resource = LocalResource::new({
        let (ns, stream) = (ns.to_string(), stream.to_string());
        move || {
            let (ns, stream) = (ns.clone(), stream.clone());
            async move { api::get_stream(&ns, &stream).await }
        }
    });
    let image = LocalResource::new({
        let (ns, stream, digest) = (ns.to_string(), stream.to_string(), digest.to_string());
        move || {
            let (ns, stream, digest) = (ns.clone(), stream.clone(), digest.clone());
            async move { api::get_stream_image(&ns, &stream, &digest).await }
        }
    });
    set_title(&format!("{} · {stream} · {ns}", digest.short()));
    let what = format!("image stream {ns}/{stream}");
    let image_what = format!("image {} in {ns}/{stream}", digest.short());
    let (details_ns, details_stream) = (ns.clone(), stream.clone());
    let last = (
        digest.short(),
        Route::Image {
            ns: ns.clone(),
            stream: stream.clone(),
            digest: digest.clone(),
        },
    );
    view! {
        <Breadcrumbs ns=ns.clone() stream=stream.clone() last />
        <Loaded resource=resource what
            view={move |s: ImageStream| view! { <ImageBody ns=ns.clone() stream=stream.clone() digest=digest.clone() image_stream=s /> }} />
        <Loaded resource=image what=image_what
            view={move |i: ImageStreamImage| view! { <ImageDetails ns=details_ns.clone() stream=details_stream.clone() image=i.image /> }} />
    }
}

/// A tag's event for this image, and whether it is the tag's current one.
struct Mention {
    tag: String,
    event: TagEvent,
    current: bool,
}

#[component]
fn ImageBody(
    ns: ProjectName,
    stream: StreamName,
    digest: Digest,
    image_stream: ImageStream,
) -> impl IntoView {
    let wanted = digest.to_string();
    let mentions: Vec<Mention> = image_stream
        .status
        .tags
        .iter()
        .flat_map(|list| {
            list.items
                .iter()
                .enumerate()
                .filter(|(_, e)| e.image == wanted)
                .map(|(i, e)| Mention {
                    tag: list.tag.clone(),
                    event: e.clone(),
                    current: i == 0,
                })
        })
        .collect();
    if mentions.is_empty() {
        // A platform's image inside a manifest list: no tag names it, its details follow.
        return view! {
            <header class="page-head">
                <h1>"Image " <code class="digest" title=wanted.clone()>{digest.short()}</code></h1>
                <p class="muted" data-test="image-no-tags">"No tag of this stream points here directly."</p>
            </header>
        }
        .into_any();
    }
    let pull = mentions.iter().find_map(|m| m.event.pull_spec_by_digest());
    let pointing: Vec<String> = mentions
        .iter()
        .filter(|m| m.current)
        .map(|m| m.tag.clone())
        .collect();
    let rows = mentions
        .into_iter()
        .map(|m| {
            let route = m.tag.parse::<TagName>().ok().map(|tag| Route::Tag {
                ns: ns.clone(),
                stream: stream.clone(),
                tag,
            });
            view! {
                <tr data-test="image-tag-row" data-tag=m.tag.clone()>
                    <th scope="row"><a href=route.map(|r| r.path())>{m.tag.clone()}</a></th>
                    <td>{if m.current { "Points here now" } else { "Pointed here before" }}</td>
                    <td><RelativeTime time=m.event.created /></td>
                    <td class="num">{m.event.generation}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <header class="page-head">
            <div>
                <h1>"Image " <code class="digest" title=wanted.clone()>{digest.short()}</code></h1>
                <dl class="facts facts-wide">
                    <div><dt>"Digest"</dt><dd><code data-test="image-digest">{wanted.clone()}</code></dd></div>
                    <div><dt>"Tags now"</dt><dd data-test="image-current-tags">
                        {if pointing.is_empty() { "none".to_owned() } else { pointing.join(", ") }}
                    </dd></div>
                </dl>
            </div>
        </header>
        {pull.map(|spec| view! {
            <section class="panel">
                <div class="pull">
                    <span class="pull-label">"By digest"</span>
                    <code class="pull-spec" data-test="pull-by-digest">{spec.clone()}</code>
                    <CopyButton text=spec what="pull spec by digest" test="copy-pull-by-digest" />
                </div>
            </section>
        })}
        <section aria-labelledby="image-tags-title">
            <h2 id="image-tags-title">"Tags of " {stream.to_string()} " with this image"</h2>
            <table class="table" data-test="image-tags-table">
                <thead>
                    <tr>
                        <th scope="col">"Tag"</th>
                        <th scope="col">"When"</th>
                        <th scope="col">"Since"</th>
                        <th scope="col" class="num">"Generation"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
    .into_any()
}

/// Rows of `name: value` pairs as a two-column table, or nothing when there are none.
fn pairs_table(
    title: &'static str,
    test: &'static str,
    rows: Vec<(String, String)>,
) -> impl IntoView {
    (!rows.is_empty()).then(|| {
        let body = rows
            .into_iter()
            .map(|(k, v)| view! { <tr><th scope="row" class="mono">{k}</th><td class="mono">{v}</td></tr> })
            .collect_view();
        view! {
            <section>
                <h2>{title}</h2>
                <table class="table" data-test=test><tbody>{body}</tbody></table>
            </section>
        }
    })
}

/// What the import learned: platform, size, config, labels, environment, layers, or for a
/// manifest list each platform's image.
#[component]
fn ImageDetails(ns: ProjectName, stream: StreamName, image: Image) -> impl IntoView {
    let Some(meta) = image.docker_image_metadata.clone() else {
        if image.is_list() {
            let rows = image
                .docker_image_manifests
                .iter()
                .map(|m| {
                    let route = m.digest.parse::<Digest>().ok().map(|digest| Route::Image {
                        ns: ns.clone(),
                        stream: stream.clone(),
                        digest,
                    });
                    view! {
                        <tr data-test="image-platform" data-platform=m.platform()>
                            <th scope="row">{m.platform()}</th>
                            <td><a href=route.map(|r| r.path())><ShortDigest digest=m.digest.clone() /></a></td>
                            <td class="num">{format::size(m.manifest_size)}</td>
                        </tr>
                    }
                })
                .collect_view();
            return view! {
                <section>
                    <h2>"Platforms"</h2>
                    <p class="muted">{image.docker_image_manifest_media_type.clone().unwrap_or_default()}</p>
                    <table class="table" data-test="image-platforms">
                        <thead><tr><th scope="col">"Platform"</th><th scope="col">"Image"</th><th scope="col" class="num">"Manifest size"</th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </section>
            }
            .into_any();
        }
        return view! {
            <p class="muted" data-test="image-no-metadata">
                "No metadata: this image is known from the tag history but was not imported here."
            </p>
        }
        .into_any();
    };
    let config = meta.config.clone().unwrap_or_default();
    let facts = vec![
        ("Platform", platform(&image)),
        ("Size", image_size(&image)),
        (
            "Created",
            meta.created.map(|t| t.to_string()).unwrap_or_default(),
        ),
        (
            "Media type",
            image
                .docker_image_manifest_media_type
                .clone()
                .unwrap_or_default(),
        ),
        ("User", config.user.clone()),
        ("Working directory", config.working_dir.clone()),
        ("Entrypoint", config.entrypoint.join(" ")),
        ("Command", config.cmd.join(" ")),
        (
            "Ports",
            config
                .exposed_ports
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
        ),
    ];
    let facts = facts
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| view! { <div><dt>{k}</dt><dd data-test=format!("image-{}", k.to_lowercase().replace(' ', "-"))>{v}</dd></div> })
        .collect_view();
    let labels: Vec<(String, String)> = config.labels.clone().into_iter().collect();
    let env: Vec<(String, String)> = config
        .env
        .iter()
        .map(|e| match e.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (e.clone(), String::new()),
        })
        .collect();
    let layers = image
        .docker_image_layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            view! {
                <tr data-test="image-layer">
                    <td class="num">{i + 1}</td>
                    <td><ShortDigest digest=l.name.clone() /></td>
                    <td class="num">{format::size(l.size)}</td>
                    <td class="muted">{l.media_type.clone()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section>
            <h2>"Image"</h2>
            <dl class="facts facts-wide" data-test="image-facts">{facts}</dl>
        </section>
        {pairs_table("Labels", "image-labels", labels)}
        {pairs_table("Environment", "image-env", env)}
        <section>
            <h2>"Layers"</h2>
            <table class="table" data-test="image-layers">
                <thead><tr><th scope="col" class="num">"#"</th><th scope="col">"Digest"</th><th scope="col" class="num">"Size"</th><th scope="col">"Media type"</th></tr></thead>
                <tbody>{layers}</tbody>
            </table>
        </section>
    }
    .into_any()
}
