//! The pull spec clients use (`[registry] public_host`) on every read path of a stream, with the
//! real integrated registry: a pushed tag and a `referencePolicy: Local` tag imported from
//! another registry show `public_host/project/stream@digest` in the stream (GET, the project's
//! list, the all-projects list), its status names the registry's repository as OpenShift's does
//! (`dockerImageRepository` internal, `publicDockerImageRepository` public), the tag GET and the
//! istag list, imagestreamimages, import and write answers and watch events; a tag without the
//! policy keeps its source's pull spec.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::StatusCode;
use serde_json::{Value, json};
use tagstream_shared::paths::{
    IMAGESTREAMS_ALL, PROJECTS, imagestream, imagestreamimage, imagestreamimports, imagestreams,
    imagestreamtag, imagestreamtags_in,
};

use crate::integrated_registry::{Integrated, PUBLIC_HOST, copy};
use crate::registry::{ImageSpec, Registry};
use crate::watch::Events;

/// The pull spec of `tag`'s newest item in a stream as JSON.
fn current(stream: &Value, tag: &str) -> String {
    stream["status"]["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["tag"] == tag)
        .and_then(|t| t["items"][0]["dockerImageReference"].as_str())
        .unwrap_or_else(|| panic!("{tag} has no image: {stream}"))
        .to_owned()
}

#[tokio::test]
async fn every_read_path_shows_the_public_pull_spec_of_pushed_and_local_tags() {
    let source = Registry::start().await;
    let (one, _) = source
        .push_image("src/app", "one", &ImageSpec::new("one"))
        .await;
    let (two, _) = source
        .push_image("src/app", "two", &ImageSpec::new("two"))
        .await;
    let env = Integrated::start(&format!(
        "[[registries]]\ndomain = \"{}\"\ninsecure = true\n",
        source.addr
    ))
    .await;
    env.post(PROJECTS, json!({"metadata": {"name": "demo"}}))
        .await;
    let pusher = env.user("pusher", None).await;
    env.grant("demo", "pusher", "edit").await;
    // `app:v1` pushed to the integrated registry...
    let (ok, said) = copy(
        &format!("{}/src/app:one", source.addr),
        &format!("{}/demo/app:v1", env.registry),
        &format!("pusher:{pusher}"),
    )
    .await;
    assert!(ok, "{said}");
    env.wait_for_tag("demo", "app", "v1", &one, crate::support::PATIENCE)
        .await;
    // ...`app:local` imported with the Local policy, `plain:two` imported without it.
    let from = format!("{}/src/app:two", source.addr);
    let (_, app) = env.get(&imagestream("demo", "app")).await;
    let mut spec = app["spec"].clone();
    let mut tags = spec["tags"].as_array().cloned().unwrap_or_default();
    tags.push(
        json!({"name": "local", "from": {"kind": "DockerImage", "name": from},
                     "referencePolicy": {"type": "Local"}}),
    );
    spec["tags"] = Value::Array(tags);
    let r = env
        .admin
        .patch(env.url(&imagestream("demo", "app")))
        .header("content-type", "application/merge-patch+json")
        .json(&json!({"spec": spec}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    env.post(
        &imagestreams("demo"),
        json!({"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
               "metadata": {"name": "plain"},
               "spec": {"tags": [{"name": "two", "from": {"kind": "DockerImage", "name": from}}]}}),
    )
    .await;
    env.wait_for_tag("demo", "app", "local", &two, crate::support::PATIENCE)
        .await;
    env.wait_for_tag("demo", "plain", "two", &two, crate::support::PATIENCE)
        .await;

    let public = |digest: &str| format!("{PUBLIC_HOST}/demo/app@{digest}");
    let from_source = format!("{}/src/app@{two}", source.addr);

    // The stream, read alone and in both lists.
    let (_, app) = env.get(&imagestream("demo", "app")).await;
    assert_eq!(current(&app, "v1"), public(&one), "{app}");
    assert_eq!(current(&app, "local"), public(&two), "{app}");
    assert_eq!(
        app["status"]["dockerImageRepository"],
        format!("{}/demo/app", env.registry),
        "the repository at the registry's own address, as OpenShift's status has it"
    );
    assert_eq!(
        app["status"]["publicDockerImageRepository"],
        format!("{PUBLIC_HOST}/demo/app")
    );
    for list in [imagestreams("demo"), IMAGESTREAMS_ALL.to_owned()] {
        let (_, listed) = env.get(&list).await;
        let items = listed["items"].as_array().unwrap();
        let app = items
            .iter()
            .find(|s| s["metadata"]["name"] == "app")
            .unwrap();
        assert_eq!(current(app, "local"), public(&two), "{list}: {app}");
        assert_eq!(
            app["status"]["publicDockerImageRepository"],
            format!("{PUBLIC_HOST}/demo/app"),
            "{list}"
        );
        let plain = items
            .iter()
            .find(|s| s["metadata"]["name"] == "plain")
            .unwrap();
        assert_eq!(current(plain, "two"), from_source, "{list}: {plain}");
    }

    // The tag alone, and the project's tags.
    let (_, local) = env.get(&imagestreamtag("demo", "app", "local")).await;
    assert_eq!(
        local["image"]["dockerImageReference"],
        public(&two),
        "{local}"
    );
    let (_, tags) = env.get(&imagestreamtags_in("demo")).await;
    let mut shown: Vec<(String, String)> = tags["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["metadata"]["name"].as_str().unwrap().to_owned(),
                t["image"]["dockerImageReference"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect();
    shown.sort();
    assert_eq!(
        shown,
        [
            ("app:local".to_owned(), public(&two)),
            ("app:v1".to_owned(), public(&one)),
            ("plain:two".to_owned(), from_source.clone()),
        ]
    );

    // The image by digest, through each stream.
    let (code, image) = env.get(&imagestreamimage("demo", "app", &two)).await;
    assert_eq!(code, StatusCode::OK, "{image}");
    assert_eq!(image["image"]["dockerImageReference"], public(&two));
    let (_, image) = env.get(&imagestreamimage("demo", "plain", &two)).await;
    assert_eq!(image["image"]["dockerImageReference"], from_source);

    // An import's answer shows the stream it wrote as a read does.
    let imported = env
        .post(
            &imagestreamimports("demo"),
            json!({"kind": "ImageStreamImport", "apiVersion": "image.openshift.io/v1",
                   "metadata": {"name": "imported"},
                   "spec": {"import": true, "images": [{
                       "from": {"kind": "DockerImage", "name": from},
                       "to": {"name": "t"}, "referencePolicy": {"type": "Local"}}]}}),
        )
        .await;
    assert_eq!(
        current(&imported["status"]["import"], "t"),
        format!("{PUBLIC_HOST}/demo/imported@{two}"),
        "{imported}"
    );

    // A write's answer shows the stream as a read does.
    let r = env
        .admin
        .patch(env.url(&imagestream("demo", "app")))
        .header("content-type", "application/merge-patch+json")
        .json(&json!({"metadata": {"annotations": {"note": "x"}}}))
        .send()
        .await
        .unwrap();
    let patched: Value = r.json().await.unwrap();
    assert_eq!(current(&patched, "local"), public(&two), "{patched}");

    // A watch's events too: the push of `two` to `app:v1` arrives as the stream's change.
    let rv = patched["metadata"]["resourceVersion"].as_str().unwrap();
    let watch = env
        .admin
        .get(env.url(&format!(
            "{}?watch=true&resourceVersion={rv}",
            imagestreams("demo")
        )))
        .send()
        .await
        .unwrap();
    let mut events = Events::lines(watch);
    let (ok, said) = copy(
        &format!("{}/src/app:two", source.addr),
        &format!("{}/demo/app:v1", env.registry),
        &format!("pusher:{pusher}"),
    )
    .await;
    assert!(ok, "{said}");
    let moved = loop {
        let event = events.next().await;
        if event["object"]["metadata"]["name"] == "app"
            && current(&event["object"], "v1").ends_with(&two)
        {
            break event;
        }
    };
    assert_eq!(moved["type"], "MODIFIED");
    assert_eq!(current(&moved["object"], "v1"), public(&two));
    assert_eq!(current(&moved["object"], "local"), public(&two), "{moved}");
    assert_eq!(
        moved["object"]["status"]["publicDockerImageRepository"],
        format!("{PUBLIC_HOST}/demo/app")
    );
    drop(env);
}
