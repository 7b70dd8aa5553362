//! The console's one app: the top bar, the `/` shortcut, and the one router, which shows the page
//! of the route table ([`crate::routes`]) that matches the path, or "not found". Every link
//! between console pages is a client-side navigation.

use leptos::mount::mount_to_body;
use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos_router::components::Router;
use leptos_router::hooks::use_location;
use leptos_router::location::{BrowserUrl, LocationProvider as _};

use crate::pages::current_route;
use crate::pages::not_found::NotFoundPage;
use crate::routes::Route;

/// Mounts the console in place of the boot message.
pub fn start() {
    console_error_panic_hook::set_once();
    if let Some(boot) = document().get_element_by_id("boot") {
        boot.remove();
    }
    mount_to_body(App);
}

/// The router and the frame around every page. The page changes only when the path parses to
/// another route (a query change keeps the page and its form input).
#[component]
fn App() -> impl IntoView {
    view! {
        <Router>
            <TopBar />
            <main id="main" class="page" tabindex="-1">
                <CurrentPage />
            </main>
        </Router>
    }
}

#[component]
fn CurrentPage() -> impl IntoView {
    let route = current_route();
    // The router puts a link's path in the address bar (and a history entry) only once told the
    // new page is ready, which its `<Routes>` would do: there is one page per path here, shown
    // as soon as the path changes, so it is ready then. Told once that page is painted, unless
    // the window is scrolled: completing a navigation (`history.pushState`, then scrolling to
    // the top) took ~5 ms of the click's task, before the frame that shows the new page, and
    // only the scroll is something a person would see in that frame.
    if let Some(location) = use_context::<BrowserUrl>() {
        let pathname = use_location().pathname;
        Effect::new(move || {
            pathname.track();
            if window().scroll_y().unwrap_or_default() == 0.0 {
                let location = location.clone();
                crate::paint::after_paint(move || location.ready_to_complete());
            } else {
                location.ready_to_complete();
            }
        });
    }
    // Each page under an owner of its own (the inner closure's), so that what a page provides
    // (its project's access review) goes with it: a page that provides nothing must not find
    // the previous page's. Pages read their route once and never change it themselves.
    move || match route.get() {
        Some(route) => (move || route.page()).into_any(),
        None => view! { <NotFoundPage /> }.into_any(),
    }
}

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

/// The skip link and the top bar: product name (home) and the main sections.
#[component]
pub fn TopBar() -> impl IntoView {
    focus_search_on_slash();
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="topbar">
            <a class="brand" href=Route::Projects.path() data-test="home-link">"tagstream"</a>
            <nav class="topnav" aria-label="Main">
                <a href=Route::Projects.path()>"Projects"</a>
                <a href=Route::AdminSamples.path() data-test="nav-samples">"Samples"</a>
            </nav>
            <crate::components::session_menu::SessionMenu />
        </header>
    }
}
