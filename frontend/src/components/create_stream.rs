//! Creating an image stream in a project: a short form (name, optional first tag and its source)
//! or a pasted JSON or YAML object, checked as you type with the rules the server applies.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use tagstream_shared::validation::validate_image_stream;
use tagstream_shared::{
    ImageStream, ObjectReference, ProjectName, SourceKind, Status, TagReference,
};

use crate::api::{self, BodyFormat};
use crate::components::error_banner::ErrorBanner;
use crate::components::field::{Field, first_error};
use crate::routes::Route;

/// What the user asked to create.
#[derive(Debug, Clone)]
enum NewStream {
    Object(Box<ImageStream>),
    Text(String, BodyFormat),
}

/// The source kinds the form offers; a pinned image is set by editing the stream.
const FORM_KINDS: [SourceKind; 2] = [SourceKind::DockerImage, SourceKind::ImageStreamTag];

/// The form's fields as the object they describe; a tag only when a tag or source was given.
fn build(name: &str, tag: &str, kind: SourceKind, source: &str) -> ImageStream {
    let mut stream = ImageStream::new(name.trim());
    let (tag, source) = (tag.trim(), source.trim());
    if !tag.is_empty() || !source.is_empty() {
        stream.spec.tags.push(TagReference {
            name: tag.to_owned(),
            from: Some(ObjectReference {
                kind: kind.as_str().to_owned(),
                name: source.to_owned(),
                ..ObjectReference::default()
            }),
            ..TagReference::default()
        });
    }
    stream
}

/// The form's fields, by the path the server names them with.
const NAME: &str = "metadata.name";
const TAG: &str = "spec.tags[0].name";
const KIND: &str = "spec.tags[0].from.kind";
const SOURCE: &str = "spec.tags[0].from.name";

/// A field's text input, its "was touched" flag and the server's last message for it.
#[derive(Clone, Copy)]
struct Input {
    value: RwSignal<String>,
    touched: RwSignal<bool>,
    server: RwSignal<Option<String>>,
}

impl Input {
    fn new() -> Self {
        Self {
            value: RwSignal::new(String::new()),
            touched: RwSignal::new(false),
            server: RwSignal::new(None),
        }
    }

    fn on_input(self, text: String) {
        self.value.set(text);
        self.touched.set(true);
        self.server.set(None);
    }

    fn reset(self) {
        self.value.set(String::new());
        self.touched.set(false);
        self.server.set(None);
    }
}

#[component]
pub fn CreateStream(ns: ProjectName, on_created: Callback<ImageStream>) -> impl IntoView {
    let (name, tag, source) = (Input::new(), Input::new(), Input::new());
    let kind = RwSignal::new(SourceKind::DockerImage);
    let kind_server = RwSignal::new(None::<String>);
    let paste = RwSignal::new(String::new());
    let paste_mode = RwSignal::new(false);
    let created = RwSignal::new(None::<String>);

    let ns_text = ns.to_string();
    let local_errors = Memo::new({
        let ns_text = ns_text.clone();
        move |_| {
            let stream = build(
                &name.value.get(),
                &tag.value.get(),
                kind.get(),
                &source.value.get(),
            );
            validate_image_stream(&stream, &ns_text)
                .into_iter()
                .map(|e| (e.field.clone(), e.message()))
                .collect::<Vec<_>>()
        }
    });
    let local = move |field: &'static str, input: Input| {
        Signal::derive(move || {
            let mine = input
                .touched
                .get()
                .then(|| {
                    local_errors.with(|errs| {
                        errs.iter()
                            .find(|(f, _)| f == field)
                            .map(|(_, m)| m.clone())
                    })
                })
                .flatten();
            first_error(mine, input.server.get())
        })
    };
    let name_error = local(NAME, name);
    let tag_error = local(TAG, tag);
    let source_error = local(SOURCE, source);
    let kind_error = Signal::derive(move || kind_server.get());

    let create = Action::new_local({
        let ns_text = ns_text.clone();
        move |input: &NewStream| {
            let (ns, input) = (ns_text.clone(), input.clone());
            async move {
                match input {
                    NewStream::Object(stream) => api::create_stream(&ns, &stream).await,
                    NewStream::Text(text, format) => {
                        api::create_stream_text(&ns, &text, format).await
                    }
                }
            }
        }
    });
    Effect::new(move || match create.value().get() {
        Some(Ok(stream)) => {
            created.set(Some(stream.metadata.name().to_owned()));
            for input in [name, tag, source] {
                input.reset();
            }
            paste.set(String::new());
            on_created.run(stream);
        }
        Some(Err(status)) => {
            let cause = |field: &str| status.causes_for(field).next().map(|c| c.message.clone());
            name.server.set(cause(NAME));
            tag.server.set(cause(TAG));
            source.server.set(cause(SOURCE));
            kind_server.set(cause(KIND));
            created.set(None);
        }
        None => {}
    });

    let submit_form = move |ev: SubmitEvent| {
        ev.prevent_default();
        for input in [name, tag, source] {
            input.touched.set(true);
        }
        if local_errors.with(Vec::is_empty) {
            let stream = build(
                &name.value.get(),
                &tag.value.get(),
                kind.get(),
                &source.value.get(),
            );
            create.dispatch_local(NewStream::Object(Box::new(stream)));
        }
    };

    let paste_check = Memo::new({
        let ns_text = ns_text.clone();
        move |_| paste_problems(&paste.get(), &ns_text)
    });
    let submit_paste = move |ev: SubmitEvent| {
        ev.prevent_default();
        let text = paste.get();
        if !text.trim().is_empty() && paste_check.with(|p| p.blocking.is_none()) {
            create.dispatch_local(NewStream::Text(text.clone(), BodyFormat::detect(&text)));
        }
    };

    let ns_for_link = ns.clone();
    view! {
        <section class="panel" id="create-stream" aria-labelledby="create-stream-title" data-test="create-stream">
            <div class="panel-head">
                <h2 id="create-stream-title">"Create stream"</h2>
                <div class="segmented" role="group" aria-label="How to create">
                    <button type="button" class="btn btn-small" data-test="create-mode-form"
                        aria-pressed=move || (!paste_mode.get()).to_string() on:click=move |_| paste_mode.set(false)>
                        "Form"
                    </button>
                    <button type="button" class="btn btn-small" data-test="create-mode-paste"
                        aria-pressed=move || paste_mode.get().to_string() on:click=move |_| paste_mode.set(true)>
                        "Paste JSON or YAML"
                    </button>
                </div>
            </div>
            {move || create.value().get().and_then(Result::err).map(|status: Status| view! { <ErrorBanner status /> })}
            {move || created.get().and_then(|n| n.parse().ok()).map(|stream_name| {
                let label = format!("{ns_for_link}/{stream_name}");
                let route = Route::Stream { ns: ns_for_link.clone(), name: stream_name };
                view! {
                    <p class="banner banner-ok" role="status" data-test="create-stream-success">
                        "Created image stream " <a href=route.path()>{label}</a> "."
                    </p>
                }
            })}
            <form class="form-grid" data-test="create-stream-form" novalidate
                class:hidden=move || paste_mode.get() on:submit=submit_form>
                <Field label="Name" id="stream-name" error=name_error error_test="stream-name-error">
                    <input id="stream-name" type="text" autocomplete="off" spellcheck="false" placeholder="ruby"
                        data-test="stream-name-input" aria-invalid=move || name_error.with(Option::is_some).to_string()
                        prop:value=move || name.value.get() on:input=move |ev| name.on_input(event_target_value(&ev))
                        on:blur=move |_| name.touched.set(true) />
                </Field>
                <fieldset class="fieldset">
                    <legend>"First tag (optional)"</legend>
                    <Field label="Tag" id="stream-tag" error=tag_error error_test="tag-name-error">
                        <input id="stream-tag" type="text" autocomplete="off" spellcheck="false" placeholder="latest"
                            data-test="tag-name-input" aria-invalid=move || tag_error.with(Option::is_some).to_string()
                            prop:value=move || tag.value.get() on:input=move |ev| tag.on_input(event_target_value(&ev)) />
                    </Field>
                    <Field label="Source kind" id="stream-source-kind" error=kind_error error_test="source-kind-error">
                        <select id="stream-source-kind" data-test="source-kind-select"
                            on:change=move |ev| {
                                if let Some(k) = SourceKind::parse(&event_target_value(&ev)) {
                                    kind.set(k);
                                    kind_server.set(None);
                                }
                            }>
                            {FORM_KINDS.map(|k| view! {
                                <option value=k.as_str() selected=move || kind.get() == k>{k.as_str()}</option>
                            }).collect_view()}
                        </select>
                    </Field>
                    <Field label="Source" id="stream-source" error=source_error error_test="source-name-error"
                        hint="An image reference (quay.io/org/ruby:3.3) or a tag of a stream (latest, python:3.12)">
                        <input id="stream-source" type="text" autocomplete="off" spellcheck="false" class="mono"
                            placeholder="quay.io/org/ruby:3.3" data-test="source-name-input"
                            aria-invalid=move || source_error.with(Option::is_some).to_string()
                            prop:value=move || source.value.get() on:input=move |ev| source.on_input(event_target_value(&ev)) />
                    </Field>
                </fieldset>
                <div class="form-actions">
                    <button type="submit" class="btn btn-primary" data-test="create-stream-submit"
                        disabled=move || create.pending().get()>
                        {move || if create.pending().get() { "Creating…" } else { "Create stream" }}
                    </button>
                </div>
            </form>
            <form class="form-grid" data-test="create-stream-paste-form" novalidate
                class:hidden=move || !paste_mode.get() on:submit=submit_paste>
                <div class="field">
                    <label for="stream-paste">"ImageStream as JSON or YAML"</label>
                    <textarea id="stream-paste" class="mono code-input" rows="14" spellcheck="false"
                        data-test="stream-paste-input" placeholder="apiVersion: image.openshift.io/v1\nkind: ImageStream\nmetadata:\n  name: ruby"
                        prop:value=move || paste.get() on:input=move |ev| paste.set(event_target_value(&ev))></textarea>
                    <p class="field-hint" data-test="paste-format">{move || paste_check.get().note}</p>
                    {move || {
                        let check = paste_check.get();
                        (!check.problems.is_empty()).then(|| view! {
                            <ul class="field-error problems" data-test="paste-errors">
                                {check.problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
                            </ul>
                        })
                    }}
                    {move || create.value().get().and_then(Result::err).and_then(|status| {
                        let causes: Vec<String> = status.details.iter().flat_map(|d| d.causes.iter())
                            .map(|c| match &c.field { Some(f) => format!("{f}: {}", c.message), None => c.message.clone() })
                            .collect();
                        (!causes.is_empty()).then(|| view! {
                            <ul class="field-error problems" data-test="paste-causes">
                                {causes.into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}
                            </ul>
                        })
                    })}
                </div>
                <div class="form-actions">
                    <button type="submit" class="btn btn-primary" data-test="create-stream-paste-submit"
                        disabled=move || create.pending().get() || paste_check.with(|p| p.blocking.is_some())>
                        {move || if create.pending().get() { "Creating…" } else { "Create from text" }}
                    </button>
                </div>
            </form>
        </section>
    }
}

/// What the console can tell about pasted text before sending it.
#[derive(Debug, Clone, PartialEq, Default)]
struct PasteCheck {
    /// Which format was detected, and what happens next.
    note: String,
    /// Problems found locally (JSON only; the server checks YAML).
    problems: Vec<String>,
    /// Why the text cannot be sent at all.
    blocking: Option<String>,
}

fn paste_problems(text: &str, ns: &str) -> PasteCheck {
    if text.trim().is_empty() {
        return PasteCheck {
            note: "Paste an ImageStream, for example from openshift/library.".into(),
            blocking: Some("empty".into()),
            ..PasteCheck::default()
        };
    }
    match BodyFormat::detect(text) {
        BodyFormat::Yaml => PasteCheck {
            note: "Looks like YAML: the server checks it when you create.".into(),
            ..PasteCheck::default()
        },
        BodyFormat::Json => match serde_json::from_str::<ImageStream>(text) {
            Err(e) => PasteCheck {
                note: "Looks like JSON.".into(),
                problems: vec![format!("Not a valid ImageStream: {e}")],
                blocking: Some(e.to_string()),
            },
            Ok(stream) => PasteCheck {
                note: "Looks like JSON.".into(),
                problems: validate_image_stream(&stream, ns)
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                blocking: None,
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_makes_a_tag_only_when_one_is_asked_for() {
        let bare = build("ruby", " ", SourceKind::DockerImage, "");
        assert!(bare.spec.tags.is_empty());
        let tagged = build(
            "ruby",
            "3.3",
            SourceKind::DockerImage,
            "quay.io/demo/ruby:3.3",
        );
        let from = tagged.spec.tags[0].from.as_ref().expect("a source");
        assert_eq!(
            (from.kind.as_str(), from.name.as_str()),
            ("DockerImage", "quay.io/demo/ruby:3.3")
        );
    }

    #[test]
    fn a_source_without_a_tag_name_is_reported_on_the_tag_field() {
        let stream = build("ruby", "", SourceKind::DockerImage, "quay.io/demo/ruby:3.3");
        let fields: Vec<String> = validate_image_stream(&stream, "demo")
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, [TAG]);
    }

    #[test]
    fn pasted_json_is_checked_and_yaml_left_to_the_server() {
        let bad = paste_problems(r#"{"metadata": {"name": "Ruby"}}"#, "demo");
        assert_eq!(bad.blocking, None);
        assert!(bad.problems[0].starts_with(NAME), "{:?}", bad.problems);
        assert!(paste_problems("{ not json", "demo").blocking.is_some());
        let yaml = paste_problems("kind: ImageStream\nmetadata:\n  name: ruby\n", "demo");
        assert_eq!((yaml.blocking, yaml.problems.len()), (None, 0));
    }
}
