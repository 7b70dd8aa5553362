//! `/ns/{ns}/audit` (project admins) and `/admin/audit` (cluster admins): every change, newest
//! first: who, when, what, and the resourceVersion before and after.

use leptos::prelude::*;
use tagstream_shared::List;
use tagstream_shared::user::AuditEvent;

use crate::api;
use crate::components::loaded::Loaded;
use crate::components::relative_time::RelativeTime;
use crate::pages::set_title;

#[component]
pub fn AuditPage(#[prop(optional)] ns: Option<String>) -> impl IntoView {
    set_title(
        &ns.as_ref()
            .map_or_else(|| "Audit log".to_owned(), |ns| format!("Audit log · {ns}")),
    );
    let heading = ns
        .as_ref()
        .map_or_else(|| "Audit log".to_owned(), |ns| format!("Audit log of {ns}"));
    let events = LocalResource::new(move || {
        let ns = ns.clone();
        async move { api::audit_events(ns.as_deref()).await }
    });
    let table = |list: List<AuditEvent>| {
        view! {
            <table class="table" data-test="audit">
                <thead><tr><th>"When"</th><th>"Who"</th><th>"What"</th><th>"Object"</th><th>"Version"</th></tr></thead>
                <tbody>{list.items.into_iter().map(|e| {
                    let object = match &e.namespace {
                        Some(ns) => format!("{} {ns}/{}", e.resource.split('.').next().unwrap_or_default(), e.name),
                        None => format!("{} {}", e.resource.split('.').next().unwrap_or_default(), e.name),
                    };
                    let versions = format!(
                        "{} → {}",
                        e.resource_version_before.as_deref().unwrap_or("—"),
                        e.resource_version_after.as_deref().unwrap_or("—")
                    );
                    view! {
                        <tr data-test="audit-row">
                            <td>{e.metadata.creation_timestamp.map(|t| view! { <RelativeTime time=t /> })}</td>
                            <td class="mono">{e.user}</td>
                            <td>{e.verb}</td>
                            <td class="mono">{object}</td>
                            <td class="mono">{versions}</td>
                        </tr>
                    }
                }).collect_view()}</tbody>
            </table>
        }
    };
    view! {
        <header class="page-head"><h1>{heading}</h1></header>
        <Loaded resource=events what="audit log" view=table />
    }
}
