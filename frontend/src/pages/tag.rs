//! `/ns/{ns}/streams/{name}/tags/{tag}`: the link people share. Which image the tag points at now
//! and since when, where it comes from, how to pull it, its import status and its history.

use leptos::prelude::*;
use tagstream_shared::{
    ImageStream, ImageStreamTag, ProjectName, SourceKind, StreamName, TagEvent, TagName, paths,
};

use crate::api;
use crate::components::breadcrumbs::Breadcrumbs;
use crate::components::can::Can;
use crate::components::live::{LiveNote, live_updates};
use crate::components::loaded::Loaded;
use crate::components::not_found::NotFoundView;
use crate::components::relative_time::RelativeTime;
use crate::components::short_digest::ShortDigest;
use crate::components::source::TagSource;
use crate::components::tag_actions::{RemoveTagDialog, RevertDialog};
use crate::components::tag_status::{TagHealth, TagStatusBadge};
use crate::pages::tag_details::TagDetails;
use crate::pages::{set_title, use_route};
use crate::remembered::{self, Freshness};
use crate::routes::Route;
use tagstream_shared::access::{Resource, Verb};

#[component]
pub fn TagPage() -> impl IntoView {
    match use_route() {
        Some(Route::Tag { ns, stream, tag }) => view! { <TagView ns stream tag /> }.into_any(),
        _ => view! { <NotFoundView what="image stream tag" /> }.into_any(),
    }
}

#[component]
fn TagView(ns: ProjectName, stream: StreamName, tag: TagName) -> impl IntoView {
    let path = paths::imagestreamtag(ns.as_str(), stream.as_str(), tag.as_str());
    // Not shown before in this document, but its stream was (the stream page links here): the
    // tag as that stream has it, shown at once while the tag's own answer (the whole image, when
    // it was last checked) is on its way, instead of skeleton rows for a round trip.
    let stand_in = match remembered::recall_with(&path, |_: &ImageStreamTag| ()) {
        Some(()) => None,
        None => remembered::recall_with(
            &paths::imagestream(ns.as_str(), stream.as_str()),
            |s: &ImageStream| s.stream_tag(tag.as_str()),
        )
        .flatten(),
    };
    // The tag's own answer behind a stand-in is rendered only once the stand-in is painted, so
    // it is asked for then too: asked in the click's task, it was answered and decoded before
    // the frame that shows the stand-in, which waited for it.
    let wait_for_paint = StoredValue::new_local(stand_in.is_some());
    let (resource, first) = remembered::resource(path, Freshness::Watched, {
        let (ns, stream, tag) = (ns.to_string(), stream.to_string(), tag.to_string());
        move || {
            let (ns, stream, tag) = (ns.clone(), stream.clone(), tag.clone());
            let wait = wait_for_paint
                .try_update_value(|wait| std::mem::replace(wait, false))
                .unwrap_or(false);
            async move {
                if wait {
                    crate::paint::painted().await;
                }
                api::get_stream_tag(&ns, &stream, &tag).await
            }
        }
    });
    let from_stream = first.is_none() && stand_in.is_some();
    let first = first.or(stand_in);
    let rendered = StoredValue::new(false);
    set_title(&format!("{stream}:{tag} · {ns}"));
    crate::components::can::provide_access(ns.as_str());
    let since = Signal::derive(move || {
        resource
            .get()
            .and_then(Result::ok)
            .and_then(|ist| ist.metadata.resource_version)
    });
    let updated = live_updates(
        paths::imagestreams(ns.as_str()),
        Some(stream.to_string()),
        since,
        Callback::new(move |()| resource.refetch()),
    );
    let what = format!("image stream tag {ns}/{stream}:{tag}");
    view! {
        <Breadcrumbs ns=ns.clone() stream=stream.clone() tag=tag.clone() />
        <LiveNote updated />
        <Loaded resource=resource first stand_in=from_stream what rows=6
            view={move |ist: ImageStreamTag| {
                // `Loaded` renders the value it is given first once, then the tag's own answers.
                let provisional = from_stream
                    && !rendered.try_update_value(|r| std::mem::replace(r, true)).unwrap_or(true);
                view! { <TagBody ns=ns.clone() stream=stream.clone() tag=tag.clone() ist provisional reload=Callback::new(move |()| resource.refetch()) /> }
            }} />
    }
}

#[component]
fn TagBody(
    ns: ProjectName,
    stream: StreamName,
    tag: TagName,
    ist: ImageStreamTag,
    /// `ist` is the tag as its stream has it, until the tag's own answer replaces it: that
    /// answer may add when the tag was last checked, so a tag that imports from a registry keeps
    /// a row for it meanwhile (nothing below moves when it arrives), and the facts say they are
    /// still loading.
    provisional: bool,
    reload: Callback<()>,
) -> impl IntoView {
    let revert_to = RwSignal::new(None::<String>);
    let remove_open = RwSignal::new(false);
    // Each dialog is built the first time it is asked for and kept from then on: most visits
    // open neither, and building both was part of the work between a click on a tag link and
    // its digest on screen.
    let revert_asked = Memo::new(move |asked: Option<&bool>| {
        asked.is_some_and(|a| *a) || revert_to.with(Option::is_some)
    });
    let remove_asked =
        Memo::new(move |asked: Option<&bool>| asked.is_some_and(|a| *a) || remove_open.get());
    // Shown from its stream on a click from the stream page, the page's first frame holds its
    // header (the digest and the facts) only, and what is below it (pull specs, followers,
    // history) is built once that frame is painted: the click's task and that frame's style,
    // layout and paint were what stood between the click and the digest on screen. Appended
    // below the header, it moves nothing already shown. Built at once otherwise.
    let details_shown = RwSignal::new(!provisional);
    if provisional {
        crate::paint::after_paint(move || _ = details_shown.try_set(true));
    }
    let current: Option<&TagEvent> = ist.items.first();
    let digest = ist
        .image
        .as_ref()
        .map(|i| i.metadata.name().to_owned())
        .or_else(|| current.map(|e| e.image.clone()))
        .filter(|d| !d.is_empty());
    let last_checked = ist.last_checked();
    let health = TagHealth::of(
        &ist.conditions,
        current,
        ist.tag.as_ref().and_then(|t| t.generation),
    );
    let current_view = match &digest {
        Some(d) => {
            let short = view! { <ShortDigest digest=d.clone() test="current-digest" timing="tag-current-digest" /> };
            match d.parse() {
                Ok(digest) => {
                    let route = Route::Image { ns: ns.clone(), stream: stream.clone(), digest };
                    view! { <a href=route.path()>{short}</a> }.into_any()
                }
                Err(_) => short.into_any(),
            }
        }
        None => view! {
            <span data-test="no-image">
                "No image yet. " <span class="muted">"The tag gets one when its first import succeeds."</span>
            </span>
        }
        .into_any(),
    };
    let current_digest = current.map(|e| e.image.clone());
    let title = format!("{stream}:{tag}");
    let edit_href = Route::EditTag {
        ns: ns.clone(),
        stream: stream.clone(),
        tag: tag.clone(),
    }
    .path();
    let from = ist.tag.as_ref().and_then(|t| t.from.clone());
    let imports_from_registry = from
        .as_ref()
        .is_some_and(|f| f.source_kind() == Some(SourceKind::DockerImage));
    let updated = current.map(|e| e.created);
    let revert_dialog = {
        let (ns, stream, tag) = (ns.clone(), stream.clone(), tag.clone());
        let (spec, current) = (ist.tag.clone(), current_digest);
        move || {
            revert_asked.get().then(|| view! {
                <RevertDialog ns=ns.clone() stream=stream.clone() tag=tag.clone() spec=spec.clone()
                    current=current.clone() target=revert_to reload />
            })
        }
    };
    let remove_dialog = {
        let (ns, stream, tag) = (ns.clone(), stream.clone(), tag.clone());
        move || {
            remove_asked.get().then(|| view! {
                <RemoveTagDialog ns=ns.clone() stream=stream.clone() tag=tag.clone() open=remove_open />
            })
        }
    };
    let details = {
        let (ns, stream, tag) = (ns.clone(), stream.clone(), tag.clone());
        move || {
            details_shown.get().then(|| view! {
                <TagDetails ns=ns.clone() stream=stream.clone() tag=tag.clone() ist=ist.clone() revert_to />
            })
        }
    };

    view! {
        <header class="page-head">
            <div>
                <h1 class="mono" data-test="tag-title">{title}</h1>
                <dl class="facts facts-wide" aria-busy=provisional.then_some("true")>
                    <div><dt>"Source"</dt><dd><TagSource from ns=ns.clone() stream=stream.clone() /></dd></div>
                    <div><dt>"Current image"</dt><dd>{current_view}</dd></div>
                    {updated.map(|t| view! {
                        <div><dt>"Updated"</dt><dd data-test="tag-updated"><RelativeTime time=t /></dd></div>
                    })}
                    {last_checked.map(|t| view! {
                        <div><dt>"Last checked"</dt><dd data-test="tag-last-checked"><RelativeTime time=t /></dd></div>
                    })}
                    {(last_checked.is_none() && provisional && imports_from_registry).then(|| view! {
                        <div><dt>"Last checked"</dt><dd class="muted">"…"</dd></div>
                    })}
                    <div><dt>"Import"</dt><dd><TagStatusBadge health with_message=true /></dd></div>
                </dl>
            </div>
            <div class="page-actions">
                <Can verb=Verb::Update resource=Resource::ImageStreamTags>
                    <a class="btn" href=edit_href.clone() data-test="edit-tag">"Tag as… / policies"</a>
                </Can>
                <Can verb=Verb::Delete resource=Resource::ImageStreamTags>
                    <button type="button" class="btn btn-danger-outline" data-test="remove-tag"
                        on:click=move |_| remove_open.set(true)>"Remove tag"</button>
                </Can>
            </div>
        </header>
        {revert_dialog}
        {remove_dialog}
        {details}
    }
}
