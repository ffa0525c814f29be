//! Java's `ExponentialBackoff` (`org.apache.kafka.common.utils`):
//! `initial * multiplier^attempts`, capped, with ±`jitter` random spread.
//!
//! Used by the accumulator for `retry.backoff.ms` / `retry.backoff.max.ms`
//! (KIP-580) and by the connection states for `reconnect.backoff.ms` /
//! `reconnect.backoff.max.ms` and the connection setup timeout (KIP-601).
//!
//! The random factor comes from a small lock-free generator (SplitMix64 on
//! an atomic counter, seeded from the standard library's randomly keyed
//! hasher), standing in for Java's `ThreadLocalRandom` without a
//! dependency. A jitter of 0 makes the backoff deterministic (tests).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Java's `CommonClientConfigs.RETRY_BACKOFF_EXP_BASE`.
pub(crate) const RETRY_BACKOFF_EXP_BASE: u32 = 2;
/// Java's `CommonClientConfigs.RETRY_BACKOFF_JITTER`.
pub(crate) const RETRY_BACKOFF_JITTER: f64 = 0.2;

/// An exponential backoff with jitter.
#[derive(Debug)]
pub(crate) struct ExponentialBackoff {
    initial_ms: u64,
    multiplier: u32,
    max_ms: u64,
    jitter: f64,
    exp_max: f64,
    random: AtomicU64,
}

impl ExponentialBackoff {
    /// Java's constructor: the initial interval is capped by the maximum;
    /// when the maximum does not exceed it, the backoff is constant.
    pub(crate) fn new(initial: Duration, multiplier: u32, max: Duration, jitter: f64) -> Self {
        let max_ms = u64::try_from(max.as_millis()).unwrap_or(u64::MAX);
        let initial_ms = u64::try_from(initial.as_millis())
            .unwrap_or(u64::MAX)
            .min(max_ms);
        let exp_max = if max_ms > initial_ms && multiplier > 1 {
            (max_ms as f64 / initial_ms.max(1) as f64).ln() / f64::from(multiplier).ln()
        } else {
            0.0
        };
        let seed = RandomState::new().build_hasher().finish();
        ExponentialBackoff {
            initial_ms,
            multiplier,
            max_ms,
            jitter,
            exp_max,
            random: AtomicU64::new(seed),
        }
    }

    /// The backoff after `attempts` failed attempts (0 for the first retry).
    pub(crate) fn backoff(&self, attempts: u32) -> Duration {
        if self.exp_max == 0.0 {
            return Duration::from_millis(self.initial_ms);
        }
        let exp = f64::from(attempts).min(self.exp_max);
        let term = self.initial_ms as f64 * f64::from(self.multiplier).powf(exp);
        let random_factor = if self.jitter < f64::MIN_POSITIVE {
            1.0
        } else {
            (1.0 - self.jitter) + self.next_unit() * 2.0 * self.jitter
        };
        // `as` saturates, like Java's (long) cast.
        let value = (random_factor * term) as u64;
        Duration::from_millis(value.min(self.max_ms))
    }

    /// A uniform value in [0, 1).
    fn next_unit(&self) -> f64 {
        // SplitMix64: a Weyl sequence through a bijective mixer.
        let mut z = self
            .random
            .fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed)
            .wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn doubles_up_to_the_maximum_without_jitter() {
        let b = ExponentialBackoff::new(ms(100), 2, ms(1000), 0.0);
        let got: Vec<u64> = (0..6).map(|a| b.backoff(a).as_millis() as u64).collect();
        assert_eq!(got, vec![100, 200, 400, 800, 1000, 1000]);
    }

    #[test]
    fn constant_when_max_is_not_above_initial() {
        let b = ExponentialBackoff::new(ms(100), 2, ms(100), 0.2);
        assert_eq!(b.backoff(5), ms(100));
        let b = ExponentialBackoff::new(ms(500), 2, ms(100), 0.2);
        assert_eq!(b.backoff(0), ms(100));
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let b = ExponentialBackoff::new(ms(100), 2, ms(1000), 0.2);
        for _ in 0..1000 {
            let v = b.backoff(0).as_millis();
            assert!((80..=120).contains(&v), "{v}");
        }
    }
}
