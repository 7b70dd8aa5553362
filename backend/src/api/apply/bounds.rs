//! How large `metadata.managedFields` may grow, and whose writes may grow it. Each field
//! manager (a name and an operation, `Apply` or `Update`, as Kubernetes keeps them apart; all
//! its subresources together) holds at most [`SHARE_MAX_BYTES`] of the record, so that one
//! manager cannot spend what the others need. The whole record is bounded too: past
//! [`MANAGED_MAX_BYTES`] a write adds at most [`MANAGED_SMALL_GROWTH`]; past
//! [`MANAGED_HARD_MAX_BYTES`] only a manager holding at most [`SMALL_SHARE_BYTES`] may still add
//! its few fields, and nothing grows past [`MANAGED_ABSOLUTE_MAX_BYTES`]. So the managers that
//! filled the record cannot lock a small writer out (a new tag, a one-field apply, a label),
//! and a flood of manager names still stops. A refusal names the largest managers, which a
//! user can then clear (`managedFields: [{}]`) or take fields from.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::ApiError;

/// The largest `managedFields` (as JSON) any write may grow an object's to: a quarter of the
/// body limit, so the object stays one a client can read, edit and send back.
pub(super) const MANAGED_MAX_BYTES: usize = crate::body::MAX_BODY_BYTES / 4;
/// How much one write may still add to `managedFields` once they are past
/// [`MANAGED_MAX_BYTES`].
pub(super) const MANAGED_SMALL_GROWTH: usize = 16 << 10;
/// Past this only a manager holding no more than [`SMALL_SHARE_BYTES`] may grow the record.
pub(super) const MANAGED_HARD_MAX_BYTES: usize = 2 * MANAGED_MAX_BYTES;
/// Past this no write grows `managedFields` at all: room for 32 small managers above
/// [`MANAGED_HARD_MAX_BYTES`], so that a flood of manager names stops too.
pub(super) const MANAGED_ABSOLUTE_MAX_BYTES: usize =
    MANAGED_HARD_MAX_BYTES + 32 * SMALL_SHARE_BYTES;
/// The most one manager (name and operation) may hold: half of [`MANAGED_MAX_BYTES`], so that
/// a manager's `Apply` and `Update` entries together stay within it.
pub(super) const SHARE_MAX_BYTES: usize = MANAGED_MAX_BYTES / 2;
/// A manager holding no more than this may still add fields past [`MANAGED_HARD_MAX_BYTES`].
pub(super) const SMALL_SHARE_BYTES: usize = 16 << 10;
/// How many of the largest managers a refusal names.
const NAMED: usize = 3;

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

/// Each manager's bytes of a `managedFields` list, by name and operation (`true`: `Apply`).
fn shares(managed: Option<&Value>) -> BTreeMap<(String, bool), usize> {
    let mut out = BTreeMap::new();
    for entry in managed.and_then(Value::as_array).into_iter().flatten() {
        let name = entry["manager"].as_str().unwrap_or_default().to_owned();
        let apply = entry["operation"] == "Apply";
        *out.entry((name, apply)).or_default() += entry.to_string().len();
    }
    out
}

/// The largest managers of `shares`, with their bytes, as a refusal names them.
fn largest(shares: &BTreeMap<(String, bool), usize>) -> String {
    let mut all: Vec<_> = shares.iter().collect();
    all.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let named: Vec<String> = all
        .into_iter()
        .take(NAMED)
        .map(|((name, apply), bytes)| format!("{name:?} ({}) {bytes} bytes", operation(*apply)))
        .collect();
    named.join(", ")
}

fn operation(apply: bool) -> &'static str {
    if apply { "Apply" } else { "Update" }
}

/// Refuses (413, naming `managedFields` and the largest managers) a write by `writer` that
/// grows `managedFields` from `before` to `after` past its bounds (the module's rules).
/// A write that keeps or shrinks what it is held to goes through, so nobody is locked out by
/// what someone else wrote; `advice` says what to do instead.
pub(super) fn check_managed_size(
    writer: Writer<'_>,
    before: Option<&Value>,
    after: &Value,
    advice: &str,
) -> Result<(), ApiError> {
    let Writer {
        manager,
        apply,
        write,
    } = writer;
    let (was, is) = (shares(before), shares(Some(after)));
    let key = (manager.to_owned(), apply);
    let (mine_before, mine) = (
        was.get(&key).copied().unwrap_or(0),
        is.get(&key).copied().unwrap_or(0),
    );
    let op = operation(apply);
    if mine > SHARE_MAX_BYTES && mine > mine_before {
        return Err(ApiError::TooLarge(format!(
            "this {write} would make the managedFields of field manager {manager:?} ({op}) \
             {mine} bytes, more than the {SHARE_MAX_BYTES} one manager may hold: {advice} \
             (largest managers: {})",
            largest(&is)
        )));
    }
    let size = |v: &Value| v.to_string().len();
    let (before, after) = (before.map_or(0, size), size(after));
    let growth = after.saturating_sub(before);
    if after <= MANAGED_MAX_BYTES || growth == 0 {
        return Ok(());
    }
    if growth > MANAGED_SMALL_GROWTH {
        return Err(ApiError::TooLarge(format!(
            "this {write} would make the object's managedFields {after} bytes ({growth} more), \
             more than the {MANAGED_MAX_BYTES} kept: {advice} (largest managers: {})",
            largest(&is)
        )));
    }
    let small = mine <= SMALL_SHARE_BYTES && after <= MANAGED_ABSOLUTE_MAX_BYTES;
    if after > MANAGED_HARD_MAX_BYTES && !small {
        return Err(ApiError::TooLarge(format!(
            "this {write} would make the object's managedFields {after} bytes, more than the \
             {MANAGED_HARD_MAX_BYTES} past which only managers holding at most \
             {SMALL_SHARE_BYTES} bytes may add fields ({manager:?} ({op}) would hold {mine}): \
             largest managers: {}; remove their fields, or clear managedFields \
             (metadata.managedFields: [{{}}])",
            largest(&is)
        )));
    }
    Ok(())
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
        let after = json!([entry("alice", "Update", 540_000)]);
        let Err(ApiError::TooLarge(message)) =
            check_managed_size(writer("alice"), Some(&before), &after, "set fewer")
        else {
            panic!("alice past her share");
        };
        assert!(message.contains("\"alice\" (Update)"), "{message}");
        // Her Apply entry is another share; a shrinking write is never refused.
        let applied = json!([
            entry("alice", "Update", 500_000),
            entry("alice", "Apply", 400_000)
        ]);
        let alice_apply = Writer {
            apply: true,
            ..writer("alice")
        };
        assert!(check_managed_size(alice_apply, Some(&before), &applied, "").is_ok());
        let smaller = json!([entry("alice", "Update", 100_000)]);
        assert!(check_managed_size(writer("alice"), Some(&after), &smaller, "").is_ok());
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
        let more = Value::Array(more);
        assert!(more.to_string().len() > MANAGED_HARD_MAX_BYTES);
        check_managed_size(writer("mallory"), Some(&before), &more, "").expect("a small manager");
        let mut bigger = more.clone();
        bigger[0] = entry("a1", "Update", SHARE_MAX_BYTES - 1_000);
        let Err(ApiError::TooLarge(message)) =
            check_managed_size(writer("a1"), Some(&more), &bigger, "")
        else {
            panic!("a big manager past the hard bound");
        };
        assert!(message.contains("\"a2\" (Update)"), "{message}");
        // A flood of small managers stops at the absolute bound.
        let mut flood = full;
        let mut refused = false;
        for i in 0..64 {
            let before = Value::Array(flood.clone());
            flood.push(entry(&format!("m{i}"), "Update", 12_000));
            let after = Value::Array(flood.clone());
            let name = format!("m{i}");
            if check_managed_size(writer(&name), Some(&before), &after, "").is_err() {
                refused = true;
                assert!(before.to_string().len() <= MANAGED_ABSOLUTE_MAX_BYTES);
                break;
            }
        }
        assert!(refused, "the flood was never stopped");
    }
}
