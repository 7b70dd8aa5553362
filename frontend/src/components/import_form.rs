//! "Import image": a registry reference (one tag, or every tag of a repository), the stream and
//! tag to import into, and the import policy; Preview asks the server without saving, Import
//! saves. Each image's outcome is listed with its digest, platform, size and creation time.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use tagstream_shared::{
    Image, ImageImportSpec, ImageImportStatus, ImageReference, ImageStreamImport,
    ImageStreamImportSpec, LocalObjectReference, ObjectMeta, ObjectReference, ProjectName,
    RepositoryImportSpec, SourceKind, Status, StreamName, TagImportPolicy, TagName,
};

use crate::api;
use crate::components::error_banner::ErrorBanner;
use crate::components::field::Field;
use crate::components::short_digest::ShortDigest;
use crate::format;
use crate::routes::Route;

/// The stream and tag a reference suggests: its last path component and its tag.
fn suggested(reference: &str) -> Option<(String, String)> {
    let r: ImageReference = reference.trim().parse().ok()?;
    let stream = r.repository.rsplit('/').next()?.to_owned();
    Some((stream, r.tag.unwrap_or_else(|| "latest".into())))
}

/// The request the form describes.
fn request(
    stream: &str,
    reference: &str,
    tag: &str,
    all_tags: bool,
    policy: TagImportPolicy,
    save: bool,
) -> ImageStreamImport {
    let from = ObjectReference {
        kind: SourceKind::DockerImage.as_str().into(),
        name: reference.trim().to_owned(),
        ..ObjectReference::default()
    };
    let spec = if all_tags {
        ImageStreamImportSpec {
            import: save,
            repository: Some(RepositoryImportSpec {
                from,
                import_policy: policy,
                ..RepositoryImportSpec::default()
            }),
            images: Vec::new(),
        }
    } else {
        ImageStreamImportSpec {
            import: save,
            repository: None,
            images: vec![ImageImportSpec {
                from,
                to: Some(LocalObjectReference {
                    name: tag.trim().to_owned(),
                }),
                import_policy: policy,
                ..ImageImportSpec::default()
            }],
        }
    };
    ImageStreamImport {
        kind: ImageStreamImport::KIND.into(),
        api_version: tagstream_shared::imagestream::API_VERSION.into(),
        metadata: ObjectMeta::named(stream.trim()),
        spec,
        ..ImageStreamImport::default()
    }
}

/// What the form checks before sending, per field.
fn check(reference: &str, stream: &str, tag: &str, all_tags: bool) -> [Option<String>; 3] {
    let reference_error = match reference.trim().parse::<ImageReference>() {
        _ if reference.trim().is_empty() => {
            Some("Give an image reference, such as quay.io/org/app:1.0.".into())
        }
        Err(e) => Some(e.to_string()),
        Ok(r) if all_tags && (r.tag.is_some() || r.digest.is_some()) => {
            Some("To import every tag, give the repository without a tag or digest.".into())
        }
        Ok(_) => None,
    };
    let stream_error = stream
        .trim()
        .parse::<StreamName>()
        .err()
        .map(|e| e.to_string());
    let tag_error = (!all_tags)
        .then(|| tag.trim().parse::<TagName>().err().map(|e| e.to_string()))
        .flatten();
    [reference_error, stream_error, tag_error]
}

#[component]
pub fn ImportForm(ns: ProjectName) -> impl IntoView {
    let reference = RwSignal::new(String::new());
    let stream = RwSignal::new(String::new());
    let tag = RwSignal::new(String::new());
    let stream_edited = RwSignal::new(false);
    let tag_edited = RwSignal::new(false);
    let all_tags = RwSignal::new(false);
    let scheduled = RwSignal::new(false);
    let insecure = RwSignal::new(false);
    let preserve = RwSignal::new(false);
    let touched = RwSignal::new(false);
    let errors =
        Memo::new(move |_| check(&reference.get(), &stream.get(), &tag.get(), all_tags.get()));
    let shown = move |i: usize| {
        Signal::derive(move || touched.get().then(|| errors.get()[i].clone()).flatten())
    };
    let send = Action::new_local({
        let ns = ns.to_string();
        move |req: &ImageStreamImport| {
            let (ns, req) = (ns.clone(), req.clone());
            async move { api::import_images(&ns, &req).await }
        }
    });
    let submit = move |save: bool| {
        touched.set(true);
        if errors.get().iter().any(Option::is_some) {
            return;
        }
        let policy = TagImportPolicy {
            insecure: insecure.get(),
            scheduled: scheduled.get(),
            import_mode: preserve.get().then(|| "PreserveOriginal".to_owned()),
        };
        send.dispatch_local(request(
            &stream.get(),
            &reference.get(),
            &tag.get(),
            all_tags.get(),
            policy,
            save,
        ));
    };
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        submit(true);
    };
    let ns_for_results = ns.clone();
    view! {
        <section class="panel" id="import-image" aria-labelledby="import-title">
            <h2 id="import-title">"From a registry"</h2>
            <form class="form" on:submit=on_submit novalidate>
                <Field label="Image reference" id="import-reference" error=shown(0) error_test="import-reference-error"
                    hint="registry/repository:tag, as you would pull it">
                    <input id="import-reference" class="mono" data-test="import-reference" autocomplete="off" autofocus
                        placeholder="quay.io/org/app:1.0"
                        prop:value=move || reference.get()
                        on:input=move |ev| {
                            let value = event_target_value(&ev);
                            if let Some((s, t)) = suggested(&value) {
                                if !stream_edited.get_untracked() { stream.set(s); }
                                if !tag_edited.get_untracked() { tag.set(t); }
                            }
                            reference.set(value);
                        } />
                </Field>
                <label class="check">
                    <input type="checkbox" data-test="import-all-tags" prop:checked=move || all_tags.get()
                        on:change=move |ev| all_tags.set(event_target_checked(&ev)) />
                    "Import every tag of the repository"
                </label>
                <div class="form-row">
                    <Field label="Into stream" id="import-stream" error=shown(1) error_test="import-stream-error">
                        <input id="import-stream" data-test="import-stream" prop:value=move || stream.get()
                            on:input=move |ev| { stream_edited.set(true); stream.set(event_target_value(&ev)); } />
                    </Field>
                    <Show when=move || !all_tags.get()>
                        <Field label="As tag" id="import-tag" error=shown(2) error_test="import-tag-error">
                            <input id="import-tag" data-test="import-tag" prop:value=move || tag.get()
                                on:input=move |ev| { tag_edited.set(true); tag.set(event_target_value(&ev)); } />
                        </Field>
                    </Show>
                </div>
                <fieldset class="fieldset checks" data-test="import-policy">
                    <legend>"Import policy"</legend>
                    <label class="check"><input type="checkbox" data-test="import-scheduled"
                        on:change=move |ev| scheduled.set(event_target_checked(&ev)) />
                        "Check for new images on a schedule"</label>
                    <label class="check"><input type="checkbox" data-test="import-insecure"
                        on:change=move |ev| insecure.set(event_target_checked(&ev)) />
                        "Insecure registry (plain HTTP or an unverified certificate)"</label>
                    <label class="check"><input type="checkbox" data-test="import-preserve"
                        on:change=move |ev| preserve.set(event_target_checked(&ev)) />
                        "Keep manifest lists whole (every platform) instead of linux/amd64"</label>
                </fieldset>
                <div class="form-actions">
                    <button type="button" class="btn" data-test="import-preview" disabled=move || send.pending().get()
                        on:click=move |_| submit(false)>"Preview"</button>
                    <button type="submit" class="btn btn-primary" data-test="import-submit" disabled=move || send.pending().get()>
                        {move || if send.pending().get() { "Importing…" } else { "Import" }}
                    </button>
                </div>
            </form>
            {move || send.value().get().map(|result| match result {
                Err(status) => view! { <ErrorBanner status /> }.into_any(),
                Ok(done) => view! { <ImportResults ns=ns_for_results.clone() result=done /> }.into_any(),
            })}
        </section>
    }
}

#[component]
fn ImportResults(ns: ProjectName, result: ImageStreamImport) -> impl IntoView {
    let saved = result.spec.import;
    let stream = result.metadata.name().parse::<StreamName>().ok();
    let mut images: Vec<ImageImportStatus> = result.status.images.clone();
    let mut repo_failure: Option<Status> = None;
    let mut additional = Vec::new();
    if let Some(repo) = result.status.repository {
        if repo.status.status == "Success" {
            images.extend(repo.images);
            additional = repo.additional_tags;
        } else {
            repo_failure = Some(repo.status);
        }
    }
    let link = stream.filter(|_| saved).map(|name| Route::Stream {
        ns: ns.clone(),
        name,
    });
    let rows = images
        .into_iter()
        .map(|i| {
            let ok = i.status.status == "Success";
            let image = i.image.unwrap_or_default();
            view! {
                <tr data-test="import-result" data-tag=i.tag.clone() data-outcome=if ok { "ok" } else { "failed" }>
                    <th scope="row">{i.tag.clone()}</th>
                    {if ok {
                        view! {
                            <td><ShortDigest digest=image.digest().to_owned() /></td>
                            <td>{platform(&image)}</td>
                            <td class="num">{image_size(&image)}</td>
                            <td>{created(&image)}</td>
                        }.into_any()
                    } else {
                        view! { <td colspan="4" class="error-text" data-test="import-result-error">{i.status.message.clone()}</td> }.into_any()
                    }}
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="import-results" data-test="import-results">
            <p>
                {if saved { "Imported." } else { "Preview: nothing was saved." }}
                {link.map(|r| view! { " " <a href=r.path() data-test="import-open-stream">"Open the stream"</a> })}
            </p>
            {repo_failure.map(|status| view! { <ErrorBanner status /> })}
            <table class="table">
                <thead><tr>
                    <th scope="col">"Tag"</th><th scope="col">"Digest"</th><th scope="col">"Platform"</th>
                    <th scope="col" class="num">"Size"</th><th scope="col">"Created"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
            {(!additional.is_empty()).then(|| view! {
                <p class="muted" data-test="import-additional">
                    {format!("{} more tags were not imported (the server's limit): {}", additional.len(), additional.join(", "))}
                </p>
            })}
        </div>
    }
}

/// `linux/amd64`, or every platform of a list.
pub fn platform(image: &Image) -> String {
    if image.is_list() {
        return image
            .docker_image_manifests
            .iter()
            .map(tagstream_shared::ImageManifest::platform)
            .collect::<Vec<_>>()
            .join(", ");
    }
    image
        .docker_image_metadata
        .as_ref()
        .map_or_else(String::new, |m| {
            if m.variant.is_empty() {
                format!("{}/{}", m.os, m.architecture)
            } else {
                format!("{}/{}/{}", m.os, m.architecture, m.variant)
            }
        })
}

pub fn image_size(image: &Image) -> String {
    image
        .docker_image_metadata
        .as_ref()
        .map(|m| format::size(m.size))
        .unwrap_or_default()
}

fn created(image: &Image) -> String {
    image
        .docker_image_metadata
        .as_ref()
        .and_then(|m| m.created)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_suggests_the_stream_and_tag() {
        assert_eq!(
            suggested("quay.io/org/app:1.0"),
            Some(("app".into(), "1.0".into()))
        );
        assert_eq!(suggested("ruby"), Some(("ruby".into(), "latest".into())));
        assert_eq!(suggested("Not A Ref"), None);
    }

    #[test]
    fn the_form_is_checked_before_it_is_sent() {
        assert_eq!(
            check("quay.io/org/app:1", "app", "1", false),
            [None, None, None]
        );
        let [r, s, t] = check("", "Bad Name", "", false);
        assert!(r.is_some() && s.is_some() && t.is_some());
        let [r, _, t] = check("quay.io/org/app:1", "app", "", true);
        assert!(r.is_some(), "every tag wants a repository without a tag");
        assert!(t.is_none(), "no tag field when importing every tag");
    }

    #[test]
    fn the_request_is_one_image_or_a_repository() {
        let one = request(
            "app",
            "quay.io/org/app:1",
            "stable",
            false,
            TagImportPolicy::default(),
            false,
        );
        assert!(!one.spec.import);
        assert_eq!(
            one.spec.images[0].to.as_ref().map(|t| t.name.as_str()),
            Some("stable")
        );
        let all = request(
            "app",
            "quay.io/org/app",
            "",
            true,
            TagImportPolicy::default(),
            true,
        );
        assert!(all.spec.import && all.spec.images.is_empty());
        assert_eq!(
            all.spec.repository.map(|r| r.from.name),
            Some("quay.io/org/app".into())
        );
    }
}
