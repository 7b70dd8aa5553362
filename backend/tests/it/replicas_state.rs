//! What replicas on one throwaway PostgreSQL share and what each keeps to itself, with real
//! `tagstream serve` processes: a browser session (and its CSRF token) made on one replica
//! works on another and ends on all of them at sign-out; sign-in attempt limits count per
//! replica (by design, as the README says); and the samples are reconciled once per change,
//! not once per replica: started together, restarted, or after a config change.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use std::collections::HashMap;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tagstream_shared::paths::{
    AUDIT_EVENTS_ALL, LOGIN, LOGOUT, PROJECTS, SAMPLES_CONFIG, USERS, WHOAMI,
};

use crate::pg_support::fresh_database;
use crate::replicas::{Replica, start_all};
use crate::support::{Session, sign_in_at};

/// Signs `user` in on `r` with a password: the answer's code, and the session if it worked.
async fn sign_in(r: &Replica, user: &str, password: &str) -> (StatusCode, Option<Session>) {
    sign_in_at(r.url(LOGIN), user, password).await
}

/// A request to `r` with the session's cookie, and its CSRF token when `csrf`.
async fn with_session(
    r: &Replica,
    s: &Session,
    csrf: bool,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let mut req = crate::support::http_client()
        .request(method, r.url(path))
        .header("Cookie", &s.cookie);
    if csrf {
        req = req.header("X-CSRF-Token", &s.csrf);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    let resp = req.send().await.unwrap();
    let code = resp.status();
    (code, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_made_on_one_replica_works_on_the_others_and_sign_in_limits_are_per_replica() {
    let db = fresh_database().await;
    let extra = "[auth]\nlogin_attempts_per_user = 2\n";
    let replicas = start_all(&db, extra, 3);
    let (a, b, c) = (&replicas[0], &replicas[1], &replicas[2]);
    let (code, body) = a
        .post(
            USERS,
            &json!({"metadata": {"name": "carol"}, "password": "carol-password"}),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");

    let (code, session) = sign_in(a, "carol", "carol-password").await;
    assert_eq!(code, StatusCode::OK);
    let session = session.unwrap();
    // B knows the session A made, and its CSRF token: a change needs it there too.
    let (code, me) = with_session(b, &session, false, Method::GET, WHOAMI, None).await;
    assert_eq!(code, StatusCode::OK, "{me}");
    assert_eq!(me["username"], "carol", "{me}");
    let project = json!({"metadata": {"name": "carols"}});
    let (code, body) =
        with_session(b, &session, false, Method::POST, PROJECTS, Some(&project)).await;
    assert_eq!(code, StatusCode::FORBIDDEN, "no CSRF token: {body}");
    let (code, body) =
        with_session(b, &session, true, Method::POST, PROJECTS, Some(&project)).await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    // Signed out on C: over on A and B as well.
    let (code, body) = with_session(c, &session, true, Method::POST, LOGOUT, None).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    for r in [a, b] {
        let (code, body) = with_session(r, &session, false, Method::GET, WHOAMI, None).await;
        assert_eq!(
            code,
            StatusCode::UNAUTHORIZED,
            "{} still knows it: {body}",
            r.base
        );
    }

    // Sign-in limits are each replica's own: two wrong passwords lock carol out on A only
    // (README: a client spread over N replicas gets N times the attempts).
    for _ in 0..2 {
        let (code, _) = sign_in(a, "carol", "wrong-password").await;
        assert_eq!(code, StatusCode::UNAUTHORIZED);
    }
    let (code, _) = sign_in(a, "carol", "carol-password").await;
    assert_eq!(
        code,
        StatusCode::TOO_MANY_REQUESTS,
        "A counts its own failures"
    );
    let (code, _) = sign_in(b, "carol", "carol-password").await;
    assert_eq!(code, StatusCode::OK, "B has seen none");
}

/// How many times each (verb, resource, name) in the samples project was written, by `user`
/// (any user when `None`), from the audit log as `r` lists it.
async fn sample_writes(r: &Replica, user: Option<&str>) -> HashMap<(String, String, String), u32> {
    let (code, log) = r.get(&format!("{AUDIT_EVENTS_ALL}?limit=1000")).await;
    assert_eq!(code, StatusCode::OK, "{log}");
    let mut counts = HashMap::new();
    for e in log["items"].as_array().unwrap() {
        let resource = e["resource"].as_str().unwrap_or_default();
        if e["namespace"] != "openshift"
            || !(resource.starts_with("imagestreams") || resource.starts_with("templates"))
            || user.is_some_and(|u| e["user"] != u)
        {
            continue;
        }
        let key = (
            e["verb"].as_str().unwrap_or_default().to_owned(),
            resource.to_owned(),
            e["name"].as_str().unwrap_or_default().to_owned(),
        );
        *counts.entry(key).or_default() += 1;
    }
    counts
}

const SAMPLES_USER: &str = "system:serviceaccount:tagstream:samples";

#[tokio::test(flavor = "multi_thread")]
async fn samples_are_reconciled_once_per_change_not_once_per_replica() {
    let db = fresh_database().await;
    let replicas = start_all(&db, "", 3);
    let (a, c) = (&replicas[0], &replicas[2]);

    // Three replicas started at once on a fresh database: each sample created once, and
    // nothing put back or rewritten by the replicas that prepared after the first.
    let writes = sample_writes(c, Some(SAMPLES_USER)).await;
    let created = writes
        .keys()
        .filter(|(verb, _, _)| verb == "create")
        .count();
    assert!(
        created >= 12,
        "the sample streams and templates: {writes:?}"
    );
    assert!(
        writes
            .iter()
            .all(|((verb, _, _), n)| verb == "create" && *n == 1),
        "{writes:?}"
    );

    // A replica restarting finds the samples in line and writes nothing.
    drop(Replica::start(&db, ""));
    assert_eq!(sample_writes(c, Some(SAMPLES_USER)).await, writes);

    // The config changes through A (Removed): each sample is deleted once, whoever lists.
    let (code, mut config) = a.get(SAMPLES_CONFIG).await;
    assert_eq!(code, StatusCode::OK, "{config}");
    config["spec"]["managementState"] = json!("Removed");
    let (code, body) = a.put(SAMPLES_CONFIG, &config).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let deleted: HashMap<_, _> = sample_writes(c, None)
        .await
        .into_iter()
        .filter(|((verb, _, _), _)| verb == "delete")
        .collect();
    assert_eq!(deleted.len(), created, "{deleted:?}");
    assert!(deleted.values().all(|n| *n == 1), "{deleted:?}");
    drop(Replica::start(&db, ""));
    let after: HashMap<_, _> = sample_writes(c, None)
        .await
        .into_iter()
        .filter(|((verb, _, _), _)| verb != "update")
        .collect();
    let before: HashMap<_, _> = writes.into_iter().chain(deleted).collect();
    assert_eq!(
        after, before,
        "a restart after the change wrote samples again"
    );
}
