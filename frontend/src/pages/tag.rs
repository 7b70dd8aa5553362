//! `/ns/{ns}/streams/{name}/tags/{tag}`: the link people share. Which image the tag points at now
//! and since when, where it comes from, how to pull it, its import status and its history.

use leptos::prelude::*;
use tagstream_shared::{
    Digest, ImageReference, ImageStream, ImageStreamTag, ProjectName, SourceKind, StreamName,
    TagEvent, TagName, paths,
};

use crate::api;
use crate::components::breadcrumbs::Breadcrumbs;
use crate::components::can::Can;
use crate::components::copy_button::CopyButton;
use crate::components::followers::TagFollowers;
use crate::components::live::{LiveNote, live_updates};
use crate::components::loaded::Loaded;
use crate::components::not_found::NotFoundView;
use crate::components::relative_time::RelativeTime;
use crate::components::short_digest::ShortDigest;
use crate::components::source::TagSource;
use crate::components::tag_actions::{RemoveTagDialog, RevertDialog};
use crate::components::tag_status::{TagHealth, TagStatusBadge};
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

/// A pull spec that follows the tag, when one can be told: the current image's reference if it
/// names a tag, else the registry reference the tag imports from.
fn pull_by_tag(ist: &ImageStreamTag) -> Option<(String, &'static str)> {
    let current = ist
        .image
        .as_ref()
        .and_then(|i| i.docker_image_reference.parse::<ImageReference>().ok())
        .filter(|r| r.tag.is_some() && r.digest.is_none());
    if let Some(reference) = current {
        return Some((reference.to_string(), "the current image's tag"));
    }
    let from = ist.tag.as_ref()?.from.as_ref()?;
    if from.source_kind() != Some(SourceKind::DockerImage) {
        return None;
    }
    let reference: ImageReference = from.name.parse().ok()?;
    (reference.digest.is_none()).then(|| {
        (
            reference.to_string(),
            "the source tag: it may have moved since the last import",
        )
    })
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
    let current: Option<&TagEvent> = ist.items.first();
    let digest = ist
        .image
        .as_ref()
        .map(|i| i.metadata.name().to_owned())
        .or_else(|| current.map(|e| e.image.clone()))
        .filter(|d| !d.is_empty());
    let by_digest = current.and_then(TagEvent::pull_spec_by_digest).or_else(|| {
        let image = ist.image.as_ref()?;
        let reference: ImageReference = image.docker_image_reference.parse().ok()?;
        Some(
            reference
                .with_digest(image.metadata.name().parse().ok()?)
                .to_string(),
        )
    });
    let by_tag = pull_by_tag(&ist);
    let last_checked = ist.last_checked();
    let health = TagHealth::of(
        &ist.conditions,
        current,
        ist.tag.as_ref().and_then(|t| t.generation),
    );
    let image_route = |digest: &str| {
        digest.parse().ok().map(|digest| Route::Image {
            ns: ns.clone(),
            stream: stream.clone(),
            digest,
        })
    };
    let current_view = match &digest {
        Some(d) => {
            let short = view! { <ShortDigest digest=d.clone() test="current-digest" timing="tag-current-digest" /> };
            match image_route(d) {
                Some(route) => view! { <a href=route.path()>{short}</a> }.into_any(),
                None => short.into_any(),
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
    let history = ist
        .items
        .iter()
        .enumerate()
        .map(|(i, event)| {
            let route = image_route(&event.image);
            let spec = event.pull_spec_by_digest().unwrap_or_else(|| event.docker_image_reference.clone());
            view! {
                <tr data-test="history-row" data-digest=event.image.clone() class:current={i == 0}>
                    <td data-test="history-time"><RelativeTime time=event.created /></td>
                    <td>
                        {match route {
                            Some(r) => view! { <a href=r.path()><ShortDigest digest=event.image.clone() test="history-digest" /></a> }.into_any(),
                            None => view! { <ShortDigest digest=event.image.clone() test="history-digest" /> }.into_any(),
                        }}
                        {(i == 0).then(|| view! { " " <span class="badge badge-neutral">"current"</span> })}
                    </td>
                    <td><code class="pull-spec" data-test="history-pull-spec">{spec}</code></td>
                    <td class="num" data-test="history-generation">{event.generation}</td>
                    <td class="row-actions">{(i > 0 && Some(&event.image) != current_digest.as_ref()).then(|| {
                        let image = event.image.clone();
                        let compare = match (event.image.parse::<Digest>(), current_digest.as_deref().map(str::parse::<Digest>)) {
                            (Ok(a), Some(Ok(b))) => Some(Route::Compare { ns: ns.clone(), stream: stream.clone(), a, b }.path()),
                            _ => None,
                        };
                        view! {
                            {compare.map(|href| view! { <a class="btn btn-small" href=href data-test="compare">"Compare"</a> " " })}
                            <Can verb=Verb::Update resource=Resource::ImageStreamTags>
                                <button type="button" class="btn btn-small" data-test="revert"
                                    on:click={ let image = image.clone(); move |_| revert_to.set(Some(image.clone())) }>"Revert"</button>
                            </Can>
                        }
                    })}</td>
                </tr>
            }
        })
        .collect_view();
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
    let history_count = ist.items.len();
    let revert_dialog = {
        let (ns, stream, tag) = (ns.clone(), stream.clone(), tag.clone());
        let (spec, current) = (ist.tag.clone(), current_digest.clone());
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

    view! {
        <header class="page-head">
            <div>
                <h1 class="mono" data-test="tag-title">{title}</h1>
                <dl class="facts facts-wide" aria-busy=provisional.then_some("true")>
                    <div><dt>"Source"</dt><dd><TagSource from ns=ns.clone() stream=stream.clone() /></dd></div>
                    <div><dt>"Current image"</dt><dd>{current_view}</dd></div>
                    {current.map(|e| view! {
                        <div><dt>"Updated"</dt><dd data-test="tag-updated"><RelativeTime time=e.created /></dd></div>
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
        <section class="panel" aria-labelledby="pull-title">
            <h2 id="pull-title">"Pull"</h2>
            {match by_digest {
                Some(spec) => view! {
                    <div class="pull">
                        <span class="pull-label">"By digest"</span>
                        <code class="pull-spec" data-test="pull-by-digest">{spec.clone()}</code>
                        <CopyButton text=spec what="pull spec by digest" test="copy-pull-by-digest" />
                    </div>
                }.into_any(),
                None => view! { <p class="muted" data-test="pull-none">"Nothing to pull until the tag has an image."</p> }.into_any(),
            }}
            {by_tag.map(|(spec, note)| view! {
                <div class="pull">
                    <span class="pull-label">"By tag"</span>
                    <code class="pull-spec" data-test="pull-by-tag" title=note>{spec.clone()}</code>
                    <CopyButton text=spec what="pull spec by tag" test="copy-pull-by-tag" />
                    <span class="muted pull-note">{note}</span>
                </div>
            })}
        </section>
        <TagFollowers ns=ns.clone() stream=stream.clone() tag=tag.clone() />
        <section aria-labelledby="history-title">
            <h2 id="history-title">"History " <span class="muted count">{format!("({history_count})")}</span></h2>
            {if history_count == 0 {
                view! { <p class="empty" data-test="history-empty">"No history yet: the tag has not pointed at any image."</p> }.into_any()
            } else {
                view! {
                    <table class="table" data-test="history-table">
                        <thead>
                            <tr>
                                <th scope="col">"Since"</th>
                                <th scope="col">"Image"</th>
                                <th scope="col">"Pull spec"</th>
                                <th scope="col" class="num">"Generation"</th>
                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                            </tr>
                        </thead>
                        <tbody>{history}</tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use tagstream_shared::{ObjectReference, TagReference};

    use super::*;

    fn tag_from(kind: &str, name: &str) -> ImageStreamTag {
        let mut stream = ImageStream::new("ruby");
        stream.spec.tags.push(TagReference {
            name: "latest".into(),
            from: Some(ObjectReference {
                kind: kind.into(),
                name: name.into(),
                ..ObjectReference::default()
            }),
            ..TagReference::default()
        });
        stream.stream_tag("latest").expect("the tag exists")
    }

    #[test]
    fn pull_by_tag_follows_a_registry_tag_only() {
        let ist = tag_from("DockerImage", "quay.io/demo/ruby:3.3");
        assert_eq!(
            pull_by_tag(&ist).map(|(spec, _)| spec).as_deref(),
            Some("quay.io/demo/ruby:3.3")
        );
        assert_eq!(
            pull_by_tag(&tag_from("ImageStreamTag", "python:3.12")),
            None
        );
        let pinned = "quay.io/demo/ruby@sha256:d8b4cbc952f2a3e4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e56e03";
        assert_eq!(pull_by_tag(&tag_from("DockerImage", pinned)), None);
    }
}
