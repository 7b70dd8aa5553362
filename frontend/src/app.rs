//! The console's frame (top bar, main area) and its router. Paths are matched here; each page
//! reads them back into a typed [`routes::Route`].

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::pages::image::ImagePage;
use crate::pages::not_found::NotFoundPage;
use crate::pages::openshift::OpenShiftRedirect;
use crate::pages::project::ProjectPage;
use crate::pages::projects::ProjectsPage;
use crate::pages::stream::StreamPage;
use crate::pages::tag::TagPage;
use crate::routes;

#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <header class="topbar">
                <a class="brand" href=routes::Route::Projects.path() data-test="home-link">"tagstream"</a>
                <nav class="topnav" aria-label="Main">
                    <a href=routes::Route::Projects.path()>"Projects"</a>
                </nav>
            </header>
            <main id="main" class="page" tabindex="-1">
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") view=ProjectsPage />
                    <Route path=path!("/ns/:ns") view=ProjectPage />
                    <Route path=path!("/ns/:ns/streams/:name") view=StreamPage />
                    <Route path=path!("/ns/:ns/streams/:name/tags/:tag") view=TagPage />
                    <Route path=path!("/ns/:ns/streams/:name/images/:digest") view=ImagePage />
                    <Route path=path!("/k8s/ns/:ns/:resource/:name") view=OpenShiftRedirect />
                </Routes>
            </main>
        </Router>
    }
}
