//! Writes other than apply are field managers too, as on a cluster: `kubectl create` and
//! `kubectl label` are recorded in `metadata.managedFields` (operation `Update`) with the
//! fields they set, a later `kubectl apply --server-side` that names a label `kubectl label`
//! changed is refused as a conflict with `kubectl-label` until it forces, and a `PUT` whose body
//! leaves `managedFields` out does not wipe who owns what. kubectl 1.27 and 1.33.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::Method;
use serde_json::{Value, json};
use tagstream_shared::paths;

use crate::kubectl_support::{Kube, VERSIONS};

/// The (manager, operation) pairs of `object`'s `managedFields`.
fn managers(object: &Value) -> Vec<(String, String)> {
    object["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["manager"].as_str().unwrap_or_default().to_owned(),
                e["operation"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn pair(manager: &str, operation: &str) -> (String, String) {
    (manager.to_owned(), operation.to_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_label_is_a_manager_that_a_later_apply_conflicts_with() {
    let kube = Kube::start().await;
    for v in VERSIONS {
        let ns = format!("upd-{}", v.replace('.', "-"));
        kube.create_project(&ns).await;
        let file = kube.dir().join(format!("web-{v}.json"));
        let write = |team: &str| {
            let body = json!({
                "kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
                "metadata": {"name": "web", "labels": {"team": team}},
                "spec": {"tags": [{"name": "1", "from": {"kind": "DockerImage", "name": "quay.io/x/web:1"}}]}
            });
            std::fs::write(&file, body.to_string()).unwrap();
        };
        let path = file.to_str().unwrap().to_owned();
        write("a");
        let out = kube.run(v, &["create", "-n", &ns, "-f", &path]);
        assert!(out.status.success(), "{v}: {out:?}");
        let stream_path = paths::imagestream(&ns, "web");
        let stored = kube.api(Method::GET, &stream_path, None).await;
        assert_eq!(
            managers(&stored),
            [pair("kubectl-create", "Update")],
            "{v}: {stored:#}"
        );

        let out = kube.run(
            v,
            &["label", "is", "web", "team=b", "--overwrite", "-n", &ns],
        );
        assert!(out.status.success(), "{v}: {out:?}");
        let stored = kube.api(Method::GET, &stream_path, None).await;
        assert_eq!(
            managers(&stored),
            [
                pair("kubectl-create", "Update"),
                pair("kubectl-label", "Update")
            ],
            "{v}: {stored:#}"
        );
        assert_eq!(
            stored["metadata"]["managedFields"][1]["fieldsV1"],
            json!({"f:metadata": {"f:labels": {"f:team": {}}}}),
            "{v}: the label moved to kubectl-label"
        );

        // An apply naming team=a conflicts with the one who set it to b.
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
        let out = apply(&[]);
        assert!(!out.status.success(), "{v}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("conflict")
                && err.contains("kubectl-label")
                && err.contains(".metadata.labels.team"),
            "{v}: {err}"
        );
        let stored = kube.api(Method::GET, &stream_path, None).await;
        assert_eq!(stored["metadata"]["labels"]["team"], "b", "{v}");
        let out = apply(&["--force-conflicts"]);
        assert!(out.status.success(), "{v}: {out:?}");
        let stored = kube.api(Method::GET, &stream_path, None).await;
        assert_eq!(stored["metadata"]["labels"]["team"], "a", "{v}");
        assert!(
            !managers(&stored).contains(&pair("kubectl-label", "Update")),
            "{v}: forcing took the label from kubectl-label: {stored:#}"
        );

        // A PUT that leaves managedFields out keeps the record (and is its own manager).
        let mut body = stored.clone();
        body["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("managedFields");
        body["metadata"]["annotations"] = json!({"note": "by curl"});
        let replaced = crate::support::client_with_token(crate::support::ADMIN_TOKEN)
            .put(format!(
                "{}{stream_path}",
                kube.server.as_ref().unwrap().base
            ))
            .header("user-agent", "curl/8.5.0")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(replaced.status().is_success(), "{v}: {}", replaced.status());
        let stored = kube.api(Method::GET, &stream_path, None).await;
        let now = managers(&stored);
        assert!(now.contains(&pair("kubectl", "Apply")), "{v}: {stored:#}");
        assert!(now.contains(&pair("curl", "Update")), "{v}: {stored:#}");
    }
}
