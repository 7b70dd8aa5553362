//! [`TriggerStore`] written once for both stores, and the outbox: `queue_delivery` runs inside
//! the unit of work of a stream write, so a delivery is queued exactly when the tag change
//! commits, and every write of a delivery goes to the change log in its own transaction (the
//! console's live delivery log watches it, on every replica). What differs per store is how due
//! deliveries are claimed (PostgreSQL leases them to one replica) and written in each store file.

use tagstream_shared::trigger::{API_VERSION, Delivery, DeliveryPhase, DeliveryStatus};
use tagstream_shared::{ObjectMeta, Time};

use super::StoreResult;

pub(super) type DeliveryRow = (
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

pub(super) const DELIVERY_COLUMNS: &str = "id, namespace, trigger, body, phase, attempts, created, \
     next_attempt, last_attempt, last_status, last_latency_ms, last_error";

pub(super) fn delivery_of(row: DeliveryRow) -> StoreResult<Delivery> {
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

/// The trigger SQL of `$store` on `$db`. `$next_due` answers when the next pending delivery is
/// due; `$attempt_clears` is what recording an attempt also sets (a lease given back). The store
/// has `claim_due_deliveries(now, limit)`, answering [`DueRow`](super::triggers::DueRow)s.
macro_rules! trigger_sql {
    ($store:ty, $db:ty, $next_due:literal, $attempt_clears:literal) => {
        const _: () = {
            use $crate::audit::Actor;
            use $crate::store::sql_triggers::{DELIVERY_COLUMNS, DeliveryRow, delivery_of};
            use $crate::store::sqlite::decode_all;
            use $crate::store::triggers::{Attempt, DELIVERIES_RESOURCE, DueDelivery, TriggerStore};
            use $crate::store::unit::WriteTx;
            use $crate::store::{Listed, StoreError, StoreResult};
            use $crate::triggers::effects::QueuedDelivery;
            use tagstream_shared::event::Event;
            use tagstream_shared::resources::{DELIVERIES, TRIGGERS};
            use tagstream_shared::trigger::{Delivery, Trigger};
            use tagstream_shared::{ProjectName, Time};

            impl $store {
                /// Puts delivery `id` in the change log as it now is, in the transaction that wrote it, so
                /// that a watch of the deliveries (the console's live delivery log) hears of each new
                /// delivery and each attempt. Deliveries have no SQL trigger filling the log (the schema
                /// stays as it is): every write path of a delivery calls this.
                async fn log_delivery(tx: &mut WriteTx<$db>, id: &str, kind: &str) -> StoreResult<()> {
                    let row: Option<DeliveryRow> = sqlx::query_as(&Self::sql(&format!(
                        "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = ?"
                    )))
                    .bind(id)
                    .fetch_optional(&mut **tx)
                    .await?;
                    // Pruned in the same transaction: nothing to tell.
                    let Some(row) = row else { return Ok(()) };
                    let delivery = delivery_of(row)?;
                    sqlx::query(
                        &Self::sql("INSERT INTO changes (revision, type, resource, namespace, name, body) \
                         VALUES ((SELECT value FROM revision WHERE id = 1), ?, ?, ?, ?, ?)")
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

            impl $store {
                /// Keeps a trigger's secret beside it (never in its body).
                async fn put_secret(tx: &mut WriteTx<$db>, ns: &str, name: &str, secret: &str) -> StoreResult<()> {
                    sqlx::query(
                        &Self::sql("INSERT INTO object_secrets (resource, namespace, name, secret) VALUES (?, ?, ?, ?) \
                         ON CONFLICT (resource, namespace, name) DO UPDATE SET secret = excluded.secret")
                    )
                    .bind(TRIGGERS.plural)
                    .bind(ns)
                    .bind(name)
                    .bind(secret)
                    .execute(&mut **tx)
                    .await?;
                    Ok(())
                }

                pub(super) async fn insert_event(tx: &mut WriteTx<$db>, event: &Event) -> StoreResult<()> {
                    sqlx::query(&Self::sql("INSERT INTO events (namespace, body) VALUES (?, ?)"))
                        .bind(event.metadata.namespace.as_deref().unwrap_or_default())
                        .bind(serde_json::to_string(event)?)
                        .execute(&mut **tx)
                        .await?;
                    Ok(())
                }

                /// Queues one delivery (what `triggers::effects` decided) inside the write that caused
                /// it, and logs it for the live delivery log.
                pub(super) async fn queue_delivery(
                    tx: &mut WriteTx<$db>,
                    ns: &str,
                    d: &QueuedDelivery,
                    now: Time,
                ) -> StoreResult<()> {
                    let id = uuid::Uuid::new_v4().to_string();
                    sqlx::query(
                        &Self::sql("INSERT INTO deliveries (id, namespace, trigger, event_id, body, created, \
                         next_attempt) VALUES (?, ?, ?, ?, ?, ?, ?)")
                    )
                    .bind(&id)
                    .bind(ns)
                    .bind(&d.trigger)
                    .bind(&d.event_id)
                    .bind(serde_json::to_string(&d.event)?)
                    .bind(now.timestamp())
                    .bind(now.timestamp())
                    .execute(&mut **tx)
                    .await?;
                    Self::log_delivery(tx, &id, "ADDED").await
                }
            }

            #[async_trait::async_trait]
            impl TriggerStore for $store {
                async fn create_trigger(
                    &self,
                    actor: &Actor,
                    ns: &ProjectName,
                    mut trigger: Trigger,
                    secret: String,
                ) -> StoreResult<Trigger> {
                    trigger.spec.webhook.secret = None;
                    let (name, ns) = (trigger.metadata.name().to_owned(), ns.as_str());
                    let mut tx = self.begin_write(actor).await?;
                    let revision = tx.revision;
                    Self::insert_in(&mut tx, revision, &TRIGGERS, ns, &name, &mut trigger).await?;
                    Self::put_secret(&mut tx, ns, &name, &secret).await?;
                    self.commit(tx).await?;
                    Ok(trigger)
                }

                async fn update_trigger(
                    &self,
                    actor: &Actor,
                    ns: &ProjectName,
                    name: &str,
                    expected: u64,
                    mut trigger: Trigger,
                    secret: Option<String>,
                ) -> StoreResult<Trigger> {
                    trigger.spec.webhook.secret = None;
                    let ns = ns.as_str();
                    let mut tx = self.begin_write(actor).await?;
                    let revision = tx.revision;
                    Self::update_in(
                        &mut tx,
                        revision,
                        &TRIGGERS,
                        ns,
                        name,
                        Some(expected),
                        &mut trigger,
                    )
                    .await?;
                    if let Some(secret) = secret {
                        Self::put_secret(&mut tx, ns, name, &secret).await?;
                    }
                    self.commit(tx).await?;
                    Ok(trigger)
                }

                async fn delete_trigger(
                    &self,
                    actor: &Actor,
                    ns: &ProjectName,
                    name: &str,
                ) -> StoreResult<Trigger> {
                    let mut tx = self.begin_write(actor).await?;
                    let body = Self::remove_in(&mut tx, &TRIGGERS, ns.as_str(), name).await?;
                    sqlx::query(&Self::sql("DELETE FROM deliveries WHERE namespace = ? AND trigger = ?"))
                        .bind(ns.as_str())
                        .bind(name)
                        .execute(&mut *tx)
                        .await?;
                    self.commit(tx).await?;
                    Ok(serde_json::from_str(&body)?)
                }

                async fn webhook_target(&self, ns: &str, name: &str) -> StoreResult<Option<(String, String)>> {
                    let row: Option<(String, String)> = sqlx::query_as(
                        &Self::sql("SELECT o.body, s.secret FROM objects o JOIN object_secrets s \
                         USING (resource, namespace, name) \
                         WHERE o.resource = ? AND o.namespace = ? AND o.name = ?")
                    )
                    .bind(TRIGGERS.plural)
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
                                let rows = Self::claim_due_deliveries(self, now, limit).await?;
                                Ok(rows.into_iter().map(DueDelivery::from_row).collect())
                            }

                            async fn next_due(&self) -> StoreResult<Option<i64>> {
                                Ok(sqlx::query_scalar(&Self::sql($next_due)).fetch_one(&self.pool).await?)
                            }

                async fn record_attempt(
                    &self,
                    delivery: &DueDelivery,
                    attempt: Attempt,
                    event: Option<Event>,
                ) -> StoreResult<()> {
                    // A revision of its own: the attempt goes to the change log (the live delivery log).
                    // Nothing here is audited; the event (if any) names its own actor.
                    let mut tx = self.begin_write(&Actor::SERVER).await?;
                    sqlx::query(
                        &Self::sql(concat!(
                            "UPDATE deliveries SET phase = ?, attempts = attempts + 1, last_attempt = ?, \
                             last_status = ?, last_latency_ms = ?, last_error = ?, \
                             next_attempt = coalesce(?, next_attempt)",
                            $attempt_clears,
                            " WHERE id = ?"
                        ))
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
                    let mut tx = self.begin_read().await?;
                    let revision: i64 = sqlx::query_scalar(&Self::sql("SELECT value FROM revision WHERE id = 1"))
                        .fetch_one(&mut *tx)
                        .await?;
                    let rows: Vec<DeliveryRow> = sqlx::query_as(&Self::sql(&format!(
                        "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE namespace = ? AND trigger = ? \
                         ORDER BY created DESC, {order} DESC LIMIT ?",
                        order = Self::INSERTION_ORDER
                    )))
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
                    // Not audited (a delivery is no object of the log); the actor is never read.
                    let mut tx = self.begin_write(&Actor::SERVER).await?;
                    let copied = sqlx::query(
                        &Self::sql("INSERT INTO deliveries (id, namespace, trigger, event_id, body, created, next_attempt) \
                         SELECT ?, namespace, trigger, event_id, body, ?, ? FROM deliveries \
                         WHERE namespace = ? AND trigger = ? AND id = ?")
                    )
                    .bind(&new_id)
                    .bind(now)
                    .bind(now)
                    .bind(ns.as_str())
                    .bind(trigger)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    StoreError::unless_changed(copied.rows_affected(), &DELIVERIES, id)?;
                    Self::log_delivery(&mut tx, &new_id, "ADDED").await?;
                    let row: DeliveryRow = sqlx::query_as(&Self::sql(&format!(
                        "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = ?"
                    )))
                    .bind(&new_id)
                    .fetch_one(&mut *tx)
                    .await?;
                    self.commit(tx).await?;
                    delivery_of(row)
                }

                async fn list_events(&self, ns: &ProjectName, limit: u32) -> StoreResult<Vec<Event>> {
                    let bodies: Vec<String> = sqlx::query_scalar(
                        &Self::sql("SELECT body FROM events WHERE namespace = ? ORDER BY id DESC LIMIT ?")
                    )
                    .bind(ns.as_str())
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                    decode_all(bodies)
                }
            }
        };
    };
}
pub(super) use trigger_sql;
