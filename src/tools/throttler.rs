//! [`ThroughputThrottler`]: Java's `ThroughputThrottler`, which keeps a
//! sender at about a target number of records per second.
//!
//! After each send the caller asks [`should_throttle`]: true when the
//! average rate since the start is above the target. Each throttled send
//! adds `1 / target` seconds to a sleep deficit; once the deficit reaches
//! 2 ms, [`throttle`] tells the caller to sleep it off. A negative target
//! never throttles; a target of 0 blocks for ever on the first throttled
//! send (Java waits for a wake-up that the perf tool never sends).
//!
//! The throttler does not sleep or read a clock itself: the caller passes
//! the send time and performs the [`Throttle`] it gets back, so the rate
//! logic is tested on simulated time.
//!
//! [`should_throttle`]: ThroughputThrottler::should_throttle
//! [`throttle`]: ThroughputThrottler::throttle

use std::time::Duration;

const NS_PER_MS: i64 = 1_000_000;
const NS_PER_SEC: i64 = 1_000 * NS_PER_MS;
/// Deficits below this are carried over instead of slept.
const MIN_SLEEP_NS: i64 = 2 * NS_PER_MS;

/// What the caller should do after a throttled send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    /// Carry on: the deficit is below 2 ms.
    Continue,
    /// Sleep this long.
    Sleep(Duration),
    /// Block for ever (a target of 0 records per second).
    Forever,
}

/// Keeps a sender at about `target` records (or bytes) per second.
#[derive(Debug, Clone)]
pub struct ThroughputThrottler {
    start_ms: i64,
    sleep_time_ns: i64,
    target: f64,
    sleep_deficit_ns: i64,
}

impl ThroughputThrottler {
    /// A throttler for `target` per second (negative: unthrottled), the
    /// first send being at `start_ms`.
    #[must_use]
    pub fn new(target: f64, start_ms: i64) -> Self {
        let sleep_time_ns = if target > 0.0 {
            // Java: (long) (NS_PER_SEC / targetThroughput), saturating.
            (NS_PER_SEC as f64 / target) as i64
        } else {
            i64::MAX
        };
        ThroughputThrottler {
            start_ms,
            sleep_time_ns,
            target,
            sleep_deficit_ns: 0,
        }
    }

    /// Whether the sender is ahead of the target, having sent
    /// `amount_so_far` by `send_start_ms`.
    #[must_use]
    pub fn should_throttle(&self, amount_so_far: i64, send_start_ms: i64) -> bool {
        if self.target < 0.0 {
            return false;
        }
        // Java computes the elapsed seconds as a float.
        let elapsed_sec = (send_start_ms - self.start_ms) as f32 / 1000.0_f32;
        elapsed_sec > 0.0 && (amount_so_far as f64 / f64::from(elapsed_sec)) > self.target
    }

    /// Adds one send's worth of sleep to the deficit and says whether to
    /// sleep now. A returned sleep clears the deficit.
    pub fn throttle(&mut self) -> Throttle {
        if self.target == 0.0 {
            return Throttle::Forever;
        }
        self.sleep_deficit_ns = self.sleep_deficit_ns.saturating_add(self.sleep_time_ns);
        if self.sleep_deficit_ns >= MIN_SLEEP_NS {
            let ns = std::mem::take(&mut self.sleep_deficit_ns);
            Throttle::Sleep(Duration::from_nanos(ns.unsigned_abs()))
        } else {
            Throttle::Continue
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `n` sends on simulated time where each send takes `send_ns` and
    /// sleeps advance the clock exactly; returns the simulated duration.
    fn simulate(target: f64, n: i64, send_ns: u64) -> Duration {
        let mut now = Duration::ZERO;
        let ms = |d: Duration| d.as_millis() as i64;
        let mut t = ThroughputThrottler::new(target, ms(now));
        for i in 0..n {
            let send_start = ms(now);
            now += Duration::from_nanos(send_ns);
            if t.should_throttle(i, send_start) {
                match t.throttle() {
                    Throttle::Continue => {}
                    Throttle::Sleep(d) => now += d,
                    Throttle::Forever => panic!("target {target} never blocks"),
                }
            }
        }
        now
    }

    #[test]
    fn holds_a_fast_sender_near_the_target_rate() {
        // 10,000 records at 100/s from a sender that could do 1,000/s: about
        // 100 s.
        let took = simulate(100.0, 10_000, 1_000_000);
        assert!(
            (99_000..=100_500).contains(&took.as_millis()),
            "took {took:?}"
        );
        // 100,000 at 10,000/s from a sender that could do 1,000,000/s: the
        // first millisecond is never throttled (about 1,000 records), the
        // rest goes at the target, sleeping in >= 2 ms steps.
        let took = simulate(10_000.0, 100_000, 1_000);
        assert!(
            (9_800..=10_100).contains(&took.as_millis()),
            "took {took:?}"
        );
    }

    #[test]
    fn a_slow_sender_is_never_held_back() {
        // The sender manages 100/s, the target is 1,000/s.
        let took = simulate(1_000.0, 200, 10_000_000);
        assert_eq!(took, Duration::from_millis(2_000));
    }

    #[test]
    fn negative_target_never_throttles() {
        let t = ThroughputThrottler::new(-1.0, 0);
        assert!(!t.should_throttle(1_000_000_000, 1));
        assert_eq!(simulate(-1.0, 1_000, 1_000), Duration::from_micros(1_000));
    }

    #[test]
    fn nothing_is_throttled_in_the_first_millisecond() {
        let t = ThroughputThrottler::new(1.0, 5);
        assert!(!t.should_throttle(1_000, 5));
        assert!(t.should_throttle(1_000, 6));
    }

    #[test]
    fn small_deficits_carry_over_until_two_milliseconds() {
        // 1,000,000/s: 1 us per record, so a sleep every 2,000 throttles.
        let mut t = ThroughputThrottler::new(1_000_000.0, 0);
        for _ in 0..1_999 {
            assert_eq!(t.throttle(), Throttle::Continue);
        }
        assert_eq!(t.throttle(), Throttle::Sleep(Duration::from_millis(2)));
        assert_eq!(t.throttle(), Throttle::Continue);
        // 10/s: each throttle sleeps 100 ms at once.
        let mut t = ThroughputThrottler::new(10.0, 0);
        assert_eq!(t.throttle(), Throttle::Sleep(Duration::from_millis(100)));
    }

    #[test]
    fn zero_target_blocks_for_ever() {
        let mut t = ThroughputThrottler::new(0.0, 0);
        assert!(t.should_throttle(1, 1));
        assert_eq!(t.throttle(), Throttle::Forever);
    }
}
