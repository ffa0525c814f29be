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

use std::time::Duration;

use support::brokers::{read_back, Tansu};
use support::scenario::{init_log, record_count, Scenario, DEFAULT_RECORDS, TOPICS};

#[test]
fn tansu_scenario() {
    init_log();
    let Some(tansu) = Tansu::start() else {
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
