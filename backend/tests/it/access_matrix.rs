//! The authorization matrix: every registered route × every kind of caller, against the real
//! server, compared with what OpenShift's roles mean (written out below, independently of the
//! server's predicates). The routes come from the server's own table, which is the only way to
//! register one, so a new route is in the matrix the moment it exists, and a path parameter or a
//! need this test does not know fails it.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tagstream_backend::access::Need;
use tagstream_backend::api::route_table;
use tagstream_shared::access::{Resource, Verb};
use tagstream_shared::paths;

use crate::support::{TestApp, client_with_token, stream_json};

/// What the caller gets, as far as authorization goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// 401: nobody signed in.
    Unauthorized,
    /// 403 naming what was refused.
    Forbidden,
    /// 404 for the project itself: the caller cannot tell it exists.
    Hidden,
    /// The handler ran (its answer is whatever the request deserves).
    Allowed,
}

#[derive(Debug, Clone)]
enum Who {
    Anonymous,
    NoBinding,
    Role(&'static str),
    OtherProjectAdmin,
    ClusterAdmin,
    /// A cluster admin's token limited to project `other`: it acts there only.
    ScopedToOther,
}

const ROLES: [&str; 8] = [
    "admin",
    "edit",
    "view",
    "registry-admin",
    "registry-editor",
    "registry-viewer",
    "system:image-puller",
    "system:image-pusher",
];

/// What each role allows in its project, from OpenShift's meanings of the roles.
fn role_allows(role: &str, verb: Verb, resource: Resource) -> bool {
    use Resource as R;
    let read = matches!(verb, Verb::Get | Verb::List | Verb::Watch);
    let image = matches!(
        resource,
        R::ImageStreams | R::ImageStreamTags | R::ImageStreamImages | R::ImageStreamImports
    );
    let access_rules = matches!(resource, R::RoleBindings | R::AuditEvents);
    match role {
        "admin" => true,
        "edit" => !access_rules && (resource != R::Projects || read),
        "view" => read && !access_rules,
        "registry-admin" => {
            image || resource == R::RoleBindings || (resource == R::Projects && read)
        }
        "registry-editor" => image || (resource == R::Projects && read),
        "registry-viewer" => read && (image || resource == R::Projects),
        "system:image-puller" => {
            verb == Verb::Get
                && matches!(
                    resource,
                    R::Projects | R::ImageStreams | R::ImageStreamTags | R::ImageStreamImages
                )
        }
        "system:image-pusher" => {
            role_allows("system:image-puller", verb, resource)
                || (resource == R::ImageStreamTags
                    && matches!(verb, Verb::Create | Verb::Update | Verb::Patch))
                || (resource == R::ImageStreamImports && verb == Verb::Create)
        }
        other => panic!("no expectation for role {other}"),
    }
}

fn expected(need: Need, who: &Who) -> Outcome {
    if need == Need::Anyone {
        return Outcome::Allowed;
    }
    if matches!(who, Who::Anonymous) {
        return Outcome::Unauthorized;
    }
    let admin = matches!(who, Who::ClusterAdmin);
    if matches!(who, Who::ScopedToOther) {
        // Every project route here names `team` (or a doomed copy), outside the scope.
        return match need {
            Need::Anyone | Need::SignedInScoped => Outcome::Allowed,
            Need::SignedIn | Need::ClusterAdmin | Need::SelfOrClusterAdmin { .. } => {
                Outcome::Forbidden
            }
            Need::Project { .. } => Outcome::Hidden,
        };
    }
    match need {
        Need::Anyone | Need::SignedIn | Need::SignedInScoped => Outcome::Allowed,
        // The user named in these paths is someone else than every caller but the admin.
        Need::ClusterAdmin | Need::SelfOrClusterAdmin { .. } => {
            if admin {
                Outcome::Allowed
            } else {
                Outcome::Forbidden
            }
        }
        Need::Project { verb, resource, .. } => match who {
            Who::ClusterAdmin => Outcome::Allowed,
            Who::Role(role) if role_allows(role, verb, resource) => Outcome::Allowed,
            Who::Role(_) => Outcome::Forbidden,
            Who::NoBinding | Who::OtherProjectAdmin | Who::Anonymous | Who::ScopedToOther => {
                Outcome::Hidden
            }
        },
    }
}

/// Projects as the core group's Namespaces.
const NAMESPACES: &str = tagstream_shared::resources::NAMESPACES.collection_route;

/// A concrete path for a route pattern; an unknown parameter fails the test.
fn concrete(pattern: &str, ns: &str) -> String {
    let mut out = String::new();
    for seg in pattern.split('/').skip(1) {
        out.push('/');
        let value = match seg {
            "{ns}" => ns,
            // Projects are named `{name}` on their own path (and as v1 Namespaces).
            "{name}" if pattern.starts_with(paths::PROJECTS) || pattern.starts_with(NAMESPACES) => {
                ns
            }
            // Users (self-or-admin routes): someone who is none of the callers.
            "{name}" if pattern.starts_with(paths::USERS) => "someone",
            "{name}" if pattern.contains("imagestreamtags") => "ruby:no-such-tag",
            "{name}" if pattern.contains("imagestreamimages") => "ruby@sha256:aaaa",
            "{name}" => "no-such-object",
            "{id}" => "no-such-token",
            "{token}" => "no-such-invitation",
            "{delivery}" => "no-such-delivery",
            s if s.starts_with('{') => {
                panic!("the matrix does not know parameter {s} of {pattern}")
            }
            s => s,
        };
        out.push_str(value);
    }
    out
}

fn classify(code: StatusCode, body: &Value) -> Outcome {
    match code {
        StatusCode::UNAUTHORIZED => Outcome::Unauthorized,
        StatusCode::FORBIDDEN
            if body["reason"] == "Forbidden"
                && !body["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("CSRF") =>
        {
            Outcome::Forbidden
        }
        StatusCode::NOT_FOUND if body["details"]["kind"] == "projects" => Outcome::Hidden,
        _ => Outcome::Allowed,
    }
}

/// Creates `ns` with a stream, a template, and one user per role bound in it; answers their
/// clients, in `ROLES` order.
async fn populate(app: &TestApp, ns: &str, users: &[(String, reqwest::Client)]) {
    app.create_project(ns).await;
    app.create_stream(ns, &stream_json("ruby", "latest", "quay.io/demo/ruby:3.3"))
        .await;
    let (code, body) = app
        .post(
            &paths::templates(ns),
            &json!({"kind": "Template", "apiVersion": "template.openshift.io/v1",
                    "metadata": {"name": "t"}, "objects": []}),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    for (role, (user, _)) in ROLES.iter().zip(users) {
        app.grant(ns, user, role).await;
    }
}

#[tokio::test]
async fn every_route_answers_every_caller_as_the_roles_say() {
    let app = TestApp::start().await;
    let mut role_users = Vec::new();
    for (i, _) in ROLES.iter().enumerate() {
        let u = app.user(&format!("role-user-{i}")).await;
        role_users.push((u.name, u.client));
    }
    let nobody = app.user("nobody").await;
    let other_admin = app.user("other-admin").await;
    app.user("someone").await;
    populate(&app, "team", &role_users).await;
    // Another project, created by its own admin through the API (the creator becomes admin).
    let (code, body) = app
        .send_as(
            &other_admin.client,
            Method::POST,
            paths::PROJECTS,
            Some(&json!({"metadata": {"name": "other"}})),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");

    let (code, scoped) = app
        .post(
            &paths::tokens("~"),
            &json!({"spec": {"description": "matrix", "project": "other"}}),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{scoped}");
    let scoped = client_with_token(scoped["token"].as_str().unwrap());

    let mut callers: Vec<(Who, reqwest::Client)> = vec![
        (Who::ScopedToOther, scoped),
        (Who::Anonymous, crate::support::http_client()),
        (Who::NoBinding, nobody.client.clone()),
        (Who::OtherProjectAdmin, other_admin.client.clone()),
        (
            Who::ClusterAdmin,
            client_with_token(crate::support::ADMIN_TOKEN),
        ),
    ];
    for (role, (_, client)) in ROLES.iter().zip(&role_users) {
        callers.push((Who::Role(role), client.clone()));
    }

    let table = route_table();
    assert!(
        table.len() > 40,
        "the table lists every route: {}",
        table.len()
    );
    let mut seen = std::collections::BTreeSet::new();
    let mut failures = Vec::new();
    let mut doomed = 0;
    for rule in &table {
        assert!(
            seen.insert((rule.method, rule.path)),
            "{} {} is registered twice",
            rule.method,
            rule.path
        );
        let deletes_project = rule.method == "DELETE"
            && (rule.path.ends_with("/projects/{name}") || rule.path.starts_with(NAMESPACES));
        for (who, client) in &callers {
            // Deleting the project really deletes it: each caller gets a project of its own,
            // bound as in `team`.
            let ns = if deletes_project {
                doomed += 1;
                let ns = format!("doomed-{doomed}");
                populate(&app, &ns, &role_users).await;
                if let Who::OtherProjectAdmin = who {
                    // Their own project is `other`; this one they cannot see.
                }
                ns
            } else {
                "team".to_owned()
            };
            let path = concrete(rule.path, &ns);
            let method = Method::from_bytes(rule.method.as_bytes()).unwrap();
            // Writes carry a body every handler refuses after the check, so nothing changes.
            let body = (!matches!(method, Method::GET | Method::DELETE))
                .then(|| json!({"metadata": {"name": "NOT VALID"}}));
            let (code, answer) = app.send_as(client, method, &path, body.as_ref()).await;
            let got = classify(code, &answer);
            let want = expected(rule.need, who);
            if got != want {
                failures.push(format!(
                    "{} {path} as {who:?}: expected {want:?}, got {got:?} ({code}: {answer})",
                    rule.method
                ));
            }
            if got == Outcome::Allowed && matches!(who, Who::ClusterAdmin) {
                assert!(
                    !(code == StatusCode::NOT_FOUND
                        && answer["message"]
                            .as_str()
                            .unwrap_or_default()
                            .contains("could not find the requested resource")),
                    "{} {} is in the table but not routed: {answer}",
                    rule.method,
                    rule.path
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} answers differ:\n{}",
        failures.len(),
        table.len() * callers.len(),
        failures.join("\n")
    );
    // Nothing the matrix sent changed `team`: the stream and the template are as created.
    let (code, stream) = app.get(&paths::imagestream("team", "ruby")).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(stream["spec"]["tags"][0]["name"], "latest");
    app.stop().await;
}
