//! `/login`: sign in with a user name and password, then back to where you were (`?next=`);
//! `/invite/{token}`: choose a password with a one-time invitation.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use tagstream_shared::console::after_sign_in;
use tagstream_shared::user::Login;

use crate::api;
use crate::components::error_banner::ErrorBanner;
use crate::pages::{set_title, use_query_text};

#[component]
pub fn LoginPage() -> impl IntoView {
    set_title("Sign in");
    let next = use_query_text("next");
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let sign_in = Action::new_local(|l: &Login| {
        let l = l.clone();
        async move { api::login(&l).await }
    });
    Effect::new(move || {
        if let Some(Ok(_)) = sign_in.value().get() {
            // A full load, so that nothing kept from before signing in (the remembered pages,
            // the session menu) outlives it. Only a page of this origin (the rule is
            // `after_sign_in`, tested in shared).
            _ = window()
                .location()
                .assign(&after_sign_in(&next.get_untracked()));
        }
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        sign_in.dispatch_local(Login {
            username: username.get().trim().to_owned(),
            password: password.get(),
        });
    };
    view! {
        <div class="narrow">
            <h1>"Sign in"</h1>
            {move || sign_in.value().get().and_then(Result::err).map(|status| view! { <ErrorBanner status /> })}
            <form class="panel form-grid" data-test="login-form" on:submit=submit>
                <div class="field">
                    <label for="login-user">"User name"</label>
                    <input id="login-user" type="text" autocomplete="username" required autofocus data-test="login-user"
                        prop:value=move || username.get() on:input=move |ev| username.set(event_target_value(&ev)) />
                </div>
                <div class="field">
                    <label for="login-password">"Password"</label>
                    <input id="login-password" type="password" autocomplete="current-password" required data-test="login-password"
                        prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev)) />
                </div>
                <div class="form-actions">
                    <button type="submit" class="btn btn-primary" data-test="login-submit" disabled=move || sign_in.pending().get()>
                        {move || if sign_in.pending().get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </div>
            </form>
            <p class="muted">"No account? Ask a cluster admin for an invitation."</p>
        </div>
    }
}

#[component]
pub fn InvitePage(token: String) -> impl IntoView {
    set_title("Choose a password");
    let password = RwSignal::new(String::new());
    let again = RwSignal::new(String::new());
    let mismatch = Memo::new(move |_| {
        let (p, a) = (password.get(), again.get());
        (!a.is_empty() && p != a).then_some("The two passwords differ.")
    });
    let accept = Action::new_local(move |p: &String| {
        let (token, p) = (token.clone(), p.clone());
        async move { api::accept_invitation(&token, &p).await }
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if mismatch.get().is_none() {
            accept.dispatch_local(password.get());
        }
    };
    let cause = move || {
        accept
            .value()
            .get()
            .and_then(Result::err)
            .and_then(|s| s.causes_for("password").next().map(|c| c.message.clone()))
    };
    view! {
        <div class="narrow">
            <h1>"Choose a password"</h1>
            {move || match accept.value().get() {
                Some(Ok(_)) => view! {
                    <p class="banner banner-ok" role="status" data-test="invite-done">
                        "Your password is set. " <a href="/login">"Sign in"</a>
                    </p>
                }.into_any(),
                Some(Err(status)) if cause().is_none() => view! { <ErrorBanner status /> }.into_any(),
                _ => ().into_any(),
            }}
            <form class="panel form-grid" data-test="invite-form" on:submit=submit>
                <div class="field">
                    <label for="invite-password">"New password"</label>
                    <input id="invite-password" type="password" autocomplete="new-password" minlength="8" required data-test="invite-password"
                        prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev)) />
                    <p class="field-hint">"At least 8 characters."</p>
                    {move || cause().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                </div>
                <div class="field">
                    <label for="invite-again">"The same again"</label>
                    <input id="invite-again" type="password" autocomplete="new-password" required data-test="invite-again"
                        prop:value=move || again.get() on:input=move |ev| again.set(event_target_value(&ev)) />
                    {move || mismatch.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                </div>
                <div class="form-actions">
                    <button type="submit" class="btn btn-primary" data-test="invite-submit" disabled=move || accept.pending().get()>"Set password"</button>
                </div>
            </form>
        </div>
    }
}
