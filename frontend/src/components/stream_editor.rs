//! Editing a whole image stream as JSON. The save PUTs the object with the resourceVersion it was
//! loaded at; when someone else changed it first (409), the text stays as typed and "Reload and
//! re-apply" replays the user's changes (a merge patch) on the latest version.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use serde_json::Value;
use tagstream_shared::validation::validate_image_stream;
use tagstream_shared::{ImageStream, ProjectName, Status, StatusReason, StreamName};

use crate::api;
use crate::components::error_banner::ErrorBanner;
use crate::merge;
use crate::routes::Route;

/// The edit in progress, kept by the page so that a reload of the stream does not lose it.
#[derive(Debug, Clone, Copy)]
pub struct EditState {
    /// The version the edit started from; `None` when not editing.
    pub base: RwSignal<Option<ImageStream>>,
    /// The text as the user typed it.
    pub text: RwSignal<String>,
    /// Whether an edit is in progress; changes only when one starts or ends, so re-basing the
    /// edit on a newer version does not re-create the editor (and drop its running save).
    open: Memo<bool>,
}

impl Default for EditState {
    fn default() -> Self {
        Self::new()
    }
}

impl EditState {
    pub fn new() -> Self {
        let base = RwSignal::new(None::<ImageStream>);
        Self {
            base,
            text: RwSignal::new(String::new()),
            open: Memo::new(move |_| base.with(Option::is_some)),
        }
    }

    /// Starts editing `stream` as it is now.
    pub fn start(&self, stream: &ImageStream) {
        self.text.set(pretty(stream));
        self.base.set(Some(stream.clone()));
    }

    pub fn close(&self) {
        self.base.set(None);
    }

    pub fn is_open(&self) -> bool {
        self.open.get()
    }
}

// The stream goes to and from `Value` through text on purpose: the console then carries one
// serializer and one deserializer per type (those of its requests and answers) instead of one
// more of each for `Value` and for the pretty printer, which the link app's size budget notices.

/// The stream as a JSON value.
fn to_value(stream: &ImageStream) -> Result<Value, serde_json::Error> {
    serde_json::from_str(&serde_json::to_string(stream)?)
}

/// A JSON value as a stream.
fn from_value(value: &Value) -> Result<ImageStream, serde_json::Error> {
    serde_json::from_str(&value.to_string())
}

/// The stream as indented JSON, for the editor.
fn pretty(stream: &ImageStream) -> String {
    to_value(stream)
        .and_then(|value| serde_json::to_string_pretty(&value))
        .unwrap_or_default()
}

#[derive(Debug, Clone)]
enum Save {
    /// PUT the edited object as it is.
    Put(ImageStream),
    /// Fetch the latest version, apply the change from `base` to `edited`, PUT the result.
    Reapply { base: ImageStream, edited: Value },
}

/// The text as a stream the server would accept, or why not (checked as the user types).
fn check(text: &str, ns: &str, name: &str) -> Result<ImageStream, Vec<String>> {
    let stream: ImageStream =
        serde_json::from_str(text).map_err(|e| vec![format!("Not a valid ImageStream: {e}")])?;
    let mut problems: Vec<String> = validate_image_stream(&stream, ns)
        .iter()
        .map(ToString::to_string)
        .collect();
    if stream.metadata.name() != name {
        problems.push(format!(
            "metadata.name: must stay {name:?}; to rename, create a new stream"
        ));
    }
    match problems.is_empty() {
        true => Ok(stream),
        false => Err(problems),
    }
}

async fn reapply(
    ns: &str,
    name: &str,
    base: &ImageStream,
    edited: &Value,
    state: EditState,
) -> api::ApiResult<ImageStream> {
    let latest = api::get_stream(ns, name).await?;
    let unreadable = |e: serde_json::Error| {
        Status::failure(
            StatusReason::InternalError,
            format!("The edit could not be re-applied: {e}"),
        )
    };
    let original = to_value(base).map_err(unreadable)?;
    let mut merged = to_value(&latest).map_err(unreadable)?;
    if let Some(mut patch) = merge::diff(&original, edited) {
        if let Some(meta) = patch.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("resourceVersion");
        }
        merge::apply(&mut merged, &patch);
    }
    let merged = from_value(&merged).map_err(unreadable)?;
    state.text.set(pretty(&merged));
    state.base.set(Some(latest));
    api::replace_stream(ns, name, &merged).await
}

#[component]
pub fn StreamEditor(
    ns: ProjectName,
    name: StreamName,
    state: EditState,
    /// Called with the stream as saved.
    on_saved: Callback<ImageStream>,
) -> impl IntoView {
    let stream_href = Route::Stream {
        ns: ns.clone(),
        name: name.clone(),
    }
    .path();
    let (ns, name) = (ns.to_string(), name.to_string());
    let checked = Memo::new({
        let (ns, name) = (ns.clone(), name.clone());
        move |_| check(&state.text.get(), &ns, &name)
    });
    let save = Action::new_local({
        let (ns, name) = (ns.clone(), name.clone());
        move |input: &Save| {
            let (ns, name, input) = (ns.clone(), name.clone(), input.clone());
            async move {
                match input {
                    Save::Put(stream) => api::replace_stream(&ns, &name, &stream).await,
                    Save::Reapply { base, edited } => {
                        reapply(&ns, &name, &base, &edited, state).await
                    }
                }
            }
        }
    });
    Effect::new(move || {
        if let Some(Ok(saved)) = save.value().get() {
            state.close();
            on_saved.run(saved);
        }
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if let Ok(stream) = checked.get() {
            save.dispatch_local(Save::Put(stream));
        }
    };
    let on_reapply = move |_| {
        let edited = serde_json::from_str::<Value>(&state.text.get());
        if let (Some(base), Ok(edited)) = (state.base.get(), edited) {
            save.dispatch_local(Save::Reapply { base, edited });
        }
    };
    let pending = save.pending();

    view! {
        <section class="panel" aria-labelledby="edit-title" data-test="stream-editor">
            <div class="panel-head">
                <h2 id="edit-title">"Edit " {name.clone()} " as JSON"</h2>
                <span class="muted">
                    "Editing version "
                    <code data-test="editor-resource-version">
                        {move || state.base.with(|b| b.as_ref().and_then(|s| s.metadata.resource_version.clone()))}
                    </code>
                </span>
            </div>
            {move || save.value().get().and_then(Result::err).map(|status| {
                let conflict = status.reason == StatusReason::Conflict;
                view! {
                    <ErrorBanner status>
                        {conflict.then(|| view! {
                            <button type="button" class="btn btn-primary" data-test="reload-reapply"
                                disabled=move || pending.get() on:click=on_reapply>
                                "Reload and re-apply my changes"
                            </button>
                        })}
                    </ErrorBanner>
                }
            })}
            <form on:submit=on_submit data-test="stream-edit-form">
                <label for="stream-json" class="visually-hidden">"The image stream as JSON"</label>
                <textarea id="stream-json" class="mono code-input" rows="24" spellcheck="false"
                    data-test="stream-json-editor"
                    aria-invalid=move || checked.with(Result::is_err).to_string()
                    prop:value=move || state.text.get()
                    on:input=move |ev| state.text.set(event_target_value(&ev))></textarea>
                {move || checked.get().err().map(|problems| view! {
                    <ul class="field-error problems" data-test="editor-errors">
                        {problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
                    </ul>
                })}
                <div class="form-actions">
                    <button type="submit" class="btn btn-primary" data-test="save-stream"
                        disabled=move || pending.get() || checked.with(Result::is_err)>
                        {move || if pending.get() { "Saving…" } else { "Save" }}
                    </button>
                    <a class="btn" href=stream_href data-test="cancel-edit">"Cancel"</a>
                </div>
            </form>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_editor_refuses_a_rename_and_broken_json() {
        let stream = ImageStream::new("ruby");
        assert!(check(&pretty(&stream), "demo", "ruby").is_ok());
        let problems = check(&pretty(&ImageStream::new("python")), "demo", "ruby")
            .expect_err("a rename is refused");
        assert!(problems[0].contains("must stay"), "{problems:?}");
        assert!(check("{", "demo", "ruby").is_err());
    }
}
