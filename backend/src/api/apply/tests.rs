//! Server-side apply's field bookkeeping, on documents alone.

use super::fields_v1::from_fields_v1;
use super::paths::Step;
use super::*;

fn options(manager: &str, force: bool) -> ApplyOptions {
    ApplyOptions {
        manager: Some(manager.into()),
        force,
        user_agent: None,
    }
}

fn stream(tags: Value) -> Value {
    json!({"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
           "metadata": {"name": "ruby"}, "spec": {"tags": tags}})
}

const V: &str = "image.openshift.io/v1";

/// An ImageStream `body` applied by `manager` (forced or not) over `live` (none: a create), at
/// one fixed time.
fn apply_stream(
    live: Option<&Value>,
    body: &Value,
    manager: &str,
    force: bool,
) -> Result<Value, ApiError> {
    let now = Time::from_timestamp(0);
    apply("ImageStream", V, live, body, &options(manager, force), now)
}

/// `super::apply` with a body the store keeps as sent (no normalisation).
fn apply(
    kind: &'static str,
    api_version: &str,
    live: Option<&Value>,
    applied: &Value,
    options: &ApplyOptions,
    now: Time,
) -> Result<Value, ApiError> {
    let target = Target::object(kind, api_version);
    super::apply(target, live, applied, applied, options, now)
}

#[test]
fn managers_own_their_tags_and_conflict_only_over_different_values() {
    let a = stream(json!([{"name": "a", "from": {"kind": "DockerImage", "name": "x:1"}}]));
    let live = apply_stream(None, &a, "one", false).expect("creates");
    let b = stream(json!([{"name": "b", "from": {"kind": "DockerImage", "name": "y:1"}}]));
    let live = apply_stream(Some(&live), &b, "two", false).expect("another tag is no conflict");
    let names: Vec<&str> = live["spec"]["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["a", "b"]);
    // Two takes tag a's source with another value: a conflict naming the field.
    let clash = stream(json!([
        {"name": "a", "from": {"kind": "DockerImage", "name": "x:2"}},
        {"name": "b", "from": {"kind": "DockerImage", "name": "y:1"}}
    ]));
    let e = apply_stream(Some(&live), &clash, "two", false).expect_err("conflict");
    let ApiError::ApplyConflict { causes, .. } = &e else {
        panic!("{e:?}")
    };
    let fields: Vec<&str> = causes.iter().filter_map(|c| c.field.as_deref()).collect();
    assert_eq!(fields, [".spec.tags[name=\"a\"].from.name"], "{e:?}");
    // Forced, two takes it over; one applying its old value again now conflicts.
    let live = apply_stream(Some(&live), &clash, "two", true).expect("forced");
    assert_eq!(live["spec"]["tags"][0]["from"]["name"], "x:2");
    assert!(apply_stream(Some(&live), &a, "one", false).is_err());
    // Two no longer naming tag b would remove it: nobody else holds it.
    let only_a = stream(json!([{"name": "a", "from": {"kind": "DockerImage", "name": "x:2"}}]));
    let without_b = apply_stream(Some(&live), &only_a, "two", false).expect("lets go of b");
    assert_eq!(without_b["spec"]["tags"].as_array().map(Vec::len), Some(1));
    // One no longer names tag a at all: two holds it, so it stays.
    let none = stream(json!([]));
    let live = apply_stream(Some(&live), &none, "one", false).expect("lets go");
    assert_eq!(
        live["spec"]["tags"].as_array().map(Vec::len),
        Some(2),
        "{live:#}"
    );
}

#[test]
fn a_field_named_last_time_and_not_now_is_removed() {
    let with = json!({"kind": "ImageStream", "apiVersion": V,
        "metadata": {"name": "ruby", "labels": {"a": "1", "b": "2"}}});
    let live = apply_stream(None, &with, "one", false).expect("ok");
    let without = json!({"kind": "ImageStream", "apiVersion": V,
        "metadata": {"name": "ruby", "labels": {"a": "1"}}});
    let live = apply_stream(Some(&live), &without, "one", false).expect("ok");
    assert_eq!(live["metadata"]["labels"], json!({"a": "1"}));
    let fields = &live["metadata"]["managedFields"][0]["fieldsV1"];
    assert_eq!(fields, &json!({"f:metadata": {"f:labels": {"f:a": {}}}}));
}

#[test]
fn fields_v1_round_trips() {
    let mut set = FieldSet::new();
    let tag = Step::Key {
        field: "name".into(),
        value: "a".into(),
    };
    let f = |s: &str| Step::Field(s.into());
    set.insert(vec![f("spec"), f("tags"), tag.clone(), f("name")]);
    set.insert(vec![f("spec"), f("tags"), tag, f("from"), f("name")]);
    let v1 = to_fields_v1(&set);
    let mut back = FieldSet::new();
    from_fields_v1(&v1, &mut Vec::new(), &mut back);
    assert_eq!(back, set, "{v1:#}");
}

#[test]
fn a_forged_element_key_names_no_element() {
    let mut back = FieldSet::new();
    let forged = json!({"f:spec": {"f:tags": {
        "k:{}": {"f:name": {}},
        "k:{\"name\":1}": {"f:name": {}},
        "k:{\"name\":\"a\",\"x\":\"b\"}": {"f:name": {}},
        "k:nonsense": {"f:name": {}}
    }}});
    from_fields_v1(&forged, &mut Vec::new(), &mut back);
    assert!(back.is_empty(), "{back:?}");
}

#[test]
fn an_apply_needs_a_manager_and_its_own_kind() {
    let now = Time::from_timestamp(0);
    let body = stream(json!([]));
    assert!(apply("ImageStream", V, None, &body, &ApplyOptions::default(), now).is_err());
    assert!(
        apply(
            "Template",
            "template.openshift.io/v1",
            None,
            &body,
            &options("m", false),
            now
        )
        .is_err()
    );
}

#[test]
fn a_forged_claim_on_the_name_removes_nothing_and_a_stale_uid_is_refused() {
    let mut live = stream(json!([]));
    live["metadata"]["uid"] = json!("u-1");
    live["metadata"]["managedFields"] = json!([{"manager": "m", "operation": "Apply",
        "fieldsV1": {"f:metadata": {"f:name": {}, "f:uid": {}}}}]);
    let doc = apply_stream(Some(&live), &stream(json!([])), "m", false).expect("applies");
    assert_eq!(doc["metadata"]["name"], "ruby");
    assert_eq!(doc["metadata"]["uid"], "u-1");
    let mut stale = stream(json!([]));
    stale["metadata"]["uid"] = json!("u-0");
    let e = apply_stream(Some(&live), &stale, "m", false).expect_err("another object's uid");
    assert!(matches!(e, ApiError::ApplyConflict { .. }), "{e:?}");
}

/// A stream whose `managedFields` are already past the bound (written before it was kept on
/// updates, or grown by small writes): an editor holds 40,000 labels.
fn over_the_bound() -> Value {
    let labels: serde_json::Map<String, Value> = (0..40_000)
        .map(|i| (format!("example.com/label-{i:08}"), json!("v")))
        .collect();
    let held: serde_json::Map<String, Value> = labels
        .keys()
        .map(|k| (format!("f:{k}"), json!({})))
        .collect();
    let mut live = stream(json!([]));
    live["metadata"]["labels"] = Value::Object(labels);
    live["metadata"]["managedFields"] = json!([{"manager": "editor", "operation": "Update",
        "apiVersion": V, "time": "2026-01-01T00:00:00Z", "fieldsType": "FieldsV1",
        "fieldsV1": {"f:metadata": {"f:labels": Value::Object(held)}}}]);
    live
}

#[test]
fn a_small_apply_goes_through_when_others_filled_managed_fields_and_a_bulk_one_does_not() {
    let live = over_the_bound();
    assert!(live["metadata"]["managedFields"].to_string().len() > MANAGED_MAX_BYTES);
    let one = stream(json!([{"name": "a", "from": {"kind": "DockerImage", "name": "x:1"}}]));
    let applied = apply_stream(Some(&live), &one, "gitops", false)
        .expect("one small field is not refused for what the editor wrote");
    assert_eq!(applied["spec"]["tags"][0]["name"], "a");
    let mut bulk = one.clone();
    let many: serde_json::Map<String, Value> = (0..2_000)
        .map(|i| (format!("example.com/mine-{i:08}"), json!("v")))
        .collect();
    bulk["metadata"]["annotations"] = Value::Object(many);
    let Err(ApiError::TooLarge(message)) = apply_stream(Some(&live), &bulk, "gitops", false) else {
        panic!("an apply adding many fields past the bound is refused");
    };
    assert!(message.contains("managedFields"), "{message}");
}

#[test]
fn past_the_appliers_cap_the_refusal_names_the_ways_out() {
    // 32 appliers, one label each, on the stream itself (review 13 H6).
    let mut live: Option<Value> = None;
    for i in 0..MANAGERS_MAX {
        let body = json!({"apiVersion": V, "kind": "ImageStream",
            "metadata": {"name": "app", "labels": {format!("l{i}"): "v"}}});
        live = Some(apply_stream(live.as_ref(), &body, &format!("m{i}"), false).expect("room"));
    }
    let body = json!({"apiVersion": V, "kind": "ImageStream",
        "metadata": {"name": "app", "labels": {"late": "v"}}});
    let Err(ApiError::BadRequest(message)) = apply_stream(live.as_ref(), &body, "late", false)
    else {
        panic!("a 33rd applier");
    };
    assert!(message.contains("--field-manager"), "{message}");
    assert!(message.contains("managedFields: [{}]"), "{message}");
}
