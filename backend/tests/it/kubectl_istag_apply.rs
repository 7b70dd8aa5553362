//! `kubectl apply --server-side` of image stream tags with kubectl 1.27 and 1.33 (issue 14):
//! applying a tag creates it (and its stream), applying the same file again writes nothing,
//! another tag applied by the same manager is kept apart, another manager naming the tag's
//! source with another value is refused with kubectl's conflict message naming `.tag.from.name`
//! until it forces, and `kubectl get istag --show-managed-fields` shows both managers. A field
//! the tag does not have is refused under kubectl's default `--validate=strict`, a
//! `kubectl patch istag` is a manager a later apply conflicts with, and a deleted tag's fields
//! leave their managers.

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
        "tag": {"from": {"kind": "DockerImage", "name": from}}
    })
}

fn said(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr).replace("\\\"", "\"")
    )
}

async fn stream(kube: &Kube, ns: &str) -> Value {
    kube.api(Method::GET, &paths::imagestream(ns, "ruby"), None)
        .await
}

/// The stream's resourceVersion once it has not changed for a second.
async fn settled(kube: &Kube, ns: &str) -> Value {
    let deadline = std::time::Instant::now() + crate::support::PATIENCE;
    let mut version = stream(kube, ns).await["metadata"]["resourceVersion"].clone();
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let now = stream(kube, ns).await["metadata"]["resourceVersion"].clone();
        if now == version {
            return version;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the stream never settled"
        );
        version = now;
    }
}

fn source(stream: &Value, tag: &str) -> String {
    stream["spec"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == tag)
        .map(|t| t["from"]["name"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no tag {tag} in {stream}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_server_side_apply_of_a_stream_tag_creates_conflicts_and_forces() {
    let kube = Kube::start().await;
    for v in VERSIONS {
        let ns = format!("istag-ssa-{}", v.replace('.', "-"));
        kube.create_project(&ns).await;
        let apply = |file: &str, body: Value, extra: &[&str]| {
            let path = kube.dir().join(format!("{file}-{v}.json"));
            std::fs::write(&path, body.to_string()).unwrap();
            let path = path.to_str().unwrap().to_owned();
            let mut args = vec!["apply", "--server-side", "-n", ns.as_str(), "-f", &path];
            args.extend_from_slice(extra);
            kube.run(v, &args)
        };

        // A tag of a stream that does not exist yet: both are created.
        let latest = istag("ruby:latest", "quay.io/x/ruby:1");
        let out = apply("latest", latest.clone(), &[]);
        assert!(out.status.success(), "{v}: {}", said(&out));
        assert!(
            said(&out).contains("imagestreamtag.image.openshift.io/ruby:latest serverside-applied"),
            "{v}: {}",
            said(&out)
        );
        let stored = stream(&kube, &ns).await;
        assert_eq!(source(&stored, "latest"), "quay.io/x/ruby:1", "{v}");
        // The import worker records its (failed) attempt at the new tag; then, for a few
        // seconds of backoff, only a write by the apply would change the version.
        let version = settled(&kube, &ns).await;

        // The same file again: nothing changes, nothing is written.
        let out = apply("latest", latest.clone(), &[]);
        assert!(out.status.success(), "{v}: {}", said(&out));
        let stored = stream(&kube, &ns).await;
        assert_eq!(
            stored["metadata"]["resourceVersion"], version,
            "{v}: unchanged"
        );

        // A new tag of the existing stream by the same manager: the first stays as it was.
        let out = apply("three", istag("ruby:3.3", "quay.io/x/ruby:3.3"), &[]);
        assert!(out.status.success(), "{v}: {}", said(&out));
        let stored = stream(&kube, &ns).await;
        assert_eq!(source(&stored, "3.3"), "quay.io/x/ruby:3.3", "{v}");
        assert_eq!(source(&stored, "latest"), "quay.io/x/ruby:1", "{v}");

        // Another manager moving `latest`: a conflict naming the manager and the tag's field.
        let moved = istag("ruby:latest", "quay.io/x/ruby:2");
        let out = apply("moved", moved.clone(), &["--field-manager", "ci"]);
        assert!(!out.status.success(), "{v}: {}", said(&out));
        let err = said(&out);
        assert!(
            err.contains("conflict") && err.contains("\"kubectl\""),
            "{v}: {err}"
        );
        assert!(err.contains(".tag.from.name"), "{v}: {err}");
        let stored = stream(&kube, &ns).await;
        assert_eq!(
            source(&stored, "latest"),
            "quay.io/x/ruby:1",
            "{v}: a refused apply changes nothing"
        );

        // Forced, it takes the field over.
        let out = apply(
            "moved",
            moved,
            &["--field-manager", "ci", "--force-conflicts"],
        );
        assert!(out.status.success(), "{v}: {}", said(&out));
        let stored = stream(&kube, &ns).await;
        assert_eq!(source(&stored, "latest"), "quay.io/x/ruby:2", "{v}");
        assert_eq!(source(&stored, "3.3"), "quay.io/x/ruby:3.3", "{v}");

        // The tag shows both managers of its fields, named as the tag names them.
        let yaml = kube.ok(
            v,
            &[
                "get",
                "istag",
                "ruby:latest",
                "-n",
                &ns,
                "-o",
                "yaml",
                "--show-managed-fields",
            ],
        );
        for expected in [
            "manager: ci",
            "manager: kubectl",
            "operation: Apply",
            "f:tag:",
        ] {
            assert!(yaml.contains(expected), "{v}: {expected} in {yaml}");
        }
        let json: Value = serde_json::from_str(&kube.ok(
            v,
            &[
                "get",
                "istag",
                "ruby:latest",
                "-n",
                &ns,
                "-o",
                "json",
                "--show-managed-fields",
            ],
        ))
        .unwrap();
        let managed = json["metadata"]["managedFields"].as_array().unwrap();
        let ci = managed.iter().find(|e| e["manager"] == "ci").unwrap();
        assert_eq!(
            ci["fieldsV1"]["f:tag"]["f:from"]["f:name"],
            json!({}),
            "{v}: {json:#}"
        );
        let first = managed.iter().find(|e| e["manager"] == "kubectl").unwrap();
        assert!(
            first["fieldsV1"]["f:tag"]["f:from"].get("f:name").is_none(),
            "{v}: the forced field left its first manager: {json:#}"
        );

        // The first manager applying its old value now conflicts with "ci".
        let out = apply("latest", latest, &[]);
        assert!(!out.status.success(), "{v}: {}", said(&out));
        assert!(said(&out).contains("\"ci\""), "{v}: {}", said(&out));

        // A deleted tag's fields leave their managers: applied again, it is nobody's yet.
        kube.ok(v, &["delete", "istag", "ruby:3.3", "-n", &ns]);
        let out = apply(
            "again",
            istag("ruby:3.3", "quay.io/x/ruby:3.3.2"),
            &["--field-manager", "ci"],
        );
        assert!(out.status.success(), "{v}: {}", said(&out));
        let stored = stream(&kube, &ns).await;
        assert_eq!(source(&stored, "3.3"), "quay.io/x/ruby:3.3.2", "{v}");

        // A field the tag does not have is refused (kubectl's default `--validate=strict`).
        let mut unknown = istag("ruby:4", "quay.io/x/ruby:4");
        unknown["tag"]["colour"] = json!("red");
        let out = apply("unknown", unknown, &[]);
        assert!(!out.status.success(), "{v}: {}", said(&out));
        assert!(
            said(&out).contains("unknown field \"tag.colour\""),
            "{v}: {}",
            said(&out)
        );
        // `kubectl patch istag` is a manager of what it changes (operation Update): applying
        // the old value over its change conflicts with it.
        let patch = r#"{"tag":{"from":{"kind":"DockerImage","name":"quay.io/x/ruby:3.3.9"}}}"#;
        kube.ok(
            v,
            &[
                "patch", "istag", "ruby:3.3", "-n", &ns, "--type", "merge", "-p", patch,
            ],
        );
        let out = apply("three", istag("ruby:3.3", "quay.io/x/ruby:3.3"), &[]);
        assert!(!out.status.success(), "{v}: {}", said(&out));
        assert!(
            said(&out).contains("\"kubectl-patch\""),
            "{v}: {}",
            said(&out)
        );

        let stored = stream(&kube, &ns).await;
        assert_eq!(source(&stored, "3.3"), "quay.io/x/ruby:3.3.9", "{v}");
        assert!(
            stored["spec"]["tags"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t["name"] != "4"),
            "{v}: nothing stored"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_viewer_may_not_apply_a_stream_tag() {
    let kube = Kube::start().await;
    let ns = "istag-ssa-view";
    kube.create_project(ns).await;
    let token = kube.user_with_role("vee", ns, "view").await;
    let file = kube.dir().join("tag.json");
    std::fs::write(&file, istag("ruby:latest", "quay.io/x/evil:1").to_string()).unwrap();
    for v in VERSIONS {
        let out = kube.run_as(
            v,
            &token,
            &[
                "apply",
                "--server-side",
                "-n",
                ns,
                "-f",
                file.to_str().unwrap(),
            ],
        );
        assert!(!out.status.success(), "{v}: {}", said(&out));
        assert!(said(&out).contains("orbidden"), "{v}: {}", said(&out));
    }
    let out = kube.run(VERSIONS[0], &["get", "is", "ruby", "-n", ns]);
    assert!(!out.status.success(), "nothing was created");
}

/// Bad applies of a tag get a Status naming what is wrong, and a conflict is a 409 Status
/// with a cause per field, named as the tag names it.
#[tokio::test(flavor = "multi_thread")]
async fn a_bad_or_conflicting_stream_tag_apply_is_answered_with_a_status() {
    use crate::support::{ADMIN_TOKEN, client_with_token};
    let kube = Kube::start().await;
    let ns = "istag-ssa-bad";
    kube.create_project(ns).await;
    let base = kube.server.as_ref().unwrap().base.clone();
    let client = client_with_token(ADMIN_TOKEN);
    let send = |query: &'static str, body: String| {
        client
            .patch(format!(
                "{base}/apis/image.openshift.io/v1/namespaces/{ns}/imagestreamtags/ruby:latest{query}"
            ))
            .header("Content-Type", "application/apply-patch+yaml")
            .body(body)
            .send()
    };
    let good = istag("ruby:latest", "quay.io/x/ruby:1");
    let mut no_tag = good.clone();
    no_tag["tag"] = Value::Null;
    let mut odd_tag = good.clone();
    odd_tag["tag"] = json!("latest");
    let mut renamed = good.clone();
    renamed["tag"]["name"] = json!("other");
    let mut kind = good.clone();
    kind["kind"] = json!("ImageStream");
    for (query, body, code) in [
        ("", good.to_string(), 400),
        ("?fieldManager=a", "- a list".to_owned(), 400),
        ("?fieldManager=a", "{not yaml: [".to_owned(), 400),
        // Another kind is refused as by every write: 422 naming `kind`.
        ("?fieldManager=a", kind.to_string(), 422),
        (
            "?fieldManager=a",
            istag("ruby:other", "x:1").to_string(),
            400,
        ),
        ("?fieldManager=a", odd_tag.to_string(), 400),
        ("?fieldManager=a", no_tag.to_string(), 422),
        ("?fieldManager=a", renamed.to_string(), 422),
        ("?fieldManager=a&force=maybe", good.to_string(), 400),
    ] {
        let resp = send(query, body.clone()).await.unwrap();
        assert_eq!(resp.status().as_u16(), code, "{query} {body}");
        let status: Value = resp.json().await.unwrap();
        assert_eq!(status["kind"], "Status", "{status}");
    }
    let resp = send("?fieldManager=a", good.to_string()).await.unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let moved = istag("ruby:latest", "quay.io/x/ruby:2").to_string();
    let resp = send("?fieldManager=b", moved.clone()).await.unwrap();
    assert_eq!(resp.status().as_u16(), 409);
    let status: Value = resp.json().await.unwrap();
    assert_eq!(status["reason"], "Conflict", "{status}");
    let cause = &status["details"]["causes"][0];
    assert_eq!(cause["reason"], "FieldManagerConflict", "{status}");
    assert_eq!(cause["field"], ".tag.from.name", "{status}");
    assert!(
        cause["message"].as_str().unwrap().contains("\"a\""),
        "{status}"
    );
    let resp = send("?fieldManager=b&force=true", moved).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let tag: Value = resp.json().await.unwrap();
    assert_eq!(tag["tag"]["from"]["name"], "quay.io/x/ruby:2", "{tag}");
    // The stream shows the tag's appliers with the tag they applied through.
    let stored = stream(&kube, ns).await;
    let subresources: Vec<&str> = stored["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["subresource"].as_str())
        .collect();
    assert_eq!(
        subresources,
        ["imagestreamtags/ruby:latest", "imagestreamtags/ruby:latest"],
        "{stored:#}"
    );
}

/// Each tag's appliers are counted apart: one manager applies more tags of a stream than the
/// per-scope bound on managers, and managers piled on one tag do not stop another tag's apply
/// or the stream's.
#[tokio::test(flavor = "multi_thread")]
async fn one_manager_applies_forty_tags_and_a_crowded_tag_stops_no_other() {
    use crate::support::{ADMIN_TOKEN, client_with_token};
    let kube = Kube::start().await;
    let ns = "istag-ssa-many";
    kube.create_project(ns).await;
    let base = kube.server.as_ref().unwrap().base.clone();
    let client = client_with_token(ADMIN_TOKEN);
    let apply = |tag: String, manager: String, body: String| {
        client
            .patch(format!(
                "{base}/apis/image.openshift.io/v1/namespaces/{ns}/imagestreamtags/ruby:{tag}?fieldManager={manager}"
            ))
            .header("Content-Type", "application/apply-patch+yaml")
            .body(body)
            .send()
    };
    for i in 0..40 {
        let body = istag(&format!("ruby:t{i}"), "quay.io/x/ruby:1").to_string();
        let resp = apply(format!("t{i}"), "kubectl".into(), body)
            .await
            .unwrap();
        assert!(
            resp.status().is_success(),
            "tag {i}: {}",
            resp.text().await.unwrap()
        );
    }
    // 32 managers on t0 (the same value: no conflicts); the 33rd is refused there alone.
    let same = istag("ruby:t0", "quay.io/x/ruby:1").to_string();
    for m in 1..32 {
        let resp = apply("t0".into(), format!("squat{m}"), same.clone())
            .await
            .unwrap();
        assert!(resp.status().is_success(), "manager {m}");
    }
    let resp = apply("t0".into(), "squat32".into(), same).await.unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let resp = apply(
        "fresh".into(),
        "ci".into(),
        istag("ruby:fresh", "quay.io/x/ruby:2").to_string(),
    )
    .await
    .unwrap();
    assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
    let tags = stream(&kube, ns).await["spec"]["tags"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(tags, 41);
}
