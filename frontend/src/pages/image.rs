//! `/ns/{ns}/streams/{name}/images/{digest}`: one image of a stream, and which of its tags point at
//! it now or did before.

use leptos::prelude::*;
use tagstream_shared::{Digest, ImageStream, ProjectName, StreamName, TagEvent, TagName};

use crate::api;
use crate::components::breadcrumbs::Breadcrumbs;
use crate::components::copy_button::CopyButton;
use crate::components::loaded::Loaded;
use crate::components::not_found::NotFoundView;
use crate::components::relative_time::RelativeTime;
use crate::pages::{set_title, use_route};
use crate::routes::Route;

#[component]
pub fn ImagePage() -> impl IntoView {
    let route = use_route();
    move || match route.get() {
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
    set_title(&format!("{} · {stream} · {ns}", digest.short()));
    let what = format!("image stream {ns}/{stream}");
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
        return view! {
            <NotFoundView what=format!("image {wanted} in {ns}/{stream}")
                message="No tag of this stream points or pointed at this image." />
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
