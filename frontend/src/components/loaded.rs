//! How every page shows what it fetched: skeleton rows with "Loading …" the first time, the old
//! content while it reloads, the error banner with Retry on failure, and "not found or no access"
//! for a 404 or 403.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use leptos::error::{Error, Errors};
use leptos::prelude::*;
use tagstream_shared::{Status, StatusReason};

use crate::components::can::ProjectAccess;
use crate::components::error_banner::ErrorBanner;
use crate::components::not_found::NotFoundView;
use crate::components::skeleton::Loading;

/// The Status behind an error the boundary caught (every resource fails with one).
fn status_of(error: &Error) -> Status {
    match error.downcast_ref::<Status>() {
        Some(status) => status.clone(),
        None => Status::failure(StatusReason::InternalError, error.to_string()),
    }
}

/// A fetch that renders its value; boxed so that every page shares one copy of the machinery.
type RenderFetch =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<AnyView, Status>> + Send>> + Send + Sync>;

/// Shows `resource` through `view`. Generic only in this thin layer: the Transition, boundary and
/// suspense below are instantiated once for the whole console, which keeps the wasm small.
#[component]
pub fn Loaded<T, V, F>(
    resource: LocalResource<Result<T, Status>>,
    /// What is loading and, on a 404, what was not found ("image stream demo/ruby").
    #[prop(into)]
    what: String,
    /// Renders the loaded value.
    view: F,
    #[prop(default = 3)] rows: usize,
    /// The value remembered from an earlier visit ([`crate::remembered::resource`]), shown at
    /// once while the resource has none yet: the resource's own first value, even a remembered
    /// one, arrives a task later, and the first frame would show the skeleton (Back is instant
    /// only this way).
    #[prop(optional_no_strip)]
    first: Option<T>,
    /// `first` only stands in for the resource's first value (the tag as its stream has it,
    /// until the tag's own answer), so that value is rendered when it arrives. Otherwise `first`
    /// is that value itself, already on screen, and only later values are rendered.
    #[prop(optional)]
    stand_in: bool,
) -> impl IntoView
where
    T: Clone + PartialEq + Send + Sync + 'static,
    F: Fn(T) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    // Whether the frame showing `first` has been painted: what the resource brings meanwhile
    // waits for it. The stand-in's tag answer can arrive before that frame, and rendering it
    // then would rebuild the page before anything was painted.
    let painted = RwSignal::new(first.is_none());
    if first.is_some() {
        crate::paint::after_paint(move || _ = painted.try_set(true));
    }
    // What is on screen until the resource brings something else.
    let shown = StoredValue::new(first.clone());
    let first = StoredValue::new(first);
    // What a page shown from `first` follows: changes when the resource has a value to render
    // that is not on screen yet, and not when its first value is `first` itself (rendering the
    // same page again costs as much as the first time, right after it).
    let arrived = StoredValue::new(false);
    let changes = Memo::new(move |count: Option<&u32>| {
        let count = count.copied().unwrap_or(0);
        if !painted.get() || resource.read().is_none() {
            return count;
        }
        let first_value = !arrived.get_value();
        arrived.set_value(true);
        // The resource's first value is `first` itself, unless it was replaced before the paint
        // (the server's answer came that soon): compared, not assumed, or that answer would
        // never be shown.
        let on_screen = first_value
            && !stand_in
            && shown.with_value(|shown| match (shown, &*resource.read()) {
                (Some(shown), Some(Ok(value))) => shown == value,
                _ => false,
            });
        match on_screen {
            true => count,
            false => count + 1,
        }
    });
    // On a page whose actions depend on the user's access, the content waits for that answer
    // too (both requests run at once), so it appears whole.
    let access = use_context::<ProjectAccess>();
    let fetch: RenderFetch = Arc::new(move || {
        let view = view.clone();
        let access = access.clone();
        // The first render only: every later one follows the resource, which has its value by
        // then. Not decided by asking the resource whether it has one: a read of a resource
        // still loading, here inside the suspense, makes the suspense wait for it, and the
        // remembered value would stay behind skeleton rows until the server answered.
        let remembered = first.try_update_value(Option::take).flatten();
        match remembered {
            // Ready at once, so the suspense renders it synchronously; tracking what the
            // resource has beyond it renders that in place when it arrives (and every later
            // value, through the resource itself).
            Some(value) => Box::pin(async move {
                // Read, not only tracked: a memo never read has not subscribed to anything
                // itself, so it would never change.
                changes.get();
                Ok(view(value).into_any())
            }),
            None => Box::pin(async move {
                let value = resource.await;
                if let Some(access) = access {
                    access.settled().await;
                }
                value.map(|value| view(value).into_any())
            }),
        }
    });
    view! { <LoadedView fetch retry=Callback::new(move |()| resource.refetch()) what rows /> }
}

#[component]
fn LoadedView(fetch: RenderFetch, retry: Callback<()>, what: String, rows: usize) -> impl IntoView {
    let loading = what.clone();
    let fallback = move |errors: ArcRwSignal<Errors>| {
        let what = what.clone();
        move || {
            let status = errors
                .read()
                .iter()
                .next()
                .map(|(_, e)| status_of(e))
                .unwrap_or_else(|| Status::failure(StatusReason::Unknown, "Unknown error"));
            match status.reason {
                StatusReason::NotFound | StatusReason::Forbidden => {
                    view! { <NotFoundView what=what.clone() message=status.message /> }.into_any()
                }
                _ => view! { <ErrorBanner status on_retry=retry /> }.into_any(),
            }
        }
    };
    view! {
        <Transition fallback=move || view! { <Loading what=loading.clone() rows /> }>
            <ErrorBoundary fallback>
                {move || Suspend::new(fetch())}
            </ErrorBoundary>
        </Transition>
    }
}
