//! Unit tests of the idempotence state.

use super::*;
use crate::producer::future::ProduceRequestResult;
use crate::record::{Compression, MemoryRecordsBuilder};
use crate::util::clock::{Clock, MockClock};

fn batch(
    tp: &TopicPartition,
    records: usize,
    seq: Option<(ProducerIdAndEpoch, i32)>,
) -> ProducerBatch {
    let clock = Arc::new(MockClock::default());
    let b = MemoryRecordsBuilder::new(Vec::new(), Compression::none(), 1024).unwrap();
    let mut batch = ProducerBatch::new(
        tp.clone(),
        b,
        1024,
        clock.now(),
        ProduceRequestResult::new(tp.clone(), clock.clone()),
    );
    let mut none = None;
    for _ in 0..records {
        batch
            .try_append(0, None, Some(b"v"), &[], &mut none, clock.now())
            .unwrap()
            .unwrap();
    }
    if let Some((p, s)) = seq {
        batch.set_producer_state(p, s, false).unwrap();
    }
    batch
}

#[test]
fn producer_id_and_epoch_validity() {
    assert!(!ProducerIdAndEpoch::NONE.is_valid());
    assert!(ProducerIdAndEpoch::new(0, 0).is_valid());
    let tm = TransactionManager::new_idempotent();
    assert!(!tm.has_producer_id());
    tm.set_producer_id_and_epoch(ProducerIdAndEpoch::new(5, 1));
    assert_eq!(tm.producer_id_and_epoch(), ProducerIdAndEpoch::new(5, 1));
}

#[test]
fn sequences_advance_and_wrap() {
    let tm = TransactionManager::new_idempotent();
    let tp = TopicPartition::new("t", 0);
    assert_eq!(tm.sequence_number(&tp), 0);
    tm.increment_sequence_number(&tp, 5);
    assert_eq!(tm.sequence_number(&tp), 5);
    tm.increment_sequence_number(&tp, i32::MAX - 5);
    assert_eq!(tm.sequence_number(&tp), i32::MAX);
    tm.increment_sequence_number(&tp, 2);
    assert_eq!(tm.sequence_number(&tp), 1);
}

#[test]
fn in_flight_batches_are_ordered_by_sequence() {
    let tm = TransactionManager::new_idempotent();
    let p = ProducerIdAndEpoch::new(1, 0);
    let tp = TopicPartition::new("t", 0);
    assert_eq!(tm.first_in_flight_sequence(&tp), NO_SEQUENCE);
    assert!(tm.add_in_flight_batch(&batch(&tp, 1, None)).is_err());
    let b10 = batch(&tp, 2, Some((p, 10)));
    let b5 = batch(&tp, 5, Some((p, 5)));
    tm.add_in_flight_batch(&b10).unwrap();
    tm.add_in_flight_batch(&b5).unwrap();
    assert!(tm.has_inflight_batches(&tp));
    assert_eq!(tm.first_in_flight_sequence(&tp), 5);
    tm.remove_in_flight_batch(&b5);
    assert_eq!(tm.first_in_flight_sequence(&tp), 10);
    tm.remove_in_flight_batch(&b10);
    assert!(!tm.has_inflight_batches(&tp));
}

#[test]
fn stale_epoch_resets_sequences_only_without_in_flight_batches() {
    let tm = TransactionManager::new_idempotent();
    let tp = TopicPartition::new("t", 0);
    let old = ProducerIdAndEpoch::new(1, 0);
    tm.set_producer_id_and_epoch(old);
    tm.maybe_update_producer_id_and_epoch(&tp);
    assert!(!tm.has_stale_producer_id_and_epoch(&tp));
    tm.increment_sequence_number(&tp, 3);
    let inflight = batch(&tp, 3, Some((old, 0)));
    tm.add_in_flight_batch(&inflight).unwrap();

    tm.set_producer_id_and_epoch(ProducerIdAndEpoch::new(1, 1));
    assert!(tm.has_stale_producer_id_and_epoch(&tp));
    tm.maybe_update_producer_id_and_epoch(&tp);
    assert_eq!(tm.sequence_number(&tp), 3, "in flight: no reset yet");
    tm.remove_in_flight_batch(&inflight);
    tm.maybe_update_producer_id_and_epoch(&tp);
    assert_eq!(tm.sequence_number(&tp), 0);
    assert!(!tm.has_stale_producer_id_and_epoch(&tp));
}

#[test]
fn unresolved_sequence_keeps_the_highest_next_sequence() {
    let tm = TransactionManager::new_idempotent();
    let p = ProducerIdAndEpoch::new(1, 0);
    let tp = TopicPartition::new("t", 0);
    assert!(!tm.has_unresolved_sequence(&tp));
    tm.mark_sequence_unresolved(&batch(&tp, 4, Some((p, 10))));
    tm.mark_sequence_unresolved(&batch(&tp, 2, Some((p, 0))));
    assert!(tm.has_unresolved_sequence(&tp));
    assert!(tm.has_unresolved_sequences());
    assert_eq!(tm.state.lock().unresolved[&tp], 14);
}

#[test]
fn last_acked_sequence_only_grows() {
    let tm = TransactionManager::new_idempotent();
    let tp = TopicPartition::new("t", 0);
    assert_eq!(tm.maybe_update_last_acked_sequence(&tp, 3), -1);
    tm.sequence_number(&tp);
    assert_eq!(tm.last_acked_sequence(&tp), None);
    assert_eq!(tm.maybe_update_last_acked_sequence(&tp, 3), 3);
    assert_eq!(tm.maybe_update_last_acked_sequence(&tp, 2), 3);
    assert_eq!(tm.last_acked_sequence(&tp), Some(3));
}

#[test]
fn fatal_error_blocks_sending() {
    let tm = TransactionManager::new_idempotent();
    let tp = TopicPartition::new("t", 0);
    assert!(tm.is_send_to_partition_allowed(&tp));
    tm.transition_to_fatal_error(Error::Other("fenced".into()));
    assert!(!tm.is_send_to_partition_allowed(&tp));
}
