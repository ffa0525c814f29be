//! The idempotent producer's rules in the sender, on a scripted client and a
//! mock clock (Java 4.3 `Sender` + `TransactionManager`): sequences on the
//! wire, retries in sequence order, epoch bumps and re-sequencing after
//! `OUT_OF_ORDER_SEQUENCE_NUMBER` / `UNKNOWN_PRODUCER_ID` /
//! `INVALID_PRODUCER_EPOCH`, unresolved sequences after an in-flight expiry,
//! the fatal errors and the `InitProducerId` exchange.

use super::testutil::*;
use crate::error::Error;
use crate::producer::internals::transaction_manager::ProducerIdAndEpoch;
use crate::protocol::api_key::ApiKey;
use crate::protocol::error_code::ErrorCode;

const PID: i64 = 1000;

/// Sends `n` records `"<prefix>i"` to partition `p` in a request of their
/// own; returns the request.
fn send_batch(
    fx: &mut Fx,
    p: i32,
    prefix: &str,
    n: usize,
) -> crate::clients::network_client::mock_client::SentRequest {
    let before = fx.produce_requests().len();
    fx.append_n(p, prefix, n);
    fx.run();
    let requests = fx.produce_requests();
    assert_eq!(requests.len(), before + 1, "one new produce request");
    requests[before].clone()
}

fn wire(req: &crate::clients::network_client::mock_client::SentRequest) -> WireBatch {
    let mut b = wire_batches(req);
    assert_eq!(b.len(), 1, "one batch in the request");
    b.remove(0)
}

#[test]
fn sequences_on_the_wire_count_records_per_partition() {
    let mut fx = Fx::idempotent(Options::default(), PID);
    let r0 = send_batch(&mut fx, 0, "a", 2);
    let r1 = send_batch(&mut fx, 1, "b", 1);
    let r2 = send_batch(&mut fx, 0, "c", 3);
    let got: Vec<(i32, i64, i16, i32, usize)> = [&r0, &r1, &r2]
        .iter()
        .map(|r| {
            let b = wire(r);
            (
                b.tp.partition(),
                b.producer_id,
                b.epoch,
                b.base_sequence,
                b.values.len(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![(0, PID, 0, 0, 2), (1, PID, 0, 0, 1), (0, PID, 0, 2, 3)]
    );
    assert_eq!((r0.node, r1.node, r2.node), (1, 2, 1));
    fx.answer(&r0, |_| ok(10));
    fx.answer(&r2, |_| ok(12));
    fx.answer(&r1, |_| ok(0));
    fx.run();
    assert_eq!(fx.tm().last_acked_sequence(&tp(0)), Some(4));
    assert_eq!(fx.tm().last_acked_offset(&tp(0)), Some(14));
    let mut acked = fx.acked();
    acked.sort();
    assert_eq!(
        acked,
        [
            ("a0", 10),
            ("a1", 11),
            ("b0", 0),
            ("c0", 12),
            ("c1", 13),
            ("c2", 14)
        ]
        .map(|(v, o)| (v.to_owned(), o))
    );
    assert!(!fx.tm().has_inflight_batches(&tp(0)));
}

#[test]
fn retries_keep_their_sequence_and_go_one_at_a_time_in_order() {
    let mut fx = Fx::idempotent(Options::default(), PID);
    let r0 = send_batch(&mut fx, 0, "a", 2);
    let r1 = send_batch(&mut fx, 0, "b", 2);
    // The first fails with a retriable error; the second, sent behind it,
    // is then out of order for the broker: not the next batch, so it is
    // retried as is (Java canRetry), with no epoch bump.
    fx.answer(&r0, |_| err(ErrorCode::NOT_ENOUGH_REPLICAS));
    fx.answer(&r1, |_| err(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER));
    fx.run();
    assert!(!fx.tm().epoch_bump_required());
    assert!(fx.produce_requests().is_empty());
    // Both wait their backoff (100 ms); then only the first in flight goes.
    fx.clock.advance(99 * MS);
    fx.run();
    assert!(fx.produce_requests().is_empty(), "backing off");
    fx.clock.advance(MS);
    fx.run();
    let retry0 = fx.only_produce_request();
    assert_eq!(wire(&retry0).seq(), (0, 2));
    assert_eq!(strings(&wire(&retry0).values), ["a0", "a1"]);
    fx.run();
    assert_eq!(fx.produce_requests().len(), 1, "the second waits");
    fx.answer(&retry0, |_| ok(0));
    fx.run();
    fx.run();
    let retry1 = fx.only_produce_request();
    assert_eq!(
        (wire(&retry1).epoch, wire(&retry1).seq()),
        (0, (2, 2)),
        "same epoch and sequence"
    );
    fx.answer(&retry1, |_| ok(2));
    fx.run();
    assert_eq!(fx.acked().len(), 4);
    assert_eq!(
        fx.tm().producer_id_and_epoch(),
        ProducerIdAndEpoch::new(PID, 0)
    );
}

#[test]
fn no_new_batch_goes_behind_a_retry_until_it_completes() {
    // Chaos seed 7829: a batch written before its answer got lost was
    // retried again and again (transient errors) while new batches went
    // behind each attempt and were written; once more than five had gone
    // by, the broker no longer knew the retry as a duplicate and answered
    // OUT_OF_ORDER_SEQUENCE_NUMBER until its delivery timeout, although it
    // was in the log. Java drains new batches behind a retry; here they
    // wait for it, so a resend always stays within the broker's window.
    let mut fx = Fx::idempotent(Options::default(), PID);
    let r0 = send_batch(&mut fx, 0, "a", 2);
    fx.answer(&r0, |_| err(ErrorCode::NOT_ENOUGH_REPLICAS_AFTER_APPEND));
    fx.run();
    fx.clock.advance(100 * MS);
    fx.run();
    let mut retry = fx.only_produce_request();
    for attempt in 0..3 {
        // New records arrive while the retry is in flight: they wait.
        fx.append_n(0, &format!("n{attempt}-"), 1);
        fx.run();
        fx.clock.advance(200 * MS);
        fx.run();
        assert_eq!(fx.produce_requests().len(), 1, "only the retry is out");
        assert_eq!(wire(&retry).seq(), (0, 2));
        fx.answer(&retry, |_| err(ErrorCode::NOT_ENOUGH_REPLICAS));
        fx.run();
        assert!(fx.produce_requests().is_empty(), "backing off");
        fx.clock.advance(1000 * MS);
        fx.run();
        retry = fx.only_produce_request();
    }
    // The broker knows the resend as a duplicate: then the waiting records
    // go, in one batch, after the retried one.
    assert_eq!(strings(&wire(&retry).values), ["a0", "a1"]);
    fx.answer(&retry, |_| err(ErrorCode::DUPLICATE_SEQUENCE_NUMBER));
    fx.run();
    fx.run();
    let next = fx.only_produce_request();
    assert_eq!(wire(&next).seq(), (2, 3));
    assert_eq!(strings(&wire(&next).values), ["n0-0", "n1-0", "n2-0"]);
    fx.answer(&next, |_| ok(7));
    fx.run();
    assert_eq!(fx.acked().len(), 5);
    assert!(!fx.tm().epoch_bump_required());
    assert!(!fx.tm().has_inflight_batches(&tp(0)));
}

#[test]
fn out_of_order_on_the_next_batch_bumps_the_epoch_and_resequences_from_zero() {
    let mut fx = Fx::idempotent(Options::default(), PID);
    let r0 = send_batch(&mut fx, 0, "a", 2);
    fx.answer(&r0, |_| ok(0));
    fx.run();
    let r1 = send_batch(&mut fx, 0, "b", 2);
    let r2 = send_batch(&mut fx, 0, "c", 3);
    assert_eq!((wire(&r1).seq(), wire(&r2).seq()), ((2, 2), (4, 3)));
    // b is the next batch after the last acknowledged one: a real gap.
    fx.answer(&r1, |_| err(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER));
    fx.answer(&r2, |_| err(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER));
    fx.run();
    assert!(fx.tm().epoch_bump_required());
    assert!(fx.failed().is_empty(), "both retried");
    // Next iteration: epoch 0 -> 1, b and c restart at 0 and 2.
    fx.run();
    assert_eq!(
        fx.tm().producer_id_and_epoch(),
        ProducerIdAndEpoch::new(PID, 1)
    );
    assert_eq!(fx.tm().sequence_number(&tp(0)), 5);
    assert_eq!(fx.tm().first_in_flight_sequence(&tp(0)), 0);
    // A new batch waits behind them and continues their sequence.
    fx.append_n(0, "d", 1);
    fx.clock.advance(100 * MS);
    fx.run();
    let b = wire(&fx.only_produce_request());
    assert_eq!((b.producer_id, b.epoch, b.seq()), (PID, 1, (0, 2)));
    assert_eq!(strings(&b.values), ["b0", "b1"]);
    fx.answer(&fx.only_produce_request(), |_| ok(2));
    fx.run();
    fx.run();
    let c = wire(&fx.only_produce_request());
    assert_eq!((c.epoch, c.seq()), (1, (2, 3)));
    fx.answer(&fx.only_produce_request(), |_| ok(4));
    fx.run();
    fx.run();
    let d = wire(&fx.only_produce_request());
    assert_eq!((d.epoch, d.seq()), (1, (5, 1)));
    fx.answer(&fx.only_produce_request(), |_| ok(7));
    fx.run();
    let acked: Vec<i64> = fx.acked().into_iter().map(|(_, o)| o).collect();
    assert_eq!(acked, (0..8).collect::<Vec<_>>());
}

#[test]
fn unknown_producer_id_after_log_truncation_bumps_the_epoch() {
    let mut fx = Fx::idempotent(Options::default(), PID);
    let r0 = send_batch(&mut fx, 0, "a", 2);
    fx.answer(&r0, |_| ok(10));
    fx.run();
    assert_eq!(fx.tm().last_acked_offset(&tp(0)), Some(11));
    let r1 = send_batch(&mut fx, 0, "b", 1);
    // The log start moved past everything acknowledged: the broker lost
    // the producer's state.
    fx.answer(&r1, |_| {
        PartitionProduceResponseExt::log_start(err(ErrorCode::UNKNOWN_PRODUCER_ID), 50)
    });
    fx.run();
    assert!(fx.tm().epoch_bump_required());
    fx.clock.advance(100 * MS);
    fx.run();
    let b = wire(&fx.only_produce_request());
    assert_eq!((b.epoch, b.seq()), (1, (0, 1)));
}

#[test]
fn unknown_producer_id_without_log_start_offset_is_retried_as_is() {
    let mut fx = Fx::idempotent(Options::default(), PID);
    let r0 = send_batch(&mut fx, 0, "a", 1);
    fx.answer(&r0, |_| {
        PartitionProduceResponseExt::log_start(err(ErrorCode::UNKNOWN_PRODUCER_ID), -1)
    });
    fx.run();
    assert!(!fx.tm().epoch_bump_required());
    fx.clock.advance(100 * MS);
    fx.run();
    let a = wire(&fx.only_produce_request());
    assert_eq!((a.epoch, a.seq()), (0, (0, 1)));
}

#[test]
fn invalid_producer_epoch_fails_the_batch_and_bumps_the_epoch() {
    let mut fx = Fx::idempotent(Options::default(), PID);
    let r0 = send_batch(&mut fx, 0, "a", 2);
    fx.answer(&r0, |_| err(ErrorCode::INVALID_PRODUCER_EPOCH));
    fx.run();
    let failed = fx.failed();
    assert_eq!(failed.len(), 2);
    assert_eq!(failed[0].1.code(), Some(ErrorCode::INVALID_PRODUCER_EPOCH));
    assert!(!fx.tm().has_fatal_error());
    let r1 = send_batch(&mut fx, 0, "b", 1);
    let b = wire(&r1);
    assert_eq!((b.epoch, b.seq()), (1, (0, 1)), "new epoch, from 0");
}

#[test]
fn a_batch_failing_for_good_with_retries_left_bumps_the_epoch() {
    let mut fx = Fx::idempotent(Options::default(), PID);
    let r0 = send_batch(&mut fx, 0, "a", 1);
    let r1 = send_batch(&mut fx, 0, "b", 1);
    fx.answer(&r0, |_| err(ErrorCode::INVALID_RECORD));
    fx.run();
    assert!(
        fx.tm().epoch_bump_required(),
        "the gap at 0 is closed by a bump"
    );
    fx.answer(&r1, |_| err(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER));
    fx.run();
    fx.clock.advance(100 * MS);
    fx.run();
    let b = wire(&fx.only_produce_request());
    assert_eq!((b.epoch, b.seq()), (1, (0, 1)));
    assert_eq!(strings(&b.values), ["b0"]);
}

#[test]
fn duplicate_sequence_number_counts_as_success() {
    let mut fx = Fx::idempotent(Options::default(), PID);
    let r0 = send_batch(&mut fx, 0, "a", 2);
    fx.answer(&r0, |_| err(ErrorCode::DUPLICATE_SEQUENCE_NUMBER));
    fx.run();
    assert_eq!(
        fx.acked(),
        [("a0", -1), ("a1", -1)].map(|(v, o)| (v.to_owned(), o))
    );
    assert_eq!(fx.tm().last_acked_sequence(&tp(0)), Some(1));
}

#[test]
fn fatal_errors_stop_the_producer_and_fail_every_batch() {
    for code in [
        ErrorCode::PRODUCER_FENCED,
        ErrorCode::CLUSTER_AUTHORIZATION_FAILED,
        ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
        ErrorCode::UNSUPPORTED_VERSION,
        ErrorCode::INVALID_PRODUCER_ID_MAPPING,
    ] {
        let mut fx = Fx::idempotent(Options::default(), PID);
        let r0 = send_batch(&mut fx, 0, "a", 1);
        fx.append_n(1, "queued", 1);
        fx.answer(&r0, |_| err(code));
        fx.run();
        assert!(fx.tm().has_fatal_error(), "{code:?}");
        fx.run();
        let failed = fx.failed();
        assert_eq!(failed.len(), 2, "{code:?}: {failed:?}");
        for (_, e) in &failed {
            assert_eq!(e.code(), Some(code));
        }
        let sent = fx.client.sent().len();
        fx.append_n(2, "later", 1);
        fx.run();
        assert_eq!(
            fx.client.sent().len(),
            sent,
            "{code:?}: nothing sent any more"
        );
        let e = fx.tm().maybe_fail_with_error().unwrap_err();
        assert_eq!(e.code(), Some(code));
        let text = e.to_string();
        assert!(
            text.contains("fatal error state") && text.contains(code.name()),
            "{text}"
        );
    }
}

#[test]
fn topic_authorization_failed_is_not_fatal() {
    let mut fx = Fx::idempotent(Options::default(), PID);
    let r0 = send_batch(&mut fx, 0, "a", 1);
    fx.answer(&r0, |_| err(ErrorCode::TOPIC_AUTHORIZATION_FAILED));
    fx.run();
    assert!(!fx.tm().has_fatal_error());
    assert_eq!(
        fx.failed()[0].1.code(),
        Some(ErrorCode::TOPIC_AUTHORIZATION_FAILED)
    );
    assert!(fx.tm().maybe_fail_with_error().is_ok());
}

/// A batch that expired in flight after a retry leaves its partition
/// unresolved: no new batch goes until the in-flight ones are done; then,
/// with nothing acknowledged after it, the epoch is bumped.
#[test]
fn an_expired_retry_leaves_the_sequence_unresolved_until_an_epoch_bump() {
    let o = Options {
        delivery_timeout: 1000 * MS,
        ..Options::default()
    };
    let mut fx = Fx::idempotent(o, PID);
    let r0 = send_batch(&mut fx, 0, "a", 2);
    fx.answer(&r0, |_| err(ErrorCode::NOT_ENOUGH_REPLICAS));
    fx.run();
    fx.clock.advance(100 * MS);
    fx.run();
    let retry = fx.only_produce_request();
    fx.clock.advance(900 * MS);
    fx.run();
    let failed = fx.failed();
    assert!(
        matches!(&failed[0].1, Error::Timeout(m) if m == "Expiring 2 record(s) for t-0:1000 ms has passed since batch creation"),
        "{failed:?}"
    );
    assert!(fx.tm().has_unresolved_sequence(&tp(0)));
    fx.run();
    assert!(!fx.tm().has_unresolved_sequences());
    assert_eq!(
        fx.tm().producer_id_and_epoch(),
        ProducerIdAndEpoch::new(PID, 1)
    );
    let r = send_batch(&mut fx, 0, "c", 1);
    assert_eq!((wire(&r).epoch, wire(&r).seq()), (1, (0, 1)));
    // The late answer to the expired request changes nothing.
    fx.answer(&retry, |_| ok(0));
    fx.run();
    assert_eq!(fx.acked(), Vec::<(String, i64)>::new());
}

/// The same, but a batch sent after the expired one is acknowledged: the
/// expired one was written, the sequence is resolved without a bump. New
/// batches wait while the partition is unresolved.
#[test]
fn an_unresolved_sequence_resolves_when_a_later_batch_is_acknowledged() {
    let o = Options {
        delivery_timeout: 1000 * MS,
        ..Options::default()
    };
    let mut fx = Fx::idempotent(o, PID);
    // b goes while a's first attempt is in flight (no new batch goes
    // behind a retry); a's retry expires while backing off, b is younger.
    let r0 = send_batch(&mut fx, 0, "a", 2);
    fx.clock.advance(50 * MS);
    let r1 = send_batch(&mut fx, 0, "b", 1);
    assert_eq!(wire(&r1).seq(), (2, 1));
    fx.clock.advance(900 * MS);
    fx.answer(&r0, |_| err(ErrorCode::NOT_ENOUGH_REPLICAS));
    fx.run();
    fx.clock.advance(50 * MS);
    fx.run();
    assert_eq!(fx.produce_requests().len(), 1, "only b is in flight");
    assert!(fx.tm().has_unresolved_sequence(&tp(0)));
    assert!(fx.tm().has_inflight_batches(&tp(0)), "b is still in flight");
    fx.append_n(0, "c", 1);
    fx.run();
    assert!(
        fx.tm().has_unresolved_sequence(&tp(0)),
        "not while b is in flight"
    );
    assert_eq!(fx.produce_requests().len(), 1, "c waits");
    fx.answer(&r1, |_| ok(2));
    fx.run();
    fx.run();
    assert!(!fx.tm().has_unresolved_sequences());
    assert_eq!(
        fx.tm().producer_id_and_epoch(),
        ProducerIdAndEpoch::new(PID, 0)
    );
    let c = fx
        .produce_requests()
        .into_iter()
        .map(|r| wire(&r))
        .find(|b| strings(&b.values) == ["c0"])
        .expect("c sent once resolved");
    assert_eq!((c.epoch, c.seq()), (0, (3, 1)));
}

/// A late acknowledgement of a batch that expired in flight (answered in
/// the iteration that expired it) still counts for the sequences.
#[test]
fn a_late_acknowledgement_of_an_expired_batch_resolves_its_sequence() {
    let o = Options {
        delivery_timeout: 1000 * MS,
        ..Options::default()
    };
    let mut fx = Fx::idempotent(o, PID);
    let r0 = send_batch(&mut fx, 0, "a", 2);
    fx.answer(&r0, |_| err(ErrorCode::NOT_ENOUGH_REPLICAS));
    fx.run();
    fx.clock.advance(100 * MS);
    fx.run();
    let retry = fx.only_produce_request();
    fx.clock.advance(900 * MS);
    fx.answer(&retry, |_| ok(0));
    fx.run();
    assert!(matches!(fx.failed()[0].1, Error::Timeout(_)));
    assert_eq!(fx.tm().last_acked_sequence(&tp(0)), Some(1));
    fx.run();
    assert!(!fx.tm().has_unresolved_sequences());
    assert_eq!(
        fx.tm().producer_id_and_epoch(),
        ProducerIdAndEpoch::new(PID, 0)
    );
    let r = send_batch(&mut fx, 0, "b", 1);
    assert_eq!((wire(&r).epoch, wire(&r).seq()), (0, (2, 1)));
}

#[test]
fn an_exhausted_epoch_resets_the_producer_id() {
    let mut fx = Fx::new(Options::default());
    fx.grant_producer_id(PID, i16::MAX);
    let r0 = send_batch(&mut fx, 0, "a", 1);
    fx.answer(&r0, |_| ok(0));
    fx.run();
    let r1 = send_batch(&mut fx, 0, "b", 2);
    fx.answer(&r1, |_| err(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER));
    fx.run();
    fx.run();
    assert!(!fx.tm().has_producer_id());
    let init = fx
        .client
        .in_flight_of(ApiKey::INIT_PRODUCER_ID)
        .pop()
        .expect("a new producer id is asked for");
    let request = init_producer_id_request(&init);
    assert_eq!((request.producer_id, request.producer_epoch), (-1, -1));
    assert_eq!(request.transactional_id, None);
    fx.answer_init_producer_id(&init, ErrorCode::NONE, 2000, 0);
    fx.run();
    fx.clock.advance(100 * MS);
    fx.run();
    let b = wire(&fx.only_produce_request());
    assert_eq!((b.producer_id, b.epoch, b.seq()), (2000, 0, (0, 2)));
}

#[test]
fn init_producer_id_retriable_errors_back_off_exponentially() {
    let mut fx = Fx::new(Options::default());
    fx.append_n(0, "a", 1);
    fx.run();
    for backoff in [100, 200, 400] {
        let init = fx
            .client
            .in_flight_of(ApiKey::INIT_PRODUCER_ID)
            .pop()
            .unwrap();
        fx.answer_init_producer_id(&init, ErrorCode::COORDINATOR_LOAD_IN_PROGRESS, -1, -1);
        fx.run();
        fx.clock.advance((backoff - 1) * MS);
        fx.run();
        assert!(fx.client.in_flight_of(ApiKey::INIT_PRODUCER_ID).is_empty());
        fx.clock.advance(MS);
        fx.run();
    }
    let init = fx
        .client
        .in_flight_of(ApiKey::INIT_PRODUCER_ID)
        .pop()
        .unwrap();
    fx.answer_init_producer_id(&init, ErrorCode::NONE, PID, 3);
    fx.run();
    fx.run();
    let a = wire(&fx.only_produce_request());
    assert_eq!((a.producer_id, a.epoch, a.seq()), (PID, 3, (0, 1)));
}

#[test]
fn init_producer_id_waits_for_a_reachable_broker() {
    let mut fx = Fx::new(Options::default());
    for node in 1..=3 {
        fx.client.set_node_down(node, true);
    }
    fx.append_n(0, "a", 1);
    fx.run();
    fx.run();
    assert!(fx.client.sent().is_empty());
    assert_eq!(fx.client.poll_timeouts().last().copied(), Some(100 * MS));
    fx.client.set_node_down(2, false);
    fx.grant_producer_id(PID, 0);
    assert_eq!(fx.client.sent()[0].node, 2);
    fx.client.set_node_down(1, false);
    fx.run();
    assert_eq!(wire(&fx.only_produce_request()).seq(), (0, 1));
}

/// Java 4.3 expires nothing until it has a producer id, so with every
/// broker unreachable a record waits forever; `delivery.timeout.ms` bounds
/// it here as it does once sending.
#[test]
fn a_batch_waiting_for_a_producer_id_expires_after_the_delivery_timeout() {
    let mut fx = Fx::new(Options {
        delivery_timeout: 2_000 * MS,
        ..Options::default()
    });
    for node in 1..=3 {
        fx.client.set_node_down(node, true);
    }
    fx.append_n(0, "a", 2);
    fx.run();
    fx.clock.advance(1_950 * MS);
    fx.run();
    assert!(fx.failed().is_empty());
    // The wait for a broker ends when the batch expires, not after the
    // 100 ms retry backoff.
    assert_eq!(fx.client.poll_timeouts().last().copied(), Some(50 * MS));
    fx.clock.advance(50 * MS);
    fx.run();
    let failed = fx.failed();
    assert_eq!(failed.len(), 2);
    for (value, e) in &failed {
        assert!(value.starts_with('a'));
        assert!(
            matches!(e, Error::Timeout(m) if m.starts_with("Expiring 2 record(s) for t-0:2000 ms")),
            "{e:?}"
        );
    }
    assert!(fx.client.sent().is_empty());
    assert!(!fx.accumulator.has_incomplete());

    // Once a broker answers, the next record goes out from sequence 0.
    fx.client.set_node_down(1, false);
    fx.append_n(0, "b", 1);
    fx.grant_producer_id(PID, 0);
    fx.run();
    assert_eq!(wire(&fx.only_produce_request()).seq(), (0, 1));
}

#[test]
fn a_batch_expires_while_init_producer_id_goes_unanswered() {
    let mut fx = Fx::new(Options {
        delivery_timeout: 2_000 * MS,
        ..Options::default()
    });
    fx.append_n(0, "a", 1);
    fx.run();
    assert_eq!(fx.client.in_flight_of(ApiKey::INIT_PRODUCER_ID).len(), 1);
    fx.clock.advance(2_000 * MS);
    fx.run();
    let failed = fx.failed();
    assert_eq!(failed.len(), 1);
    assert!(matches!(failed[0].1, Error::Timeout(_)), "{failed:?}");
    assert!(fx.produce_requests().is_empty());
}

#[test]
fn init_producer_id_authorization_error_fails_the_batches_and_asks_again() {
    let mut fx = Fx::new(Options::default());
    fx.append_n(0, "a", 1);
    fx.run();
    let init = fx
        .client
        .in_flight_of(ApiKey::INIT_PRODUCER_ID)
        .pop()
        .unwrap();
    fx.answer_init_producer_id(&init, ErrorCode::CLUSTER_AUTHORIZATION_FAILED, -1, -1);
    fx.run();
    let failed = fx.failed();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        failed[0].1.code(),
        Some(ErrorCode::CLUSTER_AUTHORIZATION_FAILED)
    );
    assert!(failed[0].1.to_string().contains("idempotent sends"));
    assert!(!fx.tm().has_fatal_error(), "Java: abortable, not fatal");
    fx.clock.advance(100 * MS);
    fx.grant_producer_id(PID, 0);
    let r = send_batch(&mut fx, 0, "b", 1);
    assert_eq!(wire(&r).seq(), (0, 1));
}

#[test]
fn init_producer_id_fenced_or_unexpected_is_fatal() {
    for (code, expected) in [
        (ErrorCode::PRODUCER_FENCED, ErrorCode::PRODUCER_FENCED),
        (
            ErrorCode::INVALID_PRODUCER_EPOCH,
            ErrorCode::PRODUCER_FENCED,
        ),
        (ErrorCode::INVALID_REQUEST, ErrorCode::INVALID_REQUEST),
    ] {
        let mut fx = Fx::new(Options::default());
        fx.append_n(0, "a", 1);
        fx.run();
        let init = fx
            .client
            .in_flight_of(ApiKey::INIT_PRODUCER_ID)
            .pop()
            .unwrap();
        fx.answer_init_producer_id(&init, code, -1, -1);
        fx.run();
        assert_eq!(fx.tm().fatal_error().and_then(|e| e.code()), Some(expected));
        fx.run();
        assert_eq!(fx.failed()[0].1.code(), Some(expected));
    }
}

#[test]
fn no_init_producer_id_on_the_broker_is_fatal() {
    let mut fx = Fx::new(Options::default());
    fx.client.set_max_version(ApiKey::INIT_PRODUCER_ID, -1);
    fx.append_n(0, "a", 1);
    fx.run();
    assert!(matches!(fx.tm().fatal_error(), Some(Error::Unsupported(_))));
    fx.run();
    assert!(matches!(fx.failed()[0].1, Error::Unsupported(_)));
}

/// Answers helpers for fields `err` leaves at their defaults.
trait PartitionProduceResponseExt {
    fn log_start(self, offset: i64) -> Self;
}

impl PartitionProduceResponseExt for crate::protocol::messages::produce::PartitionProduceResponse {
    fn log_start(mut self, offset: i64) -> Self {
        self.log_start_offset = offset;
        self
    }
}
