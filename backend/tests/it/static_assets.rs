//! The console's hashed assets as a browser sees them: the very bytes with their content type,
//! cached for good, a tag that turns a revalidation into a 304, a compressed copy for a client
//! that accepts one, and the build the server started with kept whole while a new build
//! replaces the files on disk. `index.html` and the deep links stay revalidated.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use std::io::Read as _;

use reqwest::StatusCode;

use crate::support::TestApp;

const CSS: &str = "main-0123456789abcdef.css";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// A stylesheet big enough to be worth compressing, with no precompressed copy beside it.
fn css() -> String {
    (0..200)
        .map(|i| format!(".rule-{i} {{ color: #{:06x}; }}\n", i * 997))
        .collect()
}

fn dist_with_css() -> tempfile::TempDir {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(
        dist.path().join("index.html"),
        format!("<!doctype html><title>console</title><link rel=stylesheet href=/{CSS}>"),
    )
    .unwrap();
    std::fs::write(dist.path().join(CSS), css()).unwrap();
    dist
}

#[tokio::test]
async fn a_hashed_asset_has_its_bytes_type_and_a_tag_that_answers_304() {
    let dist = dist_with_css();
    let app = TestApp::start_with_dist(dist.path()).await;
    let url = app.url(&format!("/{CSS}"));

    let resp = app.anonymous.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let head = resp.headers().clone();
    assert_eq!(head["content-type"], "text/css");
    assert_eq!(head["cache-control"], IMMUTABLE);
    assert!(head.get("content-encoding").is_none(), "not asked for");
    assert_eq!(head["content-length"], css().len().to_string().as_str());
    assert!(head.get("last-modified").is_some());
    let etag = head["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    assert_eq!(resp.text().await.unwrap(), css());

    // A browser revalidating what it holds: no body again.
    for sent in [
        etag.clone(),
        format!("W/{etag}"),
        format!("\"other\", {etag}"),
    ] {
        let resp = app
            .anonymous
            .get(&url)
            .header("If-None-Match", &sent)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_MODIFIED, "{sent}");
        assert_eq!(resp.headers()["etag"], etag.as_str());
        assert_eq!(resp.headers()["cache-control"], IMMUTABLE);
        assert!(resp.bytes().await.unwrap().is_empty());
    }
    let other = app
        .anonymous
        .get(&url)
        .header("If-None-Match", "\"some-other-build\"")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::OK);
    assert_eq!(other.text().await.unwrap(), css());

    // HEAD: the headers of a GET, no body.
    let resp = app.anonymous.head(&url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "text/css");
    assert_eq!(
        resp.headers()["content-length"],
        css().len().to_string().as_str()
    );
    assert!(resp.bytes().await.unwrap().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_hashed_asset_without_a_precompressed_copy_is_gzipped_for_a_client_that_accepts_it() {
    let dist = dist_with_css();
    let app = TestApp::start_with_dist(dist.path()).await;
    let url = app.url(&format!("/{CSS}"));
    let plain = app.anonymous.get(&url).send().await.unwrap();
    let plain_tag = plain.headers()["etag"].to_str().unwrap().to_owned();

    let resp = app
        .anonymous
        .get(&url)
        .header("Accept-Encoding", "gzip, deflate")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let head = resp.headers().clone();
    assert_eq!(head["content-encoding"], "gzip");
    assert_eq!(head["content-type"], "text/css");
    assert_eq!(head["vary"], "accept-encoding");
    assert_eq!(head["cache-control"], IMMUTABLE);
    let gz_tag = head["etag"].to_str().unwrap().to_owned();
    assert_ne!(gz_tag, plain_tag, "each encoding is its own representation");
    let body = resp.bytes().await.unwrap();
    assert!(body.len() < css().len());
    let mut unzipped = String::new();
    flate2::read::GzDecoder::new(&body[..])
        .read_to_string(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, css());

    // Refused gzip gets the file as it is.
    let resp = app
        .anonymous
        .get(&url)
        .header("Accept-Encoding", "gzip;q=0")
        .send()
        .await
        .unwrap();
    assert!(resp.headers().get("content-encoding").is_none());
    assert_eq!(resp.text().await.unwrap(), css());
    app.stop().await;
}

/// Trunk empties dist/ when it builds again: pages that loaded the old `index.html` still get
/// the old build's assets from a server that started with it, and the new build's appear as
/// soon as they are on disk.
#[tokio::test]
async fn the_started_build_stays_whole_while_a_new_build_replaces_the_files() {
    let dist = dist_with_css();
    let app = TestApp::start_with_dist(dist.path()).await;
    std::fs::remove_file(dist.path().join(CSS)).unwrap();
    let next = "main-fedcba9876543210.css";
    std::fs::write(dist.path().join(next), "body { margin: 0 }").unwrap();
    std::fs::write(
        dist.path().join("index.html"),
        format!("<!doctype html><title>next</title><link rel=stylesheet href=/{next}>"),
    )
    .unwrap();

    let old = app.anonymous.get(app.url(&format!("/{CSS}"))).send().await;
    let old = old.unwrap();
    assert_eq!(old.status(), StatusCode::OK);
    assert_eq!(old.text().await.unwrap(), css());
    let new = app.anonymous.get(app.url(&format!("/{next}"))).send().await;
    let new = new.unwrap();
    assert_eq!(new.status(), StatusCode::OK);
    assert_eq!(new.headers()["cache-control"], IMMUTABLE);
    assert_eq!(new.text().await.unwrap(), "body { margin: 0 }");
    // The page itself is read again and revalidated, so browsers move to the new build.
    let page = app.anonymous.get(app.url("/ns/demo")).send().await.unwrap();
    assert_eq!(page.headers()["cache-control"], "no-cache");
    assert!(page.text().await.unwrap().contains("<title>next</title>"));
    // A hashed name no build has is a 404, not the console.
    let missing = app
        .anonymous
        .get(app.url("/main-00000000000000aa.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn a_file_name_longer_than_a_file_system_allows_is_not_found_not_a_server_error() {
    let dist = dist_with_css();
    let app = TestApp::start_with_dist(dist.path()).await;
    let long = "a".repeat(300);
    let resp = app
        .anonymous
        .get(app.url(&format!("/{long}.js")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    // Not an asset's name: the console's page, which says what it does not know.
    let resp = app
        .anonymous
        .get(app.url(&format!("/docs/{long}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("<title>console</title>")
    );
}
