//! `--dry-run=server` with kubectl 1.27 and 1.33: create, replace, patch and delete of image
//! streams and templates are checked and answered as they would be stored, and nothing changes;
//! a dry run is authorized as the write is.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::Method;
use serde_json::Value;
use tagstream_shared::paths;

use crate::kubectl_support::{Kube, VERSIONS};
use crate::support::{fixtures, stream_json};

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_dry_run_server_checks_writes_and_stores_nothing() {
    let kube = Kube::start().await;
    kube.create_project("dry").await;
    kube.api(
        Method::POST,
        &paths::imagestreams("dry"),
        Some(stream_json("ruby", "latest", "quay.io/x/ruby:3")),
    )
    .await;
    let template = fixtures().join("openshift-library/templates/nginx-example.json");
    let template = template.to_str().unwrap();
    kube.ok("1.33", &["create", "-n", "dry", "-f", template]);
    let stream_before = kube
        .api(Method::GET, &paths::imagestream("dry", "ruby"), None)
        .await;
    let template_path = format!("{}/nginx-example", paths::templates("dry"));
    let template_before = kube.api(Method::GET, &template_path, None).await;
    let new_stream = kube.dir().join("new-stream.json");
    std::fs::write(
        &new_stream,
        stream_json("perl", "5", "quay.io/x/perl:5").to_string(),
    )
    .unwrap();
    let new_stream = new_stream.to_str().unwrap();
    let viewer = kube.user_with_role("vera", "dry", "view").await;
    for v in VERSIONS {
        let dry = "--dry-run=server";
        let out = kube.ok(v, &["create", "-n", "dry", "-f", new_stream, dry]);
        assert_eq!(
            out.trim(),
            "imagestream.image.openshift.io/perl created (server dry run)",
            "{v}"
        );
        let gone = kube.run(v, &["get", "is", "perl", "-n", "dry"]);
        assert!(!gone.status.success(), "{v}: the dry run stored nothing");
        // A name already taken is refused, as the real create would be.
        let taken = kube.run(v, &["create", "-n", "dry", "-f", template, dry]);
        assert!(
            String::from_utf8_lossy(&taken.stderr).contains("AlreadyExists"),
            "{v}: {taken:?}"
        );

        let out = kube.ok(v, &["label", "is", "ruby", "-n", "dry", "team=web", dry]);
        assert!(out.contains("labeled (server dry run)"), "{v}: {out}");
        let out = kube.ok(
            v,
            &[
                "patch",
                "template",
                "nginx-example",
                "-n",
                "dry",
                "--type",
                "merge",
                "-p",
                r#"{"message":"changed"}"#,
                dry,
                "-o",
                "jsonpath={.message}",
            ],
        );
        assert_eq!(out, "changed", "{v}: the answer is what would be stored");
        // An invalid change is refused by the same validation.
        let bad = kube.run(
            v,
            &[
                "patch",
                "is",
                "ruby",
                "-n",
                "dry",
                "--type",
                "json",
                "-p",
                r#"[{"op":"replace","path":"/spec/tags/0/name","value":"Not A Tag!"}]"#,
                dry,
            ],
        );
        assert!(
            String::from_utf8_lossy(&bad.stderr).contains("Invalid"),
            "{v}: {bad:?}"
        );

        let out = replace_dry_run(&kube, v);
        assert!(out.contains("replaced (server dry run)"), "{v}: {out}");

        let out = kube.ok(v, &["delete", "is", "ruby", "-n", "dry", dry]);
        assert!(out.contains("deleted (server dry run)"), "{v}: {out}");
        let out = kube.ok(
            v,
            &["delete", "template", "nginx-example", "-n", "dry", dry],
        );
        assert!(out.contains("deleted (server dry run)"), "{v}: {out}");
        // Authorized before anything: a viewer's dry-run delete is refused.
        let out = kube.run_as(v, &viewer, &["delete", "is", "ruby", "-n", "dry", dry]);
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("Forbidden"),
            "{v}: {out:?}"
        );
    }
    let stream_after = kube
        .api(Method::GET, &paths::imagestream("dry", "ruby"), None)
        .await;
    // The importer keeps writing the stream's status (its retries); what the user wrote is
    // the spec and the metadata.
    assert_eq!(
        stream_after["spec"], stream_before["spec"],
        "no dry run changed the stream"
    );
    assert_eq!(stream_after["metadata"]["labels"], Value::Null);
    assert_eq!(stream_after["metadata"]["annotations"], Value::Null);
    assert_eq!(
        stream_after["metadata"]["uid"],
        stream_before["metadata"]["uid"]
    );
    let template_after = kube.api(Method::GET, &template_path, None).await;
    assert_eq!(
        template_after, template_before,
        "no dry run changed the template"
    );
}

/// `kubectl replace --dry-run=server` of the stream as just read, with an annotation added. The
/// importer keeps writing the stream's status (its retries), so the version read may be gone by
/// the time the replace arrives: a 409 then, which a user answers by reading again, as this does
/// (a few times; each try is a fresh read).
fn replace_dry_run(kube: &Kube, v: &str) -> String {
    let file = kube.dir().join(format!("replace-{v}.json"));
    let mut last = None;
    for _ in 0..5 {
        let out = kube.ok(v, &["get", "is", "ruby", "-n", "dry", "-o", "json"]);
        let mut stream: Value = serde_json::from_str(&out).unwrap();
        stream["metadata"]["annotations"] = serde_json::json!({"replaced": "yes"});
        std::fs::write(&file, stream.to_string()).unwrap();
        let out = kube.run(
            v,
            &["replace", "-f", file.to_str().unwrap(), "--dry-run=server"],
        );
        if out.status.success() {
            return String::from_utf8_lossy(&out.stdout).into_owned();
        }
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(stderr.contains("Conflict"), "{v}: {out:?}");
        last = Some(stderr);
    }
    panic!("{v}: the replace met a newer version five times in a row: {last:?}");
}
