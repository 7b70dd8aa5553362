//! tagstream's console: a Leptos app rendered in the browser, talking to the server it was served
//! from. This file only mounts it.

mod api;
mod app;
mod components;
mod format;
mod merge;
mod pages;
mod routes;

fn main() {
    console_error_panic_hook::set_once();
    if let Some(boot) = leptos::prelude::document().get_element_by_id("boot") {
        boot.remove();
    }
    leptos::mount::mount_to_body(app::App);
}
