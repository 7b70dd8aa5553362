//! `/ns/{ns}/import`: the Import image form on a page of its own (it lives in the tools app, so
//! the pages a shared link opens do not carry it); reached from the project page.

use leptos::prelude::*;
use tagstream_shared::ProjectName;

use crate::components::breadcrumbs::Breadcrumbs;
use crate::components::import_form::ImportForm;
use crate::components::not_found::NotFoundView;
use crate::pages::{set_title, use_route};
use crate::routes::Route;

#[component]
pub fn ImportPage() -> impl IntoView {
    match use_route() {
        Some(Route::Import { ns }) => view! { <ImportView ns /> }.into_any(),
        _ => view! { <NotFoundView what="project" /> }.into_any(),
    }
}

#[component]
fn ImportView(ns: ProjectName) -> impl IntoView {
    set_title(&format!("Import image · {ns}"));
    let last = ("import".to_owned(), Route::Import { ns: ns.clone() });
    view! {
        <Breadcrumbs ns=ns.clone() last />
        <header class="page-head">
            <div>
                <h1 data-test="import-title">"Import image"</h1>
                <p class="muted">
                    "Into project " <span class="mono">{ns.to_string()}</span>
                    ": one tag, or every tag of a repository. Preview asks the registry and saves nothing."
                </p>
            </div>
        </header>
        <ImportForm ns />
    }
}
