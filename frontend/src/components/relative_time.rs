//! A time as people read it ("3 hours ago"), with the exact RFC 3339 time on hover.

use leptos::prelude::*;
use tagstream_shared::Time;

use crate::format;

#[component]
pub fn RelativeTime(time: Time) -> impl IntoView {
    let exact = time.to_string();
    view! {
        <time datetime=exact.clone() title=exact>{format::relative(time, format::now())}</time>
    }
}
