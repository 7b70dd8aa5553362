//! What the tag page shows below its header: how to pull the current image, what follows the
//! tag, and the tag's history (with Compare and Revert on earlier images).

use leptos::prelude::*;
use tagstream_shared::access::{Resource, Verb};
use tagstream_shared::{
    Digest, ImageReference, ImageStreamTag, ProjectName, SourceKind, StreamName, TagEvent, TagName,
};

use crate::components::can::Can;
use crate::components::copy_button::CopyButton;
use crate::components::followers::TagFollowers;
use crate::components::relative_time::RelativeTime;
use crate::components::short_digest::ShortDigest;
use crate::routes::Route;

/// A pull spec that follows the tag, when one can be told: the current image's reference if it
/// names a tag, else the registry reference the tag imports from.
fn pull_by_tag(ist: &ImageStreamTag) -> Option<(String, &'static str)> {
    let current = ist
        .image
        .as_ref()
        .and_then(|i| i.docker_image_reference.parse::<ImageReference>().ok())
        .filter(|r| r.tag.is_some() && r.digest.is_none());
    if let Some(reference) = current {
        return Some((reference.to_string(), "the current image's tag"));
    }
    let from = ist.tag.as_ref()?.from.as_ref()?;
    if from.source_kind() != Some(SourceKind::DockerImage) {
        return None;
    }
    let reference: ImageReference = from.name.parse().ok()?;
    (reference.digest.is_none()).then(|| {
        (
            reference.to_string(),
            "the source tag: it may have moved since the last import",
        )
    })
}

/// The pull specs, the followers and the history of the tag `ist`; a Revert button sets
/// `revert_to` to its image.
#[component]
pub fn TagDetails(
    ns: ProjectName,
    stream: StreamName,
    tag: TagName,
    ist: ImageStreamTag,
    revert_to: RwSignal<Option<String>>,
) -> impl IntoView {
    let current: Option<&TagEvent> = ist.items.first();
    let by_digest = current.and_then(TagEvent::pull_spec_by_digest).or_else(|| {
        let image = ist.image.as_ref()?;
        let reference: ImageReference = image.docker_image_reference.parse().ok()?;
        Some(
            reference
                .with_digest(image.metadata.name().parse().ok()?)
                .to_string(),
        )
    });
    let by_tag = pull_by_tag(&ist);
    let image_route = |digest: &str| {
        digest.parse().ok().map(|digest| Route::Image {
            ns: ns.clone(),
            stream: stream.clone(),
            digest,
        })
    };
    let current_digest = current.map(|e| e.image.clone());
    let history = ist
        .items
        .iter()
        .enumerate()
        .map(|(i, event)| {
            let route = image_route(&event.image);
            let spec = event.pull_spec_by_digest().unwrap_or_else(|| event.docker_image_reference.clone());
            view! {
                <tr data-test="history-row" data-digest=event.image.clone() class:current={i == 0}>
                    <td data-test="history-time"><RelativeTime time=event.created /></td>
                    <td>
                        {match route {
                            Some(r) => view! { <a href=r.path()><ShortDigest digest=event.image.clone() test="history-digest" /></a> }.into_any(),
                            None => view! { <ShortDigest digest=event.image.clone() test="history-digest" /> }.into_any(),
                        }}
                        {(i == 0).then(|| view! { " " <span class="badge badge-neutral">"current"</span> })}
                    </td>
                    <td><code class="pull-spec" data-test="history-pull-spec">{spec}</code></td>
                    <td class="num" data-test="history-generation">{event.generation}</td>
                    <td class="row-actions">{(i > 0 && Some(&event.image) != current_digest.as_ref()).then(|| {
                        let image = event.image.clone();
                        let compare = match (event.image.parse::<Digest>(), current_digest.as_deref().map(str::parse::<Digest>)) {
                            (Ok(a), Some(Ok(b))) => Some(Route::Compare { ns: ns.clone(), stream: stream.clone(), a, b }.path()),
                            _ => None,
                        };
                        view! {
                            {compare.map(|href| view! { <a class="btn btn-small" href=href data-test="compare">"Compare"</a> " " })}
                            <Can verb=Verb::Update resource=Resource::ImageStreamTags>
                                <button type="button" class="btn btn-small" data-test="revert"
                                    on:click={ let image = image.clone(); move |_| revert_to.set(Some(image.clone())) }>"Revert"</button>
                            </Can>
                        }
                    })}</td>
                </tr>
            }
        })
        .collect_view();
    let history_count = ist.items.len();
    view! {
        <section class="panel" aria-labelledby="pull-title">
            <h2 id="pull-title">"Pull"</h2>
            {match by_digest {
                Some(spec) => view! {
                    <div class="pull">
                        <span class="pull-label">"By digest"</span>
                        <code class="pull-spec" data-test="pull-by-digest">{spec.clone()}</code>
                        <CopyButton text=spec what="pull spec by digest" test="copy-pull-by-digest" />
                    </div>
                }.into_any(),
                None => view! { <p class="muted" data-test="pull-none">"Nothing to pull until the tag has an image."</p> }.into_any(),
            }}
            {by_tag.map(|(spec, note)| view! {
                <div class="pull">
                    <span class="pull-label">"By tag"</span>
                    <code class="pull-spec" data-test="pull-by-tag" title=note>{spec.clone()}</code>
                    <CopyButton text=spec what="pull spec by tag" test="copy-pull-by-tag" />
                    <span class="muted pull-note">{note}</span>
                </div>
            })}
        </section>
        <TagFollowers ns=ns.clone() stream=stream.clone() tag=tag.clone() />
        <section aria-labelledby="history-title">
            <h2 id="history-title">"History " <span class="muted count">{format!("({history_count})")}</span></h2>
            {if history_count == 0 {
                view! { <p class="empty" data-test="history-empty">"No history yet: the tag has not pointed at any image."</p> }.into_any()
            } else {
                view! {
                    <table class="table" data-test="history-table">
                        <thead>
                            <tr>
                                <th scope="col">"Since"</th>
                                <th scope="col">"Image"</th>
                                <th scope="col">"Pull spec"</th>
                                <th scope="col" class="num">"Generation"</th>
                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                            </tr>
                        </thead>
                        <tbody>{history}</tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use tagstream_shared::{ObjectReference, TagReference};

    use super::*;
    use tagstream_shared::ImageStream;

    fn tag_from(kind: &str, name: &str) -> ImageStreamTag {
        let mut stream = ImageStream::new("ruby");
        stream.spec.tags.push(TagReference {
            name: "latest".into(),
            from: Some(ObjectReference {
                kind: kind.into(),
                name: name.into(),
                ..ObjectReference::default()
            }),
            ..TagReference::default()
        });
        stream.stream_tag("latest").expect("the tag exists")
    }

    #[test]
    fn pull_by_tag_follows_a_registry_tag_only() {
        let ist = tag_from("DockerImage", "quay.io/demo/ruby:3.3");
        assert_eq!(
            pull_by_tag(&ist).map(|(spec, _)| spec).as_deref(),
            Some("quay.io/demo/ruby:3.3")
        );
        assert_eq!(
            pull_by_tag(&tag_from("ImageStreamTag", "python:3.12")),
            None
        );
        let pinned = "quay.io/demo/ruby@sha256:d8b4cbc952f2a3e4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e56e03";
        assert_eq!(pull_by_tag(&tag_from("DockerImage", pinned)), None);
    }
}
