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
//! manager a write of at most [`SMALL_WRITE_BYTES`], and
//! nothing grows past [`MANAGED_ABSOLUTE_MAX_BYTES`]: a small writer that would cross it makes
//! room instead, by letting go of the ownership of the managers holding most ([`make_room`]; who
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
/// What letting go of ownership at [`MANAGED_ABSOLUTE_MAX_BYTES`] brings the record down to:
/// far enough under [`MANAGED_MAX_BYTES`] that a let-go applier may apply again (review 15 K2)
/// and the record is not at its bound again after a few writes.
pub(super) const MANAGED_ROOM_BYTES: usize = MANAGED_MAX_BYTES / 2;
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
/// What a refusal of a write that grows a full record much suggests: another name would grow
/// it as much.
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
    // Past the hard bound a manager holding little in all may add its fields, and any manager
    // a small write (a label, a one-field apply). Who filled the record, under however many
    // names and whichever (kubectl's defaults are everyone's), must not lock the others out
    // (reviews 13 H1, 14 J1, 15 K1, 16 L1): the absolute bound is kept by letting go of
    // ownership ([`make_room`]), which any editor may do anyway with the reset.
    let total: usize = is
        .iter()
        .filter(|((name, a, _), _)| name == manager && *a == apply)
        .map(|(_, bytes)| bytes)
        .sum();
    let small = total <= SMALL_SHARE_BYTES || growth <= SMALL_WRITE_BYTES;
    if small && after > MANAGED_ABSOLUTE_MAX_BYTES && make_room(writer, managed) {
        return Ok(());
    }
    if after > MANAGED_ABSOLUTE_MAX_BYTES || (after > MANAGED_HARD_MAX_BYTES && !small) {
        return Err(ApiError::TooLarge(format!(
            "this {write} would make the object's managedFields {after} bytes ({growth} more), \
             more than the {MANAGED_HARD_MAX_BYTES} past which only writes of at most \
             {SMALL_WRITE_BYTES} bytes, or of managers holding at most {SMALL_SHARE_BYTES} \
             bytes in all, may grow them ({manager:?} ({op}) would hold {total}): largest: {}; \
             remove their fields (or tags), {WAY_OUT}",
            largest(&is)
        )));
    }
    Ok(())
}

fn size(managed: &Value) -> usize {
    managed.to_string().len()
}

/// Brings `managed` back within [`MANAGED_ABSOLUTE_MAX_BYTES`] for `writer`, a small writer, by
/// letting go of the ownership of the other managers (name and operation, every entry of
/// theirs) holding most in all, the largest first, down to [`MANAGED_ROOM_BYTES`]: the record
/// is full, and whoever filled it must not lock out a writer that holds little, under however
/// many names it was filled (review 14 J1). Only ownership goes: the fields keep their values,
/// and a later apply of a let-go manager takes them without a conflict. An editor keeping its
/// own names small can aim this at another's ownership (review 15 K2), but no more than the
/// reset (`managedFields: [{}]`) every editor may send does, and the room left takes the
/// let-go manager's next apply. Whether it fits now.
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
    let (mut let_go, mut freed) = (Vec::new(), 0);
    for (gone, bytes) in largest {
        if is <= MANAGED_ROOM_BYTES {
            break;
        }
        entries.retain(|e| holder(e) != gone);
        is -= bytes;
        freed += bytes;
        let_go.push(gone);
    }
    // One line a make-room, however many managers it let go of (review 17 M4).
    if let Some((largest, apply)) = let_go.first() {
        tracing::info!(
            managers = let_go.len(),
            largest = %largest,
            operation = operation(*apply),
            bytes = freed,
            writer = writer.manager,
            "managedFields were full: let go of the largest managers' ownership to make room for \
             a small writer"
        );
    }
    is <= MANAGED_ABSOLUTE_MAX_BYTES
}

#[cfg(test)]
#[path = "bounds_tests.rs"]
mod tests;
