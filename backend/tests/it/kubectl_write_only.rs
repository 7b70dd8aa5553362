//! The real `kubectl apply` (client-side, as the README teaches) of a trigger with its webhook
//! secret and of a user with a password: kubectl copies the whole manifest into the
//! last-applied annotation, and no reader gets the secret or the password back from it (review
//! 18 N1, N2; `write_only` tests every read path against the API directly).

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use crate::kubectl_support::Kube;

const SECRET: &str = "kubectl-applied-SECRET-0123456789";
const PASSWORD: &str = "kubectl-applied-PASSWORD-0123456789";

#[tokio::test]
async fn kubectl_apply_leaves_no_secret_or_password_in_what_is_read_back() {
    let kube = Kube::start().await;
    kube.create_project("p1").await;
    let editor = kube.user_with_role("ed", "p1", "edit").await;
    let viewer = kube.user_with_role("vi", "p1", "view").await;
    let manifests = kube.dir().join("applied.yaml");
    std::fs::write(
        &manifests,
        format!(
            "apiVersion: tagstream.io/v1\nkind: Trigger\nmetadata: {{name: applied}}\n\
             spec: {{from: {{kind: ImageStreamTag, name: 'dl:t'}}, \
             webhook: {{url: 'https://hooks.example.com/x', secret: {SECRET}}}}}\n"
        ),
    )
    .unwrap();
    let file = manifests.to_str().unwrap();
    let out = kube.run_as("1.33", &editor, &["-n", "p1", "apply", "-f", file]);
    assert!(out.status.success(), "{out:?}");
    let out = kube.run_as(
        "1.33",
        &viewer,
        &["-n", "p1", "get", "trigger", "applied", "-o", "json"],
    );
    let read = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && read.contains("last-applied-configuration"),
        "{out:?}"
    );
    assert!(!read.contains(SECRET), "{read}");

    std::fs::write(
        &manifests,
        format!("apiVersion: user.openshift.io/v1\nkind: User\nmetadata: {{name: applied}}\npassword: {PASSWORD}\n"),
    )
    .unwrap();
    kube.ok("1.33", &["apply", "-f", file]);
    let read = kube.ok("1.33", &["get", "user", "applied", "-o", "json"]);
    assert!(read.contains("last-applied-configuration"), "{read}");
    assert!(!read.contains(PASSWORD), "{read}");

    // The manifest that created the user applies again, changed or not, with either kubectl:
    // its password is ignored with a warning, not refused (review 19 P2).
    for (version, name) in [
        ("1.33", "Ann Applied"),
        ("1.27", "Ann Applied"),
        ("1.27", "Ann B"),
    ] {
        std::fs::write(
            &manifests,
            format!(
                "apiVersion: user.openshift.io/v1\nkind: User\nmetadata: {{name: applied}}\n\
                 fullName: {name}\npassword: {PASSWORD}\n"
            ),
        )
        .unwrap();
        let out = kube.run(version, &["apply", "-f", file]);
        assert!(out.status.success(), "{out:?}");
        let read = kube.ok(version, &["get", "user", "applied", "-o", "json"]);
        assert!(read.contains(name), "{read}");
        assert!(!read.contains(PASSWORD), "{read}");
    }
}
