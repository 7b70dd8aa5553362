//! `kubectl auth can-i` and `kubectl auth whoami` (1.27 and 1.33) against the real server: the
//! answers follow the roles each user holds, and a project the user cannot see is a "no".
//! `kubectl create rolebinding` grants a role (1.33 sends it in protobuf).

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use crate::kubectl_support::{Kube, VERSIONS};

/// `kubectl auth can-i ARGS` as the holder of `token`: its first word and its exit status.
fn can_i(kube: &Kube, v: &str, token: &str, args: &[&str]) -> (String, bool) {
    let mut all = vec!["auth", "can-i"];
    all.extend_from_slice(args);
    let out = kube.run_as(v, token, &all);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        stdout.starts_with("yes") || stdout.starts_with("no"),
        "kubectl {v} {all:?}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let word = stdout
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned();
    (word, out.status.success())
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_auth_can_i_answers_as_each_users_role_allows() {
    let kube = Kube::start().await;
    kube.create_project("demo").await;
    kube.create_project("secret").await;
    let viewer = kube.user_with_role("vera", "demo", "view").await;
    let editor = kube.user_with_role("ed", "demo", "edit").await;
    for v in VERSIONS {
        for (who, token, expected) in [
            ("viewer", &viewer, ["yes", "no", "no"]),
            ("editor", &editor, ["yes", "yes", "yes"]),
        ] {
            for (verb, want) in ["get", "create", "delete"].into_iter().zip(expected) {
                let (word, ok) = can_i(&kube, v, token, &[verb, "imagestreams", "-n", "demo"]);
                assert_eq!(word, want, "kubectl {v}: {who} can-i {verb} imagestreams");
                assert_eq!(
                    ok,
                    want == "yes",
                    "kubectl {v}: exit status follows the answer"
                );
            }
            // The short name resolves through discovery to the same resource.
            let (word, _) = can_i(&kube, v, token, &["list", "is", "-n", "demo"]);
            assert_eq!(word, "yes", "kubectl {v}: {who} lists streams");
            // Access rules are the admins' alone.
            let (word, _) = can_i(&kube, v, token, &["create", "rolebindings", "-n", "demo"]);
            assert_eq!(word, "no", "kubectl {v}: {who} cannot grant access");
            // A project they have no role in answers no, as a missing one does.
            let (word, _) = can_i(&kube, v, token, &["get", "imagestreams", "-n", "secret"]);
            assert_eq!(word, "no", "kubectl {v}: {who} does not see project secret");
        }
        let (word, _) = can_i(
            &kube,
            v,
            crate::support::ADMIN_TOKEN,
            &["delete", "imagestreams", "-n", "secret"],
        );
        assert_eq!(word, "yes", "kubectl {v}: the cluster admin may");
        let (word, _) = can_i(&kube, v, &editor, &["create", "templates", "-n", "demo"]);
        assert_eq!(word, "yes", "kubectl {v}: edit writes templates");
        let (word, _) = can_i(&kube, v, &viewer, &["update", "templates", "-n", "demo"]);
        assert_eq!(word, "no", "kubectl {v}: view does not");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_auth_whoami_names_the_tokens_user() {
    let kube = Kube::start().await;
    kube.create_project("demo").await;
    let viewer = kube.user_with_role("vera", "demo", "view").await;
    for v in VERSIONS {
        let out = kube.run_as(v, &viewer, &["auth", "whoami", "-o", "json"]);
        assert!(out.status.success(), "kubectl {v}: {out:?}");
        let review: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(review["status"]["userInfo"]["username"], "vera", "{v}");
        assert_eq!(review["kind"], "SelfSubjectReview", "{v}");
        let out = kube.run_as(v, &viewer, &["auth", "whoami"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.lines()
                .any(|l| l.starts_with("Username") && l.ends_with("vera")),
            "kubectl {v}: {text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_create_rolebinding_grants_the_role_whichever_encoding_it_sends() {
    let kube = Kube::start().await;
    kube.create_project("demo").await;
    let token = kube.user_with_role("ulla", "demo", "view").await;
    kube.create_project("team").await;
    // kubectl 1.33 sends the binding in protobuf, 1.27 in JSON.
    for v in VERSIONS {
        let name = format!("rb-{}", v.replace('.', "-"));
        let out = kube.ok(
            v,
            &[
                "create",
                "rolebinding",
                &name,
                "--clusterrole=view",
                "--user=ulla",
                "-n",
                "team",
            ],
        );
        assert_eq!(
            out.trim(),
            format!("rolebinding.rbac.authorization.k8s.io/{name} created"),
            "{v}"
        );
        let binding = kube
            .api(
                reqwest::Method::GET,
                &tagstream_shared::paths::rolebinding("team", &name),
                None,
            )
            .await;
        assert_eq!(binding["roleRef"]["name"], "view", "{v}: {binding}");
        assert_eq!(binding["subjects"][0]["kind"], "User", "{v}: {binding}");
        assert_eq!(binding["subjects"][0]["name"], "ulla", "{v}: {binding}");
        let (word, _) = can_i(&kube, v, &token, &["list", "is", "-n", "team"]);
        assert_eq!(word, "yes", "kubectl {v}: the binding grants ulla view");
    }
}
