//! The template catalog, form, live preview and instantiation in real headless Chromium, against
//! the real server with its samples.

#![expect(clippy::unwrap_used, reason = "a failed step is a failed test")]

use reqwest::StatusCode;
use tagstream_backend::config::Config;
use tagstream_shared::paths::imagestream;

use crate::chrome::{Browser, Then, dist};
use crate::support::TestApp;

/// Backspace, enough times to empty a short input, then `text`: like a person retyping.
async fn retype(browser: &Browser, css: &str, text: &str) {
    // Focused by a click that waits for the page to stand still (a shift would click elsewhere).
    browser.click(css, Then::Shows(css)).await;
    let input = browser.find(css).await;
    let current = input.prop("value").await.unwrap().unwrap_or_default();
    let mut keys = "\u{E010}".to_owned(); // End
    keys.push_str(&"\u{E003}".repeat(current.chars().count()));
    keys.push_str(text);
    input.send_keys(&keys).await.unwrap();
}

#[tokio::test]
async fn the_rails_sample_is_found_filled_previewed_and_instantiated() {
    dist();
    let app = TestApp::start_prepared(tempfile::tempdir().unwrap(), Config::default()).await;
    app.create_project("demo").await;
    let browser = Browser::start_signed_in(&app).await;

    // The catalog of project demo lists the samples; the filter narrows by tag and description.
    browser.open(&app.url("/ns/demo/templates")).await;
    browser
        .find("[data-test=template-row][data-name=rails-postgresql-example]")
        .await;
    browser
        .find("[data-test=template-filter]")
        .await
        .send_keys("postgresql rails")
        .await
        .unwrap();
    browser
        .text_containing("[data-test=template-count]", "1 of 4 templates")
        .await;
    browser
        .click(
            "[data-test=template-link]",
            Then::ShowsText("[data-test=template-title]", "Rails + PostgreSQL"),
        )
        .await;

    // The template page: what it is, its objects, and a preview with the defaults.
    browser
        .text_containing("[data-test=object-summary]", "ImageStream × 1")
        .await;
    browser
        .text_containing(
            "[data-test=preview]",
            "\"name\": \"rails-postgresql-example\"",
        )
        .await;
    let required = browser.texts("[data-test=param-required]").await;
    assert!(!required.is_empty(), "required parameters are marked");
    let placeholders = browser
        .attrs("[data-test=param-input]", "placeholder")
        .await;
    assert!(placeholders.iter().any(|p| p == "generated if empty"));

    // Emptying a required parameter is caught as you type, worded as OpenShift words it.
    retype(&browser, "#param-NAME", "").await;
    browser
        .text_containing(
            "[data-param=NAME] [data-test=param-error]",
            "parameter NAME is required and must be specified",
        )
        .await;
    browser.find("[data-test=preview-blocked]").await;

    // Typing a name changes the preview.
    retype(&browser, "#param-NAME", "shop").await;
    browser
        .text_containing("[data-test=preview]", "\"name\": \"shop\"")
        .await;
    let preview = browser.texts("[data-test=preview]").await.join("");
    assert!(
        !preview.contains("\"name\": \"rails-postgresql-example\""),
        "{preview}"
    );

    // Instantiate: the image stream is created and linked; the other objects can be downloaded.
    browser
        .click(
            "[data-test=instantiate]",
            Then::ShowsText("[data-test=created-stream]", "shop"),
        )
        .await;
    browser
        .text_containing("[data-test=instantiated-message]", "Created shop (Rails)")
        .await;
    let yaml = browser
        .attrs("[data-test=download-objects-yaml]", "href")
        .await;
    assert!(
        yaml[0].starts_with("data:application/yaml") && yaml[0].contains("Deployment"),
        "{}",
        yaml[0]
    );
    let (code, _) = app.get(&imagestream("demo", "shop")).await;
    assert_eq!(code, StatusCode::OK);

    // And the new stream shows in the project.
    browser
        .click(
            "[data-test=created-stream]",
            Then::Path("/ns/demo/streams/shop"),
        )
        .await;
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn the_samples_admin_page_saves_and_applies_the_config() {
    dist();
    let app = TestApp::start_prepared(tempfile::tempdir().unwrap(), Config::default()).await;
    let browser = Browser::start_signed_in(&app).await;
    browser.open(&app.url("/admin/samples")).await;
    browser
        .text_containing("[data-test=samples-applied]", "Managed")
        .await;
    browser
        .click("[data-test=state-Removed]", Then::Selected)
        .await;
    browser
        .click(
            "[data-test=samples-save]",
            Then::Shows("[data-test=samples-saved]"),
        )
        .await;
    browser
        .text_containing("[data-test=samples-applied]", "Removed")
        .await;
    let (code, _) = app.get(&imagestream("openshift", "ruby")).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    browser.close().await;
    app.stop().await;
}
