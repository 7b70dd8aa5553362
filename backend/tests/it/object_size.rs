//! One stored object is bounded (review 11 E2): writes of its parts, a stream's tags one PUT at
//! a time, each under the body limit, could otherwise grow it without end, and with it every
//! write of it and every list of its project. The write that would pass the bound is a 413
//! naming the object, and nothing already stored changes.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tagstream_shared::paths::{imagestream, imagestreamtag};

use crate::support::{TestApp, assert_status, stream_json};

/// A tag of `name` whose annotations carry three values of 1 MiB.
fn heavy_tag(name: &str) -> Value {
    let value = "x".repeat(1 << 20);
    json!({
        "kind": "ImageStreamTag",
        "apiVersion": "image.openshift.io/v1",
        "metadata": {"name": name},
        "tag": {"name": name.rsplit(':').next(), "annotations": {"a": value, "b": value, "c": value},
                "from": {"kind": "DockerImage", "name": "quay.io/demo/ruby:3.3"}}
    })
}

#[tokio::test]
async fn a_stream_cannot_grow_past_the_object_bound_one_tag_at_a_time() {
    let app = TestApp::start().await;
    app.create_project("demo").await;
    app.create_stream(
        "demo",
        &stream_json("ruby", "latest", "quay.io/demo/ruby:3.3"),
    )
    .await;
    for tag in ["t0", "t1"] {
        let (code, body) = app
            .put(
                &imagestreamtag("demo", "ruby", tag),
                &heavy_tag(&format!("ruby:{tag}")),
            )
            .await;
        assert_eq!(code, StatusCode::CREATED, "{body}");
    }
    let (_, before) = app.get(&imagestream("demo", "ruby")).await;

    // The third would make the stream over 9 MiB.
    let (code, body) = app
        .put(&imagestreamtag("demo", "ruby", "t2"), &heavy_tag("ruby:t2"))
        .await;
    let status = assert_status(body, code, "RequestEntityTooLarge");
    assert!(
        status.message.contains("\"ruby\"") && status.message.contains("more than"),
        "{}",
        status.message
    );
    let (code, after) = app.get(&imagestream("demo", "ruby")).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(after, before, "a refused write changed the stream");

    // Room made, a tag goes in again.
    let (code, body) = app.delete(&imagestreamtag("demo", "ruby", "t1")).await;
    assert!(code.is_success(), "{body}");
    let (code, body) = app
        .put(&imagestreamtag("demo", "ruby", "t2"), &heavy_tag("ruby:t2"))
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
}
