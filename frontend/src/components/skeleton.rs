//! What shows while something loads: "Loading …" text and grey skeleton rows, never a bare spinner.

use leptos::prelude::*;

#[component]
pub fn Loading(
    /// What is loading, in words ("image streams").
    #[prop(into)]
    what: String,
    #[prop(default = 3)] rows: usize,
) -> impl IntoView {
    view! {
        <div class="loading" role="status" aria-live="polite" aria-busy="true" data-test="loading">
            <p class="muted">"Loading " {what} "…"</p>
            <div class="skeleton" aria-hidden="true">
                {(0..rows).map(|_| view! { <div class="skeleton-row"></div> }).collect_view()}
            </div>
        </div>
    }
}
