//! Proves the broker harness (`tests/support/brokers.rs`) before our
//! producer exists: librdkafka's own `BaseProducer` writes a few hundred
//! records (keys, null and empty keys and values, headers with null values,
//! explicit and partitioner-chosen partitions, explicit and default
//! timestamps, plain and gzip batches) to librdkafka's mock cluster and to
//! tansu, and [`read_back`] must return every field as it was sent, at the
//! partition and offset the delivery report gave.
//!
//! `read_back_fails_on_a_corrupt_batch` writes a batch of our own builder
//! with a hand-made Produce request: intact, it reads back field for field;
//! with one value byte flipped, `read_back` fails on librdkafka's CRC check.
//!
//! What each broker refused or changed, as seen here (librdkafka 2.12.1
//! through rdkafka 0.39, tansu 0.6.0 with memory storage). Neither changed
//! any field of any record above.
//! - librdkafka mock cluster: advertises ApiVersions v0-v2, Produce v0-v10,
//!   Metadata v0-v12, InitProducerId v0-v4. It answers ApiVersions v3+ with
//!   UNSUPPORTED_VERSION in a malformed layout that our decoder (and its v0
//!   fallback) rejects: a producer must read the error code from the first
//!   two bytes and retry at v0. No CreateTopics; a topic not made through
//!   `MockCluster::create_topic` is auto-created with 4 partitions when a
//!   client asks for it. Every successful Produce is answered with
//!   log_append_time_ms 1234 although the topic keeps create times. Produced
//!   batches are stored without a CRC check (magic 2 only; the sequence
//!   checks apply to transactional producers only).
//! - tansu: advertises ApiVersions v0-v4, Produce v0-v11, Metadata v0-v12,
//!   InitProducerId v0-v5, and answers ApiVersions v3 and v4 normally.
//!   ListOffsets(latest) returns the last batch's base offset + 1 instead of
//!   the log end offset, so high watermarks are not checked against it.
//!   Produced batches are stored without a CRC check too (a corrupt batch is
//!   acknowledged with NONE and caught only by the consumer).

mod support;

use std::collections::HashMap;
use std::time::Duration;

use parking_lot::Mutex;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Message, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::ClientContext;

use kafka_producer::protocol::messages::api_versions::ApiVersionsResponse;
use kafka_producer::protocol::messages::produce::{
    PartitionProduceData, ProduceRequest, ProduceResponse, TopicProduceData,
};
use kafka_producer::protocol::{ApiKey, ErrorCode};
use kafka_producer::record::{Compression, Header as RecordHeader, MemoryRecordsBuilder};
use kafka_producer::util::clock::{Clock, SystemClock};
use support::brokers::{
    exchange, probe_api_versions, read_back, watermarks, ConsumedRecord, RdMock, Tansu, Timestamp,
};

const TIMEOUT: Duration = Duration::from_secs(60);

/// One record to send, and what must come back.
#[derive(Debug, Clone)]
struct Case {
    partition: Option<i32>,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    headers: Vec<(String, Option<Vec<u8>>)>,
    timestamp: Option<i64>,
}

/// `count` records covering the shapes a producer must keep apart.
fn cases(count: usize, partitions: i32) -> Vec<Case> {
    (0..count)
        .map(|i| {
            let n = i32::try_from(i).expect("a small count");
            let key = match i % 7 {
                0 => None,
                1 => Some(Vec::new()),
                _ => Some(format!("key-{}", i % 23).into_bytes()),
            };
            let value = match i % 11 {
                0 => None,
                1 => Some(Vec::new()),
                // Lengths up to ~2 KiB so batches hold records of many sizes.
                _ => Some((0..(i * 7) % 2048).map(|b| (b * 31 + i) as u8).collect()),
            };
            let headers = match i % 5 {
                0 => Vec::new(),
                1 => vec![("null".to_owned(), None)],
                2 => vec![
                    ("a".to_owned(), Some(b"1".to_vec())),
                    ("empty".to_owned(), Some(Vec::new())),
                    ("null".to_owned(), None),
                    // Repeated keys are kept, in order.
                    ("a".to_owned(), Some(b"2".to_vec())),
                ],
                _ => vec![(format!("h{i}"), Some(format!("v{i}").into_bytes()))],
            };
            Case {
                // Every other record leaves the partition to the partitioner.
                partition: (i % 2 == 0).then(|| (n / 2) % partitions),
                key,
                value,
                headers,
                // Explicit create times (some before 2001, some in the
                // future); every third record lets librdkafka stamp it.
                timestamp: match i % 3 {
                    0 => None,
                    1 => Some(1_000_000_000_000 + i64::from(n)),
                    _ => Some(4_000_000_000_000 - i64::from(n)),
                },
            }
        })
        .collect()
}

/// Where and when librdkafka says a record was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Delivered {
    partition: i32,
    offset: i64,
    timestamp: Timestamp,
}

/// Collects delivery reports by case index.
struct Reports {
    delivered: Mutex<Vec<Option<Result<Delivered, String>>>>,
}

impl ClientContext for Reports {}

impl ProducerContext for Reports {
    type DeliveryOpaque = Box<usize>;

    fn delivery(&self, result: &DeliveryResult<'_>, index: Box<usize>) {
        let report = match result {
            Ok(msg) => Ok(Delivered {
                partition: msg.partition(),
                offset: msg.offset(),
                timestamp: msg.timestamp(),
            }),
            Err((e, _)) => Err(e.to_string()),
        };
        self.delivered.lock()[*index] = Some(report);
    }
}

/// Produces `cases` to `topic` with librdkafka and returns each case's
/// delivery report.
fn produce(bootstrap: &str, topic: &str, cases: &[Case], compression: &str) -> Vec<Delivered> {
    let producer: BaseProducer<Reports> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("compression.type", compression)
        .set("linger.ms", "5")
        .set("broker.address.family", "v4")
        .create_with_context(Reports {
            delivered: Mutex::new(vec![None; cases.len()]),
        })
        .expect("librdkafka producer");
    for (i, case) in cases.iter().enumerate() {
        let mut headers = OwnedHeaders::new();
        for (k, v) in &case.headers {
            headers = headers.insert(Header {
                key: k,
                value: v.as_deref(),
            });
        }
        let mut record = BaseRecord::<[u8], [u8], Box<usize>>::with_opaque_to(topic, Box::new(i))
            .headers(headers);
        if let Some(p) = case.partition {
            record = record.partition(p);
        }
        if let Some(k) = &case.key {
            record = record.key(k.as_slice());
        }
        if let Some(v) = &case.value {
            record = record.payload(v.as_slice());
        }
        if let Some(ts) = case.timestamp {
            record = record.timestamp(ts);
        }
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    producer.poll(Duration::from_millis(100));
                    record = back;
                }
                Err((e, _)) => panic!("send record {i} to {topic}: {e}"),
            }
        }
        producer.poll(Duration::ZERO);
    }
    producer.flush(TIMEOUT).expect("flush");
    let delivered = std::mem::take(&mut *producer.context().delivered.lock());
    delivered
        .into_iter()
        .enumerate()
        .map(|(i, r)| match r {
            Some(Ok(d)) => d,
            Some(Err(e)) => panic!("record {i} to {topic} failed: {e}"),
            None => panic!("no delivery report for record {i} to {topic}"),
        })
        .collect()
}

/// The differences between what was sent and what was read back, one line
/// each (empty when they agree). Records sent without a timestamp must come
/// back with a create time within `stamped` (wall-clock ms before the first
/// send and after the flush).
fn compare(
    topic: &str,
    cases: &[Case],
    delivered: &[Delivered],
    got: &[ConsumedRecord],
    stamped: (i64, i64),
) -> Vec<String> {
    let mut problems = Vec::new();
    if got.len() != cases.len() {
        problems.push(format!("read {} records, sent {}", got.len(), cases.len()));
    }
    let at: HashMap<(i32, i64), usize> = delivered
        .iter()
        .enumerate()
        .map(|(i, d)| ((d.partition, d.offset), i))
        .collect();
    for r in got {
        let Some(&i) = at.get(&(r.partition, r.offset)) else {
            problems.push(format!("unexpected record at {}-{}", r.partition, r.offset));
            continue;
        };
        let case = &cases[i];
        let mut check = |what: &str, ok: bool, detail: String| {
            if !ok {
                problems.push(format!(
                    "record {i} at {}-{}: {what}: {detail}",
                    r.partition, r.offset
                ));
            }
        };
        check("topic", r.topic == topic, r.topic.clone());
        if let Some(p) = case.partition {
            check("partition", r.partition == p, format!("sent to {p}"));
        }
        check(
            "key",
            r.key == case.key,
            format!("{:?} != {:?}", r.key, case.key),
        );
        check(
            "value",
            r.value == case.value,
            format!(
                "{:?} != {:?}",
                r.value.as_ref().map(Vec::len),
                case.value.as_ref().map(Vec::len)
            ),
        );
        check(
            "headers",
            r.headers == case.headers,
            format!("{:?} != {:?}", r.headers, case.headers),
        );
        // The delivery report's timestamp is not compared: the mock
        // answers every Produce with log_append_time 1234.
        let ts_ok = match (case.timestamp, r.timestamp) {
            (Some(sent), read) => read == Timestamp::CreateTime(sent),
            (None, Timestamp::CreateTime(t)) => (stamped.0..=stamped.1).contains(&t),
            (None, _) => false,
        };
        check(
            "timestamp",
            ts_ok,
            format!(
                "read {:?}, sent {:?} (stamped within {stamped:?})",
                r.timestamp, case.timestamp
            ),
        );
    }
    problems
}

/// Sends `count` records to an existing topic, reads them back and checks
/// every field; with `check_watermarks`, also checks through ListOffsets that
/// the partitions hold nothing else. Returns the delivery reports.
fn round_trip(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    count: usize,
    compression: &str,
    check_watermarks: bool,
) -> Vec<Delivered> {
    let cases = cases(count, partitions);
    let before = SystemClock.wall_clock_ms();
    let delivered = produce(bootstrap, topic, &cases, compression);
    let after = SystemClock.wall_clock_ms();
    let got = read_back(bootstrap, topic, partitions, count, TIMEOUT);
    let problems = compare(topic, &cases, &delivered, &got, (before, after));
    assert!(
        problems.is_empty(),
        "{topic} ({partitions} partitions, {compression}): {} problems, first ones:\n{}",
        problems.len(),
        problems[..problems.len().min(20)].join("\n")
    );
    if check_watermarks {
        let marks = watermarks(bootstrap, topic, partitions, TIMEOUT);
        let stored: i64 = marks.iter().map(|(lo, hi)| hi - lo).sum();
        assert_eq!(stored, count as i64, "{topic}: offsets used {marks:?}");
    }
    let used: std::collections::HashSet<i32> = delivered.iter().map(|d| d.partition).collect();
    assert_eq!(
        used.len(),
        usize::try_from(partitions).expect("positive"),
        "{topic}: every partition gets records"
    );
    delivered
}

/// The partition count a broker reports for `topic` (which it may create).
fn partition_count(bootstrap: &str, topic: &str) -> usize {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("broker.address.family", "v4")
        // Ask for auto-creation (librdkafka's consumer does not by default).
        .set("allow.auto.create.topics", "true")
        .create()
        .expect("librdkafka consumer");
    let md = consumer
        .fetch_metadata(Some(topic), TIMEOUT)
        .expect("metadata");
    md.topics()
        .iter()
        .find(|t| t.name() == topic)
        .map_or(0, |t| t.partitions().len())
}

#[test]
fn rd_mock_round_trip() {
    let mock = RdMock::start(3);
    for (topic, partitions, compression) in [
        ("one", 1, "none"),
        ("six", 6, "gzip"),
        ("sixty-four", 64, "none"),
    ] {
        mock.create_topic(topic, partitions, 3);
        let delivered = round_trip(mock.bootstrap(), topic, partitions, 300, compression, true);
        // The mock answers every successful Produce with log_append_time_ms
        // 1234 (and the topic still keeps create times): a producer that,
        // like Java, reports the log append time when it is not -1 reports
        // 1234 against the mock.
        assert!(
            delivered
                .iter()
                .all(|d| d.timestamp == Timestamp::LogAppendTime(1234)),
            "{topic}: {:?}",
            delivered[0]
        );
    }
}

#[test]
fn tansu_round_trip() {
    let Some(tansu) = Tansu::start() else {
        return;
    };
    for (topic, partitions, compression) in [
        ("one", 1, "none"),
        ("six", 6, "gzip"),
        ("sixty-four", 64, "none"),
    ] {
        tansu.create_topic(topic, partitions);
        // tansu's ListOffsets(latest) answers the last batch's base offset
        // + 1, not the log end offset, so its watermarks are not checked.
        let delivered = round_trip(
            &tansu.bootstrap(),
            topic,
            partitions,
            300,
            compression,
            false,
        );
        println!("tansu {topic}: first delivery report {:?}", delivered[0]);
    }
}

#[test]
fn a_changed_field_is_reported() {
    // The comparison must be able to fail: a null header value read back as
    // an empty one, and a null value read back as empty, are both caught.
    let cases = cases(12, 1);
    let delivered: Vec<Delivered> = (0..12)
        .map(|o| Delivered {
            partition: 0,
            offset: o,
            timestamp: Timestamp::CreateTime(7),
        })
        .collect();
    let mut got: Vec<ConsumedRecord> = cases
        .iter()
        .zip(&delivered)
        .map(|(c, d)| ConsumedRecord {
            topic: "t".to_owned(),
            partition: d.partition,
            offset: d.offset,
            timestamp: c.timestamp.map_or(d.timestamp, Timestamp::CreateTime),
            key: c.key.clone(),
            value: c.value.clone(),
            headers: c.headers.clone(),
        })
        .collect();
    let stamped = (7, 7);
    assert_eq!(
        compare("t", &cases, &delivered, &got, stamped),
        Vec::<String>::new()
    );
    got[1].headers[0].1 = Some(Vec::new()); // case 1: header "null" = null
    got[11].value = Some(Vec::new()); // case 11: null value
    let problems = compare("t", &cases, &delivered, &got, stamped);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("record 1 ") && problems[0].contains("headers"));
    assert!(problems[1].contains("record 11 ") && problems[1].contains("value"));
}

/// What a broker advertises for the APIs a producer uses, one line.
fn advertised(resp: &ApiVersionsResponse) -> String {
    [
        ("Produce", ApiKey::PRODUCE),
        ("Metadata", ApiKey::METADATA),
        ("ApiVersions", ApiKey::API_VERSIONS),
        ("InitProducerId", ApiKey::INIT_PRODUCER_ID),
    ]
    .iter()
    .map(|(name, key)| match resp.version_range(*key) {
        Some(r) => format!("{name} v{}-v{}", r.min, r.max),
        None => format!("{name} absent"),
    })
    .collect::<Vec<_>>()
    .join(", ")
}

#[test]
fn what_the_brokers_advertise() {
    let mock = RdMock::start(1);
    let addr = mock.bootstrap().to_owned();
    let v0 = probe_api_versions(&addr, 0)
        .decoded
        .expect("the mock's ApiVersions v0 answer decodes");
    println!(
        "rd mock, ApiVersions v0: {:?}: {}",
        v0.error_code,
        advertised(&v0)
    );
    assert_eq!(v0.error_code, ErrorCode::NONE);
    let range = v0
        .version_range(ApiKey::API_VERSIONS)
        .expect("the mock lists ApiVersions");
    assert_eq!(range.max, 2, "librdkafka's mock stops at ApiVersions v2");

    // Java 4.3 opens with ApiVersions v4. The mock answers UNSUPPORTED_VERSION
    // in a layout that is neither v0 nor v3: error code, a one-byte count
    // holding 1 (not the compact 1+1), the ApiVersions entry (18, 0, 2)
    // without tagged fields, throttle time 0, no tagged fields. Neither our
    // decoder (at v4, nor its v0 fallback) reads it; what a producer can rely
    // on is the error code in the first two bytes, then retry at v0 (Java
    // retries at the highest version it finds, v0 when it finds none).
    for version in [3, 4] {
        let probe = probe_api_versions(&addr, version);
        println!(
            "rd mock, ApiVersions v{version}: {} -> {:?}",
            support::hex(&probe.frame),
            probe.decoded
        );
        assert_eq!(probe.error_code(), Some(ErrorCode::UNSUPPORTED_VERSION));
        assert_eq!(
            support::hex(&probe.frame),
            "00000007002301001200000002000000 00".replace(' ', "")
        );
        assert!(probe.decoded.is_err());
    }

    // A topic the mock was not told about is auto-created on first use.
    assert_eq!(partition_count(&addr, "auto-created"), 4);

    if let Some(tansu) = Tansu::start() {
        let addr = tansu.bootstrap();
        for version in [0, 3, 4] {
            let probe = probe_api_versions(&addr, version);
            match &probe.decoded {
                Ok(resp) => println!(
                    "tansu, ApiVersions v{version}: {:?}: {}",
                    resp.error_code,
                    advertised(resp)
                ),
                Err(e) => println!(
                    "tansu, ApiVersions v{version}: {} does not decode: {e}",
                    support::hex(&probe.frame)
                ),
            }
            assert_eq!(probe.error_code(), Some(ErrorCode::NONE));
            assert!(probe.decoded.is_ok());
        }
    }
}

/// One record batch of three records, built with our own builder.
fn our_batch() -> Vec<u8> {
    let mut b = MemoryRecordsBuilder::new(Vec::new(), Compression::none(), 1 << 20)
        .expect("an uncompressed builder");
    let header = [RecordHeader {
        key: "h".to_owned(),
        value: None,
    }];
    b.append(1_700_000_000_000, Some(b"k0"), Some(b"v0"), &[])
        .expect("append");
    b.append(1_700_000_000_001, None, Some(b"v1"), &header)
        .expect("append");
    b.append(1_700_000_000_002, Some(b""), None, &[])
        .expect("append");
    b.build().expect("build")
}

/// Writes `batch` to partition 0 of `topic` with a hand-made Produce v9
/// (acks=1) and returns the partition's error code.
fn produce_raw(addr: &str, topic: &str, batch: &[u8]) -> ErrorCode {
    let request = ProduceRequest {
        acks: 1,
        timeout_ms: 10_000,
        topic_data: vec![TopicProduceData {
            name: topic.into(),
            partition_data: vec![PartitionProduceData {
                index: 0,
                records: Some(batch),
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    let (_, resp) = exchange::<_, ProduceResponse>(addr, 9, &request);
    resp.expect("a Produce v9 response")
        .responses
        .first()
        .and_then(|t| t.partition_responses.first())
        .map(|p| p.error_code)
        .expect("one partition answered")
}

#[test]
fn read_back_fails_on_a_corrupt_batch() {
    // The mock stores Produce batches without checking their CRC, so what
    // protects the end-to-end tests is the consumer's check.crcs: a batch of
    // ours with one value byte flipped must fail read_back, the same batch
    // intact must read back as written.
    let mock = RdMock::start(1);
    let addr = mock.bootstrap().to_owned();
    mock.create_topic("intact", 1, 1);
    mock.create_topic("corrupt", 1, 1);

    let batch = our_batch();
    assert_eq!(produce_raw(&addr, "intact", &batch), ErrorCode::NONE);
    let got = read_back(&addr, "intact", 1, 3, TIMEOUT);
    let fields: Vec<_> = got
        .iter()
        .map(|r| {
            (
                r.offset,
                r.timestamp,
                r.key.clone(),
                r.value.clone(),
                r.headers.clone(),
            )
        })
        .collect();
    assert_eq!(
        fields,
        vec![
            (
                0,
                Timestamp::CreateTime(1_700_000_000_000),
                Some(b"k0".to_vec()),
                Some(b"v0".to_vec()),
                vec![]
            ),
            (
                1,
                Timestamp::CreateTime(1_700_000_000_001),
                None,
                Some(b"v1".to_vec()),
                vec![("h".to_owned(), None)]
            ),
            (
                2,
                Timestamp::CreateTime(1_700_000_000_002),
                Some(Vec::new()),
                None,
                vec![]
            ),
        ]
    );

    let mut bad = batch.clone();
    let at = bad
        .windows(2)
        .rposition(|w| w == b"v1")
        .expect("the value v1 is in the batch");
    bad[at + 1] = b'2';
    assert_eq!(produce_raw(&addr, "corrupt", &bad), ErrorCode::NONE);
    let outcome = std::panic::catch_unwind(|| read_back(&addr, "corrupt", 1, 3, TIMEOUT));
    let message = match outcome {
        Ok(records) => panic!("a corrupt batch was read back: {records:?}"),
        Err(e) => e.downcast_ref::<String>().cloned().unwrap_or_default(),
    };
    assert!(message.contains("corrupt data"), "{message}");
    println!("rd mock, read_back on the corrupt batch: {message}");

    // tansu: refused at produce time, or caught when read back.
    if let Some(tansu) = Tansu::start() {
        let addr = tansu.bootstrap();
        tansu.create_topic("intact", 1);
        tansu.create_topic("corrupt", 1);
        assert_eq!(produce_raw(&addr, "intact", &batch), ErrorCode::NONE);
        assert_eq!(read_back(&addr, "intact", 1, 3, TIMEOUT), got);
        let code = produce_raw(&addr, "corrupt", &bad);
        println!("tansu, Produce of the corrupt batch: {code:?}");
        if code == ErrorCode::NONE {
            let outcome = std::panic::catch_unwind(|| read_back(&addr, "corrupt", 1, 3, TIMEOUT));
            assert!(outcome.is_err(), "tansu served a corrupt batch unnoticed");
        }
    }
}
