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

fn in_flight(
    tm: &TransactionManager,
    tp: &TopicPartition,
    p: ProducerIdAndEpoch,
    seq: i32,
    n: usize,
) -> ProducerBatch {
    let b = batch(tp, n, Some((p, seq)));
    tm.add_in_flight_batch(&b).unwrap();
    b
}

#[test]
fn an_epoch_bump_resequences_the_partitions_that_asked_from_zero() {
    let tm = TransactionManager::new_idempotent();
    let p0 = ProducerIdAndEpoch::new(9, 0);
    tm.set_producer_id_and_epoch(p0);
    let (a, b) = (TopicPartition::new("t", 0), TopicPartition::new("t", 1));
    for tp in [&a, &b] {
        tm.maybe_update_producer_id_and_epoch(tp);
    }
    tm.increment_sequence_number(&a, 10);
    in_flight(&tm, &a, p0, 7, 3);
    in_flight(&tm, &a, p0, 5, 2);
    in_flight(&tm, &b, p0, 0, 1);
    assert!(
        tm.bump_idempotent_epoch_and_reset_id_if_needed().is_empty(),
        "none asked"
    );
    tm.state.lock().unresolved.insert(a.clone(), 10);
    tm.state.lock().request_epoch_bump_for_partition(&a);
    let p1 = ProducerIdAndEpoch::new(9, 1);
    let rewrites = tm.bump_idempotent_epoch_and_reset_id_if_needed();
    assert_eq!(
        rewrites,
        vec![
            SequenceRewrite {
                tp: a.clone(),
                from: (p0, 5),
                to: (p1, 0)
            },
            SequenceRewrite {
                tp: a.clone(),
                from: (p0, 7),
                to: (p1, 2)
            },
        ]
    );
    assert_eq!(tm.producer_id_and_epoch(), p1);
    assert_eq!(tm.sequence_number(&a), 5);
    assert_eq!(tm.first_in_flight_sequence(&a), 0);
    assert!(!tm.has_unresolved_sequence(&a));
    assert!(!tm.has_stale_producer_id_and_epoch(&a));
    assert!(
        tm.has_stale_producer_id_and_epoch(&b),
        "b keeps its epoch until drained"
    );
    assert!(!tm.epoch_bump_required());
}

#[test]
fn the_last_epoch_resets_the_producer_id_and_resequences_under_the_new_one() {
    let tm = TransactionManager::new_idempotent();
    let old = ProducerIdAndEpoch::new(9, i16::MAX);
    tm.set_producer_id_and_epoch(old);
    let a = TopicPartition::new("t", 0);
    tm.maybe_update_producer_id_and_epoch(&a);
    in_flight(&tm, &a, old, 3, 2);
    tm.state.lock().request_epoch_bump_for_partition(&a);
    assert!(tm.bump_idempotent_epoch_and_reset_id_if_needed().is_empty());
    assert!(!tm.has_producer_id());
    let new = ProducerIdAndEpoch::new(10, 0);
    assert_eq!(
        tm.init_producer_id_completed(new),
        vec![SequenceRewrite {
            tp: a.clone(),
            from: (old, 3),
            to: (new, 0)
        }]
    );
    assert_eq!(tm.sequence_number(&a), 2);
}

#[test]
fn out_of_order_retries_follow_javas_rules() {
    let p = ProducerIdAndEpoch::new(9, 0);
    let tp = TopicPartition::new("t", 0);
    // (last acked, unresolved next, batch base, retry?, bump?)
    let cases = [
        (Some(4), None, 5, true, true),     // the next batch: a real gap
        (Some(4), None, 8, true, false),    // behind an earlier failure
        (None, None, 0, true, true),        // the very first batch
        (Some(4), Some(8), 8, true, true),  // right after the unresolved ones
        (Some(4), Some(8), 5, true, false), // may still resolve
    ];
    for (acked, unresolved, base, retry, bump) in cases {
        let tm = TransactionManager::new_idempotent();
        tm.set_producer_id_and_epoch(p);
        tm.maybe_update_producer_id_and_epoch(&tp);
        if let Some(s) = acked {
            tm.maybe_update_last_acked_sequence(&tp, s);
        }
        if let Some(n) = unresolved {
            tm.state.lock().unresolved.insert(tp.clone(), n);
        }
        let b = in_flight(&tm, &tp, p, base, 1);
        let case = format!("{acked:?} {unresolved:?} {base}");
        assert_eq!(
            tm.can_retry(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER, 0, &b),
            retry,
            "{case}"
        );
        assert_eq!(tm.epoch_bump_required(), bump, "{case}");
    }
}

#[test]
fn unknown_producer_id_retries_follow_javas_rules() {
    let p = ProducerIdAndEpoch::new(9, 0);
    let tp = TopicPartition::new("t", 0);
    // (log start offset, last acked offset, bump?)
    for (log_start, acked_offset, bump) in
        [(-1, None, false), (50, Some(10), true), (5, Some(10), true)]
    {
        let tm = TransactionManager::new_idempotent();
        tm.set_producer_id_and_epoch(p);
        tm.maybe_update_producer_id_and_epoch(&tp);
        let b = in_flight(&tm, &tp, p, 0, 1);
        if let Some(o) = acked_offset {
            tm.handle_completed_sequence(&tp, (p, 100), 1, o);
        }
        assert!(tm.can_retry(ErrorCode::UNKNOWN_PRODUCER_ID, log_start, &b));
        assert_eq!(tm.epoch_bump_required(), bump, "{log_start}");
    }
}

#[test]
fn unresolved_sequences_resolve_or_bump_once_nothing_is_in_flight() {
    let p = ProducerIdAndEpoch::new(9, 0);
    let tp = TopicPartition::new("t", 0);
    let tm = TransactionManager::new_idempotent();
    tm.set_producer_id_and_epoch(p);
    tm.maybe_update_producer_id_and_epoch(&tp);
    tm.increment_sequence_number(&tp, 4);
    let expired = batch(&tp, 2, Some((p, 0)));
    let later = in_flight(&tm, &tp, p, 2, 2);
    tm.mark_sequence_unresolved(&expired);
    tm.maybe_resolve_sequences();
    assert!(tm.has_unresolved_sequence(&tp), "later batch in flight");
    tm.handle_completed_batch(&later, 2);
    tm.maybe_resolve_sequences();
    assert!(!tm.has_unresolved_sequences());
    assert!(
        !tm.epoch_bump_required(),
        "acknowledged up to the next sequence"
    );

    // Nothing acknowledged after it: bump.
    tm.mark_sequence_unresolved(&batch(&tp, 2, Some((p, 4))));
    tm.increment_sequence_number(&tp, 2);
    tm.maybe_resolve_sequences();
    assert!(!tm.has_unresolved_sequences());
    assert!(tm.epoch_bump_required());
}

#[test]
fn failed_batches_bump_the_epoch_or_stop_the_producer() {
    let p = ProducerIdAndEpoch::new(9, 0);
    let tp = TopicPartition::new("t", 0);
    // (error, adjust, fatal?, bump?)
    let cases = [
        (
            Error::broker(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER),
            false,
            false,
            true,
        ),
        (
            Error::broker(ErrorCode::UNKNOWN_PRODUCER_ID),
            false,
            false,
            true,
        ),
        (Error::broker(ErrorCode::INVALID_RECORD), true, false, true),
        (
            Error::broker(ErrorCode::INVALID_RECORD),
            false,
            false,
            false,
        ),
        (Error::Timeout("expired".into()), false, false, false),
        (Error::broker(ErrorCode::PRODUCER_FENCED), true, true, false),
        (
            Error::broker(ErrorCode::CLUSTER_AUTHORIZATION_FAILED),
            true,
            true,
            false,
        ),
        (Error::Unsupported("no".into()), true, true, false),
    ];
    for (error, adjust, fatal, bump) in cases {
        let tm = TransactionManager::new_idempotent();
        tm.set_producer_id_and_epoch(p);
        tm.maybe_update_producer_id_and_epoch(&tp);
        let b = in_flight(&tm, &tp, p, 0, 1);
        tm.handle_failed_batch(&b, &error, adjust);
        assert!(!tm.has_inflight_batches(&tp));
        assert_eq!(tm.has_fatal_error(), fatal, "{error}");
        assert_eq!(tm.epoch_bump_required(), bump, "{error}");
        assert_eq!(tm.maybe_fail_with_error().is_err(), fatal);
    }
}
