//! The top bar's end: who is signed in, the admin pages when they are a cluster admin, API
//! tokens, and Sign out. Nothing while the answer is on its way; a sign-in link when nobody is.

use leptos::prelude::*;

use crate::api;

#[component]
pub fn SessionMenu() -> impl IntoView {
    let me = LocalResource::new(api::whoami);
    let sign_out = Action::new_local(|()| async move { api::logout().await });
    Effect::new(move || {
        if sign_out.value().get().is_some() {
            _ = window().location().assign("/login");
        }
    });
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(who) => view! {
                        <nav class="session" aria-label="Account">
                            {who.cluster_admin.then(|| view! {
                                <a href="/admin/users" data-test="nav-users">"Users"</a>
                                <a href="/admin/audit" data-test="nav-audit">"Audit"</a>
                            })}
                            <a href="/tokens" data-test="nav-tokens">"Tokens"</a>
                            <span class="muted signed-in-as" data-test="signed-in-as">{who.username}</span>
                            <button type="button" class="btn btn-small" data-test="sign-out"
                                on:click=move |_| { sign_out.dispatch_local(()); }>"Sign out"</button>
                        </nav>
                    }.into_any(),
                    Err(_) => view! { <a href="/login" data-test="sign-in-link">"Sign in"</a> }.into_any(),
                }
            })}
        </Transition>
    }
}
