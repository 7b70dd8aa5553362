//! One routed page per file. Each page reads the current path back into a typed [`Route`], so a
//! malformed name in a link shows "not found" rather than a request the server would refuse.

pub mod access;
pub mod admin_samples;
pub mod admin_users;
pub mod audit;
pub mod compare;
pub mod edit_stream;
pub mod events;
pub mod image;
pub mod import;
pub mod login;
pub mod not_found;
pub mod openshift;
pub mod project;
pub mod projects;
pub mod stream;
pub mod tag;
pub mod tag_details;
pub mod tag_edit;
pub mod template;
pub mod templates;
pub mod triggers;

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::routes::Route;

/// Names the browser tab after the page ("ruby:latest · demo · tagstream"), so shared links and
/// history entries read as what they show.
pub fn set_title(page: &str) {
    let title = match page.is_empty() {
        true => "tagstream".to_owned(),
        false => format!("{page} · tagstream"),
    };
    document().set_title(&title);
}

/// The current page as a typed route, followed: changes only when the path does, not the
/// query. The frame's ([`crate::frame`]), which builds another page whenever it changes.
pub fn current_route() -> Memo<Option<Route>> {
    let location = use_location();
    Memo::new(move |_| Route::parse(&location.pathname.get()))
}

/// The route of the page being built, read once. A page never follows the path: the frame builds
/// another page whenever it parses to another route, so a page following it too only added work
/// (its own memo and match, for the next page's path) to every navigation away from it.
pub fn use_route() -> Option<Route> {
    Route::parse(&use_location().pathname.get_untracked())
}

/// The page's query parameter `key`, or "" when absent.
pub fn use_query_text(key: &'static str) -> Memo<String> {
    let query = leptos_router::hooks::use_query_map();
    Memo::new(move |_| query.with(|q| q.get(key).unwrap_or_default()))
}

/// A setter for the query: `set(&[(key, value)])` replaces each `key` (removed when the value is
/// empty) without a new history entry per keystroke and without scrolling. Other parameters stay.
pub fn use_set_query() -> impl Fn(&[(&'static str, &str)]) + Clone + 'static {
    let location = use_location();
    let navigate = leptos_router::hooks::use_navigate();
    move |changes| {
        let path = location.pathname.get_untracked();
        let mut pairs: Vec<(String, String)> = location.query.with_untracked(|q| {
            q.latest_values()
                .filter(|(k, _)| changes.iter().all(|(key, _)| k.as_ref() != *key))
                .map(|(k, v)| (k.to_string(), v.to_owned()))
                .collect()
        });
        pairs.extend(
            changes
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        navigate(
            &format!("{path}{}", crate::routes::query_string(&pairs)),
            leptos_router::NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            },
        );
    }
}

/// Pages that read their parameters back from the path and hand them to a page component.
pub mod routed {
    use leptos::prelude::*;

    use super::use_route;
    use crate::components::not_found::NotFoundView;
    use crate::routes::Route;

    #[component]
    pub fn InviteRoute() -> impl IntoView {
        match use_route() {
            Some(Route::Invite { token }) => {
                view! { <super::login::InvitePage token=token.0 /> }.into_any()
            }
            _ => view! { <NotFoundView what="invitation" /> }.into_any(),
        }
    }

    #[component]
    pub fn AccessRoute() -> impl IntoView {
        match use_route() {
            Some(Route::Access { ns }) => view! { <super::access::AccessPage ns /> }.into_any(),
            _ => view! { <NotFoundView what="project" /> }.into_any(),
        }
    }

    #[component]
    pub fn AuditRoute() -> impl IntoView {
        match use_route() {
            Some(Route::Audit { ns }) => {
                view! { <super::audit::AuditPage ns=ns.to_string() /> }.into_any()
            }
            Some(Route::AdminAudit) => view! { <super::audit::AuditPage /> }.into_any(),
            _ => view! { <NotFoundView what="project" /> }.into_any(),
        }
    }

    #[component]
    pub fn EditTagRoute() -> impl IntoView {
        match use_route() {
            Some(Route::EditTag { ns, stream, tag }) => {
                view! { <super::tag_edit::EditTagPage ns stream tag /> }.into_any()
            }
            _ => view! { <NotFoundView what="image stream tag" /> }.into_any(),
        }
    }
}
