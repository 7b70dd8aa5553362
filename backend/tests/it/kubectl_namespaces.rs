//! Projects through kubectl (1.27 and 1.33): `kubectl get projects`, and namespaces mapped to
//! projects as OpenShift does (`create namespace`, `get namespaces`, `get ns X`, `delete ns`).

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use crate::kubectl_support::{Kube, VERSIONS};

fn header(out: &str) -> Vec<String> {
    out.lines()
        .next()
        .unwrap_or_default()
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

fn names(out: &str) -> Vec<String> {
    out.lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_create_namespace_makes_a_project_its_creator_administers() {
    let kube = Kube::start().await;
    kube.create_project("lobby").await;
    kube.create_project("secret").await;
    let token = kube.user_with_role("nina", "lobby", "view").await;
    for v in VERSIONS {
        let ns = format!("team-{}", v.replace('.', "-"));
        let out = kube.run_as(v, &token, &["create", "namespace", &ns]);
        assert!(out.status.success(), "kubectl {v}: {out:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            format!("namespace/{ns} created"),
            "{v}"
        );
        // The creator administers the project, as with a project created directly.
        let out = kube.run_as(
            v,
            &token,
            &["auth", "can-i", "delete", "imagestreams", "-n", &ns],
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "yes", "{v}");
        let project = kube
            .api(
                reqwest::Method::GET,
                &tagstream_shared::paths::project(&ns),
                None,
            )
            .await;
        assert_eq!(project["kind"], "Project", "{v}");

        let out = kube.run_as(v, &token, &["get", "namespaces"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            header(&text),
            ["NAME", "STATUS", "AGE"],
            "{v}: {text}{out:?}"
        );
        let listed = names(&text);
        assert!(
            listed.contains(&ns) && listed.contains(&"lobby".to_owned()),
            "{v}: {text}"
        );
        assert!(
            !listed.contains(&"secret".to_owned()),
            "{v}: nina cannot see secret: {text}"
        );

        let out = kube.run_as(v, &token, &["get", "ns", &ns, "-o", "json"]);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["kind"], "Namespace", "{v}");
        assert_eq!(json["status"]["phase"], "Active", "{v}");
        let out = kube.run_as(v, &token, &["get", "ns", "secret"]);
        assert!(!out.status.success(), "{v}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("NotFound"),
            "{v}: {out:?}"
        );

        let out = kube.run_as(v, &token, &["get", "projects"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            header(&text),
            ["NAME", "DISPLAY NAME", "STATUS"],
            "{v}: {text}"
        );
        assert!(names(&text).contains(&ns), "{v}: {text}");

        // The samples project's name is reserved, as for projects.
        let out = kube.run_as(v, &token, &["create", "namespace", "openshift"]);
        assert!(!out.status.success(), "{v}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("reserved"),
            "{v}: {out:?}"
        );

        let out = kube.run_as(v, &token, &["delete", "ns", &ns, "--wait=false"]);
        assert!(out.status.success(), "kubectl {v}: {out:?}");
        let out = kube.run_as(v, &token, &["get", "projects", "-o", "name"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!text.contains(&ns), "{v}: {text}");
    }
    // The admin sees every project.
    let out = kube.ok("1.33", &["get", "projects", "-o", "name"]);
    assert!(out.contains("project.project.openshift.io/secret"), "{out}");
}
