//! `/admin/samples`: the samples config (samples.operator.openshift.io/v1 Config `cluster`):
//! management state, a registry mirror, and the samples to leave alone.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use tagstream_shared::{ManagementState, SamplesConfig};

use crate::api;
use crate::components::error_banner::ErrorBanner;
use crate::components::loaded::Loaded;
use crate::pages::set_title;
use crate::routes::Route;

#[component]
pub fn AdminSamplesPage() -> impl IntoView {
    set_title("Samples");
    let config = LocalResource::new(api::get_samples_config);
    view! {
        <header class="page-head">
            <div>
                <h1>"Samples"</h1>
                <p class="muted">"The image streams and templates this server ships, kept in the samples project."</p>
            </div>
        </header>
        <Loaded resource=config what="samples config" view=|c: SamplesConfig| view! { <SamplesForm config=c /> } />
    }
}

/// One name per line (or comma separated), blanks dropped.
fn names(text: &str) -> Vec<String> {
    text.split([',', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[component]
fn SamplesForm(config: SamplesConfig) -> impl IntoView {
    // Plain text signals: the console already carries their code, a new signal type would add more.
    let state = RwSignal::new(config.spec.management_state.as_str().to_owned());
    let applied = RwSignal::new(
        config
            .status
            .management_state
            .map_or("—", ManagementState::as_str)
            .to_owned(),
    );
    let registry = RwSignal::new(config.spec.samples_registry.clone());
    let streams = RwSignal::new(config.spec.skipped_imagestreams.join("\n"));
    let templates = RwSignal::new(config.spec.skipped_templates.join("\n"));
    let base = std::sync::Arc::new(config.clone());
    let save = Action::new_local(|c: &SamplesConfig| {
        let c = c.clone();
        async move { api::replace_samples_config(&c).await }
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let mut c = (*base).clone();
        c.metadata.resource_version = None;
        c.spec.management_state = ManagementState::parse(&state.get()).unwrap_or_default();
        c.spec.samples_registry = registry.get().trim().to_owned();
        c.spec.skipped_imagestreams = names(&streams.get());
        c.spec.skipped_templates = names(&templates.get());
        save.dispatch_local(c);
    };
    Effect::new(move || {
        if let Some(Ok(saved)) = save.value().get() {
            applied.set(
                saved
                    .status
                    .management_state
                    .map_or("—", ManagementState::as_str)
                    .to_owned(),
            );
        }
    });
    let cause = move |field: &'static str| {
        move || {
            save.value()
                .get()
                .and_then(Result::err)
                .and_then(|s| s.causes_for(field).next().map(|c| c.message.clone()))
        }
    };
    let ns = config.status.namespace.clone();
    let ns_link = ns.parse().ok().map(|ns| Route::Templates { ns }.path());
    view! {
        <p>"Samples project: " <a class="mono" href=ns_link>{ns}</a>
            " · applied state: " <span data-test="samples-applied">{move || applied.get()}</span></p>
        {move || save.value().get().and_then(Result::err).map(|status| view! { <ErrorBanner status /> })}
        {move || save.value().get().and_then(Result::ok).map(|_| view! {
            <p class="banner banner-ok" role="status" data-test="samples-saved">"Saved and applied."</p>
        })}
        <form class="panel form-grid" data-test="samples-form" novalidate on:submit=submit>
            <fieldset class="fieldset">
                <legend>"Management state"</legend>
                {ManagementState::ALL.map(|m| view! {
                    <label class="radio">
                        <input type="radio" name="management-state" value=m.as_str() data-test=format!("state-{}", m.as_str())
                            prop:checked=move || state.with(|s| s == m.as_str()) on:change=move |_| state.set(m.as_str().to_owned()) />
                        " " {m.as_str()} " — "
                        {match m {
                            ManagementState::Managed => "deleted samples are re-created and changed ones put back at every start",
                            ManagementState::Unmanaged => "samples are left as they are",
                            ManagementState::Removed => "samples are deleted",
                        }}
                    </label>
                }).collect_view()}
            </fieldset>
            <div class="field">
                <label for="samples-registry">"Samples registry"</label>
                <input id="samples-registry" type="text" class="mono" placeholder="docker.io" data-test="samples-registry"
                    prop:value=move || registry.get() on:input=move |ev| registry.set(event_target_value(&ev)) />
                <p class="field-hint">"A mirror host[:port] used instead of docker.io in the sample image streams."</p>
                {move || cause("spec.samplesRegistry")().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
            </div>
            <div class="field">
                <label for="skipped-streams">"Skipped image streams"</label>
                <textarea id="skipped-streams" class="mono" rows="3" data-test="skipped-streams"
                    prop:value=move || streams.get() on:input=move |ev| streams.set(event_target_value(&ev))></textarea>
                <p class="field-hint">"One name per line. Skipped samples are left exactly as they are; skip one before editing it."</p>
            </div>
            <div class="field">
                <label for="skipped-templates">"Skipped templates"</label>
                <textarea id="skipped-templates" class="mono" rows="3" data-test="skipped-templates"
                    prop:value=move || templates.get() on:input=move |ev| templates.set(event_target_value(&ev))></textarea>
            </div>
            <div class="form-actions">
                <button type="submit" class="btn btn-primary" data-test="samples-save" disabled=move || save.pending().get()>
                    {move || if save.pending().get() { "Saving…" } else { "Save and apply" }}
                </button>
            </div>
        </form>
    }
}
