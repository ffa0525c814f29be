//! The end-to-end scenario (`tests/support/scenario.rs`) against our own
//! embedded `MockCluster` (3 brokers; topics of 1, 6 and 64 partitions):
//! the README's demo cluster takes what the other brokers take. The mock
//! serves no Fetch, so records are read from its logs
//! (`MockCluster::records`), which decode every batch the producer wrote.
//!
//! `KAFKA_PRODUCER_E2E_RECORDS` overrides the record count.

mod support;

use std::time::Duration;

use kafka_producer::mock::MockCluster;
use kafka_producer::producer::serialization::BytesSerializer;
use kafka_producer::protocol::{ApiKey, ErrorCode};
use kafka_producer::record::{CompressionType, RecordBatch};
use kafka_producer::{KafkaProducer, ProducerConfig, ProducerRecord};
use support::brokers::{ConsumedRecord, Timestamp};
use support::scenario::{init_log, record_count, AckTimestamp, Scenario, DEFAULT_RECORDS, TOPICS};

/// Everything the mock stored in `topic`, in partition and offset order.
fn read_mock(cluster: &MockCluster, topic: &str, partitions: i32) -> Vec<ConsumedRecord> {
    (0..partitions)
        .flat_map(|p| {
            cluster
                .records(topic, p)
                .into_iter()
                .map(move |r| ConsumedRecord {
                    topic: topic.to_owned(),
                    partition: p,
                    offset: r.offset,
                    timestamp: Timestamp::CreateTime(r.timestamp),
                    key: r.key,
                    value: r.value,
                    headers: r
                        .headers
                        .into_iter()
                        .map(|(k, v)| (String::from_utf8_lossy(&k).into_owned(), v))
                        .collect(),
                })
        })
        .collect()
}

fn start() -> MockCluster {
    let cluster = MockCluster::builder()
        .brokers(3)
        .start()
        .expect("a mock cluster");
    for (topic, partitions, _) in TOPICS {
        cluster
            .create_topic(topic, partitions)
            .expect("create topic");
    }
    cluster
}

#[test]
fn mock_cluster_scenario() {
    init_log();
    let cluster = start();
    let scenario = Scenario::new(
        "mock",
        &cluster.bootstrap_servers(),
        record_count(DEFAULT_RECORDS),
    );
    scenario.run(scenario.config(), |topic, partitions, _| {
        read_mock(&cluster, topic, partitions)
    });
}

#[test]
fn mock_cluster_scenario_gzip_with_faults() {
    // A fifth of the records, gzip, leaders moved and Produce requests
    // failed with retriable errors while they are sent, up to 5 requests in
    // flight per connection: the idempotent producer retries each batch, in
    // order (the mock checks sequence numbers as Kafka does), without loss
    // or duplicate.
    init_log();
    let cluster = start();
    let mut scenario = Scenario::new(
        "mock-faults",
        &cluster.bootstrap_servers(),
        record_count(DEFAULT_RECORDS) / 5,
    );
    scenario.seed ^= 0xfa_17;
    let config = scenario
        .config()
        .compression_type(CompressionType::Gzip)
        .retry_backoff_ms(10)
        .batch_size(4096);
    let faults = [
        ErrorCode::NOT_LEADER_OR_FOLLOWER,
        ErrorCode::REQUEST_TIMED_OUT,
        ErrorCode::NOT_ENOUGH_REPLICAS,
        ErrorCode::LEADER_NOT_AVAILABLE,
        ErrorCode::KAFKA_STORAGE_ERROR,
    ];
    let during = || {
        // Faults start once every partition holds a batch of this producer.
        // Before that, a failed first batch can be overtaken by the next
        // one, which a broker (Kafka, and this mock) accepts at any sequence
        // from a producer it does not know; the first is then retried with
        // OUT_OF_ORDER_SEQUENCE_NUMBER until delivery.timeout.ms, as Java
        // does.
        let written = || {
            TOPICS.iter().all(|(topic, partitions, _)| {
                (0..*partitions).all(|p| cluster.log_end_offset(topic, p).unwrap_or(0) > 0)
            })
        };
        for _ in 0..1000 {
            if written() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        if !written() {
            eprintln!("mock-faults: some partitions got no record early: no faults injected");
            return;
        }
        for round in 0..12usize {
            // Spread over the run; when each lands does not matter.
            std::thread::sleep(Duration::from_millis(40));
            cluster.push_request_errors(ApiKey::PRODUCE, &faults[round % faults.len()..]);
            for (t, (topic, partitions, _)) in TOPICS.iter().enumerate() {
                let p = (round * 7 + t) as i32 % partitions;
                let broker = 1 + (round + t) as i32 % 3;
                cluster
                    .set_partition_leader(topic, p, broker)
                    .expect("move a partition leader");
            }
        }
    };
    scenario.run_during(config, during, |topic, partitions, _| {
        read_mock(&cluster, topic, partitions)
    });
}

// The fault scenarios of `tests/e2e_rdkafka.rs` (brokers down and up,
// round-trip times above request.timeout.ms), with the strict check: this
// mock deduplicates resent batches as Kafka does, where librdkafka's
// appends them again (there the check tolerates identical copies).

#[test]
fn mock_cluster_brokers_down_and_up_while_producing() {
    // Broker 1 down from the start (its partitions move on), back and
    // leading them again; broker 3 down mid-run and up again.
    init_log();
    let cluster = start();
    let mut scenario = Scenario::new(
        "mock-broker-down",
        &cluster.bootstrap_servers(),
        record_count(3_000),
    );
    scenario.seed ^= 0x0d01;
    // Batches answered as duplicates report their stored max timestamp.
    scenario.ack_timestamp = AckTimestamp::CreateTimeOrBatchMax;
    let led_by_1: Vec<(&str, i32)> = TOPICS
        .iter()
        .flat_map(|(topic, partitions, _)| (0..*partitions).map(move |p| (*topic, p)))
        .filter(|(topic, p)| cluster.partition_leader(topic, *p) == Some(1))
        .collect();
    cluster.broker_down(1).expect("broker 1 down");
    let during = || {
        std::thread::sleep(Duration::from_millis(400));
        cluster.broker_up(1).expect("broker 1 up");
        for (topic, p) in &led_by_1 {
            cluster
                .set_partition_leader(topic, *p, 1)
                .expect("lead again");
        }
        std::thread::sleep(Duration::from_millis(50));
        cluster.broker_down(3).expect("broker 3 down");
        std::thread::sleep(Duration::from_millis(300));
        cluster.broker_up(3).expect("broker 3 up");
    };
    scenario.run_during(scenario.fault_config(), during, |topic, partitions, _| {
        read_mock(&cluster, topic, partitions)
    });
}

#[test]
fn mock_cluster_round_trip_time_above_the_request_timeout_then_normal() {
    // For 1.5 s, brokers 1 and 2 answer 1 s late, twice request.timeout.ms:
    // requests time out and batches are resent on new connections; the
    // mock appended the first copies and answers the resends as
    // duplicates, with the original offsets.
    init_log();
    let cluster = start();
    let mut scenario = Scenario::new(
        "mock-slow",
        &cluster.bootstrap_servers(),
        record_count(3_000),
    );
    scenario.seed ^= 0x0510;
    // Batches answered as duplicates report their stored max timestamp.
    scenario.ack_timestamp = AckTimestamp::CreateTimeOrBatchMax;
    let config = scenario
        .fault_config()
        .request_timeout_ms(500)
        .delivery_timeout_ms(60_000);
    let during = || {
        std::thread::sleep(Duration::from_millis(100));
        for broker in [1, 2] {
            cluster.set_round_trip_time(broker, Duration::from_millis(1_000));
        }
        std::thread::sleep(Duration::from_millis(1_500));
        for broker in [1, 2] {
            cluster.set_round_trip_time(broker, Duration::ZERO);
        }
    };
    scenario.run_during(config, during, |topic, partitions, _| {
        read_mock(&cluster, topic, partitions)
    });
}

#[test]
fn the_duplicate_tolerant_check_still_reports_loss_disorder_and_changed_copies() {
    let cluster = start();
    let mut scenario = Scenario::new("mock-check-dups", &cluster.bootstrap_servers(), 400);
    let sent = scenario.send(scenario.config().linger_ms(1));
    let read: Vec<Vec<ConsumedRecord>> = TOPICS
        .iter()
        .map(|(t, p, _)| read_mock(&cluster, t, *p))
        .collect();
    scenario.tolerate_duplicates = true;
    assert_eq!(scenario.check(&sent, &read), Vec::<String>::new());
    let check = |f: &dyn Fn(&mut Vec<Vec<ConsumedRecord>>)| {
        let mut copy = read.clone();
        f(&mut copy);
        scenario.check(&sent, &copy)
    };
    // An identical copy later in the partition (as a resend that was not
    // deduplicated) passes, acknowledged at either copy.
    let duplicated = |r: &mut Vec<Vec<ConsumedRecord>>, acked_at_copy: bool| {
        let mut copy = r[0][0].clone();
        copy.offset = r[0].last().unwrap().offset + 1;
        if acked_at_copy {
            for c in &mut r[0][..1] {
                c.offset = -5; // the first copy is not where it was acknowledged
            }
        }
        r[0].push(copy);
    };
    assert_eq!(check(&|r| duplicated(r, false)), Vec::<String>::new());
    // The copy holds the acknowledged position only if the ack names it.
    assert!(!check(&|r| duplicated(r, true)).is_empty());
    let reported = |problems: Vec<String>, what: &str| {
        assert!(
            problems.iter().any(|p| p.contains(what)),
            "{what} not reported: {problems:?}"
        );
    };
    reported(
        check(&|r| {
            let mut copy = r[0][0].clone();
            copy.value = Some(b"changed".to_vec());
            copy.offset += 10_000;
            r[0].push(copy);
        }),
        "different contents",
    );
    reported(check(&|r| drop(r[2].pop())), "read");
    reported(
        check(&|r| {
            // A later record of the same thread first: its first copy now
            // precedes an earlier one.
            let thread = |c: &ConsumedRecord| c.headers[0].1.clone().unwrap()[0];
            let b = (1..r[0].len())
                .find(|&i| thread(&r[0][i]) == thread(&r[0][0]))
                .expect("a thread sent two records to topic one");
            let mut early = r[0][b].clone();
            early.offset = -1;
            r[0].insert(0, early);
        }),
        "order",
    );
}

#[test]
fn mock_cluster_scenario_each_codec() {
    // A short run per codec: the mock inflates and checks every batch when
    // it is appended (as Kafka's LogValidator does) and stores it as sent.
    init_log();
    for codec in [
        CompressionType::Gzip,
        CompressionType::Snappy,
        CompressionType::Lz4,
        CompressionType::Zstd,
    ] {
        let cluster = start();
        let label = format!("mock-{codec}");
        let mut scenario = Scenario::new(&label, &cluster.bootstrap_servers(), 3_000);
        scenario.seed ^= u64::from(codec.id());
        let config = scenario.config().compression_type(codec);
        scenario.run(config, |topic, partitions, _| {
            read_mock(&cluster, topic, partitions)
        });
        // Every stored batch is in the codec.
        let mut batches = 0;
        for (topic, partitions, _) in TOPICS {
            for p in 0..partitions {
                for bytes in cluster.batches(topic, p) {
                    let batch = RecordBatch::parse(&bytes).expect("a stored batch");
                    assert_eq!(batch.compression_type(), Ok(codec), "{topic}-{p}");
                    batches += 1;
                }
            }
        }
        assert!(batches > 0, "{codec}: no batches stored");
    }
}

#[test]
fn compressed_batches_fill_by_their_compressed_size() {
    // Java's compression ratio estimator end to end: 100 rounds of 1000
    // compressible 100-byte records, each round flushed (so each round's
    // batches close, and update the estimate, before the next round
    // starts). Batches start at what 16 KiB of uncompressed records hold
    // and grow as the estimate falls, without passing batch.size.
    const BATCH_SIZE: usize = 16_384;
    let cluster = MockCluster::builder()
        .brokers(1)
        .start()
        .expect("a mock cluster");
    cluster.create_topic("fill", 1).expect("create topic");
    let config = ProducerConfig::builder(&cluster.bootstrap_servers())
        .compression_type(CompressionType::Lz4)
        .batch_size(BATCH_SIZE)
        .linger_ms(60_000)
        .build()
        .expect("config");
    let producer = KafkaProducer::new(config, BytesSerializer, BytesSerializer).expect("producer");
    let mut counts = Vec::new();
    let mut seen = 0;
    for round in 0..100u64 {
        for i in 0..1000u64 {
            let n = round * 1000 + i;
            let mut value = format!(
                "{{\"id\":{n},\"user\":\"u{:05}\",\"event\":\"click\",\"amount\":{}.{:02}",
                n.wrapping_mul(7919) % 20_000,
                n.wrapping_mul(104_729) % 1000,
                n % 100
            )
            .into_bytes();
            value.resize(100, b' ');
            producer
                .send(ProducerRecord::<Vec<u8>, Vec<u8>>::new("fill", value))
                .expect("send");
        }
        producer.flush().expect("flush");
        let batches = cluster.batches("fill", 0);
        for bytes in &batches[seen..] {
            assert!(
                bytes.len() <= BATCH_SIZE,
                "round {round}: a {}-byte batch for batch.size {BATCH_SIZE}",
                bytes.len()
            );
            let batch = RecordBatch::parse(bytes).expect("a stored batch");
            counts.push((round, batch.records_count()));
        }
        seen = batches.len();
    }
    producer.close().expect("close");
    assert_eq!(cluster.records("fill", 0).len(), 100_000);
    // An uncompressed 16 KiB batch holds 148 of these records.
    let first = counts.iter().map(|&(_, c)| c).take(3).max().unwrap_or(0);
    let last = counts
        .iter()
        .filter(|&&(round, _)| round >= 90)
        .map(|&(_, c)| c)
        .max()
        .unwrap_or(0);
    println!(
        "lz4 batches: {} in all, the first ones up to {first} records, the last rounds' up to {last}",
        counts.len()
    );
    assert!(first <= 148, "first batches: {counts:?}");
    assert!(
        last > 2 * 148,
        "the last rounds' largest batch: {last}: {counts:?}"
    );
}

#[test]
fn the_check_reports_every_kind_of_difference() {
    // The comparison must be able to fail: send a small plan, then damage
    // what was read back in one way per record and expect each reported.
    let cluster = start();
    let scenario = Scenario::new("mock-check", &cluster.bootstrap_servers(), 400);
    let sent = scenario.send(scenario.config().linger_ms(1));
    let read: Vec<Vec<ConsumedRecord>> = TOPICS
        .iter()
        .map(|(t, p, _)| read_mock(&cluster, t, *p))
        .collect();
    assert_eq!(scenario.check(&sent, &read), Vec::<String>::new());

    let damaged = |f: &dyn Fn(&mut Vec<Vec<ConsumedRecord>>)| {
        let mut copy = read.clone();
        f(&mut copy);
        scenario.check(&sent, &copy)
    };
    let first = |problems: Vec<String>, what: &str| {
        assert!(
            problems.iter().any(|p| p.contains(what)),
            "{what} not reported: {problems:?}"
        );
    };
    // topic "six": index 1.
    first(damaged(&|r| r[1][0].value = Some(b"x".to_vec())), "value");
    first(damaged(&|r| r[1][0].key = Some(b"other".to_vec())), "key");
    first(
        damaged(&|r| r[1][0].headers.push(("extra".into(), None))),
        "headers",
    );
    first(
        damaged(&|r| r[1][0].timestamp = Timestamp::LogAppendTime(5)),
        "timestamp",
    );
    first(
        damaged(&|r| r[1][0].offset += 1000),
        "acknowledged position",
    );
    first(damaged(&|r| drop(r[2].pop())), "read");
    first(
        damaged(&|r| {
            let copy = r[0][0].clone();
            r[0].push(copy);
        }),
        "read twice",
    );
    first(
        damaged(&|r| {
            r[0][0].headers.remove(0);
        }),
        "nobody sent",
    );
    // Two records of one thread in one partition, swapped.
    first(
        damaged(&|r| {
            let part = &mut r[0];
            let id = |c: &ConsumedRecord| c.headers[0].1.clone().unwrap_or_default();
            let thread_of =
                |c: &ConsumedRecord| id(c).split(|b| *b == b':').next().map(<[u8]>::to_vec);
            let a = 0;
            let b = (1..part.len())
                .find(|&i| thread_of(&part[i]) == thread_of(&part[a]))
                .expect("a thread sent two records to topic one");
            let (oa, ob) = (part[a].offset, part[b].offset);
            part.swap(a, b);
            part[a].offset = oa;
            part[b].offset = ob;
        }),
        "order",
    );
    // A keyed record moved to another partition of "sixty-four".
    first(
        damaged(&|r| {
            let rec = r[2]
                .iter_mut()
                .find(|c| c.key.is_some())
                .expect("a keyed record");
            rec.partition = (rec.partition + 1) % 64;
        }),
        "partition",
    );
}
