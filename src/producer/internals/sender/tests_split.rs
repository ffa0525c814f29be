//! `MESSAGE_TOO_LARGE`: a batch of several records is split and the parts
//! re-enqueued in its place, in order, with its sequences, without counting
//! an attempt; every record keeps its future and callback. A batch of one
//! record fails with `RecordTooLarge` (Java `Sender.completeBatch` +
//! `ProducerBatch.split` + `RecordAccumulator.splitAndReenqueue`).

use super::testutil::*;
use crate::error::Error;
use crate::protocol::error_code::ErrorCode;
use crate::record::Compression;

/// Sends what is sendable, answering every produce request in flight:
/// `MESSAGE_TOO_LARGE` for batches of more than `limit` records, else
/// success at the next offset. Returns the batches seen, in send order.
fn drive(fx: &mut Fx, limit: usize, rounds: usize) -> Vec<WireBatch> {
    let mut seen = Vec::new();
    let mut next_offset = 100;
    for _ in 0..rounds {
        fx.run();
        for req in fx.produce_requests() {
            fx.answer(&req, |b| {
                seen.push(b.clone());
                if b.values.len() > limit {
                    err(ErrorCode::MESSAGE_TOO_LARGE)
                } else {
                    let r = ok(next_offset);
                    next_offset += b.values.len() as i64;
                    r
                }
            });
        }
    }
    seen
}

fn split_keeps_order_offsets_and_sequences(idempotent: bool, compression: Compression) {
    let o = Options {
        idempotent,
        compression,
        batch_size: 4096,
        ..Options::default()
    };
    let mut fx = if idempotent {
        Fx::idempotent(o, 7)
    } else {
        Fx::new(o)
    };
    let futures = fx.append_n(0, "record-with-a-value-", 10);
    let seen = drive(&mut fx, 3, 30);
    let first = &seen[0];
    assert_eq!(first.values.len(), 10, "sent whole first");
    // Every part of at most 3 records was accepted; together, in order,
    // they are the 10 records; sequences are consecutive from the
    // original base.
    let accepted: Vec<&WireBatch> = seen.iter().filter(|b| b.values.len() <= 3).collect();
    let values: Vec<String> = accepted.iter().flat_map(|b| strings(&b.values)).collect();
    let expected: Vec<String> = (0..10)
        .map(|i| format!("record-with-a-value-{i}"))
        .collect();
    assert_eq!(values, expected, "{seen:?}");
    if idempotent {
        let mut next = 0;
        for b in &accepted {
            assert_eq!((b.producer_id, b.epoch, b.base_sequence), (7, 0, next));
            next += b.values.len() as i32;
        }
        assert_eq!(fx.tm().last_acked_sequence(&tp(0)), Some(9));
    } else {
        assert!(accepted.iter().all(|b| b.base_sequence == -1));
    }
    // Futures and callbacks follow their records to the parts.
    let offsets: Vec<i64> = futures
        .into_iter()
        .map(|f| f.get().unwrap().offset())
        .collect();
    assert_eq!(offsets, (100..110).collect::<Vec<_>>());
    let acked = fx.acked();
    assert_eq!(
        acked,
        expected.iter().cloned().zip(100..110).collect::<Vec<_>>(),
        "callbacks in order"
    );
    assert!(!fx.accumulator.has_incomplete());
    assert_eq!(fx.accumulator.pool().available_memory(), BUFFER_MEMORY);
}

#[test]
fn a_split_batch_keeps_record_order_offsets_and_sequences() {
    split_keeps_order_offsets_and_sequences(true, Compression::none());
}

#[test]
fn a_split_batch_without_idempotence() {
    split_keeps_order_offsets_and_sequences(false, Compression::none());
}

#[test]
fn a_compressed_batch_is_split_too() {
    split_keeps_order_offsets_and_sequences(true, Compression::gzip(-1).unwrap());
}

#[test]
fn splitting_counts_no_attempt_and_waits_no_backoff() {
    let o = Options {
        retries: 0,
        ..Options::default()
    };
    let mut fx = Fx::idempotent(o, 7);
    fx.append_n(0, "v", 4);
    fx.run();
    let req = fx.only_produce_request();
    fx.answer(&req, |_| err(ErrorCode::MESSAGE_TOO_LARGE));
    fx.run();
    // With retries=0 a retry would be impossible; the parts go at once.
    fx.run();
    let part = wire(&fx.only_produce_request());
    assert_eq!(part.seq(), (0, 2));
    assert!(fx.failed().is_empty());
}

#[test]
fn a_split_goes_before_later_batches_in_sequence_order() {
    let mut fx = Fx::idempotent(Options::default(), 7);
    fx.append_n(0, "a", 4);
    fx.run();
    let big = fx.only_produce_request();
    fx.append_n(0, "b", 1);
    fx.run();
    let later = fx.produce_requests()[1].clone();
    assert_eq!(wire(&later).seq(), (4, 1));
    fx.answer(&big, |_| err(ErrorCode::MESSAGE_TOO_LARGE));
    fx.answer(&later, |_| err(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER));
    fx.run();
    assert!(!fx.tm().epoch_bump_required(), "b is not the next batch");
    let queued: Vec<(i32, i32)> = fx
        .accumulator
        .with_deque(&tp(0), |dq| {
            dq.iter()
                .map(|b| (b.base_sequence(), b.record_count()))
                .collect()
        })
        .unwrap();
    assert_eq!(queued, [(0, 2), (2, 2), (4, 1)]);
}

#[test]
fn a_single_record_too_large_fails_with_record_too_large() {
    let mut fx = Fx::new(Options {
        idempotent: false,
        ..Options::default()
    });
    fx.append_n(0, "only", 1);
    fx.run();
    let req = fx.only_produce_request();
    fx.answer(&req, |_| {
        let mut e = err(ErrorCode::MESSAGE_TOO_LARGE);
        e.error_message = Some("too big for max.message.bytes".to_owned());
        e
    });
    fx.run();
    let failed = fx.failed();
    assert_eq!(failed.len(), 1);
    assert!(
        matches!(&failed[0].1, Error::RecordTooLarge(m) if m == "t-0: too big for max.message.bytes"),
        "{failed:?}"
    );
}

fn wire(req: &crate::clients::network_client::mock_client::SentRequest) -> WireBatch {
    let mut b = wire_batches(req);
    assert_eq!(b.len(), 1);
    b.remove(0)
}
