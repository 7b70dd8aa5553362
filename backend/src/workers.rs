//! What the background workers (webhook deliveries, the integrated registry's purges) share:
//! reading a batch of due work, and waiting until the next is due or something changes.

use std::time::Duration;

use tokio::sync::{Notify, watch};

use crate::store::StoreResult;

/// The due work `read` answered; none when it could not be read (logged as `what`): the worker
/// looks again later rather than stopping.
pub fn due_or_none<T>(read: StoreResult<Vec<T>>, what: &str) -> Vec<T> {
    read.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "cannot read {what}");
        Vec::new()
    })
}

/// How long to wait at `now` for the work next due at `next` (Unix seconds): at least a second,
/// at most `idle`, and `idle` when nothing is due.
pub fn wait_for(next: Option<i64>, now: i64, idle: Duration) -> Duration {
    match next {
        Some(at) => {
            Duration::from_secs(u64::try_from(at.saturating_sub(now)).unwrap_or(0).max(1)).min(idle)
        }
        None => idle,
    }
}

/// Waits `wait`, or less when the store changed or the worker was woken.
pub async fn pause(changed: &mut watch::Receiver<u64>, wake: &Notify, wait: Duration) {
    tokio::select! {
        _ = changed.changed() => {}
        () = wake.notified() => {}
        () = tokio::time::sleep(wait) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_is_until_the_next_due_between_a_second_and_idle() {
        let idle = Duration::from_secs(30);
        for (next, wait) in [
            (None, 30),
            (Some(110), 10),
            (Some(100), 1),
            (Some(90), 1),
            (Some(500), 30),
        ] {
            assert_eq!(
                wait_for(next, 100, idle),
                Duration::from_secs(wait),
                "{next:?}"
            );
        }
    }
}
