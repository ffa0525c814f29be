//! `KafkaProducer` against the embedded `MockCluster` over real TCP while
//! the cluster's shape changes under it: partitions added, a topic
//! deleted (and created again), and every broker the producer knows of
//! gone while the bootstrap address still works (KIP-899 rebootstrap,
//! `metadata.recovery.strategy` and
//! `metadata.recovery.rebootstrap.trigger.ms`).
//!
//! What each test asserts does not depend on timing: waits are polls
//! bounded only to turn a hang into a failure, and where a record must
//! time out, nothing else could deliver it (the only way out is the
//! mechanism under test, or none).

#![cfg(feature = "mock")]

use std::collections::{BTreeMap, BTreeSet};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use kafka_producer::mock::MockCluster;
use kafka_producer::producer::partitioner::default_partition_for_key;
use kafka_producer::producer::serialization::BytesSerializer;
use kafka_producer::producer::{MetadataRecoveryStrategy, ProducerConfigBuilder};
use kafka_producer::protocol::{ApiKey, ErrorCode};
use kafka_producer::{
    Error, KafkaProducer, ProducerConfig, ProducerRecord, RecordMetadata, SendFuture,
};
use parking_lot::Mutex;

type Producer = KafkaProducer<Vec<u8>, Vec<u8>>;

fn producer(config: ProducerConfigBuilder) -> Producer {
    KafkaProducer::new(config.build().unwrap(), BytesSerializer, BytesSerializer).unwrap()
}

/// A cluster of `brokers` brokers that does not create topics on its own
/// (a deleted topic stays deleted), with topic `t` of `partitions`.
fn cluster(brokers: usize, partitions: i32) -> MockCluster {
    let cluster = MockCluster::builder()
        .brokers(brokers)
        .auto_create_topics(false)
        .start()
        .unwrap();
    cluster.create_topic("t", partitions).unwrap();
    cluster
}

fn value(i: u32) -> Vec<u8> {
    i.to_be_bytes().to_vec()
}

fn number(bytes: Option<&[u8]>) -> u32 {
    u32::from_be_bytes(bytes.unwrap().try_into().unwrap())
}

/// Polls `done` every 10 ms; panics after 20 s (a hang, not a timing).
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..2000 {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("timed out waiting for {what}");
}

// ---------------------------------------------------------------- partitions added

#[test]
fn after_partitions_are_added_records_reach_them_keyed_by_the_new_count() {
    let cluster = cluster(2, 2);
    // A short metadata.max.age.ms: the producer learns of the new
    // partitions from a periodic refresh, as in Java (nothing fails).
    let p = producer(
        ProducerConfig::builder(&cluster.bootstrap_servers())
            .metadata_max_age_ms(100)
            .batch_size(200)
            .linger_ms(0),
    );
    let keys: Vec<Vec<u8>> = (0..40).map(|k| format!("key-{k}").into_bytes()).collect();
    let send_keyed = |from: u32| -> Vec<(Vec<u8>, u32, SendFuture)> {
        keys.iter()
            .enumerate()
            .map(|(i, k)| {
                let n = from + i as u32;
                let f = p
                    .send(ProducerRecord::new("t", value(n)).with_key(k.clone()))
                    .unwrap();
                (k.clone(), n, f)
            })
            .collect()
    };
    // Before: murmur2(key) % 2.
    let mut acked: BTreeMap<u32, (i32, i64)> = BTreeMap::new();
    for (key, n, f) in send_keyed(0) {
        let md = f.get().unwrap();
        assert_eq!(
            md.partition(),
            default_partition_for_key(&key, 2),
            "{key:?}"
        );
        acked.insert(n, (md.partition(), md.offset()));
    }

    cluster.create_partitions("t", 6).unwrap();
    wait_for("the producer to see 6 partitions", || {
        p.partitions_for("t").unwrap().len() == 6
    });

    // After: murmur2(key) % 6 (most keys move), and unkeyed records, spread
    // by the sticky partitioner over every partition, reach new ones too.
    for (key, n, f) in send_keyed(1_000) {
        let md = f.get().unwrap();
        assert_eq!(
            md.partition(),
            default_partition_for_key(&key, 6),
            "{key:?}"
        );
        acked.insert(n, (md.partition(), md.offset()));
    }
    let unkeyed: Vec<(u32, SendFuture)> = (2_000..4_000)
        .map(|n| (n, p.send(ProducerRecord::new("t", value(n))).unwrap()))
        .collect();
    let mut unkeyed_partitions = BTreeSet::new();
    for (n, f) in unkeyed {
        let md = f.get().unwrap();
        unkeyed_partitions.insert(md.partition());
        acked.insert(n, (md.partition(), md.offset()));
    }
    // 2 000 records in batches of about 20: a hundred or so partition
    // switches, each to a random partition; all landing on 0 and 1 would
    // be a broken partitioner.
    assert!(
        unkeyed_partitions.iter().any(|&q| q >= 2),
        "unkeyed records only on {unkeyed_partitions:?}"
    );
    let moved = keys
        .iter()
        .filter(|k| default_partition_for_key(k, 2) != default_partition_for_key(k, 6))
        .count();
    assert!(moved > 0, "the test's keys must show the new count");

    // Nothing lost or repeated: every acknowledged record is where it was
    // acknowledged, once; the old partitions kept their first records.
    p.close().unwrap();
    let mut stored: BTreeMap<u32, (i32, i64)> = BTreeMap::new();
    for partition in 0..6 {
        for r in cluster.records("t", partition) {
            let n = number(r.value.as_deref());
            assert!(
                stored.insert(n, (partition, r.offset)).is_none(),
                "record {n} stored twice"
            );
        }
    }
    assert_eq!(stored, acked);
}

// ---------------------------------------------------------------- topic deleted

/// The outcome of a send whose record must fail: the error, which must name
/// the topic's partition.
fn failed_on_t0(result: Result<kafka_producer::RecordMetadata, Error>) -> Error {
    let e = result.expect_err("a record for a deleted topic was acknowledged");
    let text = e.to_string();
    assert!(text.contains("t-0"), "the error names no partition: {text}");
    e
}

#[test]
fn a_deleted_topic_fails_pending_records_blocks_new_sends_and_works_once_recreated() {
    let cluster = cluster(1, 1);
    // Records linger a second: the ones sent just before the deletion are
    // still queued when it happens.
    let p = producer(
        ProducerConfig::builder(&cluster.bootstrap_servers())
            .max_block_ms(1_000)
            .request_timeout_ms(1_000)
            .delivery_timeout_ms(2_500)
            .linger_ms(1_000)
            .retry_backoff_ms(20)
            .metadata_max_age_ms(200),
    );
    let first = p.send(ProducerRecord::new("t", value(0))).unwrap();
    p.flush().unwrap();
    first.get().unwrap();

    let callbacks: Arc<Mutex<Vec<Result<RecordMetadata, Error>>>> = Arc::default();
    let send = |n: u32| {
        let outcomes = Arc::clone(&callbacks);
        p.send_with_callback(ProducerRecord::new("t", value(n)), move |r| {
            outcomes.lock().push(r);
        })
    };
    let mut pending: Vec<SendFuture> = (1..4).map(|n| send(n).unwrap()).collect();
    cluster.delete_topic("t").unwrap();
    // Queued records wait for a leader (or, if sent before the metadata
    // drops the topic, are refused with UNKNOWN_TOPIC_OR_PARTITION, a
    // retriable error that refreshes the metadata, and retried) until
    // delivery.timeout.ms, then fail, as in Java. Until the
    // producer's metadata drops the topic, new sends are queued too; once
    // it says the topic is gone, `send` blocks up to max.block.ms and fails
    // with Java's message.
    let blocked = loop {
        assert!(pending.len() < 5_000, "send never blocked");
        match send(4) {
            Ok(f) => pending.push(f),
            Err(e) => break e,
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    assert!(
        matches!(&blocked, Error::Timeout(m) if m.contains("Topic t not present in metadata after 1000 ms.")),
        "{blocked:?}"
    );
    let queued = pending.len();
    for f in pending {
        let e = failed_on_t0(f.get());
        assert!(
            matches!(&e, Error::Timeout(_))
                || e.code() == Some(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION)
                || e.code() == Some(ErrorCode::UNKNOWN_TOPIC_ID),
            "{e:?}"
        );
    }
    // Every callback ran once: one per queued record, with its future's
    // error, and one for the send that failed, with that send's error.
    wait_for("every callback", || callbacks.lock().len() > queued);
    let outcomes = std::mem::take(&mut *callbacks.lock());
    assert_eq!(outcomes.len(), queued + 1);
    // The order of the two kinds is not fixed: records expire while the
    // last send is blocked.
    let blocked_text = blocked.to_string();
    let (failed_send, queued_outcomes): (Vec<_>, Vec<_>) = outcomes
        .into_iter()
        .partition(|r| matches!(r, Err(e) if e.to_string() == blocked_text));
    assert_eq!(failed_send.len(), 1, "the failed send's callback, once");
    for r in queued_outcomes {
        failed_on_t0(r);
    }

    // Created again (a new topic id, empty): sends work again.
    cluster.create_topic("t", 1).unwrap();
    let again = (2..12)
        .map(|n| p.send(ProducerRecord::new("t", value(n))).unwrap())
        .collect::<Vec<_>>();
    for (i, f) in again.into_iter().enumerate() {
        assert_eq!(f.get().unwrap().offset(), i as i64);
    }
    let values: Vec<u32> = cluster
        .records("t", 0)
        .iter()
        .map(|r| number(r.value.as_deref()))
        .collect();
    assert_eq!(values, (2..12).collect::<Vec<_>>());
    p.close().unwrap();
}

// ---------------------------------------------------------------- rebootstrap

/// A loopback address nobody listens on: connections to it are refused.
fn dead_address() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// Makes every broker of the cluster advertise `address` (`None`: its own).
fn advertise_all(cluster: &MockCluster, address: Option<SocketAddr>) {
    for id in cluster.broker_ids() {
        cluster.set_advertised_address(id, address).unwrap();
    }
}

/// A producer whose metadata names only unreachable brokers: every broker
/// advertises `advertised` while the producer bootstraps. Returns the
/// producer and the outcome of sending a record through it; then every
/// broker advertises its real address again, which only a producer that
/// goes back to its bootstrap servers can learn.
///
/// Whether `send` returns depends on a race that does not matter here:
/// the producer's first metadata request (sent at start, before `send`
/// names the topic) may already come back with the unreachable addresses
/// and without the topic; then, until it rebootstraps, it has no broker to
/// ask for the topic, and `send` blocks (up to `max.block.ms`).
fn stranded(
    cluster: &MockCluster,
    advertised: SocketAddr,
    config: ProducerConfigBuilder,
) -> (Producer, Result<SendFuture, Error>) {
    advertise_all(cluster, Some(advertised));
    let p = producer(config);
    let sent = p.send(ProducerRecord::new("t", value(7)));
    advertise_all(cluster, None);
    (p, sent)
}

/// The record of [`stranded`] was never delivered: either `send` timed out
/// waiting for the topic's metadata, or the record expired, naming its
/// partition.
fn never_delivered(sent: Result<SendFuture, Error>) {
    match sent {
        Err(e) => assert!(
            matches!(&e, Error::Timeout(m) if m.contains("Topic t not present in metadata")),
            "{e:?}"
        ),
        Ok(f) => {
            let e = failed_on_t0(f.get());
            assert!(matches!(&e, Error::Timeout(_)), "{e:?}");
        }
    }
}

fn stranded_config(cluster: &MockCluster) -> ProducerConfigBuilder {
    ProducerConfig::builder(&cluster.bootstrap_servers())
        .linger_ms(0)
        .reconnect_backoff_ms(20)
        .reconnect_backoff_max_ms(100)
        .request_timeout_ms(1_000)
}

#[test]
fn rebootstrap_is_the_default_as_in_java_4() {
    let config = ProducerConfig::builder("localhost:9092").build().unwrap();
    assert_eq!(
        config.metadata_recovery_strategy(),
        MetadataRecoveryStrategy::Rebootstrap
    );
    assert_eq!(config.metadata_recovery_rebootstrap_trigger_ms(), 300_000);
}

#[test]
fn with_rebootstrap_a_producer_whose_brokers_are_all_gone_recovers() {
    let cluster = cluster(2, 1);
    let (p, sent) = stranded(
        &cluster,
        dead_address(),
        stranded_config(&cluster).delivery_timeout_ms(30_000),
    );
    assert_eq!(sent.unwrap().get().unwrap().offset(), 0);
    let values: Vec<u32> = cluster
        .records("t", 0)
        .iter()
        .map(|r| number(r.value.as_deref()))
        .collect();
    assert_eq!(values, [7]);
    p.close().unwrap();
}

#[test]
fn without_rebootstrap_a_producer_whose_brokers_are_all_gone_times_out() {
    let cluster = cluster(2, 1);
    let (p, sent) = stranded(
        &cluster,
        dead_address(),
        stranded_config(&cluster)
            .metadata_recovery_strategy(MetadataRecoveryStrategy::None)
            .max_block_ms(1_500)
            .delivery_timeout_ms(1_500),
    );
    // The brokers are fine and the bootstrap address works, but the
    // producer only knows the dead addresses and never goes back.
    never_delivered(sent);
    assert_eq!(cluster.request_count(ApiKey::PRODUCE), 0);
    assert!(cluster.records("t", 0).is_empty());
    p.close().unwrap();
}

/// Brokers that accept connections and never answer: no connection fails
/// fast and, with no reconnect backoff, a broker is always there to try
/// again, so only `metadata.recovery.rebootstrap.trigger.ms` (no metadata
/// update for that long) sends the producer back to its bootstrap servers.
fn silent_config(cluster: &MockCluster) -> ProducerConfigBuilder {
    ProducerConfig::builder(&cluster.bootstrap_servers())
        .linger_ms(0)
        .reconnect_backoff_ms(0)
        .reconnect_backoff_max_ms(0)
        .request_timeout_ms(1_000)
        .metadata_max_age_ms(100)
}

#[test]
fn the_rebootstrap_trigger_leaves_brokers_that_never_answer() {
    // Accepts connections (the kernel's backlog does), reads nothing.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let cluster = cluster(1, 1);
    let (p, sent) = stranded(
        &cluster,
        silent.local_addr().unwrap(),
        silent_config(&cluster)
            .metadata_recovery_rebootstrap_trigger_ms(300)
            .delivery_timeout_ms(30_000),
    );
    assert_eq!(sent.unwrap().get().unwrap().offset(), 0);
    p.close().unwrap();

    // The same without the trigger (its default is 5 minutes): the
    // producer tries the silent broker again and again until the record
    // times out.
    let cluster = self::cluster(1, 1);
    let (p, sent) = stranded(
        &cluster,
        silent.local_addr().unwrap(),
        silent_config(&cluster)
            .max_block_ms(2_000)
            .delivery_timeout_ms(2_000),
    );
    never_delivered(sent);
    assert_eq!(cluster.request_count(ApiKey::PRODUCE), 0);
    p.close().unwrap();
}
