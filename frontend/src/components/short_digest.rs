//! A digest shortened to its algorithm and 12 hex digits, monospace, the full digest on hover.

use leptos::prelude::*;
use leptos::tachys::html::attribute::custom::custom_attribute;
use tagstream_shared::Digest;

/// `sha256:d8b4cbc952f2`, or the text as given when it is not a digest.
pub fn short(digest: &str) -> String {
    digest
        .parse::<Digest>()
        .map(|d| d.short())
        .unwrap_or_else(|_| digest.to_owned())
}

#[component]
pub fn ShortDigest(
    #[prop(into)] digest: String,
    #[prop(optional)] test: &'static str,
    /// An Element Timing name, for measuring when the digest is painted.
    #[prop(optional)]
    timing: &'static str,
) -> impl IntoView {
    let test = (!test.is_empty()).then_some(test);
    let timing = (!timing.is_empty()).then_some(timing);
    view! {
        <code class="digest" title=digest.clone() data-test=test>{short(&digest)}</code>
    }
    .add_any_attr(custom_attribute("elementtiming", timing))
}
