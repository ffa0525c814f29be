//! The sender's retry, timeout and response rules that do not depend on
//! idempotence, on a scripted client and a mock clock (Java 4.3
//! `Sender.completeBatch`, `canRetry`, `failBatch`, KIP-580 backoff,
//! KIP-467 record errors, KIP-951 leader hints, KIP-219 throttling), and
//! what the sender does with hostile or broken answers.

use super::testutil::*;
use crate::clients::network_client::mock_client::SentRequest;
use crate::clients::network_client::RequestFailure;
use crate::error::Error;
use crate::protocol::error_code::ErrorCode;
use crate::protocol::messages::produce::{BatchIndexAndErrorMessage, LeaderIdAndEpoch};
use crate::util::clock::Clock;

fn plain() -> Options {
    Options {
        idempotent: false,
        ..Options::default()
    }
}

fn send(fx: &mut Fx, p: i32, prefix: &str, n: usize) -> SentRequest {
    let before = fx.produce_requests().len();
    fx.append_n(p, prefix, n);
    fx.run();
    let requests = fx.produce_requests();
    assert_eq!(requests.len(), before + 1, "one new produce request");
    requests[before].clone()
}

/// The retry backoff is exponential (100 ms doubling to the 1 s cap,
/// KIP-580; no jitter here): the batch is not sendable a millisecond
/// early, and the sender sleeps exactly until it is.
#[test]
fn retriable_errors_back_off_exponentially_up_to_the_cap() {
    let mut fx = Fx::new(plain());
    let mut req = send(&mut fx, 0, "a", 1);
    for backoff in [100u32, 200, 400, 800, 1000, 1000] {
        fx.answer(&req, |_| err(ErrorCode::NOT_ENOUGH_REPLICAS));
        fx.run();
        fx.run();
        assert_eq!(
            fx.client.poll_timeouts().last().copied(),
            Some(backoff * MS),
            "the sender sleeps until the backoff ends"
        );
        fx.clock.advance((backoff - 1) * MS);
        fx.run();
        assert!(fx.produce_requests().is_empty(), "{backoff} ms not over");
        fx.clock.advance(MS);
        fx.run();
        req = fx.only_produce_request();
    }
    fx.answer(&req, |_| ok(5));
    fx.run();
    assert_eq!(fx.acked(), [("a0".to_owned(), 5)]);
}

#[test]
fn retries_run_out_and_the_batch_fails_with_the_brokers_error_and_message() {
    let mut fx = Fx::new(Options {
        retries: 2,
        ..plain()
    });
    let mut req = send(&mut fx, 0, "a", 2);
    for _ in 0..2 {
        fx.answer(&req, |_| err(ErrorCode::NOT_ENOUGH_REPLICAS));
        fx.run();
        fx.clock.advance(1000 * MS);
        fx.run();
        req = fx.only_produce_request();
    }
    fx.answer(&req, |_| {
        let mut e = err(ErrorCode::NOT_ENOUGH_REPLICAS);
        e.error_message = Some("only 1 in sync".to_owned());
        e
    });
    fx.run();
    let failed = fx.failed();
    assert_eq!(failed.len(), 2);
    for (_, e) in failed {
        assert!(
            matches!(&e, Error::Broker { code: ErrorCode::NOT_ENOUGH_REPLICAS, message: Some(m) } if m == "only 1 in sync"),
            "{e:?}"
        );
    }
}

#[test]
fn a_retried_batch_goes_before_the_batches_queued_behind_it() {
    let mut fx = Fx::new(plain());
    let first = send(&mut fx, 0, "a", 1);
    fx.append_n(0, "b", 1);
    fx.answer(&first, |_| err(ErrorCode::NOT_ENOUGH_REPLICAS));
    fx.run();
    // b was sent meanwhile (nothing orders a plain producer's batches
    // while the first is in flight); answer it, then see a go alone.
    let b = fx.only_produce_request();
    assert_eq!(strings(&wire_batches(&b)[0].values), ["b0"]);
    fx.append_n(0, "c", 1);
    fx.answer(&b, |_| ok(0));
    fx.clock.advance(100 * MS);
    fx.run();
    let retry = fx.only_produce_request();
    assert_eq!(
        strings(&wire_batches(&retry)[0].values),
        ["a0"],
        "retry first"
    );
    fx.run();
    let c = fx.produce_requests().pop().unwrap();
    assert_eq!(strings(&wire_batches(&c)[0].values), ["c0"]);
}

#[test]
fn non_retriable_errors_fail_at_once() {
    let mut fx = Fx::new(plain());
    let req = send(&mut fx, 0, "a", 1);
    fx.answer(&req, |_| err(ErrorCode::INVALID_REQUIRED_ACKS));
    fx.run();
    assert_eq!(
        fx.failed()[0].1.code(),
        Some(ErrorCode::INVALID_REQUIRED_ACKS)
    );
}

/// KIP-467: the broker names the records that broke the batch; each gets
/// its own error, the others a generic one.
#[test]
fn record_errors_reach_the_records_they_name() {
    for (indexes, expected_code) in [
        (vec![1], ErrorCode::INVALID_TIMESTAMP),
        (vec![0, 2], ErrorCode::INVALID_RECORD),
    ] {
        let mut fx = Fx::new(plain());
        let req = send(&mut fx, 0, "r", 3);
        fx.answer(&req, |_| {
            let mut e = err(ErrorCode::INVALID_TIMESTAMP);
            e.error_message = Some("timestamps out of range".to_owned());
            e.record_errors = indexes
                .iter()
                .map(|&i| BatchIndexAndErrorMessage {
                    batch_index: i,
                    batch_index_error_message: (i == 0).then(|| "first is bad".to_owned()),
                })
                .collect();
            e
        });
        fx.run();
        let failed = fx.failed();
        assert_eq!(failed.len(), 3);
        for (i, (value, error)) in failed.iter().enumerate() {
            assert_eq!(value, &format!("r{i}"));
            let named = indexes.contains(&(i as i32));
            if named {
                let expected_message = if i == 0 {
                    "first is bad"
                } else {
                    "timestamps out of range"
                };
                assert!(
                    matches!(error, Error::Broker { code, message: Some(m) } if *code == expected_code && m == expected_message),
                    "{i}: {error:?}"
                );
            } else {
                assert!(
                    matches!(error, Error::Other(m) if m.contains("part of a batch which had one more more invalid records")),
                    "{i}: {error:?}"
                );
            }
        }
    }
}

/// KIP-951: a `NOT_LEADER_OR_FOLLOWER` answer naming the new leader moves
/// the partition at once; the retry goes there without waiting for its
/// backoff or for new metadata (which is still asked for).
#[test]
fn a_leader_hint_moves_the_retry_to_the_new_leader_at_once() {
    let mut fx = Fx::new(plain());
    let req = send(&mut fx, 0, "a", 1);
    assert_eq!(req.node, 1);
    fx.answer(&req, |_| {
        let mut e = err(ErrorCode::NOT_LEADER_OR_FOLLOWER);
        e.current_leader = LeaderIdAndEpoch {
            leader_id: 2,
            leader_epoch: 1,
        };
        e
    });
    fx.run();
    assert!(fx.metadata.update_requested());
    assert_eq!(fx.metadata.fetch().leader_for(&tp(0)), Some(2));
    fx.run();
    let retry = fx.only_produce_request();
    assert_eq!(retry.node, 2, "sent to the new leader without a backoff");
}

/// A hint on any other error is ignored, as in Java.
#[test]
fn a_leader_hint_on_another_error_is_ignored() {
    let mut fx = Fx::new(plain());
    let req = send(&mut fx, 0, "a", 1);
    fx.answer(&req, |_| {
        let mut e = err(ErrorCode::NOT_ENOUGH_REPLICAS);
        e.current_leader = LeaderIdAndEpoch {
            leader_id: 2,
            leader_epoch: 1,
        };
        e
    });
    fx.run();
    assert_eq!(fx.metadata.fetch().leader_for(&tp(0)), Some(1));
}

#[test]
fn invalid_metadata_errors_ask_for_a_metadata_update() {
    let mut fx = Fx::new(plain());
    let req = send(&mut fx, 0, "a", 1);
    assert!(!fx.metadata.update_requested());
    fx.answer(&req, |_| err(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION));
    fx.run();
    assert!(fx.metadata.update_requested());
    assert!(fx.failed().is_empty(), "retriable");
}

/// KIP-219: a throttle time in the answer holds further requests to that
/// broker; the sender sleeps until it ends.
#[test]
fn a_throttle_time_holds_requests_to_that_broker() {
    let mut fx = Fx::new(plain());
    let req = send(&mut fx, 0, "a", 1);
    fx.answer_with(&req, 500, |_| vec![ok(0)]);
    fx.run();
    let until = fx.client.throttled_until(1).expect("throttled");
    assert_eq!(until, fx.clock.now() + 500 * MS);
    fx.append_n(0, "b", 1);
    fx.run();
    assert!(fx.produce_requests().is_empty());
    assert_eq!(fx.client.poll_timeouts().last().copied(), Some(500 * MS));
    fx.append_n(1, "other", 1);
    fx.run();
    assert_eq!(
        fx.only_produce_request().node,
        2,
        "other brokers are not held"
    );
    fx.clock.advance(500 * MS);
    fx.run();
    assert!(fx.produce_requests().iter().any(|r| r.node == 1));
}

#[test]
fn an_answer_for_a_partition_not_asked_is_ignored() {
    let mut fx = Fx::new(Options {
        partitions: 6,
        ..plain()
    });
    let req = send(&mut fx, 0, "a", 1);
    fx.answer_with(&req, 0, |_| {
        let mut stray = ok(77);
        stray.index = 3;
        vec![stray, ok(10)]
    });
    fx.run();
    assert_eq!(fx.acked(), [("a0".to_owned(), 10)]);
}

#[test]
fn a_partition_missing_from_the_answer_fails_saying_so() {
    let mut fx = Fx::new(Options {
        partitions: 6,
        ..plain()
    });
    // Partitions 0 and 3 both lead on broker 1: one request.
    fx.append_n(0, "a", 1);
    fx.append_n(3, "b", 1);
    fx.run();
    let req = fx.only_produce_request();
    assert_eq!(wire_batches(&req).len(), 2);
    fx.answer_with(&req, 0, |b| {
        if b.tp.partition() == 0 {
            vec![ok(10)]
        } else {
            vec![]
        }
    });
    fx.run();
    assert_eq!(fx.acked(), [("a0".to_owned(), 10)]);
    let failed = fx.failed();
    assert!(
        matches!(&failed[0].1, Error::Broker { code: ErrorCode::UNKNOWN_SERVER_ERROR, message: Some(m) } if m.contains("t-3")),
        "{failed:?}"
    );
}

#[test]
fn a_partition_answered_twice_counts_once() {
    let mut fx = Fx::new(plain());
    let req = send(&mut fx, 0, "a", 1);
    fx.answer_with(&req, 0, |_| vec![ok(10), err(ErrorCode::CORRUPT_MESSAGE)]);
    fx.run();
    assert_eq!(fx.acked(), [("a0".to_owned(), 10)]);
    assert!(fx.failed().is_empty());
}

/// Garbage instead of a produce response: the connection is closed, the
/// batch is retried (its fate is unknown), nothing is lost or doubled.
#[test]
fn an_unreadable_answer_closes_the_connection_and_the_batch_is_retried() {
    let mut fx = Fx::new(plain());
    let req = send(&mut fx, 0, "a", 1);
    let other = send(&mut fx, 0, "b", 1);
    assert!(fx
        .client
        .respond(req.correlation_id, vec![0xff; 3], fx.clock.now()));
    fx.run();
    assert!(
        fx.produce_requests().is_empty(),
        "the other request on that connection failed too"
    );
    assert!(fx.failed().is_empty());
    let _ = other;
    fx.clock.advance(100 * MS);
    for _ in 0..4 {
        fx.run();
        for r in fx.produce_requests() {
            fx.answer(&r, |b| ok(if b.values[0] == b"a0" { 0 } else { 1 }));
        }
    }
    let mut acked = fx.acked();
    acked.sort();
    assert_eq!(acked, [("a0".to_owned(), 0), ("b0".to_owned(), 1)]);
}

#[test]
fn disconnects_and_request_timeouts_are_retried() {
    let mut fx = Fx::new(Options {
        request_timeout: 1000 * MS,
        ..plain()
    });
    let req = send(&mut fx, 0, "a", 1);
    fx.client.disconnect(req.node, fx.clock.now());
    fx.run();
    assert!(fx.failed().is_empty());
    fx.clock.advance(100 * MS);
    fx.run();
    let _retry = fx.only_produce_request();
    // No answer: the request times out and the batch is retried again.
    fx.clock.advance(1000 * MS);
    fx.run();
    assert!(fx.failed().is_empty());
    fx.clock.advance(200 * MS);
    fx.run();
    let last = fx.only_produce_request();
    fx.answer(&last, |_| ok(3));
    fx.run();
    assert_eq!(fx.acked(), [("a0".to_owned(), 3)]);
}

#[test]
fn a_batch_in_flight_past_the_delivery_timeout_fails_and_its_late_answer_is_ignored() {
    let mut fx = Fx::new(Options {
        delivery_timeout: 1000 * MS,
        ..plain()
    });
    let req = send(&mut fx, 0, "a", 1);
    fx.clock.advance(999 * MS);
    fx.run();
    assert!(fx.failed().is_empty());
    fx.clock.advance(MS);
    fx.run();
    assert!(
        matches!(&fx.failed()[0].1, Error::Timeout(m) if m.contains("1000 ms has passed since batch creation")),
        "{:?}",
        fx.failed()
    );
    fx.answer(&req, |_| ok(0));
    fx.run();
    assert!(fx.acked().is_empty());
    assert_eq!(fx.outcomes.lock().len(), 1, "completed once");
    assert_eq!(fx.accumulator.pool().available_memory(), BUFFER_MEMORY);
}

/// max.in.flight.requests.per.connection=1 without idempotence: a
/// partition with a batch in flight is muted, even when the connection
/// could take more.
#[test]
fn with_one_request_in_flight_a_partition_is_muted_until_answered() {
    let mut fx = Fx::new(Options {
        max_in_flight: 1,
        client_max_in_flight: Some(5),
        ..plain()
    });
    let first = send(&mut fx, 0, "a", 1);
    fx.append_n(0, "b", 1);
    fx.run();
    assert_eq!(fx.produce_requests().len(), 1, "muted");
    fx.answer(&first, |_| ok(0));
    fx.run();
    fx.run();
    let values: Vec<String> = fx
        .produce_requests()
        .iter()
        .flat_map(wire_batches)
        .flat_map(|b| strings(&b.values))
        .collect();
    assert!(values.contains(&"b0".to_owned()), "{values:?}");
}

#[test]
fn acks_zero_completes_once_written_with_no_offset() {
    let mut fx = Fx::new(Options { acks: 0, ..plain() });
    fx.append_n(0, "a", 2);
    fx.run();
    let sent = fx.client.sent();
    assert_eq!(sent.len(), 1);
    assert!(!sent[0].expect_response);
    fx.run();
    assert_eq!(fx.acked(), [("a0".to_owned(), -1), ("a1".to_owned(), -1)]);
}

#[test]
fn a_failed_answer_of_any_kind_is_a_network_error_and_retried() {
    let mut fx = Fx::new(plain());
    let req = send(&mut fx, 0, "a", 1);
    fx.client.fail(
        req.correlation_id,
        RequestFailure::Invalid(Error::Other("bad frame".into())),
        fx.clock.now(),
    );
    fx.run();
    assert!(fx.failed().is_empty());
    fx.clock.advance(100 * MS);
    fx.run();
    assert_eq!(fx.produce_requests().len(), 1);
}
