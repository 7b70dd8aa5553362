//! Importing through the console against the real registry: preview, then import; the image
//! page shows what the import learned; a failing tag shows its condition on the tag page.

#![expect(clippy::unwrap_used, reason = "a failed step is a failed test")]

use serde_json::json;
use tagstream_shared::paths;

use crate::chrome::{Browser, Then};
use crate::registry::{ImageSpec, Registry};
use crate::support::TestApp;
use crate::support::config_allowing;

#[tokio::test]
async fn an_image_is_previewed_imported_and_its_details_shown() {
    let registry = Registry::start().await;
    let (digest, _) = registry
        .push_image("team/web", "1.4", &ImageSpec::new("web"))
        .await;
    let app = TestApp::start_with_config(config_allowing(&registry.addr, 900)).await;
    app.create_project("demo").await;
    let browser = Browser::start_signed_in(&app).await;
    browser.open(&app.url("/ns/demo")).await;
    // The form is a page of the tools app, reached from the project page.
    browser
        .click("[data-test=open-import]", Then::Path("/ns/demo/import"))
        .await;
    browser
        .text_containing("[data-test=import-title]", "Import image")
        .await;

    let reference = browser.find("[data-test=import-reference]").await;
    reference
        .send_keys(&format!("{}/team/web:1.4", registry.addr))
        .await
        .unwrap();
    // The stream and tag are suggested from the reference.
    let stream = browser.find("[data-test=import-stream]").await;
    assert_eq!(stream.prop("value").await.unwrap().as_deref(), Some("web"));
    let tag = browser.find("[data-test=import-tag]").await;
    assert_eq!(tag.prop("value").await.unwrap().as_deref(), Some("1.4"));
    browser
        .click("[data-test=import-insecure]", Then::Selected)
        .await;

    browser
        .click(
            "[data-test=import-preview]",
            Then::ShowsText("[data-test=import-results]", "Preview: nothing was saved"),
        )
        .await;
    browser
        .text_containing("[data-test=import-result]", "linux/amd64")
        .await;
    let (code, _) = app.get(&paths::imagestream("demo", "web")).await;
    assert_eq!(code, 404, "a preview saves nothing");

    browser
        .click(
            "[data-test=import-submit]",
            Then::ShowsText("[data-test=import-results]", "Imported."),
        )
        .await;
    // Back on the project page (the link app), the new stream is listed.
    browser
        .click(
            "[data-test=breadcrumbs] li:nth-child(2) a",
            Then::ShowsText("[data-test=stream-link]", "web"),
        )
        .await;

    // The image page: what the import learned.
    browser
        .open(&app.url(&format!("/ns/demo/streams/web/images/{digest}")))
        .await;
    browser
        .text_containing("[data-test=image-platform]", "linux/amd64")
        .await;
    browser
        .text_containing("[data-test=image-user]", "1001")
        .await;
    browser
        .text_containing("[data-test=image-labels]", "org.opencontainers.image.title")
        .await;
    browser
        .text_containing("[data-test=image-env]", "APP_CONTENT")
        .await;
    assert_eq!(browser.texts("[data-test=image-layer]").await.len(), 2);
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_failed_import_shows_its_reason_on_the_tag_page() {
    let registry = Registry::start().await;
    let app = TestApp::start_with_config(config_allowing(&registry.addr, 900)).await;
    app.create_project("demo").await;
    let (code, body) = app
        .post(
            &paths::imagestreams("demo"),
            &json!({"metadata": {"name": "web"}, "spec": {"tags": [{"name": "2.0",
                "from": {"kind": "DockerImage", "name": format!("{}/team/web:2.0", registry.addr)}}]}}),
        )
        .await;
    assert_eq!(code, 201, "{body}");
    let browser = Browser::start_signed_in(&app).await;
    // The import runs in the background: wait until it has recorded the failure, then the page
    // shows it.
    let deadline = std::time::Instant::now() + crate::support::PATIENCE;
    loop {
        let (_, ist) = app.get(&paths::imagestreamtag("demo", "web", "2.0")).await;
        if ist["conditions"].as_array().is_some_and(|c| !c.is_empty()) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the failed import was never recorded: {ist}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    browser
        .open(&app.url("/ns/demo/streams/web/tags/2.0"))
        .await;
    browser
        .text_containing("[data-test=condition-message]", "not found")
        .await;
    browser.find("[data-test=no-image]").await;
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn two_history_items_are_compared_side_by_side() {
    let registry = Registry::start().await;
    let app = TestApp::start_with_config(config_allowing(&registry.addr, 900)).await;
    app.create_project("demo").await;
    let from = format!("{}/team/web:latest", registry.addr);
    let request = json!({"metadata": {"name": "web"}, "spec": {"import": true, "images": [
        {"from": {"kind": "DockerImage", "name": from}, "to": {"name": "latest"}}]}});
    let (first, _) = registry
        .push_image("team/web", "latest", &ImageSpec::new("one"))
        .await;
    let (code, body) = app.post(&paths::imagestreamimports("demo"), &request).await;
    assert_eq!(code, 201, "{body}");
    let (second, _) = registry
        .push_image("team/web", "latest", &ImageSpec::new("two"))
        .await;
    let (code, body) = app.post(&paths::imagestreamimports("demo"), &request).await;
    assert_eq!(code, 201, "{body}");
    let browser = Browser::start_signed_in(&app).await;
    browser
        .open(&app.url("/ns/demo/streams/web/tags/latest"))
        .await;
    // The import worker may still be re-rendering the page (a live update): the click waits for
    // it to settle and fails if it did not lead to the comparison.
    browser
        .click(
            "[data-test=compare]",
            Then::Path(&format!("/ns/demo/streams/web/compare/{first}/{second}")),
        )
        .await;
    let facts = browser
        .text_containing("[data-test=compare-facts]", &first)
        .await;
    assert!(facts.contains(&second), "{facts}");
    let label = browser
        .text_containing(
            "[data-test=compare-label]",
            "org.opencontainers.image.title",
        )
        .await;
    assert!(
        label.contains("one") && label.contains("two") && label.contains("changed"),
        "{label}"
    );
    browser
        .text_containing("[data-test=compare-env]", "APP_CONTENT")
        .await;
    browser
        .text_containing("[data-test=layers-shared]", "1 layer in common")
        .await;
    assert_eq!(
        browser
            .attrs("[data-test=compare-layer]", "data-change")
            .await,
        ["removed", "added"]
    );
    browser.close().await;
    app.stop().await;
}
