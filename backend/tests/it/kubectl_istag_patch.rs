//! `kubectl patch istag` with kubectl 1.27 and 1.33: a merge patch and a JSON patch change one
//! tag of a stream through the same write a PUT of the tag takes (the stream's spec shows it),
//! a field the tag does not have is refused under `fieldValidation=Strict`, a patch of a
//! tag that does not exist is a NotFound, and a viewer may not patch.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::Method;
use serde_json::Value;
use tagstream_shared::paths;

use crate::kubectl_support::{Kube, VERSIONS};
use crate::support::stream_json;

async fn spec_tag(kube: &Kube, ns: &str, stream: &str, tag: &str) -> Value {
    let s = kube
        .api(Method::GET, &paths::imagestream(ns, stream), None)
        .await;
    s["spec"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == tag)
        .cloned()
        .unwrap_or_else(|| panic!("no spec tag {tag} in {s}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_patches_an_image_stream_tag_with_merge_and_json_patches() {
    let kube = Kube::start().await;
    let ns = "istags";
    kube.create_project(ns).await;
    kube.api(
        Method::POST,
        &paths::imagestreams(ns),
        Some(stream_json("ruby", "2.7", "quay.io/x/ruby:2.7")),
    )
    .await;
    for v in VERSIONS {
        let image = format!("quay.io/x/ruby:2.7-{}", v.replace('.', "-"));
        let merge = format!(r#"{{"tag":{{"from":{{"kind":"DockerImage","name":"{image}"}}}}}}"#);
        let out = kube.ok(
            v,
            &[
                "patch", "istag", "ruby:2.7", "-n", ns, "--type", "merge", "-p", &merge,
            ],
        );
        assert!(out.contains("ruby:2.7 patched"), "kubectl {v}: {out}");
        let tag = spec_tag(&kube, ns, "ruby", "2.7").await;
        assert_eq!(tag["from"]["name"], image.as_str(), "kubectl {v}: {tag}");

        let json = r#"[{"op":"replace","path":"/tag/referencePolicy/type","value":"Local"}]"#;
        let out = kube.ok(
            v,
            &[
                "patch", "istag", "ruby:2.7", "-n", ns, "--type", "json", "-p", json,
            ],
        );
        assert!(out.contains("patched"), "kubectl {v}: {out}");
        let tag = spec_tag(&kube, ns, "ruby", "2.7").await;
        assert_eq!(
            tag["referencePolicy"]["type"], "Local",
            "kubectl {v}: {tag}"
        );
        assert_eq!(tag["from"]["name"], image.as_str(), "kubectl {v}: {tag}");

        // Put back for the next version, through the same kind of patch.
        let back = r#"[{"op":"replace","path":"/tag/referencePolicy/type","value":"Source"}]"#;
        kube.ok(
            v,
            &[
                "patch", "istag", "ruby:2.7", "-n", ns, "--type", "json", "-p", back,
            ],
        );

        let out = kube.run(
            v,
            &[
                "patch", "istag", "ruby:9.9", "-n", ns, "--type", "merge", "-p", &merge,
            ],
        );
        assert!(!out.status.success(), "kubectl {v}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("NotFound") || err.contains("not found"),
            "kubectl {v}: {err}"
        );
        let s = kube
            .api(Method::GET, &paths::imagestream(ns, "ruby"), None)
            .await;
        assert_eq!(s["spec"]["tags"].as_array().unwrap().len(), 1, "{s}");
    }
    // kubectl patch sends no fieldValidation; a client asking for Strict has a field the tag
    // does not have refused, named as the tag object names it.
    let resp = crate::support::client_with_token(crate::support::ADMIN_TOKEN)
        .patch(format!(
            "{}/apis/image.openshift.io/v1/namespaces/{ns}/imagestreamtags/ruby:2.7?fieldValidation=Strict",
            kube.server.as_ref().unwrap().base
        ))
        .header("Content-Type", "application/merge-patch+json")
        .body(r#"{"tag":{"importPolicy":{"sheduled":true}}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let status: Value = resp.json().await.unwrap();
    assert_eq!(
        status["details"]["causes"][0]["field"],
        "tag.importPolicy.sheduled"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_viewer_may_not_patch_an_image_stream_tag() {
    let kube = Kube::start().await;
    let ns = "istagview";
    kube.create_project(ns).await;
    kube.api(
        Method::POST,
        &paths::imagestreams(ns),
        Some(stream_json("ruby", "2.7", "quay.io/x/ruby:2.7")),
    )
    .await;
    let token = kube.user_with_role("vera", ns, "view").await;
    let patch = r#"{"tag":{"from":{"kind":"DockerImage","name":"quay.io/x/evil:1"}}}"#;
    for v in VERSIONS {
        let out = kube.run_as(
            v,
            &token,
            &[
                "patch", "istag", "ruby:2.7", "-n", ns, "--type", "merge", "-p", patch,
            ],
        );
        assert!(!out.status.success(), "kubectl {v}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("Forbidden") || err.contains("forbidden"),
            "kubectl {v}: {err}"
        );
    }
    let tag = spec_tag(&kube, ns, "ruby", "2.7").await;
    assert_eq!(tag["from"]["name"], "quay.io/x/ruby:2.7", "{tag}");
}
