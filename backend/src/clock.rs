//! The time source, behind a trait so that a test or a benchmark can fix it.

use tagstream_shared::Time;

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> Time;
}

/// The system clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Time {
        Time::now()
    }
}
