//! The page for a path the console does not serve.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::components::not_found::NotFoundView;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    let path = use_location().pathname;
    view! { <NotFoundView what=format!("page at {}", path.get_untracked()) /> }
}
