//! `/ns/{ns}/triggers`: the project's webhooks (what each follows, where it posts, paused or
//! not), creating one, and the delivery log of the one chosen (`?trigger=`), with Redeliver.

use leptos::prelude::*;
use tagstream_shared::trigger::{
    API_VERSION, Delivery, DeliveryPhase, Trigger, TriggerFrom, TriggerSpec, Webhook,
    validate_trigger,
};
use tagstream_shared::{List, ObjectMeta, ProjectName, Status, paths};

use crate::api;
use crate::components::breadcrumbs::Breadcrumbs;
use crate::components::error_banner::ErrorBanner;
use crate::components::field::{Field, first_error};
use crate::components::live::{LiveNote, live_updates};
use crate::components::loaded::Loaded;
use crate::components::not_found::NotFoundView;
use crate::components::relative_time::RelativeTime;
use crate::components::short_digest::ShortDigest;
use crate::pages::{set_title, use_query_text, use_route, use_set_query};
use crate::routes::Route;

#[component]
pub fn TriggersPage() -> impl IntoView {
    match use_route() {
        Some(Route::Triggers { ns }) => view! { <TriggersView ns /> }.into_any(),
        _ => view! { <NotFoundView what="project" /> }.into_any(),
    }
}

#[component]
fn TriggersView(ns: ProjectName) -> impl IntoView {
    let triggers = LocalResource::new({
        let ns = ns.to_string();
        move || {
            let ns = ns.clone();
            async move { api::list_triggers(&ns).await }
        }
    });
    let since = Signal::derive(move || {
        triggers
            .get()
            .and_then(Result::ok)
            .and_then(|l| l.metadata.resource_version)
    });
    let updated = live_updates(
        paths::triggers(ns.as_str()),
        None,
        since,
        Callback::new(move |()| triggers.refetch()),
    );
    let chosen = use_query_text("trigger");
    set_title(&format!("Triggers · {ns}"));
    view! {
        <Breadcrumbs ns=ns.clone() last=("Triggers".to_owned(), Route::Triggers { ns: ns.clone() }) />
        <header class="page-head">
            <h1>"Triggers"</h1>
            <div class="page-actions"><LiveNote updated /></div>
        </header>
        <p class="muted">
            "A trigger posts a signed event to a webhook whenever a tag (or any tag of a stream) gets a new image."
        </p>
        <Loaded resource=triggers what="triggers" rows=3
            view={
                let ns = ns.clone();
                move |list: List<Trigger>| view! { <TriggerTable ns=ns.clone() list reload=Callback::new(move |()| triggers.refetch()) /> }
            } />
        {
            let ns = ns.clone();
            move || {
                let name = chosen.get();
                (!name.is_empty()).then(|| view! { <DeliveryLog ns=ns.clone() trigger=name /> })
            }
        }
        <CreateTrigger ns=ns.clone() on_created=Callback::new(move |()| triggers.refetch()) />
    }
}

#[component]
fn TriggerTable(ns: ProjectName, list: List<Trigger>, reload: Callback<()>) -> impl IntoView {
    if list.items.is_empty() {
        return view! {
            <p class="empty" data-test="triggers-empty">
                "No triggers yet — create one below to hear about new images."
            </p>
        }
        .into_any();
    }
    let set_query = use_set_query();
    let toggle = Action::new_local({
        let ns = ns.to_string();
        move |t: &Trigger| {
            let (ns, mut t) = (ns.clone(), t.clone());
            t.spec.paused = !t.spec.paused;
            async move { api::replace_trigger(&ns, &t).await }
        }
    });
    let remove = Action::new_local({
        let ns = ns.to_string();
        move |name: &String| {
            let (ns, name) = (ns.clone(), name.clone());
            async move { api::delete_trigger(&ns, &name).await }
        }
    });
    Effect::new(move || {
        if toggle.value().get().is_some() || remove.value().get().is_some() {
            reload.run(());
        }
    });
    let rows = list
        .items
        .into_iter()
        .map(|t| {
            let name = t.metadata.name().to_owned();
            let show = {
                let (name, set_query) = (name.clone(), set_query.clone());
                move |_| set_query(&[("trigger", &name)])
            };
            let paused = t.spec.paused;
            let for_toggle = t.clone();
            let for_remove = name.clone();
            let confirm_text = format!("Delete trigger {name} and its delivery log?");
            view! {
                <tr data-test="trigger-row" data-name=name.clone()>
                    <th scope="row" class="mono">{name.clone()}</th>
                    <td class="mono">{format!("{} {}", t.spec.from.kind, t.spec.from.name)}</td>
                    <td class="mono">{t.spec.webhook.url.clone()}</td>
                    <td>{if paused {
                        view! { <span class="badge badge-warn">"Paused"</span> }.into_any()
                    } else {
                        view! { <span class="badge badge-ok">"Active"</span> }.into_any()
                    }}</td>
                    <td class="row-actions">
                        <button type="button" class="btn btn-small" data-test="show-deliveries" on:click=show>"Deliveries"</button>
                        " "
                        <button type="button" class="btn btn-small" data-test="toggle-paused"
                            on:click=move |_| { toggle.dispatch_local(for_toggle.clone()); }>
                            {if paused { "Resume" } else { "Pause" }}
                        </button>
                        " "
                        <button type="button" class="btn btn-small btn-danger-outline" data-test="delete-trigger"
                            on:click=move |_| {
                                if window().confirm_with_message(&confirm_text).unwrap_or(false) {
                                    remove.dispatch_local(for_remove.clone());
                                }
                            }>"Delete"</button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        {move || toggle.value().get().and_then(Result::err).map(|status| view! { <ErrorBanner status /> })}
        <table class="table" data-test="triggers-table">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Follows"</th>
                    <th scope="col">"Webhook"</th>
                    <th scope="col">"State"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

#[component]
fn DeliveryLog(ns: ProjectName, trigger: String) -> impl IntoView {
    let log = LocalResource::new({
        let (ns, trigger) = (ns.to_string(), trigger.clone());
        move || {
            let (ns, trigger) = (ns.clone(), trigger.clone());
            async move { api::list_deliveries(&ns, &trigger).await }
        }
    });
    let again = Action::new_local({
        let (ns, trigger) = (ns.to_string(), trigger.clone());
        move |id: &String| {
            let (ns, trigger, id) = (ns.clone(), trigger.clone(), id.clone());
            async move { api::redeliver(&ns, &trigger, &id).await }
        }
    });
    Effect::new(move || {
        if again.value().get().is_some() {
            log.refetch();
        }
    });
    // Live: each new delivery and each attempt in the project reloads the log.
    let since = Signal::derive(move || {
        log.get()
            .and_then(Result::ok)
            .and_then(|l| l.metadata.resource_version)
    });
    let updated = live_updates(
        paths::deliveries(ns.as_str(), &trigger),
        None,
        since,
        Callback::new(move |()| log.refetch()),
    );
    let what = format!("deliveries of {trigger}");
    view! {
        <section class="panel" aria-labelledby="log-title" data-test="delivery-log">
            <h2 id="log-title">"Deliveries of " <span class="mono">{trigger.clone()}</span>
                " " <button type="button" class="btn btn-small" on:click=move |_| log.refetch()>"Reload"</button>
                " " <LiveNote updated /></h2>
            <Loaded resource=log what rows=3
                view={move |list: List<Delivery>| view! { <DeliveryTable list again /> }} />
        </section>
    }
}

#[component]
fn DeliveryTable(
    list: List<Delivery>,
    again: Action<String, Result<Delivery, Status>>,
) -> impl IntoView {
    if list.items.is_empty() {
        return view! { <p class="empty" data-test="deliveries-empty">"Nothing sent yet: deliveries appear when a followed tag gets a new image."</p> }.into_any();
    }
    let rows = list
        .items
        .into_iter()
        .map(|d| {
            let id = d.metadata.name().to_owned();
            let badge = match d.status.phase {
                DeliveryPhase::Delivered => "badge badge-ok",
                DeliveryPhase::Pending => "badge badge-warn",
                DeliveryPhase::Failed => "badge badge-error",
            };
            view! {
                <tr data-test="delivery-row" data-phase=d.status.phase.as_str()>
                    <td>{d.metadata.creation_timestamp.map(|time| view! { <RelativeTime time /> })}</td>
                    <td class="mono">{format!("{}:{} → ", d.event.stream, d.event.tag)}<ShortDigest digest=d.event.new_digest.clone() test="delivery-digest" /></td>
                    <td><span class=badge>{d.status.phase.as_str()}</span></td>
                    <td class="num">{d.status.attempts}</td>
                    <td class="num">{d.status.last_status_code.map(|c| c.to_string()).unwrap_or_default()}</td>
                    <td class="num">{d.status.last_latency_millis.map(|l| format!("{l} ms")).unwrap_or_default()}</td>
                    <td data-test="delivery-error">{d.status.last_error.clone().unwrap_or_default()}</td>
                    <td class="row-actions">
                        <button type="button" class="btn btn-small" data-test="redeliver"
                            on:click=move |_| { again.dispatch_local(id.clone()); }>"Redeliver"</button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table" data-test="deliveries-table">
            <thead>
                <tr>
                    <th scope="col">"Queued"</th>
                    <th scope="col">"Event"</th>
                    <th scope="col">"State"</th>
                    <th scope="col" class="num">"Attempts"</th>
                    <th scope="col" class="num">"Status"</th>
                    <th scope="col" class="num">"Latency"</th>
                    <th scope="col">"Last error"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

#[component]
fn CreateTrigger(ns: ProjectName, on_created: Callback<()>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let kind = RwSignal::new("ImageStreamTag".to_owned());
    let from = RwSignal::new(String::new());
    let url = RwSignal::new(String::new());
    let secret = RwSignal::new(String::new());
    let draft = move || Trigger {
        kind: Trigger::KIND.into(),
        api_version: API_VERSION.into(),
        metadata: ObjectMeta::named(name.get()),
        spec: TriggerSpec {
            from: TriggerFrom {
                kind: kind.get(),
                name: from.get(),
            },
            webhook: Webhook {
                url: url.get(),
                secret: Some(secret.get()),
            },
            paused: false,
        },
    };
    let create = Action::new_local({
        let ns = ns.to_string();
        move |t: &Trigger| {
            let (ns, t) = (ns.clone(), t.clone());
            async move { api::create_trigger(&ns, &t).await }
        }
    });
    Effect::new(move || {
        if let Some(Ok(_)) = create.value().get() {
            name.set(String::new());
            from.set(String::new());
            secret.set(String::new());
            on_created.run(());
        }
    });
    // The shared check as you type (only for fields already filled), then the server's causes.
    let error_for = move |field: &'static str, value: RwSignal<String>| {
        Signal::derive(move || {
            let local = (!value.get().is_empty())
                .then(|| {
                    validate_trigger(&draft(), true)
                        .into_iter()
                        .find(|e| e.field == field)
                        .map(|e| e.message())
                })
                .flatten();
            let server = create.value().get().and_then(Result::err).and_then(|s| {
                s.details?
                    .causes
                    .into_iter()
                    .find(|c| c.field.as_deref() == Some(field))
                    .map(|c| c.message)
            });
            first_error(local, server)
        })
    };
    let input = |signal: RwSignal<String>, id: &'static str, kind: &'static str| {
        view! { <input id=id type=kind prop:value=move || signal.get() on:input=move |ev| signal.set(event_target_value(&ev)) /> }
    };
    view! {
        <section class="panel" id="create-trigger" aria-labelledby="create-trigger-title">
            <h2 id="create-trigger-title">"Create trigger"</h2>
            <form on:submit=move |ev| { ev.prevent_default(); create.dispatch_local(draft()); }>
                <Field label="Name" id="trigger-name" error=error_for("metadata.name", name) error_test="trigger-name-error">
                    {input(name, "trigger-name", "text")}
                </Field>
                <div class="field">
                    <label for="trigger-kind">"Follows"</label>
                    <select id="trigger-kind" on:change=move |ev| kind.set(event_target_value(&ev))>
                        <option value="ImageStreamTag" selected=true>"One tag (stream:tag)"</option>
                        <option value="ImageStream">"Every tag of a stream"</option>
                    </select>
                </div>
                <Field label="Tag or stream" id="trigger-from" error=error_for("spec.from.name", from) error_test="trigger-from-error" hint="ruby:latest, or ruby for the whole stream">
                    {input(from, "trigger-from", "text")}
                </Field>
                <Field label="Webhook URL" id="trigger-url" error=error_for("spec.webhook.url", url) error_test="trigger-url-error">
                    {input(url, "trigger-url", "url")}
                </Field>
                <Field label="Secret" id="trigger-secret" error=error_for("spec.webhook.secret", secret) error_test="trigger-secret-error" hint="Signs each event (X-Tagstream-Signature); it is never shown again">
                    {input(secret, "trigger-secret", "password")}
                </Field>
                {move || create.value().get().and_then(Result::err).filter(|s| s.details.as_ref().is_none_or(|d| d.causes.is_empty())).map(|status| view! { <ErrorBanner status /> })}
                <button type="submit" class="btn btn-primary" data-test="create-trigger" disabled=move || create.pending().get()>"Create trigger"</button>
            </form>
        </section>
    }
}
