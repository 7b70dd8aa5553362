//! Unmodified kubectl 1.27 and 1.33 against the real server: discovery (`api-resources`),
//! `get` printed with OpenShift's columns, `apply`, `label`, selectors, chunked lists, `get -w`,
//! `explain`, `delete`, and a viewer refused a delete.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use std::io::{BufRead as _, BufReader};
use std::process::Stdio;
use std::time::Duration;

use reqwest::Method;
use tagstream_shared::paths;

use crate::kubectl_support::{Kube, VERSIONS};
use crate::support::{fixtures, stream_json};

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

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_api_resources_lists_every_kind_with_openshifts_short_names() {
    let kube = Kube::start().await;
    for v in VERSIONS {
        let out = kube.ok(v, &["api-resources"]);
        for (name, short) in [
            ("imagestreams", "is"),
            ("imagestreamtags", "istag"),
            ("imagestreamimages", "isimage"),
        ] {
            let line = out.lines().find(|l| l.starts_with(&format!("{name} ")));
            let line = line.unwrap_or_else(|| panic!("kubectl {v}: no {name} in\n{out}"));
            assert!(line.contains(&format!(" {short} ")), "kubectl {v}: {line}");
            assert!(
                line.contains("image.openshift.io/v1"),
                "kubectl {v}: {line}"
            );
        }
        for name in ["templates", "projects", "rolebindings", "triggers"] {
            assert!(
                out.lines().any(|l| l.starts_with(&format!("{name} "))),
                "kubectl {v}: no {name} in\n{out}"
            );
        }
        assert!(!out.lines().any(|l| l.starts_with("tokens ")), "{out}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_applies_gets_labels_and_deletes_an_openshift_library_stream() {
    let kube = Kube::start().await;
    let file = fixtures().join("openshift-library/imagestreams/ruby-rhel.json");
    let file = file.to_str().unwrap();
    for v in VERSIONS {
        let ns = format!("demo-{}", v.replace('.', "-"));
        kube.create_project(&ns).await;
        let ns = ns.as_str();
        let out = kube.ok(v, &["apply", "-n", ns, "-f", file]);
        assert_eq!(
            out.trim(),
            "imagestream.image.openshift.io/ruby created",
            "{v}"
        );
        // The server fills defaults into the tags, so the list differs and kubectl patches it.
        let out = kube.ok(v, &["apply", "-n", ns, "-f", file]);
        assert!(
            out.contains("imagestream.image.openshift.io/ruby"),
            "{v}: {out}"
        );

        let out = kube.ok(v, &["get", "is", "-n", ns]);
        assert_eq!(
            header(&out),
            ["NAME", "IMAGE REPOSITORY", "TAGS", "UPDATED"],
            "{v}: {out}"
        );
        let row = out.lines().nth(1).unwrap_or_default();
        assert!(row.starts_with("ruby "), "{v}: {out}");
        assert!(row.contains("more..."), "{v}: eight tags are cut: {out}");

        let out = kube.ok(v, &["get", "istag", "-n", ns]);
        assert_eq!(
            header(&out),
            ["NAME", "IMAGE REFERENCE", "UPDATED"],
            "{v}: {out}"
        );
        assert_eq!(
            out.lines().filter(|l| l.starts_with("ruby:")).count(),
            8,
            "{v}: {out}"
        );

        let out = kube.ok(
            v,
            &[
                "get",
                "imagestream",
                "ruby",
                "-n",
                ns,
                "-o",
                "jsonpath={.spec.tags[0].name}",
            ],
        );
        assert_eq!(out, "2.5-ubi8", "{v}");
        let out = kube.ok(v, &["get", "is", "ruby", "-n", ns, "-o", "json"]);
        let json: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(json["kind"], "ImageStream", "{v}");

        let out = kube.ok(v, &["label", "is", "ruby", "-n", ns, "team=web"]);
        assert!(out.contains("labeled"), "{v}: {out}");
        let out = kube.ok(v, &["get", "is", "-n", ns, "-l", "team=web", "-o", "name"]);
        assert_eq!(out.trim(), "imagestream.image.openshift.io/ruby", "{v}");
        let out = kube.ok(v, &["get", "is", "-n", ns, "-l", "team!=web", "-o", "name"]);
        assert_eq!(out.trim(), "", "{v}");
        let out = kube.ok(
            v,
            &[
                "get",
                "is",
                "-n",
                ns,
                "--field-selector",
                "metadata.name=perl",
                "-o",
                "name",
            ],
        );
        assert_eq!(out.trim(), "", "{v}");

        let out = kube.ok(v, &["get", "templates", "-n", "openshift"]);
        assert_eq!(
            header(&out),
            ["NAME", "DESCRIPTION", "PARAMETERS", "OBJECTS"],
            "{v}: {out}"
        );

        let out = kube.ok(v, &["delete", "is", "ruby", "-n", ns]);
        assert!(out.contains("\"ruby\" deleted"), "{v}: {out}");
        let gone = kube.run(v, &["get", "is", "ruby", "-n", ns]);
        assert!(!gone.status.success(), "{v}");
        let err = String::from_utf8_lossy(&gone.stderr);
        // kubectl 1.27 then looks the namespace up under /api/v1/namespaces, which is not
        // served yet (namespaces as projects), and reports that instead of the stream.
        assert!(err.contains("NotFound"), "{v}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_viewers_kubectl_reads_but_cannot_delete() {
    let kube = Kube::start().await;
    kube.create_project("shared").await;
    kube.api(
        Method::POST,
        &paths::imagestreams("shared"),
        Some(stream_json("ruby", "latest", "quay.io/x/ruby:3")),
    )
    .await;
    let token = kube.user_with_role("vera", "shared", "view").await;
    for v in VERSIONS {
        let out = kube.run_as(v, &token, &["get", "is", "-n", "shared", "-o", "name"]);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "imagestream.image.openshift.io/ruby",
            "{v}: {out:?}"
        );
        let out = kube.run_as(v, &token, &["delete", "is", "ruby", "-n", "shared"]);
        assert!(!out.status.success(), "{v}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("Forbidden") && err.contains("cannot delete"),
            "{v}: {err}"
        );
    }
    let still = kube
        .api(Method::GET, &paths::imagestream("shared", "ruby"), None)
        .await;
    assert_eq!(still["metadata"]["name"], "ruby");
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_reads_a_list_longer_than_its_chunk_size_in_chunks() {
    let kube = Kube::start().await;
    kube.create_project("many").await;
    for i in 0..7 {
        kube.api(
            Method::POST,
            &paths::imagestreams("many"),
            Some(stream_json(&format!("s{i}"), "latest", "quay.io/x/y:1")),
        )
        .await;
    }
    for v in VERSIONS {
        let out = kube.run(
            v,
            &[
                "get",
                "is",
                "-n",
                "many",
                "--chunk-size=3",
                "-o",
                "name",
                "-v=6",
            ],
        );
        assert!(out.status.success(), "{v}: {out:?}");
        let names: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        let expected: Vec<String> = (0..7)
            .map(|i| format!("imagestream.image.openshift.io/s{i}"))
            .collect();
        assert_eq!(names, expected, "{v}");
        let log = String::from_utf8_lossy(&out.stderr);
        let requests = log
            .lines()
            .filter(|l| l.contains("/namespaces/many/imagestreams?"))
            .count();
        assert_eq!(requests, 3, "{v}: three chunks of at most 3: {log}");
        assert!(log.contains("continue="), "{v}: {log}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_get_watch_prints_a_stream_created_while_it_watches() {
    let kube = Kube::start().await;
    kube.create_project("live").await;
    kube.api(
        Method::POST,
        &paths::imagestreams("live"),
        Some(stream_json("first", "latest", "quay.io/x/y:1")),
    )
    .await;
    for v in VERSIONS {
        let mut child = kube
            .command(
                v,
                crate::support::ADMIN_TOKEN,
                &["get", "is", "-n", "live", "-w"],
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let next = |what: &str| -> String {
            loop {
                match rx.recv_timeout(Duration::from_secs(30)) {
                    Ok(line) if line.starts_with(what) => return line,
                    Ok(_) => {}
                    Err(e) => panic!("kubectl {v} -w never printed {what:?}: {e}"),
                }
            }
        };
        next("first ");
        let name = format!("late-{}", v.replace('.', "-"));
        kube.api(
            Method::POST,
            &paths::imagestreams("live"),
            Some(stream_json(&name, "latest", "quay.io/x/y:2")),
        )
        .await;
        next(&format!("{name} "));
        let _ = child.kill();
        let _ = child.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_explain_finds_the_image_stream_schema() {
    let kube = Kube::start().await;
    for v in VERSIONS {
        let out = kube.ok(v, &["explain", "imagestream"]);
        assert!(out.contains("ImageStream"), "{v}: {out}");
        assert!(out.contains("metadata"), "{v}: {out}");
    }
    assert!(kube.dir().join("kubeconfig").is_file());
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_patch_type_json_and_annotate_change_a_stream() {
    let kube = Kube::start().await;
    kube.create_project("patched").await;
    kube.api(
        Method::POST,
        &paths::imagestreams("patched"),
        Some(stream_json("ruby", "latest", "quay.io/x/ruby:3")),
    )
    .await;
    for v in VERSIONS {
        let tag = format!("v{}", v.replace('.', "-"));
        let patch = format!(
            r#"[{{"op":"add","path":"/spec/tags/-","value":{{"name":"{tag}","from":{{"kind":"DockerImage","name":"quay.io/x/ruby:{tag}"}}}}}}]"#
        );
        let out = kube.ok(
            v,
            &[
                "patch", "is", "ruby", "-n", "patched", "--type", "json", "-p", &patch,
            ],
        );
        assert!(out.contains("patched"), "{v}: {out}");
        let out = kube.ok(
            v,
            &[
                "annotate",
                "is",
                "ruby",
                "-n",
                "patched",
                &format!("note-{tag}=yes"),
            ],
        );
        assert!(out.contains("ruby annotate"), "{v}: {out}");
        let stream = kube
            .api(Method::GET, &paths::imagestream("patched", "ruby"), None)
            .await;
        let tags: Vec<_> = stream["spec"]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].clone())
            .collect();
        assert!(tags.contains(&serde_json::json!(tag)), "{v}: {tags:?}");
        assert_eq!(
            stream["metadata"]["annotations"][format!("note-{tag}")],
            "yes",
            "{v}"
        );
        // A failing operation is refused with a Status and changes nothing.
        let bad = kube.run(
            v,
            &[
                "patch",
                "is",
                "ruby",
                "-n",
                "patched",
                "--type",
                "json",
                "-p",
                r#"[{"op":"remove","path":"/spec/nope"}]"#,
            ],
        );
        assert!(!bad.status.success(), "{v}");
        assert!(
            String::from_utf8_lossy(&bad.stderr).contains("does not apply"),
            "{v}: {bad:?}"
        );
    }
}
