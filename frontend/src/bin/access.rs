//! The console's account and access pages: signing in, invitations, a project's access rules
//! and audit log, users and teams, API tokens. Loaded when someone goes to one of them (a
//! signed-out visitor lands on sign-in first); the other pages are other apps.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;
use tagstream_frontend::frame::{Fallback, TopBar, start};
use tagstream_frontend::pages::admin_users::{AdminUsersPage, TokensPage};
use tagstream_frontend::pages::login::LoginPage;
use tagstream_frontend::pages::routed::{AccessRoute, AuditRoute, InviteRoute};
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
                <Routes fallback=|| view! { <Fallback this=Bundle::Access /> }>
                    <Route path=path!("/login") view=LoginPage />
                    <Route path=path!("/invite/:token") view=InviteRoute />
                    <Route path=path!("/ns/:ns/access") view=AccessRoute />
                    <Route path=path!("/ns/:ns/audit") view=AuditRoute />
                    <Route path=path!("/admin/users") view=AdminUsersPage />
                    <Route path=path!("/admin/audit") view=AuditRoute />
                    <Route path=path!("/tokens") view=TokensPage />
                </Routes>
            </main>
        </Router>
    }
}
