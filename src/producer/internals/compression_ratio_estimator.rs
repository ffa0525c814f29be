//! Java's `CompressionRatioEstimator`: how well a topic's batches compress,
//! per codec, so that compressed batches fill up to `batch.size` *after*
//! compression instead of stopping at `batch.size` of uncompressed records.
//!
//! ```text
//!  new batch (append)        builder.set_estimated_compression_ratio(estimation(codec))
//!  batch closes (drain)      update_estimation(codec, compressed / uncompressed)
//!  MESSAGE_TOO_LARGE split   set_estimation(codec, max(1.0, ratio of the big batch))
//! ```
//!
//! The builder counts each record as `size * estimate * 1.05`
//! (`MemoryRecordsBuilder.estimatedBytesWritten`). Java's step rules: an
//! observed ratio worse than the estimate is taken at once (and the
//! estimate grows by at least 0.05), so the next batches do not overshoot;
//! a better one lowers the estimate by only 0.005 a batch, so one
//! well-compressing batch does not make the next ones too large. The
//! estimate therefore approaches a steady ratio from above, over a few
//! hundred batches (1.0 to 0.3 takes 140).
//!
//! Java keeps one estimator per topic in a JVM-wide static map; here each
//! producer's accumulator keeps one per topic (in its `TopicInfo`), so two
//! producers do not learn from each other. Every codec has its own slot,
//! as in Java, although one producer uses one codec.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::record::CompressionType;

/// Java's `COMPRESSION_RATIO_IMPROVING_STEP`.
pub(crate) const IMPROVING_STEP: f32 = 0.005;
/// Java's `COMPRESSION_RATIO_DETERIORATE_STEP`.
pub(crate) const DETERIORATE_STEP: f32 = 0.05;
/// The estimate before any batch was observed (Java's initial ratio).
pub(crate) const INITIAL_RATIO: f32 = 1.0;

/// One topic's compression ratio estimates, one per codec (`f32` bits,
/// updated without a lock).
#[derive(Debug)]
pub(crate) struct CompressionRatioEstimator {
    ratios: [AtomicU32; CompressionType::ALL.len()],
}

impl Default for CompressionRatioEstimator {
    fn default() -> Self {
        CompressionRatioEstimator {
            ratios: std::array::from_fn(|_| AtomicU32::new(INITIAL_RATIO.to_bits())),
        }
    }
}

impl CompressionRatioEstimator {
    fn slot(&self, kind: CompressionType) -> &AtomicU32 {
        // `ALL` lists every codec in id order, so the id is an index.
        &self.ratios[usize::from(kind.id())]
    }

    /// Java's `estimation(topic, type)`.
    pub(crate) fn estimation(&self, kind: CompressionType) -> f32 {
        f32::from_bits(self.slot(kind).load(Ordering::Relaxed))
    }

    /// Java's `updateEstimation(topic, type, observedRatio)`: returns the
    /// new estimate.
    pub(crate) fn update_estimation(&self, kind: CompressionType, observed: f32) -> f32 {
        let step = |current: f32| {
            if observed > current {
                (current + DETERIORATE_STEP).max(observed)
            } else if observed < current {
                (current - IMPROVING_STEP).max(observed)
            } else {
                current
            }
        };
        let slot = self.slot(kind);
        let mut bits = slot.load(Ordering::Relaxed);
        loop {
            let next = step(f32::from_bits(bits));
            match slot.compare_exchange_weak(
                bits,
                next.to_bits(),
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return next,
                Err(now) => bits = now,
            }
        }
    }

    /// Java's `setEstimation(topic, type, ratio)`.
    pub(crate) fn set_estimation(&self, kind: CompressionType, ratio: f32) {
        self.slot(kind).store(ratio.to_bits(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GZIP: CompressionType = CompressionType::Gzip;

    #[test]
    fn starts_at_one_for_every_codec() {
        let e = CompressionRatioEstimator::default();
        for kind in CompressionType::ALL {
            assert_eq!(e.estimation(kind), 1.0);
        }
    }

    #[test]
    fn better_ratios_lower_the_estimate_by_one_step_a_batch() {
        let e = CompressionRatioEstimator::default();
        assert_eq!(e.update_estimation(GZIP, 0.2), 0.995);
        assert_eq!(e.update_estimation(GZIP, 0.2), 0.99);
        // ... never below what was observed.
        e.set_estimation(GZIP, 0.203);
        assert_eq!(e.update_estimation(GZIP, 0.2), 0.2);
        assert_eq!(e.update_estimation(GZIP, 0.2), 0.2);
        // Other codecs are untouched.
        assert_eq!(e.estimation(CompressionType::Lz4), 1.0);
    }

    #[test]
    fn worse_ratios_are_taken_at_once_growing_by_at_least_one_step() {
        let e = CompressionRatioEstimator::default();
        e.set_estimation(GZIP, 0.3);
        // Java's float arithmetic: 0.3f + 0.05f.
        assert_eq!(e.update_estimation(GZIP, 0.31), 0.3f32 + 0.05f32);
        assert_eq!(e.update_estimation(GZIP, 0.8), 0.8);
        // Over 1.0 (incompressible data plus framing) is allowed.
        assert_eq!(e.update_estimation(GZIP, 1.02), 1.02);
    }

    #[test]
    fn matches_javas_float_arithmetic_over_many_batches() {
        // Java computes in float: 1.0f - 0.005f, again and again.
        let e = CompressionRatioEstimator::default();
        let mut java = 1.0f32;
        for _ in 0..100 {
            java = (java - 0.005f32).max(0.25);
            assert_eq!(e.update_estimation(GZIP, 0.25), java);
        }
        assert!((e.estimation(GZIP) - 0.5).abs() < 1e-4);
    }

    #[test]
    fn concurrent_updates_are_not_lost() {
        let e = std::sync::Arc::new(CompressionRatioEstimator::default());
        std::thread::scope(|s| {
            for _ in 0..4 {
                let e = &e;
                s.spawn(move || {
                    for _ in 0..50 {
                        e.update_estimation(GZIP, 0.0);
                    }
                });
            }
        });
        // 200 improving steps from 1.0, in whatever order, end at 0.
        assert!(e.estimation(GZIP) < 1e-3, "{}", e.estimation(GZIP));
    }
}
