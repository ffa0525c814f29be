//! The core-to-core latency probe: how long a cache line takes to go from
//! one CPU to another and back, measured with two threads that hand a
//! counter back and forth.
//!
//! On a small VM the host places the vCPUs either on one physical core
//! (they share its caches: a round trip of about 40-50 ns) or apart
//! (about 350-450 ns), and moves them every few tens of seconds to
//! minutes. A producer hands cache lines between its caller thread, its
//! network thread and the broker all the time, so its throughput follows
//! the placement (up to 2x), while single-threaded work does not change.
//! `scripts/compare.py` runs `compare-core-latency` (this probe) right
//! before and right after every client run to record the placement the run
//! had; see docs/performance.md, "Runs are bimodal".
//!
//! ```text
//!  caller thread                      responder thread
//!  store 2i+1 (Release) ──────────▶   spin until 2i+1 (Acquire)
//!  spin until 2i+2 (Acquire) ◀──────  store 2i+2 (Release)
//!  ... then store STOP ────────────▶  return
//! ```

use std::hint::spin_loop;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use kafka_producer::util::clock::Clock;

/// Round trips made before the clock starts, so that the responder thread
/// has started and both threads run on their CPUs when timing begins.
const WARM_UP_ROUND_TRIPS: u64 = 10_000;

/// The warm-up's share of the time budget at most (1 / this): on a busy
/// machine the warm-up ends early and the timed round trips still get
/// most of the budget.
const WARM_UP_BUDGET_DIVISOR: u32 = 10;

/// Round trips between two looks at the clock for the time budget: reading
/// the clock costs about as much as a near round trip, so it is read
/// rarely enough not to show in the mean.
const CHUNK: u64 = 1_024;

/// Spins without seeing the awaited value after which a waiting thread
/// yields its CPU on every further check. Far more than a round trip
/// takes when the two threads run at once (a few dozen spins), so it does
/// not touch the measurement then; it only keeps the probe from burning a
/// whole time slice per round trip when both threads share one CPU (a
/// busy or single-CPU machine).
const SPINS_BEFORE_YIELD: u32 = 1 << 12;

/// Tells the responder to return (odd counters are the caller's, even
/// ones the responder's; this one is neither in practice).
const STOP: u64 = u64::MAX;

/// What a probe measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Probe {
    /// Timed round trips made (the warm-up not counted).
    pub round_trips: u64,
    /// Their total time.
    pub elapsed: Duration,
}

impl Probe {
    /// The mean round trip in nanoseconds; 0.0 when nothing was timed.
    pub fn round_trip_ns(&self) -> f64 {
        if self.round_trips == 0 {
            return 0.0;
        }
        // To f64: exact below 2^53 ns (104 days) and round trips.
        self.elapsed.as_nanos() as f64 / self.round_trips as f64
    }
}

/// Runs up to `round_trips` timed round trips between this thread and a
/// second one, stopping early (at a multiple of 1,024) once `budget` has
/// passed since the start, warm-up included, so that a busy machine cannot
/// make the probe run for long. The warm-up (10,000 round trips) takes at
/// most a tenth of the budget, and the first chunk of timed round trips
/// runs whatever the time: a non-zero budget always times at least 1,024
/// round trips (or `round_trips`, if fewer).
///
/// Where the two threads run is the scheduler's choice; on a machine with
/// two or more idle CPUs it puts two spinning threads on two CPUs, so the
/// mean is the cost of moving one cache line between those CPUs twice (plus
/// the atomic operations themselves).
pub fn probe(round_trips: u64, budget: Duration, clock: &dyn Clock) -> Probe {
    let flag = AtomicU64::new(0);
    thread::scope(|scope| {
        scope.spawn(|| respond(&flag));
        let begin = clock.now();
        let spent = |limit: Duration| clock.now().saturating_duration_since(begin) >= limit;
        let warm_up_budget = budget / WARM_UP_BUDGET_DIVISOR;
        let mut next = 0;
        while next < WARM_UP_ROUND_TRIPS && !spent(warm_up_budget) {
            next = run_chunk(&flag, next, WARM_UP_ROUND_TRIPS);
        }
        let first = next;
        let start = clock.now();
        let end = first.saturating_add(round_trips);
        while next < end && !budget.is_zero() && (next == first || !spent(budget)) {
            next = run_chunk(&flag, next, end);
        }
        let elapsed = clock.now().saturating_duration_since(start);
        flag.store(STOP, Ordering::Release);
        Probe {
            round_trips: next - first,
            elapsed,
        }
    })
}

/// Makes round trips `from..` up to `CHUNK` of them or to `end`; returns
/// the next round trip's number.
fn run_chunk(flag: &AtomicU64, from: u64, end: u64) -> u64 {
    let to = from.saturating_add(CHUNK).min(end);
    for i in from..to {
        flag.store(2 * i + 1, Ordering::Release);
        wait_for(flag, |v| v == 2 * i + 2);
    }
    to
}

/// The responder: answers each odd counter with the next even one until
/// the caller stores [`STOP`].
fn respond(flag: &AtomicU64) {
    let mut expected = 1;
    while wait_for(flag, |v| v == expected || v == STOP) != STOP {
        flag.store(expected + 1, Ordering::Release);
        expected += 2;
    }
}

/// Spins until `flag` holds a value `done` accepts and returns it (each
/// side waits for the one value the other writes next, so none is missed).
fn wait_for(flag: &AtomicU64, done: impl Fn(u64) -> bool) -> u64 {
    let mut spins = 0u32;
    loop {
        let v = flag.load(Ordering::Acquire);
        if done(v) {
            return v;
        }
        if spins < SPINS_BEFORE_YIELD {
            spins += 1;
            spin_loop();
        } else {
            thread::yield_now();
        }
    }
}

#[cfg(test)]
mod tests {
    use kafka_producer::util::clock::{MockClock, SystemClock};

    use super::*;

    #[test]
    fn a_small_probe_gives_a_positive_finite_round_trip() {
        let p = probe(2_000, Duration::from_secs(600), &SystemClock);
        assert_eq!(p.round_trips, 2_000);
        let ns = p.round_trip_ns();
        assert!(ns.is_finite() && ns > 0.0, "round trip {ns} ns");
    }

    #[test]
    fn a_spent_budget_stops_the_probe_and_the_responder() {
        // A zero budget is spent before the first chunk: nothing is timed,
        // and the scope still ends (the responder saw STOP).
        let p = probe(1_000_000, Duration::ZERO, &MockClock::new(0));
        assert_eq!(p.round_trips, 0);
        assert_eq!(p.round_trip_ns(), 0.0);
    }

    /// A clock that moves one second on every look.
    #[derive(Debug)]
    struct Ticking(MockClock);

    impl Clock for Ticking {
        fn now(&self) -> std::time::Instant {
            self.0.advance(Duration::from_secs(1));
            self.0.now()
        }
        fn wall_clock_ms(&self) -> i64 {
            self.0.wall_clock_ms()
        }
    }

    #[test]
    fn a_budget_spent_in_the_warm_up_still_times_one_chunk() {
        let p = probe(
            1_000_000,
            Duration::from_millis(10),
            &Ticking(MockClock::new(0)),
        );
        assert_eq!(p.round_trips, CHUNK);
        let p = probe(100, Duration::from_millis(10), &Ticking(MockClock::new(0)));
        assert_eq!(p.round_trips, 100);
    }

    #[test]
    fn the_mean_divides_the_time_by_the_round_trips() {
        let p = Probe {
            round_trips: 4,
            elapsed: Duration::from_nanos(1_000),
        };
        assert_eq!(p.round_trip_ns(), 250.0);
    }
}
