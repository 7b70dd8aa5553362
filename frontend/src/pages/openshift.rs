//! OpenShift console paths (`/k8s/ns/{ns}/imagestreams/{name}`,
//! `/k8s/ns/{ns}/imagestreamtags/{name}:{tag}`) redirect to the same object's page here.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::Redirect;

use crate::components::not_found::NotFoundView;
use crate::pages::use_route;
use crate::routes::Route;

#[component]
pub fn OpenShiftRedirect() -> impl IntoView {
    let route = use_route();
    move || {
        let target = match route.clone() {
            Some(Route::OpenShift { ns, resource, name }) => {
                Route::from_openshift(&ns, &resource, &name)
            }
            _ => None,
        };
        match target {
            Some(route) => view! {
                <Redirect path=route.path() options=NavigateOptions { replace: true, ..Default::default() } />
            }
            .into_any(),
            None => view! { <NotFoundView what="OpenShift console page" /> }.into_any(),
        }
    }
}
