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
