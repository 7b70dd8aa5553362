//! A project's activity: its triggers with their delivery logs, and its events. Loaded when
//! someone goes to one of them; every other page is another app.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;
use tagstream_frontend::frame::{Fallback, TopBar, start};
use tagstream_frontend::pages::events::EventsPage;
use tagstream_frontend::pages::triggers::TriggersPage;
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
                <Routes fallback=|| view! { <Fallback this=Bundle::Activity /> }>
                    <Route path=path!("/ns/:ns/triggers") view=TriggersPage />
                    <Route path=path!("/ns/:ns/events") view=EventsPage />
                </Routes>
            </main>
        </Router>
    }
}
