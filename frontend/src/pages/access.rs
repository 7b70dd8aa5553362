//! `/ns/{ns}/access`: who has which role in a project, for its admins: add a user or a team with
//! a role, change a role, remove; and the two questions "who can <verb> <resource> here" and
//! "what can <user> do here".

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use tagstream_shared::access::{Resource, Role, Verb};
use tagstream_shared::user::{AccessReview, RoleBinding, Subject, SubjectKind};
use tagstream_shared::{List, ProjectName, Status};

use crate::api;
use crate::components::breadcrumbs::Breadcrumbs;
use crate::components::error_banner::ErrorBanner;
use crate::components::loaded::Loaded;
use crate::pages::set_title;
use crate::routes::Route;

/// One subject of one binding: a row of the members table.
#[derive(Debug, Clone, PartialEq)]
struct Member {
    binding: RoleBinding,
    subject: Subject,
    role: String,
}

fn members(list: &List<RoleBinding>) -> Vec<Member> {
    let mut out: Vec<Member> = list
        .items
        .iter()
        .flat_map(|b| {
            b.subjects.iter().map(|s| Member {
                binding: b.clone(),
                subject: s.clone(),
                role: b.role_ref.name.clone(),
            })
        })
        .collect();
    out.sort_by(|a, b| (a.subject.kind, &a.subject.name).cmp(&(b.subject.kind, &b.subject.name)));
    out
}

/// The binding the console makes for one subject and role: `view-alice`, `edit-team-devs`.
fn binding_name(role: &str, subject: &Subject) -> String {
    let who = match subject.kind {
        SubjectKind::User => subject.name.clone(),
        SubjectKind::Group => format!("team-{}", subject.name),
    };
    format!("{role}-{who}")
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Grants `role` to `subject`: a binding of its own.
async fn grant(ns: &str, role: &str, subject: Subject) -> Result<(), Status> {
    let role: Role = role
        .parse()
        .map_err(|e: String| Status::failure(tagstream_shared::StatusReason::Invalid, e))?;
    let binding = RoleBinding::new(&binding_name(role.as_str(), &subject), role, vec![subject]);
    api::create_role_binding(ns, &binding).await.map(|_| ())
}

/// Takes `subject` out of `binding` (deleting it when nobody is left).
async fn revoke(ns: &str, mut binding: RoleBinding, subject: &Subject) -> Result<(), Status> {
    binding.subjects.retain(|s| s != subject);
    if binding.subjects.is_empty() {
        api::delete_role_binding(ns, binding.metadata.name())
            .await
            .map(|_| ())
    } else {
        api::replace_role_binding(ns, &binding).await.map(|_| ())
    }
}

#[component]
pub fn AccessPage(ns: ProjectName) -> impl IntoView {
    set_title(&format!("Access · {ns}"));
    let ns_text = ns.to_string();
    let bindings = LocalResource::new({
        let ns = ns_text.clone();
        move || {
            let ns = ns.clone();
            async move { api::list_role_bindings(&ns).await }
        }
    });
    let error = RwSignal::new(None::<Status>);
    let done = RwSignal::new(None::<String>);
    let change = Action::new_local({
        let ns = ns_text.clone();
        move |(member, role): &(Member, String)| {
            let (ns, member, role) = (ns.clone(), member.clone(), role.clone());
            async move {
                grant(&ns, &role, member.subject.clone()).await?;
                revoke(&ns, member.binding, &member.subject).await?;
                Ok::<_, Status>(format!("{} is now {role}.", member.subject.name))
            }
        }
    });
    let remove = Action::new_local({
        let ns = ns_text.clone();
        move |member: &Member| {
            let (ns, member) = (ns.clone(), member.clone());
            async move {
                revoke(&ns, member.binding, &member.subject).await?;
                Ok::<_, Status>(format!(
                    "{} no longer has a role here.",
                    member.subject.name
                ))
            }
        }
    });
    let add = Action::new_local({
        let ns = ns_text.clone();
        move |(role, subject): &(String, Subject)| {
            let (ns, role, subject) = (ns.clone(), role.clone(), subject.clone());
            async move {
                grant(&ns, &role, subject.clone()).await?;
                Ok::<_, Status>(format!("{} is now {role}.", subject.name))
            }
        }
    });
    for action_value in [change.value(), remove.value(), add.value()] {
        Effect::new(move || {
            if let Some(result) = action_value.get() {
                match result {
                    Ok(message) => {
                        error.set(None);
                        done.set(Some(message));
                    }
                    Err(status) => {
                        done.set(None);
                        error.set(Some(status));
                    }
                }
                bindings.refetch();
            }
        });
    }
    let table = move |list: List<RoleBinding>| {
        let rows = members(&list);
        view! {
            <table class="table" data-test="members">
                <thead><tr><th>"Member"</th><th>"Kind"</th><th>"Role"</th><th></th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|m| {
                        let name = m.subject.name.clone();
                        let kind = match m.subject.kind { SubjectKind::User => "user", SubjectKind::Group => "team" };
                        let current = m.role.clone();
                        let for_change = m.clone();
                        let for_remove = m.clone();
                        view! {
                            <tr data-test="member-row" data-member=name.clone()>
                                <td class="mono">{name.clone()}</td>
                                <td>{kind}</td>
                                <td>
                                    <label class="visually-hidden" for=format!("role-{name}")>"Role of " {name.clone()}</label>
                                    <select id=format!("role-{name}") data-test="member-role"
                                        on:change=move |ev| {
                                            let role = event_target_value(&ev);
                                            if role != for_change.role {
                                                change.dispatch_local((for_change.clone(), role));
                                            }
                                        }>
                                        {Role::ALL.map(|r| view! {
                                            <option value=r.as_str() selected=r.as_str() == current>{r.as_str()}</option>
                                        }).collect_view()}
                                    </select>
                                </td>
                                <td><button type="button" class="btn btn-small" data-test="member-remove"
                                    on:click=move |_| { remove.dispatch_local(for_remove.clone()); }>"Remove"</button></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        }
    };
    view! {
        <Breadcrumbs ns=ns.clone() last=("Access".to_owned(), Route::Access { ns: ns.clone() }) />
        <header class="page-head">
            <div>
                <h1>"Access"</h1>
                <p class="muted">"Who may do what in project " <span class="mono">{ns_text.clone()}</span> "."</p>
            </div>
        </header>
        {move || error.get().map(|status| view! { <ErrorBanner status /> })}
        {move || done.get().map(|m| view! { <p class="banner banner-ok" role="status" data-test="access-done">{m}</p> })}
        <Loaded resource=bindings what="access rules" view=table />
        <AddMember add />
        <div class="columns">
            <WhoCan ns=ns_text.clone() />
            <WhatCan ns=ns_text />
        </div>
    }
}

#[component]
fn AddMember(add: Action<(String, Subject), Result<String, Status>>) -> impl IntoView {
    let kind = RwSignal::new("User".to_owned());
    let name = RwSignal::new(String::new());
    let role = RwSignal::new(Role::View.as_str().to_owned());
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let who = name.get().trim().to_owned();
        if who.is_empty() {
            return;
        }
        let subject = match kind.get().as_str() {
            "Group" => Subject::group(&who),
            _ => Subject::user(&who),
        };
        add.dispatch_local((role.get(), subject));
        name.set(String::new());
    };
    view! {
        <form class="panel form-inline" data-test="add-member" on:submit=submit>
            <h2>"Add a member"</h2>
            <label>"Kind "
                <select data-test="add-kind" on:change=move |ev| kind.set(event_target_value(&ev))>
                    <option value="User">"user"</option>
                    <option value="Group">"team"</option>
                </select>
            </label>
            <label>"Name "
                <input type="text" required data-test="add-name" prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev)) />
            </label>
            <label>"Role "
                <select data-test="add-role" on:change=move |ev| role.set(event_target_value(&ev))>
                    {Role::ALL.map(|r| view! {
                        <option value=r.as_str() selected=r == Role::View title=r.description()>{r.as_str()}</option>
                    }).collect_view()}
                </select>
            </label>
            <button type="submit" class="btn btn-primary" data-test="add-submit" disabled=move || add.pending().get()>"Add"</button>
        </form>
    }
}

#[component]
fn WhoCan(ns: String) -> impl IntoView {
    let verb = RwSignal::new(Verb::Update.as_str().to_owned());
    let resource = RwSignal::new(Resource::ImageStreams.plural().to_owned());
    let ask = Action::new_local(move |q: &String| {
        let (ns, q) = (ns.clone(), q.clone());
        async move { api::access_review(&ns, &q).await }
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        ask.dispatch_local(format!("verb={}&resource={}", verb.get(), resource.get()));
    };
    view! {
        <form class="panel" data-test="who-can" on:submit=submit>
            <h2>"Who can…"</h2>
            <select data-test="who-verb" on:change=move |ev| verb.set(event_target_value(&ev))>
                {Verb::ALL.map(|v| view! { <option value=v.as_str() selected=v == Verb::Update>{v.as_str()}</option> }).collect_view()}
            </select>
            " "
            <select data-test="who-resource" on:change=move |ev| resource.set(event_target_value(&ev))>
                {Resource::ALL.map(|r| view! { <option value=r.plural() selected=r == Resource::ImageStreams>{r.plural()}</option> }).collect_view()}
            </select>
            " " <button type="submit" class="btn">"Ask"</button>
            {move || ask.value().get().map(|answer| match answer {
                Ok(review) => view! {
                    <ul data-test="who-can-answer">
                        {review.subjects.into_iter().map(|s| view! {
                            <li><span class="mono">{s.name}</span> " (" {s.role} ")"</li>
                        }).collect_view()}
                    </ul>
                }.into_any(),
                Err(status) => view! { <ErrorBanner status /> }.into_any(),
            })}
        </form>
    }
}

fn allowed_summary(review: &AccessReview) -> Vec<String> {
    let mut by_resource: Vec<(String, Vec<String>)> = Vec::new();
    for p in &review.allowed {
        match by_resource.iter_mut().find(|(r, _)| *r == p.resource) {
            Some((_, verbs)) => verbs.push(p.verb.clone()),
            None => by_resource.push((p.resource.clone(), vec![p.verb.clone()])),
        }
    }
    by_resource
        .into_iter()
        .map(|(r, verbs)| {
            format!(
                "{}: {}",
                r.split('.').next().unwrap_or_default(),
                verbs.join(", ")
            )
        })
        .collect()
}

#[component]
fn WhatCan(ns: String) -> impl IntoView {
    let user = RwSignal::new(String::new());
    let ask = Action::new_local(move |u: &String| {
        let (ns, u) = (ns.clone(), u.clone());
        async move {
            let q = format!("user={}", String::from(js_sys::encode_uri_component(&u)));
            api::access_review(&ns, &q).await
        }
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        ask.dispatch_local(user.get().trim().to_owned());
    };
    view! {
        <form class="panel" data-test="what-can" on:submit=submit>
            <h2>"What can a user do here?"</h2>
            <input type="text" placeholder="user name" data-test="what-user" prop:value=move || user.get()
                on:input=move |ev| user.set(event_target_value(&ev)) />
            " " <button type="submit" class="btn">"Ask"</button>
            {move || ask.value().get().map(|answer| match answer {
                Ok(review) => {
                    let roles = if review.cluster_admin {
                        "cluster admin".to_owned()
                    } else if review.roles.is_empty() {
                        "no role here".to_owned()
                    } else {
                        review.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
                    };
                    view! {
                        <div data-test="what-can-answer">
                            <p>"Roles: " {roles}</p>
                            <ul>{allowed_summary(&review).into_iter().map(|line| view! { <li>{line}</li> }).collect_view()}</ul>
                        </div>
                    }.into_any()
                }
                Err(status) => view! { <ErrorBanner status /> }.into_any(),
            })}
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bindings_made_here_are_named_for_their_role_and_subject() {
        assert_eq!(binding_name("view", &Subject::user("Mate")), "view-mate");
        assert_eq!(
            binding_name("system:image-puller", &Subject::group("ci bots")),
            "system:image-puller-team-ci-bots"
        );
    }

    #[test]
    fn members_list_every_subject_of_every_binding() {
        let list = List::new(
            RoleBinding::KIND,
            "rbac.authorization.k8s.io/v1",
            "1".into(),
            vec![
                RoleBinding::new(
                    "edit",
                    Role::Edit,
                    vec![Subject::user("b"), Subject::group("devs")],
                ),
                RoleBinding::new("admin", Role::Admin, vec![Subject::user("a")]),
            ],
        );
        let rows: Vec<(String, String)> = members(&list)
            .into_iter()
            .map(|m| (m.subject.name, m.role))
            .collect();
        assert_eq!(
            rows,
            [
                ("a".into(), "admin".into()),
                ("b".into(), "edit".into()),
                ("devs".into(), "edit".into())
            ]
        );
    }
}
