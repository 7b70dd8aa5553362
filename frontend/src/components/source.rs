//! Where a tag's image comes from: a registry reference, another tag it follows, or a pinned image.

use leptos::prelude::*;
use tagstream_shared::{
    ObjectReference, ProjectName, SourceKind, StreamName, StreamTagName, TagName,
};

use crate::routes::Route;

/// The page of the tag an `ImageStreamTag` source follows (`latest`, `ruby:3.3`, `other/ruby:3.3`).
fn followed_tag(from: &ObjectReference, ns: &ProjectName, stream: &StreamName) -> Option<Route> {
    let ns = match from.namespace.as_deref().filter(|n| !n.is_empty()) {
        Some(other) => other.parse().ok()?,
        None => ns.clone(),
    };
    match from.name.contains(':') {
        true => {
            let StreamTagName { stream, tag } = from.name.parse().ok()?;
            Some(Route::Tag { ns, stream, tag })
        }
        false => {
            let tag: TagName = from.name.parse().ok()?;
            Some(Route::Tag {
                ns,
                stream: stream.clone(),
                tag,
            })
        }
    }
}

/// The source as kind and name; `None` reads "set directly".
#[component]
pub fn TagSource(
    from: Option<ObjectReference>,
    /// The project and stream the tag is in, to link a followed tag.
    ns: ProjectName,
    stream: StreamName,
    #[prop(default = "tag-source")] test: &'static str,
) -> impl IntoView {
    let Some(from) = from else {
        return view! { <span class="muted" data-test=test>"Set directly (no source)"</span> }
            .into_any();
    };
    let described = from.describe();
    let kind_label = match from.source_kind() {
        Some(SourceKind::DockerImage) => "Image",
        Some(SourceKind::ImageStreamTag) => "Follows tag",
        Some(SourceKind::ImageStreamImage) => "Pinned image",
        None => "Unknown kind",
    };
    let link = match from.source_kind() {
        Some(SourceKind::ImageStreamTag) => followed_tag(&from, &ns, &stream),
        _ => None,
    };
    view! {
        <span class="source" data-test=test data-kind=from.kind.clone()>
            <span class="kind" title=from.kind.clone()>{kind_label}</span>
            " "
            {match link {
                Some(route) => view! { <a class="mono" href=route.path()>{described}</a> }.into_any(),
                None => view! { <code class="mono">{described}</code> }.into_any(),
            }}
        </span>
    }
    .into_any()
}
