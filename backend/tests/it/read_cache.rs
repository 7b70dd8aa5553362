//! Bodies answered from memory (issue 16, `read_cache`) are never older than the last write a
//! client saw answered: a write followed at once by a read returns the new body (a stream, a
//! template, a project's lists), through one server and across two replicas on PostgreSQL; a
//! delete makes the next GET a 404; a user who loses access is refused on the very next GET
//! although the body is held in memory; a body never answers for another project; the project
//! list follows new projects, roles and deletions for each caller. Every read
//! below comes after the same read filled the cache (the tests check it holds entries).
//! With `TAGSTREAM_TEST_POSTGRES=1` the single-server tests run on PostgreSQL too; the replica
//! test always does.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tagstream_shared::paths;

use crate::replicas::{plain_stream, two_replicas};
use crate::support::TestApp;

/// Rounds of write-then-read: enough that a cache lagging behind its writes would show.
const ROUNDS: usize = 15;

fn label(body: &Value) -> &Value {
    &body["metadata"]["labels"]["round"]
}

/// GETs `path` twice (the first fills the cache), both answered `code`: the second body.
async fn get_twice(app: &TestApp, path: &str) -> Value {
    let (code, first) = app.get(path).await;
    assert_eq!(code, StatusCode::OK, "GET {path}: {first}");
    let (code, second) = app.get(path).await;
    assert_eq!(code, StatusCode::OK, "GET {path}: {second}");
    assert_eq!(first, second, "GET {path} twice, nothing written between");
    second
}

fn assert_cached(app: &TestApp) {
    let (entries, bytes) = app.state().read_cache.size();
    assert!(
        entries > 0 && bytes > 0,
        "the reads were answered through the cache ({entries} entries, {bytes} bytes)"
    );
}

#[tokio::test]
async fn a_write_followed_at_once_by_a_read_returns_the_new_body() {
    let app = TestApp::start().await;
    app.create_project("demo").await;
    let (code, created) = app
        .post(&paths::imagestreams("demo"), &plain_stream("ruby"))
        .await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    let (code, template) = app
        .post(
            &paths::templates("demo"),
            &json!({"kind": "Template", "apiVersion": "template.openshift.io/v1",
                    "metadata": {"name": "web"},
                    "objects": [{"kind": "ImageStream", "apiVersion": "v1",
                                 "metadata": {"name": "${NAME}"}}],
                    "parameters": [{"name": "NAME", "value": "web"}]}),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{template}");
    let ruby = paths::imagestream("demo", "ruby");
    let web = paths::template("demo", "web");
    let streams = paths::imagestreams("demo");
    let templates = paths::templates("demo");
    for round in 0..ROUNDS {
        let mut stream = get_twice(&app, &ruby).await;
        let mut tpl = get_twice(&app, &web).await;
        let list = get_twice(&app, &streams).await;
        assert_eq!(list["items"].as_array().unwrap().len(), 1 + round, "{list}");
        get_twice(&app, &templates).await;
        assert_cached(&app);

        stream["metadata"]["labels"] = json!({"round": round.to_string()});
        let (code, written) = app.put(&ruby, &stream).await;
        assert_eq!(code, StatusCode::OK, "{written}");
        let (code, read) = app.get(&ruby).await;
        assert_eq!(code, StatusCode::OK, "{read}");
        assert_eq!(read, written, "the stream as the write answered it");
        let (_, list) = app.get(&streams).await;
        let listed = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["metadata"]["name"] == "ruby")
            .unwrap();
        assert_eq!(label(listed), &json!(round.to_string()), "{list}");

        tpl["metadata"]["labels"] = json!({"round": round.to_string()});
        let (code, written) = app.put(&web, &tpl).await;
        assert_eq!(code, StatusCode::OK, "{written}");
        let (code, read) = app.get(&web).await;
        assert_eq!(code, StatusCode::OK, "{read}");
        assert_eq!(label(&read), &json!(round.to_string()), "{read}");
        let (_, list) = app.get(&templates).await;
        assert_eq!(
            label(&list["items"][0]),
            &json!(round.to_string()),
            "{list}"
        );

        // A new stream is in the very next list.
        let (code, body) = app
            .post(&streams, &plain_stream(&format!("new-{round}")))
            .await;
        assert_eq!(code, StatusCode::CREATED, "{body}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_delete_makes_the_next_get_a_404() {
    let app = TestApp::start().await;
    app.create_project("demo").await;
    let ruby = paths::imagestream("demo", "ruby");
    let streams = paths::imagestreams("demo");
    for round in 0..3 {
        let (code, body) = app.post(&streams, &plain_stream("ruby")).await;
        assert_eq!(code, StatusCode::CREATED, "round {round}: {body}");
        get_twice(&app, &ruby).await;
        get_twice(&app, &streams).await;
        assert_cached(&app);
        let (code, body) = app.delete(&ruby).await;
        assert_eq!(code, StatusCode::OK, "{body}");
        let (code, body) = app.get(&ruby).await;
        assert_eq!(code, StatusCode::NOT_FOUND, "round {round}: {body}");
        let (code, list) = app.get(&streams).await;
        assert_eq!(code, StatusCode::OK, "{list}");
        assert_eq!(list["items"], json!([]), "round {round}");
    }

    // The project itself: its (cached) stream and its (cached, empty) lists go with it, and
    // a project made again under its name has none of it.
    let (code, body) = app.post(&streams, &plain_stream("ruby")).await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    get_twice(&app, &ruby).await;
    get_twice(&app, &paths::templates("demo")).await;
    let (code, body) = app.delete(&paths::project("demo")).await;
    assert!(code.is_success(), "{code}: {body}");
    for path in [&ruby, &streams, &paths::templates("demo")] {
        let (code, body) = app.get(path).await;
        assert_eq!(code, StatusCode::NOT_FOUND, "GET {path}: {body}");
    }
    app.create_project("demo").await;
    let (code, body) = app.get(&ruby).await;
    assert_eq!(code, StatusCode::NOT_FOUND, "{body}");
    let (code, list) = app.get(&streams).await;
    assert_eq!(code, StatusCode::OK, "{list}");
    assert_eq!(list["items"], json!([]));
    app.stop().await;
}

#[tokio::test]
async fn a_user_who_loses_access_is_refused_on_the_very_next_get_though_the_body_is_cached() {
    let app = TestApp::start().await;
    for ns in ["demo", "other"] {
        app.create_project(ns).await;
        let mut stream = plain_stream("ruby");
        stream["metadata"]["labels"] = json!({"project": ns});
        let (code, body) = app.post(&paths::imagestreams(ns), &stream).await;
        assert_eq!(code, StatusCode::CREATED, "{body}");
    }
    let bob = app.user("bob").await;
    app.grant("demo", "bob", "view").await;
    app.grant("other", "bob", "view").await;
    let ruby = paths::imagestream("demo", "ruby");
    let streams = paths::imagestreams("demo");
    let get = |path: String| {
        let client = bob.client.clone();
        let app = &app;
        async move { app.send_as(&client, Method::GET, &path, None).await }
    };
    for _ in 0..2 {
        for ns in ["demo", "other"] {
            let (code, body) = get(paths::imagestream(ns, "ruby")).await;
            assert_eq!(code, StatusCode::OK, "{body}");
            assert_eq!(
                body["metadata"]["labels"]["project"], ns,
                "each project's own stream, never the other's"
            );
        }
        let (code, body) = get(streams.clone()).await;
        assert_eq!(code, StatusCode::OK, "{body}");
    }
    assert_cached(&app);

    // The binding goes: the project is invisible at once, cached body or not.
    let (code, body) = app.delete(&paths::rolebinding("demo", "view-bob")).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    for path in [ruby.clone(), streams.clone()] {
        let (code, body) = get(path.clone()).await;
        assert_eq!(code, StatusCode::NOT_FOUND, "GET {path}: {body}");
    }
    let (code, body) = get(paths::imagestream("other", "ruby")).await;
    assert_eq!(
        code,
        StatusCode::OK,
        "still a viewer of the other project: {body}"
    );
    // The admin still reads it, from memory.
    let (code, body) = app.get(&ruby).await;
    assert_eq!(code, StatusCode::OK, "{body}");

    // The user goes: their token signs nobody in.
    let (code, body) = app.delete(&paths::user("bob")).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let (code, body) = get(paths::imagestream("other", "ruby")).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED, "{body}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_through_one_replica_is_read_by_the_other_at_once() {
    let (a, b) = two_replicas("").await;
    let (code, body) = a
        .post(paths::PROJECTS, &json!({"metadata": {"name": "demo"}}))
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let ruby = paths::imagestream("demo", "ruby");
    let streams = paths::imagestreams("demo");
    let (code, body) = a.post(&streams, &plain_stream("ruby")).await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    for round in 0..ROUNDS {
        // B holds the stream and the list in memory...
        let (mut stream, list) = {
            let (code, first) = b.get(&ruby).await;
            assert_eq!(code, StatusCode::OK, "{first}");
            let (code, second) = b.get(&ruby).await;
            assert_eq!(code, StatusCode::OK, "{second}");
            assert_eq!(first, second);
            b.get(&streams).await;
            (second, b.get(&streams).await.1)
        };
        assert_eq!(list["items"].as_array().unwrap().len(), 1 + round, "{list}");
        // ...and answers what A wrote the moment A answered.
        stream["metadata"]["labels"] = json!({"round": round.to_string()});
        let (code, written) = a.put(&ruby, &stream).await;
        assert_eq!(code, StatusCode::OK, "{written}");
        let (code, read) = b.get(&ruby).await;
        assert_eq!(code, StatusCode::OK, "{read}");
        assert_eq!(read, written, "round {round}: B answers A's write");
        let (_, list) = b.get(&streams).await;
        let listed = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["metadata"]["name"] == "ruby")
            .unwrap();
        assert_eq!(label(listed), &json!(round.to_string()), "{list}");
        let (code, body) = a
            .post(&streams, &plain_stream(&format!("new-{round}")))
            .await;
        assert_eq!(code, StatusCode::CREATED, "{body}");
    }
    let (code, body) = a.send(Method::DELETE, &ruby, None).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let (code, body) = b.get(&ruby).await;
    assert_eq!(code, StatusCode::NOT_FOUND, "deleted through A: {body}");
}

/// A project's list with `Accept-Encoding: gzip`: the status, its Content-Encoding and the
/// JSON it decodes to.
async fn gzipped_list(app: &TestApp, path: &str) -> (StatusCode, Option<String>, Value) {
    let resp = app
        .anonymous
        .get(app.url(path))
        .bearer_auth(crate::support::ADMIN_TOKEN)
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    let code = resp.status();
    let encoding = resp
        .headers()
        .get("content-encoding")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = resp.bytes().await.unwrap();
    let mut text = String::new();
    if encoding.as_deref() == Some("gzip") {
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut text)
            .unwrap();
    } else {
        text = String::from_utf8(bytes.to_vec()).unwrap();
    }
    (code, encoding, serde_json::from_str(&text).unwrap())
}

#[tokio::test]
async fn a_big_list_gzipped_from_memory_is_the_list_and_follows_writes() {
    let app = TestApp::start().await;
    app.create_project("demo").await;
    let streams = paths::imagestreams("demo");
    let mut big = plain_stream("big");
    big["metadata"]["annotations"] = json!({"note": "x".repeat(100 * 1024)});
    let (code, body) = app.post(&streams, &big).await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    for round in 0..3 {
        for _ in 0..2 {
            let (code, encoding, gzipped) = gzipped_list(&app, &streams).await;
            assert_eq!(code, StatusCode::OK, "{gzipped}");
            assert_eq!(encoding.as_deref(), Some("gzip"));
            let (code, plain) = app.get(&streams).await;
            assert_eq!(code, StatusCode::OK);
            assert_eq!(gzipped, plain, "the same list, compressed");
        }
        assert_cached(&app);
        let mut stream = app.get(&paths::imagestream("demo", "big")).await.1;
        stream["metadata"]["labels"] = json!({"round": round.to_string()});
        let (code, written) = app.put(&paths::imagestream("demo", "big"), &stream).await;
        assert_eq!(code, StatusCode::OK, "{written}");
        let (_, _, gzipped) = gzipped_list(&app, &streams).await;
        assert_eq!(label(&gzipped["items"][0]), &json!(round.to_string()));
        assert_eq!(
            gzipped["metadata"]["resourceVersion"], written["metadata"]["resourceVersion"],
            "the list is at the write"
        );
    }
    app.stop().await;
}

/// The project list, held whole in memory and filtered for each caller, follows a new project,
/// a granted role and a deleted project on the very next request: a caller sees only the
/// projects they have a role in, the admin every one.
#[tokio::test]
async fn the_project_list_follows_writes_and_each_callers_access_at_once() {
    let app = TestApp::start().await;
    let bob = app.user("bob").await;
    let names = |list: &Value| -> Vec<String> {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["metadata"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let as_bob = || app.send_as(&bob.client, Method::GET, paths::PROJECTS, None);
    for round in 0..3 {
        let ns = format!("p{round}");
        get_twice(&app, paths::PROJECTS).await;
        app.create_project(&ns).await;
        let all = get_twice(&app, paths::PROJECTS).await;
        assert!(names(&all).contains(&ns), "{all}");
        assert_eq!(names(&all).len(), round + 1, "{all}");
        let (code, bobs) = as_bob().await;
        assert_eq!(code, StatusCode::OK, "{bobs}");
        assert_eq!(
            names(&bobs).len(),
            round,
            "bob has no role in {ns} yet: {bobs}"
        );
        app.grant(&ns, "bob", "view").await;
        let (_, bobs) = as_bob().await;
        assert!(names(&bobs).contains(&ns), "bob was granted {ns}: {bobs}");
    }
    let (code, body) = app.send(Method::DELETE, &paths::project("p0"), None).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let all = get_twice(&app, paths::PROJECTS).await;
    assert_eq!(names(&all), ["p1", "p2"], "{all}");
    let (_, bobs) = as_bob().await;
    assert_eq!(names(&bobs), ["p1", "p2"], "{bobs}");
}
