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

    /// [`now`](Self::now) and [`wall_clock_ms`](Self::wall_clock_ms)
    /// together, for a caller that needs both (a `send` without a
    /// timestamp). The default reads each; [`SystemClock`] reads only the
    /// monotonic clock most of the time (see there).
    fn now_and_wall_clock_ms(&self) -> (Instant, i64) {
        (self.now(), self.wall_clock_ms())
    }
}

/// How long [`SystemClock::now_and_wall_clock_ms`] derives the wall clock
/// from the monotonic one before it reads the wall clock again.
const WALL_CLOCK_REANCHOR: Duration = Duration::from_millis(100);

/// A thread's last real reading of the wall clock, and the monotonic time
/// it was taken at.
struct WallAnchor {
    at: std::cell::Cell<Option<Instant>>,
    since_epoch: std::cell::Cell<Option<Duration>>,
}

thread_local! {
    static WALL_ANCHOR: WallAnchor = const {
        WallAnchor {
            at: std::cell::Cell::new(None),
            since_epoch: std::cell::Cell::new(None),
        }
    };
}

/// Milliseconds since the epoch as [`Clock::wall_clock_ms`] gives them.
fn epoch_ms(since_epoch: Option<Duration>) -> i64 {
    since_epoch.map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
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
        epoch_ms(SystemTime::now().duration_since(UNIX_EPOCH).ok())
    }

    /// Reads the monotonic clock, and the wall clock only when this
    /// thread's last reading of it is more than 100 ms old; in between the
    /// wall time is that reading plus the monotonic time elapsed since. A
    /// clock read costs tens of nanoseconds in some virtual machines, a
    /// large part of a `send`. The result differs from a fresh reading by
    /// what the wall clock was slewed in those 100 ms (NTP: at most 50 µs)
    /// or, for 100 ms after the wall clock is stepped, by the step.
    #[allow(clippy::disallowed_methods)] // this is the clock module
    fn now_and_wall_clock_ms(&self) -> (Instant, i64) {
        let now = Instant::now();
        let wall = WALL_ANCHOR.try_with(|anchor| {
            if let Some(at) = anchor.at.get() {
                let elapsed = now.saturating_duration_since(at);
                if elapsed < WALL_CLOCK_REANCHOR {
                    return epoch_ms(anchor.since_epoch.get().map(|d| d + elapsed));
                }
            }
            let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).ok();
            anchor.at.set(Some(now));
            anchor.since_epoch.set(since_epoch);
            epoch_ms(since_epoch)
        });
        // The thread is being torn down: read the wall clock.
        (now, wall.unwrap_or_else(|_| self.wall_clock_ms()))
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
    fn the_derived_wall_clock_stays_with_the_real_one() {
        let c = SystemClock;
        for _ in 0..1000 {
            let before = c.wall_clock_ms();
            let (_, derived) = c.now_and_wall_clock_ms();
            let after = c.wall_clock_ms();
            // 1 ms of slack for rounding and slew; only a step of the
            // system clock during the test could break it.
            assert!(
                before - 1 <= derived && derived <= after + 1,
                "{before} {derived} {after}"
            );
        }
    }

    #[test]
    fn a_mock_clock_reads_both_clocks() {
        let c = MockClock::new(5_000);
        c.sleep_ms(7);
        assert_eq!(c.now_and_wall_clock_ms(), (c.now(), 5_007));
    }

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
