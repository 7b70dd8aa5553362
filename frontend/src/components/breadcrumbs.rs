//! `Projects / demo / ruby / latest`: where the page sits, each step a link.

use leptos::prelude::*;
use tagstream_shared::{ProjectName, StreamName, TagName};

use crate::routes::Route;

/// The breadcrumb trail down to a project, stream and tag (each optional, in that order).
#[component]
pub fn Breadcrumbs(
    #[prop(optional, into)] ns: Option<ProjectName>,
    #[prop(optional, into)] stream: Option<StreamName>,
    #[prop(optional, into)] tag: Option<TagName>,
    /// A last step that is not a tag, such as a short digest.
    #[prop(optional, into)]
    last: Option<(String, Route)>,
) -> impl IntoView {
    let mut crumbs = vec![("Projects".to_owned(), Route::Projects)];
    if let Some(ns) = ns {
        crumbs.push((ns.to_string(), Route::Project { ns: ns.clone() }));
        if let Some(stream) = stream {
            crumbs.push((
                stream.to_string(),
                Route::Stream {
                    ns: ns.clone(),
                    name: stream.clone(),
                },
            ));
            if let Some(tag) = tag {
                crumbs.push((tag.to_string(), Route::Tag { ns, stream, tag }));
            }
        }
    }
    crumbs.extend(last);
    let count = crumbs.len();
    view! {
        <nav class="breadcrumbs" aria-label="Breadcrumb" data-test="breadcrumbs">
            <ol>
                {crumbs
                    .into_iter()
                    .enumerate()
                    .map(|(i, (label, route))| {
                        let current = (i + 1 == count).then_some("page");
                        view! {
                            <li>
                                <a href=route.path() aria-current=current data-test="breadcrumb">{label}</a>
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        </nav>
    }
}
