//! "Not found or no access": what anyone sees for a path or object they cannot see, without
//! saying which of the two it is.

use leptos::prelude::*;

use crate::routes::Route;

#[component]
pub fn NotFoundView(
    /// What was asked for, in words ("image stream demo/ruby").
    #[prop(into)]
    what: String,
    /// The server's explanation, when there is one.
    #[prop(optional, into)]
    message: Option<String>,
) -> impl IntoView {
    view! {
        <section class="not-found" data-test="not-found">
            <h1>"Not found or no access"</h1>
            <p>
                "There is no " <strong data-test="not-found-what">{what}</strong>
                ", or you are not allowed to see it. Check the link, or ask someone with access to the project."
            </p>
            {message.map(|m| view! { <p class="muted" data-test="not-found-message">{m}</p> })}
            <p><a href=Route::Projects.path() data-test="not-found-home">"Go to the projects list"</a></p>
        </section>
    }
}
