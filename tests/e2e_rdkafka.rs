//! The end-to-end scenario (`tests/support/scenario.rs`) against
//! librdkafka's mock cluster: 3 brokers, topics of 1, 6 and 64 partitions
//! (3 replicas) created through its API, read back with librdkafka's
//! consumer with CRC checks on.
//!
//! The mock answers every Produce with log_append_time_ms 1234 (its topics
//! keep create times, which is what the consumer reads): the producer
//! reports that value in `RecordMetadata::timestamp`, as Java does, and the
//! scenario expects it there. The mock keeps only the newest 5 MiB of each
//! partition; the scenario's topic weights keep 100 000 records under it,
//! and the low watermarks are checked so that a larger run says so.
//!
//! `KAFKA_PRODUCER_E2E_RECORDS` overrides the record count.
//!
//! One short run per codec (snappy, lz4, zstd) checks that librdkafka's
//! consumer reads our compressed batches (CRC checks on, every field
//! compared).

mod support;

use std::time::Duration;

use kafka_producer::record::CompressionType;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use support::brokers::{read_back, watermarks, ConsumedRecord, RdMock};
use support::scenario::{init_log, record_count, AckTimestamp, Scenario, DEFAULT_RECORDS, TOPICS};

const TIMEOUT: Duration = Duration::from_secs(60);

#[test]
fn rdkafka_mock_scenario() {
    init_log();
    let mock = RdMock::start(3);
    for (topic, partitions, _) in TOPICS {
        mock.create_topic(topic, partitions, 3);
    }
    let mut scenario = Scenario::new(
        "rdkafka-mock",
        mock.bootstrap(),
        record_count(DEFAULT_RECORDS),
    );
    scenario.ack_timestamp = AckTimestamp::Fixed(1234);
    let bootstrap = mock.bootstrap().to_owned();
    scenario.run(scenario.config(), |topic, partitions, count| {
        read_all(&bootstrap, topic, partitions, count)
    });
}

/// Reads a topic back after checking through the watermarks that the
/// mock kept every record: it drops a partition's oldest batches beyond
/// 5 MiB, which is said plainly rather than reported as lost records.
fn read_all(bootstrap: &str, topic: &str, partitions: i32, count: usize) -> Vec<ConsumedRecord> {
    let marks = watermarks(bootstrap, topic, partitions, TIMEOUT);
    for (p, (low, _)) in marks.iter().enumerate() {
        assert_eq!(
            *low, 0,
            "the librdkafka mock dropped the oldest batches of {topic}-{p} \
             (it keeps 5 MiB per partition): send fewer records"
        );
    }
    let stored: i64 = marks.iter().map(|(_, high)| high).sum();
    assert_eq!(stored, count as i64, "{topic}: offsets used {marks:?}");
    read_back(bootstrap, topic, partitions, count, TIMEOUT)
}

#[test]
fn rdkafka_mock_scenario_gzip_with_faults() {
    // A fifth of the records, gzip batches, and while they are sent: Produce
    // requests failed with retriable errors or a dropped connection, and
    // partition leaders moved between the brokers. The producer must retry
    // each batch, in order, without loss or duplicate. One request in flight
    // per connection: the mock checks no sequence numbers for idempotent
    // producers, so with more, a retried batch could land after the next one
    // (a Kafka broker refuses that one with OUT_OF_ORDER_SEQUENCE_NUMBER).
    init_log();
    let mock = RdMock::start(3);
    for (topic, partitions, _) in TOPICS {
        mock.create_topic(topic, partitions, 3);
    }
    let mut scenario = Scenario::new(
        "rdkafka-mock-faults",
        mock.bootstrap(),
        record_count(DEFAULT_RECORDS) / 5,
    );
    scenario.ack_timestamp = AckTimestamp::Fixed(1234);
    scenario.seed ^= 0x5eed;
    let bootstrap = mock.bootstrap().to_owned();
    let config = scenario
        .config()
        .compression_type(CompressionType::Gzip)
        .retry_backoff_ms(10)
        .batch_size(4096)
        .max_in_flight_requests_per_connection(1);
    let cluster = mock.cluster();
    let faults = [
        RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
        RDKafkaRespErr::RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
        RDKafkaRespErr::RD_KAFKA_RESP_ERR__TRANSPORT,
        RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
        RDKafkaRespErr::RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
        RDKafkaRespErr::RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR,
    ];
    let during = || {
        for round in 0..12 {
            // Spread over the run; when each lands does not matter.
            std::thread::sleep(Duration::from_millis(40));
            cluster.request_errors(RDKafkaApiKey::Produce, &faults[round % faults.len()..]);
            for (t, (topic, partitions, _)) in TOPICS.iter().enumerate() {
                let p = (round * 7 + t) as i32 % partitions;
                let broker = 1 + (round + t) as i32 % 3;
                cluster
                    .partition_leader(topic, p, Some(broker))
                    .expect("move a partition leader");
            }
        }
    };
    scenario.run_during(config, during, |topic, partitions, count| {
        read_all(&bootstrap, topic, partitions, count)
    });
}

// ------------------------------------------------------------------------
// Brokers down and up, round-trip times: a few thousand records each.
//
// What the librdkafka mock cannot do, and what is relaxed for it: it checks
// no sequence numbers for idempotent producers that are not transactional,
// and it appends a Produce request as soon as it reads it. A request whose
// answer is lost (its broker taken down with the request in flight, or the
// answer held by a round-trip time longer than request.timeout.ms, after
// which the producer closes the connection) is therefore appended again
// when the producer resends it; Kafka would answer that resend as a
// duplicate. These scenarios set `Scenario::tolerate_duplicates`: copies
// must be identical, one of them at the acknowledged position, each
// thread's order kept per partition by first copies; every record must
// still be acknowledged and stored (none failed, none lost). The same
// scenarios run against our MockCluster, which deduplicates as Kafka does,
// with the strict check (`tests/e2e_mock.rs`).

/// Records per fault scenario: enough to fill many batches per broker,
/// few enough to keep CI short.
const FAULT_RECORDS: usize = 3_000;

/// A 3-broker mock with the scenario's topics, partition `p` of each led
/// by broker `1 + p % 3`, so the test knows what a broker leads.
fn led_round_robin() -> RdMock {
    let mock = RdMock::start(3);
    for (topic, partitions, _) in TOPICS {
        mock.create_topic(topic, partitions, 3);
        for p in 0..partitions {
            mock.cluster()
                .partition_leader(topic, p, Some(1 + p % 3))
                .expect("set a partition leader");
        }
    }
    mock
}

fn fault_scenario(label: &str, mock: &RdMock, seed: u64) -> Scenario {
    let mut scenario = Scenario::new(label, mock.bootstrap(), record_count(FAULT_RECORDS));
    scenario.ack_timestamp = AckTimestamp::Fixed(1234);
    scenario.tolerate_duplicates = true;
    scenario.seed ^= seed;
    scenario
}

/// Reads a topic back as [`read_all`] does, but expects at least `count`
/// records (duplicates allowed, see above): all that is stored is read.
fn read_with_duplicates(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    count: usize,
) -> Vec<ConsumedRecord> {
    let marks = watermarks(bootstrap, topic, partitions, TIMEOUT);
    assert!(marks.iter().all(|(low, _)| *low == 0), "{topic}: {marks:?}");
    let stored: i64 = marks.iter().map(|(_, high)| high).sum();
    assert!(stored >= count as i64, "{topic}: offsets used {marks:?}");
    read_back(bootstrap, topic, partitions, stored as usize, TIMEOUT)
}

#[test]
fn rdkafka_mock_broker_down_and_up_while_producing() {
    // Broker 1 is down when the producer starts: the records of its
    // partitions can only be delivered once it is back (the librdkafka
    // mock keeps a downed broker the leader). Then broker 3 goes down and
    // up while records flow, cutting whatever is in flight to it.
    init_log();
    let mock = led_round_robin();
    let cluster = mock.cluster();
    let scenario = fault_scenario("rdkafka-mock-broker-down", &mock, 0x0d01);
    let bootstrap = mock.bootstrap().to_owned();
    cluster.broker_down(1).expect("broker 1 down");
    let during = || {
        std::thread::sleep(Duration::from_millis(400));
        cluster.broker_up(1).expect("broker 1 up");
        std::thread::sleep(Duration::from_millis(50));
        cluster.broker_down(3).expect("broker 3 down");
        std::thread::sleep(Duration::from_millis(300));
        cluster.broker_up(3).expect("broker 3 up");
    };
    scenario.run_during(
        scenario.fault_config(),
        during,
        |topic, partitions, count| read_with_duplicates(&bootstrap, topic, partitions, count),
    );
}

#[test]
fn rdkafka_mock_leadership_moves_off_a_downed_broker() {
    // Broker 2 is down from the start and stays down until every
    // partition it led has moved to broker 3: those records are delivered
    // only through the move (metadata refreshed, batches redirected).
    // Later broker 1 goes down mid-run and its partitions move to broker 2.
    init_log();
    let mock = led_round_robin();
    let cluster = mock.cluster();
    let scenario = fault_scenario("rdkafka-mock-leader-off-down", &mock, 0x1ead);
    let bootstrap = mock.bootstrap().to_owned();
    cluster.broker_down(2).expect("broker 2 down");
    let move_off = |from: i32, to: i32| {
        for (topic, partitions, _) in TOPICS {
            for p in (0..partitions).filter(|p| 1 + p % 3 == from) {
                cluster
                    .partition_leader(topic, p, Some(to))
                    .expect("move a partition leader");
            }
        }
    };
    let during = || {
        std::thread::sleep(Duration::from_millis(300));
        move_off(2, 3);
        cluster.broker_up(2).expect("broker 2 up");
        std::thread::sleep(Duration::from_millis(100));
        cluster.broker_down(1).expect("broker 1 down");
        move_off(1, 2);
        std::thread::sleep(Duration::from_millis(300));
        cluster.broker_up(1).expect("broker 1 up");
    };
    scenario.run_during(
        scenario.fault_config(),
        during,
        |topic, partitions, count| read_with_duplicates(&bootstrap, topic, partitions, count),
    );
}

#[test]
fn rdkafka_mock_round_trip_time_above_the_request_timeout_then_normal() {
    // For 1.5 s, brokers 1 and 2 answer 1 s late, twice request.timeout.ms:
    // every request to them times out, the producer closes the connection
    // and retries its batches until the round-trip time is back to
    // normal; then everything is delivered.
    init_log();
    let mock = led_round_robin();
    let cluster = mock.cluster();
    let scenario = fault_scenario("rdkafka-mock-slow", &mock, 0x0510);
    let bootstrap = mock.bootstrap().to_owned();
    let config = scenario
        .fault_config()
        .request_timeout_ms(500)
        .delivery_timeout_ms(60_000);
    let during = || {
        std::thread::sleep(Duration::from_millis(100));
        for broker in [1, 2] {
            cluster
                .broker_round_trip_time(broker, Duration::from_millis(1_000))
                .expect("set a round-trip time");
        }
        std::thread::sleep(Duration::from_millis(1_500));
        for broker in [1, 2] {
            cluster
                .broker_round_trip_time(broker, Duration::ZERO)
                .expect("clear a round-trip time");
        }
    };
    scenario.run_during(config, during, |topic, partitions, count| {
        read_with_duplicates(&bootstrap, topic, partitions, count)
    });
}

#[test]
fn rdkafka_mock_round_trip_time_under_the_timeouts_only_slows() {
    // 20 ms on every answer, far under every timeout: nothing is retried,
    // so the strict check applies (each record once, none failed).
    init_log();
    let mock = led_round_robin();
    for broker in 1..=3 {
        mock.cluster()
            .broker_round_trip_time(broker, Duration::from_millis(20))
            .expect("set a round-trip time");
    }
    let mut scenario = fault_scenario("rdkafka-mock-rtt", &mock, 0x77);
    scenario.tolerate_duplicates = false;
    let bootstrap = mock.bootstrap().to_owned();
    scenario.run(scenario.config(), |topic, partitions, count| {
        // Sent: the consumer need not wait too.
        for broker in 1..=3 {
            mock.cluster()
                .broker_round_trip_time(broker, Duration::ZERO)
                .expect("clear a round-trip time");
        }
        read_all(&bootstrap, topic, partitions, count)
    });
}

/// Records of each per-codec run: a few thousand, keys, headers and values
/// of every shape the scenario makes.
const CODEC_RECORDS: usize = 3_000;

#[test]
fn rdkafka_mock_scenario_each_codec() {
    init_log();
    for codec in [
        CompressionType::Snappy,
        CompressionType::Lz4,
        CompressionType::Zstd,
    ] {
        // A fresh cluster per codec: every topic holds that codec's batches.
        let mock = RdMock::start(3);
        for (topic, partitions, _) in TOPICS {
            mock.create_topic(topic, partitions, 3);
        }
        let label = format!("rdkafka-mock-{codec}");
        let mut scenario = Scenario::new(&label, mock.bootstrap(), CODEC_RECORDS);
        scenario.ack_timestamp = AckTimestamp::Fixed(1234);
        scenario.seed ^= u64::from(codec.id());
        let bootstrap = mock.bootstrap().to_owned();
        let config = scenario.config().compression_type(codec);
        scenario.run(config, |topic, partitions, count| {
            read_all(&bootstrap, topic, partitions, count)
        });
    }
}
