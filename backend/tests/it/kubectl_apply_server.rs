//! `kubectl apply --server-side` with kubectl 1.27 and 1.33 (issue 14): applying creates the
//! object, applying again changes what the manager names and removes what it no longer names,
//! another field manager taking a field with another value is refused with kubectl's conflict
//! message until it forces, and applying a stream that does not exist needs the right to create.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::Method;
use serde_json::{Value, json};
use tagstream_shared::paths;

use crate::kubectl_support::{Kube, VERSIONS};
use crate::support::fixtures;

fn stream(labels: Value, tags: Value) -> String {
    json!({
        "kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
        "metadata": {"name": "ruby", "labels": labels},
        "spec": {"tags": tags}
    })
    .to_string()
}

fn tag(name: &str, from: &str) -> Value {
    json!({"name": name, "from": {"kind": "DockerImage", "name": from}})
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_server_side_apply_creates_updates_and_reports_conflicts() {
    let kube = Kube::start().await;
    for v in VERSIONS {
        let ns = format!("ssa-{}", v.replace('.', "-"));
        kube.create_project(&ns).await;
        let file = kube.dir().join(format!("ruby-{v}.json"));
        let write = |body: String| std::fs::write(&file, body).unwrap();
        let path = file.to_str().unwrap().to_owned();
        let apply = |extra: &[&str]| {
            let mut args = vec![
                "apply",
                "--server-side",
                "-n",
                ns.as_str(),
                "-f",
                path.as_str(),
            ];
            args.extend_from_slice(extra);
            kube.run(v, &args)
        };

        write(stream(
            json!({"team": "web", "tier": "front"}),
            json!([tag("3.3", "quay.io/x/ruby:3.3")]),
        ));
        let out = apply(&[]);
        assert!(out.status.success(), "{v}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout)
                .contains("imagestream.image.openshift.io/ruby serverside-applied"),
            "{v}: {out:?}"
        );
        let stored = kube
            .api(Method::GET, &paths::imagestream(&ns, "ruby"), None)
            .await;
        assert_eq!(
            stored["spec"]["tags"][0]["from"]["name"], "quay.io/x/ruby:3.3",
            "{v}"
        );
        assert_eq!(
            stored["metadata"]["managedFields"][0]["manager"], "kubectl",
            "{v}: {stored:#}"
        );

        // Someone else adds a tag with their own manager: no conflict, both stay.
        let other = kube.dir().join(format!("other-{v}.json"));
        std::fs::write(
            &other,
            stream(json!({}), json!([tag("3.4", "quay.io/x/ruby:3.4")])),
        )
        .unwrap();
        let other = other.to_str().unwrap();
        kube.ok(
            v,
            &[
                "apply",
                "--server-side",
                "--field-manager",
                "ci",
                "-n",
                &ns,
                "-f",
                other,
            ],
        );

        // The first manager drops a label and moves its tag: applied; the other tag stays.
        write(stream(
            json!({"team": "web"}),
            json!([tag("3.3", "quay.io/x/ruby:3.3.1")]),
        ));
        let out = apply(&[]);
        assert!(out.status.success(), "{v}: {out:?}");
        let stored = kube
            .api(Method::GET, &paths::imagestream(&ns, "ruby"), None)
            .await;
        assert_eq!(stored["metadata"]["labels"], json!({"team": "web"}), "{v}");
        let tags: Vec<(&str, &str)> = stored["spec"]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["name"].as_str().unwrap(),
                    t["from"]["name"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            tags,
            [
                ("3.3", "quay.io/x/ruby:3.3.1"),
                ("3.4", "quay.io/x/ruby:3.4")
            ],
            "{v}"
        );

        // The first manager now claims tag 3.4 with another source: kubectl's conflict message.
        write(stream(
            json!({"team": "web"}),
            json!([
                tag("3.3", "quay.io/x/ruby:3.3.1"),
                tag("3.4", "quay.io/x/ruby:9")
            ]),
        ));
        let out = apply(&[]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{v}: {out:?}");
        assert!(
            err.contains("conflict") && err.contains("\"ci\""),
            "{v}: {err}"
        );
        assert!(
            err.contains(".spec.tags[name=\"3.4\"].from.name"),
            "{v}: {err}"
        );
        let stored = kube
            .api(Method::GET, &paths::imagestream(&ns, "ruby"), None)
            .await;
        assert_eq!(
            stored["spec"]["tags"][1]["from"]["name"], "quay.io/x/ruby:3.4",
            "{v}: a refused apply changes nothing"
        );
        let out = apply(&["--force-conflicts"]);
        assert!(out.status.success(), "{v}: {out:?}");
        let stored = kube
            .api(Method::GET, &paths::imagestream(&ns, "ruby"), None)
            .await;
        assert_eq!(
            stored["spec"]["tags"][1]["from"]["name"], "quay.io/x/ruby:9",
            "{v}"
        );

        // A viewer may not create by applying.
        let viewer = kube
            .user_with_role(&format!("vic-{}", v.replace('.', "-")), &ns, "view")
            .await;
        let fresh = kube.dir().join(format!("perl-{v}.json"));
        std::fs::write(
            &fresh,
            json!({"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
                   "metadata": {"name": "perl"}, "spec": {}})
            .to_string(),
        )
        .unwrap();
        let out = kube.run_as(
            v,
            &viewer,
            &[
                "apply",
                "--server-side",
                "-n",
                &ns,
                "-f",
                fresh.to_str().unwrap(),
            ],
        );
        assert!(!out.status.success(), "{v}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("orbidden"),
            "{v}: {out:?}"
        );
        let gone = kube.run(v, &["get", "is", "perl", "-n", &ns]);
        assert!(!gone.status.success(), "{v}: nothing was created");

        // Templates too (the generic handlers).
        let template = fixtures().join("openshift-library/templates/nginx-example.json");
        // Applied twice: created, then applied over with nothing to change.
        for _ in 0..2 {
            let out = kube.ok(
                v,
                &[
                    "apply",
                    "--server-side",
                    "-n",
                    &ns,
                    "-f",
                    template.to_str().unwrap(),
                ],
            );
            assert!(out.contains("serverside-applied"), "{v}: {out}");
        }
    }
}
