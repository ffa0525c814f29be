//! Unit tests of `ready` and `drain` (JAVA-PRODUCER.md §3 items 30-35, G-2).

use std::collections::HashSet;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::ready_drain::{HeadState, ReadyCheckResult};
use super::tests::{config, tp, Fixture, BACKOFF_MS, BATCH, LINGER_MS};
use super::AccumulatorConfig;
use crate::common::{Cluster, Node, PartitionInfo, TopicPartition};
use crate::producer::internals::transaction_manager::{ProducerIdAndEpoch, TransactionManager};
use crate::record::NO_SEQUENCE;
use crate::util::clock::Clock;

const VALUE: &[u8] = &[7u8; 100];
/// One record of `VALUE` in a batch: 61 + 109 bytes.
const ONE_RECORD_BATCH: usize = 170;

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

#[test]
fn rule30_unknown_leader_topic_with_data_is_reported() {
    let f = Fixture::new();
    f.append(&TopicPartition::new("u", 0), VALUE);
    let r = f.acc.ready(&f.cluster, f.clock.now());
    assert_eq!(
        r.unknown_leader_topics
            .iter()
            .map(|t| &**t)
            .collect::<Vec<_>>(),
        vec!["u"]
    );
    assert!(r.ready_nodes.is_empty());
    // Once its deque is empty (the batch expired) the topic is not reported.
    f.ms(super::tests::DELIVERY_MS);
    let expired = f.acc.expired_batches(f.clock.now());
    assert_eq!(expired.len(), 1);
    assert!(f
        .acc
        .ready(&f.cluster, f.clock.now())
        .unknown_leader_topics
        .is_empty());
}

#[test]
fn rule30_partition_is_ready_once_linger_passed_and_reports_the_time_left() {
    let f = Fixture::new();
    f.append(&tp(0), VALUE);
    let r = f.acc.ready(&f.cluster, f.clock.now());
    assert!(r.ready_nodes.is_empty());
    assert_eq!(r.next_ready_check_delay, ms(LINGER_MS));
    f.ms(4);
    assert_eq!(
        f.acc
            .ready(&f.cluster, f.clock.now())
            .next_ready_check_delay,
        ms(LINGER_MS - 4)
    );
    f.ms(LINGER_MS - 4);
    let r = f.acc.ready(&f.cluster, f.clock.now());
    assert_eq!(r.ready_nodes, f.nodes(&[1]));
    assert_eq!(r.next_ready_check_delay, Duration::MAX);
}

#[test]
fn rule30_full_batch_or_second_batch_is_ready_before_linger() {
    let f = Fixture::new();
    f.fill_batch(&tp(0), VALUE);
    assert_eq!(
        f.acc.ready(&f.cluster, f.clock.now()).ready_nodes,
        f.nodes(&[1])
    );
    // A single batch that is exactly full: nine 98-byte values make
    // 107-byte records, 61 + 9 * 107 = 1024.
    for _ in 0..9 {
        f.append(&tp(1), &[0u8; 98]);
    }
    assert_eq!(f.acc.queued_batches(&tp(1)), 1);
    assert!(f.acc.with_deque(&tp(1), |dq| dq[0].is_full()).unwrap());
    assert_eq!(
        f.acc.ready(&f.cluster, f.clock.now()).ready_nodes,
        f.nodes(&[1, 2])
    );
}

#[test]
fn rule30_backing_off_batch_is_not_ready_even_if_sendable() {
    let f = Fixture::new();
    f.append(&tp(0), VALUE);
    f.acc.close(); // sendable regardless of linger
    let mut drained = f.drain_node(1, usize::MAX);
    f.acc.reenqueue(drained.pop().unwrap(), f.clock.now());
    let r = f.acc.ready(&f.cluster, f.clock.now());
    assert!(r.ready_nodes.is_empty(), "backing off beats closed");
    assert_eq!(r.next_ready_check_delay, ms(BACKOFF_MS));
    f.ms(40);
    assert_eq!(
        f.acc
            .ready(&f.cluster, f.clock.now())
            .next_ready_check_delay,
        ms(BACKOFF_MS - 40)
    );
    f.ms(BACKOFF_MS - 40);
    assert_eq!(
        f.acc.ready(&f.cluster, f.clock.now()).ready_nodes,
        f.nodes(&[1])
    );
}

#[test]
fn rule30_node_already_ready_is_not_reexamined() {
    let f = Fixture::new();
    let mut result = ReadyCheckResult {
        ready_nodes: HashSet::from([1]),
        next_ready_check_delay: Duration::MAX,
        unknown_leader_topics: HashSet::new(),
    };
    let waiting = HeadState {
        waited: ms(1),
        backing_off: false,
        attempts: 0,
        deque_size: 1,
        full: false,
    };
    let muted = HashSet::new();
    // Node 1 is ready already: its other partitions change nothing.
    f.acc
        .batch_ready(false, &tp(2), 1, &waiting, &muted, &mut result);
    assert_eq!(result.next_ready_check_delay, Duration::MAX);
    // Node 2 is not: the same partition state shortens the delay.
    f.acc
        .batch_ready(false, &tp(1), 2, &waiting, &muted, &mut result);
    assert_eq!(result.next_ready_check_delay, ms(LINGER_MS - 1));
    assert_eq!(result.ready_nodes, HashSet::from([1]));
}

#[test]
fn rule30_muted_partitions_are_skipped() {
    let f = Fixture::new();
    f.append(&tp(0), VALUE);
    f.acc.mute_partition(&tp(0));
    f.ms(LINGER_MS);
    let r = f.acc.ready(&f.cluster, f.clock.now());
    assert!(r.ready_nodes.is_empty());
    assert_eq!(r.next_ready_check_delay, Duration::MAX, "not even a delay");
    f.acc.unmute_partition(&tp(0));
    assert_eq!(
        f.acc.ready(&f.cluster, f.clock.now()).ready_nodes,
        f.nodes(&[1])
    );
}

#[test]
fn rule31_next_ready_check_delay_and_expiry_time_bound_the_poll() {
    let f = Fixture::new();
    let r = f.acc.ready(&f.cluster, f.clock.now());
    assert_eq!(r.next_ready_check_delay, Duration::MAX);
    let t0 = f.clock.now();
    f.append(&tp(0), VALUE);
    f.ms(3);
    f.append(&tp(1), VALUE);
    // The earliest partition to become ready decides: tp0 in 7 ms.
    assert_eq!(
        f.acc
            .ready(&f.cluster, f.clock.now())
            .next_ready_check_delay,
        ms(LINGER_MS - 3)
    );
    assert_eq!(f.acc.next_expiry_time(), None);
    f.acc.reset_next_batch_expiry_time();
    assert!(f.acc.expired_batches(f.clock.now()).is_empty());
    assert_eq!(
        f.acc.next_expiry_time(),
        Some(t0 + ms(super::tests::DELIVERY_MS))
    );
}

#[test]
fn rule32_drain_respects_max_request_size_but_always_takes_the_first_batch() {
    let f = Fixture::new();
    f.append(&tp(0), VALUE);
    f.append(&tp(2), VALUE);
    f.acc.begin_flush(); // everything sendable, appends still allowed
                         // Room for one batch only: the second partition waits for the next
                         // request.
    let first = f.drain_node(1, ONE_RECORD_BATCH + 10);
    assert_eq!(first.len(), 1);
    let second = f.drain_node(1, ONE_RECORD_BATCH + 10);
    assert_eq!(second.len(), 1);
    assert_ne!(first[0].topic_partition(), second[0].topic_partition());
    // Both fit in a larger request.
    f.append(&tp(0), VALUE);
    f.append(&tp(2), VALUE);
    assert_eq!(f.drain_node(1, 2 * ONE_RECORD_BATCH).len(), 2);
    // A batch larger than the request size still goes, alone.
    f.append(&tp(0), VALUE);
    let alone = f.drain_node(1, 10);
    assert_eq!(alone.len(), 1);
    assert_eq!(alone[0].records().len(), ONE_RECORD_BATCH);
}

#[test]
fn rule32_one_batch_per_partition_per_drain() {
    let f = Fixture::new();
    f.fill_batch(&tp(0), VALUE);
    f.fill_batch(&tp(0), VALUE);
    assert_eq!(f.acc.queued_batches(&tp(0)), 3);
    f.acc.close();
    for left in [2, 1, 0] {
        let drained = f.drain_node(1, usize::MAX);
        assert_eq!(drained.len(), 1);
        assert_eq!(f.acc.queued_batches(&tp(0)), left);
    }
    assert!(f.drain_node(1, usize::MAX).is_empty());
}

#[test]
fn rule32_drain_skips_muted_empty_and_backing_off_partitions() {
    let f = Fixture::new();
    f.append(&tp(0), VALUE); // will back off
    f.append(&tp(2), VALUE); // will be muted
    f.acc.close();
    let drained = f.drain_node(1, usize::MAX);
    assert_eq!(drained.len(), 2);
    for b in drained {
        f.acc.reenqueue(b, f.clock.now());
    }
    f.acc.mute_partition(&tp(2));
    f.ms(BACKOFF_MS - 1);
    // tp0 backs off, tp2 is muted; the nodes' other partitions are empty.
    assert!(f.drain_node(1, usize::MAX).is_empty());
    f.ms(1);
    let drained = f.drain_node(1, usize::MAX);
    assert_eq!(drained.len(), 1);
    assert_eq!(drained[0].topic_partition(), &tp(0));
    f.acc.unmute_partition(&tp(2));
    assert_eq!(f.drain_node(1, usize::MAX)[0].topic_partition(), &tp(2));
}

#[test]
fn rule32_drain_start_rotates_per_node() {
    let f = Fixture::new();
    for p in 0..4 {
        f.fill_batch(&tp(p), VALUE);
        f.fill_batch(&tp(p), VALUE);
    }
    f.acc.close();
    let max = BATCH; // one full batch per request
    let order: Vec<i32> = (0..4)
        .map(|_| f.drain_node(1, max)[0].topic_partition().partition())
        .collect();
    // The partition that did not fit comes first next time.
    assert_eq!(order, vec![0, 2, 0, 2]);
    // Node 2 keeps its own index.
    let order: Vec<i32> = (0..2)
        .map(|_| f.drain_node(2, max)[0].topic_partition().partition())
        .collect();
    assert_eq!(order, vec![1, 3]);
}

#[test]
fn rule32_drained_batches_are_closed_and_stamped() {
    let f = Fixture::new();
    f.append(&tp(0), VALUE);
    f.append(&tp(0), VALUE);
    f.ms(LINGER_MS);
    let now = f.clock.now();
    let b = f.drain_node(1, usize::MAX).pop().unwrap();
    assert!(b.is_closed());
    assert_eq!(b.drained_at(), Some(now));
    let bytes = b.records();
    assert_eq!(bytes.len(), 61 + 2 * 109);
    assert_eq!(bytes[16], 2, "magic");
    assert_eq!(i32::from_be_bytes(bytes[57..61].try_into().unwrap()), 2);
    assert_eq!(
        i32::from_be_bytes(bytes[53..57].try_into().unwrap()),
        NO_SEQUENCE
    );
}

#[test]
fn rule33_retried_batch_waits_for_its_exponential_backoff() {
    let f = Fixture::new();
    f.append(&tp(0), VALUE);
    f.acc.close();
    let mut b = f.drain_node(1, usize::MAX).pop().unwrap();
    for (attempt, backoff) in [(1, BACKOFF_MS), (2, 2 * BACKOFF_MS), (3, 4 * BACKOFF_MS)] {
        f.acc.reenqueue(b, f.clock.now());
        f.ms(backoff - 1);
        assert!(f
            .acc
            .ready(&f.cluster, f.clock.now())
            .ready_nodes
            .is_empty());
        assert!(f.drain_node(1, usize::MAX).is_empty(), "attempt {attempt}");
        f.ms(1);
        assert_eq!(
            f.acc.ready(&f.cluster, f.clock.now()).ready_nodes,
            f.nodes(&[1])
        );
        b = f.drain_node(1, usize::MAX).pop().unwrap();
        assert_eq!(b.attempts(), attempt);
    }
}

fn cluster_with_epoch(epoch: i32) -> Cluster {
    let mut p = PartitionInfo::new(tp(0), Some(1));
    p.leader_epoch = epoch;
    Cluster::new(None, vec![Node::new(1, "a", 9092)], vec![p])
}

#[test]
fn rule33_new_leader_skips_the_backoff() {
    let mut f = Fixture::new();
    f.cluster = cluster_with_epoch(5);
    f.append(&tp(0), VALUE);
    f.acc.close();
    let b = f.drain_node(1, usize::MAX).pop().unwrap();
    f.acc.reenqueue(b, f.clock.now());
    // Same leader: the retry waits.
    assert!(f.drain_node(1, usize::MAX).is_empty());
    // A new leader epoch: retry at once.
    f.cluster = cluster_with_epoch(6);
    assert_eq!(
        f.acc.ready(&f.cluster, f.clock.now()).ready_nodes,
        f.nodes(&[1])
    );
    assert_eq!(f.drain_node(1, usize::MAX).len(), 1);
}

#[test]
fn rule34_muted_partition_is_not_drained_until_unmuted() {
    let f = Fixture::new();
    f.fill_batch(&tp(0), VALUE);
    f.acc.close();
    let first = f.drain_node(1, usize::MAX);
    assert_eq!(first.len(), 1);
    // The sender mutes partitions of drained batches (max in flight 1).
    f.acc.mute_partition(&tp(0));
    assert!(f
        .acc
        .ready(&f.cluster, f.clock.now())
        .ready_nodes
        .is_empty());
    assert!(f.drain_node(1, usize::MAX).is_empty());
    f.complete_all(first, 0);
    f.acc.unmute_partition(&tp(0));
    assert_eq!(f.drain_node(1, usize::MAX).len(), 1);
}

fn idempotent_fixture() -> (Fixture, Arc<TransactionManager>) {
    let tm = Arc::new(TransactionManager::new_idempotent());
    tm.set_producer_id_and_epoch(ProducerIdAndEpoch::new(7, 0));
    let f = Fixture::with(config(), 64 * BATCH, Some(tm.clone()));
    (f, tm)
}

#[test]
fn rule35_sequence_is_assigned_at_drain_and_advances_by_record_count() {
    let (f, tm) = idempotent_fixture();
    for _ in 0..3 {
        f.append(&tp(0), VALUE);
    }
    f.ms(LINGER_MS);
    let b = f.drain_node(1, usize::MAX).pop().unwrap();
    assert_eq!(
        (b.producer_id(), b.producer_epoch(), b.base_sequence()),
        (7, 0, 0)
    );
    assert_eq!(tm.sequence_number(&tp(0)), 3);
    assert_eq!(tm.first_in_flight_sequence(&tp(0)), 0);
    let bytes = b.records();
    assert_eq!(i64::from_be_bytes(bytes[43..51].try_into().unwrap()), 7);
    assert_eq!(i32::from_be_bytes(bytes[53..57].try_into().unwrap()), 0);
    // The next batch starts where this one ended.
    f.append(&tp(0), VALUE);
    f.ms(LINGER_MS);
    // A new batch may go while the first is in flight; only retries wait.
    let next = f.drain_node(1, usize::MAX).pop().unwrap();
    assert_eq!(next.base_sequence(), 3);
    assert_eq!(tm.sequence_number(&tp(0)), 4);
}

#[test]
fn rule35_retried_batch_keeps_its_sequence() {
    let (f, tm) = idempotent_fixture();
    f.append(&tp(0), VALUE);
    f.append(&tp(0), VALUE);
    f.ms(LINGER_MS);
    let b = f.drain_node(1, usize::MAX).pop().unwrap();
    let seq = b.base_sequence();
    f.acc.reenqueue(b, f.clock.now());
    f.ms(BACKOFF_MS);
    let b = f.drain_node(1, usize::MAX).pop().unwrap();
    assert_eq!(b.base_sequence(), seq);
    assert_eq!(tm.sequence_number(&tp(0)), 2, "not advanced again");
}

#[test]
fn rule35_nothing_is_drained_without_a_producer_id() {
    let tm = Arc::new(TransactionManager::new_idempotent());
    let f = Fixture::with(config(), 64 * BATCH, Some(tm.clone()));
    f.append(&tp(0), VALUE);
    f.ms(LINGER_MS);
    assert_eq!(
        f.acc.ready(&f.cluster, f.clock.now()).ready_nodes,
        f.nodes(&[1])
    );
    assert!(f.drain_node(1, usize::MAX).is_empty());
    tm.set_producer_id_and_epoch(ProducerIdAndEpoch::new(1, 0));
    assert_eq!(f.drain_node(1, usize::MAX).len(), 1);
}

#[test]
fn rule35_unresolved_sequence_or_stale_epoch_stops_new_batches() {
    let (f, tm) = idempotent_fixture();
    f.append(&tp(0), VALUE);
    f.ms(LINGER_MS);
    let in_flight = f.drain_node(1, usize::MAX).pop().unwrap();
    // An earlier batch's fate is unknown: new batches wait.
    tm.mark_sequence_unresolved(&in_flight);
    f.append(&tp(0), VALUE);
    f.ms(LINGER_MS);
    assert!(f.drain_node(1, usize::MAX).is_empty());

    // Epoch bumped while a batch of the old epoch is in flight: new
    // batches wait too.
    let (f, tm) = idempotent_fixture();
    f.append(&tp(0), VALUE);
    f.ms(LINGER_MS);
    let in_flight = f.drain_node(1, usize::MAX).pop().unwrap();
    tm.set_producer_id_and_epoch(ProducerIdAndEpoch::new(7, 1));
    f.append(&tp(0), VALUE);
    f.ms(LINGER_MS);
    assert!(f.drain_node(1, usize::MAX).is_empty());
    // Once it completes, sequences restart at 0 under the new epoch.
    tm.remove_in_flight_batch(&in_flight);
    let b = f.drain_node(1, usize::MAX).pop().unwrap();
    assert_eq!((b.producer_epoch(), b.base_sequence()), (1, 0));
}

#[test]
fn rule35_retries_go_one_at_a_time_in_sequence_order() {
    let (f, tm) = idempotent_fixture();
    f.fill_batch(&tp(0), VALUE);
    f.ms(LINGER_MS);
    let b0 = f.drain_node(1, usize::MAX).pop().unwrap();
    f.ms(LINGER_MS);
    let b1 = f.drain_node(1, usize::MAX).pop().unwrap();
    assert_eq!((b0.base_sequence(), b1.base_sequence()), (0, 8));
    // The later batch fails first: it goes back, but may not be sent while
    // the earlier one is still in flight.
    f.acc.reenqueue(b1, f.clock.now());
    f.ms(BACKOFF_MS);
    assert!(f.drain_node(1, usize::MAX).is_empty());
    // The earlier one fails too: it is queued before, and goes first.
    f.acc.reenqueue(b0, f.clock.now());
    let order: Vec<i32> = f
        .acc
        .with_deque(&tp(0), |dq| dq.iter().map(|b| b.base_sequence()).collect())
        .unwrap();
    assert_eq!(order, vec![0, 8]);
    f.ms(BACKOFF_MS);
    let b0 = f.drain_node(1, usize::MAX).pop().unwrap();
    assert_eq!(b0.base_sequence(), 0);
    // Then the next, once the first is acknowledged.
    assert!(f.drain_node(1, usize::MAX).is_empty());
    tm.remove_in_flight_batch(&b0);
    assert_eq!(
        f.drain_node(1, usize::MAX).pop().unwrap().base_sequence(),
        8
    );
}

/// A fixture whose partitioners draw 0, 1, 2, ... and whose ready feeds
/// adaptive statistics, with `availability` for
/// `partitioner.availability.timeout.ms`.
fn adaptive_fixture(availability: Duration) -> Fixture {
    let cfg = AccumulatorConfig {
        enable_adaptive_partitioning: true,
        partition_availability_timeout: availability,
        ..config()
    };
    let f = Fixture::with(cfg, 256 * BATCH, None);
    let counter = Arc::new(AtomicI32::new(0));
    f.acc
        .set_partitioner_random(Arc::new(move || counter.fetch_add(1, Ordering::SeqCst)));
    f
}

/// Partitions the sticky partitioner picks in `draws` consecutive switches.
fn sticky_choices(f: &Fixture, draws: usize) -> Vec<i32> {
    let info = f.acc.topic_info("t").unwrap();
    (0..draws)
        .map(|_| {
            let cur = info.partitioner.peek_current_partition_info(&f.cluster);
            info.partitioner
                .update_partition_info(Some(&cur), 2 * BATCH, &f.cluster, true);
            info.partitioner
                .peek_current_partition_info(&f.cluster)
                .partition()
        })
        .collect()
}

#[test]
fn g2_ready_feeds_queue_sizes_to_adaptive_partitioning() {
    let f = adaptive_fixture(Duration::ZERO);
    // Partition 0 has a long queue, the others a deque but nothing queued.
    for p in 1..4 {
        f.append(&tp(p), VALUE);
        f.ms(LINGER_MS);
        f.complete_all(f.drain_node(1 + p % 2, usize::MAX), 0);
    }
    for _ in 0..9 {
        f.fill_batch(&tp(0), VALUE);
    }
    assert_eq!(f.acc.queued_batches(&tp(0)), 10);
    f.acc.ready(&f.cluster, f.clock.now());
    // Weights max+1-size: 1 for partition 0, 11 for the others; 34 draws
    // cover the table once, so partition 0 is picked exactly once.
    let choices = sticky_choices(&f, 34);
    assert_eq!(
        choices.iter().filter(|&&p| p == 0).count(),
        1,
        "{choices:?}"
    );
}

#[test]
fn g2_partitions_of_a_node_not_drained_for_too_long_are_avoided() {
    let f = adaptive_fixture(ms(500));
    for p in 0..4 {
        f.append(&tp(p), VALUE);
        f.append(&tp(p), VALUE);
    }
    let t0 = f.clock.now();
    // Node 2 had data ready but could not be drained for 501 ms.
    f.acc.update_node_latency_stats(2, t0, true);
    f.acc.update_node_latency_stats(1, t0, true);
    f.ms(501);
    f.acc.update_node_latency_stats(2, f.clock.now(), false);
    f.acc.update_node_latency_stats(1, f.clock.now(), true);
    let stats = f.acc.node_latency_stats(2).unwrap();
    assert_eq!(stats.ready_time - stats.drain_time, ms(501));
    f.acc.ready(&f.cluster, f.clock.now());
    let choices = sticky_choices(&f, 20);
    assert!(
        choices.iter().all(|p| p % 2 == 0),
        "only node 1's: {choices:?}"
    );
    // Once node 2 drains again, its partitions come back.
    f.acc.update_node_latency_stats(2, f.clock.now(), true);
    f.acc.ready(&f.cluster, f.clock.now());
    let choices = sticky_choices(&f, 20);
    assert!(choices.iter().any(|p| p % 2 == 1), "{choices:?}");
}
