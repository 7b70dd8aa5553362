//! What both console apps share around their router: starting up, the top bar, the `/` shortcut,
//! and the fallback that sends a path of the other app to the server for a full page load.

use std::sync::OnceLock;

use leptos::mount::mount_to_body;
use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos_router::hooks::use_location;

use crate::pages::not_found::NotFoundPage;
use crate::routes::{Bundle, Route};

/// The path this document was loaded for: the server chose this app for it.
static LOADED_FOR: OnceLock<String> = OnceLock::new();

/// Mounts `app` in place of the boot message.
pub fn start<N: IntoView + 'static>(app: fn() -> N) {
    console_error_panic_hook::set_once();
    if let Ok(path) = window().location().pathname() {
        _ = LOADED_FOR.set(path);
    }
    if let Some(boot) = document().get_element_by_id("boot") {
        boot.remove();
    }
    // A page shown again from the back-forward cache has closed its live streams (and may show
    // old data): load it afresh.
    _ = window_event_listener(leptos::ev::pageshow, |ev| {
        if ev.persisted() {
            _ = window().location().reload();
        }
    });
    mount_to_body(app);
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

/// The router's fallback in the app `this`. The router handles every same-origin link, also one
/// to a page of the other app: that one is loaded from the server (which answers it with the
/// other app), replacing the history entry the router just added, so Back and Forward still
/// step through pages. A path that is no page of either app, or the very path the server loaded
/// this app for (a server that disagrees must not cause a reload loop), shows "not found".
#[component]
pub fn Fallback(this: Bundle) -> impl IntoView {
    let location = use_location();
    let path = location.pathname.get_untracked();
    let loaded_here = LOADED_FOR.get().is_some_and(|p| *p == path);
    if Bundle::for_path(&path) == this || loaded_here {
        return view! { <NotFoundPage /> }.into_any();
    }
    let url = format!(
        "{path}{}{}",
        location.search.get_untracked(),
        location.hash.get_untracked()
    );
    _ = window().location().replace(&url);
    view! { <p class="muted" role="status" data-test="loading-page">"Loading…"</p> }.into_any()
}
