//! `KafkaProducer` against the embedded `MockCluster` over real TCP, for the
//! sender's fault paths where a real broker's checks prove more than a
//! scripted client: a `max.message.bytes` below the batch size (batches
//! split until they fit), a record larger than it (`RecordTooLarge`),
//! sequence gaps repaired by an epoch bump that the broker accepts, and the
//! fatal state seen by every later send.
//!
//! Nothing here depends on timing: the producer lingers long and `flush`
//! decides when batches go; futures are waited for without deadlines.

#![cfg(feature = "mock")]

use kafka_producer::mock::MockCluster;
use kafka_producer::producer::serialization::BytesSerializer;
use kafka_producer::producer::ProducerConfigBuilder;
use kafka_producer::protocol::ErrorCode;
use kafka_producer::{Error, KafkaProducer, ProducerConfig, ProducerRecord, SendFuture};

type Producer = KafkaProducer<Vec<u8>, Vec<u8>>;

fn cluster(max_message_bytes: usize) -> MockCluster {
    let cluster = MockCluster::builder()
        .brokers(1)
        .max_message_bytes(max_message_bytes)
        .start()
        .unwrap();
    cluster.create_topic("t", 1).unwrap();
    cluster
}

/// Idempotent defaults; batches of 16 KiB that wait for `flush`.
fn config(cluster: &MockCluster) -> ProducerConfigBuilder {
    ProducerConfig::builder(&cluster.bootstrap_servers())
        .max_block_ms(20_000)
        .linger_ms(600_000)
        .delivery_timeout_ms(900_000)
        .batch_size(16_384)
        .retry_backoff_ms(5)
}

fn producer(config: ProducerConfigBuilder) -> Producer {
    KafkaProducer::new(config.build().unwrap(), BytesSerializer, BytesSerializer).unwrap()
}

fn value(i: u32) -> Vec<u8> {
    let mut v = i.to_be_bytes().to_vec();
    v.resize(100, b'.');
    v
}

fn send_all(p: &Producer, values: std::ops::Range<u32>) -> Vec<SendFuture> {
    values
        .map(|i| p.send(ProducerRecord::new("t", value(i))).unwrap())
        .collect()
}

/// The stored values' numbers, in offset order.
fn stored(cluster: &MockCluster) -> Vec<u32> {
    cluster
        .records("t", 0)
        .iter()
        .map(|r| u32::from_be_bytes(r.value.as_deref().unwrap()[..4].try_into().unwrap()))
        .collect()
}

#[test]
fn batches_above_max_message_bytes_are_split_until_they_fit() {
    // 100 records of ~110 bytes: one batch of ~11 KB, five times what the
    // broker takes.
    let cluster = cluster(2_000);
    let p = producer(config(&cluster));
    let futures = send_all(&p, 0..100);
    p.flush().unwrap();
    for (i, f) in futures.into_iter().enumerate() {
        let md = f.get().unwrap_or_else(|e| panic!("record {i}: {e}"));
        assert_eq!(md.offset(), i as i64, "record {i}");
    }
    assert_eq!(stored(&cluster), (0..100).collect::<Vec<_>>());
    // Every stored batch fits, and the sequences run on from 0.
    let records = cluster.records("t", 0);
    assert!(records
        .iter()
        .enumerate()
        .all(|(i, r)| r.sequence == i as i32 && r.producer_epoch == 0));
    assert!(cluster.batches("t", 0).iter().all(|b| b.len() <= 2_000));
    p.close().unwrap();
}

#[test]
fn a_record_above_max_message_bytes_fails_with_record_too_large() {
    let cluster = cluster(2_000);
    let p = producer(config(&cluster));
    let big = p.send(ProducerRecord::new("t", vec![7u8; 5_000])).unwrap();
    p.flush().unwrap();
    let e = big.get().unwrap_err();
    assert!(
        matches!(&e, Error::RecordTooLarge(m) if m.starts_with("t-0")),
        "{e}"
    );
    // The producer goes on (after an epoch bump closing the gap the
    // failed batch left).
    let small = p.send(ProducerRecord::new("t", value(1))).unwrap();
    p.flush().unwrap();
    assert_eq!(small.get().unwrap().offset(), 0);
    assert_eq!(stored(&cluster), [1]);
    p.close().unwrap();
}

#[test]
fn an_out_of_order_sequence_gap_is_repaired_by_an_epoch_bump() {
    let cluster = cluster(1_000_000);
    let p = producer(config(&cluster));
    // The producer is known to the partition first.
    let first = send_all(&p, 0..3);
    p.flush().unwrap();
    first.into_iter().for_each(|f| drop(f.get().unwrap()));
    // The next batch is the next one in sequence, yet refused as out of
    // order: a gap only a new epoch, restarting at 0, can close.
    cluster.push_partition_errors("t", 0, &[ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER]);
    let next = send_all(&p, 3..6);
    p.flush().unwrap();
    for (i, f) in next.into_iter().enumerate() {
        assert_eq!(f.get().unwrap().offset(), 3 + i as i64);
    }
    let records = cluster.records("t", 0);
    let state: Vec<(i16, i32)> = records
        .iter()
        .map(|r| (r.producer_epoch, r.sequence))
        .collect();
    assert_eq!(state, [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]);
    assert_eq!(stored(&cluster), (0..6).collect::<Vec<_>>());
    p.close().unwrap();
}

#[test]
fn an_unknown_producer_id_is_retried_and_delivered_once() {
    let cluster = cluster(1_000_000);
    let p = producer(config(&cluster));
    cluster.push_partition_errors(
        "t",
        0,
        &[
            ErrorCode::UNKNOWN_PRODUCER_ID,
            ErrorCode::UNKNOWN_PRODUCER_ID,
        ],
    );
    let futures = send_all(&p, 0..4);
    p.flush().unwrap();
    for (i, f) in futures.into_iter().enumerate() {
        assert_eq!(f.get().unwrap().offset(), i as i64);
    }
    assert_eq!(stored(&cluster), (0..4).collect::<Vec<_>>());
    p.close().unwrap();
}

#[test]
fn after_a_fatal_error_every_send_fails_at_once_naming_the_cause() {
    let cluster = cluster(1_000_000);
    let p = producer(config(&cluster));
    cluster.push_partition_errors("t", 0, &[ErrorCode::PRODUCER_FENCED]);
    let fenced = p.send(ProducerRecord::new("t", value(0))).unwrap();
    p.flush().unwrap();
    assert_eq!(
        fenced.get().unwrap_err().code(),
        Some(ErrorCode::PRODUCER_FENCED)
    );
    for i in 1..3 {
        let e = p.send(ProducerRecord::new("t", value(i))).unwrap_err();
        assert_eq!(e.code(), Some(ErrorCode::PRODUCER_FENCED), "{e}");
        let text = e.to_string();
        assert!(
            text.contains("fatal error state") && text.contains("PRODUCER_FENCED"),
            "{text}"
        );
    }
    assert!(stored(&cluster).is_empty());
    p.close().unwrap();
}
