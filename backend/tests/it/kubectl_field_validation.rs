//! `fieldValidation` with kubectl 1.27 and 1.33: `--validate=strict` (kubectl's default) refuses
//! a field the server would drop, or one no schema names at any depth (though tagstream would
//! keep it), naming it, and stores nothing; `--validate=warn` stores and warns; annotations and
//! labels take any key.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::Method;
use serde_json::json;
use tagstream_shared::paths;

use crate::kubectl_support::{Kube, VERSIONS};

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_strict_validation_names_the_unknown_field_and_stores_nothing() {
    let kube = Kube::start().await;
    kube.create_project("strict").await;
    for v in VERSIONS {
        let name = format!("s{}", v.replace('.', "-"));
        let stream = json!({
            "kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
            "metadata": {"name": name, "annotations": {"kept": "yes"}},
            "spec": {"tags": [{"name": "latest",
                "from": {"kind": "DockerImage", "name": "quay.io/x/y:1"},
                "importPolicy": {"sheduled": true}, "colour": "red"}]}
        });
        let file = kube.dir().join(format!("{name}.json"));
        std::fs::write(&file, stream.to_string()).unwrap();
        let file = file.to_str().unwrap();
        for args in [
            vec!["create", "-n", "strict", "-f", file],
            vec!["apply", "-n", "strict", "-f", file],
        ] {
            let out = kube.run(v, &args);
            assert!(!out.status.success(), "kubectl {v} {args:?}");
            let err = String::from_utf8_lossy(&out.stderr);
            for field in ["spec.tags[0].importPolicy.sheduled", "spec.tags[0].colour"] {
                assert!(
                    err.contains(&format!(r#"unknown field \"{field}\""#))
                        || err.contains(&format!(r#"unknown field "{field}""#)),
                    "kubectl {v} {args:?}: {field}: {err}"
                );
            }
        }
        let gone = kube.run(v, &["get", "is", &name, "-n", "strict"]);
        assert!(!gone.status.success(), "{v}: nothing was stored");

        let out = kube.run(
            v,
            &["create", "-n", "strict", "-f", file, "--validate=warn"],
        );
        assert!(out.status.success(), "kubectl {v}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("unknown field") && err.contains("sheduled"),
            "{v}: {err}"
        );
    }
    // Directly: a Status with a cause naming the field.
    let resp = crate::support::client_with_token(crate::support::ADMIN_TOKEN)
        .post(format!(
            "{}{}?fieldValidation=Strict",
            kube.server.as_ref().unwrap().base,
            paths::imagestreams("strict")
        ))
        .json(&json!({"metadata": {"name": "direct"}, "spec": {"lookupPolicy": {"x": 1}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let status: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(status["reason"], "BadRequest");
    assert_eq!(
        status["details"]["causes"][0]["field"],
        "spec.lookupPolicy.x"
    );
    // A key the stream type would keep (it keeps what it does not model) but no schema names.
    let resp = crate::support::client_with_token(crate::support::ADMIN_TOKEN)
        .post(format!(
            "{}{}?fieldValidation=Strict",
            kube.server.as_ref().unwrap().base,
            paths::imagestreams("strict")
        ))
        .json(&json!({"metadata": {"name": "direct"},
            "spec": {"tags": [{"name": "a", "colour": "red"}]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let status: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        status["details"]["causes"][0]["field"],
        "spec.tags[0].colour"
    );
    // Every kind's create takes fieldValidation, not only streams and templates.
    for (path, body, field) in [
        (
            paths::rolebindings("strict"),
            json!({"metadata": {"name": "rb"}, "roleRef": {"name": "view", "colour": 1},
                   "subjects": [{"kind": "User", "name": "admin"}]}),
            "roleRef.colour",
        ),
        (
            paths::imagestreamtags_in("strict"),
            json!({"metadata": {"name": "s:t"}, "tag": {"name": "t",
                   "from": {"kind": "DockerImage", "name": "quay.io/x/y:1"},
                   "importPolicy": {"sheduled": true}}}),
            "tag.importPolicy.sheduled",
        ),
    ] {
        let resp = crate::support::client_with_token(crate::support::ADMIN_TOKEN)
            .post(format!(
                "{}{path}?fieldValidation=Strict",
                kube.server.as_ref().unwrap().base
            ))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{path}");
        let status: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(status["details"]["causes"][0]["field"], field, "{status}");
    }
    let _ = Method::GET;
}
