//! What can be done to a tag from its page: revert it to an earlier image of its history (a
//! new item at the front; the tag is pinned there) and remove it. Each asks first, naming
//! exactly what changes.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use tagstream_shared::{
    Digest, ImageStreamTag, ObjectMeta, ObjectReference, ProjectName, SourceKind, StreamName,
    TagName, TagReference,
};

use crate::api;
use crate::components::confirm_dialog::ConfirmDialog;
use crate::routes::Route;

/// The write that makes `digest` current again: the tag's policies kept, its source pinned to
/// that image of the stream (what `oc tag stream@digest stream:tag` does).
pub fn revert_body(
    stream: &StreamName,
    tag: &TagName,
    spec: Option<&TagReference>,
    digest: &str,
) -> ImageStreamTag {
    let spec = spec.cloned().unwrap_or_default();
    ImageStreamTag {
        kind: ImageStreamTag::KIND.into(),
        api_version: tagstream_shared::imagestream::API_VERSION.into(),
        metadata: ObjectMeta::named(format!("{stream}:{tag}")),
        tag: Some(TagReference {
            name: tag.to_string(),
            from: Some(ObjectReference {
                kind: SourceKind::ImageStreamImage.as_str().into(),
                name: format!("{stream}@{digest}"),
                ..ObjectReference::default()
            }),
            generation: None,
            ..spec
        }),
        generation: 0,
        lookup_policy: Default::default(),
        conditions: Vec::new(),
        image: None,
        items: Vec::new(),
    }
}

fn short(digest: &str) -> String {
    digest
        .parse::<Digest>()
        .map(|d| d.short())
        .unwrap_or_else(|_| digest.to_owned())
}

#[component]
pub fn RevertDialog(
    ns: ProjectName,
    stream: StreamName,
    tag: TagName,
    /// The tag's spec, whose policies a revert keeps.
    spec: Option<TagReference>,
    /// The digest the tag points at now.
    current: Option<String>,
    /// The digest to make current again; set by a history row's Revert button.
    target: RwSignal<Option<String>>,
    /// Reloads the page's data after the revert.
    reload: Callback<()>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    // A Revert button sets the target (every click notifies, even with the same digest), which
    // opens the dialog; closing it leaves the target as it was.
    Effect::new(move || {
        if target.with(Option::is_some) {
            open.set(true);
        }
    });
    let source = spec
        .as_ref()
        .and_then(|t| t.from.as_ref())
        .map(|f| f.describe())
        .unwrap_or_default();
    let revert = Action::new_local({
        let (ns, stream, tag) = (ns.to_string(), stream.clone(), tag.clone());
        move |digest: &String| {
            let body = revert_body(&stream, &tag, spec.as_ref(), digest);
            let (ns, name, tag) = (ns.clone(), stream.to_string(), tag.to_string());
            async move { api::set_stream_tag(&ns, &name, &tag, &body).await }
        }
    });
    Effect::new(move || {
        if let Some(Ok(_)) = revert.value().get() {
            revert.clear();
            open.set(false);
            reload.run(());
        }
    });
    let current_short = current
        .as_deref()
        .map(short)
        .unwrap_or_else(|| "nothing".into());
    view! {
        <ConfirmDialog open title=format!("Revert {stream}:{tag}?") confirm_label="Revert"
            on_confirm=Callback::new(move |()| {
                if let Some(d) = target.get_untracked() {
                    revert.dispatch_local(d);
                }
            })
            pending=revert.pending() error=Signal::derive(move || revert.value().get().and_then(Result::err))>
            <p data-test="revert-message">
                "Make " <code class="digest">{move || target.get().map(|d| short(&d)).unwrap_or_default()}</code>
                " current again instead of " <code class="digest">{current_short.clone()}</code> ". "
                "It becomes a new history item; the history is kept. The tag is pinned to that image"
                {(!source.is_empty()).then(|| format!(" and stops following {source}"))} "."
            </p>
        </ConfirmDialog>
    }
}

#[component]
pub fn RemoveTagDialog(
    ns: ProjectName,
    stream: StreamName,
    tag: TagName,
    open: RwSignal<bool>,
) -> impl IntoView {
    let navigate = use_navigate();
    let back = Route::Stream {
        ns: ns.clone(),
        name: stream.clone(),
    }
    .path();
    let remove = Action::new_local({
        let (ns, stream, tag) = (ns.to_string(), stream.to_string(), tag.to_string());
        move |(): &()| {
            let (ns, stream, tag) = (ns.clone(), stream.clone(), tag.clone());
            async move { api::delete_stream_tag(&ns, &stream, &tag).await }
        }
    });
    Effect::new(move || {
        if let Some(Ok(_)) = remove.value().get() {
            open.set(false);
            navigate(&back, Default::default());
        }
    });
    view! {
        <ConfirmDialog open title=format!("Remove tag {stream}:{tag}?") confirm_label="Remove tag"
            on_confirm=Callback::new(move |()| { remove.dispatch_local(()); })
            pending=remove.pending() error=Signal::derive(move || remove.value().get().and_then(Result::err))>
            <p>"This removes the tag " <strong class="mono">{format!("{stream}:{tag}")}</strong>
               " and its history from the stream. The images stay in their registry."</p>
        </ConfirmDialog>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revert_pins_the_tag_and_keeps_its_policies() {
        let stream: StreamName = "ruby".parse().expect("name");
        let tag: TagName = "latest".parse().expect("tag");
        let spec = TagReference {
            name: "latest".into(),
            reference_policy: tagstream_shared::TagReferencePolicy {
                kind: "Local".into(),
            },
            generation: Some(4),
            ..TagReference::default()
        };
        let body = revert_body(&stream, &tag, Some(&spec), "sha256:abc");
        let t = body.tag.expect("a tag");
        let from = t.from.expect("a source");
        assert_eq!(
            (from.kind.as_str(), from.name.as_str()),
            ("ImageStreamImage", "ruby@sha256:abc")
        );
        assert_eq!(t.reference_policy.kind, "Local");
        assert_eq!(t.generation, None, "the server sets the generation");
        assert_eq!(body.metadata.name(), "ruby:latest");
    }
}
