//! `/ns/{ns}`: a project's image streams (filter `?q=`, sort `?sort=`, page `?page=`), creating a
//! stream, and deleting the project.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use tagstream_shared::{ImageStream, List, Project, ProjectName, Time, paths};

use crate::api;
use crate::components::breadcrumbs::Breadcrumbs;
use crate::components::can::Can;
use crate::components::confirm_dialog::ConfirmDialog;
use crate::components::create_stream::CreateStream;
use crate::components::field::focus;
use crate::components::live::{LiveNote, live_updates};
use crate::components::loaded::Loaded;
use crate::components::not_found::NotFoundView;
use crate::components::relative_time::RelativeTime;
use crate::format;
use crate::pages::{set_title, use_query_text, use_route, use_set_query};
use crate::remembered::{self, Freshness};
use crate::routes::Route;
use tagstream_shared::access::{Resource, Verb};

/// Rows per page: enough to scan, few enough that 10,000 streams never freeze the page.
const PAGE_SIZE: usize = 100;

#[component]
pub fn ProjectPage() -> impl IntoView {
    match use_route() {
        Some(Route::Project { ns }) => view! { <ProjectView ns /> }.into_any(),
        _ => view! { <NotFoundView what="project" /> }.into_any(),
    }
}

#[component]
fn ProjectView(ns: ProjectName) -> impl IntoView {
    let (project, first) =
        remembered::resource(paths::project(ns.as_str()), Freshness::Revalidate, {
            let ns = ns.to_string();
            move || {
                let ns = ns.clone();
                async move { api::get_project(&ns).await }
            }
        });
    let (streams, streams_first) =
        remembered::resource(paths::imagestreams(ns.as_str()), Freshness::Watched, {
            let ns = ns.to_string();
            move || {
                let ns = ns.clone();
                async move { api::list_streams(&ns).await }
            }
        });
    set_title(ns.as_str());
    crate::components::can::provide_access(ns.as_str());
    let since = Signal::derive(move || {
        streams
            .get()
            .and_then(Result::ok)
            .and_then(|list| list.metadata.resource_version)
    });
    let updated = live_updates(
        paths::imagestreams(ns.as_str()),
        None,
        since,
        Callback::new(move |()| streams.refetch()),
    );
    let what = format!("project {ns}");
    view! {
        <Breadcrumbs ns=ns.clone() />
        <LiveNote updated />
        <Loaded resource=project first what view={move |p: Project| view! { <ProjectBody ns=ns.clone() project=p streams streams_first=streams_first.clone() /> }} />
    }
}

#[component]
fn ProjectBody(
    ns: ProjectName,
    project: Project,
    streams: LocalResource<Result<List<ImageStream>, tagstream_shared::Status>>,
    /// The stream list remembered from an earlier visit, shown until `streams` has one.
    streams_first: Option<List<ImageStream>>,
) -> impl IntoView {
    let confirm = RwSignal::new(false);
    let navigate = use_navigate();
    let delete = Action::new_local(|ns: &String| {
        let ns = ns.clone();
        async move { api::delete_project(&ns).await }
    });
    Effect::new(move || {
        if let Some(Ok(_)) = delete.value().get() {
            confirm.set(false);
            navigate(&Route::Projects.path(), Default::default());
        }
    });
    let on_created = Callback::new(move |_: ImageStream| streams.refetch());
    let stream_count = move || {
        streams
            .get()
            .and_then(Result::ok)
            .map(|list| list.items.len())
    };
    let ns_text = ns.to_string();
    let title = project.display_name().to_owned();
    let q = use_query_text("q");
    let import_href = Route::Import { ns: ns.clone() }.path();
    let access_href = Route::Access { ns: ns.clone() }.path();
    let audit_href = Route::Audit { ns: ns.clone() }.path();
    let triggers_href = Route::Triggers { ns: ns.clone() }.path();
    let events_href = Route::Events { ns: ns.clone() }.path();
    let create_ns = ns.clone();
    let remembered_list = streams_first.is_some();
    let list_shown = Memo::new(move |_| remembered_list || streams.get().is_some());
    view! {
        <header class="page-head">
            <div>
                <h1 data-test="project-title">{title.clone()}</h1>
                {(title != ns_text).then(|| view! { <p class="muted mono">{ns_text.clone()}</p> })}
            </div>
            <div class="page-actions">
                <a class="btn" href=Route::Templates { ns: ns.clone() }.path() data-test="open-catalog">"Templates"</a>
                <Can verb=Verb::List resource=Resource::Triggers>
                    <a class="btn" href=triggers_href.clone() data-test="open-triggers">"Triggers"</a>
                </Can>
                <Can verb=Verb::List resource=Resource::Events>
                    <a class="btn" href=events_href.clone() data-test="open-events">"Events"</a>
                </Can>
                <Can verb=Verb::Create resource=Resource::ImageStreams>
                    <a class="btn btn-primary" href="#create-stream" data-test="open-create-stream" on:click=|_| focus("stream-name")>"Create stream"</a>
                </Can>
                <Can verb=Verb::Create resource=Resource::ImageStreamImports>
                    <a class="btn" href=import_href.clone() data-test="open-import">"Import image"</a>
                </Can>
                <Can verb=Verb::List resource=Resource::RoleBindings>
                    <a class="btn" href=access_href.clone() data-test="open-access">"Access"</a>
                </Can>
                <Can verb=Verb::List resource=Resource::AuditEvents>
                    <a class="btn" href=audit_href.clone() data-test="open-audit">"Audit log"</a>
                </Can>
                <Can verb=Verb::Delete resource=Resource::Projects>
                    <button type="button" class="btn btn-danger-outline" data-test="delete-project"
                        on:click=move |_| { delete.clear(); confirm.set(true) }>
                        "Delete project"
                    </button>
                </Can>
            </div>
        </header>
        <StreamsToolbar />
        <Loaded resource=streams first=streams_first what="image streams" rows=5
            view={
                let ns = ns.clone();
                move |list: List<ImageStream>| view! { <StreamTable ns=ns.clone() list q /> }
            } />
        // Below the list: shown only once the list (or its remembered copy) is there, so the
        // list's arrival never moves it (a skeleton of five rows swapped for a shorter table
        // would, whenever the access review answered first).
        {move || list_shown.get().then(|| {
            let ns = create_ns.clone();
            view! {
                <Can verb=Verb::Create resource=Resource::ImageStreams>
                    <CreateStream ns=ns.clone() on_created />
                </Can>
            }
        })}
        <ConfirmDialog open=confirm title=format!("Delete project {ns_text}?") confirm_label="Delete project"
            on_confirm=Callback::new({ let ns = ns_text.clone(); move |()| { delete.dispatch_local(ns.clone()); } })
            pending=delete.pending() error=Signal::derive(move || delete.value().get().and_then(Result::err))>
            <p>
                "This deletes the project " <strong class="mono">{ns_text.clone()}</strong>
                {move || match stream_count() {
                    Some(0) => " (it has no image streams)".to_owned(),
                    Some(1) => " and its 1 image stream".to_owned(),
                    Some(n) => format!(" and all {n} of its image streams"),
                    None => " and all of its image streams".to_owned(),
                }}
                ". This cannot be undone."
            </p>
        </ConfirmDialog>
    }
}

#[component]
fn StreamsToolbar() -> impl IntoView {
    let q = use_query_text("q");
    let set_query = use_set_query();
    view! {
        <div class="toolbar">
            <label class="filter">
                <span class="visually-hidden">"Filter image streams"</span>
                <input type="search" placeholder="Filter streams by name or tag" data-test="stream-filter"
                    prop:value=move || q.get()
                    on:input=move |ev| {
                        set_query(&[("q", &event_target_value(&ev)), ("page", "")]);
                    } />
            </label>
        </div>
    }
}

/// How the table is ordered, from `?sort=`: a column, `-` first for descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sort {
    Name,
    Tags,
    Updated,
}

impl Sort {
    fn key(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Tags => "tags",
            Self::Updated => "updated",
        }
    }

    /// The sort and whether it is descending.
    fn parse(s: &str) -> (Self, bool) {
        let (desc, key) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let sort = [Self::Name, Self::Tags, Self::Updated]
            .into_iter()
            .find(|k| k.key() == key)
            .unwrap_or(Self::Name);
        (sort, desc)
    }
}

/// One row of the table, computed once per load.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    name: String,
    tags: Vec<String>,
    updated: Option<Time>,
}

#[component]
fn StreamTable(ns: ProjectName, list: List<ImageStream>, q: Memo<String>) -> impl IntoView {
    let total = list.items.len();
    if total == 0 {
        return view! {
            <p class="empty" data-test="streams-empty">
                "No image streams yet. " <a href=Route::Import { ns: ns.clone() }.path()>"Import an image"</a>
                " or " <a href="#create-stream">"create a stream"</a>
                " with a name and a source image, or paste one as JSON or YAML."
            </p>
        }
        .into_any();
    }
    let rows: Vec<Row> = list
        .items
        .iter()
        .map(|s| Row {
            name: s.metadata.name().to_owned(),
            tags: s.tag_names().into_iter().map(str::to_owned).collect(),
            updated: format::last_updated(s),
        })
        .collect();
    let sort_text = use_query_text("sort");
    let page_text = use_query_text("page");
    let set_query = use_set_query();
    let shown = Memo::new(move |_| {
        let needle = q.get().to_lowercase();
        let mut matched: Vec<Row> = rows
            .iter()
            .filter(|r| {
                needle.is_empty()
                    || r.name.contains(&needle)
                    || r.tags.iter().any(|t| t.to_lowercase().contains(&needle))
            })
            .cloned()
            .collect();
        let (sort, desc) = Sort::parse(&sort_text.get());
        matched.sort_by(|a, b| {
            let order = match sort {
                Sort::Name => a.name.cmp(&b.name),
                Sort::Tags => a.tags.len().cmp(&b.tags.len()).then(a.name.cmp(&b.name)),
                Sort::Updated => a.updated.cmp(&b.updated).then(a.name.cmp(&b.name)),
            };
            if desc { order.reverse() } else { order }
        });
        matched
    });
    let pages = move || shown.with(|s| s.len().div_ceil(PAGE_SIZE).max(1));
    let page = move || {
        page_text
            .get()
            .parse::<usize>()
            .unwrap_or(1)
            .clamp(1, pages())
    };
    let header = {
        let set_query = set_query.clone();
        move |label: &'static str, column: Sort| {
            let set_query = set_query.clone();
            let state = move || {
                let (sort, desc) = Sort::parse(&sort_text.get());
                match (sort == column, desc) {
                    (false, _) => "none",
                    (true, false) => "ascending",
                    (true, true) => "descending",
                }
            };
            view! {
                <th scope="col" aria-sort=state>
                    <button type="button" class="sort" data-test=format!("sort-{}", column.key())
                        on:click=move |_| {
                            let next = match state() {
                                "ascending" => format!("-{}", column.key()),
                                _ => column.key().to_owned(),
                            };
                            set_query(&[("sort", &next), ("page", "")]);
                        }>
                        {label}
                        <span aria-hidden="true" class="sort-mark">{move || match state() {
                            "ascending" => "▲",
                            "descending" => "▼",
                            _ => "",
                        }}</span>
                    </button>
                </th>
            }
        }
    };
    let go = move |page: usize| {
        let set_query = set_query.clone();
        move |_| {
            set_query(&[(
                "page",
                &if page <= 1 {
                    String::new()
                } else {
                    page.to_string()
                },
            )])
        }
    };
    view! {
        <p class="count muted" data-test="stream-count">
            {move || {
                let count = shown.with(Vec::len);
                let noun = if total == 1 { "image stream" } else { "image streams" };
                match count == total {
                    true => format!("{total} {noun}"),
                    false => format!("{count} of {total} {noun}"),
                }
            }}
        </p>
        <Show when=move || shown.with(|s| !s.is_empty())
            fallback=move || view! { <p class="empty" data-test="streams-no-match">"No image stream matches “" {move || q.get()} "”."</p> }>
            <table class="table" data-test="streams-table">
                <thead>
                    <tr>
                        {header("Name", Sort::Name)}
                        {header("Tags", Sort::Tags)}
                        {header("Last updated", Sort::Updated)}
                    </tr>
                </thead>
                <tbody>
                    {
                        let ns = ns.clone();
                        move || {
                            let start = (page() - 1) * PAGE_SIZE;
                            shown.with(|rows| {
                                rows.iter().skip(start).take(PAGE_SIZE)
                                    .map(|row| view! { <StreamRow ns=ns.clone() row=row.clone() /> })
                                    .collect_view()
                            })
                        }
                    }
                </tbody>
            </table>
        </Show>
        {
            let go = go.clone();
            move || (pages() > 1).then(|| {
                let (now, last) = (page(), pages());
                view! {
                    <nav class="pager" aria-label="Pages" data-test="pager">
                        <button type="button" class="btn btn-small" data-test="page-prev" disabled={now <= 1} on:click=go(now - 1)>
                            "Previous"
                        </button>
                        <span data-test="page-status">{format!("Page {now} of {last}")}</span>
                        <button type="button" class="btn btn-small" data-test="page-next" disabled={now >= last} on:click=go(now + 1)>
                            "Next"
                        </button>
                    </nav>
                }
            })
        }
    }
    .into_any()
}

#[component]
fn StreamRow(ns: ProjectName, row: Row) -> impl IntoView {
    let href = row
        .name
        .parse()
        .map(|name| Route::Stream { ns, name }.path())
        .ok();
    let count = row.tags.len();
    view! {
        <tr data-test="stream-row" data-name=row.name.clone()>
            <td><a href=href data-test="stream-link">{row.name.clone()}</a></td>
            <td data-test="stream-tag-count" title=row.tags.join(", ")>{count}</td>
            <td data-test="stream-updated">{row.updated.map(|time| view! { <RelativeTime time /> })}</td>
        </tr>
    }
}
