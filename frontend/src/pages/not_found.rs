//! The page for a path the console does not serve.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::components::not_found::NotFoundView;
use crate::pages::set_title;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    set_title("Not found");
    let path = use_location().pathname;
    view! { <NotFoundView what=format!("page at {}", path.get_untracked()) /> }
}
