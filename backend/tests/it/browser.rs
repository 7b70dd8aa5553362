//! The console in real headless Chromium, loading the real release build (`dist/`, built by
//! scripts/test.sh) from the real server. Each test asserts what a person sees.

#![expect(clippy::unwrap_used, reason = "a failed step is a failed test")]

use reqwest::StatusCode;
use serde_json::{Value, json};
use tagstream_shared::paths::imagestream;

use crate::chrome::{Browser, Then, app_with_history, dist};
use crate::support::{TestApp, digest, stream_json};

#[tokio::test]
async fn a_deep_tag_link_opened_cold_shows_source_current_image_and_history() {
    let app = app_with_history().await;
    let browser = Browser::start_signed_in(&app).await;
    browser
        .open(&app.url("/ns/demo/streams/ruby/tags/latest"))
        .await;

    browser
        .text_containing("[data-test=tag-title]", "ruby:latest")
        .await;
    browser
        .text_containing("[data-test=tag-source]", "quay.io/demo/ruby:3.3")
        .await;
    let current = browser.find("[data-test=current-digest]").await;
    assert_eq!(
        current.text().await.unwrap(),
        format!("sha256:{}", "b".repeat(12))
    );
    assert_eq!(
        current.attr("title").await.unwrap(),
        Some(digest('b')),
        "the full digest on hover"
    );
    browser
        .text_containing(
            "[data-test=pull-by-digest]",
            &format!("quay.io/demo/ruby@{}", digest('b')),
        )
        .await;

    browser.find("[data-test=history-row]").await;
    assert_eq!(
        browser
            .attrs("[data-test=history-row]", "data-digest")
            .await,
        [digest('b'), digest('a')],
        "newest first"
    );
    let times = browser.texts("[data-test=history-time]").await;
    assert!(times[0].contains("hour ago"), "relative time: {times:?}");
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_tag_without_an_image_still_shows_where_it_comes_from() {
    let app = TestApp::start_with_dist(&dist()).await;
    app.create_project("demo").await;
    app.create_stream(
        "demo",
        &stream_json("python", "3.12", "quay.io/demo/python:3.12"),
    )
    .await;
    let browser = Browser::start_signed_in(&app).await;
    browser
        .open(&app.url("/ns/demo/streams/python/tags/3.12"))
        .await;
    browser
        .text_containing("[data-test=tag-source]", "quay.io/demo/python:3.12")
        .await;
    browser.find("[data-test=no-image]").await;
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn openshift_console_paths_redirect_and_unknown_streams_say_not_found() {
    let app = app_with_history().await;
    let browser = Browser::start_signed_in(&app).await;
    browser
        .open(&app.url("/k8s/ns/demo/imagestreamtags/ruby:latest"))
        .await;
    browser
        .text_containing("[data-test=tag-title]", "ruby:latest")
        .await;
    assert_eq!(browser.path().await, "/ns/demo/streams/ruby/tags/latest");

    browser
        .open(&app.url("/k8s/ns/demo/imagestreams/ruby"))
        .await;
    browser
        .text_containing("[data-test=stream-title]", "ruby")
        .await;
    assert_eq!(browser.path().await, "/ns/demo/streams/ruby");

    browser
        .open(&app.url("/ns/demo/streams/nope/tags/latest"))
        .await;
    browser.find("[data-test=not-found]").await;
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_stream_created_through_the_form_appears_in_the_list() {
    let app = TestApp::start_with_dist(&dist()).await;
    app.create_project("demo").await;
    let browser = Browser::start_signed_in(&app).await;
    browser.open(&app.url("/ns/demo")).await;
    browser
        .click(
            "[data-test=open-create-stream]",
            Then::Shows("[data-test=stream-name-input]"),
        )
        .await;
    browser
        .find("[data-test=stream-name-input]")
        .await
        .send_keys("python")
        .await
        .unwrap();
    browser
        .find("[data-test=tag-name-input]")
        .await
        .send_keys("3.12")
        .await
        .unwrap();
    browser
        .find("[data-test=source-name-input]")
        .await
        .send_keys("quay.io/demo/python:3.12")
        .await
        .unwrap();
    browser
        .click(
            "[data-test=create-stream-submit]",
            Then::ShowsText("[data-test=stream-link]", "python"),
        )
        .await;
    let (code, stored) = app.get(&imagestream("demo", "python")).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(
        stored["spec"]["tags"][0]["from"]["name"],
        "quay.io/demo/python:3.12"
    );
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn the_create_form_refuses_a_bad_name_as_you_type() {
    let app = TestApp::start_with_dist(&dist()).await;
    app.create_project("demo").await;
    let browser = Browser::start_signed_in(&app).await;
    browser.open(&app.url("/ns/demo")).await;
    browser
        .click(
            "[data-test=open-create-stream]",
            Then::Shows("[data-test=stream-name-input]"),
        )
        .await;
    browser
        .find("[data-test=stream-name-input]")
        .await
        .send_keys("Bad Name")
        .await
        .unwrap();
    browser
        .text_containing("#stream-name-error", "lower case")
        .await;
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_stale_edit_shows_the_conflict_and_keeps_what_was_typed() {
    let app = app_with_history().await;
    let browser = Browser::start_signed_in(&app).await;
    browser.open(&app.url("/ns/demo/streams/ruby")).await;
    browser
        .click(
            "[data-test=edit-stream]",
            Then::Shows("[data-test=stream-json-editor]"),
        )
        .await;
    let editor = browser.find("[data-test=stream-json-editor]").await;
    let loaded = editor.prop("value").await.unwrap().unwrap_or_default();
    let mut mine: Value = serde_json::from_str(&loaded).unwrap();
    mine["metadata"]["annotations"] = json!({"owner": "me, typed in the browser"});
    let typed = serde_json::to_string_pretty(&mine).unwrap();
    editor.clear().await.unwrap();
    editor.send_keys(&typed).await.unwrap();

    // Someone else saves first.
    let (_, mut theirs) = app.get(&imagestream("demo", "ruby")).await;
    theirs["metadata"]["annotations"] = json!({"owner": "someone else"});
    let (code, _) = app.put(&imagestream("demo", "ruby"), &theirs).await;
    assert_eq!(code, StatusCode::OK);

    browser
        .click(
            "[data-test=save-stream]",
            Then::ShowsText("[data-test=error-banner]", "the object has been modified"),
        )
        .await;
    let kept = browser
        .find("[data-test=stream-json-editor]")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert_eq!(kept, typed, "what was typed is kept");
    browser.find("[data-test=reload-reapply]").await;
    let (_, stored) = app.get(&imagestream("demo", "ruby")).await;
    assert_eq!(
        stored["metadata"]["annotations"]["owner"], "someone else",
        "the stale save changed nothing"
    );
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn revert_from_the_tag_page_adds_an_item_and_keeps_the_history() {
    let app = app_with_history().await;
    let browser = Browser::start_signed_in(&app).await;
    browser
        .open(&app.url("/ns/demo/streams/ruby/tags/latest"))
        .await;
    browser.find("[data-test=history-row]").await;
    // Revert shows once the access review has answered that the user may change tags.
    browser.settled().await;
    // Only the earlier image offers a revert.
    assert_eq!(browser.texts("[data-test=revert]").await.len(), 1);
    // The dialog is built when first asked for: Cancel closes it, and Revert opens it again.
    browser
        .click(
            "[data-test=revert]",
            Then::ShowsText("dialog[open] [data-test=revert-message]", "current again"),
        )
        .await;
    browser
        .click(
            "dialog[open] [data-test=confirm-cancel]",
            Then::Gone("dialog[open]"),
        )
        .await;
    browser
        .click(
            "[data-test=revert]",
            Then::ShowsText("dialog[open] [data-test=revert-message]", "current again"),
        )
        .await;
    let message = browser.texts("[data-test=revert-message]").await.concat();
    assert!(
        message.contains(&format!("sha256:{}", "a".repeat(12)))
            && message.contains(&format!("sha256:{}", "b".repeat(12))),
        "the confirmation names both digests: {message}"
    );
    browser
        .click(
            "[data-test=confirm-delete]",
            Then::ShowsText(
                "[data-test=current-digest]",
                &format!("sha256:{}", "a".repeat(12)),
            ),
        )
        .await;
    assert_eq!(
        browser
            .attrs("[data-test=history-row]", "data-digest")
            .await,
        [digest('a'), digest('b'), digest('a')],
        "a new item at the front; nothing rewritten"
    );
    browser.close().await;
    app.stop().await;
}

/// Marks the current document; a full page load forgets the mark, a router navigation keeps it.
async fn mark_document(browser: &Browser) {
    browser
        .client
        .execute("window.tagstreamMark = true;", vec![])
        .await
        .unwrap();
}

async fn document_is_marked(browser: &Browser) -> bool {
    browser
        .client
        .execute("return window.tagstreamMark === true;", vec![])
        .await
        .unwrap()
        == Value::Bool(true)
}

/// Every link between pages, and Back, is a client-side navigation of the one app: the document
/// (and its mark) stays.
#[tokio::test]
async fn links_between_the_tag_stream_project_and_compare_pages_stay_in_the_app_both_ways() {
    let app = app_with_history().await;
    let browser = Browser::start_signed_in(&app).await;
    browser
        .open(&app.url("/ns/demo/streams/ruby/tags/latest"))
        .await;
    browser.find("[data-test=history-row]").await;
    mark_document(&browser).await;

    // Up to the stream, then the project, and Back.
    browser
        .click(
            "[data-test=breadcrumbs] li:nth-child(3) a",
            Then::ShowsText("[data-test=stream-title]", "ruby"),
        )
        .await;
    browser
        .click(
            "[data-test=breadcrumbs] li:nth-child(2) a",
            Then::Shows("[data-test=project-title]"),
        )
        .await;
    browser.back(Then::Path("/ns/demo/streams/ruby")).await;
    browser
        .text_containing("[data-test=stream-title]", "ruby")
        .await;
    assert!(document_is_marked(&browser).await, "no page load so far");

    // Down to the tag and on to compare (a tool page), then back up to the stream.
    browser
        .click(
            "[data-test=tag-row][data-tag=latest] [data-test=tag-link]",
            Then::ShowsText("[data-test=tag-title]", "ruby:latest"),
        )
        .await;
    let compare = format!(
        "/ns/demo/streams/ruby/compare/{}/{}",
        digest('a'),
        digest('b')
    );
    browser
        .click("[data-test=compare]", Then::Path(&compare))
        .await;
    browser
        .text_containing("[data-test=breadcrumbs]", "compare")
        .await;
    browser
        .click(
            "[data-test=breadcrumbs] li:nth-child(3) a",
            Then::Path("/ns/demo/streams/ruby"),
        )
        .await;
    browser
        .text_containing("[data-test=stream-title]", "ruby")
        .await;

    // History holds each page once: Back returns to compare, then to the tag.
    browser.back(Then::Path(&compare)).await;
    browser
        .text_containing("[data-test=breadcrumbs]", "compare")
        .await;
    browser
        .back(Then::Path("/ns/demo/streams/ruby/tags/latest"))
        .await;
    browser
        .text_containing("[data-test=tag-title]", "ruby:latest")
        .await;
    assert!(
        document_is_marked(&browser).await,
        "every step a client-side navigation"
    );
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_tools_page_opens_cold_from_a_deep_link_and_unknown_paths_say_not_found() {
    let app = app_with_history().await;
    let browser = Browser::start_signed_in(&app).await;
    browser.open(&app.url("/ns/demo/import")).await;
    browser
        .text_containing("[data-test=import-title]", "Import image")
        .await;
    browser.find("[data-test=import-reference]").await;

    // The top bar leads home, within the app.
    mark_document(&browser).await;
    browser
        .click("[data-test=home-link]", Then::Path("/"))
        .await;
    browser.find("[data-test=project-link]").await;
    assert!(
        document_is_marked(&browser).await,
        "a client-side navigation"
    );

    // A path that is no page is "not found", not a reload loop.
    for path in ["/nope", "/ns/demo/templates/Not_A_Name"] {
        browser.open(&app.url(path)).await;
        browser.find("[data-test=not-found]").await;
        assert_eq!(browser.path().await, path);
    }
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn the_tag_edit_page_pins_a_new_tag_and_changes_policies() {
    let app = app_with_history().await;
    let browser = Browser::start_signed_in(&app).await;
    browser
        .open(&app.url("/ns/demo/streams/ruby/tags/latest"))
        .await;
    browser
        .click(
            "[data-test=edit-tag]",
            Then::Shows("[data-test=tag-as-name]"),
        )
        .await;
    let name = browser.find("[data-test=tag-as-name]").await;
    name.send_keys("stable").await.unwrap();
    browser
        .click("[data-test=tag-as-pin]", Then::Selected)
        .await;
    browser
        .click(
            "[data-test=tag-as-submit]",
            Then::ShowsText("[data-test=tag-as-done]", "ruby:stable"),
        )
        .await;
    let (code, stream) = app.get(&imagestream("demo", "ruby")).await;
    assert_eq!(code, StatusCode::OK);
    let stable = stream["spec"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "stable")
        .cloned()
        .unwrap_or_else(|| panic!("no stable tag: {stream}"));
    assert_eq!(stable["from"]["kind"], "ImageStreamImage");
    assert_eq!(
        stable["from"]["name"],
        format!("ruby@{}", digest('b')),
        "pinned to the current image"
    );

    browser
        .click("[data-test=policy-scheduled]", Then::Selected)
        .await;
    browser
        .click("[data-test=ref-policy] option[value=Local]", Then::Selected)
        .await;
    browser
        .click(
            "[data-test=policies-save]",
            Then::Shows("[data-test=policies-saved]"),
        )
        .await;
    let (_, stream) = app.get(&imagestream("demo", "ruby")).await;
    let latest = &stream["spec"]["tags"][0];
    assert_eq!(latest["name"], "latest");
    assert_eq!(latest["importPolicy"]["scheduled"], true, "{latest}");
    assert_eq!(latest["referencePolicy"]["type"], "Local", "{latest}");
    assert_eq!(
        latest["from"]["name"], "quay.io/demo/ruby:3.3",
        "the source is kept"
    );
    browser.close().await;
    app.stop().await;
}
