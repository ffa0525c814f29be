//! The [`RecordAccumulator`] (Java `RecordAccumulator`, Kafka 4.3): the
//! per-partition queues of batches between caller threads and the network
//! thread.
//!
//! ```text
//!  caller threads                         network thread (Sender)
//!  append(topic, partition | -1, ...)     ready(cluster, now)  -> nodes, delay, unknown leaders
//!    topics ─▶ TopicInfo                  drain(cluster, nodes, max, now) -> batches per node
//!      partitioner (sticky, adaptive)     expired_batches(now), reenqueue(batch)
//!      batches: partition ─▶ Mutex<VecDeque<ProducerBatch>>
//!                 append at the back        take from the front
//!    BufferPool::allocate (outside locks)   deallocate(batch) ─▶ BufferPool
//!  flush: begin_flush + await_flush_completion (waits on `incomplete`)
//! ```
//!
//! Files: [`append`] (the caller side), [`ready_drain`] (what the sender
//! sends next), [`expiry`] (delivery timeout, retries, aborts). The retry
//! backoff is Java's `ExponentialBackoff`, shared with the connection states
//! (`crate::util::backoff`).
//!
//! # Locks
//!
//! The append path takes no global lock and no map lock: the producer
//! appends through a [`TopicAppender`](append::TopicAppender) it keeps per
//! caller thread and topic, which holds the topic's state and the deques
//! and sticky partition it used before. Only the first append of a thread
//! to a topic or partition reads the topic map and the topic's partition
//! map, under `parking_lot::RwLock` *read* locks (written only when a topic
//! or partition is seen for the first time; Java uses copy-on-write maps
//! there). Then it locks only its partition's deque. The sticky partition
//! is checked with an atomic load (its lock is taken when it switches).
//! The count of appends in progress is per topic, and the incomplete set
//! is sharded and touched once per batch, not per record. Lock order:
//! topic map → partition map → deque → partitioner / transaction manager /
//! incomplete shard. No map lock is ever taken while a deque is locked.

//! # Ownership of batches
//!
//! A batch lives in its deque until drained; then the sender owns it until
//! it completes it and hands it to [`RecordAccumulator::deallocate`]. The
//! incomplete set keeps each unfinished batch's completion slot (not the
//! batch), which is enough for `flush` to wait on every batch and for
//! `abort_incomplete_batches` to fail drained, in-flight batches: their
//! callbacks moved into the slot when they were drained. A slot completes
//! once, whoever gets there first.

pub(crate) mod append;
pub(crate) mod expiry;
pub(crate) mod ready_drain;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_buffer_growth;
#[cfg(test)]
mod tests_compression_ratio;
#[cfg(test)]
mod tests_concurrency;
#[cfg(test)]
mod tests_expiry;
#[cfg(test)]
mod tests_memory;
#[cfg(test)]
mod tests_ready_drain;
#[cfg(test)]
mod tests_scan_hints;

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Mutex, MutexGuard, RwLock};

use crate::common::{PartitionInfo, TopicPartition};
use crate::error::Error;
use crate::producer::future::ProduceRequestResult;
use crate::producer::internals::buffer_pool::BufferPool;
use crate::producer::internals::built_in_partitioner::BuiltInPartitioner;
use crate::producer::internals::compression_ratio_estimator::CompressionRatioEstimator;
use crate::producer::internals::producer_batch::ProducerBatch;
use crate::producer::internals::transaction_manager::TransactionManager;
use crate::record::Compression;
use crate::util::clock::Clock;

use crate::util::backoff::{ExponentialBackoff, RETRY_BACKOFF_EXP_BASE, RETRY_BACKOFF_JITTER};

/// The settings the accumulator takes from the producer configuration.
#[derive(Debug, Clone)]
pub(crate) struct AccumulatorConfig {
    /// `batch.size`: the size of pooled batch buffers.
    pub(crate) batch_size: usize,
    /// `compression.type` and level.
    pub(crate) compression: Compression,
    /// `linger.ms`.
    pub(crate) linger: Duration,
    /// `retry.backoff.ms`.
    pub(crate) retry_backoff: Duration,
    /// `retry.backoff.max.ms`.
    pub(crate) retry_backoff_max: Duration,
    /// Random spread of the retry backoff (Java's fixed 0.2; tests use 0).
    pub(crate) retry_backoff_jitter: f64,
    /// `delivery.timeout.ms`.
    pub(crate) delivery_timeout: Duration,
    /// `partitioner.adaptive.partitioning.enable`.
    pub(crate) enable_adaptive_partitioning: bool,
    /// `partitioner.availability.timeout.ms`; zero turns it off.
    pub(crate) partition_availability_timeout: Duration,
}

impl AccumulatorConfig {
    /// Java's defaults for everything but the batch size and codec.
    #[allow(dead_code)] // tests build accumulators from it
    pub(crate) fn new(batch_size: usize, compression: Compression) -> Self {
        AccumulatorConfig {
            batch_size,
            compression,
            linger: Duration::from_millis(5),
            retry_backoff: Duration::from_millis(100),
            retry_backoff_max: Duration::from_millis(1000),
            retry_backoff_jitter: RETRY_BACKOFF_JITTER,
            delivery_timeout: Duration::from_millis(120_000),
            enable_adaptive_partitioning: true,
            partition_availability_timeout: Duration::ZERO,
        }
    }
}

/// One partition's queue of batches, with a count of them that the
/// network thread reads without the lock.
///
/// # The emptiness hint
///
/// Most of the network thread's per-poll scans (`ready`, `drain`,
/// `expired_batches`) visit every partition, and with many partitions
/// most deques are empty. [`looks_empty`](Deque::looks_empty) lets them
/// skip one without locking it. The count is exact under the lock: every
/// access goes through [`lock`](Deque::lock), whose guard stores the
/// deque's length when it is released, while the lock is still held
/// (append, drain, reenqueue, split, expiry and the aborts all mutate the
/// deque through that guard, so none can leave the count wrong).
///
/// A read without the lock may be stale, in two ways:
/// - "not empty" for a deque just emptied: it only costs a lock, after
///   which the scan finds the deque empty as before.
/// - "empty" for a deque a caller thread has just appended to: the scan
///   skips it, which is what it would have done had it taken the lock
///   just before the append. No batch is lost: an append that creates a
///   batch (the only way an empty deque gets one from a caller thread)
///   wakes the sender after releasing the lock, and the SeqCst fences in
///   `Wakeup::wake` and `Selector::poll` (network/selector.rs) make the
///   next scan after that wake see the count's store: either the wake
///   finds the waker's flag cleared and signals it, or the scan that
///   follows the clearing sees the store.
///   Batches put back by `reenqueue` and `split_and_reenqueue` come from
///   the network thread itself, which then reads its own store.
pub(crate) struct Deque {
    batches: Mutex<VecDeque<ProducerBatch>>,
    /// `batches.len()` as of the last release of the lock.
    len: AtomicUsize,
}

impl Deque {
    fn new() -> Self {
        Deque {
            batches: Mutex::new(VecDeque::new()),
            len: AtomicUsize::new(0),
        }
    }

    /// Locks the deque; its length is published when the guard drops.
    pub(crate) fn lock(&self) -> DequeGuard<'_> {
        DequeGuard {
            batches: self.batches.lock(),
            len: &self.len,
        }
    }

    /// Whether the deque held no batch when its lock was last released:
    /// a hint read without the lock (see the type's documentation for why
    /// a stale answer is harmless).
    pub(crate) fn looks_empty(&self) -> bool {
        self.len.load(Ordering::Acquire) == 0
    }

    /// The hint's value, for tests.
    #[cfg(test)]
    pub(crate) fn hinted_len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }
}

/// A locked [`Deque`]: dereferences to its batches, and stores their count
/// in the deque's hint when dropped, before the lock is released.
pub(crate) struct DequeGuard<'a> {
    batches: MutexGuard<'a, VecDeque<ProducerBatch>>,
    len: &'a AtomicUsize,
}

impl std::ops::Deref for DequeGuard<'_> {
    type Target = VecDeque<ProducerBatch>;

    fn deref(&self) -> &Self::Target {
        &self.batches
    }
}

impl std::ops::DerefMut for DequeGuard<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.batches
    }
}

impl Drop for DequeGuard<'_> {
    fn drop(&mut self) {
        // Runs before the fields drop, so the lock is still held: stores
        // happen in lock order and the last one is the deque's length.
        self.len.store(self.batches.len(), Ordering::Release);
    }
}

/// Partitions below this number are found by index in
/// [`PartitionDeques`]; others (never made by the producer, which checks
/// partitions against the topic's count) by hash.
const DENSE_PARTITIONS: i32 = 1 << 16;

/// A topic's deques by partition number. The map is what is iterated (its
/// order is the one `ready` always used); the vector indexes the same
/// deques by number so that `drain` finds one without hashing.
#[derive(Default)]
pub(crate) struct PartitionDeques {
    all: HashMap<i32, Arc<Deque>>,
    by_index: Vec<Option<Arc<Deque>>>,
}

impl PartitionDeques {
    /// The deque of `partition`, if it has one.
    fn get(&self, partition: i32) -> Option<&Arc<Deque>> {
        if (0..DENSE_PARTITIONS).contains(&partition) {
            // In range, so the cast is exact.
            self.by_index.get(partition as usize)?.as_ref()
        } else {
            self.all.get(&partition)
        }
    }

    fn get_or_insert(&mut self, partition: i32) -> &Arc<Deque> {
        if self.get(partition).is_none() {
            let dq = Arc::new(Deque::new());
            if (0..DENSE_PARTITIONS).contains(&partition) {
                let index = partition as usize;
                if index >= self.by_index.len() {
                    self.by_index.resize(index + 1, None);
                }
                self.by_index[index] = Some(dq.clone());
            }
            self.all.insert(partition, dq);
        }
        &self.all[&partition]
    }

    /// The number of deques.
    fn len(&self) -> usize {
        self.all.len()
    }

    /// Every deque with its partition, in the map's order.
    fn iter(&self) -> impl Iterator<Item = (i32, &Arc<Deque>)> {
        self.all.iter().map(|(&p, dq)| (p, dq))
    }
}

/// Per-topic state (Java `TopicInfo`).
pub(crate) struct TopicInfo {
    topic: Arc<str>,
    batches: RwLock<PartitionDeques>,
    partitioner: BuiltInPartitioner,
    /// Java's `CompressionRatioEstimator` for this topic.
    pub(crate) compression_ratio: CompressionRatioEstimator,
    /// Appends to this topic that have started and not ended (Java's
    /// `appendsInProgress`, kept per topic so that caller threads writing
    /// to different topics share no counter).
    appends_in_progress: AtomicUsize,
}

impl TopicInfo {
    fn new(topic: Arc<str>, batch_size: usize) -> Self {
        TopicInfo {
            partitioner: BuiltInPartitioner::new(topic.clone(), batch_size),
            topic,
            batches: RwLock::new(PartitionDeques::default()),
            compression_ratio: CompressionRatioEstimator::default(),
            appends_in_progress: AtomicUsize::new(0),
        }
    }

    fn deque(&self, partition: i32) -> Option<Arc<Deque>> {
        self.batches.read().get(partition).cloned()
    }

    /// The deque of `partition` unless it has none or looks empty (see
    /// [`Deque::looks_empty`]); no reference count changes for those.
    fn nonempty_deque(&self, partition: i32) -> Option<Arc<Deque>> {
        self.batches
            .read()
            .get(partition)
            .filter(|dq| !dq.looks_empty())
            .cloned()
    }

    fn get_or_create_deque(&self, partition: i32) -> Arc<Deque> {
        if let Some(dq) = self.deque(partition) {
            return dq;
        }
        self.batches.write().get_or_insert(partition).clone()
    }
}

/// When a node last had data ready and last could be drained (Java
/// `NodeLatencyStats`), for `partitioner.availability.timeout.ms`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NodeLatencyStats {
    pub(crate) ready_time: Instant,
    pub(crate) drain_time: Instant,
}

/// Completion slots of every batch not yet deallocated (Java
/// `IncompleteBatches`), sharded so that threads creating batches for
/// different partitions rarely meet on one lock.
struct IncompleteBatches {
    shards: Vec<Mutex<IdMap>>,
}

/// Batch ids to their completion slots. Ids are distinct numbers from a
/// counter, so they are spread by one multiplication instead of SipHash
/// (nobody outside chooses them).
type IdMap = HashMap<u64, Arc<ProduceRequestResult>, BuildHasherDefault<IdHasher>>;

/// 2^64 divided by the golden ratio, odd: multiplying by it spreads
/// consecutive numbers over the whole range.
const FIBONACCI: u64 = 0x9E37_79B9_7F4A_7C15;

/// The hasher of [`IdMap`]: Fibonacci hashing of a `u64`.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed; any other input still hashes.
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(FIBONACCI);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(FIBONACCI);
    }
}

const INCOMPLETE_SHARDS: usize = 16;

impl IncompleteBatches {
    fn new() -> Self {
        IncompleteBatches {
            shards: (0..INCOMPLETE_SHARDS)
                .map(|_| Mutex::new(IdMap::default()))
                .collect(),
        }
    }

    fn shard(&self, id: u64) -> &Mutex<IdMap> {
        // Consecutive ids go to consecutive shards.
        &self.shards[(id % INCOMPLETE_SHARDS as u64) as usize]
    }

    fn add(&self, batch: &ProducerBatch) {
        self.shard(batch.id())
            .lock()
            .insert(batch.id(), batch.result().clone());
    }

    fn remove(&self, id: u64) -> bool {
        self.shard(id).lock().remove(&id).is_some()
    }

    fn all(&self) -> Vec<(u64, Arc<ProduceRequestResult>)> {
        let mut out = Vec::new();
        for shard in &self.shards {
            out.extend(shard.lock().iter().map(|(id, r)| (*id, r.clone())));
        }
        out
    }

    fn is_empty(&self) -> bool {
        self.shards.iter().all(|s| s.lock().is_empty())
    }
}

/// The record accumulator. Shared as `Arc` by caller threads and the
/// network thread.
pub(crate) struct RecordAccumulator {
    config: AccumulatorConfig,
    retry_backoff: ExponentialBackoff,
    pool: Arc<BufferPool>,
    transaction_manager: Option<Arc<TransactionManager>>,
    clock: Arc<dyn Clock>,
    closed: AtomicBool,
    flushes_in_progress: AtomicUsize,
    topics: RwLock<HashMap<Arc<str>, Arc<TopicInfo>>>,
    incomplete: IncompleteBatches,
    // Touched by the network thread only (Java leaves them unsynchronized);
    // the locks are never contended.
    node_stats: Mutex<HashMap<i32, NodeLatencyStats>>,
    muted: Mutex<HashSet<TopicPartition>>,
    drain_index: Mutex<HashMap<i32, usize>>,
    /// `ready`'s per-topic queue sizes and partition ids, kept between
    /// calls so that each call does not allocate them again.
    ready_scratch: Mutex<(Vec<i32>, Vec<i32>)>,
    next_batch_expiry: Mutex<Option<Instant>>,
    /// No queued batch can expire before this (see `expired_batches`);
    /// `None`: walk the deques at the next call.
    expiry_walk_due: Mutex<Option<Instant>>,
    /// Tests replace the partitioners' random source (Java's `mockRandom`).
    #[cfg(test)]
    partitioner_random: Mutex<Option<Arc<dyn Fn() -> i32 + Send + Sync>>>,
}

impl std::fmt::Debug for RecordAccumulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordAccumulator")
            .field("config", &self.config)
            .field("closed", &self.closed.load(Ordering::Relaxed))
            .field("pool", &self.pool)
            .finish_non_exhaustive()
    }
}

impl RecordAccumulator {
    /// An accumulator taking buffers from `pool`. Does not fail today
    /// (every codec is built).
    pub(crate) fn new(
        config: AccumulatorConfig,
        pool: Arc<BufferPool>,
        transaction_manager: Option<Arc<TransactionManager>>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, Error> {
        Ok(RecordAccumulator {
            retry_backoff: ExponentialBackoff::new(
                config.retry_backoff,
                RETRY_BACKOFF_EXP_BASE,
                config.retry_backoff_max,
                config.retry_backoff_jitter,
            ),
            config,
            pool,
            transaction_manager,
            clock,
            closed: AtomicBool::new(false),
            flushes_in_progress: AtomicUsize::new(0),
            topics: RwLock::new(HashMap::new()),
            incomplete: IncompleteBatches::new(),
            node_stats: Mutex::new(HashMap::new()),
            muted: Mutex::new(HashSet::new()),
            drain_index: Mutex::new(HashMap::new()),
            ready_scratch: Mutex::new((Vec::new(), Vec::new())),
            next_batch_expiry: Mutex::new(None),
            expiry_walk_due: Mutex::new(None),
            #[cfg(test)]
            partitioner_random: Mutex::new(None),
        })
    }

    /// The settings.
    #[allow(dead_code)] // tests and metrics
    pub(crate) fn config(&self) -> &AccumulatorConfig {
        &self.config
    }

    /// The buffer pool.
    #[allow(dead_code)] // tests and metrics
    pub(crate) fn pool(&self) -> &Arc<BufferPool> {
        &self.pool
    }

    fn topic_info(&self, topic: &str) -> Option<Arc<TopicInfo>> {
        self.topics.read().get(topic).cloned()
    }

    fn get_or_create_topic_info(&self, topic: &str) -> Arc<TopicInfo> {
        if let Some(info) = self.topic_info(topic) {
            return info;
        }
        let topic: Arc<str> = Arc::from(topic);
        self.topics
            .write()
            .entry(topic.clone())
            .or_insert_with(|| Arc::new(self.new_topic_info(topic)))
            .clone()
    }

    #[cfg(not(test))]
    fn new_topic_info(&self, topic: Arc<str>) -> TopicInfo {
        TopicInfo::new(topic, self.config.batch_size)
    }

    #[cfg(test)]
    fn new_topic_info(&self, topic: Arc<str>) -> TopicInfo {
        let mut info = TopicInfo::new(topic, self.config.batch_size);
        if let Some(random) = self.partitioner_random.lock().clone() {
            info.partitioner = info.partitioner.with_random(Box::new(move || random()));
        }
        info
    }

    /// Makes the partitioners of topics created from now on draw from
    /// `random`.
    #[cfg(test)]
    pub(crate) fn set_partitioner_random(&self, random: Arc<dyn Fn() -> i32 + Send + Sync>) {
        *self.partitioner_random.lock() = Some(random);
    }

    /// The deque of a partition, if it has one.
    pub(crate) fn deque(&self, tp: &TopicPartition) -> Option<Arc<Deque>> {
        self.topic_info(tp.topic())?.deque(tp.partition())
    }

    fn get_or_create_deque(&self, tp: &TopicPartition) -> Arc<Deque> {
        self.get_or_create_topic_info(tp.topic())
            .get_or_create_deque(tp.partition())
    }

    /// Calls `f` on every deque. The map read locks are held meanwhile,
    /// which only delays the creation of new topics and partitions.
    fn for_each_deque(&self, mut f: impl FnMut(&Deque)) {
        let topics = self.topics.read();
        for info in topics.values() {
            let batches = info.batches.read();
            for (_, dq) in batches.iter() {
                f(dq);
            }
        }
    }

    /// Whether every deque's emptiness hint equals its length, for tests
    /// (exact whenever no thread holds a deque's lock).
    #[cfg(test)]
    pub(crate) fn deque_hints_exact(&self) -> bool {
        let mut exact = true;
        self.for_each_deque(|dq| {
            let hinted = dq.hinted_len();
            exact &= dq.lock().len() == hinted;
        });
        exact
    }

    /// Returns a finished batch's memory to the pool and forgets it (Java
    /// `deallocate`): its buffer and what its callbacks were charged. Split
    /// batches own memory outside the pool.
    pub(crate) fn deallocate(&self, batch: ProducerBatch) {
        self.incomplete.remove(batch.id());
        if !batch.is_split_batch() {
            let charged = batch.charged();
            let chunks = batch.result().take_spare_chunks();
            let (buffer, size) = batch.into_buffer();
            self.pool
                .deallocate_with_charge(buffer, size, charged, chunks);
        }
    }

    /// Whether a flush is waiting (every batch is then sendable).
    pub(crate) fn flush_in_progress(&self) -> bool {
        self.flushes_in_progress.load(Ordering::SeqCst) > 0
    }

    /// Starts a flush: from now on every partition with data is ready.
    pub(crate) fn begin_flush(&self) {
        self.flushes_in_progress.fetch_add(1, Ordering::SeqCst);
    }

    /// Waits until every batch that was incomplete when called has
    /// completed, at most `timeout` (`Duration::MAX`: no limit); ends the
    /// flush started by [`begin_flush`](Self::begin_flush) either way.
    pub(crate) fn await_flush_completion(&self, timeout: Duration) -> Result<(), Error> {
        struct EndFlush<'a>(&'a AtomicUsize);
        impl Drop for EndFlush<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let _end = EndFlush(&self.flushes_in_progress);
        let deadline = self.clock.now().checked_add(timeout);
        let mut waiting: Vec<Arc<ProduceRequestResult>> =
            self.incomplete.all().into_iter().map(|(_, r)| r).collect();
        while let Some(result) = waiting.pop() {
            if !result.await_until(deadline) {
                return Err(Error::Timeout(format!(
                    "Flush did not complete within {} ms",
                    timeout.as_millis()
                )));
            }
            // A split batch's records live on in the new batches, which
            // may have been made after the flush started.
            if let Some(targets) = result.split_targets() {
                waiting.extend(targets);
            }
        }
        Ok(())
    }

    /// Whether any batch (queued or in flight) has not been deallocated.
    pub(crate) fn has_incomplete(&self) -> bool {
        !self.incomplete.is_empty()
    }

    /// Whether any deque still holds batches.
    pub(crate) fn has_undrained(&self) -> bool {
        let mut undrained = false;
        self.for_each_deque(|dq| undrained |= !dq.lock().is_empty());
        undrained
    }

    /// Stops a partition from being drained (ordering with one request in
    /// flight per partition).
    pub(crate) fn mute_partition(&self, tp: &TopicPartition) {
        self.muted.lock().insert(tp.clone());
    }

    /// Lets a muted partition be drained again.
    pub(crate) fn unmute_partition(&self, tp: &TopicPartition) {
        self.muted.lock().remove(tp);
    }

    /// Closes the accumulator: appends fail from now on, every batch is
    /// sendable, and threads waiting for memory are released.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.pool.close();
    }

    /// Whether [`close`](Self::close) was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Records whether the sender could drain `node` (Java
    /// `updateNodeLatencyStats`): partitions led by a node that had data
    /// ready but could not be drained for longer than
    /// `partitioner.availability.timeout.ms` are avoided by the partitioner.
    pub(crate) fn update_node_latency_stats(&self, node: i32, now: Instant, can_drain: bool) {
        if self.config.partition_availability_timeout.is_zero() {
            return;
        }
        let mut stats = self.node_stats.lock();
        let s = stats.entry(node).or_insert(NodeLatencyStats {
            ready_time: now,
            drain_time: now,
        });
        if can_drain {
            s.drain_time = now;
        }
        s.ready_time = now;
    }

    /// The latency stats of a node, if any.
    #[allow(dead_code)] // tests and metrics
    pub(crate) fn node_latency_stats(&self, node: i32) -> Option<NodeLatencyStats> {
        self.node_stats.lock().get(&node).copied()
    }
}

/// A partition's leader epoch when metadata knows it (Java
/// `MetadataSnapshot.leaderEpochFor`).
fn leader_epoch(info: &PartitionInfo) -> Option<i32> {
    (info.leader_epoch >= 0).then_some(info.leader_epoch)
}

/// A partition among its topic's `parts` (as the cluster lists them).
fn partition_info(parts: &[PartitionInfo], partition: i32) -> Option<&PartitionInfo> {
    // Partitions are sorted by number and usually dense, so the index is a
    // first guess.
    usize::try_from(partition)
        .ok()
        .and_then(|i| parts.get(i))
        .filter(|p| p.tp.partition() == partition)
        .or_else(|| {
            parts
                .binary_search_by_key(&partition, |p| p.tp.partition())
                .ok()
                .map(|i| &parts[i])
        })
}
