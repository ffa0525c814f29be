//! `KafkaProducer` end to end against the embedded `MockCluster` over real
//! TCP: what is sent is read back from the mock's logs and compared field
//! by field. No test depends on timing to pass: waits are bounded by the
//! producer's own deadlines, never asserted.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use kafka_producer::common::Cluster;
use kafka_producer::mock::MockCluster;
use kafka_producer::producer::partitioner::default_partition_for_key;
use kafka_producer::producer::serialization::{BytesSerializer, StringSerializer};
use kafka_producer::producer::{Acks, Partitioner, ProducerConfigBuilder, ProducerInterceptor};
use kafka_producer::protocol::{ApiKey, ErrorCode};
use kafka_producer::{Error, KafkaProducer, ProducerConfig, ProducerRecord, RecordMetadata};
use parking_lot::Mutex;

type Bytes = KafkaProducer<Vec<u8>, Vec<u8>>;
type BytesRecord = ProducerRecord<Vec<u8>, Vec<u8>>;

fn config(cluster: &MockCluster) -> ProducerConfigBuilder {
    ProducerConfig::builder(&cluster.bootstrap_servers()).max_block_ms(20_000)
}

fn bytes_producer(config: ProducerConfigBuilder) -> Bytes {
    KafkaProducer::new(config.build().unwrap(), BytesSerializer, BytesSerializer).unwrap()
}

fn string_producer(config: ProducerConfigBuilder) -> KafkaProducer<String, String> {
    KafkaProducer::new(config.build().unwrap(), StringSerializer, StringSerializer).unwrap()
}

fn cluster(brokers: usize) -> MockCluster {
    MockCluster::builder().brokers(brokers).start().unwrap()
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn producer_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<KafkaProducer<Vec<u8>, Vec<u8>>>();
    check::<KafkaProducer<String, String>>();
}

#[test]
fn offsets_count_per_partition_and_every_field_arrives() {
    let cluster = cluster(2);
    cluster.create_topic("t", 3).unwrap();
    let producer = bytes_producer(config(&cluster));
    let mut sent: BTreeMap<i32, Vec<BytesRecord>> = BTreeMap::new();
    for i in 0..9i64 {
        let partition = (i % 3) as i32;
        let mut record = ProducerRecord::new("t", format!("value-{i}").into_bytes())
            .with_partition(partition)
            .with_timestamp(1_600_000_000_000 + i)
            .with_header("h1", format!("x{i}").into_bytes())
            .with_null_header("h-null");
        if i % 2 == 0 {
            record = record.with_key(format!("key-{i}").into_bytes());
        }
        if i == 4 {
            record = record.with_value_opt(None);
        }
        let md = producer.send(record.clone()).unwrap().get().unwrap();
        let expected_offset = sent.get(&partition).map_or(0, Vec::len) as i64;
        assert_eq!(
            (md.topic(), md.partition(), md.offset()),
            ("t", partition, expected_offset)
        );
        assert_eq!(md.timestamp(), 1_600_000_000_000 + i);
        sent.entry(partition).or_default().push(record);
    }
    producer.close().unwrap();
    for (partition, records) in sent {
        let stored = cluster.records("t", partition);
        assert_eq!(stored.len(), records.len());
        for (i, (s, r)) in stored.iter().zip(&records).enumerate() {
            assert_eq!(s.offset, i as i64);
            assert_eq!(Some(s.timestamp), r.timestamp());
            assert_eq!(s.key.as_ref(), r.key());
            assert_eq!(s.value.as_ref(), r.value());
            let headers: Vec<(Vec<u8>, Option<Vec<u8>>)> = r
                .headers()
                .iter()
                .map(|h| (h.key.as_bytes().to_vec(), h.value.clone()))
                .collect();
            assert_eq!(s.headers, headers);
        }
    }
}

#[test]
fn keyed_records_land_on_the_partition_for_their_key() {
    let cluster = cluster(3);
    cluster.create_topic("keyed", 5).unwrap();
    let producer = string_producer(config(&cluster));
    let mut expected: HashMap<i32, usize> = HashMap::new();
    for i in 0..40 {
        let key = format!("user-{i}");
        let partition = default_partition_for_key(key.as_bytes(), 5);
        let md = producer
            .send(ProducerRecord::new("keyed", format!("v{i}")).with_key(key))
            .unwrap()
            .get()
            .unwrap();
        assert_eq!(md.partition(), partition);
        *expected.entry(partition).or_default() += 1;
    }
    for p in 0..5 {
        assert_eq!(
            cluster.records("keyed", p).len(),
            expected.get(&p).copied().unwrap_or(0)
        );
    }
}

#[test]
fn unkeyed_records_without_timestamp_get_the_clock_time() {
    let cluster = cluster(1);
    cluster.create_topic("u", 2).unwrap();
    let producer = string_producer(config(&cluster));
    let md = producer
        .send(ProducerRecord::new("u", "x".to_owned()))
        .unwrap()
        .get()
        .unwrap();
    assert!(md.timestamp() > 1_600_000_000_000);
    let stored = cluster.records("u", md.partition());
    assert_eq!(stored[0].timestamp, md.timestamp());
}

#[test]
fn callbacks_run_once_each_in_send_order_per_partition() {
    let cluster = cluster(2);
    cluster.create_topic("cb", 4).unwrap();
    let producer = string_producer(config(&cluster).linger_ms(5));
    let seen: Arc<Mutex<Vec<(usize, i32, i64)>>> = Arc::new(Mutex::new(Vec::new()));
    let thread_names: Arc<Mutex<HashSet<String>>> = Arc::new(Mutex::new(HashSet::new()));
    for i in 0..400usize {
        let seen = Arc::clone(&seen);
        let names = Arc::clone(&thread_names);
        producer
            .send_with_callback(
                ProducerRecord::new("cb", format!("v{i}")).with_key(format!("k{}", i % 7)),
                move |r| {
                    let md = r.expect("acknowledged");
                    seen.lock().push((i, md.partition(), md.offset()));
                    names
                        .lock()
                        .insert(thread::current().name().unwrap_or("").to_owned());
                },
            )
            .unwrap();
    }
    producer.flush().unwrap();
    let seen = seen.lock().clone();
    assert_eq!(seen.len(), 400);
    let indexes: HashSet<usize> = seen.iter().map(|s| s.0).collect();
    assert_eq!(indexes.len(), 400, "each callback exactly once");
    let mut last: HashMap<i32, (usize, i64)> = HashMap::new();
    for (i, p, offset) in seen {
        if let Some((prev_i, prev_offset)) = last.get(&p) {
            assert!(
                i > *prev_i && offset > *prev_offset,
                "send order within partition {p}"
            );
        }
        last.insert(p, (i, offset));
    }
    let expected_name = format!("kafka-producer-network-thread | {}", producer.client_id());
    assert_eq!(*thread_names.lock(), HashSet::from([expected_name]));
}

/// `send_with_callback_only` makes no future: its records, in the same
/// batches as records sent with futures, are reported by their callbacks
/// alone, with the offsets the broker gave them; a send refused at once
/// returns the error and runs the callback once with it.
#[test]
fn callback_only_sends_are_reported_by_their_callbacks() {
    let cluster = cluster(1);
    cluster.create_topic("co", 2).unwrap();
    let producer = string_producer(config(&cluster).linger_ms(20));
    let seen: Arc<Mutex<Vec<(usize, i32, i64)>>> = Arc::new(Mutex::new(Vec::new()));
    let mut futures = Vec::new();
    for i in 0..300usize {
        let record = ProducerRecord::new("co", format!("v{i}")).with_partition((i % 2) as i32);
        if i % 3 == 0 {
            futures.push((i, producer.send(record).unwrap()));
        } else {
            let seen = Arc::clone(&seen);
            producer
                .send_with_callback_only(record, move |r| {
                    let md = r.expect("acknowledged");
                    seen.lock().push((i, md.partition(), md.offset()));
                })
                .unwrap();
        }
    }
    producer.flush().unwrap();
    let mut got: Vec<(usize, i32, i64)> = seen.lock().clone();
    assert_eq!(got.len(), 200, "each callback once");
    for (i, f) in futures {
        let md = f.get().unwrap();
        got.push((i, md.partition(), md.offset()));
    }
    got.sort_unstable();
    for (i, partition, offset) in got {
        assert_eq!(partition, (i % 2) as i32);
        let stored = &cluster.records("co", partition)[usize::try_from(offset).unwrap()];
        assert_eq!(stored.value.as_deref(), Some(format!("v{i}").as_bytes()));
    }

    producer.close().unwrap();
    let called = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&called);
    let e = producer
        .send_with_callback_only(ProducerRecord::new("co", "late".to_owned()), move |r| {
            assert!(matches!(r, Err(Error::Closed(_))), "{r:?}");
            c.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap_err();
    assert!(matches!(e, Error::Closed(_)), "{e:?}");
    assert_eq!(called.load(Ordering::SeqCst), 1);
}

#[test]
fn fire_and_forget_then_flush_delivers_everything() {
    let cluster = cluster(1);
    cluster.create_topic("ff", 1).unwrap();
    let producer = bytes_producer(config(&cluster).linger_ms(1000));
    let futures: Vec<_> = (0..1000u32)
        .map(|i| {
            producer
                .send(ProducerRecord::new("ff", i.to_be_bytes().to_vec()))
                .unwrap()
        })
        .collect();
    producer.flush().unwrap();
    assert!(futures.iter().all(kafka_producer::SendFuture::is_done));
    assert_eq!(cluster.log_end_offset("ff", 0), Some(1000));
    let values: Vec<u32> = cluster
        .records("ff", 0)
        .iter()
        .map(|r| u32::from_be_bytes(r.value.as_deref().unwrap().try_into().unwrap()))
        .collect();
    assert_eq!(values, (0..1000).collect::<Vec<_>>());
}

#[test]
fn four_threads_send_ten_thousand_records_each() {
    let cluster = cluster(3);
    cluster.create_topic("many", 6).unwrap();
    let producer = Arc::new(bytes_producer(config(&cluster)));
    let acked = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..4u8)
        .map(|t| {
            let producer = Arc::clone(&producer);
            let acked = Arc::clone(&acked);
            thread::spawn(move || {
                for seq in 0..10_000u32 {
                    let mut value = vec![t];
                    value.extend_from_slice(&seq.to_be_bytes());
                    let key = vec![t, (seq % 13) as u8];
                    let acked = Arc::clone(&acked);
                    producer
                        .send_with_callback(
                            ProducerRecord::new("many", value).with_key(key),
                            move |r| {
                                r.expect("acknowledged");
                                acked.fetch_add(1, Ordering::SeqCst);
                            },
                        )
                        .unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    producer.flush().unwrap();
    assert_eq!(acked.load(Ordering::SeqCst), 40_000);
    let mut all = HashSet::new();
    for p in 0..6 {
        let mut last_seq: HashMap<u8, u32> = HashMap::new();
        for r in cluster.records("many", p) {
            let v = r.value.unwrap();
            let t = v[0];
            let seq = u32::from_be_bytes(v[1..5].try_into().unwrap());
            assert!(all.insert((t, seq)), "record {t}/{seq} stored twice");
            if let Some(prev) = last_seq.insert(t, seq) {
                assert!(seq > prev, "thread {t}'s order broken in partition {p}");
            }
        }
    }
    assert_eq!(all.len(), 40_000);
}

#[test]
fn idempotent_batches_carry_the_producer_id_and_sequences_in_order() {
    let cluster = cluster(1);
    cluster.create_topic("idem", 2).unwrap();
    let producer = string_producer(config(&cluster));
    for i in 0..6 {
        producer
            .send(ProducerRecord::new("idem", format!("v{i}")).with_partition(i % 2))
            .unwrap()
            .get()
            .unwrap();
    }
    assert_eq!(cluster.request_count(ApiKey::INIT_PRODUCER_ID), 1);
    for p in 0..2 {
        let stored = cluster.records("idem", p);
        assert_eq!(stored.len(), 3);
        for (i, r) in stored.iter().enumerate() {
            assert_eq!((r.producer_id, r.producer_epoch), (0, 0));
            assert_eq!(r.sequence, i as i32);
        }
    }
}

#[test]
fn a_retried_batch_keeps_its_sequence_and_is_stored_once() {
    let cluster = cluster(1);
    cluster.create_topic("retry", 1).unwrap();
    let producer = string_producer(config(&cluster).retry_backoff_ms(10));
    producer
        .send(ProducerRecord::new("retry", "first".to_owned()))
        .unwrap()
        .get()
        .unwrap();
    cluster.push_request_errors(
        ApiKey::PRODUCE,
        &[
            ErrorCode::NOT_LEADER_OR_FOLLOWER,
            ErrorCode::REQUEST_TIMED_OUT,
        ],
    );
    let md = producer
        .send(ProducerRecord::new("retry", "second".to_owned()))
        .unwrap()
        .get()
        .unwrap();
    assert_eq!(md.offset(), 1);
    assert_eq!(
        cluster.request_count(ApiKey::PRODUCE),
        4,
        "1 + 2 failed + 1 retried"
    );
    let stored = cluster.records("retry", 0);
    let sequences: Vec<i32> = stored.iter().map(|r| r.sequence).collect();
    assert_eq!(sequences, vec![0, 1]);
}

#[test]
fn a_non_retriable_error_fails_the_batch_with_the_brokers_code() {
    let cluster = cluster(1);
    cluster.create_topic("bad", 1).unwrap();
    let producer = string_producer(config(&cluster));
    cluster.push_request_errors(ApiKey::PRODUCE, &[ErrorCode::INVALID_RECORD]);
    let e = producer
        .send(ProducerRecord::new("bad", "x".to_owned()))
        .unwrap()
        .get()
        .unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::INVALID_RECORD), "{e}");
}

#[test]
fn acks_zero_one_and_all() {
    let cluster = cluster(1);
    cluster.create_topic("acks", 1).unwrap();
    let zero = string_producer(config(&cluster).acks(Acks::Zero));
    let md = zero
        .send(ProducerRecord::new("acks", "a0".to_owned()))
        .unwrap()
        .get()
        .unwrap();
    assert_eq!(md.offset(), -1, "acks=0 gives no offset");
    zero.close().unwrap();
    let one = string_producer(config(&cluster).acks(Acks::One));
    let md = one
        .send(ProducerRecord::new("acks", "a1".to_owned()))
        .unwrap()
        .get()
        .unwrap();
    assert_eq!(md.offset(), 1);
    let all = string_producer(config(&cluster).acks(Acks::All));
    let md = all
        .send(ProducerRecord::new("acks", "a2".to_owned()))
        .unwrap()
        .get()
        .unwrap();
    assert_eq!(md.offset(), 2);
    let values: Vec<_> = cluster
        .records("acks", 0)
        .into_iter()
        .map(|r| r.value.unwrap())
        .collect();
    assert_eq!(values, vec![b"a0".to_vec(), b"a1".to_vec(), b"a2".to_vec()]);
}

#[test]
fn records_too_large_fail_with_javas_messages() {
    let cluster = cluster(1);
    cluster.create_topic("big", 1).unwrap();
    let producer = bytes_producer(config(&cluster).max_request_size(1000));
    let e = producer
        .send(ProducerRecord::new("big", vec![0u8; 2000]))
        .unwrap_err();
    assert!(matches!(e, Error::RecordTooLarge(_)), "{e:?}");
    assert!(
        e.to_string()
            .contains("which is the value of the max.request.size configuration"),
        "{e}"
    );

    let producer = bytes_producer(
        config(&cluster)
            .max_request_size(100_000)
            .buffer_memory(20_000)
            .batch_size(1000),
    );
    let e = producer
        .send(ProducerRecord::new("big", vec![0u8; 30_000]))
        .unwrap_err();
    assert!(
        e.to_string().contains("the buffer.memory configuration"),
        "{e}"
    );
}

#[test]
fn an_out_of_range_partition_is_refused() {
    let cluster = cluster(1);
    cluster.create_topic("one", 1).unwrap();
    let producer = string_producer(config(&cluster));
    let called = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&called);
    let e = producer
        .send_with_callback(
            ProducerRecord::new("one", "x".to_owned()).with_partition(5),
            move |r| {
                assert!(r.is_err());
                c.fetch_add(1, Ordering::SeqCst);
            },
        )
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("Invalid partition given with record: 5 is not in the range [0...1)."),
        "{e}"
    );
    assert_eq!(
        called.load(Ordering::SeqCst),
        1,
        "the callback ran once with the error"
    );
}

#[test]
fn an_unknown_topic_times_out_after_max_block_ms() {
    let cluster = MockCluster::builder()
        .auto_create_topics(false)
        .start()
        .unwrap();
    let producer = string_producer(config(&cluster).max_block_ms(300));
    let e = producer
        .send(ProducerRecord::new("missing", "x".to_owned()))
        .unwrap_err();
    assert!(matches!(e, Error::Timeout(_)), "{e:?}");
    assert!(
        e.to_string()
            .contains("Topic missing not present in metadata after 300 ms."),
        "{e}"
    );
}

#[test]
fn an_unreachable_bootstrap_server_times_out_with_a_clear_error() {
    let config = ProducerConfig::builder(&format!("127.0.0.1:{}", closed_port()))
        .max_block_ms(300)
        .build()
        .unwrap();
    let producer: KafkaProducer<String, String> =
        KafkaProducer::new(config, StringSerializer, StringSerializer).unwrap();
    let e = producer
        .send(ProducerRecord::new("t", "x".to_owned()))
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("Topic t not present in metadata after 300 ms."),
        "{e}"
    );
    producer.close_timeout(Duration::ZERO).unwrap();
}

#[test]
fn unresolvable_bootstrap_servers_fail_the_constructor() {
    let config = ProducerConfig::builder("no-such-host.invalid:9092")
        .build()
        .unwrap();
    let e = KafkaProducer::<String, String>::new(config, StringSerializer, StringSerializer)
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("No resolvable bootstrap urls given in bootstrap.servers"),
        "{e}"
    );
}

#[test]
fn a_missing_serializer_is_a_config_error() {
    let cluster = cluster(1);
    let e = KafkaProducer::<String, String>::builder(config(&cluster).build().unwrap())
        .value_serializer(StringSerializer)
        .build()
        .unwrap_err();
    assert!(
        matches!(e, Error::Config(_)) && e.to_string().contains("key.serializer"),
        "{e}"
    );
}

#[test]
fn send_after_close_fails_and_close_is_idempotent() {
    let cluster = cluster(1);
    let producer = string_producer(config(&cluster));
    producer.close().unwrap();
    producer.close().unwrap();
    let e = producer
        .send(ProducerRecord::new("t", "x".to_owned()))
        .unwrap_err();
    assert!(matches!(e, Error::Closed(_)), "{e:?}");
    assert!(
        e.to_string()
            .contains("Cannot perform operation after producer has been closed"),
        "{e}"
    );
}

#[test]
fn close_delivers_the_records_still_lingering() {
    let cluster = cluster(1);
    cluster.create_topic("linger", 1).unwrap();
    let producer = string_producer(config(&cluster).linger_ms(60_000));
    let futures: Vec<_> = (0..50)
        .map(|i| {
            producer
                .send(ProducerRecord::new("linger", format!("v{i}")))
                .unwrap()
        })
        .collect();
    producer.close().unwrap();
    for (i, f) in futures.into_iter().enumerate() {
        assert_eq!(f.get().unwrap().offset(), i as i64);
    }
    assert_eq!(cluster.log_end_offset("linger", 0), Some(50));
}

#[test]
fn forced_close_with_an_unreachable_broker_fails_every_pending_record() {
    let mut cluster = cluster(1);
    cluster.create_topic("gone", 1).unwrap();
    let producer = string_producer(config(&cluster));
    // Metadata and producer id first, then the broker goes away.
    producer
        .send(ProducerRecord::new("gone", "first".to_owned()))
        .unwrap()
        .get()
        .unwrap();
    cluster.shutdown();
    let errors = Arc::new(AtomicUsize::new(0));
    let futures: Vec<_> = (0..20)
        .map(|i| {
            let errors = Arc::clone(&errors);
            producer
                .send_with_callback(ProducerRecord::new("gone", format!("v{i}")), move |r| {
                    assert!(r.is_err());
                    errors.fetch_add(1, Ordering::SeqCst);
                })
                .unwrap()
        })
        .collect();
    producer.close_timeout(Duration::ZERO).unwrap();
    assert_eq!(
        errors.load(Ordering::SeqCst),
        20,
        "every callback ran with an error"
    );
    for f in futures {
        assert!(f.is_done());
        assert!(f.get().is_err());
    }
}

#[test]
fn flush_and_close_inside_a_callback_return_errors() {
    let cluster = cluster(1);
    cluster.create_topic("cbt", 1).unwrap();
    let producer = Arc::new(string_producer(config(&cluster)));
    let (tx, rx) = crossbeam_channel::bounded(1);
    let p = Arc::clone(&producer);
    producer
        .send_with_callback(ProducerRecord::new("cbt", "x".to_owned()), move |_| {
            let _ = tx.send(p.flush());
        })
        .unwrap()
        .get()
        .unwrap();
    let flushed = rx.recv().unwrap();
    assert!(flushed
        .unwrap_err()
        .to_string()
        .contains("inside a callback"));

    let (tx, rx) = crossbeam_channel::bounded(1);
    let p = Arc::clone(&producer);
    producer
        .send_with_callback(ProducerRecord::new("cbt", "y".to_owned()), move |_| {
            let _ = tx.send(p.close());
        })
        .unwrap()
        .get()
        .unwrap();
    let closed = rx.recv().unwrap();
    assert!(closed.unwrap_err().to_string().contains("callback"));
    // The producer is closed; a later close from this thread joins cleanly.
    producer.close().unwrap();
    assert!(producer
        .send(ProducerRecord::new("cbt", "z".to_owned()))
        .is_err());
}

#[test]
fn partitions_for_waits_for_metadata() {
    let cluster = cluster(2);
    cluster.create_topic("pf", 3).unwrap();
    let producer = string_producer(config(&cluster));
    let parts = producer.partitions_for("pf").unwrap();
    assert_eq!(parts.len(), 3);
    assert!(parts.iter().all(|p| p.leader.is_some()));
}

#[derive(Debug)]
struct LastPartition;

impl Partitioner for LastPartition {
    fn partition(&self, topic: &str, _: Option<&[u8]>, _: Option<&[u8]>, cluster: &Cluster) -> i32 {
        cluster.partition_count(topic).unwrap_or(1) as i32 - 1
    }
}

#[derive(Default)]
struct Counting {
    sent: AtomicUsize,
    acked: AtomicUsize,
    failed: AtomicUsize,
}

struct CountingInterceptor(Arc<Counting>);

impl ProducerInterceptor<String, String> for CountingInterceptor {
    fn on_send(&self, record: ProducerRecord<String, String>) -> ProducerRecord<String, String> {
        self.0.sent.fetch_add(1, Ordering::SeqCst);
        record.with_header("intercepted", b"1".to_vec())
    }

    fn on_acknowledgement(&self, metadata: &RecordMetadata, error: Option<&Error>) {
        if error.is_some() {
            assert_eq!(metadata.offset(), -1);
            self.0.failed.fetch_add(1, Ordering::SeqCst);
        } else {
            self.0.acked.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[test]
fn interceptors_and_a_custom_partitioner_take_part() {
    let cluster = cluster(1);
    cluster.create_topic("ic", 3).unwrap();
    let counts = Arc::new(Counting::default());
    let producer = KafkaProducer::<String, String>::builder(config(&cluster).build().unwrap())
        .key_serializer(StringSerializer)
        .value_serializer(StringSerializer)
        .interceptor(Box::new(CountingInterceptor(Arc::clone(&counts))))
        .partitioner(Arc::new(LastPartition))
        .build()
        .unwrap();
    for i in 0..5 {
        let md = producer
            .send(ProducerRecord::new("ic", format!("v{i}")))
            .unwrap()
            .get()
            .unwrap();
        assert_eq!(md.partition(), 2);
    }
    assert!(producer
        .send(ProducerRecord::new("ic", "x".to_owned()).with_partition(9))
        .is_err());
    assert_eq!(counts.sent.load(Ordering::SeqCst), 6);
    assert_eq!(counts.acked.load(Ordering::SeqCst), 5);
    assert_eq!(counts.failed.load(Ordering::SeqCst), 1);
    let stored = cluster.records("ic", 2);
    assert_eq!(stored.len(), 5);
    assert_eq!(
        stored[0].headers,
        vec![(b"intercepted".to_vec(), Some(b"1".to_vec()))]
    );
}

#[test]
fn init_producer_id_is_retried_on_retriable_errors() {
    let cluster = cluster(1);
    cluster.create_topic("pid", 1).unwrap();
    cluster.push_request_errors(
        ApiKey::INIT_PRODUCER_ID,
        &[ErrorCode::COORDINATOR_LOAD_IN_PROGRESS],
    );
    let producer = string_producer(config(&cluster).retry_backoff_ms(10));
    let md = producer
        .send(ProducerRecord::new("pid", "x".to_owned()))
        .unwrap()
        .get()
        .unwrap();
    assert_eq!(md.offset(), 0);
    assert_eq!(cluster.request_count(ApiKey::INIT_PRODUCER_ID), 2);
    assert_eq!(cluster.records("pid", 0)[0].sequence, 0);
}

#[test]
fn an_init_producer_id_authorization_error_fails_pending_sends_then_recovers() {
    // Java 4.3: an authorization error on InitProducerId is abortable, not
    // fatal: what is pending fails with it, and the producer asks again.
    let cluster = cluster(1);
    cluster.create_topic("auth", 1).unwrap();
    cluster.push_request_errors(
        ApiKey::INIT_PRODUCER_ID,
        &[ErrorCode::CLUSTER_AUTHORIZATION_FAILED],
    );
    let producer = string_producer(config(&cluster));
    // The answer may come before "x" is appended (nothing to fail then) or
    // after; either way the producer is not stopped.
    let x = producer
        .send(ProducerRecord::new("auth", "x".to_owned()))
        .unwrap()
        .get();
    if let Err(e) = &x {
        assert_eq!(
            e.code(),
            Some(ErrorCode::CLUSTER_AUTHORIZATION_FAILED),
            "{e}"
        );
    }
    let md = producer
        .send(ProducerRecord::new("auth", "y".to_owned()))
        .unwrap()
        .get()
        .unwrap();
    assert_eq!(md.offset(), i64::from(x.is_ok()));
    assert_eq!(cluster.request_count(ApiKey::INIT_PRODUCER_ID), 2);
    producer.close().unwrap();
}

#[test]
fn a_fatal_init_producer_id_error_fails_pending_and_later_sends() {
    let cluster = cluster(1);
    cluster.create_topic("fatal", 1).unwrap();
    cluster.push_request_errors(ApiKey::INIT_PRODUCER_ID, &[ErrorCode::PRODUCER_FENCED]);
    let producer = string_producer(config(&cluster));
    let e = producer
        .send(ProducerRecord::new("fatal", "x".to_owned()))
        .unwrap()
        .get()
        .unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::PRODUCER_FENCED), "{e}");
    let e = producer
        .send(ProducerRecord::new("fatal", "y".to_owned()))
        .unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::PRODUCER_FENCED), "{e}");
    assert!(e.to_string().contains("fatal error state"), "{e}");
    assert_eq!(cluster.request_count(ApiKey::PRODUCE), 0);
    producer.close().unwrap();
}

#[test]
fn one_request_in_flight_keeps_order_across_retries() {
    let cluster = cluster(1);
    cluster.create_topic("ordered", 1).unwrap();
    let producer = bytes_producer(
        config(&cluster)
            .max_in_flight_requests_per_connection(1)
            .retry_backoff_ms(5)
            .batch_size(200)
            .linger_ms(0),
    );
    cluster.push_request_errors(
        ApiKey::PRODUCE,
        &[
            ErrorCode::NOT_ENOUGH_REPLICAS,
            ErrorCode::REQUEST_TIMED_OUT,
            ErrorCode::NOT_ENOUGH_REPLICAS,
        ],
    );
    let futures: Vec<_> = (0..300u32)
        .map(|i| {
            producer
                .send(ProducerRecord::new("ordered", i.to_be_bytes().to_vec()))
                .unwrap()
        })
        .collect();
    producer.flush().unwrap();
    for (i, f) in futures.into_iter().enumerate() {
        assert_eq!(f.get().unwrap().offset(), i as i64);
    }
    let values: Vec<u32> = cluster
        .records("ordered", 0)
        .iter()
        .map(|r| u32::from_be_bytes(r.value.as_deref().unwrap().try_into().unwrap()))
        .collect();
    assert_eq!(values, (0..300).collect::<Vec<_>>());
}

#[test]
fn several_requests_in_flight_keep_order_across_retries() {
    let cluster = cluster(1);
    cluster.create_topic("pipelined", 1).unwrap();
    let producer = bytes_producer(
        config(&cluster)
            .retry_backoff_ms(5)
            .batch_size(200)
            .linger_ms(0),
    );
    producer
        .send(ProducerRecord::new(
            "pipelined",
            u32::MAX.to_be_bytes().to_vec(),
        ))
        .unwrap()
        .get()
        .unwrap();
    // The next request fails; those behind it, if already in flight, get
    // OUT_OF_ORDER_SEQUENCE_NUMBER from the broker and are retried after it.
    cluster.push_request_errors(ApiKey::PRODUCE, &[ErrorCode::NOT_ENOUGH_REPLICAS]);
    let futures: Vec<_> = (0..300u32)
        .map(|i| {
            producer
                .send(ProducerRecord::new("pipelined", i.to_be_bytes().to_vec()))
                .unwrap()
        })
        .collect();
    producer.flush().unwrap();
    for (i, f) in futures.into_iter().enumerate() {
        assert_eq!(f.get().unwrap().offset(), i as i64 + 1);
    }
    let values: Vec<u32> = cluster
        .records("pipelined", 0)
        .iter()
        .skip(1)
        .map(|r| u32::from_be_bytes(r.value.as_deref().unwrap().try_into().unwrap()))
        .collect();
    assert_eq!(values, (0..300).collect::<Vec<_>>());
}
