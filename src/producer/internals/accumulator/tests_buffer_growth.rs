//! Unit tests of how batches charge `buffer.memory`: a new batch takes a
//! small buffer and charges its growth as it fills, so many open batches
//! of a few records cost a few kilobytes each, not `batch.size`; a growth
//! the pool refuses closes the batch; every charge comes back.

use std::time::Duration;

use super::append::RecordAppendResult;
use super::tests::{config, tp, Fixture};
use crate::common::TopicPartition;
use crate::error::Error;
use crate::producer::internals::buffer_pool::SMALLEST_CLASS;
use crate::record::estimate_size_in_bytes_upper_bound;
use crate::util::clock::Clock;

/// `batch.size` in these tests: four times the initial buffer.
const BIG_BATCH: usize = 4 * SMALLEST_CLASS;

const VALUE: &[u8] = &[3u8; 100];

fn fixture(memory: usize) -> Fixture {
    let mut c = config();
    c.batch_size = BIG_BATCH;
    Fixture::with(c, memory, None)
}

impl Fixture {
    /// Appends `value` without waiting for memory.
    fn append_at_once(
        &self,
        tp: &TopicPartition,
        value: &[u8],
    ) -> Result<RecordAppendResult, Error> {
        self.acc.append(
            tp.topic(),
            tp.partition(),
            self.clock.wall_clock_ms(),
            None,
            Some(value),
            &[],
            &mut None,
            Duration::ZERO,
            false,
            self.clock.now(),
            &self.cluster,
        )
    }

    /// (buffer charge, records, estimated size, full) of each batch of `tp`.
    fn batches(&self, tp: &TopicPartition) -> Vec<(usize, i32, usize, bool)> {
        self.acc
            .with_deque(tp, |dq| {
                dq.iter()
                    .map(|b| {
                        (
                            b.buffer_charge(),
                            b.record_count(),
                            b.estimated_size_in_bytes(),
                            b.is_full(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Drains and completes every batch of nodes 1 and 2.
    fn complete_everything(&self) {
        for node in [1, 2] {
            loop {
                let drained = self.drain_node(node, usize::MAX);
                if drained.is_empty() {
                    break;
                }
                self.complete_all(drained, 0);
            }
        }
        assert!(!self.acc.has_incomplete());
        assert_eq!(self.pool.debt(), 0);
    }
}

#[test]
fn a_batch_charge_grows_with_its_content_and_comes_back_whole() {
    let f = fixture(64 * 1024);
    let total = f.pool.total_memory();
    let mut charges = Vec::new();
    loop {
        let r = f.append_at_once(&tp(0), VALUE).unwrap();
        if r.new_batch_created && !charges.is_empty() {
            break;
        }
        let batches = f.batches(&tp(0));
        let (charge, _, estimated, _) = batches[0];
        // The buffer always covers what the batch holds, and the pool
        // counts exactly the buffer.
        assert!(charge >= estimated, "{charge} < {estimated}");
        assert_eq!(f.pool.available_memory(), total - charge);
        if charges.last() != Some(&charge) {
            charges.push(charge);
        }
    }
    // Doubling from the initial buffer up to batch.size.
    assert_eq!(
        charges,
        vec![SMALLEST_CLASS, 2 * SMALLEST_CLASS, 4 * SMALLEST_CLASS]
    );
    // The batch still closes at batch.size: the next record did not fit.
    let batches = f.batches(&tp(0));
    let (charge, _, estimated, full) = batches[0];
    assert_eq!(charge, BIG_BATCH);
    assert!(full);
    assert!(estimated + estimate_size_in_bytes_upper_bound(None, Some(VALUE), &[]) > BIG_BATCH);
    assert_eq!(batches[1].0, SMALLEST_CLASS);
    assert_eq!(
        f.pool.available_memory(),
        total - BIG_BATCH - SMALLEST_CLASS
    );

    f.complete_everything();
    assert_eq!(f.pool.available_memory(), total);
    // Every buffer was kept: the full-size one, the second batch's, and
    // the two the first batch grew out of.
    let kept = BIG_BATCH + 2 * SMALLEST_CLASS + SMALLEST_CLASS;
    assert_eq!(f.pool.unallocated_memory(), total - kept);
    // The next batch starts in a kept buffer of the smallest class.
    f.append_at_once(&tp(1), VALUE).unwrap();
    assert_eq!(f.batches(&tp(1))[0].0, SMALLEST_CLASS);
    assert_eq!(f.pool.unallocated_memory(), total - kept);
    f.complete_everything();
    assert_eq!(f.pool.available_memory(), total);
}

#[test]
fn a_thousand_partitions_with_one_record_take_a_small_buffer_each() {
    const PARTITIONS: usize = 1000;
    // A quarter of what 1000 batch.size buffers would need.
    let f = fixture(PARTITIONS * SMALLEST_CLASS + SMALLEST_CLASS);
    let total = f.pool.total_memory();
    assert!(total < PARTITIONS * BIG_BATCH / 3);
    for p in 0..PARTITIONS {
        let r = f.append_at_once(&tp(p as i32), VALUE).unwrap();
        assert!(r.new_batch_created);
    }
    assert_eq!(
        f.pool.available_memory(),
        total - PARTITIONS * SMALLEST_CLASS
    );
    f.acc
        .abort_undrained_batches(&Error::Other("aborted".into()));
    assert_eq!(f.pool.available_memory(), total);
    assert_eq!(f.pool.debt(), 0);
}

#[test]
fn a_refused_growth_closes_the_batch_and_the_next_record_takes_a_new_one() {
    // Room for the initial buffer, its first doubling, and one more
    // initial buffer: not for a batch.size batch.
    let f = fixture(3 * SMALLEST_CLASS);
    let mut appended = 0;
    loop {
        let r = f.append_at_once(&tp(0), VALUE).unwrap();
        if r.new_batch_created && appended > 0 {
            break;
        }
        appended += 1;
    }
    let batches = f.batches(&tp(0));
    let (charge, records, estimated, full) = batches[0];
    assert_eq!(charge, 2 * SMALLEST_CLASS);
    assert_eq!(records, appended);
    assert!(full, "a refused growth makes the batch full");
    assert!(estimated <= charge && estimated < BIG_BATCH / 2 + 1);
    assert_eq!(batches[1].0, SMALLEST_CLASS);
    assert_eq!(f.pool.available_memory(), 0);
    // The second batch cannot grow either; then a third batch has no
    // memory at all and the append fails as an allocation does.
    let error = loop {
        match f.append_at_once(&tp(0), VALUE) {
            Ok(r) => assert!(!r.new_batch_created),
            Err(e) => break e,
        }
    };
    assert!(matches!(error, Error::BufferExhausted(_)), "{error:?}");
    assert_eq!(f.batches(&tp(0)).len(), 2);
    assert!(f.batches(&tp(0))[1].3);

    f.complete_everything();
    assert_eq!(f.pool.available_memory(), f.pool.total_memory());
}

#[test]
fn a_record_over_batch_size_gets_an_exact_batch_of_its_own() {
    let f = fixture(64 * 1024);
    let value = vec![5u8; BIG_BATCH + 10];
    let size = estimate_size_in_bytes_upper_bound(None, Some(&value), &[]);
    f.append_at_once(&tp(0), &value).unwrap();
    let batches = f.batches(&tp(0));
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0].0, size);
    assert_eq!(f.pool.available_memory(), f.pool.total_memory() - size);
    f.complete_everything();
    assert_eq!(f.pool.available_memory(), f.pool.total_memory());
}
