//! Labels and annotations follow Kubernetes' rules whichever verb brings them: a create, a
//! replace, a merge patch or a JSON patch (the attack review found bad label keys slipping in
//! through patches; nothing checked them anywhere). A refusal is a 422 naming the field, and the
//! stored object stays as it was.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tagstream_shared::paths;

use crate::support::{TestApp, assert_status, stream_json};

/// The 422's causes' fields.
pub(crate) fn fields(body: Value) -> Vec<String> {
    let status = assert_status(body, StatusCode::UNPROCESSABLE_ENTITY, "Invalid");
    status
        .details
        .expect("details")
        .causes
        .into_iter()
        .filter_map(|c| c.field)
        .collect()
}

#[tokio::test]
async fn a_bad_label_or_annotation_is_refused_by_every_verb_and_changes_nothing() {
    let app = TestApp::start().await;
    app.create_project("demo").await;
    let path = paths::imagestream("demo", "ruby");

    let mut bad = stream_json("ruby", "latest", "quay.io/demo/ruby:3.3");
    bad["metadata"]["labels"] = json!({"bad key": "x"});
    let (code, body) = app.post(&paths::imagestreams("demo"), &bad).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(body), ["metadata.labels[bad key]"]);
    let (code, _) = app.get(&path).await;
    assert_eq!(
        code,
        StatusCode::NOT_FOUND,
        "a refused create stores nothing"
    );

    let mut good = stream_json("ruby", "latest", "quay.io/demo/ruby:3.3");
    good["metadata"]["labels"] = json!({"app.kubernetes.io/name": "ruby", "tier": ""});
    good["metadata"]["annotations"] = json!({"openshift.io/display-name": "Ruby, any text"});
    app.create_stream("demo", &good).await;
    let (_, before) = app.get(&path).await;

    let mut replaced = before.clone();
    replaced["metadata"]["labels"]["team"] = json!("two words");
    let (code, body) = app.put(&path, &replaced).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(body), ["metadata.labels[team]"]);

    let merge = json!({"metadata": {"annotations": {"Example.com/x": "y"}}}).to_string();
    let (code, body) = app
        .send_raw(Method::PATCH, &path, "application/merge-patch+json", &merge)
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(body), ["metadata.annotations"]);

    // `~1` is `/`: the key JSON patch adds is `a/b/c`, two slashes, no qualified name.
    let json_patch =
        json!([{"op": "add", "path": "/metadata/labels/a~1b~1c", "value": "v"}]).to_string();
    let (code, body) = app
        .send_raw(
            Method::PATCH,
            &path,
            "application/json-patch+json",
            &json_patch,
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(body), ["metadata.labels[a/b/c]"]);

    let (_, after) = app.get(&path).await;
    assert_eq!(
        after, before,
        "a refused change leaves the stream as it was"
    );

    // Templates go through the generic handlers: the same rule holds there.
    let template = json!({
        "kind": "Template", "apiVersion": "template.openshift.io/v1",
        "metadata": {"name": "t", "labels": {"-x": "y"}}, "objects": []
    });
    let (code, body) = app.post(&paths::templates("demo"), &template).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(body), ["metadata.labels[-x]"]);
    app.stop().await;
}

/// A protobuf field: tag, length, bytes.
pub(crate) fn pb(field: u8, data: &[u8]) -> Vec<u8> {
    let mut out = vec![(field << 3) | 2];
    let mut n = data.len();
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            break;
        }
        out.push(b | 0x80);
    }
    out.extend_from_slice(data);
    out
}

#[tokio::test]
async fn a_namespace_sent_as_protobuf_is_held_to_the_same_label_rules() {
    let app = TestApp::start().await;
    let entry = [pb(1, b"bad key!"), pb(2, b"v")].concat();
    let meta = [pb(1, b"pbns"), pb(11, &entry)].concat();
    let type_meta = [pb(1, b"v1"), pb(2, b"Namespace")].concat();
    let body = [b"k8s\0".to_vec(), pb(1, &type_meta), pb(2, &pb(1, &meta))].concat();
    let resp = crate::support::client_with_token(crate::support::ADMIN_TOKEN)
        .post(app.url("/api/v1/namespaces"))
        .header("Content-Type", "application/vnd.kubernetes.protobuf")
        .body(body)
        .send()
        .await
        .expect("answered");
    let code = resp.status();
    let answer: Value = resp.json().await.expect("a Status");
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(fields(answer), ["metadata.labels[bad key!]"]);
    let (code, _) = app.get(&paths::project("pbns")).await;
    assert_eq!(code, StatusCode::NOT_FOUND, "no project was made");
    app.stop().await;
}

#[tokio::test]
async fn the_database_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let fresh = dir.path().join("fresh.db");
    tagstream_backend::store::SqliteStore::open(&fresh)
        .await
        .expect("opens");
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("exists").permissions().mode() & 0o777;
    assert_eq!(
        mode(&fresh),
        0o600,
        "a new database holds the server's keys"
    );
    // One made by an older version, readable by all, is made private on opening.
    let old = dir.path().join("old.db");
    std::fs::write(&old, b"").expect("written");
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    tagstream_backend::store::SqliteStore::open(&old)
        .await
        .expect("opens");
    assert_eq!(mode(&old), 0o600);
}
