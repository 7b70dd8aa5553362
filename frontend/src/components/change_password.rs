//! "Change your password" on the user's own account page: the current password, the new one
//! (checked as you type with the rule the server applies), and what happened. The server ends
//! every other session of the user; this one stays signed in.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use tagstream_shared::Status;
use tagstream_shared::user::{PasswordChange, check_password};

use crate::api;
use crate::components::error_banner::ErrorBanner;
use crate::components::field::{Field, first_error};

#[component]
pub fn ChangePassword() -> impl IntoView {
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let error = RwSignal::new(None::<Status>);
    let done = RwSignal::new(false);
    let change = Action::new_local(|c: &PasswordChange| {
        let c = c.clone();
        async move { api::change_password(&c).await }
    });
    Effect::new(move || {
        if let Some(result) = change.value().get() {
            match result {
                Ok(_) => {
                    error.set(None);
                    done.set(true);
                    current.set(String::new());
                    new.set(String::new());
                }
                Err(s) => {
                    done.set(false);
                    error.set(Some(s));
                }
            }
        }
    });
    let server_cause = move |field: &str| {
        error.with(|e| {
            e.as_ref()
                .and_then(|s| s.causes_for(field).next().map(|c| c.message.clone()))
        })
    };
    // The rule as you type, once something is typed; the server's cause after a submit.
    let new_error = Signal::derive(move || {
        let typed = new.get();
        let local = (!typed.is_empty())
            .then(|| check_password(&typed))
            .flatten();
        first_error(local, server_cause("newPassword"))
    });
    let current_error = Signal::derive(move || server_cause("currentPassword"));
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if check_password(&new.get()).is_some() {
            return;
        }
        done.set(false);
        change.dispatch_local(PasswordChange {
            current_password: current.get(),
            new_password: new.get(),
        });
    };
    // A Status naming a field shows beside it; any other (429, a server failure) as a banner.
    let banner = move || {
        error
            .get()
            .filter(|s| s.details.as_ref().is_none_or(|d| d.causes.is_empty()))
            .map(|status| view! { <ErrorBanner status /> })
    };
    view! {
        <section class="panel" aria-labelledby="password-title" data-test="change-password">
            <h2 id="password-title">"Your password"</h2>
            <p class="muted">"Changing it signs you out everywhere else; this browser stays signed in."</p>
            {banner}
            {move || done.get().then(|| view! {
                <p class="banner banner-ok" role="status" data-test="password-changed">
                    "Password changed. Your other sessions have ended."
                </p>
            })}
            <form class="form-grid" on:submit=submit>
                <Field label="Current password" id="current-password" error=current_error error_test="current-password-error">
                    <input id="current-password" type="password" autocomplete="current-password" required
                        data-test="current-password" aria-invalid=move || current_error.with(Option::is_some).to_string()
                        prop:value=move || current.get() on:input=move |ev| current.set(event_target_value(&ev)) />
                </Field>
                <Field label="New password" id="new-password" error=new_error error_test="new-password-error">
                    <input id="new-password" type="password" autocomplete="new-password" required
                        data-test="new-password" aria-invalid=move || new_error.with(Option::is_some).to_string()
                        prop:value=move || new.get() on:input=move |ev| new.set(event_target_value(&ev)) />
                </Field>
                <div class="form-actions">
                    <button type="submit" class="btn btn-primary" data-test="change-password-submit"
                        disabled=move || change.pending().get()>"Change password"</button>
                </div>
            </form>
        </section>
    }
}
