//! `fieldValidation` and keys the types keep but no server knows: a key of `metadata` that is
//! not `ObjectMeta`'s and a top-level key the kind does not have. kubectl 1.27 and 1.33 with
//! `--validate=strict` (their default) are refused naming the field (`metadata.foo`) and nothing
//! is stored; `--validate=warn` stores with a warning; `--validate=false` (Ignore) stores as
//! before. And keys a YAML body repeats (sent directly: kubectl refuses such a file itself):
//! refused under Strict naming the field, warned under Warn, the last value kept under Ignore,
//! for a create and for a server-side apply.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::StatusCode;
use serde_json::{Value, json};
use tagstream_shared::paths;

use crate::kubectl_support::{Kube, VERSIONS};
use crate::support::{ADMIN_TOKEN, client_with_token};

fn said(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).replace("\\\"", "\"")
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_strict_refuses_unknown_metadata_and_top_level_keys() {
    let kube = Kube::start().await;
    kube.create_project("keys").await;
    for v in VERSIONS {
        let tag = v.replace('.', "-");
        for (what, field) in [("meta", "metadata.foo"), ("top", "foo")] {
            let name = format!("{what}-{tag}");
            let mut stream = json!({
                "kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
                "metadata": {"name": name},
                "spec": {"tags": [{"name": "latest",
                    "from": {"kind": "DockerImage", "name": "quay.io/x/y:1"}}]}
            });
            match field {
                "foo" => stream["foo"] = json!("bar"),
                _ => stream["metadata"]["foo"] = json!("bar"),
            }
            let file = kube.dir().join(format!("{name}.json"));
            std::fs::write(&file, stream.to_string()).unwrap();
            let file = file.to_str().unwrap();
            let ns = ["-n", "keys", "-f", file];
            for verb in ["create", "apply"] {
                let out = kube.run(v, &[&[verb][..], &ns].concat());
                assert!(!out.status.success(), "kubectl {v} {verb} {field}");
                let err = said(&out);
                assert!(
                    err.contains(&format!("unknown field \"{field}\"")),
                    "kubectl {v} {verb}: {err}"
                );
            }
            let gone = kube.run(v, &["get", "is", &name, "-n", "keys"]);
            assert!(!gone.status.success(), "{v} {field}: nothing was stored");

            let out = kube.run(v, &[&["create", "--validate=warn"][..], &ns].concat());
            assert!(out.status.success(), "kubectl {v}: {out:?}");
            let err = said(&out);
            assert!(
                err.contains(&format!("unknown field \"{field}\"")),
                "{v} warns of {field}: {err}"
            );
            kube.ok(v, &["delete", "is", &name, "-n", "keys"]);
            let out = kube.run(v, &[&["create", "--validate=false"][..], &ns].concat());
            assert!(out.status.success(), "kubectl {v} ignores {field}: {out:?}");
            assert!(!said(&out).contains("unknown field"), "{v}: {out:?}");
        }
    }
}

/// A stream in YAML naming `spec.tags[0].name` twice (`b` last), and `metadata.labels.team`.
fn repeated(name: &str) -> String {
    format!(
        "kind: ImageStream\napiVersion: image.openshift.io/v1\nmetadata:\n  name: {name}\n  \
         labels:\n    team: a\n    team: b\nspec:\n  tags:\n  - name: a\n    from:\n      \
         kind: DockerImage\n      name: quay.io/x/y:1\n    name: b\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn yaml_bodies_repeating_keys_are_refused_in_strict_and_warned_in_warn() {
    let kube = Kube::start().await;
    kube.create_project("yaml").await;
    let base = kube.server.as_ref().unwrap().base.clone();
    let client = client_with_token(ADMIN_TOKEN);
    let send = |mode: &str, name: &str, apply: bool| {
        let (method, path, content_type) = if apply {
            let path = format!("{}?fieldManager=curl&", paths::imagestream("yaml", name));
            (reqwest::Method::PATCH, path, "application/apply-patch+yaml")
        } else {
            let path = format!("{}?", paths::imagestreams("yaml"));
            (reqwest::Method::POST, path, "application/yaml")
        };
        client
            .request(method, format!("{base}{path}fieldValidation={mode}"))
            .header("Content-Type", content_type)
            .body(repeated(name))
            .send()
    };
    for apply in [false, true] {
        let name = |mode: &str| format!("{mode}-{}", if apply { "apply" } else { "create" });
        let resp = send("Strict", &name("strict"), apply).await.unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "apply: {apply}");
        let status: Value = resp.json().await.unwrap();
        assert_eq!(status["reason"], "BadRequest", "{status}");
        let fields: Vec<&str> = status["details"]["causes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["metadata.labels.team", "spec.tags[0].name"]);
        let message = status["message"].as_str().unwrap();
        assert!(
            message.contains(r#"yaml: duplicate field "spec.tags[0].name""#),
            "{message}"
        );
        let (code, _) = get(&client, &base, &name("strict")).await;
        assert_eq!(code, StatusCode::NOT_FOUND, "Strict stored nothing");

        let resp = send("Warn", &name("warn"), apply).await.unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED, "apply: {apply}");
        let warnings: Vec<String> = resp
            .headers()
            .get_all("warning")
            .iter()
            .map(|w| w.to_str().unwrap().to_owned())
            .collect();
        assert!(
            warnings
                .iter()
                .any(|w| w.contains(r#"duplicate field \"metadata.labels.team\""#)),
            "{warnings:?}"
        );

        // Ignore: stored, the last value of each repeated key kept (as for JSON).
        let resp = send("Ignore", &name("ignore"), apply).await.unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED, "apply: {apply}");
        let created: Value = resp.json().await.unwrap();
        assert_eq!(created["metadata"]["labels"]["team"], "b");
        assert_eq!(created["spec"]["tags"][0]["name"], "b");
    }
}

async fn get(client: &reqwest::Client, base: &str, name: &str) -> (StatusCode, Value) {
    let resp = client
        .get(format!("{base}{}", paths::imagestream("yaml", name)))
        .send()
        .await
        .unwrap();
    (resp.status(), resp.json().await.unwrap())
}
