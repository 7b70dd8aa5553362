//! `kubectl explain` with kubectl 1.27 and 1.33 against the schemas generated from the wire
//! types: a field's description and sub-fields, short names, templates, the error for a field
//! that does not exist; and every kind discovery lists has its schema in its group-version's
//! OpenAPI document, so a new kind cannot be left out.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::Method;
use serde_json::Value;

use crate::kubectl_support::{Kube, VERSIONS};

/// The field names listed under `FIELDS:` (each at the start of an indented line).
fn fields(out: &str) -> Vec<String> {
    out.lines()
        .skip_while(|l| !l.starts_with("FIELDS:"))
        .skip(1)
        .filter(|l| l.starts_with("  ") && !l.starts_with("    "))
        .filter_map(|l| l.split_whitespace().next())
        .map(|f| f.trim_end_matches(':').to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_explain_prints_a_stream_s_tags_with_their_description_and_fields() {
    let kube = Kube::start().await;
    for v in VERSIONS {
        let out = kube.ok(v, &["explain", "imagestream.spec.tags"]);
        assert!(
            out.contains("KIND:") && out.contains("ImageStream"),
            "{v}: {out}"
        );
        assert!(out.contains("FIELD: tags"), "{v}: {out}");
        assert!(
            out.contains("The tags the user asked for"),
            "{v}: the field's doc comment is its description: {out}"
        );
        let listed = fields(&out);
        for field in [
            "from",
            "name",
            "importPolicy",
            "referencePolicy",
            "annotations",
        ] {
            assert!(
                listed.iter().any(|f| f == field),
                "{v}: no {field} in {listed:?}\n{out}"
            );
        }
        // One level further, through the reference.
        let out = kube.ok(v, &["explain", "is.spec.tags.from"]);
        assert!(out.contains("DockerImage"), "{v}: {out}");
        assert!(fields(&out).iter().any(|f| f == "kind"), "{v}: {out}");
    }
}

/// Each field listed under `FIELDS:` with the words printed beneath it (empty: none).
fn described(out: &str) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = Vec::new();
    for line in out
        .lines()
        .skip_while(|l| !l.starts_with("FIELDS:"))
        .skip(1)
    {
        if line.starts_with("    ") {
            if let Some((_, text)) = found.last_mut() {
                text.push_str(line.trim());
                text.push(' ');
            }
        } else if let Some(name) = line
            .strip_prefix("  ")
            .and_then(|l| l.split_whitespace().next())
        {
            found.push((name.trim_end_matches(':').to_owned(), String::new()));
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_explain_describes_every_field_of_a_stream_s_tags() {
    let kube = Kube::start().await;
    for v in VERSIONS {
        for path in [
            "imagestream.spec.tags",
            "imagestream.spec.tags.importPolicy",
            "imagestream.status.tags",
        ] {
            let out = kube.ok(v, &["explain", path]);
            let fields = described(&out);
            assert!(fields.len() >= 3, "{v} {path}: {fields:?}\n{out}");
            for (field, text) in &fields {
                assert!(
                    !text.trim().is_empty() && !text.contains("<no description>"),
                    "{v}: {path}.{field} has no description:\n{out}"
                );
            }
        }
        let out = kube.ok(v, &["explain", "imagestream.spec.tags"]);
        let words = out.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            words.contains("The tag's name (`latest`, `3.3`): required in a stream's spec"),
            "{v}: the name's doc comment is its description: {out}"
        );
        let out = kube.ok(v, &["explain", "imagestream.spec.tags.importPolicy"]);
        let words = out.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            words.contains("Re-import the tag periodically, so it follows the source tag"),
            "{v}: {out}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_explain_answers_to_short_names_and_templates() {
    let kube = Kube::start().await;
    for v in VERSIONS {
        let out = kube.ok(v, &["explain", "is"]);
        assert!(out.contains("image.openshift.io"), "{v}: {out}");
        assert!(out.contains("A named stream of tags"), "{v}: {out}");
        let listed = fields(&out);
        for field in ["apiVersion", "kind", "metadata", "spec", "status"] {
            assert!(
                listed.iter().any(|f| f == field),
                "{v}: no {field} in {out}"
            );
        }

        let out = kube.ok(v, &["explain", "template.parameters"]);
        assert!(out.contains("template.openshift.io"), "{v}: {out}");
        assert!(out.contains("substituted for"), "{v}: {out}");
        let listed = fields(&out);
        for field in ["name", "value", "generate", "from", "required"] {
            assert!(
                listed.iter().any(|f| f == field),
                "{v}: no {field} in {out}"
            );
        }

        let out = kube.run(v, &["explain", "imagestream.spec.nosuchfield"]);
        assert!(!out.status.success(), "{v}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(r#"field "nosuchfield" does not exist"#),
            "{v}: {err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_discovered_kind_has_a_schema_in_its_group_version_document() {
    let kube = Kube::start().await;
    let index = kube.api(Method::GET, "/openapi/v3", None).await;
    let groups = kube.api(Method::GET, "/apis", None).await;
    let mut group_versions = vec!["v1".to_owned()];
    for g in groups["groups"].as_array().unwrap() {
        for v in g["versions"].as_array().unwrap() {
            group_versions.push(v["groupVersion"].as_str().unwrap().to_owned());
        }
    }
    let mut checked = 0;
    for gv in &group_versions {
        let (discovery, doc_path) = match gv.as_str() {
            "v1" => ("/api/v1".to_owned(), "api/v1".to_owned()),
            gv => (format!("/apis/{gv}"), format!("apis/{gv}")),
        };
        let url = index["paths"][&doc_path]["serverRelativeURL"]
            .as_str()
            .unwrap_or_else(|| panic!("/openapi/v3 has no {doc_path}: {index}"));
        let doc = kube.api(Method::GET, url, None).await;
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let has = |kind: &str| {
            schemas.values().any(|s| {
                s["x-kubernetes-group-version-kind"]
                    .as_array()
                    .is_some_and(|l| l.iter().any(|k| k["kind"] == kind))
            })
        };
        let list = kube.api(Method::GET, &discovery, None).await;
        for r in list["resources"].as_array().unwrap() {
            let (name, kind) = (r["name"].as_str().unwrap(), r["kind"].as_str().unwrap());
            if name.contains('/') {
                continue; // a subresource: its kind is the parent's or its own resource's
            }
            assert!(has(kind), "{gv} {name}: no schema for {kind} in {doc_path}");
            let listable = r["verbs"].as_array().unwrap().iter().any(|v| v == "list");
            if listable {
                assert!(has(&format!("{kind}List")), "{gv}: no {kind}List");
            }
            checked += 1;
        }
    }
    assert!(checked >= 15, "only {checked} kinds discovered");
}

#[tokio::test(flavor = "multi_thread")]
async fn openapi_documents_are_bounded_cached_and_versioned() {
    let kube = Kube::start().await;
    let base = kube.server.as_ref().unwrap().base.clone();
    let client = crate::support::client_with_token(crate::support::ADMIN_TOKEN);
    let index: Value = kube.api(Method::GET, "/openapi/v3", None).await;
    let url = index["paths"]["apis/image.openshift.io/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap()
        .to_owned();
    let first = client.get(format!("{base}{url}")).send().await.unwrap();
    assert_eq!(first.status(), 200);
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert!(
        url.ends_with(&format!("hash={}", etag.trim_matches('"'))),
        "{url} {etag}"
    );
    assert!(
        first.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let body = first.bytes().await.unwrap();
    assert!(body.len() < 256 * 1024, "{} bytes", body.len());
    let again = client
        .get(format!("{base}{url}"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    for (path, doc) in index["paths"].as_object().unwrap() {
        let url = doc["serverRelativeURL"].as_str().unwrap();
        let resp = client.get(format!("{base}{url}")).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        let len = resp.bytes().await.unwrap().len();
        assert!(len < 256 * 1024, "{path}: {len} bytes");
    }
}
