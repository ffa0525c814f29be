//! The built-in partitioner (Java `BuiltInPartitioner`, KIP-794): where an
//! unkeyed record goes when the user configured no partitioner, and the
//! murmur2 mapping for keyed records.
//!
//! Unkeyed records stick to one partition until about `batch.size` bytes
//! have gone there, then switch. There is one `BuiltInPartitioner` per topic,
//! owned by the `RecordAccumulator`, which drives it like this:
//!
//! ```text
//!   info = peek_current_partition_info(cluster)   which deque to lock
//!   lock batches[info.partition()]
//!     if is_partition_changed(info): unlock, start over (another thread switched)
//!     append the record
//!     update_partition_info(info, appended_bytes, cluster, enable_switch)
//!   unlock
//! ```
//!
//! The switch happens once `sticky_batch_size` bytes were produced and the
//! caller allows it (its last batch is full, so switching does not leave a
//! small batch behind), and unconditionally at twice that.
//!
//! The next partition is drawn at random: uniformly over the partitions with
//! a leader when there are no load statistics, otherwise weighted against
//! queue length (adaptive partitioning), from statistics that
//! `RecordAccumulator::ready` feeds to
//! [`BuiltInPartitioner::update_partition_load_stats`].
//!
//! The random numbers come from a small per-thread generator (wyrand, seeded
//! from the standard library's randomly keyed hasher), which stands in for
//! Java's `ThreadLocalRandom` without a dependency; tests inject their own.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::RwLock;

use crate::common::Cluster;
use crate::util::murmur2::{self, to_positive};

/// The current sticky partition of a topic and the bytes produced to it
/// since it was chosen. Compared by identity: a new one, with the next
/// generation number, is made on every switch.
#[derive(Debug)]
pub(crate) struct StickyPartitionInfo {
    index: i32,
    /// Unique per partitioner and increasing from 1: two infos of one
    /// partitioner are the same object iff their generations are equal.
    generation: u64,
    produced_bytes: AtomicUsize,
}

impl StickyPartitionInfo {
    fn new(index: i32, generation: u64) -> Self {
        StickyPartitionInfo {
            index,
            generation,
            produced_bytes: AtomicUsize::new(0),
        }
    }

    /// The partition records go to.
    pub(crate) fn partition(&self) -> i32 {
        self.index
    }

    /// Bytes produced to this partition since it was chosen.
    #[allow(dead_code)] // tests
    pub(crate) fn produced_bytes(&self) -> usize {
        self.produced_bytes.load(Ordering::Relaxed)
    }
}

/// Adaptive partitioning's view of the queues: a cumulative frequency table
/// over the partitions that were not excluded.
#[derive(Debug)]
struct PartitionLoadStats {
    /// Strictly increasing running sums of `max + 1 - queue size`. Kept in
    /// `i64` so that no queue sizes can overflow it (Java uses `int`; the
    /// results agree for every size Java can handle).
    cumulative_frequency_table: Vec<i64>,
    /// The partition each entry stands for.
    partition_ids: Vec<i32>,
}

/// The source of random `i32`s (Java `ThreadLocalRandom.nextInt()`).
type RandomSource = Box<dyn Fn() -> i32 + Send + Sync>;

/// Sticky and adaptive partitioning for one topic.
pub(crate) struct BuiltInPartitioner {
    topic: Arc<str>,
    sticky_batch_size: usize,
    // Held only to clone or replace an `Arc`. The append path reads
    // `generation` instead (a plain load, no lock) and takes this only when
    // the sticky partition changed since the caller last looked.
    sticky: RwLock<Option<Arc<StickyPartitionInfo>>>,
    /// The generation of the current sticky info, 0 before the first one;
    /// stored after `sticky` is replaced, under its write lock.
    generation: AtomicU64,
    load_stats: RwLock<Option<Arc<PartitionLoadStats>>>,
    random: Option<RandomSource>,
}

impl BuiltInPartitioner {
    /// A partitioner for `topic` that switches after `sticky_batch_size`
    /// bytes (`batch.size`; values below 1 are taken as 1, as
    /// `KafkaProducer` does).
    pub(crate) fn new(topic: Arc<str>, sticky_batch_size: usize) -> Self {
        BuiltInPartitioner {
            topic,
            sticky_batch_size: sticky_batch_size.max(1),
            sticky: RwLock::new(None),
            generation: AtomicU64::new(0),
            load_stats: RwLock::new(None),
            random: None,
        }
    }

    /// For tests: replaces the random source (Java's `mockRandom`). Its
    /// values go through `to_positive`, as `ThreadLocalRandom`'s do.
    #[allow(dead_code)] // tests inject the random source
    pub(crate) fn with_random(mut self, random: RandomSource) -> Self {
        self.random = Some(random);
        self
    }

    fn random(&self) -> i32 {
        match &self.random {
            Some(random) => random(),
            None => thread_random_i32(),
        }
    }

    /// Chooses the partition to switch to.
    fn next_partition(&self, cluster: &Cluster) -> i32 {
        // to_positive gives 0..=i32::MAX, so the cast is lossless.
        let random = to_positive(self.random()) as usize;
        let stats = self.load_stats.read().clone();
        let partition = match stats {
            None => {
                let available = cluster.available_partitions_for_topic(&self.topic);
                if available.is_empty() {
                    // No leader anywhere: pick among all partitions.
                    match cluster.partition_count(&self.topic) {
                        // The accumulator partitions only for a topic whose
                        // metadata it has, so the count is known and at least
                        // 1; 0 keeps a missing topic from panicking.
                        Some(n) if n > 0 => (random % n) as i32,
                        _ => 0,
                    }
                } else {
                    available[random % available.len()]
                }
            }
            Some(stats) => {
                let cft = &stats.cumulative_frequency_table;
                // Built with at least one entry, each weight at least 1.
                let range = cft[cft.len() - 1];
                let weighted = (random as i64) % range;
                // The first entry strictly greater than `weighted`: what
                // Java gets from `abs(binarySearch(...) + 1)`.
                let index = cft.partition_point(|&v| v <= weighted);
                stats.partition_ids[index]
            }
        };
        log::trace!("Switching to partition {partition} in topic {}", self.topic);
        partition
    }

    /// The current sticky partition, choosing one if there is none yet.
    /// When two threads race to choose the first one, both get the winner's.
    #[allow(dead_code)] // tests; the accumulator peeks through its cache
    pub(crate) fn peek_current_partition_info(
        &self,
        cluster: &Cluster,
    ) -> Arc<StickyPartitionInfo> {
        let mut cached = None;
        Arc::clone(self.peek_cached(&mut cached, cluster))
    }

    /// [`peek_current_partition_info`](Self::peek_current_partition_info)
    /// through a caller's cache: when `cached` is still the current info
    /// (one atomic load tells), it is returned without a lock or a
    /// reference count change; otherwise `cached` is refreshed first.
    pub(crate) fn peek_cached<'c>(
        &self,
        cached: &'c mut Option<Arc<StickyPartitionInfo>>,
        cluster: &Cluster,
    ) -> &'c Arc<StickyPartitionInfo> {
        let current = self.generation.load(Ordering::Acquire);
        let fresh = matches!(cached, Some(info) if info.generation == current);
        if !fresh {
            *cached = Some(self.load_current(cluster));
        }
        // Set just above when it was not already.
        cached.get_or_insert_with(|| self.load_current(cluster))
    }

    fn load_current(&self, cluster: &Cluster) -> Arc<StickyPartitionInfo> {
        if let Some(info) = self.sticky.read().as_ref() {
            return Arc::clone(info);
        }
        // Chosen before taking the write lock, as Java does before its CAS.
        let index = self.next_partition(cluster);
        let mut sticky = self.sticky.write();
        match sticky.as_ref() {
            Some(winner) => Arc::clone(winner),
            None => {
                let first = Arc::new(StickyPartitionInfo::new(index, 1));
                *sticky = Some(Arc::clone(&first));
                self.generation.store(1, Ordering::Release);
                first
            }
        }
    }

    /// Whether another thread switched away from `info` since it was peeked.
    /// Call it with the partition's deque locked. `None` (the record did not
    /// use the built-in partitioner) never changed.
    ///
    /// A switch away from `info` happens under the lock of `info`'s deque
    /// (in [`update_partition_info`](Self::update_partition_info)), so a
    /// caller holding that lock sees its generation store.
    pub(crate) fn is_partition_changed(&self, info: Option<&Arc<StickyPartitionInfo>>) -> bool {
        match info {
            None => false,
            Some(info) => self.generation.load(Ordering::Acquire) != info.generation,
        }
    }

    /// Counts `appended_bytes` against the sticky partition and switches to
    /// a new one when enough went there. Call it with the partition's deque
    /// locked, after [`BuiltInPartitioner::is_partition_changed`] said no.
    /// `enable_switch` is false while the partition's last batch is not
    /// full; the switch then waits, but not beyond twice the batch size.
    pub(crate) fn update_partition_info(
        &self,
        info: Option<&Arc<StickyPartitionInfo>>,
        appended_bytes: usize,
        cluster: &Cluster,
        enable_switch: bool,
    ) {
        let Some(info) = info else { return };
        debug_assert!(
            !self.is_partition_changed(Some(info)),
            "update_partition_info on a stale sticky partition"
        );
        // Every caller updating `info` holds the lock of `info`'s deque
        // (see above), so this read-modify-write needs no atomic one (a
        // locked instruction per record).
        let produced = info
            .produced_bytes
            .load(Ordering::Relaxed)
            .saturating_add(appended_bytes);
        info.produced_bytes.store(produced, Ordering::Relaxed);
        let twice = self.sticky_batch_size.saturating_mul(2);
        if produced >= twice {
            log::trace!(
                "Produced {produced} bytes, exceeding twice the batch size of {} bytes, with switching set to {enable_switch}",
                self.sticky_batch_size
            );
        }
        if (produced >= self.sticky_batch_size && enable_switch) || produced >= twice {
            let index = self.next_partition(cluster);
            let mut sticky = self.sticky.write();
            let generation = info.generation + 1;
            *sticky = Some(Arc::new(StickyPartitionInfo::new(index, generation)));
            self.generation.store(generation, Ordering::Release);
        }
    }

    /// Feeds adaptive partitioning with the queue sizes (in batches) of the
    /// topic's partitions that have a leader, `partition_ids` naming them
    /// (the two have equal length). Only the first `length` count: the
    /// caller moved the partitions it excluded for slowness past them.
    /// `None`, no partition left, fewer than 2 partitions, or equal queues
    /// with none excluded all mean uniform choice.
    pub(crate) fn update_partition_load_stats(
        &self,
        queue_sizes: Option<&[i32]>,
        partition_ids: &[i32],
        length: usize,
    ) {
        let stats =
            queue_sizes.and_then(|sizes| self.build_load_stats(sizes, partition_ids, length));
        *self.load_stats.write() = stats.map(Arc::new);
    }

    fn build_load_stats(
        &self,
        queue_sizes: &[i32],
        partition_ids: &[i32],
        length: usize,
    ) -> Option<PartitionLoadStats> {
        debug_assert_eq!(queue_sizes.len(), partition_ids.len());
        debug_assert!(length <= queue_sizes.len());
        let length = length.min(queue_sizes.len()).min(partition_ids.len());
        // The full length is the topic's partition count (with a leader): with
        // one partition there is nothing to balance, unless some were
        // excluded, which adaptive logic still has to honour.
        if length < 1 || queue_sizes.len() < 2 {
            log::trace!(
                "The number of partitions is too small: available={length}, all={}, not using adaptive for topic {}",
                queue_sizes.len(),
                self.topic
            );
            return None;
        }
        let sizes = &queue_sizes[..length];
        let first = sizes[0];
        let all_equal = sizes.iter().all(|&s| s == first);
        if all_equal && length == queue_sizes.len() {
            log::trace!(
                "All queue lengths are the same, not using adaptive for topic {}",
                self.topic
            );
            return None;
        }
        // Invert the sizes (a short queue gets a high weight) and make the
        // running sum: sizes 0 3 1 give weights 4 1 3 and the table 4 5 8, so
        // a random number in [0, 8) picks partition 0 for 0-3, 1 for 4 and 2
        // for 5-7.
        let max_plus_1 = i64::from(sizes.iter().copied().max().unwrap_or(first)) + 1;
        let mut sum = 0i64;
        let cumulative_frequency_table: Vec<i64> = sizes
            .iter()
            .map(|&s| {
                sum += max_plus_1 - i64::from(s);
                sum
            })
            .collect();
        log::trace!(
            "Partition load stats for topic {}: CFT={cumulative_frequency_table:?}, IDs={:?}, length={length}",
            self.topic,
            &partition_ids[..length]
        );
        Some(PartitionLoadStats {
            cumulative_frequency_table,
            partition_ids: partition_ids[..length].to_vec(),
        })
    }

    /// The partition of a keyed record: `to_positive(murmur2(key)) % n`.
    ///
    /// # Panics
    ///
    /// Panics if `num_partitions` is 0.
    #[allow(dead_code)] // tests compare with the public mapping
    pub(crate) fn partition_for_key(key: &[u8], num_partitions: usize) -> i32 {
        murmur2::partition_for_key(key, num_partitions)
    }
}

impl fmt::Debug for BuiltInPartitioner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BuiltInPartitioner")
            .field("topic", &self.topic)
            .field("sticky_batch_size", &self.sticky_batch_size)
            .field("sticky", &*self.sticky.read())
            .field("load_stats", &*self.load_stats.read())
            .field(
                "random",
                &if self.random.is_some() {
                    "injected"
                } else {
                    "thread-local"
                },
            )
            .finish()
    }
}

/// A random `i32` from this thread's generator (wyrand). Not for secrets:
/// it only spreads records over partitions.
fn thread_random_i32() -> i32 {
    thread_local! {
        static STATE: Cell<u64> = Cell::new(seed());
    }
    STATE.with(|state| {
        let s = state.get().wrapping_add(0xa076_1d64_78bd_642f);
        state.set(s);
        let t = u128::from(s) * u128::from(s ^ 0xe703_7ed1_a0b4_28db);
        // Folding the product's halves, then keeping the low 32 bits.
        ((t >> 64) as u64 ^ t as u64) as i32
    })
}

/// A per-thread seed: `RandomState` keys are random per thread and differ
/// for each new `RandomState`.
fn seed() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(0x5eed);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicI32;
    use std::thread;

    use parking_lot::Mutex;

    use super::*;
    use crate::common::{Node, PartitionInfo, TopicPartition};

    /// A cluster with one topic `t`; `None` marks a leaderless partition.
    fn cluster(leaders: &[Option<i32>]) -> Cluster {
        let nodes = vec![Node::new(0, "a", 9092), Node::new(1, "b", 9092)];
        let parts = leaders
            .iter()
            .zip(0..)
            .map(|(leader, p)| PartitionInfo::new(TopicPartition::new("t", p), *leader))
            .collect();
        Cluster::new(Some("c".into()), nodes, parts)
    }

    /// A partitioner whose random numbers are 0, 1, 2, ... (Java's
    /// `SequentialPartitioner`).
    fn sequential(sticky_batch_size: usize) -> BuiltInPartitioner {
        let counter = AtomicI32::new(0);
        BuiltInPartitioner::new("t".into(), sticky_batch_size)
            .with_random(Box::new(move || counter.fetch_add(1, Ordering::Relaxed)))
    }

    /// A partitioner whose next random number is whatever the test stores.
    fn scripted(sticky_batch_size: usize) -> (BuiltInPartitioner, Arc<AtomicI32>) {
        let value = Arc::new(AtomicI32::new(0));
        let source = Arc::clone(&value);
        let p = BuiltInPartitioner::new("t".into(), sticky_batch_size)
            .with_random(Box::new(move || source.load(Ordering::Relaxed)));
        (p, value)
    }

    /// Appends `bytes` the way the accumulator does; returns the partition
    /// the bytes went to.
    fn append(p: &BuiltInPartitioner, c: &Cluster, bytes: usize, enable_switch: bool) -> i32 {
        let info = p.peek_current_partition_info(c);
        assert!(!p.is_partition_changed(Some(&info)));
        p.update_partition_info(Some(&info), bytes, c, enable_switch);
        info.partition()
    }

    #[test]
    fn switches_after_the_batch_size_when_allowed() {
        let c = cluster(&[Some(0), Some(1), Some(0)]);
        let p = sequential(3);
        assert_eq!(append(&p, &c, 1, true), 0);
        assert_eq!(append(&p, &c, 1, true), 0);
        assert_eq!(append(&p, &c, 1, true), 0);
        // 3 bytes reached: switched to the next random choice.
        assert_eq!(p.peek_current_partition_info(&c).partition(), 1);
        assert_eq!(p.peek_current_partition_info(&c).produced_bytes(), 0);
        // A single large append also switches.
        assert_eq!(append(&p, &c, 10, true), 1);
        assert_eq!(p.peek_current_partition_info(&c).partition(), 2);
    }

    #[test]
    fn without_permission_switches_only_at_twice_the_batch_size() {
        let c = cluster(&[Some(0), Some(1), Some(0)]);
        let p = sequential(3);
        for _ in 0..5 {
            assert_eq!(append(&p, &c, 1, false), 0);
        }
        let info = p.peek_current_partition_info(&c);
        assert_eq!(info.partition(), 0);
        assert_eq!(info.produced_bytes(), 5);
        // The sixth byte reaches 2 x 3: switched regardless.
        assert_eq!(append(&p, &c, 1, false), 0);
        assert_eq!(p.peek_current_partition_info(&c).partition(), 1);
        assert!(p.is_partition_changed(Some(&info)));
    }

    #[test]
    fn a_deferred_switch_happens_on_the_next_permitted_append() {
        let c = cluster(&[Some(0), Some(1)]);
        let p = sequential(4);
        assert_eq!(append(&p, &c, 5, false), 0);
        assert_eq!(p.peek_current_partition_info(&c).partition(), 0);
        // Past the batch size already: a 0-byte update with permission
        // switches (the accumulator does this when the last batch is full).
        let info = p.peek_current_partition_info(&c);
        p.update_partition_info(Some(&info), 0, &c, true);
        assert!(p.is_partition_changed(Some(&info)));
    }

    #[test]
    fn uniform_choice_is_over_partitions_with_a_leader() {
        let c = cluster(&[Some(0), None, Some(1), None, Some(0)]);
        let p = sequential(1);
        let chosen: Vec<i32> = (0..7).map(|_| append(&p, &c, 1, true)).collect();
        assert_eq!(chosen, [0, 2, 4, 0, 2, 4, 0]);

        // No partition has a leader: all partitions are candidates.
        let none = cluster(&[None, None, None]);
        let p = sequential(1);
        let chosen: Vec<i32> = (0..4).map(|_| append(&p, &none, 1, true)).collect();
        assert_eq!(chosen, [0, 1, 2, 0]);
    }

    #[test]
    fn random_values_are_made_positive_by_clearing_the_sign_bit() {
        let c = cluster(&[Some(0), Some(0), Some(0)]);
        let (p, random) = scripted(1);
        // to_positive(-2) = 0x7ffffffe, which is 0 mod 3 (abs would give 2).
        random.store(-2, Ordering::Relaxed);
        assert_eq!(p.next_partition(&c), 0);
        random.store(i32::MIN, Ordering::Relaxed);
        assert_eq!(p.next_partition(&c), 0);
        random.store(-1, Ordering::Relaxed);
        assert_eq!(p.next_partition(&c), 1);
    }

    #[test]
    fn load_stats_map_random_numbers_through_the_cumulative_table() {
        let c = cluster(&[Some(0), Some(1), Some(0)]);
        let (p, random) = scripted(1);
        // Queue sizes 0 3 1 -> weights 4 1 3 -> CFT 4 5 8. The ids are
        // shuffled to show that the table indexes them, not the partitions.
        p.update_partition_load_stats(Some(&[0, 3, 1]), &[2, 0, 1], 3);
        let table = p.load_stats.read().clone().unwrap();
        assert_eq!(table.cumulative_frequency_table, [4, 5, 8]);
        for (r, expected) in [
            (0, 2),
            (3, 2),
            (4, 0),
            (5, 1),
            (7, 1),
            (8, 2),
            (12, 0),
            (13, 1),
        ] {
            random.store(r, Ordering::Relaxed);
            assert_eq!(p.next_partition(&c), expected, "random {r}");
        }
        // Back to uniform when the stats go away.
        p.update_partition_load_stats(None, &[], 0);
        random.store(5, Ordering::Relaxed);
        assert_eq!(
            p.next_partition(&c),
            2,
            "5 mod 3 over the available partitions"
        );
    }

    #[test]
    fn adaptive_frequencies_are_inverse_to_queue_sizes() {
        // Java's adaptivePartitionsTest: sizes 5 0 3 0 1, two full cycles.
        let c = cluster(&[Some(0), Some(1), Some(0), Some(1), Some(0)]);
        let p = sequential(1);
        p.update_partition_load_stats(Some(&[5, 0, 3, 0, 1]), &[0, 1, 2, 3, 4], 5);
        let mut counts = [0; 5];
        for _ in 0..2 * 21 {
            counts[append(&p, &c, 1, true) as usize] += 1;
        }
        assert_eq!(counts, [2, 12, 6, 12, 10]);
    }

    #[test]
    fn excluded_partitions_are_never_chosen() {
        let c = cluster(&[Some(0), Some(1), Some(0)]);
        let (p, random) = scripted(1);
        // Partition 1 was excluded (moved past `length`); the others have
        // equal queues, but an exclusion keeps the stats in force.
        p.update_partition_load_stats(Some(&[2, 2, 7]), &[0, 2, 1], 2);
        for r in 0..10 {
            random.store(r, Ordering::Relaxed);
            assert_eq!(p.next_partition(&c), [0, 2][r as usize % 2], "random {r}");
        }
        // Only one partition left still counts.
        p.update_partition_load_stats(Some(&[2, 2, 7]), &[2, 0, 1], 1);
        for r in 0..4 {
            random.store(r, Ordering::Relaxed);
            assert_eq!(p.next_partition(&c), 2);
        }
    }

    #[test]
    fn stats_fall_back_to_uniform_when_they_carry_no_information() {
        let (p, _) = scripted(1);
        let uniform = |p: &BuiltInPartitioner| p.load_stats.read().is_none();
        p.update_partition_load_stats(Some(&[1, 3]), &[0, 1], 2);
        assert!(!uniform(&p));
        // All excluded.
        p.update_partition_load_stats(Some(&[1, 3]), &[0, 1], 0);
        assert!(uniform(&p));
        p.update_partition_load_stats(Some(&[1, 3]), &[0, 1], 2);
        // Fewer than 2 partitions.
        p.update_partition_load_stats(Some(&[4]), &[0], 1);
        assert!(uniform(&p));
        p.update_partition_load_stats(Some(&[1, 3]), &[0, 1], 2);
        // All equal, none excluded.
        p.update_partition_load_stats(Some(&[3, 3, 3]), &[0, 1, 2], 3);
        assert!(uniform(&p));
        p.update_partition_load_stats(Some(&[1, 3]), &[0, 1], 2);
        p.update_partition_load_stats(None, &[], 0);
        assert!(uniform(&p));
    }

    #[test]
    fn the_first_peek_is_shared_and_none_never_changes() {
        let c = cluster(&[Some(0), Some(1)]);
        let p = sequential(100);
        let a = p.peek_current_partition_info(&c);
        let b = p.peek_current_partition_info(&c);
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!p.is_partition_changed(None));
        // A record that did not use the built-in partitioner: no effect.
        p.update_partition_info(None, 1000, &c, true);
        assert!(!p.is_partition_changed(Some(&a)));
        assert_eq!(a.produced_bytes(), 0);
    }

    #[test]
    fn a_cached_peek_is_kept_until_a_switch() {
        let c = cluster(&[Some(0), Some(1), Some(0)]);
        let p = sequential(3);
        let mut cache = None;
        let first = Arc::clone(p.peek_cached(&mut cache, &c));
        assert_eq!(first.partition(), 0);
        // Still current: the very same info comes back.
        assert!(Arc::ptr_eq(p.peek_cached(&mut cache, &c), &first));
        p.update_partition_info(Some(&first), 3, &c, true);
        assert!(p.is_partition_changed(Some(&first)));
        // After the switch the cache follows the partitioner.
        let second = Arc::clone(p.peek_cached(&mut cache, &c));
        assert_eq!(second.partition(), 1);
        assert!(Arc::ptr_eq(&second, &p.peek_current_partition_info(&c)));
        assert!(!p.is_partition_changed(Some(&second)));
        // A switch to the same partition is still a switch.
        let (p, next) = scripted(3);
        let a = p.peek_current_partition_info(&c);
        next.store(a.partition(), Ordering::Relaxed);
        p.update_partition_info(Some(&a), 3, &c, true);
        let b = p.peek_current_partition_info(&c);
        assert_eq!(a.partition(), b.partition());
        assert!(p.is_partition_changed(Some(&a)));
        assert!(!Arc::ptr_eq(&a, &b));
    }

    #[test]
    fn the_thread_local_generator_reaches_every_available_partition() {
        // Java's unavailablePartitionsTest, on the real random source.
        let c = cluster(&[Some(0), None, Some(1), Some(0)]);
        let p = BuiltInPartitioner::new("t".into(), 1);
        let mut seen = [0; 4];
        for _ in 0..200 {
            seen[append(&p, &c, 1, true) as usize] += 1;
        }
        assert_eq!(seen[1], 0, "leaderless partition 1 was chosen");
        assert!(seen[0] > 0 && seen[2] > 0 && seen[3] > 0, "{seen:?}");
    }

    #[test]
    fn concurrent_appends_lose_no_bytes_and_switch_exactly_on_time() {
        const THREADS: usize = 4;
        const APPENDS: usize = 1000;
        const BATCH: usize = 10;
        let c = Arc::new(cluster(&[Some(0), Some(1), None, Some(0), Some(1)]));
        let p = Arc::new(BuiltInPartitioner::new("t".into(), BATCH));
        // The accumulator's per-partition deque locks.
        let deques: Arc<Vec<Mutex<()>>> = Arc::new((0..5).map(|_| Mutex::new(())).collect());
        let retired = Arc::new(Mutex::new(Vec::new()));
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let (c, p, deques, retired) =
                    (c.clone(), p.clone(), deques.clone(), retired.clone());
                thread::spawn(move || {
                    let mut done = 0;
                    while done < APPENDS {
                        let info = p.peek_current_partition_info(&c);
                        let partition = info.partition();
                        assert!([0, 1, 3, 4].contains(&partition), "{partition}");
                        let _deque = deques[partition as usize].lock();
                        if p.is_partition_changed(Some(&info)) {
                            continue;
                        }
                        p.update_partition_info(Some(&info), 1, &c, true);
                        done += 1;
                        if p.is_partition_changed(Some(&info)) {
                            retired.lock().push(info);
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let retired = retired.lock();
        // Every byte counted once: each retired partition got exactly a
        // batch, and the current one got the rest (none).
        assert_eq!(retired.len(), THREADS * APPENDS / BATCH);
        assert!(retired.iter().all(|i| i.produced_bytes() == BATCH));
        assert_eq!(p.peek_current_partition_info(&c).produced_bytes(), 0);
    }

    #[test]
    fn keys_map_like_the_java_vectors() {
        // tests/data/murmur2.tsv, written by the Java client 4.3.0: columns
        // key_hex murmur2 to_positive p1 p2 p3 p7 p12 p100 label.
        let text = include_str!("../../../tests/data/murmur2.tsv");
        let mut rows = 0;
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .skip(1)
        {
            let f: Vec<&str> = line.split('\t').collect();
            let key: Vec<u8> = (0..f[0].len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&f[0][i..i + 2], 16).unwrap())
                .collect();
            for (column, n) in [(3, 1), (4, 2), (5, 3), (6, 7), (7, 12), (8, 100)] {
                let expected: i32 = f[column].parse().unwrap();
                assert_eq!(
                    BuiltInPartitioner::partition_for_key(&key, n),
                    expected,
                    "{line}"
                );
            }
            rows += 1;
        }
        assert_eq!(rows, 319);
    }

    #[test]
    fn debug_names_the_topic() {
        let s = format!("{:?}", sequential(5));
        assert!(s.contains("\"t\"") && s.contains("injected"), "{s}");
    }
}
