//! The live delivery log: a watch of a trigger's deliveries hears of a new delivery and of its
//! attempt, on either store (`TAGSTREAM_TEST_POSTGRES=1` runs it on PostgreSQL, where the
//! deliveries' writes once bypassed the change log and the console's log stood still).

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::StatusCode;
use serde_json::Value;
use tagstream_shared::paths::{deliveries, triggers};

use crate::receiver::Receiver;
use crate::support::{TestApp, digest, stream_json};
use crate::triggers::{config, move_tag, trigger_json};
use crate::watch::Events;

/// The next event about a delivery of `trigger`, skipping bookmarks.
async fn next_delivery_event(events: &mut Events, trigger: &str) -> Value {
    loop {
        let event = events.next().await;
        if event["object"]["trigger"] == trigger {
            return event;
        }
    }
}

#[tokio::test]
async fn a_watch_of_the_deliveries_hears_a_new_delivery_and_its_attempt() {
    let mut receiver = Receiver::start().await;
    let app = TestApp::start_with_config(config(&[receiver.addr.to_string()])).await;
    app.create_project("demo").await;
    app.create_stream(
        "demo",
        &stream_json("ruby", "latest", "quay.io/demo/ruby:3.3"),
    )
    .await;
    let (code, created) = app
        .post(
            &triggers("demo"),
            &trigger_json("deploy", "ImageStreamTag", "ruby:latest", &receiver.url()),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    let (code, list) = app.get(&deliveries("demo", "deploy")).await;
    assert_eq!(code, StatusCode::OK, "{list}");
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0), "{list}");
    let rv = list["metadata"]["resourceVersion"].as_str().unwrap();
    let watch = app
        .client
        .get(app.url(&format!(
            "{}?watch=true&resourceVersion={rv}",
            deliveries("demo", "deploy")
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(watch.status(), StatusCode::OK);
    let mut events = Events::lines(watch);

    move_tag(
        &app.client,
        &app.base,
        "demo",
        "ruby",
        "latest",
        &digest('b'),
    )
    .await;
    let added = next_delivery_event(&mut events, "deploy").await;
    assert_eq!(added["type"], "ADDED", "{added}");
    assert_eq!(
        added["object"]["event"]["newDigest"],
        digest('b'),
        "{added}"
    );
    let id = added["object"]["metadata"]["name"].clone();

    receiver.next(crate::support::PATIENCE).await;
    let attempted = loop {
        let event = next_delivery_event(&mut events, "deploy").await;
        if event["object"]["status"]["phase"] != "Pending" {
            break event;
        }
    };
    assert_eq!(attempted["type"], "MODIFIED", "{attempted}");
    assert_eq!(attempted["object"]["metadata"]["name"], id, "{attempted}");
    assert_eq!(
        attempted["object"]["status"]["phase"], "Delivered",
        "{attempted}"
    );
    assert_eq!(
        attempted["object"]["status"]["lastStatusCode"], 200,
        "{attempted}"
    );
    app.stop().await;
}
