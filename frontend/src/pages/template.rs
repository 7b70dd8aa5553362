//! `/ns/{ns}/templates/{name}[?source=openshift]`: a template's description, message and objects,
//! its parameter form (checked as you type by the shared engine the server runs), a live preview
//! of the processed objects, Instantiate, and Download as JSON or YAML.

use std::sync::Arc;

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use serde_json::Value;
use tagstream_shared::template::generate::generate;
use tagstream_shared::template::process::{parameter_field, process};
use tagstream_shared::template::{TemplateInstanceSpec, object_list};
use tagstream_shared::{ObjectMeta, ProjectName, Status, Template, TemplateInstance, TemplateName};

use crate::api;
use crate::components::breadcrumbs::Breadcrumbs;
use crate::components::error_banner::ErrorBanner;
use crate::components::loaded::Loaded;
use crate::components::not_found::NotFoundView;
use crate::pages::{set_title, use_query_text, use_route};
use crate::routes::{Route, encode};

#[component]
pub fn TemplatePage() -> impl IntoView {
    let route = use_route();
    let source = use_query_text("source");
    move || match route.clone() {
        Some(Route::Template { ns, name }) => {
            let source = source.get();
            let source = match source.parse::<ProjectName>() {
                Ok(s) => s,
                Err(_) => ns.clone(),
            };
            view! { <TemplateView ns name source /> }.into_any()
        }
        _ => view! { <NotFoundView what="template" /> }.into_any(),
    }
}

#[component]
fn TemplateView(ns: ProjectName, name: TemplateName, source: ProjectName) -> impl IntoView {
    let template = LocalResource::new({
        let (source, name) = (source.to_string(), name.to_string());
        move || {
            let (source, name) = (source.clone(), name.clone());
            async move { api::get_template(&source, &name).await }
        }
    });
    set_title(&format!("{name} · {ns}"));
    let what = format!("template {source}/{name}");
    let crumb = (name.to_string(), Route::Templates { ns: ns.clone() });
    view! {
        <Breadcrumbs ns=ns.clone() last=crumb />
        <Loaded resource=template what
            view={move |t: Template| view! { <TemplateBody ns=ns.clone() template=t source=source.clone() /> }} />
    }
}

/// Links that download the JSON text `json` as `file.json` or, converted, `file.yaml`; built in
/// the browser (nothing to fetch), absent while there is nothing to download.
#[component]
fn Downloads(
    #[prop(into)] json: Signal<String>,
    file: String,
    test: &'static str,
) -> impl IntoView {
    let href = move |yaml: bool| {
        json.with(|text| {
            (!text.is_empty()).then(|| match yaml {
                true => format!(
                    "data:application/yaml;charset=utf-8,{}",
                    encode(&tagstream_shared::yaml::to_string(
                        &serde_json::from_str(text).unwrap_or_default()
                    ))
                ),
                false => format!("data:application/json;charset=utf-8,{}", encode(text)),
            })
        })
    };
    let (json_file, yaml_file) = (format!("{file}.json"), format!("{file}.yaml"));
    view! {
        <span class="downloads">
            "Download "
            <a class="btn btn-small" href=move || href(false) download=json_file data-test=format!("{test}-json")>"JSON"</a>
            " "
            <a class="btn btn-small" href=move || href(true) download=yaml_file data-test=format!("{test}-yaml")>"YAML"</a>
        </span>
    }
}

/// `value` as indented JSON, or "" if it cannot be written.
fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// `template` with the form's values in its parameters; `examples` stand in for empty generated
/// ones (the preview), or they are left for the server to generate (instantiation).
fn with_values(
    template: &Template,
    values: &[RwSignal<String>],
    examples: &[Option<String>],
) -> Template {
    let mut t = template.clone();
    for (i, (p, v)) in t.parameters.iter_mut().flatten().zip(values).enumerate() {
        let v = v.get();
        p.value = match v.is_empty() {
            false => Some(v),
            true => examples.get(i).cloned().flatten(),
        };
    }
    t
}

#[component]
fn TemplateBody(ns: ProjectName, template: Template, source: ProjectName) -> impl IntoView {
    let params = template.parameters().to_vec();
    let values: Vec<RwSignal<String>> = params
        .iter()
        .map(|p| RwSignal::new(p.value().to_owned()))
        .collect();
    let touched: Vec<RwSignal<bool>> = params.iter().map(|_| RwSignal::new(false)).collect();
    let attempted = RwSignal::new(false);
    // Example values for generated parameters, made once so the preview holds still as you type.
    let examples: Arc<Vec<Option<String>>> = Arc::new(
        params
            .iter()
            .map(|p| {
                p.is_generated()
                    .then(|| generate(p.from.as_deref().unwrap_or_default()).ok())
                    .flatten()
            })
            .collect(),
    );
    let base = Arc::new(template.clone());
    let processed = {
        let (base, values, examples) = (base.clone(), values.clone(), examples.clone());
        move || process(&with_values(&base, &values, &examples))
    };
    // What the shared engine says of the form: the errors by field, and the objects as JSON.
    let errors = Memo::new({
        let processed = processed.clone();
        move |_| match processed() {
            Ok(_) => Vec::new(),
            Err(errors) => errors
                .into_iter()
                .map(|e| (e.field.clone(), e.detail))
                .collect::<Vec<(String, String)>>(),
        }
    });
    let preview = Memo::new(move |_| match processed() {
        Ok(t) => pretty(&object_list(t.objects)),
        Err(_) => String::new(),
    });

    let instantiate = Action::new_local({
        let ns = ns.to_string();
        move |instance: &TemplateInstance| {
            let (ns, instance) = (ns.clone(), instance.clone());
            async move { api::instantiate(&ns, &instance).await }
        }
    });
    let server_errors = move || {
        instantiate
            .value()
            .get()
            .and_then(Result::err)
            .map(|s: Status| s.details.map(|d| d.causes).unwrap_or_default())
            .unwrap_or_default()
    };

    let submit = {
        let (values, base) = (values.clone(), base.clone());
        let name = template.metadata.name().to_owned();
        move |ev: SubmitEvent| {
            ev.prevent_default();
            attempted.set(true);
            if !errors.with(Vec::is_empty) {
                return;
            }
            let t = with_values(&base, &values, &[]);
            let instance = TemplateInstance {
                kind: TemplateInstance::KIND.into(),
                api_version: tagstream_shared::template::API_VERSION.into(),
                metadata: ObjectMeta {
                    generate_name: Some(format!("{name}-")),
                    ..ObjectMeta::default()
                },
                spec: TemplateInstanceSpec {
                    template: t,
                    ..TemplateInstanceSpec::default()
                },
                ..TemplateInstance::default()
            };
            instantiate.dispatch_local(instance);
        }
    };

    let fields = params
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (value, touched) = (values[i], touched[i]);
            let field = parameter_field(i);
            let id = format!("param-{}", p.name);
            let error = {
                let field = field.clone();
                move || {
                    let local = (touched.get() || attempted.get())
                        .then(|| {
                            errors.with(|errs| {
                                errs.iter().find(|(f, _)| *f == field).map(|(_, m)| m.clone())
                            })
                        })
                        .flatten();
                    let server = server_errors()
                        .into_iter()
                        .find(|c| c.field.as_deref() == Some(field.as_str()))
                        .map(|c| c.message);
                    server.or(local)
                }
            };
            let error = Signal::derive(error);
            let generated = p.is_generated();
            let hint = match (p.description.clone().unwrap_or_default(), generated) {
                (d, true) if d.is_empty() => format!("Generated if empty ({})", p.from.clone().unwrap_or_default()),
                (d, true) => format!("{d} Generated if empty ({}).", p.from.clone().unwrap_or_default()),
                (d, false) => d,
            };
            let required = p.is_required();
            view! {
                <div class="field" class:field-invalid=move || error.with(Option::is_some) data-test="param-field" data-param=p.name.clone()>
                    <label for=id.clone()>
                        {p.label().to_owned()}
                        {required.then(|| view! { <span class="required" data-test="param-required">" (required)"</span> })}
                    </label>
                    <input id=id.clone() type="text" autocomplete="off" spellcheck="false" class="mono"
                        data-test="param-input" aria-invalid=move || error.with(Option::is_some).to_string()
                        placeholder=generated.then_some("generated if empty")
                        prop:value=move || value.get()
                        on:input=move |ev| { value.set(event_target_value(&ev)); touched.set(true); } />
                    {(!hint.is_empty()).then(|| view! { <p class="field-hint">{hint}</p> })}
                    {move || error.get().map(|m| view! { <p class="field-error" role="alert" data-test="param-error">{m}</p> })}
                </div>
            }
        })
        .collect_view();

    let result = move || instantiate.value().get().and_then(Result::ok);
    let manifests = Signal::derive(move || {
        result()
            .and_then(|i| i.status.manifests)
            .map(|m| pretty(&m))
            .unwrap_or_default()
    });
    let file = template.metadata.name().to_owned();
    let kinds = template.object_kinds();
    let ns_for_result = ns.clone();
    let description = template.description().to_owned();
    let tags = template
        .tags()
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    view! {
        <header class="page-head">
            <div>
                <h1 data-test="template-title">{template.display_name().to_owned()}</h1>
                <p class="muted mono">{format!("{source}/{}", template.metadata.name())}</p>
            </div>
            <div class="page-actions">
                <button type="submit" form="template-form" class="btn btn-primary" data-test="instantiate"
                    disabled=move || instantiate.pending().get()>
                    {move || if instantiate.pending().get() { "Instantiating…" } else { "Instantiate" }}
                </button>
            </div>
        </header>
        <p data-test="template-description">{description}</p>
        <p>{tags.into_iter().map(|t| view! { <span class="badge badge-neutral">{t}</span> " " }).collect_view()}</p>
        {move || result().map(|instance| {
            let message = instance.status.extra.get("message").and_then(Value::as_str).unwrap_or_default().to_owned();
            let streams: Vec<String> = instance.status.objects.iter()
                .filter(|o| o.reference.kind == "ImageStream")
                .map(|o| o.reference.name.clone())
                .collect();
            let ns = ns_for_result.clone();
            view! {
                <section class="panel banner-ok" data-test="instantiated" role="status">
                    <h2>"Instantiated " <span class="mono">{instance.metadata.name().to_owned()}</span></h2>
                    {(!message.is_empty()).then(|| view! { <pre class="message" data-test="instantiated-message">{message}</pre> })}
                    <p>"Image streams created in " <span class="mono">{ns.to_string()}</span> ":"</p>
                    <ul>
                        {streams.into_iter().map(|s| {
                            let href = s.parse().ok().map(|name| Route::Stream { ns: ns.clone(), name }.path());
                            view! { <li><a href=href class="mono" data-test="created-stream">{s}</a></li> }
                        }).collect_view()}
                    </ul>
                    <p>"The other objects (the generated values are in them and shown only now): "
                        <Downloads json=manifests file=format!("{}-objects", instance.metadata.name()) test="download-objects" /></p>
                </section>
            }
        })}
        {move || instantiate.value().get().and_then(Result::err).map(|status| view! { <ErrorBanner status /> })}
        <div class="template-grid">
            <section class="panel" aria-labelledby="params-title">
                <h2 id="params-title">"Parameters"</h2>
                <form id="template-form" class="form-grid" novalidate data-test="template-form" on:submit=submit>
                    {fields}
                    {params.is_empty().then(|| view! { <p class="muted">"This template has no parameters."</p> })}
                </form>
            </section>
            <section class="panel" aria-labelledby="objects-title">
                <h2 id="objects-title">"Objects"</h2>
                <ul data-test="object-summary">
                    {kinds.into_iter().map(|(kind, n)| view! { <li><span class="mono">{kind}</span> " × " {n}</li> }).collect_view()}
                </ul>
                {template.message.clone().map(|m| view! {
                    <h3>"Message after instantiation"</h3>
                    <pre class="message" data-test="template-message">{m}</pre>
                })}
            </section>
        </div>
        <section class="panel" aria-labelledby="preview-title">
            <div class="panel-head">
                <h2 id="preview-title">"Preview"</h2>
                <Downloads json=preview file=file test="download-preview" />
            </div>
            <p class="muted">"Processed here by the same code the server runs. Generated values are examples; the server makes its own when you instantiate."</p>
            {move || match preview.with(String::is_empty) {
                false => view! { <pre class="preview" data-test="preview">{preview.get()}</pre> }.into_any(),
                true => view! { <p class="empty" data-test="preview-blocked">"Fill in the required parameters to see the objects."</p> }.into_any(),
            }}
        </section>
    }
}
