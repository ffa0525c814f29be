//! A lock-free latency histogram in microseconds, the same in every runner
//! (the Java runner has a copy of the bucket rule), so percentiles are
//! computed alike and no runner keeps a per-record array (which would add
//! 8 MB of RSS at 2 M records).
//!
//! Values below 2048 µs have a bucket each; above, each power of two is
//! split into 1024 buckets, so a percentile is at most 0.1 % below the
//! true value. 32,768 buckets (256 KiB) cover up to 2^41 µs.

use std::sync::atomic::{AtomicU64, Ordering};

const EXACT: u64 = 2048;
const SUB_BUCKETS: u64 = 1024;
const MAX_EXPONENT: u32 = 40;
const BUCKETS: usize = (EXACT + (MAX_EXPONENT as u64 - 10) * SUB_BUCKETS) as usize;

/// Counts of latencies, safe to record into from any thread.
#[derive(Debug)]
pub struct Histogram {
    counts: Vec<AtomicU64>,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram::new()
    }
}

impl Histogram {
    /// An empty histogram.
    #[must_use]
    pub fn new() -> Self {
        Histogram {
            counts: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Counts one latency of `us` microseconds.
    pub fn record(&self, us: u64) {
        self.counts[bucket(us)].fetch_add(1, Ordering::Relaxed);
    }

    /// How many latencies were counted.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.counts.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    /// The smallest bucket value at or below which at least `q` (0..=1) of
    /// the counted latencies lie: the lower bound of the bucket that holds
    /// the `ceil(q * n)`-th smallest latency. 0 when nothing was counted.
    #[must_use]
    pub fn percentile(&self, q: f64) -> u64 {
        let n = self.count();
        if n == 0 {
            return 0;
        }
        // ceil(q * n), at least the first latency.
        let rank = ((q * n as f64).ceil() as u64).clamp(1, n);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c.load(Ordering::Relaxed);
            if seen >= rank {
                return lower_bound(i);
            }
        }
        lower_bound(BUCKETS - 1)
    }
}

/// The bucket of `us`.
fn bucket(us: u64) -> usize {
    if us < EXACT {
        return us as usize;
    }
    // The exponent of the highest set bit, 11 or more here.
    let e = (63 - us.leading_zeros()).min(MAX_EXPONENT);
    let mantissa = (us >> (e - 10)).min(2 * SUB_BUCKETS - 1);
    (EXACT + u64::from(e - 11) * SUB_BUCKETS + (mantissa - SUB_BUCKETS)) as usize
}

/// The smallest value that falls into bucket `i`.
fn lower_bound(i: usize) -> u64 {
    let i = i as u64;
    if i < EXACT {
        return i;
    }
    let e = (i - EXACT) / SUB_BUCKETS + 11;
    let mantissa = (i - EXACT) % SUB_BUCKETS + SUB_BUCKETS;
    mantissa << (e - 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_exact_below_2048_and_within_a_thousandth_above() {
        for us in [
            0,
            1,
            2047,
            2048,
            2049,
            4095,
            4096,
            1_000_000,
            123_456_789,
            1 << 40,
        ] {
            let low = lower_bound(bucket(us));
            assert!(low <= us, "{us}: {low}");
            assert!((us - low) as f64 <= us as f64 / 1000.0, "{us}: {low}");
        }
        assert_eq!(bucket(2047), 2047);
        assert_eq!(bucket(2048), 2048);
        assert_eq!(bucket(4096), 2048 + 1024);
        assert!(bucket(u64::MAX) < BUCKETS);
        // Bucket bounds increase.
        assert!((1..BUCKETS).all(|i| lower_bound(i) > lower_bound(i - 1)));
    }

    #[test]
    fn percentiles_follow_the_ranks() {
        let h = Histogram::new();
        assert_eq!(h.percentile(0.5), 0);
        for us in 1..=1000 {
            h.record(us);
        }
        assert_eq!(h.count(), 1000);
        assert_eq!(h.percentile(0.5), 500);
        assert_eq!(h.percentile(0.99), 990);
        assert_eq!(h.percentile(0.999), 999);
        assert_eq!(h.percentile(1.0), 1000);
        h.record(10_000_000);
        assert_eq!(h.percentile(1.0), lower_bound(bucket(10_000_000)));
    }
}
