//! Unit tests of the append side (JAVA-PRODUCER.md §3 items 23-29, 44, 46),
//! futures and flush, plus the fixture the other test files share.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::append::RecordAppendResult;
use super::{AccumulatorConfig, RecordAccumulator};
use crate::common::{Cluster, Node, PartitionInfo, TopicPartition};
use crate::error::Error;
use crate::producer::future::RecordCallback;
use crate::producer::internals::buffer_pool::BufferPool;
use crate::producer::internals::producer_batch::ProducerBatch;
use crate::producer::internals::transaction_manager::TransactionManager;
use crate::producer::record::RecordMetadata;
use crate::record::{estimate_size_in_bytes_upper_bound, Compression};
use crate::util::clock::{Clock, MockClock};

pub(super) const BATCH: usize = 1024;
pub(super) const LINGER_MS: u64 = 10;
pub(super) const BACKOFF_MS: u64 = 100;
pub(super) const DELIVERY_MS: u64 = 120_000;
pub(super) const MAX_BLOCK: Duration = Duration::from_secs(60);

/// An accumulator on a mock clock, a pool and a cluster:
/// topic "t" partitions 0 and 2 led by node 1, 1 and 3 by node 2;
/// topic "u" partition 0 without a leader.
pub(super) struct Fixture {
    pub(super) clock: Arc<MockClock>,
    pub(super) pool: Arc<BufferPool>,
    pub(super) acc: Arc<RecordAccumulator>,
    pub(super) cluster: Cluster,
}

pub(super) fn tp(p: i32) -> TopicPartition {
    TopicPartition::new("t", p)
}

pub(super) fn cluster() -> Cluster {
    let nodes = vec![Node::new(1, "a", 9092), Node::new(2, "b", 9092)];
    let mut parts: Vec<PartitionInfo> = (0..4)
        .map(|p| PartitionInfo::new(tp(p), Some(1 + p % 2)))
        .collect();
    parts.push(PartitionInfo::new(TopicPartition::new("u", 0), None));
    Cluster::new(None, nodes, parts)
}

pub(super) fn config() -> AccumulatorConfig {
    AccumulatorConfig {
        linger: Duration::from_millis(LINGER_MS),
        retry_backoff: Duration::from_millis(BACKOFF_MS),
        retry_backoff_max: Duration::from_millis(1000),
        retry_backoff_jitter: 0.0,
        delivery_timeout: Duration::from_millis(DELIVERY_MS),
        enable_adaptive_partitioning: false,
        ..AccumulatorConfig::new(BATCH, Compression::none())
    }
}

impl Fixture {
    pub(super) fn new() -> Self {
        Self::with(config(), 64 * BATCH, None)
    }

    pub(super) fn with(
        config: AccumulatorConfig,
        memory: usize,
        tm: Option<Arc<TransactionManager>>,
    ) -> Self {
        let clock = Arc::new(MockClock::default());
        let pool = Arc::new(BufferPool::new(memory, config.batch_size, clock.clone()));
        let acc =
            Arc::new(RecordAccumulator::new(config, pool.clone(), tm, clock.clone()).unwrap());
        Fixture {
            clock,
            pool,
            acc,
            cluster: cluster(),
        }
    }

    pub(super) fn append_with(
        &self,
        tp: &TopicPartition,
        value: &[u8],
        callback: &mut Option<RecordCallback>,
    ) -> Result<RecordAppendResult, Error> {
        self.acc.append(
            tp.topic(),
            tp.partition(),
            self.clock.wall_clock_ms(),
            None,
            Some(value),
            &[],
            callback,
            MAX_BLOCK,
            false,
            self.clock.now(),
            &self.cluster,
        )
    }

    pub(super) fn append(&self, tp: &TopicPartition, value: &[u8]) -> RecordAppendResult {
        self.append_with(tp, value, &mut None).unwrap()
    }

    /// Appends records of `value` to `tp` until a second batch is started;
    /// returns how many went into the first.
    pub(super) fn fill_batch(&self, tp: &TopicPartition, value: &[u8]) -> usize {
        let mut n = 0;
        loop {
            let r = self.append(tp, value);
            if r.new_batch_created && n > 0 {
                return n;
            }
            n += 1;
        }
    }

    pub(super) fn ms(&self, ms: u64) {
        self.clock.sleep_ms(ms);
    }

    pub(super) fn nodes(&self, ids: &[i32]) -> HashSet<i32> {
        ids.iter().copied().collect()
    }

    pub(super) fn drain_node(&self, node: i32, max: usize) -> Vec<ProducerBatch> {
        self.acc
            .drain(&self.cluster, &self.nodes(&[node]), max, self.clock.now())
            .remove(&node)
            .unwrap_or_default()
    }

    /// Completes drained batches and returns their memory.
    pub(super) fn complete_all(&self, batches: Vec<ProducerBatch>, base_offset: i64) {
        for mut b in batches {
            b.complete(base_offset, -1);
            self.acc.deallocate(b);
        }
    }

    pub(super) fn all_memory_back(&self) -> bool {
        self.pool.available_memory() == self.pool.total_memory()
    }
}

const VALUE: &[u8] = &[7u8; 100];

#[test]
fn rule23_batch_buffer_is_max_of_batch_size_and_record_upper_bound() {
    let f = Fixture::new();
    let total = f.pool.total_memory();
    // A record that fits in batch.size gets a poolable batch.size buffer.
    f.append(&tp(0), VALUE);
    assert_eq!(f.pool.available_memory(), total - BATCH);
    // A larger record gets a dedicated buffer of its own upper-bound size,
    // and the first append into it succeeds.
    let big = vec![1u8; 3 * BATCH];
    let bound = estimate_size_in_bytes_upper_bound(None, Some(&big), &[]);
    let r = f.append(&tp(1), &big);
    assert!(r.new_batch_created && r.future.is_some());
    assert_eq!(f.pool.available_memory(), total - BATCH - bound);
    // Its write limit is its own size: another large record needs a new
    // batch.
    let r = f.append(&tp(1), &big);
    assert!(r.new_batch_created && r.wakeup);
    assert_eq!(f.acc.queued_batches(&tp(1)), 2);
}

#[test]
fn rule24_record_larger_than_buffer_memory_is_rejected_without_a_batch() {
    let f = Fixture::with(config(), 4 * BATCH, None);
    let huge = vec![0u8; 8 * BATCH];
    let mut cb: Option<RecordCallback> = Some(RecordCallback::new(|_| {}));
    let err = f.append_with(&tp(0), &huge, &mut cb).unwrap_err();
    assert!(
        matches!(err, Error::Other(ref m) if m.contains("hard limit")),
        "{err}"
    );
    assert!(cb.is_some(), "the callback stays with the caller");
    assert!(!f.acc.has_incomplete() && !f.acc.has_undrained());
    assert_eq!(f.acc.appends_in_progress(), 0);
    assert!(f.all_memory_back());
}

#[test]
fn rule25_new_batch_created_flag() {
    let f = Fixture::new();
    let first = f.append(&tp(0), VALUE);
    assert!(first.new_batch_created);
    let second = f.append(&tp(0), VALUE);
    assert!(!second.new_batch_created);
    assert!(second.appended_bytes > VALUE.len());
    let n = f.fill_batch(&tp(0), VALUE);
    assert!(n >= 2);
}

#[test]
fn rule26_append_into_open_batch_does_not_ask_for_wakeup() {
    let f = Fixture::new();
    let r = f.append(&tp(0), VALUE);
    assert!(r.wakeup && r.new_batch_created, "new batch: wake");
    let r = f.append(&tp(0), VALUE);
    assert!(!(r.wakeup || r.new_batch_created), "open batch: no wake");
}

#[test]
fn a_wakeup_is_asked_when_the_only_batch_fills_not_behind_a_sendable_one() {
    let f = Fixture::new();
    assert!(f.append(&tp(0), VALUE).new_batch_created);
    // Append until a second batch starts: it wakes, and of the appends
    // into the first batch only the one that may have filled it does.
    let mut woke_without_new_batch = 0;
    loop {
        let r = f.append(&tp(0), VALUE);
        if r.new_batch_created {
            assert!(r.wakeup);
            break;
        }
        woke_without_new_batch += usize::from(r.wakeup);
    }
    assert!(woke_without_new_batch <= 1);
    assert_eq!(f.acc.queued_batches(&tp(0)), 2);
    // Nothing was drained, so appends into the second batch are behind a
    // sendable head batch (Java's `batchIsFull` holds) and ask for no
    // wakeup.
    let r = f.append(&tp(0), VALUE);
    assert!(!r.new_batch_created && !r.wakeup);
}

#[test]
fn rule27_pool_exhaustion_blocks_then_times_out_and_makes_everything_ready() {
    let f = Fixture::with(config(), 2 * BATCH, None);
    f.append(&tp(0), VALUE);
    f.append(&tp(1), VALUE);
    // Linger has not passed: nothing is ready.
    assert!(f
        .acc
        .ready(&f.cluster, f.clock.now())
        .ready_nodes
        .is_empty());

    // A third partition needs a buffer: the caller blocks on the pool.
    let acc = f.acc.clone();
    let cluster = f.cluster.clone();
    let clock = f.clock.clone();
    let waiter = std::thread::spawn(move || {
        acc.append(
            "t",
            2,
            0,
            None,
            Some(VALUE),
            &[],
            &mut None,
            Duration::from_secs(3600),
            false,
            clock.now(),
            &cluster,
        )
        .map(|r| r.new_batch_created)
    });
    while f.pool.queued() == 0 {
        std::thread::yield_now();
    }
    // A thread waits for memory: every partition with data is sendable.
    let ready = f.acc.ready(&f.cluster, f.clock.now());
    assert_eq!(ready.ready_nodes, f.nodes(&[1, 2]));
    // Sending one batch frees its buffer for the waiter.
    let drained = f.drain_node(2, usize::MAX);
    assert_eq!(drained.len(), 1);
    f.complete_all(drained, 0);
    assert!(waiter.join().unwrap().unwrap());

    // With no time to wait, the append fails with the pool's error and
    // leaves nothing behind.
    let mut cb: Option<RecordCallback> = Some(RecordCallback::new(|_| {}));
    let err = f
        .acc
        .append(
            "t",
            3,
            0,
            None,
            Some(VALUE),
            &[],
            &mut cb,
            Duration::ZERO,
            false,
            f.clock.now(),
            &f.cluster,
        )
        .unwrap_err();
    assert!(matches!(err, Error::BufferExhausted(_)), "{err}");
    assert!(cb.is_some());
    assert_eq!(f.acc.queued_batches(&tp(3)), 0);
}

#[test]
fn rule28_deallocated_batch_buffers_go_back_to_the_pool() {
    let f = Fixture::new();
    let total = f.pool.total_memory();
    f.append(&tp(0), VALUE);
    f.append(&tp(1), &vec![0u8; 2 * BATCH]);
    f.acc.close(); // everything ready, nothing waits for linger
    let drained = f.drain_node(1, usize::MAX);
    f.complete_all(drained, 0);
    // The batch.size buffer is pooled: available, but not unallocated.
    let big = estimate_size_in_bytes_upper_bound(None, Some(&vec![0u8; 2 * BATCH]), &[]);
    assert_eq!(f.pool.available_memory(), total - big);
    assert_eq!(f.pool.unallocated_memory(), total - BATCH - big);
    let drained = f.drain_node(2, usize::MAX);
    assert_eq!(drained.len(), 1);
    f.complete_all(drained, 0);
    // The oversized buffer only returns its byte count.
    assert_eq!(f.pool.unallocated_memory(), total - BATCH);
    assert!(f.all_memory_back());
    assert!(!f.acc.has_incomplete());
}

#[test]
fn rule29_buffer_returned_after_lost_race() {
    // Pool of two buffers, both held by batches of partitions 1 and 3.
    let f = Fixture::with(config(), 2 * BATCH, None);
    f.append(&tp(1), VALUE);
    f.append(&tp(3), VALUE);
    let spawn = |f: &Fixture| {
        let (acc, cluster, clock) = (f.acc.clone(), f.cluster.clone(), f.clock.clone());
        std::thread::spawn(move || {
            acc.append(
                "t",
                0,
                0,
                None,
                Some(VALUE),
                &[],
                &mut None,
                Duration::from_secs(3600),
                false,
                clock.now(),
                &cluster,
            )
            .unwrap()
        })
    };
    // Two threads find partition 0 empty and both wait for a buffer.
    let a = spawn(&f);
    while f.pool.queued() < 1 {
        std::thread::yield_now();
    }
    let c = spawn(&f);
    while f.pool.queued() < 2 {
        std::thread::yield_now();
    }
    // Free both buffers: one thread makes the batch, the other finds it
    // under the lock and returns its buffer.
    let drained = f.drain_node(2, usize::MAX);
    assert_eq!(drained.len(), 2);
    f.complete_all(drained, 0);
    let (ra, rc) = (a.join().unwrap(), c.join().unwrap());
    assert_eq!(
        usize::from(ra.new_batch_created) + usize::from(rc.new_batch_created),
        1
    );
    assert_eq!(f.acc.queued_batches(&tp(0)), 1);
    assert_eq!(f.acc.with_deque(&tp(0), |dq| dq[0].record_count()), Some(2));
    // Only the one batch holds memory.
    assert_eq!(f.pool.available_memory(), f.pool.total_memory() - BATCH);
}

#[test]
fn rule44_appends_after_close_fail_and_ready_sends_everything() {
    let f = Fixture::new();
    f.append(&tp(0), VALUE);
    assert!(f
        .acc
        .ready(&f.cluster, f.clock.now())
        .ready_nodes
        .is_empty());
    f.acc.close();
    // Closed: linger is ignored.
    assert_eq!(
        f.acc.ready(&f.cluster, f.clock.now()).ready_nodes,
        f.nodes(&[1])
    );
    let mut cb: Option<RecordCallback> = Some(RecordCallback::new(|_| {}));
    match f.append_with(&tp(0), VALUE, &mut cb) {
        Err(Error::Closed(m)) => assert_eq!(m, "Producer closed while send in progress"),
        other => panic!("{other:?}"),
    }
    assert!(cb.is_some());
    // A new partition too (the check happens even with an empty deque).
    assert!(matches!(
        f.append_with(&tp(1), VALUE, &mut None),
        Err(Error::Closed(_))
    ));
}

#[test]
fn rule44_forced_close_fails_queued_and_in_flight_batches_exactly_once() {
    let f = Fixture::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let mut futures = Vec::new();
    for p in 0..4 {
        for _ in 0..3 {
            let c = calls.clone();
            let mut cb: Option<RecordCallback> = Some(RecordCallback::new(move |r| {
                assert!(matches!(r, Err(Error::Closed(_))));
                c.fetch_add(1, Ordering::SeqCst);
            }));
            futures.push(
                f.append_with(&tp(p), VALUE, &mut cb)
                    .unwrap()
                    .future
                    .unwrap(),
            );
        }
    }
    f.acc.close();
    // Node 1's batches are in flight (owned by the "sender").
    let in_flight = f.drain_node(1, usize::MAX);
    assert_eq!(in_flight.len(), 2);
    f.acc.abort_incomplete_batches();
    assert_eq!(calls.load(Ordering::SeqCst), 12);
    for fut in &futures {
        assert!(matches!(
            fut.get_timeout(Duration::ZERO),
            Err(Error::Closed(_))
        ));
    }
    assert!(!f.acc.has_undrained() && !f.acc.has_incomplete());
    // The sender's late response does not complete them again.
    for mut b in in_flight {
        assert!(!b.complete(5, -1));
        f.acc.deallocate(b);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 12);
    assert!(f.all_memory_back());
}

#[test]
fn rule46_unkeyed_records_stick_to_an_available_partition_until_the_batch_fills() {
    let f = Fixture::new();
    let append_unknown = || {
        f.acc
            .append(
                "u2",
                RecordMetadata::UNKNOWN_PARTITION,
                0,
                None,
                Some(VALUE),
                &[],
                &mut None,
                MAX_BLOCK,
                false,
                f.clock.now(),
                &f.cluster,
            )
            .unwrap()
    };
    // Topic "t" has leaders for all partitions; "u" has none: use "t".
    let r = f
        .acc
        .append(
            "t",
            RecordMetadata::UNKNOWN_PARTITION,
            0,
            None,
            Some(VALUE),
            &[],
            &mut None,
            MAX_BLOCK,
            false,
            f.clock.now(),
            &f.cluster,
        )
        .unwrap();
    let first = r.partition;
    assert!((0..4).contains(&first));
    // Sticky: the same partition until about batch.size bytes went there.
    let mut partitions = vec![first];
    for _ in 0..30 {
        let r = f
            .acc
            .append(
                "t",
                RecordMetadata::UNKNOWN_PARTITION,
                0,
                None,
                Some(VALUE),
                &[],
                &mut None,
                MAX_BLOCK,
                false,
                f.clock.now(),
                &f.cluster,
            )
            .unwrap();
        partitions.push(r.partition);
    }
    let first_run = partitions.iter().take_while(|&&p| p == first).count();
    // 100-byte values make 109-byte records: eight fit a 1024-byte batch
    // (61 + 8 * 109 = 933 bytes). At that point fewer than batch.size bytes
    // went to the partition, so it keeps it for a second batch and switches
    // only when that one is closed too (Java's rule), after 16 records.
    assert!(first_run >= 16, "stuck for two batches: {partitions:?}");
    let (counts, second_full) = f
        .acc
        .with_deque(&tp(first), |dq| {
            (
                (dq[0].record_count(), dq[1].record_count()),
                dq[0].is_full() && dq[1].is_full(),
            )
        })
        .unwrap();
    assert_eq!((counts, second_full), ((8, 8), true));
    // A topic unknown to metadata still gets a partition (0 of 0).
    assert_eq!(append_unknown().partition, 0);
}

#[test]
fn abort_on_new_batch_returns_without_appending() {
    let f = Fixture::new();
    let mut cb: Option<RecordCallback> = Some(RecordCallback::new(|_| {}));
    let r = f
        .acc
        .append(
            "t",
            0,
            0,
            None,
            Some(VALUE),
            &[],
            &mut cb,
            MAX_BLOCK,
            true,
            f.clock.now(),
            &f.cluster,
        )
        .unwrap();
    assert!(r.abort_for_new_batch && r.future.is_none() && !r.new_batch_created);
    assert!(cb.is_some());
    assert!(!f.acc.has_incomplete());
    assert!(f.all_memory_back());
    // With an open batch the record goes in even with abort_on_new_batch.
    f.append(&tp(0), VALUE);
    let r = f
        .acc
        .append(
            "t",
            0,
            0,
            None,
            Some(VALUE),
            &[],
            &mut cb,
            MAX_BLOCK,
            true,
            f.clock.now(),
            &f.cluster,
        )
        .unwrap();
    assert!(!r.abort_for_new_batch && r.future.is_some() && cb.is_none());
}

#[test]
fn futures_resolve_once_with_base_plus_index_and_callbacks_in_order() {
    let f = Fixture::new();
    let order: Arc<Mutex<Vec<(usize, i64)>>> = Arc::default();
    let mut futures = Vec::new();
    for i in 0..20usize {
        let o = order.clone();
        let mut cb: Option<RecordCallback> = Some(RecordCallback::new(move |r| {
            o.lock().push((i, r.unwrap().offset()));
        }));
        futures.push(
            f.append_with(&tp(0), VALUE, &mut cb)
                .unwrap()
                .future
                .unwrap(),
        );
    }
    f.acc.close();
    let mut base = 1000;
    let mut bases = Vec::new();
    loop {
        let drained = f.drain_node(1, usize::MAX);
        if drained.is_empty() {
            break;
        }
        for mut b in drained {
            bases.push(base);
            let n = i64::from(b.record_count());
            assert!(b.complete(base, -1));
            assert!(!b.complete(base + 500, -1));
            f.acc.deallocate(b);
            base += n;
        }
    }
    assert!(bases.len() >= 2, "records spread over several batches");
    let got: Vec<i64> = futures
        .into_iter()
        .map(|f| f.get().unwrap().offset())
        .collect();
    assert_eq!(got, (1000..1020).collect::<Vec<_>>());
    let order = order.lock();
    assert_eq!(
        *order,
        (0..20).map(|i| (i, 1000 + i as i64)).collect::<Vec<_>>()
    );
    assert!(f.all_memory_back());
}

#[test]
fn flush_makes_everything_ready_and_waits_for_all_batches() {
    let f = Fixture::new();
    for p in 0..4 {
        f.append(&tp(p), VALUE);
    }
    assert!(f
        .acc
        .ready(&f.cluster, f.clock.now())
        .ready_nodes
        .is_empty());
    f.acc.begin_flush();
    assert!(f.acc.flush_in_progress());
    assert_eq!(
        f.acc.ready(&f.cluster, f.clock.now()).ready_nodes,
        f.nodes(&[1, 2])
    );

    let acc = f.acc.clone();
    let done = Arc::new(AtomicUsize::new(0));
    let d2 = done.clone();
    let flusher = std::thread::spawn(move || {
        let r = acc.await_flush_completion(Duration::MAX);
        d2.store(1, Ordering::SeqCst);
        r
    });
    let b1 = f.drain_node(1, usize::MAX);
    f.complete_all(b1, 0);
    assert_eq!(
        done.load(Ordering::SeqCst),
        0,
        "node 2's batches are pending"
    );
    let b2 = f.drain_node(2, usize::MAX);
    f.complete_all(b2, 0);
    flusher.join().unwrap().unwrap();
    assert!(!f.acc.flush_in_progress());
}

#[test]
fn flush_times_out_and_still_ends() {
    let f = Fixture::new();
    f.append(&tp(0), VALUE);
    f.acc.begin_flush();
    // The mock clock lags real time, so a short deadline passes at once.
    let err = f
        .acc
        .await_flush_completion(Duration::from_millis(1))
        .unwrap_err();
    assert!(matches!(err, Error::Timeout(_)));
    assert!(!f.acc.flush_in_progress());
}

#[test]
fn compressed_batches_refine_the_compression_ratio_estimate() {
    let cfg = AccumulatorConfig {
        compression: Compression::gzip(-1).unwrap(),
        ..config()
    };
    let f = Fixture::with(cfg, 64 * BATCH, None);
    // Highly compressible values: the first batch fills at the 1.0 estimate.
    let n1 = f.fill_batch(&tp(0), VALUE);
    f.acc.close();
    let drained = f.drain_node(1, usize::MAX);
    assert_eq!(drained.len(), 1);
    f.complete_all(drained, 0);
    let ratio = f
        .acc
        .topic_info("t")
        .unwrap()
        .compression_ratio
        .estimation(crate::record::CompressionType::Gzip);
    assert!((0.99..1.0).contains(&ratio), "one improving step: {ratio}");
    assert!(n1 > 1);
}
