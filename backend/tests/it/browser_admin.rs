//! README claims about the access pages in real Chromium: a cluster admin creates a user with a
//! one-time invitation link and a team under Users; the invitee chooses a password on the
//! invitation page, signs in and makes (and revokes) an API token under Tokens; the audit pages
//! show who changed what with both resourceVersions.

#![expect(clippy::unwrap_used, reason = "a failed step is a failed test")]

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tagstream_shared::paths;

use crate::chrome::{Browser, Then, dist};
use crate::support::{TestApp, client_with_token, stream_json};

async fn type_into(browser: &Browser, css: &str, text: &str) {
    browser.find(css).await.send_keys(text).await.unwrap();
}

#[tokio::test]
async fn users_teams_invitations_tokens_and_the_audit_log_work_in_the_console() {
    let app = TestApp::start_with_dist(&dist()).await;
    let admin = Browser::start_signed_in(&app).await;

    // Users: a user without a password gets a one-time invitation link.
    admin.open(&app.url("/admin/users")).await;
    type_into(&admin, "[data-test=new-user-name]", "ivy").await;
    type_into(&admin, "[data-test=new-user-full]", "Ivy Example").await;
    admin
        .click(
            "[data-test=new-user-submit]",
            Then::ShowsText("[data-test=admin-done]", "User ivy created."),
        )
        .await;
    let link = admin
        .text_containing("[data-test=invitation-link]", "/invite/")
        .await;
    assert!(link.starts_with(&app.base), "{link}");
    admin
        .text_containing("[data-test=user-row][data-user=ivy]", "Ivy Example")
        .await;

    // Teams: create one and add the new user to it.
    type_into(&admin, "[data-test=new-team-name]", "devs").await;
    admin
        .click(
            "[data-test=create-team] button[type=submit]",
            Then::ShowsText("[data-test=admin-done]", "Team devs saved."),
        )
        .await;
    type_into(
        &admin,
        "[data-test=team-row][data-team=devs] [data-test=team-add-user]",
        "ivy",
    )
    .await;
    admin
        .click(
            "[data-test=team-row][data-team=devs] button[type=submit]",
            Then::ShowsText("[data-test=team-row][data-team=devs]", "ivy"),
        )
        .await;
    let (code, team) = app.get(&paths::group("devs")).await;
    assert_eq!(code, StatusCode::OK, "{team}");
    assert_eq!(team["users"], json!(["ivy"]));

    // The invitation: the invitee chooses a password, then signs in with it.
    let invitee = Browser::start_beside(&admin).await;
    invitee.open(&link).await;
    type_into(
        &invitee,
        "[data-test=invite-password]",
        "ivy-chosen-password",
    )
    .await;
    type_into(&invitee, "[data-test=invite-again]", "ivy-chosen-password").await;
    invitee
        .click(
            "[data-test=invite-submit]",
            Then::ShowsText("[data-test=invite-done]", "Your password is set."),
        )
        .await;
    invitee.sign_in(&app, "ivy", "ivy-chosen-password").await;
    // The link was for one use.
    let (code, _) = app
        .send_as(
            &app.anonymous,
            Method::POST,
            &paths::invitation(link.rsplit('/').next().unwrap()),
            Some(&json!({"password": "another-password"})),
        )
        .await;
    assert!(code.is_client_error(), "a used invitation answered {code}");

    // Tokens: the invitee makes one, shown once, that signs API calls in as ivy; then revokes it.
    invitee.open(&app.url("/tokens")).await;
    type_into(&invitee, "[data-test=create-token] input[type=text]", "ci").await;
    invitee
        .click(
            "[data-test=token-create]",
            Then::Shows("[data-test=token-secret]"),
        )
        .await;
    let secret = invitee
        .find("[data-test=token-secret]")
        .await
        .text()
        .await
        .unwrap();
    invitee.text_containing("[data-test=token-row]", "ci").await;
    let whoami = |token: String| {
        let url = app.url(paths::WHOAMI);
        async move { client_with_token(&token).get(url).send().await.unwrap() }
    };
    let resp = whoami(secret.clone()).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let who: Value = resp.json().await.unwrap();
    assert_eq!(who["username"], "ivy");
    assert!(
        who["groups"].as_array().unwrap().contains(&json!("devs")),
        "{who}"
    );
    invitee
        .click(
            "[data-test=token-revoke]",
            Then::Gone("[data-test=token-row]"),
        )
        .await;
    assert_eq!(whoami(secret).await.status(), StatusCode::UNAUTHORIZED);

    // The audit log: a project's changes on its page, everything on the cluster-wide one.
    app.create_project("demo").await;
    let created = app
        .create_stream(
            "demo",
            &stream_json("ruby", "latest", "quay.io/demo/ruby:3.3"),
        )
        .await;
    let version = created.metadata.resource_version.clone().unwrap();
    admin.open(&app.url("/ns/demo/audit")).await;
    let row = admin
        .text_containing("[data-test=audit-row]", "imagestreams demo/ruby")
        .await;
    assert!(
        row.contains("admin") && row.contains("create") && row.contains(&format!("— → {version}")),
        "{row}"
    );
    admin.open(&app.url("/admin/audit")).await;
    admin.find("[data-test=audit-row]").await;
    let rows = admin.texts("[data-test=audit-row]").await;
    for expected in ["users ivy", "groups devs", "imagestreams demo/ruby"] {
        assert!(
            rows.iter().any(|r| r.contains(expected)),
            "{expected} not in the audit log: {rows:#?}"
        );
    }
    invitee.close().await;
    admin.close().await;
    app.stop().await;
}
