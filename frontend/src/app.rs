//! The console's frame (top bar, main area) and its router. Paths are matched here; each page
//! reads them back into a typed [`routes::Route`].

use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::pages::admin_samples::AdminSamplesPage;
use crate::pages::compare::ComparePage;
use crate::pages::events::EventsPage;
use crate::pages::image::ImagePage;
use crate::pages::not_found::NotFoundPage;
use crate::pages::openshift::OpenShiftRedirect;
use crate::pages::project::ProjectPage;
use crate::pages::projects::ProjectsPage;
use crate::pages::stream::StreamPage;
use crate::pages::tag::TagPage;
use crate::pages::template::TemplatePage;
use crate::pages::templates::TemplatesPage;
use crate::pages::triggers::TriggersPage;
use crate::routes;

/// `/` anywhere but in a text field focuses the page's search or filter box.
fn focus_search_on_slash() {
    // Kept for the page's life: the handle removes the listener only when asked to.
    _ = window_event_listener(leptos::ev::keydown, |ev| {
        if ev.key() != "/" || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        let typing = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok())
            .is_some_and(|el| {
                matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                    || el.is_content_editable()
            });
        let search = document()
            .query_selector("input[type=search]")
            .ok()
            .flatten()
            .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok());
        if let (false, Some(search)) = (typing, search) {
            ev.prevent_default();
            _ = search.focus();
        }
    });
}

#[component]
pub fn App() -> impl IntoView {
    focus_search_on_slash();
    view! {
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <header class="topbar">
                <a class="brand" href=routes::Route::Projects.path() data-test="home-link">"tagstream"</a>
                <nav class="topnav" aria-label="Main">
                    <a href=routes::Route::Projects.path()>"Projects"</a>
                    <a href=routes::Route::AdminSamples.path() data-test="nav-samples">"Samples"</a>
                </nav>
            </header>
            <main id="main" class="page" tabindex="-1">
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") view=ProjectsPage />
                    <Route path=path!("/ns/:ns") view=ProjectPage />
                    <Route path=path!("/ns/:ns/streams/:name") view=StreamPage />
                    <Route path=path!("/ns/:ns/streams/:name/tags/:tag") view=TagPage />
                    <Route path=path!("/ns/:ns/streams/:name/images/:digest") view=ImagePage />
                    <Route path=path!("/ns/:ns/streams/:name/compare/:a/:b") view=ComparePage />
                    <Route path=path!("/ns/:ns/templates") view=TemplatesPage />
                    <Route path=path!("/ns/:ns/templates/:name") view=TemplatePage />
                    <Route path=path!("/ns/:ns/triggers") view=TriggersPage />
                    <Route path=path!("/ns/:ns/events") view=EventsPage />
                    <Route path=path!("/admin/samples") view=AdminSamplesPage />
                    <Route path=path!("/k8s/ns/:ns/:resource/:name") view=OpenShiftRedirect />
                </Routes>
            </main>
        </Router>
    }
}
