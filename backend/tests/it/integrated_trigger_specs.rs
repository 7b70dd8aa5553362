//! Trigger webhooks name the pull spec every read path shows: with `[registry]`, a
//! `referencePolicy: Local` tag imported from another registry is delivered as
//! `public_host/project/stream@digest` (pulled through the integrated registry), and a tag
//! without the policy keeps its source's pull spec.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use serde_json::{Value, json};
use tagstream_shared::paths::{PROJECTS, imagestreams, imagestreamtag, triggers};

use crate::integrated_registry::{Integrated, PUBLIC_HOST};
use crate::receiver::Receiver;
use crate::registry::{ImageSpec, Registry};

#[tokio::test]
async fn a_local_tags_webhook_names_the_public_pull_spec_the_reads_show() {
    let mut receiver = Receiver::start().await;
    let hook_host = receiver
        .url()
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let source = Registry::start().await;
    let (one, _) = source
        .push_image("src/app", "one", &ImageSpec::new("one"))
        .await;
    let env = Integrated::start(&format!(
        "[[registries]]\ndomain = \"{}\"\ninsecure = true\n\
         [webhooks]\nallowed_hosts = [\"{hook_host}\"]\ntimeout_seconds = 5\n\
         retry_initial_seconds = 1\nretry_max_interval_seconds = 1\n",
        source.addr
    ))
    .await;
    env.post(PROJECTS, json!({"metadata": {"name": "demo"}}))
        .await;
    for tag in ["local", "plain"] {
        env.post(
            &triggers("demo"),
            json!({"kind": "Trigger", "apiVersion": "tagstream.io/v1",
                   "metadata": {"name": format!("on-{tag}")},
                   "spec": {"from": {"kind": "ImageStreamTag", "name": format!("app:{tag}")},
                            "webhook": {"url": receiver.url(), "secret": "hook-secret"}}}),
        )
        .await;
    }
    let from = format!("{}/src/app:one", source.addr);
    env.post(
        &imagestreams("demo"),
        json!({"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
               "metadata": {"name": "app"},
               "spec": {"tags": [
                   {"name": "local", "from": {"kind": "DockerImage", "name": from},
                    "referencePolicy": {"type": "Local"}},
                   {"name": "plain", "from": {"kind": "DockerImage", "name": from}}]}}),
    )
    .await;
    env.wait_for_tag("demo", "app", "local", &one, crate::support::PATIENCE)
        .await;

    let mut delivered: Vec<Value> = Vec::new();
    for _ in 0..2 {
        delivered.push(receiver.next(crate::support::PATIENCE).await.json());
    }
    let pull_spec = |tag: &str| {
        delivered
            .iter()
            .find(|h| h["tag"] == tag)
            .unwrap_or_else(|| panic!("no webhook for {tag}: {delivered:?}"))["pullSpec"]
            .clone()
    };
    let public = format!("{PUBLIC_HOST}/demo/app@{one}");
    assert_eq!(pull_spec("local"), public.as_str(), "{delivered:?}");
    let (_, istag) = env.get(&imagestreamtag("demo", "app", "local")).await;
    assert_eq!(
        istag["image"]["dockerImageReference"],
        public.as_str(),
        "the read shows the same: {istag}"
    );
    assert_eq!(
        pull_spec("plain"),
        format!("{}/src/app@{one}", source.addr).as_str(),
        "{delivered:?}"
    );
    receiver.stop();
    drop(env);
}
