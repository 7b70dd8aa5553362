//! `/ns/{ns}/streams/{name}`: one image stream: its tags (source, current image, last update,
//! status), a link to edit it as JSON (a tools page), and deleting it.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use tagstream_shared::{ImageStream, ProjectName, StreamName, TagName, paths};

use crate::api;
use crate::components::breadcrumbs::Breadcrumbs;
use crate::components::can::Can;
use crate::components::confirm_dialog::ConfirmDialog;
use crate::components::live::{LiveNote, live_updates};
use crate::components::loaded::Loaded;
use crate::components::not_found::NotFoundView;
use crate::components::relative_time::RelativeTime;
use crate::components::short_digest::ShortDigest;
use crate::components::source::TagSource;
use crate::components::tag_status::{TagHealth, TagStatusBadge};
use crate::pages::{set_title, use_route};
use crate::remembered::{self, Freshness};
use crate::routes::Route;
use tagstream_shared::access::{Resource, Verb};

#[component]
pub fn StreamPage() -> impl IntoView {
    match use_route() {
        Some(Route::Stream { ns, name }) => view! { <StreamView ns name /> }.into_any(),
        _ => view! { <NotFoundView what="image stream" /> }.into_any(),
    }
}

#[component]
fn StreamView(ns: ProjectName, name: StreamName) -> impl IntoView {
    let (stream, first) = remembered::resource(
        paths::imagestream(ns.as_str(), name.as_str()),
        Freshness::Watched,
        {
            let (ns, name) = (ns.to_string(), name.to_string());
            move || {
                let (ns, name) = (ns.clone(), name.clone());
                async move { api::get_stream(&ns, &name).await }
            }
        },
    );
    set_title(&format!("{name} · {ns}"));
    crate::components::can::provide_access(ns.as_str());
    let since = Signal::derive(move || {
        stream
            .get()
            .and_then(Result::ok)
            .and_then(|s| s.metadata.resource_version)
    });
    let updated = live_updates(
        paths::imagestreams(ns.as_str()),
        Some(name.to_string()),
        since,
        Callback::new(move |()| stream.refetch()),
    );
    let what = format!("image stream {ns}/{name}");
    view! {
        <Breadcrumbs ns=ns.clone() stream=name.clone() />
        <LiveNote updated />
        <Loaded resource=stream first what rows=4
            view={move |s: ImageStream| view! {
                <StreamBody ns=ns.clone() name=name.clone() stream=s />
            }} />
    }
}

#[component]
fn StreamBody(ns: ProjectName, name: StreamName, stream: ImageStream) -> impl IntoView {
    let confirm = RwSignal::new(false);
    let navigate = use_navigate();
    let delete = Action::new_local(|(ns, name): &(String, String)| {
        let (ns, name) = (ns.clone(), name.clone());
        async move { api::delete_stream(&ns, &name).await }
    });
    Effect::new({
        let back = Route::Project { ns: ns.clone() }.path();
        move || {
            if let Some(Ok(_)) = delete.value().get() {
                confirm.set(false);
                navigate(&back, Default::default());
            }
        }
    });
    let full_name = format!("{ns}/{name}");
    let tag_names: Vec<String> = stream.tag_names().into_iter().map(str::to_owned).collect();
    let tag_count = tag_names.len();
    let repository = stream
        .status
        .public_docker_image_repository
        .clone()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| stream.status.docker_image_repository.clone());
    let edit_href = Route::EditStream {
        ns: ns.clone(),
        name: name.clone(),
    }
    .path();
    let rows = tag_names
        .iter()
        .map(|tag| tag_row(&ns, &name, &stream, tag))
        .collect_view();

    view! {
        <header class="page-head">
            <div>
                <h1 data-test="stream-title">{name.to_string()}</h1>
                <dl class="facts">
                    <div><dt>"Project"</dt><dd>{ns.to_string()}</dd></div>
                    <div><dt>"Tags"</dt><dd data-test="stream-tag-count">{tag_count}</dd></div>
                    {stream.metadata.creation_timestamp.map(|time| view! {
                        <div><dt>"Created"</dt><dd><RelativeTime time /></dd></div>
                    })}
                    {(!repository.is_empty()).then(|| view! {
                        <div><dt>"Repository"</dt><dd><code data-test="stream-repository">{repository.clone()}</code></dd></div>
                    })}
                    <div><dt>"Version"</dt><dd><code data-test="stream-resource-version">{stream.metadata.resource_version.clone()}</code></dd></div>
                </dl>
            </div>
            <div class="page-actions">
                <Can verb=Verb::Update resource=Resource::ImageStreams>
                    <a class="btn btn-primary" href=edit_href.clone() data-test="edit-stream">"Edit JSON"</a>
                </Can>
                <Can verb=Verb::Delete resource=Resource::ImageStreams>
                    <button type="button" class="btn btn-danger-outline" data-test="delete-stream"
                        on:click=move |_| { delete.clear(); confirm.set(true) }>
                        "Delete stream"
                    </button>
                </Can>
            </div>
        </header>
        <section aria-labelledby="tags-title">
            <h2 id="tags-title">"Tags"</h2>
            {if tag_count == 0 {
                view! {
                    <p class="empty" data-test="tags-empty">
                        "This stream has no tags yet. Use " <strong>"Edit JSON"</strong>
                        " to add one under spec.tags, with a source image to import."
                    </p>
                }.into_any()
            } else {
                view! {
                    <table class="table" data-test="tags-table">
                        <thead>
                            <tr>
                                <th scope="col">"Tag"</th>
                                <th scope="col">"Source"</th>
                                <th scope="col">"Current image"</th>
                                <th scope="col">"Updated"</th>
                                <th scope="col">"Status"</th>
                            </tr>
                        </thead>
                        <tbody>{rows}</tbody>
                    </table>
                }.into_any()
            }}
        </section>
        <ConfirmDialog open=confirm title=format!("Delete image stream {full_name}?") confirm_label="Delete stream"
            on_confirm=Callback::new({
                let target = (ns.to_string(), name.to_string());
                move |()| { delete.dispatch_local(target.clone()); }
            })
            pending=delete.pending() error=Signal::derive(move || delete.value().get().and_then(Result::err))>
            <p>
                "This deletes the image stream " <strong class="mono">{full_name.clone()}</strong>
                {match tag_count {
                    0 => String::new(),
                    1 => " and its tag with its history".to_owned(),
                    n => format!(" and its {n} tags with their history"),
                }}
                ". Images stay in their registries. This cannot be undone."
            </p>
        </ConfirmDialog>
    }
}

/// One row of the tags table.
fn tag_row(ns: &ProjectName, name: &StreamName, stream: &ImageStream, tag: &str) -> impl IntoView {
    let spec = stream.spec_tag(tag);
    let status = stream.status_tag(tag);
    let current = status.and_then(|s| s.current()).cloned();
    let health = TagHealth::of(
        status.map(|s| s.conditions.as_slice()).unwrap_or_default(),
        current.as_ref(),
        spec.and_then(|t| t.generation),
    );
    let tag_route = tag.parse::<TagName>().ok().map(|t| Route::Tag {
        ns: ns.clone(),
        stream: name.clone(),
        tag: t,
    });
    let image_route = current
        .as_ref()
        .and_then(|e| e.digest())
        .map(|digest| Route::Image {
            ns: ns.clone(),
            stream: name.clone(),
            digest,
        });
    view! {
        <tr data-test="tag-row" data-tag=tag.to_owned()>
            <th scope="row"><a href=tag_route.map(|r| r.path()) data-test="tag-link">{tag.to_owned()}</a></th>
            <td><TagSource from=spec.and_then(|t| t.from.clone()) ns=ns.clone() stream=name.clone() /></td>
            <td>
                {match (current.as_ref(), image_route) {
                    (Some(e), Some(route)) => view! {
                        <a href=route.path()><ShortDigest digest=e.image.clone() test="tag-digest" /></a>
                    }.into_any(),
                    (Some(e), None) => view! { <ShortDigest digest=e.image.clone() test="tag-digest" /> }.into_any(),
                    (None, _) => view! { <span class="muted" data-test="tag-no-image">"No image yet"</span> }.into_any(),
                }}
            </td>
            <td data-test="tag-updated">{current.as_ref().map(|e| view! { <RelativeTime time=e.created /> })}</td>
            <td><TagStatusBadge health /></td>
        </tr>
    }
}
