//! The one error view: a visible banner with the Status message and, when it makes sense, Retry.

use leptos::prelude::*;
use tagstream_shared::{Status, StatusReason};

/// A short title for a failure, above its message.
fn title(status: &Status) -> &'static str {
    match status.reason {
        StatusReason::NotFound => "Not found",
        StatusReason::Forbidden | StatusReason::Unauthorized => "Not allowed",
        StatusReason::Conflict => "Conflict",
        StatusReason::AlreadyExists => "Already exists",
        StatusReason::Invalid | StatusReason::BadRequest => "Not accepted",
        StatusReason::ServiceUnavailable | StatusReason::Timeout => "Server unreachable",
        _ => "Something went wrong",
    }
}

/// Shows `status.message` in an alert; `on_retry` adds a Retry button, `children` more actions.
#[component]
pub fn ErrorBanner(
    status: Status,
    #[prop(optional, into)] on_retry: Option<Callback<()>>,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="banner banner-error" role="alert" data-test="error-banner" data-reason=format!("{:?}", status.reason)>
            <div class="banner-text">
                <strong class="banner-title">{title(&status)}</strong>
                " "
                <span data-test="error-message">{status.message.clone()}</span>
            </div>
            <div class="banner-actions">
                {on_retry.map(|retry| view! {
                    <button type="button" class="btn" data-test="retry" on:click=move |_| retry.run(())>
                        "Retry"
                    </button>
                })}
                {children.map(|c| c())}
            </div>
        </div>
    }
}
