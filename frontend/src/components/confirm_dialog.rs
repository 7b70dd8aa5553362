//! Confirmation before a destructive action, in a modal `<dialog>` that names exactly what will
//! change. Escape and Cancel close it; the action's failure shows inside it.

use leptos::html::Dialog;
use leptos::prelude::*;
use tagstream_shared::Status;

use crate::components::error_banner::ErrorBanner;

#[component]
pub fn ConfirmDialog(
    /// Whether the dialog is shown; closing it (Escape, Cancel) sets this to false.
    open: RwSignal<bool>,
    /// The question, naming the object ("Delete image stream demo/ruby?").
    #[prop(into)]
    title: String,
    /// The confirming button's text ("Delete").
    confirm_label: &'static str,
    on_confirm: Callback<()>,
    /// True while the action runs.
    #[prop(into)]
    pending: Signal<bool>,
    /// The action's failure, shown in the dialog.
    #[prop(into)]
    error: Signal<Option<Status>>,
    /// What exactly will happen, in sentences.
    children: Children,
) -> impl IntoView {
    let dialog = NodeRef::<Dialog>::new();
    Effect::new(move || {
        let want_open = open.get();
        if let Some(el) = dialog.get() {
            if want_open && !el.open() {
                _ = el.show_modal();
            } else if !want_open && el.open() {
                el.close();
            }
        }
    });
    view! {
        <dialog node_ref=dialog class="dialog" data-test="confirm-dialog" aria-labelledby="confirm-title"
            on:close=move |_| open.set(false)>
            <h2 id="confirm-title" data-test="confirm-title">{title}</h2>
            <div class="dialog-body" data-test="confirm-message">{children()}</div>
            {move || error.get().map(|status| view! { <ErrorBanner status /> })}
            <div class="dialog-actions">
                <button type="button" class="btn" data-test="confirm-cancel" autofocus
                    on:click=move |_| open.set(false)>
                    "Cancel"
                </button>
                <button type="button" class="btn btn-danger" data-test="confirm-delete"
                    disabled=move || pending.get() on:click=move |_| on_confirm.run(())>
                    {move || if pending.get() { "Working…" } else { confirm_label }}
                </button>
            </div>
        </dialog>
    }
}
