//! `/ns/{ns}/streams/{name}/compare/{a}/{b}`: two images of a stream side by side (two history
//! items of a tag, or the current images of two tags): digest, created, size, platform, then
//! labels and environment added, removed or changed, and layers added or removed.

use leptos::prelude::*;
use tagstream_shared::compare::{Change, diff};
use tagstream_shared::{Digest, Image, ProjectName, Status, StreamName};

use crate::api;
use crate::components::breadcrumbs::Breadcrumbs;
use crate::components::error_banner::ErrorBanner;
use crate::components::import_form::{image_size, platform};
use crate::components::not_found::NotFoundView;
use crate::components::short_digest::ShortDigest;
use crate::components::skeleton::Loading;
use crate::format;
use crate::pages::{set_title, use_route};
use crate::routes::Route;

#[component]
pub fn ComparePage() -> impl IntoView {
    match use_route() {
        Some(Route::Compare { ns, stream, a, b }) => {
            view! { <CompareView ns stream a b /> }.into_any()
        }
        _ => view! { <NotFoundView what="comparison" /> }.into_any(),
    }
}

#[component]
fn CompareView(ns: ProjectName, stream: StreamName, a: Digest, b: Digest) -> impl IntoView {
    let both = LocalResource::new({
        let (ns, stream, a, b) = (
            ns.to_string(),
            stream.to_string(),
            a.to_string(),
            b.to_string(),
        );
        move || {
            let (ns, stream, a, b) = (ns.clone(), stream.clone(), a.clone(), b.clone());
            async move {
                let first = api::get_stream_image(&ns, &stream, &a).await?;
                let second = api::get_stream_image(&ns, &stream, &b).await?;
                Ok::<_, Status>((first.image, second.image))
            }
        }
    });
    set_title(&format!("{} … {} · {stream} · {ns}", a.short(), b.short()));
    let last = (
        "compare".to_owned(),
        Route::Compare {
            ns: ns.clone(),
            stream: stream.clone(),
            a,
            b,
        },
    );
    view! {
        <Breadcrumbs ns=ns.clone() stream=stream.clone() last />
        {move || match both.get() {
            None => view! { <Loading what="the two images".to_owned() rows=4 /> }.into_any(),
            Some(Err(status)) => view! { <ErrorBanner status /> }.into_any(),
            Some(Ok((first, second))) => view! { <CompareBody first second /> }.into_any(),
        }}
    }
}

fn created(image: &Image) -> String {
    image
        .docker_image_metadata
        .as_ref()
        .and_then(|m| m.created)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

fn change_rows(changes: Vec<Change>, test: &'static str) -> impl IntoView {
    changes
        .into_iter()
        .map(|c| {
            let (kind, key, left, right) = match c {
                Change::Added { key, value } => ("added", key, String::new(), value),
                Change::Removed { key, value } => ("removed", key, value, String::new()),
                Change::Changed { key, from, to } => ("changed", key, from, to),
            };
            view! {
                <tr data-test=test data-change=kind class=format!("diff-{kind}")>
                    <th scope="row" class="mono">{key}</th>
                    <td class="mono">{left}</td>
                    <td class="mono">{right}</td>
                    <td>{kind}</td>
                </tr>
            }
        })
        .collect_view()
}

#[component]
fn CompareBody(first: Image, second: Image) -> impl IntoView {
    let d = diff(&first, &second);
    let facts = [
        (
            "Digest",
            first.digest().to_owned(),
            second.digest().to_owned(),
        ),
        ("Created", created(&first), created(&second)),
        ("Size", image_size(&first), image_size(&second)),
        ("Platform", platform(&first), platform(&second)),
    ]
    .into_iter()
    .map(|(k, a, b)| {
        let same = a == b;
        view! {
            <tr data-test="compare-fact" class:diff-changed=!same>
                <th scope="row">{k}</th><td class="mono">{a}</td><td class="mono">{b}</td>
            </tr>
        }
    })
    .collect_view();
    let layer_rows = d
        .layers_removed
        .iter()
        .map(|l| (l, "removed"))
        .chain(d.layers_added.iter().map(|l| (l, "added")))
        .map(|(l, kind)| {
            view! {
                <tr data-test="compare-layer" data-change=kind class=format!("diff-{kind}")>
                    <td><ShortDigest digest=l.name.clone() /></td>
                    <td class="num">{format::size(l.size)}</td>
                    <td>{kind}</td>
                </tr>
            }
        })
        .collect_view();
    let (no_labels, no_env) = (d.labels.is_empty(), d.env.is_empty());
    view! {
        <h1>"Compare images"</h1>
        <table class="table compare" data-test="compare-facts">
            <thead><tr><th scope="col"></th><th scope="col">"First"</th><th scope="col">"Second"</th></tr></thead>
            <tbody>{facts}</tbody>
        </table>
        <section>
            <h2>"Labels"</h2>
            {if no_labels { view! { <p class="muted" data-test="labels-same">"The same labels."</p> }.into_any() } else {
                view! { <table class="table"><thead><tr><th scope="col">"Label"</th><th scope="col">"First"</th><th scope="col">"Second"</th><th scope="col">"Change"</th></tr></thead>
                    <tbody>{change_rows(d.labels, "compare-label")}</tbody></table> }.into_any()
            }}
        </section>
        <section>
            <h2>"Environment"</h2>
            {if no_env { view! { <p class="muted" data-test="env-same">"The same environment."</p> }.into_any() } else {
                view! { <table class="table"><thead><tr><th scope="col">"Variable"</th><th scope="col">"First"</th><th scope="col">"Second"</th><th scope="col">"Change"</th></tr></thead>
                    <tbody>{change_rows(d.env, "compare-env")}</tbody></table> }.into_any()
            }}
        </section>
        <section>
            <h2>"Layers"</h2>
            <p class="muted" data-test="layers-shared">{match d.layers_shared { 1 => "1 layer in common.".to_owned(), n => format!("{n} layers in common.") }}</p>
            <table class="table"><thead><tr><th scope="col">"Layer"</th><th scope="col" class="num">"Size"</th><th scope="col">"Change"</th></tr></thead>
                <tbody>{layer_rows}</tbody></table>
        </section>
    }
}
