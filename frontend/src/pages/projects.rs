//! `/`: every project the user can see, a filter (`?q=`) and the form that creates one.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use tagstream_shared::project::DISPLAY_NAME;
use tagstream_shared::validation::validate_project;
use tagstream_shared::{List, Project, ProjectName, Status, paths};

use crate::api;
use crate::components::breadcrumbs::Breadcrumbs;
use crate::components::error_banner::ErrorBanner;
use crate::components::field::{Field, first_error, focus};
use crate::components::live::{LiveNote, live_updates};
use crate::components::loaded::Loaded;
use crate::components::relative_time::RelativeTime;
use crate::pages::{set_title, use_query_text, use_set_query};
use crate::remembered::{self, Freshness};
use crate::routes::Route;

#[component]
pub fn ProjectsPage() -> impl IntoView {
    set_title("Projects");
    let (projects, first) = remembered::resource(
        paths::PROJECTS.to_owned(),
        Freshness::Watched,
        api::list_projects,
    );
    let q = use_query_text("q");
    let set_query = use_set_query();
    let on_created = Callback::new(move |_: Project| projects.refetch());
    let since = Signal::derive(move || {
        projects
            .get()
            .and_then(Result::ok)
            .and_then(|list| list.metadata.resource_version)
    });
    let updated = live_updates(
        paths::PROJECTS.to_owned(),
        None,
        since,
        Callback::new(move |()| projects.refetch()),
    );

    view! {
        <Breadcrumbs />
        <LiveNote updated />
        <header class="page-head">
            <h1>"Projects"</h1>
            <div class="page-actions">
                <a class="btn btn-primary" href="#create-project" data-test="open-create-project" on:click=|_| focus("project-name")>"Create project"</a>
            </div>
        </header>
        <div class="toolbar">
            <label class="filter">
                <span class="visually-hidden">"Filter projects"</span>
                <input type="search" placeholder="Filter projects by name" data-test="project-filter"
                    prop:value=move || q.get() on:input=move |ev| set_query(&[("q", &event_target_value(&ev))]) />
            </label>
        </div>
        <Loaded resource=projects first what="projects" view={move |list: List<Project>| view! { <ProjectTable list q /> }} />
        <CreateProject on_created />
    }
}

#[component]
fn ProjectTable(list: List<Project>, q: Memo<String>) -> impl IntoView {
    let total = list.items.len();
    let mut items = list.items;
    items.sort_by(|a, b| a.metadata.name().cmp(b.metadata.name()));
    if total == 0 {
        return view! {
            <p class="empty" data-test="projects-empty">
                "No projects yet. " <a href="#create-project">"Create a project"</a>
                " to hold your image streams."
            </p>
        }
        .into_any();
    }
    let rows = move || {
        let needle = q.get().to_lowercase();
        items
            .iter()
            .filter(|p| {
                needle.is_empty()
                    || p.metadata.name().contains(&needle)
                    || p.display_name().to_lowercase().contains(&needle)
            })
            .cloned()
            .collect::<Vec<_>>()
    };
    view! {
        {move || {
            let shown = rows();
            let count = shown.len();
            view! {
                <p class="count muted" data-test="project-count">
                    {
                        let noun = if total == 1 { "project" } else { "projects" };
                        if count == total { format!("{total} {noun}") } else { format!("{count} of {total} {noun}") }
                    }
                </p>
                {if shown.is_empty() {
                    view! {
                        <p class="empty" data-test="projects-no-match">"No project matches “" {q.get()} "”."</p>
                    }.into_any()
                } else {
                    view! {
                        <table class="table" data-test="projects-table">
                            <thead><tr><th scope="col">"Name"</th><th scope="col">"Display name"</th><th scope="col">"Created"</th></tr></thead>
                            <tbody>
                                {shown.into_iter().map(|p| view! { <ProjectRow project=p /> }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }}
            }
        }}
    }
    .into_any()
}

#[component]
fn ProjectRow(project: Project) -> impl IntoView {
    let name = project.metadata.name().to_owned();
    let href = name
        .parse::<ProjectName>()
        .map(|ns| Route::Project { ns }.path())
        .ok();
    let display = project
        .metadata
        .annotation(DISPLAY_NAME)
        .unwrap_or_default()
        .to_owned();
    let label = name.clone();
    view! {
        <tr data-test="project-row" data-name=name>
            <td><a href=href data-test="project-link">{label}</a></td>
            <td>{display}</td>
            <td>{project.metadata.creation_timestamp.map(|time| view! { <RelativeTime time /> })}</td>
        </tr>
    }
}

#[component]
fn CreateProject(on_created: Callback<Project>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let display = RwSignal::new(String::new());
    let touched = RwSignal::new(false);
    let server_error = RwSignal::new(None::<String>);
    let created = RwSignal::new(None::<String>);

    let build = move || {
        let mut project = Project::new(name.get().trim());
        let title = display.get().trim().to_owned();
        if !title.is_empty() {
            project.metadata.annotations = Some([(DISPLAY_NAME.to_owned(), title)].into());
        }
        project
    };
    let local_error = Memo::new(move |_| {
        validate_project(&build())
            .into_iter()
            .find(|e| e.field == "metadata.name")
            .map(|e| e.message())
    });
    let name_error = Signal::derive(move || {
        first_error(
            touched.get().then(|| local_error.get()).flatten(),
            server_error.get(),
        )
    });

    let create = Action::new_local(|project: &Project| {
        let project = project.clone();
        async move { api::create_project(&project).await }
    });
    Effect::new(move || match create.value().get() {
        Some(Ok(project)) => {
            created.set(Some(project.metadata.name().to_owned()));
            name.set(String::new());
            display.set(String::new());
            touched.set(false);
            on_created.run(project);
        }
        Some(Err(status)) => {
            server_error.set(
                status
                    .causes_for("metadata.name")
                    .next()
                    .map(|c| c.message.clone()),
            );
            created.set(None);
        }
        None => {}
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        touched.set(true);
        if local_error.get().is_none() {
            create.dispatch_local(build());
        }
    };

    view! {
        <section class="panel" id="create-project" aria-labelledby="create-project-title">
            <h2 id="create-project-title">"Create project"</h2>
            {move || create.value().get().and_then(Result::err).map(|status: Status| view! { <ErrorBanner status /> })}
            {move || created.get().and_then(|n| n.parse::<ProjectName>().ok()).map(|ns| view! {
                <p class="banner banner-ok" role="status" data-test="create-project-success">
                    "Created project " <a href=Route::Project { ns: ns.clone() }.path()>{ns.to_string()}</a> "."
                </p>
            })}
            <form class="form-grid" data-test="create-project-form" novalidate on:submit=on_submit>
                <Field label="Name" id="project-name" error=name_error error_test="project-name-error"
                    hint="Lower-case letters, digits and '-', 2 to 63 characters">
                    <input id="project-name" type="text" autocomplete="off" spellcheck="false" placeholder="my-team"
                        data-test="project-name-input" aria-invalid=move || name_error.with(Option::is_some).to_string()
                        prop:value=move || name.get()
                        on:input=move |ev| {
                            name.set(event_target_value(&ev));
                            touched.set(true);
                            server_error.set(None);
                        } />
                </Field>
                <Field label="Display name (optional)" id="project-display" error=Signal::derive(|| None::<String>) error_test="project-display-error">
                    <input id="project-display" type="text" autocomplete="off" placeholder="My team"
                        data-test="project-display-name-input"
                        prop:value=move || display.get() on:input=move |ev| display.set(event_target_value(&ev)) />
                </Field>
                <div class="form-actions">
                    <button type="submit" class="btn btn-primary" data-test="create-project-submit"
                        disabled=move || create.pending().get()>
                        {move || if create.pending().get() { "Creating…" } else { "Create project" }}
                    </button>
                </div>
            </form>
        </section>
    }
}
