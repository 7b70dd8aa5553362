//! Shows its children only when the signed-in user may do `verb` on `resource` in the project:
//! the console asks the server once per project what the user holds there and decides with the
//! same predicates the server enforces (`tagstream_shared::access`). The server stays the
//! authority; this only hides what it would refuse.

use leptos::prelude::*;
use tagstream_shared::access::{ProjectAccess as Held, Resource, Verb};

use crate::api;
use crate::remembered::{self, Freshness};
use tagstream_shared::{Status, paths};

/// What the user holds in `ns`, fetched once per page and shared by every `Can` on it (shown from
/// the last answer at once when the page was visited before, then asked again): the review, and
/// the remembered answer that stands for it until it has one.
///
/// The `Can`s read what is held through a memo made with the page, outside its content's
/// suspense: a read of the review itself while it is being asked again (right after a
/// remembered answer is shown) would make that suspense wait for the server, and take content
/// already on screen back to skeleton rows until it answered.
#[derive(Clone)]
pub struct ProjectAccess(
    LocalResource<Result<Held, Status>>,
    Option<Held>,
    Memo<Option<Held>>,
);

impl std::fmt::Debug for ProjectAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProjectAccess")
    }
}

impl ProjectAccess {
    /// Resolves once the page knows what the user holds (a remembered answer counts), so that
    /// content can appear together with the actions it offers instead of having buttons pop into
    /// its header and rows afterwards (a layout shift whenever the review answers last).
    pub async fn settled(self) {
        if self.1.is_none() {
            _ = self.0.await;
        }
    }
}

/// Provides the access of `ns` to the page's `Can`s.
///
/// Until the review answers, every `Can` shows nothing; the page's `<body>` says which it is in
/// `data-access` (`pending`, then `answered`, also when the review failed and nothing is
/// allowed), so a script or a test can tell "not allowed" from "not known yet".
pub fn provide_access(ns: &str) {
    let ns = ns.to_owned();
    let (review, remembered) = remembered::resource(
        paths::access_reviews(&ns),
        Freshness::Revalidate,
        move || {
            let ns = ns.clone();
            async move { api::project_access(&ns).await }
        },
    );
    mark_access("pending");
    // The next page may ask nothing: it must not look as if it were still waiting for this one.
    on_cleanup(|| {
        if let Some(body) = document().body() {
            _ = body.remove_attribute("data-access");
        }
    });
    Effect::new(move |_| {
        if review.get().is_some() {
            mark_access("answered");
        }
    });
    let held = {
        let remembered = remembered.clone();
        // The latest answer (kept while it is asked again), a failed review allowing nothing,
        // and the remembered answer until there is one.
        Memo::new(move |_| match review.get() {
            Some(answer) => answer.ok(),
            None => remembered.clone(),
        })
    };
    provide_context(ProjectAccess(review, remembered, held));
}

fn mark_access(state: &str) {
    if let Some(body) = document().body() {
        _ = body.set_attribute("data-access", state);
    }
}

#[component]
pub fn Can(verb: Verb, resource: Resource, children: ChildrenFn) -> impl IntoView {
    let access = use_context::<ProjectAccess>();
    move || {
        let allowed = access
            .as_ref()
            .and_then(|a| a.2.get())
            .is_some_and(|held| held.allows(verb, resource));
        allowed.then(|| children())
    }
}
