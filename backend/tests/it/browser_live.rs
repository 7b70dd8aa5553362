//! Live updates in real Chromium: two people on the same pages; one changes a tag, the other's
//! page follows without a reload and says so.

use serde_json::json;

use crate::chrome::{Browser, Then, app_with_history};
use crate::support::digest;

#[tokio::test]
async fn one_person_reverts_a_tag_and_the_others_page_follows_without_a_reload() {
    let app = app_with_history().await;
    let editor = app.user("editor").await;
    let watcher = app.user("watcher").await;
    app.grant("demo", "editor", "edit").await;
    app.grant("demo", "watcher", "view").await;
    let tag_page = app.url("/ns/demo/streams/ruby/tags/latest");
    let short = |c: char| format!("sha256:{}", c.to_string().repeat(12));

    let one = Browser::start().await;
    one.sign_in(&app, &editor.name, &editor.password).await;
    one.open(&tag_page).await;
    one.text_containing("[data-test=current-digest]", &short('b'))
        .await;

    let two = Browser::start_beside(&one).await;
    two.sign_in(&app, &watcher.name, &watcher.password).await;
    two.open(&tag_page).await;
    two.text_containing("[data-test=current-digest]", &short('b'))
        .await;
    // A mark that a reload would wipe.
    two.eval("window.__notReloaded = true; return true;").await;

    one.click(
        "[data-test=revert]",
        Then::Shows("[data-test=confirm-delete]"),
    )
    .await;
    one.click(
        "[data-test=confirm-delete]",
        Then::ShowsText("[data-test=current-digest]", &short('a')),
    )
    .await;

    two.text_containing("[data-test=current-digest]", &short('a'))
        .await;
    two.text_containing("[data-test=live-updated]", "Updated just now")
        .await;
    assert_eq!(
        two.attrs("[data-test=history-row]", "data-digest").await,
        [digest('a'), digest('b'), digest('a')]
    );
    assert_eq!(
        two.eval("return window.__notReloaded === true;").await,
        json!(true),
        "the page was not reloaded"
    );

    // The project's stream list follows too: a stream created elsewhere appears.
    two.open(&app.url("/ns/demo")).await;
    two.text_containing("main", "ruby").await;
    app.create_stream(
        "demo",
        &crate::support::stream_json("python", "3", "quay.io/demo/python:3"),
    )
    .await;
    two.text_containing("main", "python").await;
    one.close().await;
    two.close().await;
    app.stop().await;
}
