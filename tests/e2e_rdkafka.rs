//! The end-to-end scenario (`tests/support/scenario.rs`) against
//! librdkafka's mock cluster: 3 brokers, topics of 1, 6 and 64 partitions
//! (3 replicas) created through its API, read back with librdkafka's
//! consumer with CRC checks on.
//!
//! The mock answers every Produce with log_append_time_ms 1234 (its topics
//! keep create times, which is what the consumer reads): the producer
//! reports that value in `RecordMetadata::timestamp`, as Java does, and the
//! scenario expects it there.
//!
//! `KAFKA_PRODUCER_E2E_RECORDS` overrides the record count.

mod support;

use std::time::Duration;

use support::brokers::{read_back, RdMock};
use support::scenario::{record_count, AckTimestamp, Scenario, DEFAULT_RECORDS};

const TOPICS: [(&str, i32); 3] = [("one", 1), ("six", 6), ("sixty-four", 64)];

#[test]
fn rdkafka_mock_scenario() {
    support::scenario::init_log();
    let mock = RdMock::start(3);
    for (topic, partitions) in TOPICS {
        mock.create_topic(topic, partitions, 3);
    }
    let mut scenario = Scenario::new(
        "rdkafka-mock",
        mock.bootstrap(),
        &TOPICS,
        record_count(DEFAULT_RECORDS),
    );
    scenario.ack_timestamp = AckTimestamp::Fixed(1234);
    let bootstrap = mock.bootstrap().to_owned();
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
