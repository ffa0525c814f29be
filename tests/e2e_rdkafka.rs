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

mod support;

use std::time::Duration;

use support::brokers::{read_back, watermarks, RdMock};
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
        // Said plainly rather than reported as lost records.
        let marks = watermarks(&bootstrap, topic, partitions, TIMEOUT);
        for (p, (low, _)) in marks.iter().enumerate() {
            assert_eq!(
                *low, 0,
                "the librdkafka mock dropped the oldest batches of {topic}-{p} \
                 (it keeps 5 MiB per partition): send fewer records"
            );
        }
        let stored: i64 = marks.iter().map(|(_, high)| high).sum();
        assert_eq!(stored, count as i64, "{topic}: offsets used {marks:?}");
        read_back(&bootstrap, topic, partitions, count, TIMEOUT)
    });
}
