//! `/ns/{ns}/events`: what happened in a project lately, newest first: tags that moved (by a
//! person, a follow or an import), imports that failed, webhook deliveries. Live: a change to
//! the project's streams reloads it.

use leptos::prelude::*;
use tagstream_shared::event::{Event, EventType};
use tagstream_shared::{List, ProjectName, paths};

use crate::api;
use crate::components::breadcrumbs::Breadcrumbs;
use crate::components::live::{LiveNote, live_updates};
use crate::components::loaded::Loaded;
use crate::components::not_found::NotFoundView;
use crate::components::relative_time::RelativeTime;
use crate::pages::{set_title, use_route};
use crate::routes::Route;

#[component]
pub fn EventsPage() -> impl IntoView {
    match use_route() {
        Some(Route::Events { ns }) => view! { <EventsView ns /> }.into_any(),
        _ => view! { <NotFoundView what="project" /> }.into_any(),
    }
}

#[component]
fn EventsView(ns: ProjectName) -> impl IntoView {
    let events = LocalResource::new({
        let ns = ns.to_string();
        move || {
            let ns = ns.clone();
            async move { api::list_events(&ns).await }
        }
    });
    let streams = LocalResource::new({
        let ns = ns.to_string();
        move || {
            let ns = ns.clone();
            async move { api::list_streams(&ns).await }
        }
    });
    let since = Signal::derive(move || {
        streams
            .get()
            .and_then(Result::ok)
            .and_then(|l| l.metadata.resource_version)
    });
    let updated = live_updates(
        paths::imagestreams(ns.as_str()),
        None,
        since,
        Callback::new(move |()| events.refetch()),
    );
    set_title(&format!("Events · {ns}"));
    view! {
        <Breadcrumbs ns=ns.clone() last=("Events".to_owned(), Route::Events { ns: ns.clone() }) />
        <header class="page-head">
            <h1>"Events"</h1>
            <div class="page-actions">
                <LiveNote updated />
                <button type="button" class="btn" on:click=move |_| events.refetch()>"Reload"</button>
            </div>
        </header>
        <Loaded resource=events what="events" rows=5
            view={move |list: List<Event>| view! { <EventTable list /> }} />
    }
}

#[component]
fn EventTable(list: List<Event>) -> impl IntoView {
    if list.items.is_empty() {
        return view! {
            <p class="empty" data-test="events-empty">
                "Nothing has happened here yet. Tag changes, imports and webhook deliveries show up here."
            </p>
        }
        .into_any();
    }
    let rows = list
        .items
        .into_iter()
        .map(|e| {
            let badge = match e.event_type {
                EventType::Normal => "badge badge-ok",
                EventType::Warning => "badge badge-warn",
            };
            view! {
                <tr data-test="event-row" data-reason=format!("{:?}", e.reason)>
                    <td><RelativeTime time=e.event_time /></td>
                    <td><span class=badge>{format!("{:?}", e.reason)}</span></td>
                    <td class="mono">{format!("{} {}", e.involved_object.kind, e.involved_object.name)}</td>
                    <td data-test="event-message">{e.message}</td>
                    <td class="muted">{e.actor}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table" data-test="events-table">
            <thead>
                <tr>
                    <th scope="col">"When"</th>
                    <th scope="col">"What"</th>
                    <th scope="col">"Object"</th>
                    <th scope="col">"Message"</th>
                    <th scope="col">"By"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
