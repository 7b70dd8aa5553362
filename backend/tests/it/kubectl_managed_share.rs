//! The managers' record (`metadata.managedFields`) as review 8 (D1) left it: a record one
//! manager filled to the whole bound before each manager had a share of its own still takes
//! other managers' small writes (a new tag, a one-field apply, a label), the filler's next
//! write is refused naming it and what it holds, and Kubernetes' reset (`managedFields: [{}]`
//! in a merge or JSON patch or a PUT) clears the record before the write is recorded, on
//! image streams, their tags and templates alike; an empty list does not, and a viewer cannot.
//! Review 11 (E1): one editor filling kubectl's default managers' shares on junk tags locks no
//! other kubectl user out, and the writer filling its own share is told the tag (E3): a flood
//! of writes under fresh manager names keeps `ancient-changes` within one share.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use std::process::Output;

use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};
use tagstream_shared::{ImageStream, ProjectName, StreamName, paths};

use crate::kubectl_istag_review::{
    JSON_PATCH, MERGE, apply, istag, patch_as, put_tag_as, rev_app, source, stored,
};
use crate::kubectl_support::{Kube, VERSIONS};
use crate::support::{TestApp, TestUser, decode};

/// The bound past which only managers holding a few fields may add any (2 MiB).
pub(crate) const HARD: usize = 2 << 20;
/// How far past [`HARD`] small managers may take the record (512 KiB more).
pub(crate) const ABSOLUTE: usize = HARD + (512 << 10);

pub(crate) fn record_len(object: &Value) -> usize {
    object["metadata"]["managedFields"].to_string().len()
}

/// Stream `legacy` whose tag `s0` has `n` annotations, all held by "alice" in a record written
/// before each manager had a share (as review 8's alice left hers).
fn legacy(n: usize) -> Value {
    let mut tag = source("quay.io/x/legacy:1");
    tag["name"] = json!("s0");
    let annotations: Map<String, Value> = (0..n)
        .map(|i| (format!("example.com/annotation-{i:08}"), json!("v")))
        .collect();
    let held: Map<String, Value> = annotations
        .keys()
        .map(|k| (format!("f:{k}"), json!({})))
        .collect();
    tag["annotations"] = Value::Object(annotations);
    let fields = json!({"f:spec": {"f:tags": {r#"k:{"name":"s0"}"#: {".": {},
        "f:annotations": held, "f:from": {"f:kind": {}, "f:name": {}}, "f:name": {},
        "f:reference": {}}}}});
    json!({"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
        "metadata": {"name": "legacy", "managedFields": [{"manager": "alice",
            "operation": "Update", "apiVersion": "image.openshift.io/v1",
            "time": "2026-01-01T00:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": fields}]},
        "spec": {"tags": [tag]}})
}

/// Stores `legacy` with its record a hundred bytes or so under `bound` ([`HARD`] or
/// [`ABSOLUTE`]), as no API would now.
pub(crate) async fn seed_full_record(app: &TestApp, bound: usize) -> usize {
    let (l1, l2) = (record_len(&legacy(1_000)), record_len(&legacy(2_000)));
    let per_key = (l2 - l1) / 1_000;
    let n = 1_000 + (bound - 100 - l1) / per_key;
    let body = legacy(n);
    assert!((bound - 200..bound).contains(&record_len(&body)));
    let stream: ImageStream = decode(body);
    let stream =
        tagstream_backend::service::stream_for_create(stream, "rev", tagstream_shared::Time::now());
    let ns: ProjectName = "rev".parse().unwrap();
    let name: StreamName = "legacy".parse().unwrap();
    app.store()
        .create_image_stream(&ns, &name, stream)
        .await
        .unwrap();
    n
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_managed_a_record_one_manager_filled_still_takes_others_small_writes() {
    let (app, users) = rev_app(&[("mallory", "edit"), ("vic", "view")]).await;
    let (mallory, vic) = (&users[0], &users[1]);
    let n = seed_full_record(&app, HARD).await;

    // Another editor's new tag, a new applier's one field, and a label all go in.
    let (code, body) = put_tag_as(
        &app,
        &mallory.client,
        "legacy:m1",
        "mallory",
        "quay.io/x/legacy:2",
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{}", body["message"]);
    let one = istag("legacy:m2", source("quay.io/x/legacy:3"));
    let (code, body) = apply(&app, "legacy:m2", "fieldManager=gitops", &one).await;
    assert_eq!(code, StatusCode::CREATED, "{}", body["message"]);
    let stream_path = paths::imagestream("rev", "legacy");
    let label = json!({"metadata": {"labels": {"team": "b"}}});
    let (code, body) = patch_as(&app, &mallory.client, &stream_path, MERGE, &label).await;
    assert_eq!(code, StatusCode::OK, "{}", body["message"]);
    let stream = stored(&app, "legacy").await;
    assert!((HARD..=ABSOLUTE).contains(&record_len(&stream)));

    // The manager that filled it adds nothing to its full share, and no big write (it holds
    // far more than a small share in all, review 13 H1), told who holds what and the ways out;
    // its small writes (a new tag) go in, as everyone's do (review 16 L1), and another name may
    // still write a new tag.
    let admin = &app.client;
    let s0 = format!(
        "{}?fieldManager=alice",
        paths::imagestreamtag("rev", "legacy", "s0")
    );
    let more = json!({"tag": {"annotations": {"example.com/one-more": "v"}}});
    let (code, body) = patch_as(&app, admin, &s0, MERGE, &more).await;
    assert_eq!(code, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("\"alice\" (Update) 209"), "{message}");
    assert!(message.contains("on tag \"s0\""), "{message}");
    let (code, body) = put_tag_as(&app, admin, "legacy:a1", "alice", "quay.io/x/legacy:4").await;
    assert_eq!(code, StatusCode::CREATED, "{}", body["message"]);
    let mut big = source("quay.io/x/legacy:5");
    big["annotations"] = Value::Object(
        (0..200)
            .map(|i| (format!("example.com/note-{i:04}"), json!("v")))
            .collect(),
    );
    let a2 = format!(
        "{}?fieldManager=alice",
        paths::imagestreamtag("rev", "legacy", "a2")
    );
    let (code, body) = app
        .send_as(admin, Method::PUT, &a2, Some(&istag("legacy:a2", big)))
        .await;
    assert_eq!(code, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("\"alice\" (Update) would hold"),
        "{message}"
    );
    assert!(message.contains("managedFields: [{}]"), "{message}");
    let (code, body) = put_tag_as(&app, admin, "legacy:b1", "bob", "quay.io/x/legacy:4").await;
    assert_eq!(code, StatusCode::CREATED, "{}", body["message"]);
    let stream = stored(&app, "legacy").await;

    // The reset: a viewer may not; an editor clears the record and the data stays.
    let reset = json!([{"op": "replace", "path": "/metadata/managedFields", "value": [{}]}]);
    let (code, body) = patch_as(&app, &vic.client, &stream_path, JSON_PATCH, &reset).await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        record_len(&stored(&app, "legacy").await),
        record_len(&stream)
    );
    let (code, body) = patch_as(&app, &mallory.client, &stream_path, JSON_PATCH, &reset).await;
    assert_eq!(code, StatusCode::OK, "{}", body["message"]);
    let after = stored(&app, "legacy").await;
    assert_eq!(
        after["metadata"]["managedFields"],
        Value::Null,
        "{:#}",
        after["metadata"]
    );
    assert_eq!(after["spec"], stream["spec"]);
    assert_eq!(after["metadata"]["labels"], stream["metadata"]["labels"]);
    let annotations = after["spec"]["tags"][0]["annotations"].as_object().unwrap();
    assert_eq!(annotations.len(), n);
}

/// The (manager, operation, fieldsV1) of each entry of `object`'s record.
fn record(object: &Value) -> Vec<(String, String, Value)> {
    object["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let text = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
            (text("manager"), text("operation"), e["fieldsV1"].clone())
        })
        .collect()
}

fn labels_held(labels: &[&str]) -> Value {
    let held: Map<String, Value> = labels
        .iter()
        .map(|l| (format!("f:{l}"), json!({})))
        .collect();
    json!({"f:metadata": {"f:labels": held}})
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_managed_fields_reset_clears_the_record_and_an_empty_list_does_not() {
    let (app, users) = rev_app(&[("ed", "edit"), ("vic", "view")]).await;
    let (ed, vic) = (&users[0], &users[1]);
    let stream = json!({"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
        "metadata": {"name": "web", "labels": {"a": "1"}},
        "spec": {"tags": [{"name": "t1", "from": {"kind": "DockerImage", "name": "quay.io/x/web:1"}}]}});
    let template = json!({"kind": "Template", "apiVersion": "template.openshift.io/v1",
        "metadata": {"name": "web", "labels": {"a": "1"}}, "objects": []});
    let kinds = [
        (
            paths::imagestreams("rev"),
            paths::imagestream("rev", "web"),
            stream,
        ),
        (
            paths::templates("rev"),
            paths::template("rev", "web"),
            template,
        ),
    ];
    for (list, path, body) in kinds {
        let (code, created) = app.post(&format!("{list}?fieldManager=one"), &body).await;
        assert_eq!(code, StatusCode::CREATED, "{created}");
        let by = |manager: &str| format!("{path}?fieldManager={manager}");
        let label = json!({"metadata": {"labels": {"b": "2"}}});
        let (code, body) = patch_as(&app, &ed.client, &by("two"), MERGE, &label).await;
        assert_eq!(code, StatusCode::OK, "{path}: {body}");
        let before = app.get(&path).await.1;
        assert_eq!(record(&before).len(), 2, "{path}: {before}");

        // An empty list is no reset, and a viewer cannot reset.
        let empty = json!({"metadata": {"managedFields": []}});
        let (code, body) = patch_as(&app, &ed.client, &by("three"), MERGE, &empty).await;
        assert_eq!(code, StatusCode::OK, "{path}: {body}");
        let reset = json!([{"op": "replace", "path": "/metadata/managedFields", "value": [{}]}]);
        let (code, body) = patch_as(&app, &vic.client, &path, JSON_PATCH, &reset).await;
        assert_eq!(code, StatusCode::FORBIDDEN, "{path}: {body}");
        assert_eq!(record(&app.get(&path).await.1), record(&before), "{path}");

        // A merge patch resetting and setting a label: its manager holds that label only.
        let both = json!({"metadata": {"managedFields": [{}], "labels": {"c": "3"}}});
        let (code, body) = patch_as(&app, &ed.client, &by("resetter"), MERGE, &both).await;
        assert_eq!(code, StatusCode::OK, "{path}: {body}");
        let after = app.get(&path).await.1;
        let expected: Vec<(String, String, Value)> =
            vec![("resetter".into(), "Update".into(), labels_held(&["c"]))];
        assert_eq!(record(&after), expected, "{path}: {after}");
        assert_eq!(
            after["metadata"]["labels"],
            json!({"a": "1", "b": "2", "c": "3"})
        );
        for field in ["spec", "objects"] {
            assert_eq!(after.get(field), before.get(field), "{path}: {field}");
        }

        // A PUT carrying the reset: the label it adds is all that is recorded (the resetter's
        // is let go of).
        let mut put = after.clone();
        put["metadata"]["managedFields"] = json!([{}]);
        put["metadata"]["labels"]["e"] = json!("5");
        let (code, body) = app
            .send_as(&ed.client, Method::PUT, &by("putter"), Some(&put))
            .await;
        assert_eq!(code, StatusCode::OK, "{path}: {body}");
        let after = app.get(&path).await.1;
        let expected: Vec<(String, String, Value)> =
            vec![("putter".into(), "Update".into(), labels_held(&["e"]))];
        assert_eq!(record(&after), expected, "{path}: {after}");

        // A JSON patch resetting alone leaves no record, and the data as it was.
        let (code, body) = patch_as(&app, &ed.client, &by("four"), JSON_PATCH, &reset).await;
        assert_eq!(code, StatusCode::OK, "{path}: {body}");
        let cleared = app.get(&path).await.1;
        assert_eq!(
            cleared["metadata"]["managedFields"],
            Value::Null,
            "{path}: {cleared}"
        );
        assert_eq!(cleared["metadata"]["labels"], after["metadata"]["labels"]);
    }

    // A tag's reset through its ImageStreamTag clears the tag's managers only.
    let label = json!({"metadata": {"labels": {"d": "4"}}});
    let stream_path = paths::imagestream("rev", "web");
    let query = format!("{stream_path}?fieldManager=labeller");
    let (code, body) = patch_as(&app, &ed.client, &query, MERGE, &label).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let one = istag("web:t1", source("quay.io/x/web:2"));
    let (code, body) = apply(&app, "web:t1", "fieldManager=gitops", &one).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let tag_path = paths::imagestreamtag("rev", "web", "t1");
    let both = json!({"metadata": {"managedFields": [{}]}, "tag": {"annotations": {"x": "y"}}});
    let query = format!("{tag_path}?fieldManager=tagger");
    let (code, body) = patch_as(&app, &ed.client, &query, MERGE, &both).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let tag = app.get(&tag_path).await.1;
    let held = json!({"f:tag": {"f:annotations": {"f:x": {}}}});
    let expected: Vec<(String, String, Value)> = vec![("tagger".into(), "Update".into(), held)];
    assert_eq!(record(&tag), expected, "{tag}");
    assert_eq!(tag["tag"]["from"]["name"], "quay.io/x/web:2");
    let stream = stored(&app, "web").await;
    let managers: Vec<String> = record(&stream).into_iter().map(|(m, _, _)| m).collect();
    assert_eq!(managers, ["labeller", "tagger"], "{stream}");
}

/// One manager's share of the record (bounds.rs `SHARE_MAX_BYTES`: 512 KiB).
const SHARE: usize = 512 << 10;

/// The entry of `manager` (`operation`) in `stream`'s record, as JSON.
fn entry_len(stream: &Value, manager: &str, operation: &str) -> usize {
    let entries = stream["metadata"]["managedFields"].as_array().unwrap();
    let entry = entries
        .iter()
        .find(|e| e["manager"] == manager && e["operation"] == operation)
        .unwrap();
    entry.to_string().len()
}

/// Annotations whose `f:` keys take `extra` bytes more in a `fieldsV1` object than one
/// annotation `p` does (`{"f:p":{}}`): keys `example.com/NAME`, the last one cut to fit.
fn annotations_taking(extra: usize) -> Map<String, Value> {
    // A key of a name of n bytes takes n + 20 bytes (`"f:example.com/NAME":{},`).
    let mut left = extra + 9;
    let mut out = Map::new();
    while left > 0 {
        let take = if left > 83 { (left - 21).min(83) } else { left };
        let n = take - 20;
        let name = if n >= 6 {
            format!("{:06}{}", out.len(), "x".repeat(n - 6))
        } else {
            "x".repeat(n)
        };
        out.insert(format!("example.com/{name}"), json!("v"));
        left -= take;
    }
    out
}

/// `kubectl apply --server-side -n sq -f FILE` (and `more`) of `version`, as `token`.
fn apply_file(kube: &Kube, version: &str, token: &str, file: &str, more: &[&str]) -> Output {
    let mut args = vec!["apply", "--server-side", "-n", "sq", "-f", file];
    args.extend_from_slice(more);
    kube.run_as(version, token, &args)
}

/// Fills `manager`'s share on tag `app:{tag}` of project `sq` to 16 bytes under [`SHARE`] in
/// one write, as mallory (`token`) may: `kubectl apply --server-side` (1.33, the manager's
/// `Apply`) or a `PUT` of the tag (its `Update`), first with one annotation and then another,
/// to measure the entry, then with as many as fit.
async fn squat(kube: &Kube, token: &str, tag: &str, manager: &str, put: bool) {
    let operation = if put { "Update" } else { "Apply" };
    let file = kube.dir().join(format!("{tag}.json"));
    let file = file.to_str().unwrap();
    let flag = format!("--field-manager={manager}");
    let base = &kube.server.as_ref().unwrap().base;
    let url = format!(
        "{base}{}?fieldManager={manager}",
        paths::imagestreamtag("sq", "app", tag)
    );
    let mut size = 0;
    for annotations in [json!({"p": "v"}), json!({"q": "v"}), Value::Null] {
        let annotations = match annotations {
            Value::Null => Value::Object(annotations_taking(SHARE - 16 - size)),
            one => one,
        };
        let mut tag_body = source("quay.io/x/app:junk");
        tag_body["annotations"] = annotations;
        let body = istag(&format!("app:{tag}"), tag_body);
        if put {
            // Again while the server is busy (429) or raced (409), as a client would.
            let client = crate::support::client_with_token(token);
            let mut code = StatusCode::TOO_MANY_REQUESTS;
            for _ in 0..10 {
                if !matches!(code, StatusCode::TOO_MANY_REQUESTS | StatusCode::CONFLICT) {
                    break;
                }
                code = client.put(&url).json(&body).send().await.unwrap().status();
            }
            assert!(code.is_success(), "PUT {tag}: {code}");
        } else {
            std::fs::write(file, body.to_string()).unwrap();
            let out = apply_file(kube, "1.33", token, file, &[flag.as_str()]);
            assert!(out.status.success(), "apply {tag}: {out:?}");
        }
        let stream = kube
            .api(Method::GET, &paths::imagestream("sq", "app"), None)
            .await;
        size = entry_len(&stream, manager, operation);
    }
    assert_eq!(size, SHARE - 16, "{manager} ({operation}) on {tag}");
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_managed_a_squatted_default_manager_locks_no_other_kubectl_user_out() {
    let kube = Kube::start().await;
    kube.create_project("sq").await;
    let mallory = kube.user_with_role("mallory", "sq", "edit").await;
    let alice = kube.user_with_role("alice", "sq", "edit").await;
    // One write each fills kubectl's apply share and kubectl label's share on junk tags.
    squat(&kube, &mallory, "junk1", "kubectl", false).await;
    squat(&kube, &mallory, "junk2", "kubectl-label", true).await;

    // Every kubectl user's ordinary writes to other tags and to the stream still go in.
    for v in VERSIONS {
        let short = v.replace('.', "");
        let tag = istag(&format!("app:t{short}"), source("quay.io/x/app:1"));
        let label = json!({"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
            "metadata": {"name": "app", "labels": {format!("tier-{short}"): "x"}}});
        for (name, body) in [("tag", tag), ("label", label)] {
            let file = kube.dir().join(format!("{name}-{short}.json"));
            std::fs::write(&file, body.to_string()).unwrap();
            let file = file.to_str().unwrap();
            let out = apply_file(&kube, v, &alice, file, &[]);
            assert!(out.status.success(), "{v} apply {name}: {out:?}");
        }
        let (team, note) = (format!("team-{short}=x"), format!("note-{short}=x"));
        for args in [
            ["label", "is", "app", "-n", "sq", team.as_str()],
            ["annotate", "is", "app", "-n", "sq", note.as_str()],
        ] {
            let out = kube.run_as(v, &alice, &args);
            assert!(out.status.success(), "{v} {args:?}: {out:?}");
        }
    }
    let stream = kube
        .api(Method::GET, &paths::imagestream("sq", "app"), None)
        .await;
    assert_eq!(stream["spec"]["tags"].as_array().unwrap().len(), 4);
    assert_eq!(
        stream["metadata"]["labels"]["team-133"], "x",
        "{:#}",
        stream["metadata"]
    );

    // A writer filling its own share is refused, told the tag and the way out.
    let mut tag = source("quay.io/x/app:junk");
    tag["annotations"] = Value::Object(annotations_taking(2 * SHARE));
    let file = kube.dir().join("junk1.json");
    std::fs::write(&file, istag("app:junk1", tag).to_string()).unwrap();
    let out = apply_file(&kube, "1.33", &mallory, file.to_str().unwrap(), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("RequestEntityTooLarge"), "{err}");
    assert!(
        err.contains("\"kubectl\" (Apply) on tag \"junk1\""),
        "{err}"
    );
    assert!(err.contains("--field-manager"), "{err}");
}

/// Sends `body` (`method`, JSON or an apply) to `path` as `user`, again while the server
/// answers 429 (its large-request turns taken by tests running beside this one), as a client
/// told to retry does.
async fn send_when_free(
    app: &TestApp,
    user: &TestUser,
    method: Method,
    path: &str,
    body: &Value,
) -> (StatusCode, Value) {
    let content_type = if method == Method::PATCH {
        "application/apply-patch+yaml"
    } else {
        "application/json"
    };
    let body = body.to_string();
    for _ in 0..30 {
        let (code, answer) = app
            .send_raw_as(&user.client, method.clone(), path, content_type, &body)
            .await;
        if code != StatusCode::TOO_MANY_REQUESTS {
            return (code, answer);
        }
    }
    panic!("{path}: the server stayed busy");
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_managed_a_flood_of_new_update_managers_stays_bounded() {
    let (app, users) = rev_app(&[("mallory", "edit"), ("alice", "edit")]).await;
    let (mallory, alice) = (&users[0], &users[1]);
    // Two writers holding most of a share each, then a writer under a new name per write:
    // past ten, the oldest are merged into ancient-changes.
    for (i, tag) in ["f0", "f1"].iter().enumerate() {
        let name = format!("flood:{tag}");
        let query = format!(
            "{}?fieldManager=filler{i}",
            paths::imagestreamtag("rev", "flood", tag)
        );
        let body = istag(
            &name,
            crate::kubectl_istag_review::annotated("quay.io/x/f:1"),
        );
        let (code, body) = send_when_free(&app, mallory, Method::PUT, &query, &body).await;
        assert_eq!(code, StatusCode::CREATED, "{name}: {}", body["message"]);
    }
    for i in 0..14 {
        let mut tag = source("quay.io/x/f:2");
        tag["annotations"] = Value::Object(annotations_taking(14_000));
        let name = format!("flood:s{i}");
        let path = paths::imagestreamtag("rev", "flood", &format!("s{i}"));
        let query = format!("{path}?fieldManager=m{i:02}");
        let (code, body) =
            send_when_free(&app, mallory, Method::PUT, &query, &istag(&name, tag)).await;
        assert_eq!(code, StatusCode::CREATED, "{name}: {}", body["message"]);
        let stream = stored(&app, "flood").await;
        let record = stream["metadata"]["managedFields"].as_array().unwrap();
        assert!(record.len() <= 11, "{i}: {} entries", record.len());
        if let Some(ancient) = record.iter().find(|e| e["manager"] == "ancient-changes") {
            let len = ancient.to_string().len();
            assert!(len <= SHARE, "{i}: ancient-changes {len} bytes");
        }
    }
    // The record stays under the quarter of the body limit, and the object under the limit.
    let stream = stored(&app, "flood").await;
    assert!(record_len(&stream) < 1 << 20, "{}", record_len(&stream));
    assert!(stream.to_string().len() < 4 << 20, "the object");
    // Another editor's new tag, and a new applier's, go in; nothing of the data was lost.
    for (tag, method, manager) in [
        ("a1", Method::PUT, "alice-cli"),
        ("a2", Method::PATCH, "gitops"),
    ] {
        let path = paths::imagestreamtag("rev", "flood", tag);
        let path = format!("{path}?fieldManager={manager}");
        let body = istag(&format!("flood:{tag}"), source("quay.io/x/f:3"));
        let (code, body) = send_when_free(&app, alice, method, &path, &body).await;
        assert_eq!(code, StatusCode::CREATED, "{tag}: {}", body["message"]);
    }
    let stream = stored(&app, "flood").await;
    assert_eq!(stream["spec"]["tags"].as_array().unwrap().len(), 18);
    let tags = stream["spec"]["tags"].as_array().unwrap();
    let f0 = tags.iter().find(|t| t["name"] == "f0").unwrap();
    assert_eq!(f0["annotations"].as_object().unwrap().len(), 12_000);
}
