//! `/ns/{ns}/streams/{name}/tags/{tag}/edit`: what `oc tag` does, without a command line.
//! Tag this tag's image elsewhere (following it, or pinned to its current image), change the
//! tag's policies (reference, scheduled import, insecure, import mode), and the stream's
//! `lookupPolicy.local`. A write that lost a race offers Reload and retry, keeping what was typed.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use tagstream_shared::{
    ImageStream, ImageStreamTag, ObjectMeta, ObjectReference, ProjectName, SourceKind, Status,
    StatusReason, StreamName, StreamTagName, TagName, TagReference,
};

use crate::api;
use crate::components::breadcrumbs::Breadcrumbs;
use crate::components::error_banner::ErrorBanner;
use crate::components::loaded::Loaded;
use crate::pages::set_title;
use crate::routes::Route;

/// The ImageStreamTag body that sets `name` to `tag`.
fn tag_body(name: &StreamTagName, tag: TagReference) -> ImageStreamTag {
    ImageStreamTag {
        kind: ImageStreamTag::KIND.into(),
        api_version: tagstream_shared::imagestream::API_VERSION.into(),
        metadata: ObjectMeta::named(name.to_string()),
        tag: Some(tag),
        generation: 0,
        lookup_policy: Default::default(),
        conditions: Vec::new(),
        image: None,
        items: Vec::new(),
    }
}

/// Where the new tag points: following `stream:tag`, or pinned to its image `stream@digest`.
pub fn source_for(
    follow: bool,
    from_ns: &str,
    to_ns: &str,
    stream: &StreamName,
    tag: &TagName,
    digest: Option<&str>,
) -> Option<ObjectReference> {
    let (kind, name) = match (follow, digest) {
        (true, _) => (SourceKind::ImageStreamTag, format!("{stream}:{tag}")),
        (false, Some(d)) => (SourceKind::ImageStreamImage, format!("{stream}@{d}")),
        (false, None) => return None,
    };
    Some(ObjectReference {
        kind: kind.as_str().into(),
        name,
        namespace: (from_ns != to_ns).then(|| from_ns.to_owned()),
        ..ObjectReference::default()
    })
}

#[component]
pub fn EditTagPage(ns: ProjectName, stream: StreamName, tag: TagName) -> impl IntoView {
    set_title(&format!("Edit {stream}:{tag} · {ns}"));
    let resource = LocalResource::new({
        let (ns, stream, tag) = (ns.to_string(), stream.to_string(), tag.to_string());
        move || {
            let (ns, stream, tag) = (ns.clone(), stream.clone(), tag.clone());
            async move { api::get_stream_tag(&ns, &stream, &tag).await }
        }
    });
    let what = format!("image stream tag {ns}/{stream}:{tag}");
    let back = Route::Tag {
        ns: ns.clone(),
        stream: stream.clone(),
        tag: tag.clone(),
    }
    .path();
    let crumb = (
        "Edit".to_owned(),
        Route::EditTag {
            ns: ns.clone(),
            stream: stream.clone(),
            tag: tag.clone(),
        },
    );
    view! {
        <Breadcrumbs ns=ns.clone() stream=stream.clone() tag=tag.clone() last=crumb />
        <header class="page-head">
            <h1 class="mono">{format!("Edit {stream}:{tag}")}</h1>
            <div class="page-actions"><a class="btn" href=back>"Back to the tag"</a></div>
        </header>
        <Loaded resource what view=move |ist: ImageStreamTag| view! {
            <TagAs ns=ns.clone() stream=stream.clone() tag=tag.clone() ist=ist.clone() />
            <Policies ns=ns.clone() stream=stream.clone() tag=tag.clone() ist=ist.clone() />
            <LookupPolicy ns=ns.clone() stream=stream.clone() />
            <CompareTags ns=ns.clone() stream=stream.clone() tag=tag.clone() ist=ist.clone() />
        } />
    }
}

#[component]
fn TagAs(ns: ProjectName, stream: StreamName, tag: TagName, ist: ImageStreamTag) -> impl IntoView {
    let digest = ist.items.first().map(|e| e.image.clone());
    let to_ns = RwSignal::new(ns.to_string());
    let to = RwSignal::new(format!("{stream}:"));
    let follow = RwSignal::new(true);
    let problem = Memo::new(move |_| {
        let target = to.get();
        let name = target
            .parse::<StreamTagName>()
            .err()
            .map(|e| format!("\"{target}\": {e}"));
        name.or_else(|| {
            to_ns
                .get()
                .parse::<ProjectName>()
                .err()
                .map(|e| e.to_string())
        })
    });
    let save = Action::new_local({
        let (ns, stream, tag, digest) =
            (ns.to_string(), stream.clone(), tag.clone(), digest.clone());
        move |(to_ns, to, follow): &(String, String, bool)| {
            let target = to.parse::<StreamTagName>();
            let from = source_for(*follow, &ns, to_ns, &stream, &tag, digest.as_deref());
            let to_ns = to_ns.clone();
            async move {
                let target =
                    target.map_err(|e| Status::failure(StatusReason::Invalid, e.to_string()))?;
                let from = from.ok_or_else(|| {
                    Status::failure(
                        StatusReason::Invalid,
                        "the tag has no image to pin yet: follow it instead",
                    )
                })?;
                let body = tag_body(
                    &target,
                    TagReference {
                        name: target.tag.to_string(),
                        from: Some(from),
                        ..TagReference::default()
                    },
                );
                api::set_stream_tag(&to_ns, target.stream.as_str(), target.tag.as_str(), &body)
                    .await?;
                Ok::<_, Status>((to_ns, target))
            }
        }
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if problem.get().is_none() {
            save.dispatch_local((to_ns.get(), to.get(), follow.get()));
        }
    };
    let pinned_to = digest.clone().unwrap_or_else(|| "no image yet".into());
    view! {
        <form class="panel form-grid" data-test="tag-as" on:submit=submit>
            <h2>"Tag as…"</h2>
            <p class="muted">{format!("Another tag that gets {stream}:{tag}'s image, in this project or another you may change.")}</p>
            <div class="field">
                <label for="tag-as-ns">"Project"</label>
                <input id="tag-as-ns" type="text" class="mono" data-test="tag-as-ns" prop:value=move || to_ns.get()
                    on:input=move |ev| to_ns.set(event_target_value(&ev)) />
            </div>
            <div class="field">
                <label for="tag-as-name">"Stream and tag"</label>
                <input id="tag-as-name" type="text" class="mono" placeholder="stream:tag" data-test="tag-as-name" prop:value=move || to.get()
                    on:input=move |ev| to.set(event_target_value(&ev)) />
                {move || problem.get().map(|m| view! { <p class="field-error" role="alert" data-test="tag-as-error">{m}</p> })}
            </div>
            <fieldset class="fieldset">
                <legend>"How"</legend>
                <label class="radio"><input type="radio" name="tag-as-mode" data-test="tag-as-follow" prop:checked=move || follow.get()
                    on:change=move |_| follow.set(true) />
                    {format!(" Follow {stream}:{tag} — moves whenever it moves (an alias)")}</label>
                <label class="radio"><input type="radio" name="tag-as-mode" data-test="tag-as-pin" prop:checked=move || !follow.get()
                    on:change=move |_| follow.set(false) />
                    " Pin its current image — " <code class="digest">{pinned_to}</code> " — and stay there"</label>
            </fieldset>
            {move || match save.value().get() {
                Some(Ok((ns, target))) => {
                    let href = ns.parse().ok().map(|ns| Route::Tag { ns, stream: target.stream.clone(), tag: target.tag.clone() }.path());
                    view! { <p class="banner banner-ok" role="status" data-test="tag-as-done">"Tagged: "
                        <a class="mono" href=href>{target.to_string()}</a></p> }.into_any()
                }
                Some(Err(status)) => view! { <ErrorBanner status /> }.into_any(),
                None => ().into_any(),
            }}
            <div class="form-actions">
                <button type="submit" class="btn btn-primary" data-test="tag-as-submit" disabled=move || save.pending().get()>"Tag"</button>
            </div>
        </form>
    }
}

#[component]
fn Policies(
    ns: ProjectName,
    stream: StreamName,
    tag: TagName,
    ist: ImageStreamTag,
) -> impl IntoView {
    let spec = ist.tag.clone().unwrap_or_default();
    let reference = RwSignal::new(if spec.reference_policy.kind.is_empty() {
        "Source".to_owned()
    } else {
        spec.reference_policy.kind.clone()
    });
    let scheduled = RwSignal::new(spec.import_policy.scheduled);
    let insecure = RwSignal::new(spec.import_policy.insecure);
    let mode = RwSignal::new(
        spec.import_policy
            .import_mode
            .clone()
            .unwrap_or_else(|| "Legacy".into()),
    );
    let save = Action::new_local({
        let name = StreamTagName::new(stream.clone(), tag.clone());
        let ns = ns.to_string();
        move |t: &TagReference| {
            let (ns, body, name) = (ns.clone(), tag_body(&name, t.clone()), name.clone());
            async move { api::set_stream_tag(&ns, name.stream.as_str(), name.tag.as_str(), &body).await }
        }
    });
    let apply = move || {
        let mut t = spec.clone();
        t.generation = None;
        t.reference_policy.kind = reference.get();
        t.import_policy.scheduled = scheduled.get();
        t.import_policy.insecure = insecure.get();
        t.import_policy.import_mode = Some(mode.get());
        save.dispatch_local(t);
    };
    let submit = {
        let apply = apply.clone();
        move |ev: SubmitEvent| {
            ev.prevent_default();
            apply();
        }
    };
    view! {
        <form class="panel form-grid" data-test="tag-policies" on:submit=submit>
            <h2>"Policies"</h2>
            <div class="field">
                <label for="ref-policy">"Reference policy"</label>
                <select id="ref-policy" data-test="ref-policy" on:change=move |ev| reference.set(event_target_value(&ev))>
                    {["Source", "Local"].map(|k| view! { <option value=k selected=move || reference.get() == k>{k}</option> }).collect_view()}
                </select>
                <p class="field-hint">"Source: pull from where the image came from. Local: through this server's registry name."</p>
            </div>
            <label class="checkbox"><input type="checkbox" data-test="policy-scheduled" prop:checked=move || scheduled.get()
                on:change=move |ev| scheduled.set(event_target_checked(&ev)) />" Check the source for changes on a schedule"</label>
            <label class="checkbox"><input type="checkbox" data-test="policy-insecure" prop:checked=move || insecure.get()
                on:change=move |ev| insecure.set(event_target_checked(&ev)) />" Insecure: plain HTTP or an unverified certificate"</label>
            <div class="field">
                <label for="import-mode">"Import mode"</label>
                <select id="import-mode" data-test="policy-mode" on:change=move |ev| mode.set(event_target_value(&ev))>
                    {["Legacy", "PreserveOriginal"].map(|k| view! { <option value=k selected=move || mode.get() == k>{k}</option> }).collect_view()}
                </select>
            </div>
            {move || match save.value().get() {
                Some(Ok(_)) => view! { <p class="banner banner-ok" role="status" data-test="policies-saved">"Saved."</p> }.into_any(),
                Some(Err(status)) => view! { <ErrorBanner status /> }.into_any(),
                None => ().into_any(),
            }}
            <div class="form-actions">
                <button type="submit" class="btn btn-primary" data-test="policies-save" disabled=move || save.pending().get()>"Save policies"</button>
            </div>
        </form>
    }
}

#[component]
fn LookupPolicy(ns: ProjectName, stream: StreamName) -> impl IntoView {
    let (ns, stream) = (ns.to_string(), stream.to_string());
    let current = LocalResource::new({
        let (ns, stream) = (ns.clone(), stream.clone());
        move || {
            let (ns, stream) = (ns.clone(), stream.clone());
            async move { api::get_stream(&ns, &stream).await }
        }
    });
    let local = RwSignal::new(None::<bool>);
    let save = Action::new_local(move |(s, want): &(ImageStream, bool)| {
        let (ns, stream, mut s, want) = (ns.clone(), stream.clone(), s.clone(), *want);
        async move {
            s.spec.lookup_policy.local = want;
            api::replace_stream(&ns, &stream, &s).await
        }
    });
    let apply = move || {
        if let (Some(Ok(s)), Some(want)) = (current.get_untracked(), local.get_untracked()) {
            save.dispatch_local((s, want));
        }
    };
    view! {
        <section class="panel" data-test="lookup-policy">
            <h2>"Lookup policy"</h2>
            <Loaded resource=current what="image stream" rows=1 view=move |s: ImageStream| {
                let on = s.spec.lookup_policy.local;
                view! {
                    <label class="checkbox"><input type="checkbox" data-test="lookup-local"
                        prop:checked=move || local.get().unwrap_or(on)
                        on:change=move |ev| local.set(Some(event_target_checked(&ev))) />
                        " Local: workloads in this project may name the stream's tags directly"</label>
                }
            } />
            {move || match save.value().get() {
                Some(Ok(_)) => view! { <p class="banner banner-ok" role="status" data-test="lookup-saved">"Saved."</p> }.into_any(),
                Some(Err(status)) if status.reason == StatusReason::Conflict => view! {
                    <ErrorBanner status>
                        <button type="button" class="btn" data-test="reload-retry" on:click=move |_| {
                            current.refetch();
                            save.clear();
                        }>"Reload and retry"</button>
                    </ErrorBanner>
                }.into_any(),
                Some(Err(status)) => view! { <ErrorBanner status /> }.into_any(),
                None => ().into_any(),
            }}
            <button type="button" class="btn btn-primary" data-test="lookup-save" disabled=move || save.pending().get()
                on:click=move |_| apply()>"Save lookup policy"</button>
        </section>
    }
}

/// Two tags side by side: this one's current image against another tag's of the same stream.
#[component]
fn CompareTags(
    ns: ProjectName,
    stream: StreamName,
    tag: TagName,
    ist: ImageStreamTag,
) -> impl IntoView {
    let mine = ist
        .items
        .first()
        .and_then(|e| e.image.parse::<tagstream_shared::Digest>().ok());
    let current = LocalResource::new({
        let (ns, stream) = (ns.to_string(), stream.to_string());
        move || {
            let (ns, stream) = (ns.clone(), stream.clone());
            async move { api::get_stream(&ns, &stream).await }
        }
    });
    view! {
        <section class="panel" data-test="compare-tags">
            <h2>"Compare with another tag"</h2>
            <Loaded resource=current what="image stream" rows=1 view=move |s: ImageStream| {
                let links = s.status.tags.iter().filter(|t| t.tag != tag.as_str()).filter_map(|t| {
                    let theirs = t.items.first()?.image.parse::<tagstream_shared::Digest>().ok()?;
                    let href = Route::Compare { ns: ns.clone(), stream: stream.clone(), a: mine.clone()?, b: theirs }.path();
                    Some(view! { <li><a class="mono" href=href data-test="compare-tag">{format!("{}:{} ↔ {}:{}", stream, tag, stream, t.tag)}</a></li> })
                }).collect::<Vec<_>>();
                match links.is_empty() {
                    true => view! { <p class="muted">"No other tag of this stream has an image to compare with."</p> }.into_any(),
                    false => view! { <ul>{links}</ul> }.into_any(),
                }
            } />
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follow_writes_an_alias_and_pin_writes_the_image() {
        let stream: StreamName = "ruby".parse().unwrap_or_else(|_| unreachable!());
        let tag: TagName = "latest".parse().unwrap_or_else(|_| unreachable!());
        let d = format!("sha256:{}", "a".repeat(64));
        let follow = source_for(true, "demo", "demo", &stream, &tag, Some(&d)).unwrap_or_default();
        assert_eq!(
            (follow.kind.as_str(), follow.name.as_str(), follow.namespace),
            ("ImageStreamTag", "ruby:latest", None)
        );
        let pin = source_for(false, "demo", "prod", &stream, &tag, Some(&d)).unwrap_or_default();
        assert_eq!(pin.kind, "ImageStreamImage");
        assert_eq!(pin.name, format!("ruby@{d}"));
        assert_eq!(pin.namespace.as_deref(), Some("demo"));
        assert!(source_for(false, "demo", "demo", &stream, &tag, None).is_none());
    }
}
