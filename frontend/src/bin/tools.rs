//! The console's tools: importing images, editing a stream as JSON, an image's details and
//! comparing two images. Loaded when someone goes to one of them; the pages a shared link opens
//! and the templates are other apps.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;
use tagstream_frontend::frame::{Fallback, TopBar, start};
use tagstream_frontend::pages::compare::ComparePage;
use tagstream_frontend::pages::edit_stream::EditStreamPage;
use tagstream_frontend::pages::image::ImagePage;
use tagstream_frontend::pages::import::ImportPage;
use tagstream_frontend::pages::routed::EditTagRoute;
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
                <Routes fallback=|| view! { <Fallback this=Bundle::Tools /> }>
                    <Route path=path!("/ns/:ns/import") view=ImportPage />
                    <Route path=path!("/ns/:ns/streams/:name/edit") view=EditStreamPage />
                    <Route path=path!("/ns/:ns/streams/:name/images/:digest") view=ImagePage />
                    <Route path=path!("/ns/:ns/streams/:name/compare/:a/:b") view=ComparePage />
                    <Route path=path!("/ns/:ns/streams/:name/tags/:tag/edit") view=EditTagRoute />
                </Routes>
            </main>
        </Router>
    }
}
