//! Unit tests of the deques' lock-free emptiness hint (`Deque::looks_empty`)
//! and of the scans that use it: the hint equals the deque's length after
//! every kind of change, and `drain` still finds every batch when a node's
//! partitions span several topics.

use std::collections::HashSet;

use super::tests::{tp, Fixture, DELIVERY_MS, LINGER_MS};
use crate::common::{Cluster, Node, PartitionInfo, TopicPartition};
use crate::error::Error;
use crate::util::clock::Clock;

const VALUE: &[u8] = &[7u8; 100];

/// The hint of `tp`'s deque, checked against its length.
fn hinted_empty(f: &Fixture, tp: &TopicPartition) -> bool {
    let dq = f.acc.deque(tp).expect("the test made this deque");
    let hinted = dq.looks_empty();
    assert_eq!(hinted, dq.lock().is_empty(), "hint of {tp}");
    hinted
}

#[test]
fn the_hint_follows_append_drain_and_reenqueue() {
    let f = Fixture::new();
    f.append(&tp(0), VALUE);
    f.append(&tp(2), VALUE);
    assert!(!hinted_empty(&f, &tp(0)));
    assert!(f.acc.deque_hints_exact());
    f.ms(LINGER_MS);
    let mut drained = f.drain_node(1, usize::MAX);
    assert_eq!(drained.len(), 2);
    assert!(hinted_empty(&f, &tp(0)) && hinted_empty(&f, &tp(2)));
    let b = drained.pop().expect("two batches");
    let back = b.topic_partition().clone();
    f.acc.reenqueue(b, f.clock.now());
    assert!(!hinted_empty(&f, &back));
    assert!(f.acc.deque_hints_exact());
    f.ms(1000); // past the retry backoff
    let again = f.drain_node(1, usize::MAX);
    assert_eq!(again.len(), 1);
    assert!(f.acc.deque_hints_exact());
    f.complete_all(drained, 0);
    f.complete_all(again, 0);
    assert!(f.all_memory_back());
}

#[test]
fn the_hint_follows_split_expiry_and_abort() {
    let f = Fixture::new();
    for _ in 0..6 {
        f.append(&tp(0), VALUE);
    }
    f.ms(LINGER_MS);
    let mut big = f.drain_node(1, usize::MAX).pop().expect("one batch");
    assert!(hinted_empty(&f, &tp(0)));
    let parts = f.acc.split_and_reenqueue(&mut big).unwrap();
    assert!(parts >= 2);
    f.acc.deallocate(big);
    assert!(!hinted_empty(&f, &tp(0)));
    assert_eq!(f.acc.queued_batches(&tp(0)), parts);
    assert!(f.acc.deque_hints_exact());

    // Expiry takes every queued batch of the partition.
    f.append(&tp(1), VALUE);
    f.ms(DELIVERY_MS);
    let expired = f.acc.expired_batches(f.clock.now());
    assert_eq!(expired.len(), parts + 1);
    assert!(hinted_empty(&f, &tp(0)) && hinted_empty(&f, &tp(1)));
    for mut b in expired {
        b.abort(Error::Timeout("expired".into()));
        f.acc.deallocate(b);
    }

    // An abort empties the deques it takes batches from.
    f.append(&tp(3), VALUE);
    assert!(!hinted_empty(&f, &tp(3)));
    f.acc.abort_batches(&Error::Closed("test".into()));
    assert!(hinted_empty(&f, &tp(3)));
    assert!(f.acc.deque_hints_exact());
    assert!(f.all_memory_back());
}

#[test]
fn expiry_skips_empty_deques_but_still_finds_the_next_expiry_time() {
    let f = Fixture::new();
    f.append(&tp(0), VALUE);
    f.ms(LINGER_MS);
    let drained = f.drain_node(1, usize::MAX);
    f.append(&tp(1), VALUE);
    f.acc.reset_next_batch_expiry_time();
    assert!(f.acc.expired_batches(f.clock.now()).is_empty());
    // Only tp(1)'s batch is queued; it was created LINGER_MS after tp(0)'s.
    let created = f.clock.now();
    assert_eq!(
        f.acc.next_expiry_time(),
        Some(created + std::time::Duration::from_millis(DELIVERY_MS))
    );
    f.complete_all(drained, 0);
}

/// Node 1 leads partitions of two topics, interleaved in its list only by
/// topic: drain must switch topics as it rotates and find every batch.
#[test]
fn drain_finds_batches_across_topics_and_rotates() {
    let mut f = Fixture::new();
    let nodes = vec![Node::new(1, "a", 9092)];
    let mut parts = Vec::new();
    for topic in ["t", "v"] {
        for p in 0..3 {
            parts.push(PartitionInfo::new(TopicPartition::new(topic, p), Some(1)));
        }
    }
    f.cluster = Cluster::new(None, nodes, parts);
    let all: Vec<TopicPartition> = f.cluster.partitions_for_node(1).to_vec();
    // Data in one partition of each topic only; the rest have no deque or
    // an empty one.
    f.append(&TopicPartition::new("t", 1), VALUE);
    f.append(&TopicPartition::new("v", 2), VALUE);
    f.append(&TopicPartition::new("v", 0), VALUE);
    // Drain does not check readiness: it takes all three.
    let first = f.drain_node(1, usize::MAX);
    assert_eq!(first.len(), 3);
    f.complete_all(first, 0);
    assert!(f.acc.deque_hints_exact());
    for tp in &all {
        assert_eq!(f.acc.queued_batches(tp), 0, "{tp}");
    }

    // With room for one batch per request, successive drains take the
    // partitions in the node's order, each once, starting after the last
    // partition visited.
    for tp in &all {
        f.append(tp, VALUE);
    }
    f.ms(LINGER_MS);
    let mut seen = Vec::new();
    for _ in 0..all.len() {
        let got = f.drain_node(1, 1);
        assert_eq!(got.len(), 1);
        seen.push(got[0].topic_partition().clone());
        f.complete_all(got, 0);
    }
    let unique: HashSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), all.len(), "each partition once: {seen:?}");
    let start = all.iter().position(|tp| *tp == seen[0]).unwrap();
    for (i, tp) in seen.iter().enumerate() {
        assert_eq!(*tp, all[(start + i) % all.len()], "order: {seen:?}");
    }
    assert!(f.drain_node(1, usize::MAX).is_empty());
    assert!(f.acc.deque_hints_exact());
    assert!(f.all_memory_back());
}
