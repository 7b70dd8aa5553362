//! [`TriggerStore`] on SQLite, and the outbox: [`SqliteStore::enqueue_tag_moves`] runs inside a
//! stream write's transaction, so an event is queued exactly when the tag change commits.

use async_trait::async_trait;
use sqlx::{Sqlite, Transaction};
use tagstream_shared::event::{Event, EventReason, EventType};
use tagstream_shared::trigger::{
    API_VERSION, Delivery, DeliveryPhase, DeliveryStatus, TagChangeEvent, Trigger,
};
use tagstream_shared::{ImageStream, ObjectMeta, ProjectName, Time};

use super::sqlite::{Change, SqliteStore, Versioned, decode_all, encode, on_constraint};
use super::triggers::{Attempt, DELIVERIES_RESOURCE, DueDelivery, TriggerStore};
use super::{Listed, StoreError, StoreResult};
use crate::triggers::moves::{new_import_failures, tag_moves};
use crate::triggers::short_digest;

const TRIGGERS: &str = "triggers.tagstream.io";

impl Versioned for Trigger {
    fn set_resource_version(&mut self, revision: i64) {
        self.metadata.resource_version = Some(revision.to_string());
    }
}

type DeliveryRow = (
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
);

const DELIVERY_COLUMNS: &str = "id, namespace, trigger, body, phase, attempts, created, \
     next_attempt, last_attempt, last_status, last_latency_ms, last_error";

fn delivery_of(row: DeliveryRow) -> StoreResult<Delivery> {
    let (id, ns, trigger, body, phase, attempts, created, next, last, status, latency, error) = row;
    let phase = DeliveryPhase::parse(&phase);
    Ok(Delivery {
        kind: Delivery::KIND.into(),
        api_version: API_VERSION.into(),
        metadata: ObjectMeta {
            name: Some(id),
            namespace: Some(ns),
            creation_timestamp: Some(Time::from_timestamp(created)),
            ..ObjectMeta::default()
        },
        trigger,
        event: serde_json::from_str(&body)?,
        status: DeliveryStatus {
            phase,
            attempts: u32::try_from(attempts).unwrap_or_default(),
            last_attempt_time: last.map(Time::from_timestamp),
            last_status_code: status.and_then(|s| u16::try_from(s).ok()),
            last_latency_millis: latency.and_then(|l| u64::try_from(l).ok()),
            last_error: error,
            next_attempt_time: (phase == DeliveryPhase::Pending)
                .then(|| Time::from_timestamp(next)),
        },
    })
}

impl SqliteStore {
    /// Puts delivery `id` in the change log as it now is, in the transaction that wrote it, so
    /// that a watch of the deliveries (the console's live delivery log) hears of each new
    /// delivery and each attempt. Deliveries have no SQL trigger filling the log (the schema
    /// stays as it is): every write path of a delivery calls this.
    async fn log_delivery(
        tx: &mut Transaction<'static, Sqlite>,
        id: &str,
        kind: &str,
    ) -> StoreResult<()> {
        let row: Option<DeliveryRow> = sqlx::query_as(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = ?"
        ))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
        // Pruned in the same transaction: nothing to tell.
        let Some(row) = row else { return Ok(()) };
        let delivery = delivery_of(row)?;
        sqlx::query(
            "INSERT INTO changes (revision, type, resource, namespace, name, body) \
             VALUES ((SELECT value FROM revision WHERE id = 1), ?, ?, ?, ?, ?)",
        )
        .bind(kind)
        .bind(DELIVERIES_RESOURCE)
        .bind(delivery.metadata.namespace.as_deref())
        .bind(id)
        .bind(serde_json::to_string(&delivery)?)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

fn tag_event(
    ns: &str,
    stream: &str,
    tag: &str,
    event_type: EventType,
    reason: EventReason,
    message: String,
) -> Event {
    crate::triggers::project_event(
        ns,
        "ImageStreamTag",
        &format!("{stream}:{tag}"),
        event_type,
        reason,
        message,
    )
}

impl SqliteStore {
    pub(super) async fn insert_event(
        tx: &mut Transaction<'static, Sqlite>,
        event: &Event,
    ) -> StoreResult<()> {
        sqlx::query("INSERT INTO events (namespace, body) VALUES (?, ?)")
            .bind(event.metadata.namespace.as_deref().unwrap_or_default())
            .bind(serde_json::to_string(event)?)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Inside a stream write: one outbox row per moved tag per trigger following it (paused
    /// ones excepted), and the project's events for moves and new import failures.
    pub(super) async fn enqueue_tag_moves(
        tx: &mut Transaction<'static, Sqlite>,
        ns: &str,
        before: Option<&ImageStream>,
        after: &ImageStream,
    ) -> StoreResult<()> {
        let stream = after.metadata.name();
        let moves = tag_moves(before, after);
        let importing = crate::audit::actor() == crate::audit::IMPORTER;
        for m in &moves {
            let message = match &m.old {
                Some(old) => format!(
                    "{stream}:{} now points at {} (was {})",
                    m.tag,
                    short_digest(&m.new),
                    short_digest(old)
                ),
                None => format!("{stream}:{} now points at {}", m.tag, short_digest(&m.new)),
            };
            let reason = if importing {
                EventReason::Imported
            } else {
                EventReason::TagUpdated
            };
            Self::insert_event(
                tx,
                &tag_event(ns, stream, &m.tag, EventType::Normal, reason, message),
            )
            .await?;
        }
        for f in new_import_failures(before, after) {
            let message = format!(
                "import of {stream}:{} failed: {} {}",
                f.tag, f.reason, f.message
            );
            Self::insert_event(
                tx,
                &tag_event(
                    ns,
                    stream,
                    &f.tag,
                    EventType::Warning,
                    EventReason::ImportFailed,
                    message,
                ),
            )
            .await?;
        }
        if moves.is_empty() {
            return Ok(());
        }
        let bodies: Vec<String> =
            sqlx::query_scalar("SELECT body FROM triggers WHERE namespace = ? ORDER BY name")
                .bind(ns)
                .fetch_all(&mut **tx)
                .await?;
        let triggers: Vec<Trigger> = decode_all(bodies)?;
        let now = Time::now();
        for m in moves {
            let event_id = uuid::Uuid::new_v4().to_string();
            for t in triggers
                .iter()
                .filter(|t| !t.spec.paused && t.follows(stream, &m.tag))
            {
                let event = TagChangeEvent {
                    id: event_id.clone(),
                    kind: TagChangeEvent::TYPE.into(),
                    time: now,
                    project: ns.to_owned(),
                    stream: stream.to_owned(),
                    tag: m.tag.clone(),
                    old_digest: m.old.clone(),
                    new_digest: m.new.clone(),
                    pull_spec: m.pull_spec.clone(),
                    trigger: t.metadata.name().to_owned(),
                };
                let id = uuid::Uuid::new_v4().to_string();
                sqlx::query(
                    "INSERT INTO deliveries (id, namespace, trigger, event_id, body, created, \
                     next_attempt) VALUES (?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(&id)
                .bind(ns)
                .bind(t.metadata.name())
                .bind(&event_id)
                .bind(serde_json::to_string(&event)?)
                .bind(now.timestamp())
                .bind(now.timestamp())
                .execute(&mut **tx)
                .await?;
                Self::log_delivery(tx, &id, "ADDED").await?;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl TriggerStore for SqliteStore {
    async fn list_triggers(&self, ns: &ProjectName) -> StoreResult<Listed<Trigger>> {
        self.list_in("triggers", ns).await
    }

    async fn get_trigger(&self, ns: &ProjectName, name: &str) -> StoreResult<Trigger> {
        self.get_in("triggers", ns, name).await
    }

    async fn create_trigger(
        &self,
        ns: &ProjectName,
        mut trigger: Trigger,
        secret: String,
    ) -> StoreResult<Trigger> {
        trigger.spec.webhook.secret = None;
        let name = trigger.metadata.name().to_owned();
        let (mut tx, revision) = self.begin_write().await?;
        let body = encode(&mut trigger, revision)?;
        sqlx::query(
            "INSERT INTO triggers (namespace, name, resource_version, body, secret) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(ns.as_str())
        .bind(&name)
        .bind(revision)
        .bind(body)
        .bind(secret)
        .execute(&mut *tx)
        .await
        .map_err(on_constraint)?;
        Self::record(
            &mut tx,
            Change::create(TRIGGERS, Some(ns.as_str()), &name, revision),
        )
        .await?;
        self.commit(tx).await?;
        Ok(trigger)
    }

    async fn update_trigger(
        &self,
        ns: &ProjectName,
        name: &str,
        expected: u64,
        mut trigger: Trigger,
        secret: Option<String>,
    ) -> StoreResult<Trigger> {
        trigger.spec.webhook.secret = None;
        let (mut tx, revision) = self.begin_write().await?;
        let stored: Option<i64> = sqlx::query_scalar(
            "SELECT resource_version FROM triggers WHERE namespace = ? AND name = ?",
        )
        .bind(ns.as_str())
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let before = match stored {
            None => return Err(StoreError::NotFound),
            Some(v) if u64::try_from(v).ok() != Some(expected) => return Err(StoreError::Conflict),
            Some(v) => v,
        };
        let body = encode(&mut trigger, revision)?;
        sqlx::query(
            "UPDATE triggers SET resource_version = ?, body = ?, secret = coalesce(?, secret) \
             WHERE namespace = ? AND name = ?",
        )
        .bind(revision)
        .bind(body)
        .bind(secret)
        .bind(ns.as_str())
        .bind(name)
        .execute(&mut *tx)
        .await?;
        Self::record(
            &mut tx,
            Change::update(TRIGGERS, Some(ns.as_str()), name, before, revision),
        )
        .await?;
        self.commit(tx).await?;
        Ok(trigger)
    }

    async fn delete_trigger(&self, ns: &ProjectName, name: &str) -> StoreResult<Trigger> {
        let (mut tx, _) = self.begin_write().await?;
        let row: Option<(String, i64)> = sqlx::query_as(
            "DELETE FROM triggers WHERE namespace = ? AND name = ? \
             RETURNING body, resource_version",
        )
        .bind(ns.as_str())
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let (body, before) = row.ok_or(StoreError::NotFound)?;
        sqlx::query("DELETE FROM deliveries WHERE namespace = ? AND trigger = ?")
            .bind(ns.as_str())
            .bind(name)
            .execute(&mut *tx)
            .await?;
        Self::record(
            &mut tx,
            Change::delete(TRIGGERS, Some(ns.as_str()), name, Some(before)),
        )
        .await?;
        self.commit(tx).await?;
        Ok(serde_json::from_str(&body)?)
    }

    async fn webhook_target(&self, ns: &str, name: &str) -> StoreResult<Option<(String, String)>> {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT body, secret FROM triggers WHERE namespace = ? AND name = ?")
                .bind(ns)
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
        let Some((body, secret)) = row else {
            return Ok(None);
        };
        let trigger: Trigger = serde_json::from_str(&body)?;
        Ok(Some((trigger.spec.webhook.url, secret)))
    }

    async fn due_deliveries(&self, now: i64, limit: u32) -> StoreResult<Vec<DueDelivery>> {
        let rows: Vec<(String, String, String, String, String, i64, i64)> = sqlx::query_as(
            "SELECT id, namespace, trigger, event_id, body, attempts, created FROM deliveries \
             WHERE phase = 'Pending' AND next_attempt <= ? ORDER BY next_attempt, created LIMIT ?",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, namespace, trigger, event_id, body, attempts, created)| DueDelivery {
                    id,
                    namespace,
                    trigger,
                    event_id,
                    body,
                    attempts: u32::try_from(attempts).unwrap_or_default(),
                    created,
                },
            )
            .collect())
    }

    async fn next_due(&self) -> StoreResult<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT min(next_attempt) FROM deliveries WHERE phase = 'Pending'")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn record_attempt(
        &self,
        delivery: &DueDelivery,
        attempt: Attempt,
        event: Option<Event>,
    ) -> StoreResult<()> {
        // A revision of its own: the attempt goes to the change log (the live delivery log).
        let (mut tx, _) = self.begin_write().await?;
        sqlx::query(
            "UPDATE deliveries SET phase = ?, attempts = attempts + 1, last_attempt = ?, \
             last_status = ?, last_latency_ms = ?, last_error = ?, \
             next_attempt = coalesce(?, next_attempt) WHERE id = ?",
        )
        .bind(attempt.phase.as_str())
        .bind(attempt.at)
        .bind(attempt.status.map(i64::from))
        .bind(i64::try_from(attempt.latency_ms).unwrap_or(i64::MAX))
        .bind(attempt.error)
        .bind(attempt.next_attempt)
        .bind(&delivery.id)
        .execute(&mut *tx)
        .await?;
        Self::log_delivery(&mut tx, &delivery.id, "MODIFIED").await?;
        if let Some(event) = event {
            Self::insert_event(&mut tx, &event).await?;
        }
        self.commit(tx).await?;
        Ok(())
    }

    async fn list_deliveries(
        &self,
        ns: &ProjectName,
        trigger: &str,
        limit: u32,
    ) -> StoreResult<Listed<Delivery>> {
        // One read transaction: the revision is the one the rows are current at.
        let mut tx = self.pool.begin().await?;
        let revision: i64 = sqlx::query_scalar("SELECT value FROM revision WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        let rows: Vec<DeliveryRow> = sqlx::query_as(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE namespace = ? AND trigger = ? \
             ORDER BY created DESC, rowid DESC LIMIT ?"
        ))
        .bind(ns.as_str())
        .bind(trigger)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Listed {
            items: rows
                .into_iter()
                .map(delivery_of)
                .collect::<StoreResult<_>>()?,
            resource_version: u64::try_from(revision).unwrap_or_default(),
        })
    }

    async fn redeliver(
        &self,
        ns: &ProjectName,
        trigger: &str,
        id: &str,
        now: i64,
    ) -> StoreResult<Delivery> {
        let new_id = uuid::Uuid::new_v4().to_string();
        let (mut tx, _) = self.begin_write().await?;
        let copied = sqlx::query(
            "INSERT INTO deliveries (id, namespace, trigger, event_id, body, created, next_attempt) \
             SELECT ?, namespace, trigger, event_id, body, ?, ? FROM deliveries \
             WHERE namespace = ? AND trigger = ? AND id = ?",
        )
        .bind(&new_id)
        .bind(now)
        .bind(now)
        .bind(ns.as_str())
        .bind(trigger)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if copied.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Self::log_delivery(&mut tx, &new_id, "ADDED").await?;
        let row: DeliveryRow = sqlx::query_as(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = ?"
        ))
        .bind(&new_id)
        .fetch_one(&mut *tx)
        .await?;
        self.commit(tx).await?;
        delivery_of(row)
    }

    async fn list_events(&self, ns: &ProjectName, limit: u32) -> StoreResult<Vec<Event>> {
        let bodies: Vec<String> = sqlx::query_scalar(
            "SELECT body FROM events WHERE namespace = ? ORDER BY id DESC LIMIT ?",
        )
        .bind(ns.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        decode_all(bodies)
    }
}
