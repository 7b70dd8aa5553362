//! `fieldValidation=Strict` for the kinds created from a body that is more than the kind (a
//! User with its initial `password`) or whose spec was free-form (a Project's spec is only
//! `finalizers`), with kubectl 1.27 and 1.33 (`--validate=strict`, their default): a field
//! neither has is refused naming it and nothing is stored, and what they do have is created.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use std::process::Output;

use serde_json::{Value, json};

use crate::kubectl_support::{Kube, VERSIONS};

fn said(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr).replace("\\\"", "\"")
    )
}

/// `kubectl create -f` of `body` (written to `file`), as the admin.
fn create(kube: &Kube, v: &str, file: &str, body: &Value) -> Output {
    let path = kube.dir().join(format!("{file}-{v}.json"));
    std::fs::write(&path, body.to_string()).unwrap();
    kube.run(v, &["create", "-f", path.to_str().unwrap()])
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_strict_refuses_unknown_fields_of_a_new_user_and_a_project_spec() {
    let kube = Kube::start().await;
    for v in VERSIONS {
        let tag = v.replace('.', "-");
        let user = format!("una-{tag}");
        let mut body = json!({
            "kind": "User", "apiVersion": "user.openshift.io/v1",
            "metadata": {"name": user}, "fullName": "Una",
            "password": "a long enough password", "colour": "red"
        });
        let out = create(&kube, v, "user", &body);
        assert!(!out.status.success(), "{v}: {}", said(&out));
        assert!(
            said(&out).contains("unknown field \"colour\""),
            "{v}: {}",
            said(&out)
        );
        assert!(!said(&out).contains("password"), "{v}: {}", said(&out));
        let gone = kube.run(v, &["get", "users", &user]);
        assert!(!gone.status.success(), "{v}: nothing was stored");
        // Its password is one of the fields it has.
        if let Some(fields) = body.as_object_mut() {
            fields.remove("colour");
        }
        let out = create(&kube, v, "user", &body);
        assert!(out.status.success(), "{v}: {}", said(&out));
        kube.ok(v, &["get", "users", &user]);

        let project = format!("proj-{tag}");
        let mut body = json!({
            "kind": "Project", "apiVersion": "project.openshift.io/v1",
            "metadata": {"name": project}, "spec": {"finalizers": ["kubernetes"], "quota": 3}
        });
        let out = create(&kube, v, "project", &body);
        assert!(!out.status.success(), "{v}: {}", said(&out));
        assert!(
            said(&out).contains("unknown field \"spec.quota\""),
            "{v}: {}",
            said(&out)
        );
        let gone = kube.run(v, &["get", "projects", &project]);
        assert!(!gone.status.success(), "{v}: nothing was stored");
        body["spec"] = json!({"finalizers": ["kubernetes"]});
        let out = create(&kube, v, "project", &body);
        assert!(out.status.success(), "{v}: {}", said(&out));
        kube.ok(v, &["get", "projects", &project]);
    }
}
