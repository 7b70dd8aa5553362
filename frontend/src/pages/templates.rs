//! `/ns/{ns}/templates`: the catalog for a project: its own templates and those of the samples
//! project, filtered by name, tag and description (`?q=`).

use leptos::prelude::*;
use tagstream_shared::{List, ProjectName, Status, Template};

use crate::api;
use crate::components::breadcrumbs::Breadcrumbs;
use crate::components::loaded::Loaded;
use crate::components::not_found::NotFoundView;
use crate::pages::{set_title, use_query_text, use_route, use_set_query};
use crate::routes::{Route, query_string};

#[component]
pub fn TemplatesPage() -> impl IntoView {
    match use_route() {
        Some(Route::Templates { ns }) => view! { <Catalog ns /> }.into_any(),
        _ => view! { <NotFoundView what="template catalog" /> }.into_any(),
    }
}

/// The project's templates, then the samples' (when the samples project is another one).
async fn catalog(ns: String) -> Result<Vec<(String, Template)>, Status> {
    let own = api::list_templates(&ns).await?;
    let mut rows: Vec<(String, Template)> =
        own.items.into_iter().map(|t| (ns.clone(), t)).collect();
    // The samples are a bonus: without them (no access, none configured) the catalog still works.
    if let Ok(config) = api::get_samples_config().await {
        let samples_ns = config.status.namespace;
        if !samples_ns.is_empty() && samples_ns != ns {
            let samples: List<Template> = api::list_templates(&samples_ns)
                .await
                .unwrap_or_else(|_| List::new("Template", "", String::new(), Vec::new()));
            rows.extend(samples.items.into_iter().map(|t| (samples_ns.clone(), t)));
        }
    }
    Ok(rows)
}

#[component]
fn Catalog(ns: ProjectName) -> impl IntoView {
    let templates = LocalResource::new({
        let ns = ns.to_string();
        move || catalog(ns.clone())
    });
    set_title(&format!("Templates · {ns}"));
    let q = use_query_text("q");
    let set_query = use_set_query();
    view! {
        <Breadcrumbs ns=ns.clone() last=("Templates".to_owned(), Route::Templates { ns: ns.clone() }) />
        <header class="page-head">
            <div>
                <h1>"Templates"</h1>
                <p class="muted">"Instantiate a template in " <span class="mono">{ns.to_string()}</span>
                    ": its image streams are created here; its other objects are yours to apply."</p>
            </div>
        </header>
        <div class="toolbar">
            <label class="filter">
                <span class="visually-hidden">"Filter templates"</span>
                <input type="search" placeholder="Filter by name, tag or description" data-test="template-filter"
                    prop:value=move || q.get()
                    on:input=move |ev| set_query(&[("q", &event_target_value(&ev))]) />
            </label>
        </div>
        <Loaded resource=templates what="templates" rows=4
            view={move |rows: Vec<(String, Template)>| view! { <CatalogTable ns=ns.clone() rows q /> }} />
    }
}

#[component]
fn CatalogTable(ns: ProjectName, rows: Vec<(String, Template)>, q: Memo<String>) -> impl IntoView {
    if rows.is_empty() {
        return view! {
            <p class="empty" data-test="templates-empty">
                "No templates here yet. Create one with the API (POST a Template to "
                <span class="mono">{tagstream_shared::paths::templates(ns.as_str())}</span>
                "), or ask an admin to turn the samples on under Admin › Samples."
            </p>
        }
        .into_any();
    }
    let total = rows.len();
    let shown = move || {
        let q = q.get();
        rows.iter()
            .filter(|(_, t)| t.matches(&q))
            .cloned()
            .collect::<Vec<_>>()
    };
    view! {
        {move || {
            let rows = shown();
            let count = rows.len();
            view! {
                <p class="muted" data-test="template-count">
                    {if count == total { format!("{total} templates") } else { format!("{count} of {total} templates") }}
                </p>
                <table class="table" data-test="template-table">
                    <thead><tr><th scope="col">"Template"</th><th scope="col">"Tags"</th>
                        <th scope="col">"Description"</th><th scope="col">"From"</th></tr></thead>
                    <tbody>
                        {rows.into_iter().map(|(source, t)| {
                            let name = t.metadata.name().to_owned();
                            let row_name = name.clone();
                            let href = name.parse().ok().map(|name: tagstream_shared::TemplateName| {
                                let query = if source == ns.as_str() { String::new() } else { query_string(&[("source", source.as_str())]) };
                                format!("{}{query}", Route::Template { ns: ns.clone(), name }.path())
                            });
                            view! {
                                <tr data-test="template-row" data-name=row_name>
                                    <th scope="row">
                                        <a href=href data-test="template-link">{t.display_name().to_owned()}</a>
                                        <div class="muted mono">{name}</div>
                                    </th>
                                    <td>{t.tags().into_iter().map(|tag| view! { <span class="badge badge-neutral">{tag.to_owned()}</span> " " }).collect_view()}</td>
                                    <td>{t.description().to_owned()}</td>
                                    <td class="mono">{source}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
                {(count == 0).then(|| view! { <p class="empty" data-test="templates-none-match">"No template matches the filter."</p> })}
            }
        }}
    }
    .into_any()
}
