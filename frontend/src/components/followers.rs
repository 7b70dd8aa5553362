//! Who follows a stream tag: workloads from instantiated templates whose
//! `image.openshift.io/triggers` annotation names it ("Deployment frontend, container web"), and
//! the project's triggers (webhooks). What the caller may not read is left out quietly.

use leptos::prelude::*;
use tagstream_shared::trigger::Trigger;
use tagstream_shared::workload::Follower;
use tagstream_shared::{ProjectName, StreamName, TagName};

use crate::api;
use crate::routes::Route;

/// What the section says when nothing follows the tag; its box also sets the section's height.
const EMPTY: &str = "Nothing follows this tag yet. Workloads from templates with an image trigger, and webhooks, show up here.";

/// What follows `stream:tag` in `ns`.
#[derive(Debug, Clone, Default, PartialEq)]
struct Followers {
    workloads: Vec<(String, Follower)>,
    triggers: Vec<Trigger>,
}

async fn load(ns: String, stream: String, tag: String) -> Followers {
    let name = format!("{stream}:{tag}");
    let workloads = api::list_template_instances(&ns)
        .await
        .map(|list| {
            list.items
                .into_iter()
                .flat_map(|i| {
                    let instance = i.metadata.name().to_owned();
                    i.status
                        .followers
                        .into_iter()
                        .map(move |f| (instance.clone(), f))
                })
                .filter(|(_, f)| f.tag == name && f.namespace.as_deref().is_none_or(|n| n == ns))
                .collect()
        })
        .unwrap_or_default();
    let triggers = api::list_triggers(&ns)
        .await
        .map(|list| {
            list.items
                .into_iter()
                .filter(|t| t.follows(&stream, &tag))
                .collect()
        })
        .unwrap_or_default();
    Followers {
        workloads,
        triggers,
    }
}

#[component]
pub fn TagFollowers(ns: ProjectName, stream: StreamName, tag: TagName) -> impl IntoView {
    // Asked once the tag's header is painted: on a navigation from the stream page the header
    // is shown at once, and these two lists (answered and decoded within milliseconds on
    // loopback) would otherwise come before it. The section keeps its height meanwhile.
    let followers = LocalResource::new({
        let (ns, stream, tag) = (ns.to_string(), stream.to_string(), tag.to_string());
        move || {
            let load = load(ns.clone(), stream.clone(), tag.clone());
            async move {
                crate::paint::painted().await;
                load.await
            }
        }
    });
    let triggers_page = Route::Triggers { ns }.path();
    // Every state shares one grid cell with an invisible copy of the empty box, so loading,
    // empty and a short list are all as tall as that box: the history below does not move when
    // the followers arrive (a shift under the pointer turns a click on Compare into a click on
    // something else).
    view! {
        <section aria-labelledby="followers-title" data-test="followers">
            <h2 id="followers-title">"Followers"</h2>
            <div class="steady">
                <p class="empty steady-sizer" aria-hidden="true">{EMPTY}</p>
                <Transition fallback=|| view! {
                    <p class="empty" role="status" aria-busy="true" data-test="followers-loading">"Loading followers…"</p>
                }>
                {move || followers.get().map(|f| {
                    if f.workloads.is_empty() && f.triggers.is_empty() {
                        return view! {
                            <p class="empty" data-test="followers-empty">{EMPTY}</p>
                        }.into_any();
                    }
                    let workloads = f.workloads.into_iter().map(|(instance, w)| view! {
                        <li data-test="follower-workload">
                            "Followed by " <strong>{format!("{} {}", w.kind, w.name)}</strong>
                            {w.container.map(|c| format!(" (container {c})"))}
                            <span class="muted">{format!(" — from template instance {instance}")}</span>
                            {w.paused.then(|| view! { " " <span class="badge badge-warn">"paused"</span> })}
                        </li>
                    }).collect_view();
                    let href = triggers_page.clone();
                    let triggers = f.triggers.into_iter().map(move |t| view! {
                        <li data-test="follower-trigger">
                            "Webhook " <a href=format!("{href}?trigger={}", t.metadata.name())><strong>{t.metadata.name().to_owned()}</strong></a>
                            <span class="muted mono">{format!(" → {}", t.spec.webhook.url)}</span>
                            {t.spec.paused.then(|| view! { " " <span class="badge badge-warn">"paused"</span> })}
                        </li>
                    }).collect_view();
                    view! { <ul class="followers" data-test="followers-list">{workloads}{triggers}</ul> }.into_any()
                })}
                </Transition>
            </div>
        </section>
    }
}
