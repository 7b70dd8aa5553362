//! Work a request brings that can hold a CPU for a long time (parsing a large or YAML body,
//! looking for its unknown and repeated fields, the field-manager bookkeeping of a whole stream
//! for a write to one of its tags) runs on tokio's blocking pool, a bounded number at a time,
//! instead of on the runtime's threads. On those threads it stalled every other request: four
//! 700 KB YAML bodies posted at once kept `whoami` waiting seconds, and two tag PUTs on a
//! stream of 2,000 tags kept it waiting 3.7 s.
//!
//! At most one fewer such job than the machine has cores runs at once (one on two cores), so
//! the runtime always has a core; a request waits its turn for at most [`WAIT`] and is then
//! answered 429 with Retry-After. Small JSON bodies are handled where they arrive
//! ([`INLINE_BYTES`]): a thread hand-off would cost them more than the work.

use std::cell::Cell;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::error::ApiError;

/// JSON bodies up to this size are parsed and checked on the request's own task.
pub const INLINE_BYTES: usize = 64 << 10;

/// Whether a body of `format` and `len` bytes is read on the blocking pool: every YAML one (the
/// parser reads well under 1 MB/s in places: 64 KiB of YAML took ~1 s on a debug build) and
/// JSON over [`INLINE_BYTES`].
pub fn off_thread(format: crate::body::BodyFormat, len: usize) -> bool {
    use crate::body::BodyFormat;
    matches!(format, BodyFormat::Yaml | BodyFormat::ApplyPatch) || len > INLINE_BYTES
}

/// How long a request waits for a turn before it is refused.
pub const WAIT: Duration = Duration::from_secs(10);

static TURNS: LazyLock<Arc<Semaphore>> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    Arc::new(Semaphore::new(cores.saturating_sub(1).max(1)))
});

thread_local! {
    /// Whether this thread is running work given to [`run`].
    static ON_POOL: Cell<bool> = const { Cell::new(false) };
}

/// Whether the caller runs as work given to [`run`]. Work that must never hold a runtime
/// thread asserts it (in debug builds), so that a path calling it inline fails its tests.
pub fn on_pool() -> bool {
    ON_POOL.get()
}

/// Clears [`ON_POOL`] when the work ends, even by a panic (the thread goes back to the pool).
struct OnPool;

impl Drop for OnPool {
    fn drop(&mut self) {
        ON_POOL.set(false);
    }
}

/// Runs `work` on the blocking pool once a turn is free. The turn goes with the work, so a
/// client that hangs up does not free it before the work is done.
pub async fn run<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let turn = match tokio::time::timeout(WAIT, TURNS.clone().acquire_owned()).await {
        Ok(Ok(turn)) => turn,
        Ok(Err(closed)) => return Err(ApiError::Internal(Box::new(closed))),
        Err(_) => {
            return Err(ApiError::TooManyRequests {
                message: format!(
                    "the server is busy with other large requests (waited {} s); \
                     send this one again",
                    WAIT.as_secs()
                ),
                retry_after: 1,
            });
        }
    };
    tokio::task::spawn_blocking(move || {
        let _turn = turn;
        ON_POOL.set(true);
        let _on_pool = OnPool;
        work()
    })
    .await
    .map_err(|e| ApiError::Internal(Box::new(e)))
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "a test that cannot proceed has failed")]

    use std::sync::mpsc;
    use std::time::Duration;

    /// On a one-thread runtime (as a busy server's runtime is, in effect), work that waits for
    /// something another task of that runtime does can finish only if it runs off the runtime's
    /// thread: run inline, it would wait forever and hold up everything else.
    #[test]
    fn work_runs_off_the_runtime_threads_so_other_requests_go_on() {
        let (done_tx, done_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let (tx, rx) = mpsc::channel::<u32>();
                let work = tokio::spawn(super::run(move || rx.recv().unwrap() + 1));
                // Another request's task, on the same thread as the work was started from.
                tokio::spawn(async move {
                    tokio::task::yield_now().await;
                    tx.send(41).unwrap();
                });
                let answer = work.await.unwrap().unwrap();
                let on_pool = super::run(super::on_pool).await.unwrap();
                done_tx.send((answer, on_pool, super::on_pool())).unwrap();
            });
        });
        let answer = done_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the work held the runtime's only thread: nothing else ran");
        assert_eq!(
            answer,
            (42, true, false),
            "work knows it runs off the runtime"
        );
    }
}
