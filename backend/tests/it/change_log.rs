//! The change log (what watches resume from) is bounded by size, not only by count (review 13
//! H3): it kept the last 2,000 changes whole, so one editor rewriting a big stream grew the
//! database by gigabytes. Past 32 MiB of kept bodies, the oldest revisions are pruned, and a
//! watch from them is answered 410 Gone.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::StatusCode;
use serde_json::{Value, json};
use tagstream_shared::paths::imagestream;

use crate::support::{TestApp, stream_json};

#[tokio::test]
async fn rewriting_a_big_stream_prunes_the_change_log_by_size() {
    let app = TestApp::start().await;
    app.create_project("demo").await;
    let created = app
        .create_stream("demo", &stream_json("big", "1", "quay.io/demo/big:1"))
        .await;
    let first = created.metadata.revision();
    assert!(first > 0, "a stored object has a resourceVersion");
    let path = imagestream("demo", "big");
    let (_, mut stream) = app.get(&path).await;
    // Seventeen writes of a 2 MiB tag annotation: 34 MiB of whole objects in the log.
    for i in 0..17 {
        stream["spec"]["tags"][0]["annotations"] =
            json!({ "note": format!("{i:02}{}", "x".repeat(2 << 20)) });
        let (code, body) = app.put(&path, &stream).await;
        assert_eq!(code, StatusCode::OK, "{}", body["message"]);
        stream = body;
    }
    // The stream's first revisions are gone from the log; the newest are there.
    let since_first = app.store().changed_since(first, 100).await.unwrap();
    assert!(since_first.pruned, "34 MiB of changes kept");
    let newest: u64 = stream["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let since_newest = app.store().changed_since(newest - 1, 100).await.unwrap();
    assert!(!since_newest.pruned);
    // A watch from the first is told so.
    let (code, body): (StatusCode, Value) = app
        .get(&format!(
            "{}?watch=true&resourceVersion={first}",
            tagstream_shared::paths::imagestreams("demo")
        ))
        .await;
    assert_eq!(code, StatusCode::GONE, "{body}");
    app.stop().await;
}
