//! A digest shortened to its algorithm and 12 hex digits, monospace, the full digest on hover.

use leptos::prelude::*;
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
) -> impl IntoView {
    let test = (!test.is_empty()).then_some(test);
    view! {
        <code class="digest" title=digest.clone() data-test=test data-digest=digest.clone()>{short(&digest)}</code>
    }
}
