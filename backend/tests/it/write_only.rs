//! Write-only fields (a trigger's webhook secret, a user's initial password) sent the way
//! client-side `kubectl apply` sends them, in the object and again in the
//! `kubectl.kubernetes.io/last-applied-configuration` annotation: no reader gets them back by
//! GET, list, Table or watch (review 18 N1, N2), the server still uses them, and migration 0021
//! purges the copies stored before.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tagstream_shared::paths::{
    LOGIN, USERS, template_instance, template_instances, trigger, triggers, user,
};
use tagstream_shared::write_only::LAST_APPLIED;

use crate::kubectl_istag_review::MERGE;
use crate::support::{TestApp, digest, sign_in_at, stream_json};
use crate::triggers::{SECRET, config, move_tag};
use crate::watch::Events;

const PASSWORD: &str = "applied-Password-0123456789";

/// `manifest` as `kubectl apply` sends it on create: itself, and itself again (compact JSON and
/// a newline) in the last-applied annotation.
fn applied(mut manifest: Value) -> Value {
    let copy = format!("{manifest}\n");
    manifest["metadata"]["annotations"] = json!({ LAST_APPLIED: copy, "note": "kept" });
    manifest
}

fn trigger_manifest(url: &str, secret: &str) -> Value {
    applied(json!({
        "apiVersion": "tagstream.io/v1", "kind": "Trigger", "metadata": {"name": "hook"},
        "spec": {"from": {"kind": "ImageStreamTag", "name": "ruby:latest"},
                 "webhook": {"secret": secret, "url": url}}
    }))
}

/// The events a watch of `path` from `from` answers, up to the one at resourceVersion `until`.
async fn watched(
    client: &reqwest::Client,
    app: &TestApp,
    path: &str,
    from: &str,
    until: &str,
) -> String {
    let url = app.url(&format!("{path}?watch=true&resourceVersion={from}"));
    let resp = client.get(url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut events = Events::lines(resp);
    let mut seen = String::new();
    loop {
        let event = events.next().await;
        seen.push_str(&event.to_string());
        if event["object"]["metadata"]["resourceVersion"] == until {
            return seen;
        }
    }
}

#[tokio::test]
async fn a_webhook_secret_in_the_applied_manifest_is_never_answered_yet_still_signs() {
    let mut receiver = crate::receiver::Receiver::start().await;
    let app = TestApp::start_with_config(config(&[receiver.addr.to_string()])).await;
    app.create_project("demo").await;
    let viewer = app.user("viewer").await;
    app.grant("demo", "viewer", "view").await;
    let (_, project) = app.get(&tagstream_shared::paths::project("demo")).await;
    let before = project["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_owned();

    let (code, created) = app
        .post(
            &triggers("demo"),
            &trigger_manifest(&receiver.url(), SECRET),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    assert!(!created.to_string().contains(SECRET), "{created}");
    // The rest of the applied manifest stays for kubectl's next diff.
    let kept: Value = serde_json::from_str(
        created["metadata"]["annotations"][LAST_APPLIED]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        kept["spec"]["webhook"],
        json!({"url": receiver.url()}),
        "{kept}"
    );
    assert_eq!(created["metadata"]["annotations"]["note"], "kept");
    // A replace carrying a new secret the same way.
    let mut again = trigger_manifest(&receiver.url(), "a-second-secret-0123456789");
    again["metadata"]["resourceVersion"] = created["metadata"]["resourceVersion"].clone();
    let (code, replaced) = app.put(&trigger("demo", "hook"), &again).await;
    assert_eq!(code, StatusCode::OK, "{replaced}");
    assert!(
        !replaced.to_string().contains("a-second-secret"),
        "{replaced}"
    );
    let last = replaced["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_owned();

    let reads = [
        (trigger("demo", "hook"), None),
        (triggers("demo"), None),
        (
            format!("{}?includeObject=Object", triggers("demo")),
            Some("application/json;as=Table;v=v1;g=meta.k8s.io"),
        ),
    ];
    for (path, accept) in reads {
        let mut req = viewer.client.get(app.url(&path));
        if let Some(accept) = accept {
            req = req.header("Accept", accept);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        let text = resp.text().await.unwrap();
        assert!(text.contains("\"hook\""), "{path}: {text}");
        assert!(
            !text.contains(SECRET) && !text.contains("a-second-secret"),
            "{path}: {text}"
        );
    }
    for from in ["0", before.as_str()] {
        let seen = watched(&viewer.client, &app, &triggers("demo"), from, &last).await;
        assert!(seen.contains(LAST_APPLIED), "{seen}");
        assert!(
            !seen.contains(SECRET) && !seen.contains("a-second-secret"),
            "from {from}: {seen}"
        );
    }

    // The server still signs with the secret it was given last.
    let ruby = stream_json("ruby", "latest", "quay.io/demo/ruby:3.3");
    app.create_stream("demo", &ruby).await;
    let (client, base) = (&app.client, &app.base);
    move_tag(client, base, "demo", "ruby", "latest", &digest('a')).await;
    let got = receiver.next(crate::support::PATIENCE).await;
    assert!(
        got.signed_with("a-second-secret-0123456789"),
        "{:?}",
        got.headers
    );
    receiver.stop();
    app.stop().await;
}

#[tokio::test]
async fn a_password_in_the_applied_manifest_is_kept_only_as_its_hash() {
    let app = TestApp::start().await;
    let (_, list) = app.get(USERS).await;
    let before = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_owned();
    let manifest = applied(json!({
        "apiVersion": "user.openshift.io/v1", "kind": "User",
        "metadata": {"name": "applied"}, "password": PASSWORD
    }));
    let (code, created) = app.post(USERS, &manifest).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    assert!(!created.to_string().contains(PASSWORD), "{created}");
    // A replace that sends the annotation again (as `kubectl apply` of a changed user would).
    let mut again = manifest.clone();
    again.as_object_mut().unwrap().remove("password");
    again["fullName"] = json!("Applied User");
    again["metadata"]["resourceVersion"] = created["metadata"]["resourceVersion"].clone();
    let (code, replaced) = app.send(Method::PUT, &user("applied"), Some(&again)).await;
    assert_eq!(code, StatusCode::OK, "{replaced}");
    assert!(!replaced.to_string().contains(PASSWORD), "{replaced}");
    let last = replaced["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_owned();

    let (code, read) = app.get(&user("applied")).await;
    assert_eq!(code, StatusCode::OK);
    assert!(
        read["metadata"]["annotations"].get(LAST_APPLIED).is_some(),
        "{read}"
    );
    assert!(!read.to_string().contains(PASSWORD), "{read}");
    let seen = watched(&app.client, &app, USERS, &before, &last).await;
    assert!(!seen.contains(PASSWORD), "{seen}");

    let (code, session) = sign_in_at(app.url(LOGIN), "applied", PASSWORD).await;
    assert_eq!(code, StatusCode::OK);
    assert!(session.is_some());
    app.stop().await;
}

/// Rows as the server wrote them before: `body` of each object with its applied manifest, whole,
/// in the annotation (the `changes` trigger copies it there too), and migrations 0021 and 0022
/// not run yet.
async fn leak(dir: &std::path::Path) {
    let leaked = |body: String, secret: &str| {
        let mut object: Value = serde_json::from_str(&body).unwrap();
        let mut manifest = object.clone();
        match secret {
            SECRET => manifest["spec"]["webhook"]["secret"] = json!(secret),
            TYPED => manifest["spec"]["template"]["parameters"][0]["value"] = json!(secret),
            _ => manifest["password"] = json!(secret),
        }
        object["metadata"]["annotations"] = json!({ LAST_APPLIED: manifest.to_string() });
        object.to_string()
    };
    let rows = [
        ("triggers", "demo", "hook", SECRET),
        ("users", "", "old", PASSWORD),
        ("templateinstances", "demo", "db", TYPED),
    ];
    let select = "SELECT body FROM objects WHERE resource = $1 AND namespace = $2 AND name = $3";
    let update =
        "UPDATE objects SET body = $4 WHERE resource = $1 AND namespace = $2 AND name = $3";
    let history = "UPDATE changes SET body = $4 WHERE resource = $1 AND coalesce(namespace, '') = $2 AND name = $3";
    let forget = "DELETE FROM _sqlx_migrations WHERE version IN (21, 22)";
    // The same statements on either store; SQLite numbers its parameters `?1`, not `$1`.
    macro_rules! leak_in {
        ($pool:expr, $q:expr) => {{
            let pool = $pool;
            for (resource, ns, name, secret) in rows {
                let body: String = sqlx::query_scalar(&$q(select))
                    .bind(resource)
                    .bind(ns)
                    .bind(name)
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                let body = leaked(body, secret);
                for sql in [update, history] {
                    sqlx::query(&$q(sql))
                        .bind(resource)
                        .bind(ns)
                        .bind(name)
                        .bind(&body)
                        .execute(&pool)
                        .await
                        .unwrap();
                }
            }
            sqlx::query(forget).execute(&pool).await.unwrap();
            pool.close().await;
        }};
    }
    let sqlite = dir.join("tagstream.db");
    if sqlite.exists() {
        let url = format!("sqlite://{}", sqlite.display());
        leak_in!(
            sqlx::SqlitePool::connect(&url).await.unwrap(),
            |sql: &str| sql.replace('$', "?")
        );
    } else {
        let url = std::fs::read_to_string(dir.join("postgres-url")).unwrap();
        leak_in!(sqlx::PgPool::connect(&url).await.unwrap(), |sql: &str| sql
            .to_owned());
    }
}

#[tokio::test]
async fn migrations_0021_and_0022_purge_the_secrets_stored_before_from_objects_and_history() {
    let app = TestApp::start_with_config(config(&[])).await;
    app.create_project("demo").await;
    let (code, body) = app
        .post(
            &triggers("demo"),
            &crate::triggers::trigger_json(
                "hook",
                "ImageStream",
                "ruby",
                "https://hooks.example.com/x",
            ),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let (code, body) = app
        .post(
            USERS,
            &json!({"metadata": {"name": "old"}, "password": PASSWORD}),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let (code, body) = app.post(&template_instances("demo"), &instance(None)).await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let dir = app.stop_keeping_data().await;
    leak(dir.path()).await;

    let app = TestApp::start_prepared(dir, config(&[])).await;
    let (_, hook) = app.get(&trigger("demo", "hook")).await;
    let (_, old) = app.get(&user("old")).await;
    let triggers_seen = watched(
        &app.client,
        &app,
        &triggers("demo"),
        "1",
        hook["metadata"]["resourceVersion"].as_str().unwrap(),
    )
    .await;
    let users_seen = watched(
        &app.client,
        &app,
        USERS,
        "1",
        old["metadata"]["resourceVersion"].as_str().unwrap(),
    )
    .await;
    let (_, db) = app.get(&template_instance("demo", "db")).await;
    let instances_seen = watched(
        &app.client,
        &app,
        &template_instances("demo"),
        "1",
        db["metadata"]["resourceVersion"].as_str().unwrap(),
    )
    .await;
    for seen in [triggers_seen, users_seen, instances_seen] {
        assert!(
            ["\"hook\"", "\"old\"", "\"db\""]
                .iter()
                .any(|n| seen.contains(n)),
            "{seen}"
        );
        assert!(!seen.contains(SECRET) && !seen.contains(PASSWORD), "{seen}");
        assert!(!seen.contains(TYPED), "{seen}");
    }
    // What the object is otherwise stays as it was.
    assert_eq!(
        hook["spec"]["webhook"]["url"],
        "https://hooks.example.com/x"
    );
    assert_eq!(
        sign_in_at(app.url(LOGIN), "old", PASSWORD).await.0,
        StatusCode::OK
    );
    app.stop().await;
}

/// A value typed for a generated parameter, which stands in for a generated secret.
const TYPED: &str = "typed-Generated-Value-0123456789";

/// Instance `db` of a template with a generated parameter: `typed` is the value typed for it
/// (none: left to the generator).
fn instance(typed: Option<&str>) -> Value {
    json!({
        "apiVersion": "template.openshift.io/v1", "kind": "TemplateInstance",
        "metadata": {"name": "db"},
        "spec": {"template": {"metadata": {"name": "db"}, "objects": [], "parameters": [
            {"name": "PASSWORD", "generate": "expression", "from": "[a-z]{8}", "value": typed},
            {"name": "USER", "value": "app"}]}}
    })
}

/// A value typed for a generated parameter of a template instance, masked on every read, is
/// masked in the manifest kubectl keeps too: no viewer reads it back by GET, list or a watch
/// from 0 (review 19 P1).
#[tokio::test]
async fn a_typed_generated_value_is_masked_in_the_applied_manifest() {
    let app = TestApp::start().await;
    app.create_project("demo").await;
    let viewer = app.user("vi").await;
    app.grant("demo", "vi", "view").await;
    let instances = template_instances("demo");
    let (code, body) = app.post(&instances, &applied(instance(Some(TYPED)))).await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let rv = body["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_owned();
    for path in [template_instance("demo", "db"), instances.clone()] {
        let (code, read) = app.send_as(&viewer.client, Method::GET, &path, None).await;
        assert_eq!(code, StatusCode::OK, "{read}");
        let read = read.to_string();
        assert!(read.contains("last-applied-configuration"), "{read}");
        assert!(!read.contains(TYPED), "{path}: {read}");
    }
    let seen = watched(&viewer.client, &app, &instances, "0", &rv).await;
    assert!(seen.contains("db"), "{seen}");
    assert!(!seen.contains(TYPED), "{seen}");

    // kubectl's next apply sends the typed value again, since a read shows it masked: that is
    // no change of the spec (review 19 P3); a changed value of another parameter is.
    let path = template_instance("demo", "db");
    let mut again = instance(Some(TYPED));
    again["metadata"] = json!({"labels": {"tier": "db"}});
    let (code, body) = app
        .send_raw(Method::PATCH, &path, MERGE, &again.to_string())
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(body["metadata"]["labels"]["tier"], "db");
    again["spec"]["template"]["parameters"][1]["value"] = json!("other");
    let (code, body) = app
        .send_raw(Method::PATCH, &path, MERGE, &again.to_string())
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}
