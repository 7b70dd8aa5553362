//! Live updates: a page listens to the watch of the list its object belongs to (server-sent
//! events, which the browser resumes by itself with the last event id) and reloads when its
//! object changes, then says so briefly ("Updated just now").

use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos::wasm_bindgen::closure::Closure;
use tagstream_shared::Time;
use tagstream_shared::watch::WatchEvent;
use web_sys::{EventSource, MessageEvent};

use crate::components::relative_time::RelativeTime;

/// The open connection and the handlers it calls; dropped (closed) with the page's owner, so a
/// page left by a client-side navigation holds no connection.
struct Connection {
    source: EventSource,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::Event)>,
    /// Closes the stream when the document is left: one kept in the back-forward cache with an
    /// open stream holds one of the browser's six connections to the server, and a few of them
    /// stalled every request after for a minute.
    on_hide: Option<WindowListenerHandle>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.source.close();
        if let Some(handle) = self.on_hide.take() {
            handle.remove();
        }
    }
}

thread_local! {
    /// How many times the document was shown again from the back-forward cache.
    static SHOWN_AGAIN: std::cell::OnceCell<ArcRwSignal<u32>> = const { std::cell::OnceCell::new() };
}

/// Counts the times the document came back from the back-forward cache, where its streams were
/// closed on `pagehide`: each page reopens its stream then, from the last revision it loaded, so
/// the watch replays what changed meanwhile and the page is current again.
fn shown_again() -> ArcRwSignal<u32> {
    SHOWN_AGAIN.with(|cell| {
        cell.get_or_init(|| {
            let shown = ArcRwSignal::new(0u32);
            let bump = shown.clone();
            // Kept for the document's life.
            _ = window_event_listener(leptos::ev::pageshow, move |ev| {
                if ev.persisted() {
                    bump.update(|n| *n += 1);
                }
            });
            shown
        })
        .clone()
    })
}

/// Watches `list_path` from the revision `since` gives (once it is known), calling `changed`
/// for each change to an object named `name` (any object when `None`). Answers when the last
/// change arrived. A watch the server refuses (410: too old) is reopened from the next revision
/// the page loads.
pub fn live_updates(
    list_path: String,
    name: Option<String>,
    since: Signal<Option<String>>,
    changed: Callback<()>,
) -> RwSignal<Option<Time>> {
    let updated = RwSignal::new(None::<Time>);
    let connection = StoredValue::new_local(None::<Connection>);
    let opened_at = StoredValue::new_local(None::<String>);
    // Closed by `pagehide` rather than refused by the server: reopened when shown again.
    let hidden = StoredValue::new_local(false);
    let shown = shown_again();
    Effect::new(move || {
        shown.track();
        let Some(rv) = since.get() else { return };
        let open = connection.with_value(|c| c.as_ref().map(|c| c.source.ready_state()));
        if open.is_some_and(|state| state != EventSource::CLOSED) {
            return;
        }
        if opened_at.get_value().as_deref() == Some(rv.as_str())
            && open.is_some()
            && !hidden.get_value()
        {
            // Closed from this very revision (410): wait for a newer one.
            return;
        }
        hidden.set_value(false);
        let url = format!("{list_path}?watch=true&resourceVersion={rv}");
        let Ok(source) = EventSource::new(&url) else {
            return;
        };
        let name = name.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            let Some(data) = ev.data().as_string() else {
                return;
            };
            let Ok(event) = serde_json::from_str::<WatchEvent<serde_json::Value>>(&data) else {
                return;
            };
            let object_name = event
                .object
                .pointer("/metadata/name")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default();
            if name.as_deref().is_none_or(|n| n == object_name) {
                updated.set(Some(Time::now()));
                changed.run(());
            }
        });
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            // A closed source (the server refused it) is reopened from the reloaded revision.
            let closed = connection.with_value(|c| {
                c.as_ref()
                    .is_some_and(|c| c.source.ready_state() == EventSource::CLOSED)
            });
            if closed && !hidden.get_value() {
                changed.run(());
            }
        });
        let on_hide = {
            let source = source.clone();
            window_event_listener(leptos::ev::pagehide, move |_| {
                hidden.set_value(true);
                source.close();
            })
        };
        source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        opened_at.set_value(Some(rv));
        connection.set_value(Some(Connection {
            source,
            _on_message: on_message,
            _on_error: on_error,
            on_hide: Some(on_hide),
        }));
    });
    updated
}

/// "Updated just now" after a live change; nothing before.
#[component]
pub fn LiveNote(updated: RwSignal<Option<Time>>) -> impl IntoView {
    move || {
        updated.get().map(|time| {
            view! {
                <span class="live-note" role="status" data-test="live-updated">
                    "Updated " <RelativeTime time />
                </span>
            }
        })
    }
}
