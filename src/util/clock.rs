//! The injected clock: [`SystemClock`] in production, [`MockClock`] in
//! tests, so that linger, backoff, expiry and timeouts can be tested
//! deterministically.
//!
//! Two kinds of time are kept apart: a monotonic [`Instant`] for every
//! deadline and duration, and wall-clock milliseconds since the Unix epoch
//! for record timestamps only. This is the only module allowed to read the
//! system clocks (see `clippy.toml`).

use std::fmt::Debug;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A source of time.
pub trait Clock: Send + Sync + Debug {
    /// Monotonic now, for deadlines and durations.
    fn now(&self) -> Instant;
    /// Milliseconds since the Unix epoch, for record timestamps.
    fn wall_clock_ms(&self) -> i64;
}

/// The real clocks.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // this is the clock module
    fn now(&self) -> Instant {
        Instant::now()
    }

    #[allow(clippy::disallowed_methods)] // this is the clock module
    fn wall_clock_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }
}

/// A clock that moves only when told to.
///
/// Both its monotonic and wall-clock readings advance together by
/// [`MockClock::advance`]. Code that waits on a condition variable until a
/// deadline still waits in real time; tests of such waits use short real
/// deadlines or advance the clock from another thread.
#[derive(Debug)]
pub struct MockClock {
    base: Instant,
    offset_ns: AtomicU64,
    wall_base_ms: AtomicI64,
}

impl MockClock {
    /// A mock clock whose wall clock starts at `wall_ms` (ms since the epoch).
    #[allow(clippy::disallowed_methods)] // the base instant only anchors offsets
    #[must_use]
    pub fn new(wall_ms: i64) -> Self {
        MockClock {
            base: Instant::now(),
            offset_ns: AtomicU64::new(0),
            wall_base_ms: AtomicI64::new(wall_ms),
        }
    }

    /// Moves both clocks forward.
    pub fn advance(&self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.offset_ns.fetch_add(ns, Ordering::SeqCst);
    }

    /// Moves both clocks forward by `ms` milliseconds.
    pub fn sleep_ms(&self, ms: u64) {
        self.advance(Duration::from_millis(ms));
    }
}

impl Default for MockClock {
    fn default() -> Self {
        MockClock::new(1_700_000_000_000)
    }
}

impl Clock for MockClock {
    fn now(&self) -> Instant {
        self.base + Duration::from_nanos(self.offset_ns.load(Ordering::SeqCst))
    }

    fn wall_clock_ms(&self) -> i64 {
        let offset_ms = self.offset_ns.load(Ordering::SeqCst) / 1_000_000;
        self.wall_base_ms.load(Ordering::SeqCst) + i64::try_from(offset_ms).unwrap_or(i64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mock_clock_moves_only_when_told() {
        let c = MockClock::new(1000);
        let t0 = c.now();
        assert_eq!(c.now(), t0);
        c.sleep_ms(250);
        assert_eq!(c.now() - t0, Duration::from_millis(250));
        assert_eq!(c.wall_clock_ms(), 1250);
    }

    #[test]
    fn system_clock_is_plausible() {
        assert!(SystemClock.wall_clock_ms() > 1_600_000_000_000);
    }
}
