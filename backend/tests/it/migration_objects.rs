//! Migration 0008 (one `objects` table for every kind) over a database as today's main leaves
//! it: the old schema (migrations 0001 to 0007) with rows in every per-kind table, written as
//! the old store wrote them; the new server must serve the same objects and keep working on them.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use tagstream_backend::{auth::secret::hash_secret, config::Config};
use tagstream_shared::paths;

use crate::support::{ADMIN_TOKEN, TestApp, workspace_root};

/// The objects the old database holds, by the table the old store kept them in.
fn old_objects() -> Vec<(&'static str, &'static str, Value)> {
    let meta = |name: &str, ns: Option<&str>, rv: u64| {
        json!({"name": name, "namespace": ns, "resourceVersion": rv.to_string(),
               "uid": format!("uid-{name}"), "creationTimestamp": "2026-01-01T00:00:00Z"})
    };
    vec![
        (
            "image_streams",
            "legacy",
            json!({"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
            "metadata": meta("ruby", Some("legacy"), 3),
            "spec": {"tags": [{"name": "3.3", "from": {"kind": "DockerImage", "name": "127.0.0.1:1/ruby:3.3"}}]},
            "status": {"dockerImageRepository": ""}}),
        ),
        (
            "templates",
            "legacy",
            json!({"kind": "Template", "apiVersion": "template.openshift.io/v1",
            "metadata": meta("app", Some("legacy"), 4), "objects": [], "parameters": []}),
        ),
        (
            "template_instances",
            "legacy",
            json!({"kind": "TemplateInstance",
            "apiVersion": "template.openshift.io/v1", "metadata": meta("app-1", Some("legacy"), 5),
            "spec": {"template": {"kind": "Template", "apiVersion": "template.openshift.io/v1",
                     "metadata": {"name": "app"}, "objects": []}},
            "status": {"objects": []}}),
        ),
        (
            "role_bindings",
            "legacy",
            json!({"kind": "RoleBinding",
            "apiVersion": "rbac.authorization.k8s.io/v1", "metadata": meta("ann-view", Some("legacy"), 6),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "ann"}]}),
        ),
        (
            "triggers",
            "legacy",
            json!({"kind": "Trigger", "apiVersion": "tagstream.io/v1",
            "metadata": meta("deploy", Some("legacy"), 7),
            "spec": {"from": {"kind": "ImageStreamTag", "name": "ruby:3.3"},
                     "webhook": {"url": "http://127.0.0.1:9/hook"}, "paused": true}}),
        ),
    ]
}

fn cluster_objects() -> Vec<(&'static str, Value)> {
    vec![
        (
            "User",
            json!({"kind": "User", "apiVersion": "user.openshift.io/v1",
            "metadata": {"name": "admin", "resourceVersion": "1", "creationTimestamp": null}, "groups": []}),
        ),
        (
            "User",
            json!({"kind": "User", "apiVersion": "user.openshift.io/v1",
            "metadata": {"name": "ann", "resourceVersion": "1", "creationTimestamp": null}, "groups": []}),
        ),
        (
            "Group",
            json!({"kind": "Group", "apiVersion": "user.openshift.io/v1",
            "metadata": {"name": "system:cluster-admins", "resourceVersion": "1", "creationTimestamp": null},
            "users": ["admin"]}),
        ),
        (
            "Config",
            json!({"kind": "Config", "apiVersion": "samples.operator.openshift.io/v1",
            "metadata": {"name": "cluster", "resourceVersion": "2", "creationTimestamp": null},
            "spec": {"managementState": "Unmanaged"}, "status": {}}),
        ),
    ]
}

/// A data directory holding a database made by the old schema, with rows as the old store
/// wrote them (an admin with the tests' API token among them).
async fn old_database() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old-migrations");
    std::fs::create_dir(&old).unwrap();
    for entry in std::fs::read_dir(workspace_root().join("backend/migrations")).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        if file.as_str() < "0008" {
            std::fs::copy(&path, old.join(&file)).unwrap();
        }
    }
    let options = SqliteConnectOptions::new()
        .filename(dir.path().join("tagstream.db"))
        .create_if_missing(true)
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .connect_with(options)
        .await
        .unwrap();
    sqlx::migrate::Migrator::new(old.as_path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    let project = json!({"kind": "Project", "apiVersion": "project.openshift.io/v1",
        "metadata": {"name": "legacy", "resourceVersion": "2", "creationTimestamp": null},
        "status": {"phase": "Active"}});
    sqlx::query("UPDATE revision SET value = 7 WHERE id = 1")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO projects (name, resource_version, body, created_revision) VALUES ('legacy', 2, ?, 2)")
        .bind(project.to_string())
        .execute(&pool)
        .await
        .unwrap();
    for (table, ns, body) in old_objects() {
        let (name, rv) = (
            body["metadata"]["name"].as_str().unwrap(),
            &body["metadata"]["resourceVersion"],
        );
        let rv: i64 = rv.as_str().unwrap().parse().unwrap();
        let columns = if table == "triggers" { ", secret" } else { "" };
        let values = if table == "triggers" {
            ", 'old-secret'"
        } else {
            ""
        };
        sqlx::query(&format!(
            "INSERT INTO {table} (namespace, name, resource_version, body{columns}) VALUES (?, ?, ?, ?{values})"
        ))
        .bind(ns)
        .bind(name)
        .bind(rv)
        .bind(body.to_string())
        .execute(&pool)
        .await
        .unwrap();
    }
    for (kind, body) in cluster_objects() {
        let rv: i64 = body["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        sqlx::query(
            "INSERT INTO cluster_objects (kind, name, resource_version, body) VALUES (?, ?, ?, ?)",
        )
        .bind(kind)
        .bind(body["metadata"]["name"].as_str().unwrap())
        .bind(rv)
        .bind(body.to_string())
        .execute(&pool)
        .await
        .unwrap();
    }
    let token = json!({"kind": "Token", "apiVersion": "tagstream.io/v1",
        "metadata": {"name": "t1", "creationTimestamp": null}, "spec": {}});
    sqlx::query("INSERT INTO tokens (id, user, hash, body) VALUES ('t1', 'admin', ?, ?)")
        .bind(hash_secret(ADMIN_TOKEN))
        .bind(token.to_string())
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    dir
}

/// Whether `served` says everything `stored` said (the server writes defaults beside it).
fn assert_holds(served: &Value, stored: &Value, at: &str) {
    match (served, stored) {
        (Value::Object(served), Value::Object(stored)) => {
            for (key, value) in stored {
                assert_holds(
                    served.get(key).unwrap_or(&Value::Null),
                    value,
                    &format!("{at}.{key}"),
                );
            }
        }
        (Value::Array(served), Value::Array(stored)) => {
            assert_eq!(served.len(), stored.len(), "{at}");
            for (i, (a, b)) in served.iter().zip(stored).enumerate() {
                assert_holds(a, b, &format!("{at}[{i}]"));
            }
        }
        _ => assert_eq!(served, stored, "{at}"),
    }
}

#[tokio::test]
async fn a_database_of_the_per_kind_tables_is_served_the_same_after_migration_0008() {
    let dir = old_database().await;
    let app = TestApp::start_prepared(dir, Config::default()).await;

    let paths_of = [
        paths::imagestream("legacy", "ruby"),
        paths::template("legacy", "app"),
        paths::template_instance("legacy", "app-1"),
        paths::rolebinding("legacy", "ann-view"),
        paths::trigger("legacy", "deploy"),
    ];
    for ((_, _, old), path) in old_objects().into_iter().zip(paths_of) {
        let (code, body) = app.get(&path).await;
        assert_eq!(code, StatusCode::OK, "{path}: {body}");
        assert_eq!(body["metadata"], old["metadata"], "{path}");
        assert_eq!(body["kind"], old["kind"], "{path}");
        for field in ["spec", "roleRef", "subjects", "objects"] {
            assert_holds(&body[field], &old[field], &format!("{path} {field}"));
        }
    }
    let (code, ann) = app.get(&paths::user("ann")).await;
    assert_eq!(code, StatusCode::OK, "{ann}");
    let (code, admins) = app.get(&paths::group("system:cluster-admins")).await;
    assert_eq!(
        (code, &admins["users"]),
        (StatusCode::OK, &json!(["admin"]))
    );
    let (code, config) = app.get(paths::SAMPLES_CONFIG).await;
    assert_eq!(code, StatusCode::OK, "{config}");
    assert_eq!(config["spec"]["managementState"], "Unmanaged");
    // The trigger's secret moved beside it, still out of its body.
    let target = app
        .store()
        .webhook_target("legacy", "deploy")
        .await
        .unwrap();
    assert_eq!(
        target,
        Some(("http://127.0.0.1:9/hook".into(), "old-secret".into()))
    );

    // Writes go on from the old revision, with the same optimistic concurrency.
    let (_, mut stream) = app.get(&paths::imagestream("legacy", "ruby")).await;
    stream["metadata"]["labels"] = json!({"moved": "yes"});
    let (code, put) = app
        .put(&paths::imagestream("legacy", "ruby"), &stream)
        .await;
    assert_eq!(code, StatusCode::OK, "{put}");
    let rv: u64 = put["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(rv > 7, "the revision counter carried over: {rv}");
    let (code, stale) = app
        .put(&paths::imagestream("legacy", "ruby"), &stream)
        .await;
    assert_eq!(code, StatusCode::CONFLICT, "{stale}");

    // Deleting the project still takes everything in it along.
    let (code, _) = app.delete(&paths::project("legacy")).await;
    assert_eq!(code, StatusCode::OK);
    let (code, _) = app
        .post(paths::PROJECTS, &json!({"metadata": {"name": "legacy"}}))
        .await;
    assert_eq!(code, StatusCode::CREATED);
    for path in [
        paths::imagestream("legacy", "ruby"),
        paths::trigger("legacy", "deploy"),
    ] {
        let (code, body) = app.get(&path).await;
        assert_eq!(code, StatusCode::NOT_FOUND, "{path}: {body}");
    }
    assert_eq!(
        app.store()
            .webhook_target("legacy", "deploy")
            .await
            .unwrap(),
        None
    );
    app.stop().await;
}
