//! `buffer.memory` bounds what records hold outside their batches too: a
//! producer whose records carry big callbacks runs out of memory (and
//! `send` waits `max.block.ms`, then fails with `BufferExhausted`) after
//! as many records as the callbacks' memory allows, not after as many as
//! the batches' bytes allow. No test depends on timing to pass: the
//! broker holds its answers far longer than the test runs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kafka_producer::mock::MockCluster;
use kafka_producer::producer::serialization::BytesSerializer;
use kafka_producer::protocol::ApiKey;
use kafka_producer::{Error, KafkaProducer, ProducerConfig, ProducerRecord};

const MEMORY: usize = 64 * 1024;
const CAPTURED: usize = 2048;

/// A producer of 64 KiB `buffer.memory` (16 KiB batches) on a cluster that
/// answers produce requests only after a minute.
fn stalled_producer() -> (MockCluster, KafkaProducer<Vec<u8>, Vec<u8>>) {
    let cluster = MockCluster::builder().brokers(1).start().unwrap();
    cluster.create_topic("t", 1).unwrap();
    cluster.delay_responses(None, Some(ApiKey::PRODUCE), Duration::from_secs(60));
    let config = ProducerConfig::builder(&cluster.bootstrap_servers())
        .buffer_memory(MEMORY as u64)
        .batch_size(16 * 1024)
        .max_block_ms(1_000)
        .build()
        .unwrap();
    let producer = KafkaProducer::new(config, BytesSerializer, BytesSerializer).unwrap();
    (cluster, producer)
}

/// Sends 10-byte records until `send` fails; returns how many were taken
/// and the error. With `with_callback`, each record's callback captures
/// `CAPTURED` bytes.
fn send_until_full(
    producer: &KafkaProducer<Vec<u8>, Vec<u8>>,
    with_callback: bool,
    limit: usize,
    calls: &Arc<AtomicUsize>,
    errors: &Arc<AtomicUsize>,
) -> (usize, Option<Error>) {
    for sent in 0..limit {
        let record = ProducerRecord::new("t", vec![b'x'; 10]);
        let result = if with_callback {
            let (calls, errors) = (calls.clone(), errors.clone());
            let big = [1u8; CAPTURED];
            producer.send_with_callback(record, move |r| {
                std::hint::black_box(&big);
                calls.fetch_add(1, Ordering::SeqCst);
                if r.is_err() {
                    errors.fetch_add(1, Ordering::SeqCst);
                }
            })
        } else {
            producer.send(record)
        };
        if let Err(e) = result {
            return (sent, Some(e));
        }
    }
    (limit, None)
}

#[test]
fn big_callbacks_exhaust_buffer_memory_long_before_the_batches_do() {
    let (_cluster, producer) = stalled_producer();
    let (calls, errors) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (sent, error) = send_until_full(&producer, true, 10_000, &calls, &errors);
    let error = error.expect("the pool ran out");
    assert!(matches!(error, Error::BufferExhausted(_)), "{error:?}");
    // Each callback holds over 2 KiB: at most 32 of them fit 64 KiB, less
    // what the batch buffers take. Without the charge, four 16 KiB
    // batches would take about 3,000 records of 10 bytes.
    assert!(sent > 0 && sent < MEMORY / CAPTURED, "{sent} records");
    // The failed record's callback ran at once with the error.
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(errors.load(Ordering::SeqCst), 1);

    // A forced close fails the waiting records; every callback runs once.
    producer.close_timeout(Duration::ZERO).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), sent + 1);
    assert_eq!(errors.load(Ordering::SeqCst), sent + 1);
}

#[test]
fn without_callbacks_the_batches_bound_the_records() {
    let (_cluster, producer) = stalled_producer();
    let (calls, errors) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (sent, error) = send_until_full(&producer, false, 10_000, &calls, &errors);
    let error = error.expect("the pool ran out");
    assert!(matches!(error, Error::BufferExhausted(_)), "{error:?}");
    // Four batches of 16 KiB, each holding hundreds of 10-byte records.
    assert!(sent > 1_000, "{sent} records");
    producer.close_timeout(Duration::ZERO).unwrap();
}
