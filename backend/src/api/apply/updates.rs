//! Writes other than apply (create, replace, merge and JSON patch) recorded as field managers,
//! as Kubernetes records them (operation `Update`): the fields a write sets or changes become
//! its manager's and leave every other manager's (an update takes them over without a
//! conflict), and the fields it removes leave every manager. So a later apply that names a
//! field `kubectl label` or `kubectl edit` changed conflicts with that manager, as it would on
//! a cluster. `managedFields` in the body of such a write are not taken: the stored ones are
//! carried forward (a `PUT` without them must not forget who owns what), except Kubernetes'
//! reset, `managedFields: [{}]` ([`resets`]): the record is cleared first, then the write is
//! recorded, so that its manager holds what it set and nobody else anything. An empty list is
//! no reset (as in Kubernetes: a client that drops what it does not know must not wipe it).
//!
//! Past ten `Update` entries the oldest are merged into one `ancient-changes` entry, as
//! Kubernetes does, so writers under ever new names add no entry each. Unlike Kubernetes,
//! `ancient-changes` holds no more than one manager's share ([`SHARE_MAX_BYTES`]): past it the
//! oldest writers' fields are let go of (who wrote them is forgotten, their values stay), so
//! that a flood of new names cannot fill the record and lock everyone else out.
//!
//! The manager is the request's `fieldManager` (kubectl sends `kubectl-create`,
//! `kubectl-label`, `kubectl-edit`, `kubectl-client-side-apply`, ...), or else the
//! `User-Agent` up to its first `/` (`curl`), as kube-apiserver does.

use serde::Serialize;
use serde_json::{Value, json};
use tagstream_shared::Time;
use tagstream_shared::object::Object;

use super::bounds::{SHARE_MAX_BYTES, Writer, check_managed_size};
use super::fields_v1::Entry;
use super::paths::{Values, leaf_values};
use super::{FieldSet, entries, to_fields_v1};
use crate::error::ApiError;

/// Where the oldest updates are filed once an object has more than [`UPDATERS_MAX`] of them
/// (as Kubernetes does).
const ANCIENT: &str = "ancient-changes";
/// The most `Update` entries an object keeps (Kubernetes' `DefaultMaxUpdateManagers`): a
/// flood of writers under new names does not add an entry each.
const UPDATERS_MAX: usize = 10;
/// The most the fields of [`ANCIENT`] may take (as `fieldsV1` JSON): one manager's share, less
/// room for the rest of its entry.
const ANCIENT_FIELDS_MAX: usize = SHARE_MAX_BYTES - 256;

/// The `managedFields` `new` is to be written with, by `manager` over `old` (`None`: a
/// create), both as JSON; `None` when it has none. A write that would grow them past their
/// bound is a 413 naming `managedFields`, as an apply is ([`check_managed_size`]): an update's
/// many fields would otherwise fill the record and lock every later applier out.
pub fn managed_after_update(
    kind: &str,
    api_version: &str,
    old: Option<&Value>,
    new: &Value,
    manager: &str,
    now: Time,
) -> Result<Option<Value>, ApiError> {
    let empty = json!({});
    let old = old.unwrap_or(&empty);
    let stored = old.pointer("/metadata/managedFields").cloned();
    let mut was = Values::new();
    leaf_values(kind, old, &mut Vec::new(), &mut was);
    let mut is = Values::new();
    leaf_values(kind, new, &mut Vec::new(), &mut is);
    let changed: FieldSet = is
        .iter()
        .filter(|(p, v)| was.get(*p) != Some(*v))
        .map(|(p, _)| p.clone())
        .collect();
    let removed: FieldSet = was
        .keys()
        .filter(|p| !is.contains_key(*p))
        .cloned()
        .collect();
    if changed.is_empty() && removed.is_empty() {
        // Nothing changed hands: the record stays as it was, time included.
        return Ok(stored);
    }
    let mut entries = entries(old);
    let mine = entries.iter().position(|e| e.is(manager, None) && !e.apply);
    for (i, e) in entries.iter_mut().enumerate() {
        if Some(i) != mine {
            e.fields
                .retain(|p| !changed.contains(p) && !removed.contains(p));
        }
    }
    let mut fields: FieldSet = mine.map(|i| entries[i].fields.clone()).unwrap_or_default();
    fields.extend(changed);
    fields.retain(|p| !removed.contains(p));
    let entry = |name: &str, fields: &FieldSet| {
        json!({
            "manager": name,
            "operation": "Update",
            "apiVersion": api_version,
            "time": now,
            "fieldsType": "FieldsV1",
            "fieldsV1": to_fields_v1(fields),
        })
    };
    let mut kept: Vec<Entry> = Vec::with_capacity(entries.len() + 1);
    let own = |fields: FieldSet| Entry {
        raw: entry(manager, &fields),
        manager: manager.to_owned(),
        subresource: None,
        apply: false,
        fields,
    };
    for (i, e) in entries.into_iter().enumerate() {
        if Some(i) == mine {
            if !fields.is_empty() {
                kept.push(own(fields.clone()));
            }
        } else if !e.fields.is_empty() {
            kept.push(e);
        }
    }
    if mine.is_none() && !fields.is_empty() {
        kept.push(own(fields));
    }
    let managed: Vec<Value> = cap_updaters(kept, api_version)
        .into_iter()
        .map(|e| {
            let mut raw = e.raw;
            raw["fieldsV1"] = to_fields_v1(&e.fields);
            raw
        })
        .collect();
    if managed.is_empty() {
        return Ok(None);
    }
    let mut managed = Value::Array(managed);
    check_managed_size(
        Writer::updater(manager),
        stored.as_ref(),
        &mut managed,
        "set fewer fields in one write (each field a write sets is recorded for its manager)",
    )?;
    Ok(Some(managed))
}

/// `entries` with the oldest `Update` entries (by `time`, then name) merged into one
/// `ancient-changes` entry, until no more than [`UPDATERS_MAX`] are left, as Kubernetes'
/// `capManagersManager` does: the newest writers keep their names. The merged entry holds
/// their fields, newest writer first, as far as [`ANCIENT_FIELDS_MAX`] allows (the older ones
/// are let go of, and no entry is left if none fit), and the newest time among them, where the
/// oldest of them was.
fn cap_updaters(entries: Vec<Entry>, api_version: &str) -> Vec<Entry> {
    let updaters: Vec<usize> = (0..entries.len()).filter(|&i| !entries[i].apply).collect();
    if updaters.len() <= UPDATERS_MAX {
        return entries;
    }
    let bucket = updaters
        .iter()
        .copied()
        .find(|&i| entries[i].manager == ANCIENT && entries[i].subresource.is_none());
    let time = |i: usize| entries[i].raw["time"].as_str().unwrap_or_default();
    let mut oldest: Vec<usize> = updaters
        .iter()
        .copied()
        .filter(|&i| Some(i) != bucket)
        .collect();
    oldest.sort_by(|&a, &b| {
        time(a)
            .cmp(time(b))
            .then_with(|| entries[a].manager.cmp(&entries[b].manager))
    });
    // Into an existing bucket, or a new one that is itself one of the entries kept.
    let merged = updaters.len() - UPDATERS_MAX + usize::from(bucket.is_none());
    oldest.truncate(merged);
    let newest = oldest.iter().copied().chain(bucket).map(time).max();
    let newest = newest.unwrap_or_default();
    // The newest writers' fields first, then older ones' while they fit in one share; the
    // bucket's own are the oldest of all.
    let sources = oldest.iter().rev().chain(bucket.as_ref());
    let mut fields = FieldSet::new();
    for &i in sources {
        let mut more = fields.clone();
        more.extend(entries[i].fields.iter().cloned());
        if to_fields_v1(&more).to_string().len() > ANCIENT_FIELDS_MAX {
            break;
        }
        fields = more;
    }
    let ancient = Entry {
        raw: json!({
            "manager": ANCIENT,
            "operation": "Update",
            "apiVersion": api_version,
            "time": newest,
            "fieldsType": "FieldsV1",
        }),
        manager: ANCIENT.to_owned(),
        subresource: None,
        apply: false,
        fields,
    };
    let at = oldest.iter().copied().chain(bucket).min();
    let mut ancient = (!ancient.fields.is_empty()).then_some(ancient);
    let mut out = Vec::with_capacity(entries.len());
    for (i, e) in entries.into_iter().enumerate() {
        if Some(i) == at {
            out.extend(ancient.take());
        } else if Some(i) != bucket && !oldest.contains(&i) {
            out.push(e);
        }
    }
    out
}

/// Whether `sent`, the `managedFields` a write's body carries, is Kubernetes' reset: a list of
/// one empty entry (`[{}]`). An empty list is not one.
pub fn resets(sent: Option<&Value>) -> bool {
    match sent.and_then(Value::as_array).map(Vec::as_slice) {
        Some([only]) => only.as_object().is_some_and(serde_json::Map::is_empty),
        _ => false,
    }
}

/// Records on `new` (typed) that `manager` wrote it over `old` (`None`: a create), after
/// clearing the record when `new` carries the reset ([`resets`]).
pub fn record<T: Object + Serialize>(
    old: Option<&T>,
    new: &mut T,
    manager: &str,
    now: Time,
) -> Result<(), ApiError> {
    let internal = |e: serde_json::Error| ApiError::Internal(Box::new(e));
    let mut old = old
        .map(serde_json::to_value)
        .transpose()
        .map_err(internal)?;
    if resets(new.metadata().extra.get("managedFields"))
        && let Some(meta) = old
            .as_mut()
            .and_then(|o| o.get_mut("metadata"))
            .and_then(Value::as_object_mut)
    {
        meta.remove("managedFields");
    }
    let doc = serde_json::to_value(&*new).map_err(internal)?;
    let managed = managed_after_update(T::KIND, T::API_VERSION, old.as_ref(), &doc, manager, now)?;
    let extra = &mut new.metadata_mut().extra;
    match managed {
        Some(m) => extra.insert("managedFields".to_owned(), m),
        None => extra.remove("managedFields"),
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Time {
        Time::from_timestamp(1_700_000_000)
    }

    fn managers(v: &Option<Value>) -> Vec<(String, String)> {
        v.as_ref()
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|e| {
                (
                    e["manager"].as_str().unwrap_or_default().to_owned(),
                    e["operation"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn an_update_takes_the_fields_it_changes_from_an_applier() {
        let applied = json!({"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
            "metadata": {"name": "s", "labels": {"team": "a", "tier": "web"}}});
        let options = super::super::ApplyOptions {
            manager: Some("ci".into()),
            force: false,
            user_agent: None,
        };
        let target = super::super::Target::object("ImageStream", "image.openshift.io/v1");
        let live = super::super::apply(target, None, &applied, &applied, &options, now())
            .expect("applies");
        let mut labelled = live.clone();
        labelled["metadata"]["labels"]["team"] = json!("b");
        let managed = managed_after_update(
            "ImageStream",
            "image.openshift.io/v1",
            Some(&live),
            &labelled,
            "kubectl-label",
            now(),
        )
        .expect("a small write");
        assert_eq!(
            managers(&managed),
            [
                ("ci".to_owned(), "Apply".to_owned()),
                ("kubectl-label".to_owned(), "Update".to_owned())
            ]
        );
        let entries = managed.unwrap_or_default();
        assert_eq!(
            entries[0]["fieldsV1"],
            json!({"f:metadata": {"f:labels": {"f:tier": {}}}})
        );
        assert_eq!(
            entries[1]["fieldsV1"],
            json!({"f:metadata": {"f:labels": {"f:team": {}}}})
        );
        // The applier naming the label again now conflicts with kubectl-label.
        labelled["metadata"]["managedFields"] = entries;
        let again =
            super::super::apply(target, Some(&labelled), &applied, &applied, &options, now());
        assert!(
            matches!(again, Err(ApiError::ApplyConflict { .. })),
            "{again:?}"
        );
    }

    #[test]
    fn a_write_that_changes_nothing_keeps_the_record_and_a_removal_leaves_every_manager() {
        let old = json!({"metadata": {"name": "s", "labels": {"a": "1"},
            "managedFields": [{"manager": "x", "operation": "Update", "time": "2020-01-01T00:00:00Z",
                "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:labels": {"f:a": {}}}}}]}});
        let same = managed_after_update("Template", "v", Some(&old), &old, "y", now());
        assert_eq!(
            same.ok(),
            Some(old.pointer("/metadata/managedFields").cloned())
        );
        let mut gone = old.clone();
        if let Some(meta) = gone["metadata"].as_object_mut() {
            meta.remove("labels");
        }
        assert_eq!(
            managed_after_update("Template", "v", Some(&old), &gone, "y", now()).ok(),
            Some(None)
        );
    }

    #[test]
    fn past_ten_updaters_the_oldest_are_merged_into_ancient_changes() {
        let mut doc = json!({"metadata": {"name": "s"}});
        for i in 0..UPDATERS_MAX + 3 {
            let mut next = doc.clone();
            next["metadata"]["labels"][format!("l{i}")] = json!("v");
            let at = Time::from_timestamp(1_700_000_000 + i64::try_from(i).unwrap_or_default());
            let manager = format!("m{i:02}");
            let managed = managed_after_update("Template", "v", Some(&doc), &next, &manager, at);
            next["metadata"]["managedFields"] = managed.ok().flatten().unwrap_or_default();
            doc = next;
        }
        let record = Some(doc["metadata"]["managedFields"].clone());
        let names: Vec<String> = managers(&record).into_iter().map(|(m, _)| m).collect();
        assert_eq!(names.len(), UPDATERS_MAX, "{names:?}");
        assert_eq!(names[0], ANCIENT);
        assert_eq!(names[1], "m04");
        assert_eq!(names.last().map(String::as_str), Some("m12"));
        // The merged entry holds the oldest writers' labels, and the newest time among them.
        let ancient = &doc["metadata"]["managedFields"][0];
        let labels = &ancient["fieldsV1"]["f:metadata"]["f:labels"];
        for i in 0..4 {
            assert!(labels.get(format!("f:l{i}")).is_some(), "{ancient}");
        }
        assert_eq!(ancient["time"], json!(Time::from_timestamp(1_700_000_003)));
    }

    #[test]
    fn ancient_changes_holds_one_share_and_lets_go_of_the_oldest_writers_first() {
        // Two writers of about 60% of a share each, then new names, one label each.
        let mut doc = json!({"metadata": {"name": "s"}});
        let mut write = |manager: &str, from: usize, to: usize, second: i64| {
            let mut next = doc.clone();
            for i in from..to {
                next["metadata"]["labels"][format!("example.com/label-{i:08}")] = json!("v");
            }
            let at = Time::from_timestamp(1_700_000_000 + second);
            let managed = managed_after_update("Template", "v", Some(&doc), &next, manager, at);
            next["metadata"]["managedFields"] = managed.ok().flatten().unwrap_or_default();
            doc = next;
        };
        write("big0", 0, 9_000, 0);
        write("big1", 9_000, 18_000, 1);
        for i in 0..UPDATERS_MAX {
            write(
                &format!("m{i:02}"),
                20_000 + i,
                20_001 + i,
                2 + i64::try_from(i).unwrap_or(0),
            );
        }
        let record = doc["metadata"]["managedFields"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let ancient = &record[0];
        assert_eq!(ancient["manager"], ANCIENT);
        assert!(
            ancient.to_string().len() <= SHARE_MAX_BYTES,
            "{}",
            ancient.to_string().len()
        );
        // big1 and the first new name were merged last: theirs are kept; big0's are let go of.
        let labels = &ancient["fieldsV1"]["f:metadata"]["f:labels"];
        assert!(labels.get("f:example.com/label-00009000").is_some());
        assert!(labels.get("f:example.com/label-00020000").is_some());
        assert!(labels.get("f:example.com/label-00000000").is_none());
        // The data stays.
        assert_eq!(doc["metadata"]["labels"]["example.com/label-00000000"], "v");
    }

    /// A template whose labels `l{from}`..`l{to}` (long names) are set by `manager` over `doc`.
    fn labelled(doc: &Value, manager: &str, from: usize, to: usize) -> Result<Value, ApiError> {
        let mut next = doc.clone();
        for i in from..to {
            next["metadata"]["labels"][format!("example.com/label-{i:08}")] = json!("v");
        }
        let managed = managed_after_update("Template", "v", Some(doc), &next, manager, now())?;
        next["metadata"]["managedFields"] = managed.unwrap_or_default();
        Ok(next)
    }

    #[test]
    fn an_update_that_would_fill_managed_fields_is_refused_naming_them() {
        let doc = json!({"metadata": {"name": "s"}});
        // About 33 bytes a label: 12,000 fit in one manager's 512 KiB, 24,000 do not.
        let doc = labelled(&doc, "editor", 0, 12_000).expect("fits");
        let Err(ApiError::TooLarge(message)) = labelled(&doc, "editor", 12_000, 24_000) else {
            panic!("a bulk write past the bound is refused");
        };
        assert!(message.contains("managedFields"), "{message}");
        assert!(message.contains("\"editor\" (Update)"), "{message}");
        // Another manager's few fields still go in.
        labelled(&doc, "kubectl-label", 40_000, 40_010).expect("a small write goes through");
    }
}
