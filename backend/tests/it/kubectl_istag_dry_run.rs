//! Image stream tags with kubectl 1.27 and 1.33: `--dry-run=server` of a server-side apply, a
//! create and a delete is checked and answered as the write would be, and stores nothing; and
//! what a tag object carries that is its stream's (`metadata.labels`, `metadata.annotations`,
//! `lookupPolicy`) is refused naming the field under kubectl's default `--validate=strict`, and
//! warned about under `--validate=warn`, instead of being quietly ignored.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use std::process::Output;

use reqwest::Method;
use serde_json::{Value, json};
use tagstream_shared::paths;

use crate::kubectl_support::{Kube, VERSIONS};

fn istag(name: &str, from: &str) -> Value {
    json!({
        "kind": "ImageStreamTag", "apiVersion": "image.openshift.io/v1",
        "metadata": {"name": name},
        "tag": {"from": {"kind": "DockerImage", "name": from}, "reference": true}
    })
}

fn said(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr).replace("\\\"", "\"")
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_istag_dry_run_server_checks_tag_writes_and_stores_nothing() {
    let kube = Kube::start().await;
    for v in VERSIONS {
        let ns = format!("istag-dry-{}", v.replace('.', "-"));
        kube.create_project(&ns).await;
        let file = |name: &str, body: Value| {
            let path = kube.dir().join(format!("{name}-{v}.json"));
            std::fs::write(&path, body.to_string()).unwrap();
            path.to_str().unwrap().to_owned()
        };
        let latest = file("latest", istag("ruby:latest", "quay.io/x/ruby:1"));
        kube.ok(v, &["apply", "--server-side", "-n", &ns, "-f", &latest]);
        let before = kube
            .api(Method::GET, &paths::imagestream(&ns, "ruby"), None)
            .await;
        let dry = "--dry-run=server";

        // A changed tag, applied as a dry run: answered as it would be stored.
        let moved = file("moved", istag("ruby:latest", "quay.io/x/ruby:2"));
        let out = kube.run(
            v,
            &[
                "apply",
                "--server-side",
                "-n",
                &ns,
                "-f",
                &moved,
                dry,
                "-o",
                "json",
            ],
        );
        assert!(out.status.success(), "{v}: {}", said(&out));
        let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(answer["tag"]["from"]["name"], "quay.io/x/ruby:2", "{v}");
        // A new tag, applied and created as dry runs.
        let new = file("new", istag("ruby:new", "quay.io/x/ruby:3"));
        let out = kube.ok(v, &["apply", "--server-side", "-n", &ns, "-f", &new, dry]);
        assert!(
            out.contains("serverside-applied (server dry run)"),
            "{v}: {out}"
        );
        let out = kube.ok(v, &["create", "-n", &ns, "-f", &new, dry]);
        assert!(out.contains("created (server dry run)"), "{v}: {out}");
        // Still checked: a conflict with another manager is refused as the real apply would be.
        let out = kube.run(
            v,
            &[
                "apply",
                "--server-side",
                "-n",
                &ns,
                "-f",
                &moved,
                dry,
                "--field-manager",
                "ci",
            ],
        );
        assert!(!out.status.success(), "{v}: {}", said(&out));
        assert!(said(&out).contains(".tag.from.name"), "{v}: {}", said(&out));
        // A delete as a dry run.
        let out = kube.ok(v, &["delete", "istag", "ruby:latest", "-n", &ns, dry]);
        assert!(out.contains("deleted (server dry run)"), "{v}: {out}");

        let after = kube
            .api(Method::GET, &paths::imagestream(&ns, "ruby"), None)
            .await;
        assert_eq!(after["spec"], before["spec"], "{v}: nothing was stored");
        assert_eq!(
            after["metadata"]["managedFields"], before["metadata"]["managedFields"],
            "{v}"
        );
        kube.ok(v, &["get", "istag", "ruby:latest", "-n", &ns]);
        let gone = kube.run(v, &["get", "istag", "ruby:new", "-n", &ns]);
        assert!(!gone.status.success(), "{v}: {}", said(&gone));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_istag_apply_refuses_or_warns_about_what_is_the_stream_s() {
    let kube = Kube::start().await;
    for v in VERSIONS {
        let ns = format!("istag-own-{}", v.replace('.', "-"));
        kube.create_project(&ns).await;
        let mut body = istag("ruby:latest", "quay.io/x/ruby:1");
        body["metadata"]["labels"] = json!({"team": "web"});
        body["metadata"]["annotations"] = json!({"note": "x"});
        body["lookupPolicy"] = json!({"local": true});
        let path = kube.dir().join(format!("own-{v}.json"));
        std::fs::write(&path, body.to_string()).unwrap();
        let path = path.to_str().unwrap();

        let out = kube.run(v, &["apply", "--server-side", "-n", &ns, "-f", path]);
        assert!(!out.status.success(), "{v}: {}", said(&out));
        for field in ["metadata.labels", "metadata.annotations", "lookupPolicy"] {
            assert!(said(&out).contains(field), "{v}: {field}: {}", said(&out));
        }
        let missing = kube.run(v, &["get", "is", "ruby", "-n", &ns]);
        assert!(!missing.status.success(), "{v}: refused, nothing stored");

        let out = kube.run(
            v,
            &[
                "apply",
                "--server-side",
                "-n",
                &ns,
                "-f",
                path,
                "--validate=warn",
            ],
        );
        assert!(out.status.success(), "{v}: {}", said(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        for field in ["metadata.labels", "metadata.annotations", "lookupPolicy"] {
            assert!(
                err.contains(&format!("{field}: ignored")),
                "{v}: {field}: {err}"
            );
        }
    }
}
