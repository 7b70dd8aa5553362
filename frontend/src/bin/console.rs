//! The console app for browsing: projects, a project's streams (and creating one), a stream,
//! the OpenShift console redirects and "not found". Tags, tools, templates, access and activity
//! are other apps.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;
use tagstream_frontend::frame::{Fallback, TopBar, start};
use tagstream_frontend::pages::openshift::OpenShiftRedirect;
use tagstream_frontend::pages::project::ProjectPage;
use tagstream_frontend::pages::projects::ProjectsPage;
use tagstream_frontend::pages::stream::StreamPage;
use tagstream_frontend::routes::Bundle;

fn main() {
    start(App);
}

#[component]
fn App() -> impl IntoView {
    view! {
        <Router>
            <TopBar />
            <main id="main" class="page" tabindex="-1">
                <Routes fallback=|| view! { <Fallback this=Bundle::Links /> }>
                    <Route path=path!("/") view=ProjectsPage />
                    <Route path=path!("/ns/:ns") view=ProjectPage />
                    <Route path=path!("/ns/:ns/streams/:name") view=StreamPage />
                    <Route path=path!("/k8s/ns/:ns/:resource/:name") view=OpenShiftRedirect />
                </Routes>
            </main>
        </Router>
    }
}
