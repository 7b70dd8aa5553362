//! `/ns/{ns}/streams/{name}/edit`: a stream as JSON, to edit and save (a tools page, so that the
//! stream page a shared link opens does not carry the editor). A save keeps the editor open on the
//! new version; Cancel and the breadcrumbs go back to the stream.

use leptos::prelude::*;
use tagstream_shared::{ImageStream, ProjectName, StreamName};

use crate::api;
use crate::components::breadcrumbs::Breadcrumbs;
use crate::components::loaded::Loaded;
use crate::components::not_found::NotFoundView;
use crate::components::stream_editor::{EditState, StreamEditor};
use crate::pages::{set_title, use_route};
use crate::routes::Route;

#[component]
pub fn EditStreamPage() -> impl IntoView {
    match use_route() {
        Some(Route::EditStream { ns, name }) => view! { <EditStreamView ns name /> }.into_any(),
        _ => view! { <NotFoundView what="image stream" /> }.into_any(),
    }
}

#[component]
fn EditStreamView(ns: ProjectName, name: StreamName) -> impl IntoView {
    let stream = LocalResource::new({
        let (ns, name) = (ns.to_string(), name.to_string());
        move || {
            let (ns, name) = (ns.clone(), name.clone());
            async move { api::get_stream(&ns, &name).await }
        }
    });
    // Kept by the page, not the loaded view, so that a reload of the stream keeps the edit.
    let edit = EditState::new();
    let saved = RwSignal::new(false);
    let on_saved = Callback::new(move |new: ImageStream| {
        saved.set(true);
        edit.start(&new);
    });
    set_title(&format!("Edit {name} · {ns}"));
    let what = format!("image stream {ns}/{name}");
    let last = (
        "edit".to_owned(),
        Route::EditStream {
            ns: ns.clone(),
            name: name.clone(),
        },
    );
    let stream_href = Route::Stream {
        ns: ns.clone(),
        name: name.clone(),
    }
    .path();
    view! {
        <Breadcrumbs ns=ns.clone() stream=name.clone() last />
        {move || saved.get().then(|| view! {
            <p class="banner banner-ok" role="status" data-test="save-success">
                "Saved. The editor shows the new version. " <a href=stream_href.clone()>"Back to the stream"</a>
            </p>
        })}
        <Loaded resource=stream what rows=8
            view={move |s: ImageStream| {
                if edit.base.with_untracked(Option::is_none) {
                    edit.start(&s);
                }
                view! { <StreamEditor ns=ns.clone() name=name.clone() state=edit on_saved /> }
            }} />
    }
}
