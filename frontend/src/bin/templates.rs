//! The console's templates: the catalog of a project, a template's page (form, live preview,
//! instantiate) and the samples admin page. Loaded when someone goes to one of them; the pages a
//! shared link opens and the other tools are other apps.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;
use tagstream_frontend::frame::{Fallback, TopBar, start};
use tagstream_frontend::pages::admin_samples::AdminSamplesPage;
use tagstream_frontend::pages::template::TemplatePage;
use tagstream_frontend::pages::templates::TemplatesPage;
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
                <Routes fallback=|| view! { <Fallback this=Bundle::Templates /> }>
                    <Route path=path!("/ns/:ns/templates") view=TemplatesPage />
                    <Route path=path!("/ns/:ns/templates/:name") view=TemplatePage />
                    <Route path=path!("/admin/samples") view=AdminSamplesPage />
                </Routes>
            </main>
        </Router>
    }
}
