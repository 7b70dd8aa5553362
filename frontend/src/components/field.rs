//! A labelled form field with its error next to it: the shared crate's check as you type, or the
//! server's Status cause for the field it names.

use leptos::prelude::*;

#[component]
pub fn Field(
    label: &'static str,
    /// The input's id, which the label points at; the error's id is `{id}-error`.
    id: &'static str,
    /// The message to show under the input, if any.
    #[prop(into)]
    error: Signal<Option<String>>,
    /// `data-test` of the error message.
    error_test: &'static str,
    #[prop(optional)] hint: &'static str,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="field" class:field-invalid=move || error.with(Option::is_some)>
            <label for=id>{label}</label>
            {children()}
            {(!hint.is_empty()).then(|| view! { <p class="field-hint">{hint}</p> })}
            {move || error.get().map(|message| view! {
                <p class="field-error" id=format!("{id}-error") data-test=error_test role="alert">{message}</p>
            })}
        </div>
    }
}

/// The first message among the field's own check and the server's cause.
pub fn first_error(local: Option<String>, server: Option<String>) -> Option<String> {
    server.or(local)
}

/// Moves the keyboard focus to the input `id` (a header's "Create …" button leads to its form).
pub fn focus(id: &str) {
    use wasm_bindgen::JsCast;
    if let Some(input) = document()
        .get_element_by_id(id)
        .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
    {
        _ = input.focus();
    }
}
