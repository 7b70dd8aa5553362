//! The outbox worker: sends every due delivery, records each attempt, and schedules retries with
//! exponential backoff. It reads only the store, so deliveries queued before a crash are sent
//! after the restart (at least once: a crash between a send and its record sends it again).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tagstream_shared::Time;
use tagstream_shared::event::{EventReason, EventType};
use tagstream_shared::trigger::DeliveryPhase;

use super::sender::{Outcome, WebhookSender};
use crate::config::WebhooksConfig;
use crate::store::{Attempt, DueDelivery, Store};
use crate::workers::{due_or_none, pause, wait_for};

/// Deliveries attempted at once.
const BATCH: u32 = 16;
/// The longest the worker sleeps without looking at the outbox.
const IDLE: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub struct Deliverer {
    store: Arc<dyn Store>,
    pub sender: WebhookSender,
    config: WebhooksConfig,
    stopped: AtomicBool,
    wake: tokio::sync::Notify,
}

impl Deliverer {
    pub fn new(store: Arc<dyn Store>, config: WebhooksConfig) -> Self {
        Self {
            store,
            sender: WebhookSender::new(&config),
            config,
            stopped: AtomicBool::new(false),
            wake: tokio::sync::Notify::new(),
        }
    }

    /// Starts the worker; it runs until `stop`.
    pub fn start(self: &Arc<Self>) {
        let me = self.clone();
        tokio::spawn(async move { me.run().await });
    }

    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    /// The wait after failed attempt `attempts` (1, 2, ...): doubling from the initial wait up
    /// to the maximum.
    pub fn backoff(&self, attempts: u32) -> u64 {
        let doubled = self
            .config
            .retry_initial_seconds
            .saturating_mul(1u64 << attempts.saturating_sub(1).min(30));
        doubled.min(self.config.retry_max_interval_seconds)
    }

    async fn run(self: Arc<Self>) {
        let mut changed = self.store.subscribe();
        while !self.stopped.load(Ordering::SeqCst) {
            let now = Time::now().timestamp();
            let due = due_or_none(
                self.store.due_deliveries(now, BATCH).await,
                "the webhook outbox",
            );
            if !due.is_empty() {
                self.renewing(
                    &due,
                    futures::future::join_all(due.iter().map(|d| self.attempt(d))),
                )
                .await;
                continue;
            }
            let next = self.store.next_due().await.ok().flatten();
            pause(&mut changed, &self.wake, wait_for(next, now, IDLE)).await;
        }
    }

    /// Runs `sending` while renewing this replica's claims on `due` every third of the lease:
    /// a receiver slower than the lease must not have another replica send the same delivery
    /// while this one still waits for its answer (a dead replica stops renewing, and its
    /// claims run out).
    async fn renewing<T>(&self, due: &[DueDelivery], sending: impl Future<Output = T>) -> T {
        if !self.store.shared() {
            return sending.await;
        }
        let ids: Vec<String> = due.iter().map(|d| d.id.clone()).collect();
        let renew = Duration::from_secs(self.store.lease_seconds() / 3).max(Duration::from_secs(1));
        tokio::pin!(sending);
        loop {
            tokio::select! {
                out = &mut sending => return out,
                () = tokio::time::sleep(renew) => {
                    let now = Time::now().timestamp();
                    if let Err(e) = self.store.renew_deliveries(&ids, now).await {
                        tracing::warn!(error = %e, "cannot renew the claims on webhook deliveries");
                    }
                }
            }
        }
    }

    async fn attempt(&self, d: &DueDelivery) {
        let target = match self.store.webhook_target(&d.namespace, &d.trigger).await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read a trigger");
                return;
            }
        };
        let outcome = match &target {
            Some((url, secret)) => self.sender.send(url, secret, &d.event_id, &d.body).await,
            None => Outcome {
                status: None,
                latency: Duration::ZERO,
                error: Some("the trigger no longer exists".into()),
                refused: true,
            },
        };
        let now = Time::now().timestamp();
        let attempts = d.attempts + 1;
        let phase = if outcome.delivered() {
            DeliveryPhase::Delivered
        } else if outcome.refused
            || now.saturating_sub(d.created)
                >= i64::try_from(self.config.give_up_after_seconds).unwrap_or(i64::MAX)
        {
            DeliveryPhase::Failed
        } else {
            DeliveryPhase::Pending
        };
        let next_attempt = (phase == DeliveryPhase::Pending)
            .then(|| now.saturating_add(i64::try_from(self.backoff(attempts)).unwrap_or(i64::MAX)));
        let url = target.map(|(u, _)| u).unwrap_or_default();
        let told = match phase {
            DeliveryPhase::Delivered => Some((
                EventType::Normal,
                EventReason::WebhookDelivered,
                format!(
                    "event {} delivered to {url} ({}, attempt {attempts})",
                    d.event_id,
                    outcome.status.unwrap_or_default()
                ),
            )),
            DeliveryPhase::Failed => Some((
                EventType::Warning,
                EventReason::WebhookFailed,
                format!(
                    "event {} not delivered to {url} after {attempts} attempts: {}",
                    d.event_id,
                    outcome.error.clone().unwrap_or_default()
                ),
            )),
            DeliveryPhase::Pending => None,
        };
        let event = told.map(|(kind, reason, message)| {
            super::project_event(
                &crate::audit::Actor::SERVER,
                &d.namespace,
                "Trigger",
                &d.trigger,
                kind,
                reason,
                message,
            )
        });
        if phase != DeliveryPhase::Delivered {
            tracing::info!(
                namespace = %d.namespace,
                trigger = %d.trigger,
                attempts,
                error = outcome.error.as_deref().unwrap_or_default(),
                "webhook delivery failed"
            );
        }
        let attempt = Attempt {
            at: now,
            status: outcome.status,
            latency_ms: u64::try_from(outcome.latency.as_millis()).unwrap_or(u64::MAX),
            error: outcome.error,
            phase,
            next_attempt,
        };
        if let Err(e) = self.store.record_attempt(d, attempt, event).await {
            tracing::warn!(error = %e, "cannot record a webhook attempt");
        }
    }
}
