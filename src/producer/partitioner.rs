//! Choosing partitions: the [`Partitioner`] trait for user-defined
//! strategies, Java's [`RoundRobinPartitioner`], and
//! [`default_partition_for_key`], the murmur2 mapping every Kafka client
//! uses for keyed records.
//!
//! Without a configured partitioner the producer uses Java's built-in rules:
//! an explicit partition in the record wins, a key maps through
//! [`default_partition_for_key`], and an unkeyed record goes to the topic's
//! current sticky partition (switched after about `batch.size` bytes, and
//! weighted towards partitions with short queues). That logic lives inside
//! the producer and is not a `Partitioner`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};

use parking_lot::RwLock;

use crate::common::Cluster;
use crate::util::murmur2::{self, to_positive};

/// A strategy that decides the partition of each record (Java
/// `Partitioner`, the `partitioner.class` setting).
///
/// The producer calls [`Partitioner::partition`] on the sending thread for
/// every record that does not name its partition, with the key and value
/// already serialized. Implementations are shared between threads, so any
/// state needs interior mutability (atomics or a lock).
///
/// # Example
///
/// A partitioner that reserves partition 0 for records keyed `audit` and
/// spreads the other keys over the remaining partitions:
///
/// ```
/// use kafka_producer::common::{Cluster, Node, PartitionInfo, TopicPartition};
/// use kafka_producer::producer::partitioner::default_partition_for_key;
/// use kafka_producer::producer::Partitioner;
///
/// #[derive(Debug)]
/// struct AuditFirst;
///
/// impl Partitioner for AuditFirst {
///     fn partition(&self, topic: &str, key: Option<&[u8]>, _value: Option<&[u8]>, cluster: &Cluster) -> i32 {
///         let partitions = cluster.partition_count(topic).unwrap_or(1);
///         match key {
///             Some(b"audit") | None => 0,
///             Some(_) if partitions < 2 => 0,
///             Some(key) => 1 + default_partition_for_key(key, partitions - 1),
///         }
///     }
/// }
///
/// let cluster = Cluster::new(
///     None,
///     vec![Node::new(1, "broker", 9092)],
///     (0..4).map(|p| PartitionInfo::new(TopicPartition::new("events", p), Some(1))).collect(),
/// );
/// let partitioner = AuditFirst;
/// assert_eq!(partitioner.partition("events", Some(b"audit"), None, &cluster), 0);
/// let p = partitioner.partition("events", Some(b"user-42"), None, &cluster);
/// assert!((1..4).contains(&p));
/// ```
pub trait Partitioner: Send + Sync + std::fmt::Debug {
    /// The partition for a record (key/value are the serialized bytes).
    fn partition(
        &self,
        topic: &str,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        cluster: &Cluster,
    ) -> i32;

    /// Called when the accumulator is about to start a new batch for a record this partitioner
    /// placed (Java `onNewBatch`, KIP-480); default does nothing.
    ///
    /// The producer then calls [`Partitioner::partition`] again for the same
    /// record, on the same thread, and uses the new answer; a partitioner
    /// that counts calls must not count that second one as a new record.
    fn on_new_batch(&self, _topic: &str, _cluster: &Cluster, _prev_partition: i32) {}

    /// Called once when the producer closes.
    fn close(&self) {}
}

/// The partition Kafka gives a key: `to_positive(murmur2(key)) % num_partitions`
/// (Java `BuiltInPartitioner.partitionForKey`).
///
/// Every Kafka client that follows Java maps keys this way, so a record keyed
/// the same lands on the same partition whoever produced it.
///
/// # Panics
///
/// Panics if `num_partitions` is 0.
#[must_use]
pub fn default_partition_for_key(key: &[u8], num_partitions: usize) -> i32 {
    murmur2::partition_for_key(key, num_partitions)
}

/// Spreads records over a topic's partitions in turn, ignoring keys (Java
/// `RoundRobinPartitioner`).
///
/// Each topic has its own counter, starting at 0. Partitions that have a
/// leader are preferred; when none has, all partitions take turns.
///
/// Like Java's since 4.0 (KAFKA-17632), it answers the second
/// [`Partitioner::partition`] call the producer makes after
/// [`Partitioner::on_new_batch`] with the partition it gave before, so
/// starting a new batch does not skip a partition.
#[derive(Debug)]
pub struct RoundRobinPartitioner {
    /// Identifies this partitioner's entry in the per-thread
    /// [`PREVIOUS_PARTITION`] table.
    id: u64,
    counters: RwLock<HashMap<String, AtomicI32>>,
}

/// Distinct ids for [`RoundRobinPartitioner`]s.
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Java's `ThreadLocal<TopicPartition> previousPartition`, for every
    /// partitioner at once: (partitioner id, topic, partition) set by
    /// `on_new_batch` and taken by the next `partition` call on this thread.
    static PREVIOUS_PARTITION: RefCell<Vec<(u64, String, i32)>> = const { RefCell::new(Vec::new()) };
}

impl RoundRobinPartitioner {
    /// A round-robin partitioner with every topic's counter at 0.
    #[must_use]
    pub fn new() -> Self {
        RoundRobinPartitioner {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            counters: RwLock::new(HashMap::new()),
        }
    }

    /// The topic's counter value, then increments it (wrapping like Java's
    /// `int`).
    fn next_value(&self, topic: &str) -> i32 {
        if let Some(counter) = self.counters.read().get(topic) {
            return counter.fetch_add(1, Ordering::Relaxed);
        }
        self.counters
            .write()
            .entry(topic.to_owned())
            .or_insert_with(|| AtomicI32::new(0))
            .fetch_add(1, Ordering::Relaxed)
    }

    /// Takes this thread's saved partition, if `on_new_batch` left one.
    fn take_previous(&self) -> Option<(String, i32)> {
        PREVIOUS_PARTITION.with(|previous| {
            let mut previous = previous.borrow_mut();
            let i = previous.iter().position(|(id, _, _)| *id == self.id)?;
            let (_, topic, partition) = previous.swap_remove(i);
            Some((topic, partition))
        })
    }
}

impl Default for RoundRobinPartitioner {
    fn default() -> Self {
        RoundRobinPartitioner::new()
    }
}

impl Partitioner for RoundRobinPartitioner {
    fn partition(
        &self,
        topic: &str,
        _key: Option<&[u8]>,
        _value: Option<&[u8]>,
        cluster: &Cluster,
    ) -> i32 {
        // The repeated call after on_new_batch: same record, same partition.
        // A saved partition of another topic is dropped, as in Java.
        if let Some((previous_topic, partition)) = self.take_previous() {
            if previous_topic == topic {
                return partition;
            }
        }
        // to_positive gives 0..=i32::MAX, so the cast is lossless.
        let next = to_positive(self.next_value(topic)) as usize;
        let available = cluster.available_partitions_for_topic(topic);
        if !available.is_empty() {
            return available[next % available.len()];
        }
        // No partition has a leader: give one that has none.
        match cluster.partition_count(topic) {
            // The producer partitions only records of topics whose metadata
            // it has, so the count is at least 1; 0 avoids a panic otherwise.
            Some(n) if n > 0 => (next % n) as i32,
            _ => 0,
        }
    }

    fn on_new_batch(&self, topic: &str, _cluster: &Cluster, prev_partition: i32) {
        PREVIOUS_PARTITION.with(|previous| {
            let mut previous = previous.borrow_mut();
            match previous.iter_mut().find(|(id, _, _)| *id == self.id) {
                Some(entry) => *entry = (self.id, topic.to_owned(), prev_partition),
                None => previous.push((self.id, topic.to_owned(), prev_partition)),
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::thread;

    use super::*;
    use crate::common::{Node, PartitionInfo, TopicPartition};

    fn cluster(topics: &[(&str, &[Option<i32>])]) -> Cluster {
        let nodes = vec![Node::new(0, "a", 9092), Node::new(1, "b", 9092)];
        let mut parts = Vec::new();
        for (topic, leaders) in topics {
            for (leader, p) in leaders.iter().zip(0..) {
                parts.push(PartitionInfo::new(TopicPartition::new(*topic, p), *leader));
            }
        }
        Cluster::new(Some("c".into()), nodes, parts)
    }

    #[test]
    fn cycles_through_partitions_ignoring_keys() {
        let c = cluster(&[("t", &[Some(0), Some(1), Some(0)])]);
        let p = RoundRobinPartitioner::new();
        let got: Vec<i32> = (0..7u8)
            .map(|i| p.partition("t", Some(&[i]), Some(b"v"), &c))
            .collect();
        assert_eq!(got, [0, 1, 2, 0, 1, 2, 0]);
        assert_eq!(p.partition("t", None, None, &c), 1);
    }

    #[test]
    fn prefers_partitions_with_a_leader() {
        let c = cluster(&[
            ("t", &[Some(0), None, Some(1), None]),
            ("dark", &[None, None, None]),
        ]);
        let p = RoundRobinPartitioner::new();
        let got: Vec<i32> = (0..5).map(|_| p.partition("t", None, None, &c)).collect();
        assert_eq!(got, [0, 2, 0, 2, 0]);
        // No leader anywhere: every partition takes its turn.
        let got: Vec<i32> = (0..4)
            .map(|_| p.partition("dark", None, None, &c))
            .collect();
        assert_eq!(got, [0, 1, 2, 0]);
    }

    #[test]
    fn each_topic_has_its_own_counter() {
        let c = cluster(&[
            ("a", &[Some(0), Some(1)]),
            ("b", &[Some(0), Some(1), Some(1)]),
        ]);
        let p = RoundRobinPartitioner::new();
        assert_eq!(p.partition("a", None, None, &c), 0);
        assert_eq!(p.partition("a", None, None, &c), 1);
        assert_eq!(p.partition("b", None, None, &c), 0);
        assert_eq!(p.partition("a", None, None, &c), 0);
        assert_eq!(p.partition("b", None, None, &c), 1);
    }

    #[test]
    fn the_call_after_on_new_batch_repeats_the_partition() {
        let c = cluster(&[("a", &[Some(0), Some(1)]), ("b", &[Some(0), Some(1)])]);
        let p = RoundRobinPartitioner::new();
        let first = p.partition("a", None, None, &c);
        p.on_new_batch("a", &c, first);
        assert_eq!(p.partition("a", None, None, &c), first);
        // Used once only.
        assert_eq!(p.partition("a", None, None, &c), 1);
        // A saved partition of another topic is dropped, not used.
        p.on_new_batch("b", &c, 1);
        assert_eq!(p.partition("a", None, None, &c), 0);
        assert_eq!(p.partition("b", None, None, &c), 0);
        // Saved per partitioner: another instance is unaffected.
        let other = RoundRobinPartitioner::new();
        p.on_new_batch("a", &c, 1);
        assert_eq!(other.partition("a", None, None, &c), 0);
        assert_eq!(p.partition("a", None, None, &c), 1);
    }

    #[test]
    fn the_saved_partition_belongs_to_the_thread_that_saved_it() {
        let c = Arc::new(cluster(&[("a", &[Some(0), Some(1), Some(0)])]));
        let p = Arc::new(RoundRobinPartitioner::new());
        p.on_new_batch("a", &c, 2);
        let from_other_thread = {
            let (p, c) = (Arc::clone(&p), Arc::clone(&c));
            thread::spawn(move || p.partition("a", None, None, &c))
                .join()
                .unwrap()
        };
        assert_eq!(from_other_thread, 0, "the other thread used the counter");
        assert_eq!(p.partition("a", None, None, &c), 2);
    }

    #[test]
    fn new_batches_do_not_skip_partitions() {
        // KAFKA-9965 / KAFKA-17632: the producer asks again after every new
        // batch. With a batch per record and an even partition count, a
        // counter that advanced on both calls would use only odd partitions.
        let c = cluster(&[("t", &[Some(0), Some(1), Some(0), Some(1)])]);
        let p = RoundRobinPartitioner::new();
        let mut counts = [0; 4];
        for _ in 0..40 {
            let first = p.partition("t", None, None, &c);
            p.on_new_batch("t", &c, first);
            let used = p.partition("t", None, None, &c);
            counts[used as usize] += 1;
        }
        assert_eq!(counts, [10; 4]);
    }

    #[test]
    fn the_counter_wraps_like_a_java_int() {
        let c = cluster(&[("t", &[Some(0), Some(1), Some(0)])]);
        let p = RoundRobinPartitioner::new();
        p.counters
            .write()
            .insert("t".into(), AtomicI32::new(i32::MAX));
        // i32::MAX % 3 = 1, then i32::MIN clears to 0.
        assert_eq!(p.partition("t", None, None, &c), 1);
        assert_eq!(p.partition("t", None, None, &c), 0);
        assert_eq!(
            p.partition("t", None, None, &c),
            1,
            "to_positive(MIN + 1) = 1"
        );
    }

    #[test]
    fn default_partition_for_key_is_kafkas_mapping() {
        // From murmur2.tsv (Java 4.3.0): the empty key hashes to 275646681.
        assert_eq!(default_partition_for_key(b"", 100), 275_646_681 % 100);
    }

    #[test]
    fn partitioners_are_object_safe_and_shareable() {
        fn check<T: Send + Sync + 'static>() {}
        check::<Arc<dyn Partitioner>>();
        let p: Box<dyn Partitioner> = Box::new(RoundRobinPartitioner::default());
        p.close();
    }
}
