//! One-click copy with a visible "Copied" confirmation. Uses the async Clipboard API, and the
//! older `execCommand("copy")` where that API is missing or refused (plain-HTTP hosts).

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Copied {
    Idle,
    Done,
    Failed,
}

/// How long the confirmation stays.
const CONFIRMATION: Duration = Duration::from_secs(3);

#[component]
pub fn CopyButton(
    /// The exact text to copy.
    #[prop(into)]
    text: String,
    /// What the button says ("Copy").
    #[prop(default = "Copy")]
    label: &'static str,
    /// What is copied, for screen readers ("pull spec by digest").
    #[prop(into)]
    what: String,
    /// `data-test` of the button.
    test: &'static str,
) -> impl IntoView {
    let (state, set_state) = signal(Copied::Idle);
    let on_click = move |_| {
        let text = text.clone();
        spawn_local(async move {
            let ok = copy(&text).await;
            set_state.set(if ok { Copied::Done } else { Copied::Failed });
            set_timeout(move || set_state.set(Copied::Idle), CONFIRMATION);
        });
    };
    view! {
        <button type="button" class="btn btn-small" data-test=test aria-label=format!("{label} {what}") on:click=on_click>
            {label}
        </button>
        <span class="copy-status" role="status" aria-live="polite">
            {move || match state.get() {
                Copied::Idle => None,
                Copied::Done => Some(view! { <span class="copied" data-test="copied">"Copied"</span> }.into_any()),
                Copied::Failed => Some(view! {
                    <span class="copy-failed" data-test="copy-failed">"Could not copy: select the text and copy it"</span>
                }.into_any()),
            }}
        </span>
    }
}

/// Puts `text` on the clipboard; false when the browser refused both ways.
async fn copy(text: &str) -> bool {
    let clipboard = window().navigator().clipboard();
    let has_api = !AsRef::<JsValue>::as_ref(&clipboard).is_undefined();
    if has_api && JsFuture::from(clipboard.write_text(text)).await.is_ok() {
        return true;
    }
    copy_with_selection(text)
}

/// The fallback: select the text in an off-screen textarea and ask the document to copy it.
fn copy_with_selection(text: &str) -> bool {
    let document = document();
    let Some(body) = document.body() else {
        return false;
    };
    let Ok(area) = document
        .create_element("textarea")
        .map(JsCast::unchecked_into::<web_sys::HtmlTextAreaElement>)
    else {
        return false;
    };
    area.set_value(text);
    _ = area.set_attribute("readonly", "");
    _ = area.set_attribute("style", "position:fixed;top:-1000px;opacity:0");
    if body.append_child(&area).is_err() {
        return false;
    }
    area.select();
    let copied = document
        .dyn_ref::<web_sys::HtmlDocument>()
        .and_then(|d| d.exec_command("copy").ok())
        .unwrap_or(false);
    area.remove();
    copied
}
