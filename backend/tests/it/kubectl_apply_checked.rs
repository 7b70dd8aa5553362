//! Client-side `kubectl apply` of changed manifests, `kubectl label` and `kubectl edit`, with
//! kubectl 1.27 and 1.33, for the kinds whose writes are their own (role bindings, groups,
//! users, triggers, template instances): kubectl sends a merge patch (a strategic one for a
//! RoleBinding), which each kind writes as its replace does. A trigger re-applied unchanged
//! succeeds (kubectl sends its secret, which reads never show); a patch may not grant more
//! than the patcher holds, nor change an instance's spec.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::Method;
use serde_json::{Value, json};
use tagstream_shared::paths;

use crate::kubectl_support::{Kube, VERSIONS};
use crate::support::{ADMIN_TOKEN, stream_json};

/// Webhooks may go to the loopback port that answers nothing (no delivery is due anyway).
const WEBHOOKS: &str = "[webhooks]\nallowed_hosts = [\"127.0.0.1:9\"]\n";

/// The five objects of `tag`, as first applied or `changed` (a subject, a member, a full
/// name, a webhook URL, and a label on each), as a stream of JSON documents.
fn manifests(tag: &str, changed: bool) -> String {
    let pick = |first: &str, then: &str| if changed { then } else { first }.to_owned();
    let meta = |name: String| match changed {
        true => json!({"name": name, "labels": {"changed": "yes"}}),
        false => json!({"name": name}),
    };
    let members = match changed {
        true => json!(["alice", "bob"]),
        false => json!(["alice"]),
    };
    let docs = [
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": meta(format!("rb-{tag}")),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                "name": "view"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                "name": pick("alice", "bob")}]}),
        json!({"apiVersion": "user.openshift.io/v1", "kind": "Group",
            "metadata": meta(format!("g-{tag}")), "users": members}),
        json!({"apiVersion": "user.openshift.io/v1", "kind": "User",
            "metadata": meta(format!("u-{tag}")), "fullName": pick("One", "Two")}),
        json!({"apiVersion": "tagstream.io/v1", "kind": "Trigger",
            "metadata": meta(format!("t-{tag}")),
            "spec": {"from": {"kind": "ImageStreamTag", "name": "s:t"},
                "webhook": {"url": pick("http://127.0.0.1:9/hook", "http://127.0.0.1:9/changed"),
                    "secret": "0123456789abcdef0123456789abcdef"}}}),
        json!({"apiVersion": "template.openshift.io/v1", "kind": "TemplateInstance",
            "metadata": meta(format!("ti-{tag}")),
            "spec": {"template": {"metadata": {"name": "x"}, "objects": [
                {"apiVersion": "image.openshift.io/v1", "kind": "ImageStream",
                    "metadata": {"name": format!("ti-{tag}")}}]}}}),
    ];
    docs.iter().map(|d| format!("{d}\n")).collect()
}

/// The five objects of `tag` as stored: binding, group, user, trigger, instance.
async fn stored(kube: &Kube, ns: &str, tag: &str) -> [Value; 5] {
    [
        kube.api(
            Method::GET,
            &paths::rolebinding(ns, &format!("rb-{tag}")),
            None,
        )
        .await,
        kube.api(Method::GET, &paths::group(&format!("g-{tag}")), None)
            .await,
        kube.api(Method::GET, &paths::user(&format!("u-{tag}")), None)
            .await,
        kube.api(Method::GET, &paths::trigger(ns, &format!("t-{tag}")), None)
            .await,
        kube.api(
            Method::GET,
            &paths::template_instance(ns, &format!("ti-{tag}")),
            None,
        )
        .await,
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_applies_changes_and_labels_to_every_writable_kind() {
    let kube = Kube::start_with(WEBHOOKS).await;
    let ns = "applyall";
    kube.create_project(ns).await;
    kube.api(
        Method::POST,
        &paths::imagestreams(ns),
        Some(stream_json("s", "t", "127.0.0.1:9/x:1")),
    )
    .await;
    for v in VERSIONS {
        let tag = v.replace('.', "-");
        let file = kube.dir().join(format!("all-{tag}.yaml"));
        let file = file.to_str().unwrap();
        std::fs::write(file, manifests(&tag, false)).unwrap();
        let out = kube.ok(v, &["apply", "-n", ns, "-f", file]);
        assert_eq!(out.matches(" created").count(), 5, "kubectl {v}: {out}");
        // Unchanged: the trigger's secret, never shown, is sent again and taken.
        kube.ok(v, &["apply", "-n", ns, "-f", file]);

        std::fs::write(file, manifests(&tag, true)).unwrap();
        let out = kube.ok(v, &["apply", "-n", ns, "-f", file]);
        assert_eq!(out.matches(" configured").count(), 5, "kubectl {v}: {out}");
        let [binding, group, user, trigger, instance] = stored(&kube, ns, &tag).await;
        assert_eq!(
            binding["subjects"][0]["name"], "bob",
            "kubectl {v}: {binding}"
        );
        assert_eq!(
            group["users"],
            json!(["alice", "bob"]),
            "kubectl {v}: {group}"
        );
        assert_eq!(user["fullName"], "Two", "kubectl {v}: {user}");
        let webhook = &trigger["spec"]["webhook"];
        assert_eq!(webhook["url"], "http://127.0.0.1:9/changed", "{trigger}");
        assert!(webhook.get("secret").is_none(), "kubectl {v}: {trigger}");
        for object in [&binding, &group, &user, &trigger, &instance] {
            assert_eq!(object["metadata"]["labels"]["changed"], "yes", "{object}");
        }
        kube.ok(v, &["apply", "-n", ns, "-f", file]);

        let names = [
            format!("rolebinding/rb-{tag}"),
            format!("group/g-{tag}"),
            format!("user/u-{tag}"),
            format!("trigger/t-{tag}"),
            format!("templateinstance/ti-{tag}"),
        ];
        let label = format!("lab={tag}");
        let mut args = vec!["label", "-n", ns];
        args.extend(names.iter().map(String::as_str));
        args.push(&label);
        let out = kube.ok(v, &args);
        assert_eq!(out.matches(" labeled").count(), 5, "kubectl {v}: {out}");
        for object in stored(&kube, ns, &tag).await {
            assert_eq!(
                object["metadata"]["labels"]["lab"],
                tag.as_str(),
                "{object}"
            );
        }

        // kubectl edit: a strategic merge patch for the binding, a merge patch for the user.
        for (name, edit) in [(&names[0], "s/bob$/carol/"), (&names[2], "s/Two$/Three/")] {
            let out = kube
                .command(v, ADMIN_TOKEN, &["edit", "-n", ns, name])
                .env("KUBE_EDITOR", format!("sed -i {edit}"))
                .output()
                .unwrap();
            assert!(out.status.success(), "kubectl {v} edit {name}: {out:?}");
        }
        let [binding, _, user, _, _] = stored(&kube, ns, &tag).await;
        assert_eq!(
            binding["subjects"][0]["name"], "carol",
            "kubectl {v}: {binding}"
        );
        assert_eq!(user["fullName"], "Three", "kubectl {v}: {user}");
    }
    // Discovery lists `patch` for them: kubectl edit and label decide from it.
    for (group, plural) in [
        ("rbac.authorization.k8s.io/v1", "rolebindings"),
        ("user.openshift.io/v1", "groups"),
        ("user.openshift.io/v1", "users"),
        ("tagstream.io/v1", "triggers"),
        ("template.openshift.io/v1", "templateinstances"),
    ] {
        let list = kube.api(Method::GET, &format!("/apis/{group}"), None).await;
        let resource = list["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == plural)
            .unwrap();
        assert!(
            resource["verbs"]
                .as_array()
                .unwrap()
                .contains(&json!("patch")),
            "{resource}"
        );
    }
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_patch_grants_no_more_than_its_sender_holds_nor_changes_an_instance_spec() {
    let kube = Kube::start().await;
    let ns = "patchcheck";
    kube.create_project(ns).await;
    let registry_admin = kube.user_with_role("ra", ns, "registry-admin").await;
    kube.api(
        Method::POST,
        &paths::rolebindings(ns),
        Some(json!({"metadata": {"name": "pullers"},
            "roleRef": {"kind": "ClusterRole", "name": "registry-viewer"},
            "subjects": [{"kind": "User", "name": "alice"}]})),
    )
    .await;
    kube.api(
        Method::POST,
        &paths::template_instances(ns),
        Some(json!({"metadata": {"name": "inst"},
            "spec": {"template": {"metadata": {"name": "x"}, "objects": []}}})),
    )
    .await;
    for v in VERSIONS {
        let patch = |body: &str| {
            let args = [
                "patch",
                "rolebinding",
                "pullers",
                "-n",
                ns,
                "--type",
                "merge",
                "-p",
                body,
            ];
            kube.run_as(v, &registry_admin, &args)
        };
        let out = patch(&format!(
            r#"{{"subjects":[{{"kind":"User","name":"bob-{v}"}}]}}"#
        ));
        assert!(out.status.success(), "kubectl {v}: {}", stderr(&out));

        let out = patch(r#"{"roleRef":{"name":"admin"}}"#);
        assert!(!out.status.success(), "kubectl {v}: escalated");
        assert!(
            stderr(&out).contains("Forbidden"),
            "kubectl {v}: {}",
            stderr(&out)
        );
        let binding = kube
            .api(Method::GET, &paths::rolebinding(ns, "pullers"), None)
            .await;
        assert_eq!(binding["roleRef"]["name"], "registry-viewer", "{binding}");
        assert_eq!(
            binding["subjects"][0]["name"],
            format!("bob-{v}"),
            "{binding}"
        );

        let spec = r#"{"spec":{"template":{"metadata":{"name":"y"}}}}"#;
        let out = kube.run(
            v,
            &[
                "patch",
                "templateinstance",
                "inst",
                "-n",
                ns,
                "--type",
                "merge",
                "-p",
                spec,
            ],
        );
        assert!(!out.status.success(), "kubectl {v}: spec changed");
        let said = stderr(&out);
        assert!(
            said.contains("spec: Invalid value") && said.contains("field is immutable"),
            "{said}"
        );
        let instance = kube
            .api(Method::GET, &paths::template_instance(ns, "inst"), None)
            .await;
        assert_eq!(
            instance["spec"]["template"]["metadata"]["name"], "x",
            "{instance}"
        );
    }
}
