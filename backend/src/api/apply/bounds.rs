//! How large `metadata.managedFields` may grow, and whose writes may grow it. Each field
//! manager (a name and an operation, `Apply` or `Update`, as Kubernetes keeps them apart) holds
//! at most [`SHARE_MAX_BYTES`] in each place ([`Place`]: one tag of a stream, or the rest of
//! the object), so that one manager cannot spend what the others need. Manager names are
//! shared (every kubectl user is `kubectl`, `kubectl-label`, ...), so a share is kept apart per
//! tag: what one writer piled on one tag does not stop the same name writing another tag or
//! the stream, and a write that adds little ([`SMALL_WRITE_BYTES`]) to a share someone else
//! filled still goes in. The whole record is bounded too: past [`MANAGED_MAX_BYTES`] a write
//! adds at most [`MANAGED_SMALL_GROWTH`]; past [`MANAGED_HARD_MAX_BYTES`] only a manager
//! holding at most [`SMALL_SHARE_BYTES`] in all (every tag) may still add its few fields, or any
//! manager but the one holding most a write of at most [`SMALL_WRITE_BYTES`], and
//! nothing grows past [`MANAGED_ABSOLUTE_MAX_BYTES`]: a small writer that would cross it makes
//! room instead, by letting go of the ownership of the manager holding most ([`make_room`]; who
//! set those fields is forgotten, their values stay). So the managers that filled the record
//! cannot lock a small writer out (a new tag, a one-field apply, a label), not even under many
//! made-up names (review 14 J1), and a flood still stops. A refusal names the largest shares
//! (manager and tag), which a user can then clear (`managedFields: [{}]`) or take fields from.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

use crate::error::ApiError;

/// The largest `managedFields` (as JSON) any write may grow an object's to: a quarter of the
/// body limit, so the object stays one a client can read, edit and send back.
pub(super) const MANAGED_MAX_BYTES: usize = crate::body::MAX_BODY_BYTES / 4;
/// How much one write may still add to `managedFields` once they are past
/// [`MANAGED_MAX_BYTES`].
pub(super) const MANAGED_SMALL_GROWTH: usize = 16 << 10;
/// Past this only a manager holding no more than [`SMALL_SHARE_BYTES`] in all may grow the
/// record.
pub(super) const MANAGED_HARD_MAX_BYTES: usize = 2 * MANAGED_MAX_BYTES;
/// Past this no write grows `managedFields` at all: room for 32 small shares above
/// [`MANAGED_HARD_MAX_BYTES`], so that a flood of manager names or tags stops too.
pub(super) const MANAGED_ABSOLUTE_MAX_BYTES: usize =
    MANAGED_HARD_MAX_BYTES + 32 * SMALL_SHARE_BYTES;
/// The most one manager (name and operation) may hold in one place: half of
/// [`MANAGED_MAX_BYTES`], so that a manager's `Apply` and `Update` entries together stay
/// within it. `ancient-changes`, where the oldest updaters are merged, holds no more either.
pub(super) const SHARE_MAX_BYTES: usize = MANAGED_MAX_BYTES / 2;
/// A share holding no more than this may still grow past [`MANAGED_HARD_MAX_BYTES`].
pub(super) const SMALL_SHARE_BYTES: usize = 16 << 10;
/// What a write may add to a share already past [`SHARE_MAX_BYTES`]: a label, an annotation,
/// a one-tag apply. The share's name may be another user's too (kubectl's defaults), and
/// their write must not be refused for what someone else put there.
pub(super) const SMALL_WRITE_BYTES: usize = 4 << 10;
/// What a share never grows past, not even in small writes: twice [`SHARE_MAX_BYTES`], so
/// that small steps do not walk a share up to the whole record (review 13 H4).
pub(super) const SHARE_CEILING_BYTES: usize = 2 * SHARE_MAX_BYTES;
/// How many of the largest shares a refusal names.
const NAMED: usize = 3;
/// What a refusal of a write to a full share suggests besides its own advice: the share's name
/// may be kubectl's default, which someone else filled.
const WAY_OUT: &str = "or write under another field manager name (kubectl --field-manager=NAME, \
    the API's fieldManager=NAME), or clear managedFields (metadata.managedFields: [{}])";
/// What a refusal of a manager that holds much of a full record suggests: not another name,
/// which would only help it fill the record (review 14 J1).
const RESET: &str = "or clear managedFields (metadata.managedFields: [{}])";

/// Who writes: the manager whose share a write grows, whether as an apply, and what the write
/// is called in a refusal (`"apply"`, `"write"`).
#[derive(Debug, Clone, Copy)]
pub(super) struct Writer<'a> {
    pub manager: &'a str,
    pub apply: bool,
    pub write: &'a str,
}

impl<'a> Writer<'a> {
    /// `manager` applying.
    pub fn applier(manager: &'a str) -> Self {
        Self {
            manager,
            apply: true,
            write: "apply",
        }
    }

    /// `manager` writing otherwise (create, replace, patch).
    pub fn updater(manager: &'a str) -> Self {
        Self {
            manager,
            apply: false,
            write: "write",
        }
    }
}

/// Where a manager's fields are: one tag of a stream (its fields under `spec.tags`, or its
/// ImageStreamTag's entries, `subresource: imagestreamtags/{stream}:{tag}`), or the rest of
/// the object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    Object,
    Tag(String),
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Object => f.write_str("the object"),
            Self::Tag(tag) => write!(f, "tag {tag:?}"),
        }
    }
}

/// A manager's share: its name, whether `Apply`, and the place.
type Key = (String, bool, Place);

/// The tag an element key of `spec.tags` names (`k:{"name":"latest"}`).
fn tag_of(key: &str) -> Option<String> {
    let parsed: Map<String, Value> = serde_json::from_str(key.strip_prefix("k:")?).ok()?;
    parsed.get("name")?.as_str().map(str::to_owned)
}

/// Each share's bytes of a `managedFields` list: an entry's bytes go to its manager in the
/// place they are about (each tag's part of `f:spec.f:tags` to that tag, the rest to the
/// object; all of an ImageStreamTag's entry to its tag).
fn shares(managed: Option<&Value>) -> BTreeMap<Key, usize> {
    let mut out = BTreeMap::new();
    for entry in managed.and_then(Value::as_array).into_iter().flatten() {
        let name = entry["manager"].as_str().unwrap_or_default().to_owned();
        let apply = entry["operation"] == "Apply";
        let mut rest = entry.to_string().len();
        let sub_tag = entry["subresource"]
            .as_str()
            .and_then(|s| s.strip_prefix("imagestreamtags/"))
            .and_then(|s| s.split_once(':'))
            .map(|(_, tag)| tag.to_owned());
        if let Some(tag) = sub_tag {
            *out.entry((name, apply, Place::Tag(tag))).or_default() += rest;
            continue;
        }
        let tags = entry
            .pointer("/fieldsV1/f:spec/f:tags")
            .and_then(Value::as_object);
        for (key, fields) in tags.into_iter().flatten() {
            let Some(tag) = tag_of(key) else { continue };
            // `"key":{...},` as the entry's JSON has it (the key's four quotes escaped).
            let bytes = (key.len() + 8 + fields.to_string().len()).min(rest);
            rest -= bytes;
            *out.entry((name.clone(), apply, Place::Tag(tag)))
                .or_default() += bytes;
        }
        *out.entry((name, apply, Place::Object)).or_default() += rest;
    }
    out
}

/// The largest shares of `shares`, with their bytes, as a refusal names them.
fn largest(shares: &BTreeMap<Key, usize>) -> String {
    let mut all: Vec<_> = shares.iter().collect();
    all.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let named: Vec<String> = all
        .into_iter()
        .take(NAMED)
        .map(|((name, apply, place), bytes)| {
            format!("{name:?} ({}) {bytes} bytes on {place}", operation(*apply))
        })
        .collect();
    named.join(", ")
}

fn operation(apply: bool) -> &'static str {
    if apply { "Apply" } else { "Update" }
}

/// Refuses (413, naming `managedFields` and the largest shares) a write by `writer` that
/// grows `managedFields` from `before` to `after` past its bounds (the module's rules).
/// A write that keeps or shrinks what it is held to goes through, so nobody is locked out by
/// what someone else wrote; `advice` says what to do instead.
pub(super) fn check_managed_size(
    writer: Writer<'_>,
    before: Option<&Value>,
    after: &mut Value,
    advice: &str,
) -> Result<(), ApiError> {
    let Writer {
        manager,
        apply,
        write,
    } = writer;
    let (was, is) = (shares(before), shares(Some(after)));
    let op = operation(apply);
    // The writer's shares this write grows, each with what it holds after and what it adds.
    let grown: Vec<(&Place, usize, usize)> = is
        .iter()
        .filter(|((name, a, _), _)| name == manager && *a == apply)
        .filter_map(|((_, _, place), &bytes)| {
            let had = was
                .get(&(manager.to_owned(), apply, place.clone()))
                .copied()
                .unwrap_or(0);
            (bytes > had).then(|| (place, bytes, bytes - had))
        })
        .collect();
    if let Some((place, mine, added)) = grown.iter().copied().find(|&(_, mine, added)| {
        mine > SHARE_CEILING_BYTES || mine > SHARE_MAX_BYTES && added > SMALL_WRITE_BYTES
    }) {
        return Err(ApiError::TooLarge(format!(
            "this {write} would make the managedFields of field manager {manager:?} ({op}) on \
             {place} {mine} bytes ({added} more), more than the {SHARE_MAX_BYTES} one manager \
             may hold on one tag or on the rest of the object (writes of at most \
             {SMALL_WRITE_BYTES} bytes pass it, up to {SHARE_CEILING_BYTES}): {advice}, {WAY_OUT} \
             (largest: {})",
            largest(&is)
        )));
    }
    let managed = after;
    let (before, after) = (before.map_or(0, size), size(managed));
    let growth = after.saturating_sub(before);
    if after <= MANAGED_MAX_BYTES || growth == 0 {
        return Ok(());
    }
    if growth > MANAGED_SMALL_GROWTH {
        return Err(ApiError::TooLarge(format!(
            "this {write} would make the object's managedFields {after} bytes ({growth} more), \
             more than the {MANAGED_MAX_BYTES} kept: {advice}, {RESET} (largest: {})",
            largest(&is)
        )));
    }
    // Past the hard bound, what the writer holds on every tag together counts: a name spread
    // over many tags, each share small, must not fill the record alone (review 13 H1). A name
    // holding little may add its fields, and so may a small write under any name but the one
    // holding most: kubectl's default names are everyone's, and one user inflating
    // `kubectl-label` must not stop the others' labels (review 15 K1).
    let totals = holders(&is);
    let mine = (manager.to_owned(), apply);
    let total = totals.get(&mine).copied().unwrap_or(0);
    let filler = totals
        .iter()
        .all(|(who, &bytes)| *who == mine || bytes < total);
    let small = total <= SMALL_SHARE_BYTES || (growth <= SMALL_WRITE_BYTES && !filler);
    if small && after > MANAGED_ABSOLUTE_MAX_BYTES && make_room(writer, managed) {
        return Ok(());
    }
    if after > MANAGED_ABSOLUTE_MAX_BYTES || (after > MANAGED_HARD_MAX_BYTES && !small) {
        // Another name is the way out for a writer that did not fill the record; the one
        // holding most is told of the reset only.
        let way_out = if filler { RESET } else { WAY_OUT };
        return Err(ApiError::TooLarge(format!(
            "this {write} would make the object's managedFields {after} bytes, more than the \
             {MANAGED_HARD_MAX_BYTES} past which only managers holding at most \
             {SMALL_SHARE_BYTES} bytes in all, or writes of at most {SMALL_WRITE_BYTES} bytes \
             by any but the manager holding most, may grow them, and never past \
             {MANAGED_ABSOLUTE_MAX_BYTES} ({manager:?} ({op}) would hold {total}): largest: {}; \
             remove their fields (or tags), {way_out}",
            largest(&is)
        )));
    }
    Ok(())
}

/// What each manager (name and operation) holds in all places.
fn holders(shares: &BTreeMap<Key, usize>) -> BTreeMap<(String, bool), usize> {
    let mut out = BTreeMap::new();
    for ((name, apply, _), bytes) in shares {
        *out.entry((name.clone(), *apply)).or_default() += bytes;
    }
    out
}

fn size(managed: &Value) -> usize {
    managed.to_string().len()
}

/// Brings `managed` back within [`MANAGED_ABSOLUTE_MAX_BYTES`] for `writer`, a small writer, by
/// letting go of the ownership of the other managers (name and operation, every entry of
/// theirs) holding most in all, the largest first: the record is full, and whoever filled it
/// must not lock out a writer that holds little, under however many names it was filled
/// (review 14 J1). Only ownership goes: the fields keep their values, and a later apply of the
/// let-go manager takes them without a conflict. Whether it fits now.
fn make_room(writer: Writer<'_>, managed: &mut Value) -> bool {
    let mut is = size(managed);
    let Some(entries) = managed.as_array_mut() else {
        return false;
    };
    let holder = |e: &Value| {
        let name = e["manager"].as_str().unwrap_or_default().to_owned();
        (name, e["operation"] == "Apply")
    };
    let mine = (writer.manager.to_owned(), writer.apply);
    let mut held: BTreeMap<(String, bool), usize> = BTreeMap::new();
    for e in entries.iter() {
        // An entry and its comma: what the list's JSON loses without it.
        *held.entry(holder(e)).or_default() += e.to_string().len() + 1;
    }
    held.remove(&mine);
    let mut largest: Vec<_> = held.into_iter().collect();
    largest.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    for (gone, bytes) in largest {
        if is <= MANAGED_ABSOLUTE_MAX_BYTES {
            break;
        }
        entries.retain(|e| holder(e) != gone);
        is -= bytes;
        tracing::info!(
            manager = %gone.0,
            operation = operation(gone.1),
            bytes,
            writer = writer.manager,
            "managedFields were full: let go of the largest manager's ownership to make room for \
             a small writer"
        );
    }
    is <= MANAGED_ABSOLUTE_MAX_BYTES
}

#[cfg(test)]
mod tests {
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

    fn writer(manager: &str) -> Writer<'_> {
        Writer::updater(manager)
    }

    #[test]
    fn a_manager_past_its_share_is_refused_by_name_and_others_are_not() {
        let before = json!([entry("alice", "Update", 500_000)]);
        let mut after = json!([entry("alice", "Update", 540_000)]);
        let Err(ApiError::TooLarge(message)) =
            check_managed_size(writer("alice"), Some(&before), &mut after, "set fewer")
        else {
            panic!("alice past her share");
        };
        assert!(message.contains("\"alice\" (Update)"), "{message}");
        // Her Apply entry is another share; a shrinking write is never refused.
        let mut applied = json!([
            entry("alice", "Update", 500_000),
            entry("alice", "Apply", 400_000)
        ]);
        let alice_apply = Writer {
            apply: true,
            ..writer("alice")
        };
        assert!(check_managed_size(alice_apply, Some(&before), &mut applied, "").is_ok());
        let mut smaller = json!([entry("alice", "Update", 100_000)]);
        assert!(check_managed_size(writer("alice"), Some(&after), &mut smaller, "").is_ok());
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

    #[test]
    fn a_share_is_kept_per_tag_and_a_small_write_to_a_full_one_goes_through() {
        // mallory filled kubectl-label's share on tag "junk" (one entry, as a PUT leaves it).
        let squat = on_tag("kubectl-label", "Update", "junk", SHARE_MAX_BYTES - 100);
        assert!(squat.to_string().len() > SHARE_MAX_BYTES - 2_000);
        let before = json!([squat]);
        // The same name on another tag, and a label on the object, are other shares.
        let mut other = before.clone();
        other[0]["fieldsV1"]["f:spec"]["f:tags"]["k:{\"name\":\"web\"}"] = json!({".": {}});
        other[0]["fieldsV1"]["f:metadata"] = json!({"f:labels": {"f:team": {}}});
        check_managed_size(writer("kubectl-label"), Some(&before), &mut other, "")
            .expect("another tag, and the object");
        // A few fields more on the full share itself go in too; many more do not, naming it.
        let mut few = before.clone();
        few[0]["fieldsV1"]["f:spec"]["f:tags"]["k:{\"name\":\"junk\"}"]["f:annotations"]["f:one-more"] =
            json!({});
        check_managed_size(writer("kubectl-label"), Some(&before), &mut few, "")
            .expect("a small write to a full share");
        // Small writes stop at the share's ceiling (review 13 H4).
        let ceiling = json!([on_tag(
            "kubectl-label",
            "Update",
            "junk",
            SHARE_CEILING_BYTES - 1_000
        )]);
        let mut step = json!([on_tag(
            "kubectl-label",
            "Update",
            "junk",
            SHARE_CEILING_BYTES + 2_000
        )]);
        assert!(step.to_string().len() - ceiling.to_string().len() < SMALL_WRITE_BYTES);
        assert!(
            check_managed_size(writer("kubectl-label"), Some(&ceiling), &mut step, "").is_err(),
            "a small step past the ceiling"
        );
        let mut after = json!([on_tag(
            "kubectl-label",
            "Update",
            "junk",
            SHARE_MAX_BYTES + 9_000
        )]);
        let Err(ApiError::TooLarge(message)) = check_managed_size(
            writer("kubectl-label"),
            Some(&before),
            &mut after,
            "set fewer",
        ) else {
            panic!("a big write past the share");
        };
        assert!(message.contains("(Update) on tag \"junk\""), "{message}");
        assert!(message.contains("--field-manager"), "{message}");
    }

    #[test]
    fn past_the_hard_bound_a_name_spread_over_many_tags_adds_no_more_but_others_do() {
        // mallory, one name, filled the record tag by tag, each share small (review 13 H1).
        let tags: Vec<Value> = (0..140)
            .map(|i| on_tag("mallory", "Update", &format!("t{i}"), 15_000))
            .collect();
        let before = Value::Array(tags.clone());
        assert!(before.to_string().len() > MANAGED_HARD_MAX_BYTES);
        let with = |extra: Value| {
            let mut all = tags.clone();
            all.push(extra);
            Value::Array(all)
        };
        // Another tag of hers is refused, and the refusal points at the reset, not a new name.
        let mut hers = with(on_tag("mallory", "Update", "t999", 2_000));
        let Err(ApiError::TooLarge(message)) =
            check_managed_size(writer("mallory"), Some(&before), &mut hers, "set fewer")
        else {
            panic!("mallory holds far more than a small share in all");
        };
        assert!(
            message.contains("\"mallory\" (Update) would hold"),
            "{message}"
        );
        assert!(message.contains("managedFields: [{}]"), "{message}");
        assert!(!message.contains("--field-manager"), "{message}");
        // alice's new tag still goes in.
        let mut alices = with(on_tag("alice", "Update", "web", 2_000));
        check_managed_size(writer("alice"), Some(&before), &mut alices, "")
            .expect("alice holds little");
    }

    #[test]
    fn past_the_hard_bound_only_small_managers_add_fields_and_never_past_the_absolute_one() {
        let full: Vec<Value> = ["a1", "a2", "a3", "a4"]
            .iter()
            .map(|m| entry(m, "Update", SHARE_MAX_BYTES - 2_000))
            .collect();
        let before = Value::Array(full.clone());
        assert!(before.to_string().len() > MANAGED_HARD_MAX_BYTES - 10_000);
        let mut more = full.clone();
        more.push(entry("mallory", "Update", 12_000));
        let mut more = Value::Array(more);
        assert!(more.to_string().len() > MANAGED_HARD_MAX_BYTES);
        check_managed_size(writer("mallory"), Some(&before), &mut more, "")
            .expect("a small manager");
        let mut bigger = more.clone();
        bigger[0] = entry("a1", "Update", SHARE_MAX_BYTES - 1_000);
        let Err(ApiError::TooLarge(message)) =
            check_managed_size(writer("a1"), Some(&more), &mut bigger, "")
        else {
            panic!("a big manager past the hard bound");
        };
        assert!(message.contains("\"a2\" (Update)"), "{message}");
    }

    /// Who holds entries in `managed`.
    fn managers(managed: &Value) -> Vec<String> {
        let entries = managed.as_array().into_iter().flatten();
        entries.map(|e| e["manager"].to_string()).collect()
    }

    #[test]
    fn past_the_hard_bound_a_small_write_under_an_inflated_default_name_goes_in() {
        // mallory inflated kubectl-label (19 KB, everyone's label manager) and filled the
        // record past 2 MiB under names of his own (review 15 K1).
        let mut managed: Vec<Value> = (0..45)
            .map(|i| on_tag(&format!("mf-{i}"), "Apply", &format!("t{i}"), 48_000))
            .collect();
        managed.push(entry("kubectl-label", "Update", 19_000));
        managed[0] = on_tag("mf-0", "Apply", "t0", 60_000);
        let before = Value::Array(managed.clone());
        assert!(before.to_string().len() > MANAGED_HARD_MAX_BYTES);
        // alice's label, a few hundred bytes more under kubectl-label, goes in.
        let mut after = before.clone();
        after[45] = entry("kubectl-label", "Update", 19_300);
        check_managed_size(writer("kubectl-label"), Some(&before), &mut after, "")
            .expect("a small write under a name holding more than a small share");
        // One of mallory's names (not the largest) writing 8 KiB more is refused and told of
        // another name; a small write of his goes in, but not one of the name holding most.
        let mut big = before.clone();
        big[3] = on_tag("mf-3", "Apply", "t3", 56_000);
        let Err(ApiError::TooLarge(message)) =
            check_managed_size(Writer::applier("mf-3"), Some(&before), &mut big, "")
        else {
            panic!("a big write past the hard bound");
        };
        assert!(message.contains("--field-manager"), "{message}");
        let mut step = before.clone();
        step[3] = on_tag("mf-3", "Apply", "t3", 50_000);
        check_managed_size(Writer::applier("mf-3"), Some(&before), &mut step, "")
            .expect("a small write of a manager that does not hold most");
        let mut most = before.clone();
        most[0] = on_tag("mf-0", "Apply", "t0", 62_000);
        let Err(ApiError::TooLarge(message)) =
            check_managed_size(Writer::applier("mf-0"), Some(&before), &mut most, "")
        else {
            panic!("the manager holding most adds nothing past the hard bound");
        };
        assert!(!message.contains("--field-manager"), "{message}");
    }

    #[test]
    fn a_flood_of_made_up_names_never_grows_the_record_past_its_bound_nor_locks_anyone_out() {
        // mallory filled 2 MiB under one name, tag by tag, then applies under fresh names,
        // each small (review 14 J1).
        let mut managed: Vec<Value> = (0..140)
            .map(|i| on_tag("mallory", "Apply", &format!("t{i}"), 15_000))
            .collect();
        let mut let_go = false;
        for i in 0..64 {
            let before = Value::Array(managed.clone());
            let name = format!("ci-{i}");
            let mut after = before.clone();
            after.as_array_mut().expect("a list").push(on_tag(
                &name,
                "Apply",
                &format!("fa{i}"),
                15_000,
            ));
            check_managed_size(Writer::applier(&name), Some(&before), &mut after, "")
                .expect("a small writer is never refused for the record's size");
            assert!(after.to_string().len() <= MANAGED_ABSOLUTE_MAX_BYTES);
            assert!(
                managers(&after).contains(&format!("{name:?}")),
                "{name} went in"
            );
            let_go |= !managers(&after).contains(&"\"mallory\"".to_owned());
            managed = after.as_array().expect("a list").clone();
        }
        assert!(
            let_go,
            "the largest holder, mallory, was let go of to make room"
        );
        // alice's label goes in, and her entry stays while others are let go of.
        let before = Value::Array(managed);
        let mut after = before.clone();
        after
            .as_array_mut()
            .expect("a list")
            .push(entry("kubectl-label", "Update", 300));
        check_managed_size(writer("kubectl-label"), Some(&before), &mut after, "")
            .expect("alice's label");
        assert!(managers(&after).contains(&"\"kubectl-label\"".to_owned()));
        assert!(after.to_string().len() <= MANAGED_ABSOLUTE_MAX_BYTES);
    }
}
