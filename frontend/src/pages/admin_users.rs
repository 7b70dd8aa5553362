//! `/admin/users`: users and teams, for cluster admins: create a user with a password or a
//! one-time invitation, delete one; create a team, add and remove its members, delete it.
//! `/tokens`: your account: your API tokens (a cluster admin: anyone's, `?user=`): create one
//! (its secret is shown once), revoke by id; and changing your own password.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use tagstream_shared::user::{Group, Token, TokenSpec, User, UserCreate};
use tagstream_shared::{List, ObjectMeta, Status};

use crate::api;
use crate::components::change_password::ChangePassword;
use crate::components::error_banner::ErrorBanner;
use crate::components::loaded::Loaded;
use crate::pages::{set_title, use_query_text};

fn outcome(
    error: RwSignal<Option<Status>>,
    done: RwSignal<Option<String>>,
    result: Result<String, Status>,
) {
    match result {
        Ok(m) => {
            error.set(None);
            done.set(Some(m));
        }
        Err(s) => {
            done.set(None);
            error.set(Some(s));
        }
    }
}

#[component]
pub fn AdminUsersPage() -> impl IntoView {
    set_title("Users and teams");
    let users = LocalResource::new(api::list_users);
    let groups = LocalResource::new(api::list_groups);
    let error = RwSignal::new(None::<Status>);
    let done = RwSignal::new(None::<String>);
    let invitation = RwSignal::new(None::<String>);
    let create = Action::new_local(|u: &UserCreate| {
        let u = u.clone();
        async move { api::create_user(&u).await }
    });
    Effect::new(move || {
        if let Some(result) = create.value().get() {
            invitation.set(result.as_ref().ok().and_then(|c| c.invitation.clone()));
            outcome(
                error,
                done,
                result.map(|c| format!("User {} created.", c.user.metadata.name())),
            );
            users.refetch();
        }
    });
    let delete = Action::new_local(|name: &String| {
        let name = name.clone();
        async move {
            api::delete_user(&name)
                .await
                .map(|_| format!("User {name} deleted."))
        }
    });
    let save_group = Action::new_local(|(g, create): &(Group, bool)| {
        let (g, create) = (g.clone(), *create);
        async move {
            let saved = match create {
                true => api::create_group(&g).await?,
                false => api::replace_group(&g).await?,
            };
            Ok::<_, Status>(format!("Team {} saved.", saved.metadata.name()))
        }
    });
    let delete_group = Action::new_local(|name: &String| {
        let name = name.clone();
        async move {
            api::delete_group(&name)
                .await
                .map(|_| format!("Team {name} deleted."))
        }
    });
    for value in [delete.value(), save_group.value(), delete_group.value()] {
        Effect::new(move || {
            if let Some(result) = value.get() {
                outcome(error, done, result);
                users.refetch();
                groups.refetch();
            }
        });
    }
    let name = RwSignal::new(String::new());
    let full = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let pw = password.get();
        create.dispatch_local(UserCreate {
            user: User {
                metadata: ObjectMeta::named(name.get().trim()),
                full_name: Some(full.get()).filter(|f| !f.trim().is_empty()),
                ..User::default()
            },
            password: (!pw.is_empty()).then_some(pw),
        });
        password.set(String::new());
    };
    let origin = window().location().origin().unwrap_or_default();
    let user_table = move |list: List<User>| {
        view! {
            <table class="table" data-test="users">
                <thead><tr><th>"User"</th><th>"Name"</th><th>"Teams"</th><th></th></tr></thead>
                <tbody>{list.items.into_iter().map(|u| {
                    let n = u.metadata.name().to_owned();
                    let tokens = format!("/tokens?user={n}");
                    let for_delete = n.clone();
                    view! {
                        <tr data-test="user-row" data-user=n.clone()>
                            <td class="mono">{n.clone()}</td>
                            <td>{u.full_name.clone().unwrap_or_default()}</td>
                            <td>{u.groups.join(", ")}</td>
                            <td>
                                <a href=tokens>"Tokens"</a> " "
                                <button type="button" class="btn btn-small" data-test="user-delete"
                                    on:click=move |_| { delete.dispatch_local(for_delete.clone()); }>"Delete"</button>
                            </td>
                        </tr>
                    }
                }).collect_view()}</tbody>
            </table>
        }
    };
    let group_table = move |list: List<Group>| {
        view! {
            <table class="table" data-test="teams">
                <thead><tr><th>"Team"</th><th>"Members"</th><th></th></tr></thead>
                <tbody>{list.items.into_iter().map(|g| view! { <TeamRow group=g save=save_group delete=delete_group /> }).collect_view()}</tbody>
            </table>
        }
    };
    let team = RwSignal::new(String::new());
    let new_team = move |ev: SubmitEvent| {
        ev.prevent_default();
        let g = Group {
            metadata: ObjectMeta::named(team.get().trim()),
            ..Group::default()
        };
        save_group.dispatch_local((g, true));
        team.set(String::new());
    };
    view! {
        <header class="page-head"><h1>"Users and teams"</h1></header>
        {move || error.get().map(|status| view! { <ErrorBanner status /> })}
        {move || done.get().map(|m| view! { <p class="banner banner-ok" role="status" data-test="admin-done">{m}</p> })}
        {move || invitation.get().map(|token| view! {
            <p class="banner banner-ok" role="status">
                "Send this invitation link to the new user (it is shown once): "
                <code data-test="invitation-link">{format!("{origin}/invite/{token}")}</code>
            </p>
        })}
        <h2>"Users"</h2>
        <Loaded resource=users what="users" view=user_table />
        <form class="panel form-inline" data-test="create-user" on:submit=submit>
            <label>"User name " <input type="text" required data-test="new-user-name" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) /></label>
            <label>"Full name " <input type="text" data-test="new-user-full" prop:value=move || full.get() on:input=move |ev| full.set(event_target_value(&ev)) /></label>
            <label>"Password " <input type="password" autocomplete="new-password" data-test="new-user-password" placeholder="empty: send an invitation"
                prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev)) /></label>
            <button type="submit" class="btn btn-primary" data-test="new-user-submit">"Create user"</button>
        </form>
        <h2>"Teams"</h2>
        <Loaded resource=groups what="teams" view=group_table />
        <form class="panel form-inline" data-test="create-team" on:submit=new_team>
            <label>"Team name " <input type="text" required data-test="new-team-name" prop:value=move || team.get() on:input=move |ev| team.set(event_target_value(&ev)) /></label>
            <button type="submit" class="btn btn-primary">"Create team"</button>
        </form>
    }
}

#[component]
fn TeamRow(
    group: Group,
    save: Action<(Group, bool), Result<String, Status>>,
    delete: Action<String, Result<String, Status>>,
) -> impl IntoView {
    let name = group.metadata.name().to_owned();
    let member = RwSignal::new(String::new());
    let add = {
        let group = group.clone();
        move |ev: SubmitEvent| {
            ev.prevent_default();
            let mut g = group.clone();
            g.users.push(member.get().trim().to_owned());
            save.dispatch_local((g, false));
            member.set(String::new());
        }
    };
    let members = group.users.clone();
    let del = name.clone();
    view! {
        <tr data-test="team-row" data-team=name.clone()>
            <td class="mono">{name.clone()}</td>
            <td>
                {members.into_iter().map(|u| {
                    let mut without = group.clone();
                    without.users.retain(|m| *m != u);
                    view! {
                        <span class="chip">{u.clone()} " "
                            <button type="button" class="link" aria-label=format!("Remove {u}")
                                on:click=move |_| { save.dispatch_local((without.clone(), false)); }>"×"</button>
                        </span>
                    }
                }).collect_view()}
                <form class="form-inline" on:submit=add>
                    <input type="text" placeholder="add a user" data-test="team-add-user" prop:value=move || member.get()
                        on:input=move |ev| member.set(event_target_value(&ev)) />
                    <button type="submit" class="btn btn-small">"Add"</button>
                </form>
            </td>
            <td><button type="button" class="btn btn-small" on:click=move |_| { delete.dispatch_local(del.clone()); }>"Delete"</button></td>
        </tr>
    }
}

#[component]
pub fn TokensPage() -> impl IntoView {
    set_title("API tokens");
    let user = use_query_text("user");
    let who = move || {
        let u = user.get();
        if u.is_empty() { "~".to_owned() } else { u }
    };
    let tokens = LocalResource::new(move || {
        let u = who();
        async move { api::list_tokens(&u).await }
    });
    let secret = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<Status>);
    let create = Action::new_local(move |spec: &TokenSpec| {
        let (u, spec) = (who(), spec.clone());
        async move {
            let t = Token {
                spec,
                ..Token::default()
            };
            api::create_token(&u, &t).await
        }
    });
    let revoke = Action::new_local(move |id: &String| {
        let (u, id) = (who(), id.clone());
        async move { api::delete_token(&u, &id).await }
    });
    Effect::new(move || {
        if let Some(r) = create.value().get() {
            match r {
                Ok(t) => {
                    secret.set(t.token);
                    error.set(None);
                }
                Err(s) => error.set(Some(s)),
            }
            tokens.refetch();
        }
    });
    Effect::new(move || {
        if let Some(r) = revoke.value().get() {
            error.set(r.err());
            tokens.refetch();
        }
    });
    let description = RwSignal::new(String::new());
    let project = RwSignal::new(String::new());
    let days = RwSignal::new(String::new());
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let expires = days
            .get()
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|d| *d > 0)
            .map(|d| {
                tagstream_shared::Time::from_timestamp(
                    tagstream_shared::Time::now().timestamp() + d * 86_400,
                )
            });
        create.dispatch_local(TokenSpec {
            description: description.get().trim().to_owned(),
            expires,
            project: Some(project.get().trim().to_owned()).filter(|p| !p.is_empty()),
        });
    };
    let table = move |list: List<Token>| {
        view! {
            <table class="table" data-test="tokens">
                <thead><tr><th>"Id"</th><th>"Description"</th><th>"Project"</th><th>"Expires"</th><th></th></tr></thead>
                <tbody>{list.items.into_iter().map(|t| {
                    let id = t.metadata.name().to_owned();
                    view! {
                        <tr data-test="token-row">
                            <td class="mono">{id.clone()}</td>
                            <td>{t.spec.description.clone()}</td>
                            <td>{t.spec.project.clone().unwrap_or_else(|| "any".into())}</td>
                            <td>{t.spec.expires.map_or_else(|| "never".to_owned(), |e| e.to_string())}</td>
                            <td><button type="button" class="btn btn-small" data-test="token-revoke"
                                on:click=move |_| { revoke.dispatch_local(id.clone()); }>"Revoke"</button></td>
                        </tr>
                    }
                }).collect_view()}</tbody>
            </table>
        }
    };
    view! {
        <header class="page-head"><h1>"API tokens"</h1>
            <p class="muted">"For " <span class="mono">{move || if user.get().is_empty() { "you".to_owned() } else { user.get() }}</span>
                ". Send one as " <code>"Authorization: Bearer <token>"</code> "."</p></header>
        {move || error.get().map(|status| view! { <ErrorBanner status /> })}
        {move || secret.get().map(|s| view! {
            <p class="banner banner-ok" role="status">"New token (copy it now, it is not shown again): "
                <code data-test="token-secret">{s}</code></p>
        })}
        <Loaded resource=tokens what="tokens" view=table />
        <form class="panel form-inline" data-test="create-token" on:submit=submit>
            <label>"Description " <input type="text" prop:value=move || description.get() on:input=move |ev| description.set(event_target_value(&ev)) /></label>
            <label>"Only in project " <input type="text" placeholder="any" prop:value=move || project.get() on:input=move |ev| project.set(event_target_value(&ev)) /></label>
            <label>"Expires in days " <input type="number" min="1" placeholder="never" prop:value=move || days.get() on:input=move |ev| days.set(event_target_value(&ev)) /></label>
            <button type="submit" class="btn btn-primary" data-test="token-create">"Create token"</button>
        </form>        // Your own account only: another user's password is theirs to change.
        {move || user.get().is_empty().then(|| view! { <ChangePassword /> })}
    }
}
