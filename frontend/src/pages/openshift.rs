//! OpenShift console paths (`/k8s/ns/{ns}/imagestreams/{name}`,
//! `/k8s/ns/{ns}/imagestreamtags/{name}:{tag}`) redirect to the same object's page here.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_params_map;

use crate::components::not_found::NotFoundView;
use crate::routes::Route;

#[component]
pub fn OpenShiftRedirect() -> impl IntoView {
    let params = use_params_map();
    move || {
        let target = params.with(|p| {
            Route::from_openshift(
                &p.get("ns").unwrap_or_default(),
                &p.get("resource").unwrap_or_default(),
                &p.get("name").unwrap_or_default(),
            )
        });
        match target {
            Some(route) => view! {
                <Redirect path=route.path() options=NavigateOptions { replace: true, ..Default::default() } />
            }
            .into_any(),
            None => view! { <NotFoundView what="OpenShift console page" /> }.into_any(),
        }
    }
}
