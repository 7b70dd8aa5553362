//! One unit of work per stream write (issue 12, the service layer), on the real store (SQLite,
//! or PostgreSQL with `TAGSTREAM_TEST_POSTGRES=1`): a tag move, its event, its webhook delivery
//! and its audit entry commit together or not at all, and they name the actor the write was
//! given, even from a spawned task (no task-local to lose).

#![expect(clippy::unwrap_used, reason = "a test that cannot proceed has failed")]

use serde_json::json;
use tagstream_backend::audit::Actor;
use tagstream_backend::services::streams;
use tagstream_backend::store::{Objects as _, Store, StoreError};
use tagstream_shared::trigger::Trigger;
use tagstream_shared::{ImageStream, Project, ProjectName, StreamName, Time};

use crate::pg_support::TestStore;
use crate::support::{decode, digest};

/// What a stream write may leave behind in project `demo`, counted.
#[derive(Debug, PartialEq, Eq)]
struct Traces {
    revision: u64,
    stream_version: Option<String>,
    current_image: String,
    events: usize,
    deliveries: usize,
    audit: usize,
}

async fn traces(store: &dyn Store, ns: &ProjectName) -> Traces {
    let listed = store.list::<ImageStream>(Some(ns)).await.unwrap();
    let stream = &listed.items[0];
    let current = stream.status_tag("latest").and_then(|t| t.current());
    Traces {
        revision: listed.resource_version,
        stream_version: stream.metadata.resource_version.clone(),
        current_image: current.map(|c| c.image.clone()).unwrap_or_default(),
        events: store.list_events(ns, 1000).await.unwrap().len(),
        deliveries: store
            .list_deliveries(ns, "deploy", 1000)
            .await
            .unwrap()
            .items
            .len(),
        audit: store.list_audit_events(Some(ns), 1000).await.unwrap().len(),
    }
}

/// `ruby:latest` pointing at `image`, as an import records it.
fn with_image(mut stream: ImageStream, image: &str) -> ImageStream {
    let status = json!({"tags": [{"tag": "latest", "items": [{
        "created": "2026-01-01T00:00:00Z", "generation": 1, "image": image,
        "dockerImageReference": format!("quay.io/demo/ruby@{image}")}]}]});
    stream.status = decode(status);
    stream
}

/// A project `demo` with trigger `deploy` following `ruby:latest`, and stream `ruby` whose
/// `latest` moved to image a.
async fn project_with_trigger(store: &dyn Store) -> (ProjectName, StreamName) {
    let actor = Actor::named("admin");
    let ns: ProjectName = "demo".parse().unwrap();
    let name: StreamName = "ruby".parse().unwrap();
    store
        .create_project(&actor, &ns, Project::new("demo"), None)
        .await
        .unwrap();
    let trigger: Trigger = decode(json!({
        "kind": "Trigger", "apiVersion": "tagstream.io/v1",
        "metadata": {"name": "deploy", "namespace": "demo"},
        "spec": {"from": {"kind": "ImageStreamTag", "name": "ruby:latest"},
                 "webhook": {"url": "http://127.0.0.1:9/hook"}}
    }));
    store
        .create_trigger(&actor, &ns, trigger, "s3cret".into())
        .await
        .unwrap();
    let stream = tagstream_backend::service::stream_for_create(
        ImageStream::new("ruby"),
        "demo",
        Time::now(),
    );
    streams::create(store, None, &actor, &ns, &name, stream)
        .await
        .unwrap();
    let (expected, new) = moved(store, &ns, &digest('a')).await;
    streams::replace(store, None, &actor, &ns, &name, expected, new)
        .await
        .unwrap();
    (ns, name)
}

/// Makes every insert into the webhook outbox fail, as a full disk or a broken constraint
/// would, through the real database's own trigger mechanism.
async fn refuse_deliveries(store: &TestStore, dir: &std::path::Path, refuse: bool) {
    match store {
        TestStore::Sqlite(_) => {
            let url = format!("sqlite://{}", dir.join("tagstream.db").display());
            let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
            let sql = if refuse {
                "CREATE TRIGGER refuse_deliveries BEFORE INSERT ON deliveries \
                 BEGIN SELECT RAISE(ABORT, 'deliveries refused by the test'); END"
            } else {
                "DROP TRIGGER refuse_deliveries"
            };
            sqlx::query(sql).execute(&pool).await.unwrap();
            pool.close().await;
        }
        TestStore::Postgres(pg) => {
            let statements: &[&str] = if refuse {
                &[
                    "CREATE FUNCTION refuse_deliveries() RETURNS trigger LANGUAGE plpgsql AS \
                     $$ BEGIN RAISE EXCEPTION 'deliveries refused by the test'; END $$",
                    "CREATE TRIGGER refuse_deliveries BEFORE INSERT ON deliveries \
                     FOR EACH ROW EXECUTE FUNCTION refuse_deliveries()",
                ]
            } else {
                &["DROP TRIGGER refuse_deliveries ON deliveries"]
            };
            for sql in statements {
                sqlx::query(sql).execute(pg.pool()).await.unwrap();
            }
        }
    }
}

/// The stream as stored, moved to `image`, with the resourceVersion it was read at.
async fn moved(store: &dyn Store, ns: &ProjectName, image: &str) -> (u64, ImageStream) {
    let stored = store.get::<ImageStream>(Some(ns), "ruby").await.unwrap();
    let expected = stored.metadata.revision();
    assert!(expected > 0, "a stored object has a resourceVersion");
    let new = tagstream_backend::service::stream_with_status(
        &stored,
        with_image(stored.clone(), image).status,
    );
    (expected, new)
}

#[tokio::test]
async fn a_refused_delivery_leaves_the_tag_move_its_event_and_audit_entry_unwritten() {
    let dir = tempfile::tempdir().unwrap();
    let test_store = TestStore::open(dir.path()).await;
    let store = test_store.as_dyn();
    let (ns, name) = project_with_trigger(store).await;
    let before = traces(store, &ns).await;
    assert_eq!(before.current_image, digest('a'));
    assert_eq!(
        before.deliveries, 1,
        "the first image was delivered: {before:?}"
    );

    refuse_deliveries(&test_store, dir.path(), true).await;
    let (expected, new) = moved(store, &ns, &digest('b')).await;
    let refused = streams::replace(
        store,
        None,
        &Actor::named("alice"),
        &ns,
        &name,
        expected,
        new,
    )
    .await;
    assert!(
        matches!(refused, Err(StoreError::Database(_))),
        "the write fails with the outbox: {refused:?}"
    );
    assert_eq!(
        traces(store, &ns).await,
        before,
        "nothing of the refused write is kept"
    );

    // The same write once the outbox takes rows again: everything it causes is there.
    refuse_deliveries(&test_store, dir.path(), false).await;
    let (expected, new) = moved(store, &ns, &digest('b')).await;
    streams::replace(
        store,
        None,
        &Actor::named("alice"),
        &ns,
        &name,
        expected,
        new,
    )
    .await
    .unwrap();
    let after = traces(store, &ns).await;
    assert_eq!(after.current_image, digest('b'));
    assert_eq!(
        (after.events, after.deliveries, after.audit),
        (before.events + 1, before.deliveries + 1, before.audit + 1),
        "{after:?}"
    );
    test_store.close().await;
}

#[tokio::test]
async fn a_write_from_a_spawned_task_is_recorded_as_its_actor() {
    let dir = tempfile::tempdir().unwrap();
    let test_store = TestStore::open(dir.path()).await;
    let shared = test_store.shared();
    let (ns, name) = project_with_trigger(&*shared).await;
    let (expected, new) = moved(&*shared, &ns, &digest('c')).await;
    let task_store = shared.clone();
    let (task_ns, task_name) = (ns.clone(), name.clone());
    tokio::spawn(async move {
        let actor = Actor::named("carol");
        streams::replace(
            &*task_store,
            None,
            &actor,
            &task_ns,
            &task_name,
            expected,
            new,
        )
        .await
    })
    .await
    .unwrap()
    .unwrap();

    let audit = shared.list_audit_events(Some(&ns), 1).await.unwrap();
    assert_eq!(
        (
            audit[0].user.as_str(),
            audit[0].verb.as_str(),
            audit[0].name.as_str()
        ),
        ("carol", "update", "ruby"),
        "{audit:?}"
    );
    let events = shared.list_events(&ns, 1).await.unwrap();
    assert_eq!(events[0].actor, "carol", "{events:?}");
    assert!(events[0].message.contains("now points at"), "{events:?}");
    test_store.close().await;
}
