//! Deleting a team takes it out of every RoleBinding that names it (a binding left with no
//! subject goes), in the same unit of work: a new team of the same name starts with no access,
//! as a new user of a deleted user's name does (review 18 N7).

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::{Method, StatusCode};
use serde_json::json;
use tagstream_shared::paths;

use crate::support::TestApp;

#[tokio::test]
async fn a_deleted_team_s_grants_do_not_pass_to_a_new_team_of_its_name() {
    let app = TestApp::start().await;
    app.create_project("demo").await;
    let member = app.user("mo").await;
    app.user("vic").await;
    let team = |users: &[&str]| {
        json!({"kind": "Group", "apiVersion": "user.openshift.io/v1",
            "metadata": {"name": "gz"}, "users": users})
    };
    let (code, body) = app.post(paths::GROUPS, &team(&["mo"])).await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let binding = |name: &str, subjects: serde_json::Value| {
        json!({"kind": "RoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1",
            "metadata": {"name": name}, "roleRef": {"kind": "ClusterRole", "name": "edit"},
            "subjects": subjects})
    };
    let group = json!({"kind": "Group", "apiVersion": "rbac.authorization.k8s.io", "name": "gz"});
    let vic = json!({"kind": "User", "apiVersion": "rbac.authorization.k8s.io", "name": "vic"});
    for (name, subjects) in [
        ("team-only", json!([group])),
        ("team-and-vic", json!([group, vic])),
    ] {
        let (code, body) = app
            .post(&paths::rolebindings("demo"), &binding(name, subjects))
            .await;
        assert_eq!(code, StatusCode::CREATED, "{body}");
    }

    let streams = paths::imagestreams("demo");
    let (code, body) = app
        .send_as(&member.client, Method::GET, &streams, None)
        .await;
    assert_eq!(code, StatusCode::OK, "the team grants mo edit: {body}");

    let (code, body) = app.delete(&paths::group("gz")).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let (code, _) = app.get(&paths::rolebinding("demo", "team-only")).await;
    assert_eq!(
        code,
        StatusCode::NOT_FOUND,
        "a binding of the team alone went"
    );
    let (code, kept) = app.get(&paths::rolebinding("demo", "team-and-vic")).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(kept["subjects"].as_array().unwrap().len(), 1, "{kept}");
    assert_eq!(kept["subjects"][0]["name"], "vic");

    // A new team of the name, with mo in it again, grants mo nothing in demo: it is hidden
    // from mo as from anyone without a role there.
    let (code, body) = app.post(paths::GROUPS, &team(&["mo"])).await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let (code, body) = app
        .send_as(&member.client, Method::GET, &streams, None)
        .await;
    assert_eq!(code, StatusCode::NOT_FOUND, "{body}");
}
