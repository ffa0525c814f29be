//! The end-to-end scenario (`tests/support/scenario.rs`) against a real
//! Kafka-compatible broker process: tansu (memory storage), installed by
//! `scripts/install-tansu.sh`, started and stopped by this test. Topics of
//! 1, 6 and 64 partitions are created with tansu's CLI; records are read
//! back with librdkafka's consumer with CRC checks on.
//!
//! Without tansu the test prints that the broker tests were skipped and
//! passes; under `CI=true` (`.ci/run` installs tansu first) it fails.
//!
//! `KAFKA_PRODUCER_E2E_RECORDS` overrides the record count.

mod support;

use std::io::Write;
use std::time::Duration;

use kafka_producer::producer::Acks;
use kafka_producer::record::CompressionType;
use support::brokers::{read_back, Tansu};
use support::scenario::{init_log, record_count, Scenario, DEFAULT_RECORDS, TOPICS};

/// [`Tansu::start`], saying on the terminal when the test is skipped:
/// written to stderr directly, which the test harness does not capture.
fn start() -> Option<Tansu> {
    let tansu = Tansu::start();
    if tansu.is_none() {
        let _ = writeln!(
            std::io::stderr(),
            "e2e_tansu: tansu is not installed, the tansu end-to-end test is skipped \
             (scripts/install-tansu.sh installs it; .ci/run does under CI=true)"
        );
    }
    tansu
}

#[test]
fn tansu_scenario() {
    init_log();
    let Some(tansu) = start() else {
        return;
    };
    for (topic, partitions, _) in TOPICS {
        tansu.create_topic(topic, partitions);
    }
    let bootstrap = tansu.bootstrap();
    let scenario = Scenario::new("tansu", &bootstrap, record_count(DEFAULT_RECORDS));
    scenario.run(scenario.config(), |topic, partitions, count| {
        read_back(
            &bootstrap,
            topic,
            partitions,
            count,
            Duration::from_secs(60),
        )
    });
}

#[test]
fn tansu_scenario_gzip_acks_one_without_idempotence() {
    // A fifth of the records, gzip batches, acks=1 without idempotence (no
    // InitProducerId, producer id -1 in every batch), one request in flight
    // per connection and small batches: many more Produce requests.
    init_log();
    let Some(tansu) = start() else {
        return;
    };
    for (topic, partitions, _) in TOPICS {
        tansu.create_topic(topic, partitions);
    }
    let bootstrap = tansu.bootstrap();
    let mut scenario = Scenario::new("tansu-gzip", &bootstrap, record_count(DEFAULT_RECORDS) / 5);
    scenario.seed ^= 0x62_7a;
    let config = scenario
        .config()
        .compression_type(CompressionType::Gzip)
        .acks(Acks::One)
        .enable_idempotence(false)
        .max_in_flight_requests_per_connection(1)
        .batch_size(2048)
        .linger_ms(0);
    scenario.run(config, |topic, partitions, count| {
        read_back(
            &bootstrap,
            topic,
            partitions,
            count,
            Duration::from_secs(60),
        )
    });
}
