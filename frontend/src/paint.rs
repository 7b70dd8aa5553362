//! Work that can wait until the frame showing a page is painted. A client-side navigation builds
//! the next page in the click's task, and every task that runs before the browser's next frame
//! delays what the click shows: an answer from a loopback server arrives within milliseconds, so
//! a request started in the click's task had its answer decoded (and rendered) before that frame.
//! What a page needs only after it is on screen (its followers, an access review it already has
//! an answer for, a tag's own answer behind the stand-in from its stream) starts here instead.

use std::time::Duration;

use leptos::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// Runs `f` once the next frame is painted: the frame's rendering step runs animation-frame
/// callbacks first, and a task queued from one runs after that frame.
pub fn after_paint(f: impl FnOnce() + 'static) {
    request_animation_frame(move || set_timeout(f, Duration::ZERO));
}

/// Resolves once the next frame is painted (see [`after_paint`]).
pub async fn painted() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        after_paint(move || _ = resolve.call0(&wasm_bindgen::JsValue::UNDEFINED));
    });
    _ = JsFuture::from(promise).await;
}
