//! Review 14 (J1): a record filled to its absolute bound (2.5 MiB), as one editor can fill it
//! under many made-up manager names, locks nobody out. Another editor's label, a new applier's
//! one-tag apply and a new tag still go in: the manager holding most is let go of to make room,
//! its fields keep their values, and the record stays within the bound.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::StatusCode;
use serde_json::json;
use tagstream_shared::paths;

use crate::api_apply_normalised::managers;
use crate::kubectl_istag_review::{
    MERGE, apply, istag, patch_as, put_tag_as, rev_app, source, stored,
};
use crate::kubectl_managed_share::{ABSOLUTE, record_len, seed_full_record};

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_managed_a_record_at_its_absolute_bound_makes_room_for_small_writers() {
    let (app, users) = rev_app(&[("bob", "edit")]).await;
    let bob = &users[0];
    // alice holds the whole record, a hundred bytes under the absolute bound.
    let n = seed_full_record(&app, ABSOLUTE).await;
    let before = stored(&app, "legacy").await;
    assert_eq!(managers(&before), ["alice"]);

    // bob's label crosses the bound: it goes in, and alice's ownership is let go of.
    let stream_path = paths::imagestream("rev", "legacy");
    let label = json!({"metadata": {"labels": {"team": "b"}}});
    let (code, body) = patch_as(&app, &bob.client, &stream_path, MERGE, &label).await;
    assert_eq!(code, StatusCode::OK, "{}", body["message"]);
    let stream = stored(&app, "legacy").await;
    assert!(record_len(&stream) <= ABSOLUTE, "{}", record_len(&stream));
    let held = managers(&stream);
    assert_eq!(
        held.len(),
        1,
        "only the label's manager holds anything now: {held:?}"
    );
    assert_ne!(held[0], "alice");
    assert_eq!(stream["metadata"]["labels"]["team"], "b");
    // Her fields keep their values: every annotation of tag s0 is still there.
    let annotations = stream["spec"]["tags"][0]["annotations"]
        .as_object()
        .unwrap();
    assert_eq!(annotations.len(), n);

    // A new applier's tag and another editor's new tag go in too.
    let one = istag("legacy:m2", source("quay.io/x/legacy:3"));
    let (code, body) = apply(&app, "legacy:m2", "fieldManager=gitops", &one).await;
    assert_eq!(code, StatusCode::CREATED, "{}", body["message"]);
    let (code, body) =
        put_tag_as(&app, &bob.client, "legacy:b1", "bob", "quay.io/x/legacy:4").await;
    assert_eq!(code, StatusCode::CREATED, "{}", body["message"]);
    let stream = stored(&app, "legacy").await;
    assert!(record_len(&stream) <= ABSOLUTE);
    let held = managers(&stream);
    assert!(held.contains(&"gitops"), "{held:?}");
    assert!(held.contains(&"bob"), "{held:?}");
}
