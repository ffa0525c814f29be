//! The compression ratio estimate through the accumulator (Java's
//! `CompressionRatioEstimator` as `RecordAccumulator` and `ProducerBatch`
//! use it): every new batch gets the topic's current estimate, every
//! drained batch updates it with Java's step rules, so compressed batches
//! fill towards `batch.size` of *compressed* bytes, and none goes past it.
//! On the mock clock; nothing depends on timing.

use super::tests::{config, tp, Fixture};
use super::AccumulatorConfig;
use crate::producer::internals::compression_ratio_estimator::{DETERIORATE_STEP, IMPROVING_STEP};
use crate::record::{Compression, CompressionType};

const BATCH_SIZE: usize = 16 * 1024;

/// 100-byte values that compress about as log lines do (to 20-35 %):
/// JSON-like text with varying numbers.
fn values() -> Vec<Vec<u8>> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let events = ["click", "view", "purchase", "login", "search"];
    (0..1000)
        .map(|i| {
            let mut v = format!(
                "{{\"id\":{i},\"user\":\"u{:05}\",\"event\":\"{}\",\"amount\":{}.{:02},\"ok\":true",
                next() % 20_000,
                events[(next() % 5) as usize],
                next() % 1000,
                next() % 100
            )
            .into_bytes();
            v.resize(99, b' ');
            v.push(b'}');
            v
        })
        .collect()
}

/// Fills and drains `rounds` batches of partition 0; checks each step of
/// the estimate against Java's rule and each batch against `batch.size`.
/// Returns the record count of the last batch.
fn fill_rounds(kind: CompressionType, rounds: usize) -> i32 {
    let cfg = AccumulatorConfig {
        batch_size: BATCH_SIZE,
        ..config()
    };
    let cfg = AccumulatorConfig {
        compression: Compression::of(kind),
        ..cfg
    };
    let f = Fixture::with(cfg, 64 * BATCH_SIZE, None);
    let values = values();
    let mut estimate = 1.0f32;
    let mut next = 0;
    let mut last_count = 0;
    for round in 0..rounds {
        // Append until a second batch starts, then drain the first.
        loop {
            let r = f.append(&tp(0), &values[next % values.len()]);
            next += 1;
            if r.new_batch_created && next > 1 {
                break;
            }
        }
        let drained = f.drain_node(1, usize::MAX);
        assert_eq!(drained.len(), 1, "{kind} round {round}");
        let batch = &drained[0];
        let size = batch.records().len();
        assert!(
            size <= BATCH_SIZE,
            "{kind} round {round}: a {size}-byte batch for batch.size {BATCH_SIZE}"
        );
        let observed = batch.compression_ratio();
        estimate = if observed > estimate {
            (estimate + DETERIORATE_STEP).max(observed)
        } else if observed < estimate {
            (estimate - IMPROVING_STEP).max(observed)
        } else {
            estimate
        };
        let info = f.acc.topic_info("t").expect("topic info");
        assert_eq!(
            info.compression_ratio.estimation(kind),
            estimate,
            "{kind} round {round}: observed {observed}"
        );
        last_count = batch.record_count();
        f.complete_all(drained, 0);
    }
    last_count
}

#[test]
fn compressed_batches_fill_towards_batch_size_after_compression() {
    // An uncompressed batch holds (16384 - 61) / 110 = 148 of these
    // records (a 1.05 safety factor makes it 141 at the initial 1.0).
    let plain = (BATCH_SIZE - 61) / 110;
    for kind in [
        CompressionType::Gzip,
        CompressionType::Snappy,
        CompressionType::Lz4,
        CompressionType::Zstd,
    ] {
        // 200 batches: the estimate walks down 0.005 a batch from 1.0 and
        // reaches what the codec achieves (0.2-0.4) on the way.
        let last = fill_rounds(kind, 200) as usize;
        eprintln!("{kind}: {last} records in the 200th batch ({plain} uncompressed)");
        assert!(
            last > 2 * plain,
            "{kind}: the 200th batch holds {last} records, not more than 2 x {plain}"
        );
    }
}

#[test]
fn uncompressed_batches_ignore_the_estimate() {
    let last = fill_rounds(CompressionType::None, 20) as usize;
    assert_eq!(last, (BATCH_SIZE - 61) / 110);
}
