//! Page data kept in memory across client-side navigations, so that Back (or a second visit)
//! shows a page at once instead of its skeleton. What is kept is the last answer of each GET made
//! through [`crate::api`], by path, as the value it was decoded into; a page takes it as its first value
//! through [`resource`] and then makes sure it is current:
//! - [`Freshness::Watched`]: the page watches its list from the revision of that value, and the
//!   watch replays every change made since, which reloads the page; nothing to ask otherwise.
//! - [`Freshness::Revalidate`]: nothing watches it, so it is asked again once it is painted
//!   (the old value stays on screen until the new one arrives).
//!
//! Kept decoded rather than as the body: a navigation reads what it needs from the value (the
//! tag page its tag from the stream) instead of decoding the JSON again in the click's task.
//!
//! Bounded: the answers of the last [`KEPT`] paths.

use std::any::Any;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::rc::Rc;

use leptos::prelude::*;

use crate::api::ApiResult;

/// How many answers are kept: the pages of a browsing session, not the whole server.
const KEPT: usize = 48;

thread_local! {
    static VALUES: RefCell<VecDeque<(String, Rc<dyn Any>)>> = const { RefCell::new(VecDeque::new()) };
}

/// Keeps `value` as the latest answer for `path`.
pub fn keep<T: 'static>(path: &str, value: T) {
    VALUES.with_borrow_mut(|values| {
        values.retain(|(p, _)| p != path);
        if values.len() >= KEPT {
            values.pop_front();
        }
        values.push_back((path.to_owned(), Rc::new(value)));
    });
}

/// The latest answer kept for `path`.
fn recall(path: &str) -> Option<Rc<dyn Any>> {
    VALUES.with_borrow(|values| {
        values
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, value)| Rc::clone(value))
    })
}

/// What `read` makes of the latest answer kept for `path` (`None` when there is none or it is
/// not a `T`), without a copy of the whole answer.
pub fn recall_with<T: 'static, R>(path: &str, read: impl FnOnce(&T) -> R) -> Option<R> {
    let value = recall(path)?;
    value.downcast_ref::<T>().map(read)
}

/// The latest answer kept for `path`, as a `T` (`None` when there is none or it is not one).
pub fn recall_as<T: Clone + 'static>(path: &str) -> Option<T> {
    recall_with(path, T::clone)
}

/// How a remembered value is brought up to date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// The page's watch starts from the value's revision and replays what changed since.
    Watched,
    /// Fetched again once the remembered value is on screen.
    Revalidate,
}

/// A page's resource for the GET of `path` (made by `fetch`, which must go through
/// [`crate::api`]'s remembering GET), and the remembered value to show until it has one: the
/// resource's first value is the remembered one when there is one, every later one (a refetch)
/// is fetched.
pub fn resource<T, Fut>(
    path: String,
    freshness: Freshness,
    fetch: impl Fn() -> Fut + 'static,
) -> (LocalResource<ApiResult<T>>, Option<T>)
where
    T: Clone + 'static,
    Fut: Future<Output = ApiResult<T>> + 'static,
{
    let first = StoredValue::new_local(true);
    let recalled: Option<T> = recall_as(&path);
    let had_value = recalled.is_some();
    let shown_first = recalled.clone();
    let recalled = StoredValue::new_local(recalled);
    let resource = LocalResource::new(move || {
        let remembered = match first.get_value() {
            true => {
                first.set_value(false);
                recalled.try_update_value(Option::take).flatten()
            }
            false => None,
        };
        let fetched = fetch();
        async move {
            match remembered {
                Some(value) => Ok(value),
                None => fetched.await,
            }
        }
    });
    if had_value && freshness == Freshness::Revalidate {
        // After the remembered value is painted: a refetch right away would make the page wait
        // for it behind its skeleton, and one in that frame's animation callbacks (or its answer,
        // decoded before the frame) would delay the frame itself.
        crate::paint::after_paint(move || resource.refetch());
    }
    (resource, shown_first)
}
