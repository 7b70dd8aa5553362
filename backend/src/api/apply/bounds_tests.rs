use super::*;
use serde_json::json;

/// An entry of `manager` that is `bytes` long as JSON (one long label).
fn entry(manager: &str, operation: &str, bytes: usize) -> Value {
    let with = |label: &str| {
        json!({"manager": manager, "operation": operation, "fieldsType": "FieldsV1",
            "fieldsV1": {"f:metadata": {"f:labels": {format!("f:{label}"): {}}}}})
    };
    let base = with("").to_string().len();
    with(&"x".repeat(bytes.saturating_sub(base)))
}

/// An entry of `manager` holding `tag`'s `annotations` keys of about `bytes` in all.
fn on_tag(manager: &str, operation: &str, tag: &str, bytes: usize) -> Value {
    let keys: Map<String, Value> = (0..bytes / 39)
        .map(|i| (format!("f:example.com/annotation-{i:08}"), json!({})))
        .collect();
    let key = format!("k:{}", json!({"name": tag}));
    json!({"manager": manager, "operation": operation, "fieldsType": "FieldsV1",
        "fieldsV1": {"f:spec": {"f:tags": {key: {".": {}, "f:annotations": keys}}}}})
}

fn writer(manager: &str) -> Writer<'_> {
    Writer::updater(manager)
}

/// The 413's message for `writer`'s write from `before` to `after`; `why` says why it must be
/// refused.
fn refused(writer: Writer<'_>, before: &Value, after: &Value, why: &str) -> String {
    let mut after = after.clone();
    match check_managed_size(writer, Some(before), &mut after, "set fewer") {
        Err(ApiError::TooLarge(message)) => message,
        other => panic!("{why}: {other:?}"),
    }
}

/// `writer`'s write from `before` to `after`, as it is stored (with room made) once taken.
fn taken(writer: Writer<'_>, before: &Value, after: &Value) -> Value {
    let mut after = after.clone();
    if let Err(e) = check_managed_size(writer, Some(before), &mut after, "") {
        panic!("{} refused: {e}", writer.manager);
    }
    after
}

/// `list` with `extra` added.
fn with(list: &[Value], extra: Value) -> Value {
    let mut all = list.to_vec();
    all.push(extra);
    Value::Array(all)
}

/// Who holds entries in `managed`.
fn managers(managed: &Value) -> Vec<String> {
    let entries = managed.as_array().into_iter().flatten();
    entries
        .map(|e| e["manager"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn len(managed: &Value) -> usize {
    managed.to_string().len()
}

#[test]
fn a_manager_past_its_share_is_refused_by_name_and_others_are_not() {
    let before = json!([entry("alice", "Update", 500_000)]);
    let after = json!([entry("alice", "Update", 540_000)]);
    let message = refused(writer("alice"), &before, &after, "alice past her share");
    assert!(message.contains("\"alice\" (Update)"), "{message}");
    // Her Apply entry is another share; a shrinking write is never refused.
    let applied = json!([
        entry("alice", "Update", 500_000),
        entry("alice", "Apply", 400_000)
    ]);
    taken(Writer::applier("alice"), &before, &applied);
    let smaller = json!([entry("alice", "Update", 100_000)]);
    taken(writer("alice"), &after, &smaller);
}

#[test]
fn a_share_is_kept_per_tag_and_a_small_write_to_a_full_one_goes_through() {
    // mallory filled kubectl-label's share on tag "junk" (one entry, as a PUT leaves it).
    let squat = on_tag("kubectl-label", "Update", "junk", SHARE_MAX_BYTES - 100);
    assert!(len(&squat) > SHARE_MAX_BYTES - 2_000);
    let before = json!([squat]);
    let label = writer("kubectl-label");
    // The same name on another tag, and a label on the object, are other shares.
    let mut other = before.clone();
    other[0]["fieldsV1"]["f:spec"]["f:tags"]["k:{\"name\":\"web\"}"] = json!({".": {}});
    other[0]["fieldsV1"]["f:metadata"] = json!({"f:labels": {"f:team": {}}});
    taken(label, &before, &other);
    // A few fields more on the full share itself go in too; many more do not, naming it.
    let mut few = before.clone();
    few[0]["fieldsV1"]["f:spec"]["f:tags"]["k:{\"name\":\"junk\"}"]["f:annotations"]["f:one-more"] =
        json!({});
    taken(label, &before, &few);
    // Small writes stop at the share's ceiling (review 13 H4).
    let ceiling = json!([on_tag(
        "kubectl-label",
        "Update",
        "junk",
        SHARE_CEILING_BYTES - 1_000
    )]);
    let step = json!([on_tag(
        "kubectl-label",
        "Update",
        "junk",
        SHARE_CEILING_BYTES + 2_000
    )]);
    assert!(len(&step) - len(&ceiling) < SMALL_WRITE_BYTES);
    refused(label, &ceiling, &step, "a small step past the ceiling");
    let after = json!([on_tag(
        "kubectl-label",
        "Update",
        "junk",
        SHARE_MAX_BYTES + 9_000
    )]);
    let message = refused(label, &before, &after, "a big write past the share");
    assert!(message.contains("(Update) on tag \"junk\""), "{message}");
    assert!(message.contains("--field-manager"), "{message}");
}

#[test]
fn past_the_hard_bound_a_name_spread_over_many_tags_adds_only_small_writes() {
    // mallory, one name, filled the record tag by tag, each share small (review 13 H1).
    let tags: Vec<Value> = (0..140)
        .map(|i| on_tag("mallory", "Update", &format!("t{i}"), 15_000))
        .collect();
    let before = Value::Array(tags.clone());
    assert!(len(&before) > MANAGED_HARD_MAX_BYTES);
    // Another tag of hers of 8 KB is refused, naming what she holds and the ways out.
    let hers = with(&tags, on_tag("mallory", "Update", "t999", 8_000));
    let message = refused(writer("mallory"), &before, &hers, "a big write of hers");
    assert!(
        message.contains("\"mallory\" (Update) would hold"),
        "{message}"
    );
    assert!(message.contains("managedFields: [{}]"), "{message}");
    // A small one goes in, and so does alice's new tag.
    taken(
        writer("mallory"),
        &before,
        &with(&tags, on_tag("mallory", "Update", "t999", 2_000)),
    );
    taken(
        writer("alice"),
        &before,
        &with(&tags, on_tag("alice", "Update", "web", 2_000)),
    );
}

#[test]
fn past_the_hard_bound_a_small_write_under_any_name_goes_in() {
    // mallory inflated kubectl-label (96 KB, everyone's label manager) past any name of his
    // and filled the record past 2 MiB under those (reviews 15 K1, 16 L1).
    let mut managed: Vec<Value> = (0..45)
        .map(|i| on_tag(&format!("mf-{i}"), "Apply", &format!("t{i}"), 48_000))
        .collect();
    managed.push(entry("kubectl-label", "Update", 96_000));
    let before = Value::Array(managed.clone());
    assert!(len(&before) > MANAGED_HARD_MAX_BYTES);
    // alice's label, a few hundred bytes more under kubectl-label, goes in.
    let mut after = before.clone();
    after[45] = entry("kubectl-label", "Update", 96_300);
    taken(writer("kubectl-label"), &before, &after);
    // One of mallory's names writing 8 KiB more is refused and told of another name.
    let mut big = before.clone();
    big[3] = on_tag("mf-3", "Apply", "t3", 56_000);
    let message = refused(Writer::applier("mf-3"), &before, &big, "a big write");
    assert!(message.contains("--field-manager"), "{message}");
}

#[test]
fn past_the_hard_bound_big_managers_add_no_big_writes() {
    let full: Vec<Value> = ["a1", "a2", "a3", "a4", "a5"]
        .iter()
        .map(|m| entry(m, "Update", SHARE_MAX_BYTES - 100_000))
        .collect();
    let before = Value::Array(full.clone());
    assert!(len(&before) > MANAGED_HARD_MAX_BYTES);
    let more = with(&full, entry("mallory", "Update", 12_000));
    taken(writer("mallory"), &before, &more);
    let mut bigger = more.clone();
    bigger[0] = entry("a1", "Update", SHARE_MAX_BYTES - 92_000);
    let message = refused(
        writer("a1"),
        &more,
        &bigger,
        "a big write past the hard bound",
    );
    assert!(message.contains("more than the 2097152"), "{message}");
    assert!(message.contains("\"a2\" (Update)"), "{message}");
}

#[test]
fn a_flood_of_made_up_names_never_grows_the_record_past_its_bound_nor_locks_anyone_out() {
    // mallory filled 2 MiB under one name, tag by tag, then applies under fresh names, each
    // small (review 14 J1).
    let mut managed: Vec<Value> = (0..140)
        .map(|i| on_tag("mallory", "Apply", &format!("t{i}"), 15_000))
        .collect();
    let mut let_go = false;
    for i in 0..64 {
        let before = Value::Array(managed.clone());
        let name = format!("ci-{i}");
        let fresh = on_tag(&name, "Apply", &format!("fa{i}"), 15_000);
        let after = taken(Writer::applier(&name), &before, &with(&managed, fresh));
        assert!(len(&after) <= MANAGED_ABSOLUTE_MAX_BYTES);
        assert!(managers(&after).contains(&name), "{name} went in");
        if !let_go && !managers(&after).contains(&"mallory".to_owned()) {
            // Room was made down to well under the soft bound, the largest first.
            assert!(
                len(&after) <= MANAGED_ROOM_BYTES + 20_000,
                "{}",
                len(&after)
            );
            let_go = true;
        }
        managed = after.as_array().cloned().unwrap_or_default();
    }
    assert!(
        let_go,
        "the largest holder, mallory, was let go of to make room"
    );
    // A label goes in at any point.
    let before = Value::Array(managed.clone());
    let labelled = with(&managed, entry("kubectl-label", "Update", 300));
    let after = taken(writer("kubectl-label"), &before, &labelled);
    assert!(managers(&after).contains(&"kubectl-label".to_owned()));
}

#[test]
fn an_applier_whose_ownership_was_let_go_of_may_apply_again() {
    // mallory kept each of his names smaller than alice's apply (61 KB), so that his small
    // write at the bound lets go of hers first (review 15 K2).
    let alice = on_tag("alice", "Apply", "web", 61_000);
    let mut managed: Vec<Value> = (0..53)
        .map(|i| on_tag(&format!("mf-{i}"), "Apply", &format!("t{i}"), 48_000))
        .collect();
    managed.push(alice.clone());
    let before = Value::Array(managed.clone());
    assert!(len(&before) < MANAGED_ABSOLUTE_MAX_BYTES);
    let fresh = on_tag("mf-99", "Apply", "t99", 15_000);
    let after = taken(Writer::applier("mf-99"), &before, &with(&managed, fresh));
    assert!(!managers(&after).contains(&"alice".to_owned()));
    assert!(
        len(&after) <= MANAGED_ROOM_BYTES + 20_000,
        "{}",
        len(&after)
    );
    // Her apply of the same fields is taken again.
    let entries = after.as_array().cloned().unwrap_or_default();
    taken(Writer::applier("alice"), &after, &with(&entries, alice));
}
