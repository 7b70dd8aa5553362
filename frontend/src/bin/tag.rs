//! The tag page alone (`/ns/{ns}/streams/{name}/tags/{tag}`): the link people share most, so
//! the app it needs carries nothing else. Every other page is another app.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;
use tagstream_frontend::frame::{Fallback, TopBar, start};
use tagstream_frontend::pages::tag::TagPage;
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
                <Routes fallback=|| view! { <Fallback this=Bundle::Tag /> }>
                    <Route path=path!("/ns/:ns/streams/:name/tags/:tag") view=TagPage />
                </Routes>
            </main>
        </Router>
    }
}
