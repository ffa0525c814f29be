//! Fault injection in the mock cluster, over real TCP: first each fault as
//! a plain client sees it (the blocking client of `mock_support`), then the
//! crate's own `KafkaProducer` (idempotence on, defaults otherwise) living
//! through each fault and still delivering every record exactly once, in
//! order.
//!
//! No test depends on timing to pass: delays are either an hour (a response
//! that must not arrive) or irrelevant to the assertion, and waits are
//! polls bounded only to turn a hang into a failure.

#![cfg(feature = "mock")]

mod mock_support;

use std::io::{ErrorKind, Read};
use std::net::TcpStream;
use std::time::Duration;

use kafka_producer::mock::{Corruption, Disconnect, MockCluster};
use kafka_producer::protocol::header::decode_response;
use kafka_producer::protocol::messages::api_versions::{ApiVersionsRequest, ApiVersionsResponse};
use kafka_producer::protocol::messages::init_producer_id::InitProducerIdResponse;
use kafka_producer::protocol::messages::metadata::{MetadataRequest, MetadataResponse};
use kafka_producer::protocol::messages::produce::ProduceResponse;
use kafka_producer::protocol::messages::Response;
use kafka_producer::protocol::{ApiKey, ErrorCode};
use mock_support::{
    batch_of, cluster, idempotent_batch, init_producer_id, metadata, patch, produce,
    produce_request, produce_request_multi, read_to_close, wait_for, Client,
};

const HOUR: Duration = Duration::from_secs(3600);

fn topic_on(cluster: &MockCluster, name: &str, partitions: i32, leader: i32) {
    cluster.create_topic(name, partitions).unwrap();
    for p in 0..partitions {
        cluster.set_partition_leader(name, p, leader).unwrap();
    }
}

// ---------------------------------------------------------------- error codes

#[test]
fn partition_errors_answer_only_their_partition() {
    let cluster = cluster(1);
    cluster.create_topic("t", 3).unwrap();
    cluster.push_partition_errors(
        "t",
        1,
        &[ErrorCode::NOT_ENOUGH_REPLICAS, ErrorCode::REQUEST_TIMED_OUT],
    );
    let mut c = Client::to_broker(&cluster, 1);

    // A request without partition 1 does not use its codes.
    assert_eq!(
        produce(&mut c, 9, "t", 0, &batch_of(2)).error_code,
        ErrorCode::NONE
    );

    let batches = [(0, batch_of(1)), (1, batch_of(3)), (2, batch_of(1))];
    for expected in [ErrorCode::NOT_ENOUGH_REPLICAS, ErrorCode::REQUEST_TIMED_OUT] {
        let r: ProduceResponse = c.call(9, &produce_request_multi("t", &batches));
        let answers = &r.responses[0].partition_responses;
        let codes: Vec<_> = answers.iter().map(|p| (p.index, p.error_code)).collect();
        assert_eq!(
            codes,
            [(0, ErrorCode::NONE), (1, expected), (2, ErrorCode::NONE)]
        );
        assert_eq!(answers[1].base_offset, -1);
    }
    let r: ProduceResponse = c.call(9, &produce_request_multi("t", &batches));
    assert!(r.responses[0]
        .partition_responses
        .iter()
        .all(|p| p.error_code == ErrorCode::NONE));
    assert_eq!(r.responses[0].partition_responses[1].base_offset, 0);
    assert_eq!(cluster.log_end_offset("t", 0), Some(5));
    assert_eq!(
        cluster.log_end_offset("t", 1),
        Some(3),
        "failed batches not stored"
    );
    assert_eq!(cluster.log_end_offset("t", 2), Some(3));
}

#[test]
fn request_errors_come_before_partition_errors() {
    let cluster = cluster(1);
    cluster.create_topic("t", 1).unwrap();
    cluster.push_request_errors(ApiKey::PRODUCE, &[ErrorCode::NOT_LEADER_OR_FOLLOWER]);
    cluster.push_partition_errors("t", 0, &[ErrorCode::REQUEST_TIMED_OUT]);
    let mut c = Client::to_broker(&cluster, 1);
    let codes: Vec<_> = (0..3)
        .map(|_| produce(&mut c, 9, "t", 0, &batch_of(1)).error_code)
        .collect();
    assert_eq!(
        codes,
        [
            ErrorCode::NOT_LEADER_OR_FOLLOWER,
            ErrorCode::REQUEST_TIMED_OUT,
            ErrorCode::NONE
        ]
    );
}

// ---------------------------------------------------------------- delays

#[test]
fn a_delayed_answer_is_held_while_the_request_is_handled_and_others_flow() {
    let mut cluster = cluster(2);
    topic_on(&cluster, "t", 1, 1);
    cluster.delay_responses(Some(1), Some(ApiKey::PRODUCE), HOUR);

    let mut held = Client::to_broker(&cluster, 1);
    for _ in 0..3 {
        held.send(9, &produce_request("t", 0, &batch_of(2), -1));
    }
    // Handled at once, in order, though no answer is written.
    wait_for("three appends", || {
        cluster.log_end_offset("t", 0) == Some(6)
    });

    // Other APIs on the same broker and the other broker are not delayed;
    // neither are other connections' non-produce requests.
    let mut other = Client::to_broker(&cluster, 1);
    let md = metadata(&mut other, 12, &MetadataRequest::topics(["t"], false));
    assert_eq!(md.topics[0].partitions[0].leader_id, 1);
    let mut second = Client::to_broker(&cluster, 2);
    let r = produce(&mut second, 9, "t", 0, &batch_of(1));
    assert_eq!(r.error_code, ErrorCode::NOT_LEADER_OR_FOLLOWER);

    // An hour early, nothing has arrived on the held connection.
    held.socket.set_nonblocking(true).unwrap();
    let mut byte = [0u8; 1];
    let err = held.socket.read(&mut byte).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WouldBlock);

    // Shutting down does not wait for the held answers.
    cluster.shutdown();
    assert_eq!(cluster.running_threads(), 0);
    held.socket.set_nonblocking(false).unwrap();
    assert!(held.is_closed());
}

#[test]
fn delayed_answers_come_in_request_order_and_whole() {
    let cluster = cluster(1);
    cluster.create_topic("t", 1).unwrap();
    cluster.set_round_trip_time(1, Duration::from_millis(30));
    // A longer delay for one API: answers still leave in request order.
    cluster.delay_responses(None, Some(ApiKey::METADATA), Duration::from_millis(80));
    let mut c = Client::to_broker(&cluster, 1);
    let a = c.send(12, &MetadataRequest::topics(["t"], false));
    let b = c.send(9, &produce_request("t", 0, &batch_of(4), -1));
    let d = c.send(3, &ApiVersionsRequest::this_client());
    let e = c.send(9, &produce_request("t", 0, &batch_of(1), -1));
    let md: MetadataResponse = c.receive(12, a);
    assert_eq!(md.topics[0].name.as_deref(), Some("t"));
    let p: ProduceResponse = c.receive(9, b);
    assert_eq!(p.responses[0].partition_responses[0].base_offset, 0);
    let v: ApiVersionsResponse = c.receive(3, d);
    assert_eq!(v.error_code, ErrorCode::NONE);
    let p: ProduceResponse = c.receive(9, e);
    assert_eq!(p.responses[0].partition_responses[0].base_offset, 4);
    // Removed delays leave the answers alone (nothing to time; it must
    // still answer).
    cluster.set_round_trip_time(1, Duration::ZERO);
    cluster.clear_faults();
    assert_eq!(produce(&mut c, 9, "t", 0, &batch_of(1)).base_offset, 5);
}

// ---------------------------------------------------------------- dropped connections

#[test]
fn a_drop_before_handling_appends_nothing() {
    let cluster = cluster(1);
    cluster.create_topic("t", 1).unwrap();
    cluster.drop_connection_after(
        Some(1),
        Some(ApiKey::PRODUCE),
        2,
        Disconnect::BeforeHandling,
    );
    let mut c = Client::to_broker(&cluster, 1);
    assert_eq!(produce(&mut c, 9, "t", 0, &batch_of(2)).base_offset, 0);
    // Other APIs do not count.
    metadata(&mut c, 12, &MetadataRequest::topics(["t"], false));
    c.send(9, &produce_request("t", 0, &batch_of(3), -1));
    assert!(c.is_closed());
    assert_eq!(cluster.log_end_offset("t", 0), Some(2), "not handled");
    assert_eq!(cluster.request_count(ApiKey::PRODUCE), 2, "but counted");
    // Used up: a new connection is served.
    let mut c = Client::to_broker(&cluster, 1);
    assert_eq!(produce(&mut c, 9, "t", 0, &batch_of(3)).base_offset, 2);
}

/// Kafka 4.x's answers to the retry-after-disconnect case: the lost answer's
/// batch resent is a duplicate (success, original offset), a later batch
/// after a gap is out of order.
#[test]
fn a_drop_after_handling_loses_the_answer_and_the_resend_is_a_duplicate() {
    let cluster = cluster(1);
    cluster.create_topic("t", 1).unwrap();
    let mut c = Client::to_broker(&cluster, 1);
    let pid = init_producer_id(&mut c, 4).producer_id;
    assert_eq!(
        produce(&mut c, 9, "t", 0, &idempotent_batch(2, pid, 0, 0)).base_offset,
        0
    );

    cluster.drop_connection_after(None, Some(ApiKey::PRODUCE), 1, Disconnect::AfterHandling);
    let lost = idempotent_batch(3, pid, 0, 2);
    c.send(9, &produce_request("t", 0, &lost, -1));
    assert!(c.is_closed(), "no answer, connection closed");
    assert_eq!(cluster.log_end_offset("t", 0), Some(5), "appended");

    let mut c = Client::to_broker(&cluster, 1);
    let resent = produce(&mut c, 9, "t", 0, &lost);
    assert_eq!(
        (resent.error_code, resent.base_offset),
        (ErrorCode::NONE, 2),
        "the original offset"
    );
    assert_eq!(cluster.log_end_offset("t", 0), Some(5), "stored once");
    // The first batch too is still one of the last five.
    let first = produce(&mut c, 9, "t", 0, &idempotent_batch(2, pid, 0, 0));
    assert_eq!((first.error_code, first.base_offset), (ErrorCode::NONE, 0));
    // A gap after the last sequence (4).
    let gap = produce(&mut c, 9, "t", 0, &idempotent_batch(1, pid, 0, 6));
    assert_eq!(gap.error_code, ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER);
    let next = produce(&mut c, 9, "t", 0, &idempotent_batch(1, pid, 0, 5));
    assert_eq!((next.error_code, next.base_offset), (ErrorCode::NONE, 5));
    let sequences: Vec<i32> = cluster.records("t", 0).iter().map(|r| r.sequence).collect();
    assert_eq!(sequences, [0, 1, 2, 3, 4, 5]);
}

#[test]
fn a_mid_frame_drop_writes_earlier_answers_whole_and_half_of_its_own() {
    let cluster = cluster(1);
    cluster.drop_mid_frame(None, Some(ApiKey::METADATA));
    let mut c = Client::to_broker(&cluster, 1);
    let v = c.send(3, &ApiVersionsRequest::this_client());
    c.send(
        12,
        &MetadataRequest::topics(["created-by-the-cut-request"], true),
    );
    let versions: ApiVersionsResponse = c.receive(3, v);
    assert_eq!(versions.error_code, ErrorCode::NONE);

    let rest = read_to_close(&mut c.socket);
    assert!(
        rest.len() > 4,
        "a size prefix and part of the frame: {rest:?}"
    );
    let announced = i32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
    assert!(
        rest.len() - 4 < announced,
        "{} of {announced} bytes",
        rest.len() - 4
    );
    // The request was handled before the answer was cut.
    assert_eq!(
        cluster.partition_count("created-by-the-cut-request"),
        Some(3)
    );
    // One-shot.
    let mut c = Client::to_broker(&cluster, 1);
    metadata(&mut c, 12, &MetadataRequest::topics(["t"], true));
}

#[test]
fn a_mid_frame_drop_on_an_unanswered_request_just_closes() {
    let cluster = cluster(1);
    cluster.create_topic("t", 1).unwrap();
    cluster.drop_mid_frame(Some(1), Some(ApiKey::PRODUCE));
    let mut c = Client::to_broker(&cluster, 1);
    c.send(9, &produce_request("t", 0, &batch_of(2), 0));
    assert_eq!(read_to_close(&mut c.socket), Vec::<u8>::new());
    assert_eq!(cluster.log_end_offset("t", 0), Some(2));
}

// ---------------------------------------------------------------- corrupt frames

#[test]
fn a_garbage_answer_keeps_size_and_correlation_id_and_does_not_decode() {
    let cluster = cluster(1);
    cluster.create_topic("t", 1).unwrap();
    let mut c = Client::to_broker(&cluster, 1);
    let request = MetadataRequest::topics(["t"], false);
    c.send(12, &request);
    let clean = c.receive_frame();

    cluster.corrupt_next_response(Some(1), Some(ApiKey::METADATA), Corruption::Garbage);
    let id = c.send(12, &request);
    let spoiled = c.receive_frame();
    assert_eq!(spoiled.len(), clean.len(), "the right size");
    assert_eq!(spoiled[..4], id.to_be_bytes(), "the right request");
    assert!(spoiled[4..].iter().all(|&b| b == 0x7f));
    assert!(decode_response::<MetadataResponse>(&spoiled, 12).is_err());

    // The connection stays open and the next answer is clean.
    let md: MetadataResponse = c.call(12, &request);
    assert_eq!(md.topics[0].error_code, ErrorCode::NONE);
}

/// The claim of `Corruption::Garbage`'s doc: no response of the mock's APIs
/// decodes from a body of 0x7f bytes, at any version, at any length, but
/// the fixed-size InitProducerId v0-1 body (with an unknown error code).
#[test]
fn garbage_bodies_never_decode() {
    fn check<R: Response>(versions: std::ops::RangeInclusive<i16>, decoded: &mut Vec<String>) {
        for version in versions {
            for len in 0..600 {
                let mut frame = 7i32.to_be_bytes().to_vec();
                frame.resize(4 + len, 0x7f);
                if decode_response::<R>(&frame, version).is_ok() {
                    decoded.push(format!("{} v{version}, {len} bytes", R::API_KEY));
                }
            }
        }
    }
    let mut decoded = Vec::new();
    check::<ProduceResponse>(3..=13, &mut decoded);
    check::<MetadataResponse>(0..=13, &mut decoded);
    check::<ApiVersionsResponse>(0..=4, &mut decoded);
    check::<InitProducerIdResponse>(0..=5, &mut decoded);
    // Bodies of a fixed size decode from anything: InitProducerId v0-1,
    // whose garbage carries an error code no client knows.
    assert_eq!(
        decoded,
        [
            "InitProducerId (key 22) v0, 16 bytes",
            "InitProducerId (key 22) v1, 16 bytes"
        ]
    );
    let frame = [[0, 0, 0, 7].as_slice(), &[0x7f; 16]].concat();
    let (_, body) = decode_response::<InitProducerIdResponse>(&frame, 1).unwrap();
    assert_eq!(body.error_code, ErrorCode(0x7f7f));
    assert!(!body.error_code.is_retriable());
}

#[test]
fn a_wrong_correlation_id_answers_no_request() {
    let cluster = cluster(1);
    cluster.create_topic("t", 1).unwrap();
    cluster.corrupt_next_response(None, Some(ApiKey::PRODUCE), Corruption::WrongCorrelationId);
    let mut c = Client::to_broker(&cluster, 1);
    let id = c.send(9, &produce_request("t", 0, &batch_of(2), -1));
    let frame = c.receive_frame();
    let (header, body) = decode_response::<ProduceResponse>(&frame, 9).unwrap();
    assert_eq!(header.correlation_id, !id);
    assert_eq!(body.responses[0].partition_responses[0].base_offset, 0);
    assert_eq!(cluster.log_end_offset("t", 0), Some(2), "handled");
    assert_eq!(produce(&mut c, 9, "t", 0, &batch_of(1)).base_offset, 2);
}

// ---------------------------------------------------------------- brokers down and up

#[test]
fn a_broker_down_refuses_connections_and_hands_its_partitions_on() {
    let cluster = cluster(2);
    cluster.create_topic("t", 2).unwrap();
    cluster.set_partition_leader("t", 0, 1).unwrap();
    cluster.set_partition_leader("t", 1, 2).unwrap();
    let epoch = cluster.leader_epoch("t", 0).unwrap();
    let addr = cluster.broker_address(1).unwrap();
    let mut open = Client::to_broker(&cluster, 1);
    let threads = cluster.running_threads();

    cluster.broker_down(1).unwrap();
    assert!(!cluster.is_broker_up(1));
    assert!(open.is_closed(), "existing connections closed");
    assert_eq!(
        TcpStream::connect(addr).unwrap_err().kind(),
        ErrorKind::ConnectionRefused
    );
    assert!(cluster.running_threads() < threads, "its threads ended");
    assert_eq!(cluster.partition_leader("t", 0), Some(2), "moved");
    assert_eq!(cluster.leader_epoch("t", 0), Some(epoch + 1));
    let mut c = Client::to_broker(&cluster, 2);
    let md = metadata(&mut c, 12, &MetadataRequest::topics(["t"], false));
    let brokers: Vec<i32> = md.brokers.iter().map(|b| b.node_id).collect();
    assert_eq!(brokers, [2], "only live brokers are listed");
    assert_eq!(md.controller_id, 2);
    assert_eq!(
        produce(&mut c, 9, "t", 0, &batch_of(1)).error_code,
        ErrorCode::NONE
    );
    assert!(
        cluster.set_partition_leader("t", 1, 1).is_err(),
        "a down broker cannot lead"
    );
    cluster.broker_down(1).unwrap(); // again: no-op

    cluster.broker_up(1).unwrap();
    assert!(cluster.is_broker_up(1));
    assert_eq!(cluster.broker_address(1), Some(addr), "the same port");
    let mut back = Client::connect(addr);
    let md = metadata(&mut back, 12, &MetadataRequest::topics(["t"], false));
    let brokers: Vec<i32> = md.brokers.iter().map(|b| b.node_id).collect();
    assert_eq!(brokers, [1, 2]);
    assert_eq!(
        cluster.partition_leader("t", 0),
        Some(2),
        "leadership stays"
    );
    cluster.broker_up(1).unwrap(); // again: no-op
    assert!(cluster.broker_down(3).is_err());
    assert!(cluster.broker_up(0).is_err());
}

#[test]
fn partitions_go_offline_with_their_last_broker_and_come_back_with_it() {
    let cluster = cluster(2);
    cluster.create_topic("t", 2).unwrap();
    cluster.set_partition_leader("t", 0, 1).unwrap();
    cluster.set_partition_leader("t", 1, 2).unwrap();
    cluster.broker_down(1).unwrap(); // 0 moves to 2
    cluster.broker_down(2).unwrap(); // nobody left
    assert_eq!(cluster.partition_leader("t", 0), Some(-1));
    assert_eq!(cluster.partition_leader("t", 1), Some(-1));

    cluster.broker_up(1).unwrap(); // led neither last
    let mut c = Client::to_broker(&cluster, 1);
    let md = metadata(&mut c, 12, &MetadataRequest::topics(["t"], false));
    for p in &md.topics[0].partitions {
        assert_eq!(p.error_code, ErrorCode::LEADER_NOT_AVAILABLE);
        assert_eq!(p.leader_id, -1);
        assert_eq!(p.offline_replicas, [2]);
    }
    let r = produce(&mut c, 12, "t", 0, &batch_of(1));
    assert_eq!(r.error_code, ErrorCode::NOT_LEADER_OR_FOLLOWER);
    assert_eq!(r.current_leader.leader_id, -1, "no leader to name");

    cluster.broker_up(2).unwrap();
    assert_eq!(cluster.partition_leader("t", 0), Some(2));
    assert_eq!(cluster.partition_leader("t", 1), Some(2));
    let mut c = Client::to_broker(&cluster, 2);
    assert_eq!(produce(&mut c, 9, "t", 1, &batch_of(1)).base_offset, 0);
}

// ---------------------------------------------------------------- sink mode

#[test]
fn sink_mode_acknowledges_without_storing() {
    let cluster = cluster(1);
    cluster.create_topic("t", 1).unwrap();
    let mut c = Client::to_broker(&cluster, 1);
    let pid = init_producer_id(&mut c, 4).producer_id;
    cluster.set_sink_mode(true);
    assert!(cluster.sink_mode());
    let first = idempotent_batch(3, pid, 0, 0);
    assert_eq!(produce(&mut c, 9, "t", 0, &first).base_offset, 0);
    assert_eq!(produce(&mut c, 9, "t", 0, &batch_of(2)).base_offset, 3);
    assert_eq!(cluster.log_end_offset("t", 0), Some(5));
    assert!(cluster.records("t", 0).is_empty());
    assert!(cluster.batches("t", 0).is_empty());
    // Still checked: duplicates, sequences, CRCs.
    let dup = produce(&mut c, 9, "t", 0, &first);
    assert_eq!((dup.error_code, dup.base_offset), (ErrorCode::NONE, 0));
    let gap = produce(&mut c, 9, "t", 0, &idempotent_batch(1, pid, 0, 9));
    assert_eq!(gap.error_code, ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER);
    let mut bad = batch_of(1);
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert_eq!(
        produce(&mut c, 9, "t", 0, &bad).error_code,
        ErrorCode::CORRUPT_MESSAGE
    );
    cluster.set_sink_mode(false);
    assert_eq!(produce(&mut c, 9, "t", 0, &batch_of(1)).base_offset, 5);
    let offsets: Vec<i64> = cluster.records("t", 0).iter().map(|r| r.offset).collect();
    assert_eq!(offsets, [5]);
}

// ---------------------------------------------------------------- robustness

/// Faults set from several threads while clients run never panic a
/// broker: after all of it, every broker still answers.
#[test]
fn faults_from_many_threads_leave_the_brokers_serving() {
    let cluster = cluster(2);
    cluster.create_topic("t", 2).unwrap();
    std::thread::scope(|s| {
        for t in 0..3u32 {
            let cluster = &cluster;
            s.spawn(move || {
                for i in 0..30u32 {
                    let broker = Some((i % 2 + 1) as i32);
                    match (i + t) % 6 {
                        0 => cluster.drop_connection_after(
                            broker,
                            None,
                            2,
                            Disconnect::AfterHandling,
                        ),
                        1 => cluster.corrupt_next_response(broker, None, Corruption::Garbage),
                        2 => cluster.drop_mid_frame(None, Some(ApiKey::PRODUCE)),
                        3 => {
                            cluster.push_partition_errors("t", 1, &[ErrorCode::NOT_ENOUGH_REPLICAS])
                        }
                        4 => cluster.delay_responses(broker, None, Duration::from_millis(1)),
                        _ => cluster.corrupt_next_response(
                            None,
                            None,
                            Corruption::WrongCorrelationId,
                        ),
                    }
                }
            });
        }
        for broker in 1..=2 {
            let cluster = &cluster;
            s.spawn(move || {
                for _ in 0..40 {
                    let mut c = Client::to_broker(cluster, broker);
                    let bad = patch(batch_of(2), 0, &[1]); // base offset 1: refused
                    c.send(9, &produce_request("t", 0, &batch_of(2), -1));
                    c.send(9, &produce_request("t", 1, &bad, -1));
                    c.send(12, &MetadataRequest::topics(["t"], false));
                    let _ = read_to_close_or_timeout(&mut c.socket);
                }
            });
        }
    });
    cluster.clear_faults();
    for broker in 1..=2 {
        let mut c = Client::to_broker(&cluster, broker);
        let md = metadata(&mut c, 12, &MetadataRequest::topics(["t"], false));
        assert_eq!(md.topics[0].partitions.len(), 2);
    }
}

/// Reads whatever comes within a short while, then gives up: the clients
/// of the robustness test do not care what they get back.
fn read_to_close_or_timeout(socket: &mut TcpStream) -> usize {
    socket
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let mut total = 0;
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = socket.read(&mut buf) {
        total += n;
    }
    total
}

// ---------------------------------------------------------------- KafkaProducer under faults

mod producer {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use kafka_producer::mock::{Corruption, Disconnect, MockCluster};
    use kafka_producer::producer::serialization::BytesSerializer;
    use kafka_producer::producer::ProducerConfigBuilder;
    use kafka_producer::protocol::{ApiKey, ErrorCode};
    use kafka_producer::{KafkaProducer, ProducerConfig, ProducerRecord, SendFuture};

    use super::mock_support::wait_for;

    type Producer = KafkaProducer<Vec<u8>, Vec<u8>>;

    /// Defaults (idempotence on, acks=all, 5 in flight), but small batches
    /// sent at once so that many requests are in flight, and short
    /// backoffs so that retries come quickly.
    fn config(cluster: &MockCluster) -> ProducerConfigBuilder {
        ProducerConfig::builder(&cluster.bootstrap_servers())
            .max_block_ms(20_000)
            .retry_backoff_ms(5)
            .reconnect_backoff_ms(5)
            .batch_size(100)
    }

    fn producer(config: ProducerConfigBuilder) -> Producer {
        KafkaProducer::new(config.build().unwrap(), BytesSerializer, BytesSerializer).unwrap()
    }

    fn value(i: u32) -> Vec<u8> {
        i.to_be_bytes().to_vec()
    }

    /// Sends `values` to `partition` of `topic`, without waiting.
    fn send_all(
        p: &Producer,
        topic: &str,
        partition: i32,
        values: std::ops::Range<u32>,
    ) -> Vec<SendFuture> {
        values
            .map(|i| {
                p.send(ProducerRecord::new(topic, value(i)).with_partition(partition))
                    .unwrap()
            })
            .collect()
    }

    /// Every future succeeded, with consecutive offsets from `first`.
    fn assert_offsets(futures: Vec<SendFuture>, first: i64) {
        for (i, f) in futures.into_iter().enumerate() {
            let md = f.get().unwrap_or_else(|e| panic!("record {i}: {e}"));
            assert_eq!(md.offset(), first + i as i64, "record {i}");
        }
    }

    /// The partition's values, as u32s, in offset order.
    fn stored(cluster: &MockCluster, topic: &str, partition: i32) -> Vec<u32> {
        cluster
            .records(topic, partition)
            .iter()
            .map(|r| u32::from_be_bytes(r.value.as_deref().unwrap().try_into().unwrap()))
            .collect()
    }

    fn single(brokers: usize, topic: &str, partitions: i32) -> MockCluster {
        let cluster = MockCluster::builder().brokers(brokers).start().unwrap();
        cluster.create_topic(topic, partitions).unwrap();
        cluster
    }

    #[test]
    fn retriable_errors_on_three_requests_lose_and_repeat_nothing() {
        let cluster = single(1, "t", 3);
        let p = producer(config(&cluster));
        // Metadata and the producer id first, so the errors hit Produce;
        // and one record per partition, so that the broker knows the
        // producer on each. (A Kafka 4.x broker accepts any sequence from a
        // producer it does not know on a partition: had the first batch of
        // a partition failed while the next was in flight, that next batch
        // would be appended first, and the failed one answered
        // OUT_OF_ORDER_SEQUENCE_NUMBER until it expires, in Java's
        // producer as in ours.)
        for partition in 0..3 {
            p.send(ProducerRecord::new("t", value(u32::MAX)).with_partition(partition))
                .unwrap()
                .get()
                .unwrap();
        }
        cluster.push_request_errors(
            ApiKey::PRODUCE,
            &[
                ErrorCode::NOT_ENOUGH_REPLICAS,
                ErrorCode::REQUEST_TIMED_OUT,
                ErrorCode::NOT_LEADER_OR_FOLLOWER,
            ],
        );
        let mut futures: BTreeMap<i32, Vec<SendFuture>> = BTreeMap::new();
        for i in 0..600u32 {
            let partition = (i % 3) as i32;
            let f = p
                .send(ProducerRecord::new("t", value(i)).with_partition(partition))
                .unwrap();
            futures.entry(partition).or_default().push(f);
        }
        p.flush().unwrap();
        for (partition, fs) in futures {
            assert_offsets(fs, 1);
            let expected: Vec<u32> = (0..600).filter(|i| i % 3 == partition as u32).collect();
            let mut got = stored(&cluster, "t", partition);
            assert_eq!(got.remove(0), u32::MAX);
            assert_eq!(got, expected, "partition {partition}: once each, in order");
        }
    }

    #[test]
    fn partition_errors_delay_only_their_partition() {
        let cluster = single(1, "t", 2);
        let p = producer(config(&cluster));
        p.send(ProducerRecord::new("t", value(0)).with_partition(1))
            .unwrap()
            .get()
            .unwrap();
        cluster.push_partition_errors(
            "t",
            1,
            &[
                ErrorCode::NOT_ENOUGH_REPLICAS,
                ErrorCode::NOT_ENOUGH_REPLICAS,
            ],
        );
        let zero = send_all(&p, "t", 0, 0..200);
        let one = send_all(&p, "t", 1, 1..200);
        p.flush().unwrap();
        assert_offsets(zero, 0);
        assert_offsets(one, 1);
        assert_eq!(stored(&cluster, "t", 0), (0..200).collect::<Vec<_>>());
        assert_eq!(stored(&cluster, "t", 1), (0..200).collect::<Vec<_>>());
    }

    #[test]
    fn an_answer_lost_after_the_append_is_deduplicated_on_resend() {
        let cluster = single(1, "t", 1);
        let p = producer(config(&cluster));
        assert_offsets(send_all(&p, "t", 0, 0..1), 0);
        let before = cluster.request_count(ApiKey::PRODUCE);
        cluster.drop_connection_after(Some(1), Some(ApiKey::PRODUCE), 1, Disconnect::AfterHandling);
        assert_offsets(send_all(&p, "t", 0, 1..2), 1);
        assert_eq!(
            cluster.request_count(ApiKey::PRODUCE),
            before + 2,
            "sent, resent"
        );
        assert_eq!(stored(&cluster, "t", 0), [0, 1], "stored once");
    }

    #[test]
    fn lost_answers_with_requests_in_flight_are_deduplicated() {
        let cluster = single(1, "t", 1);
        let p = producer(config(&cluster));
        assert_offsets(send_all(&p, "t", 0, 0..1), 0);
        cluster.drop_connection_after(Some(1), Some(ApiKey::PRODUCE), 3, Disconnect::AfterHandling);
        cluster.drop_connection_after(Some(1), Some(ApiKey::PRODUCE), 9, Disconnect::AfterHandling);
        let futures = send_all(&p, "t", 0, 1..500);
        p.flush().unwrap();
        assert_offsets(futures, 1);
        assert_eq!(stored(&cluster, "t", 0), (0..500).collect::<Vec<_>>());
    }

    #[test]
    fn a_connection_dropped_before_the_append_is_retried() {
        let cluster = single(1, "t", 1);
        let p = producer(config(&cluster));
        assert_offsets(send_all(&p, "t", 0, 0..1), 0);
        cluster.drop_connection_after(None, Some(ApiKey::PRODUCE), 2, Disconnect::BeforeHandling);
        let futures = send_all(&p, "t", 0, 1..300);
        p.flush().unwrap();
        assert_offsets(futures, 1);
        assert_eq!(stored(&cluster, "t", 0), (0..300).collect::<Vec<_>>());
    }

    #[test]
    fn an_answer_cut_mid_frame_is_retried_and_deduplicated() {
        let cluster = single(1, "t", 1);
        let p = producer(config(&cluster));
        assert_offsets(send_all(&p, "t", 0, 0..1), 0);
        cluster.drop_mid_frame(None, Some(ApiKey::PRODUCE));
        let futures = send_all(&p, "t", 0, 1..300);
        p.flush().unwrap();
        assert_offsets(futures, 1);
        assert_eq!(stored(&cluster, "t", 0), (0..300).collect::<Vec<_>>());
    }

    fn corrupt_answer_is_survived(how: Corruption) {
        let cluster = single(1, "t", 1);
        let p = producer(config(&cluster));
        assert_offsets(send_all(&p, "t", 0, 0..1), 0);
        let connections = cluster.request_count(ApiKey::API_VERSIONS);
        let produces = cluster.request_count(ApiKey::PRODUCE);
        cluster.corrupt_next_response(None, Some(ApiKey::PRODUCE), how);
        assert_offsets(send_all(&p, "t", 0, 1..2), 1);
        assert_eq!(stored(&cluster, "t", 0), [0, 1], "stored once");
        assert_eq!(
            cluster.request_count(ApiKey::PRODUCE),
            produces + 2,
            "sent, resent"
        );
        // At least one: the producer also rebootstraps, reconnecting to
        // the bootstrap address, when the only broker's connection fails.
        assert!(
            cluster.request_count(ApiKey::API_VERSIONS) > connections,
            "the producer closed the connection and opened a new one"
        );
    }

    #[test]
    fn a_garbage_answer_closes_the_connection_and_the_batch_is_resent() {
        corrupt_answer_is_survived(Corruption::Garbage);
    }

    #[test]
    fn a_wrong_correlation_id_closes_the_connection_and_the_batch_is_resent() {
        corrupt_answer_is_survived(Corruption::WrongCorrelationId);
    }

    #[test]
    fn a_request_timeout_on_a_held_answer_is_retried_and_deduplicated() {
        let cluster = single(1, "t", 1);
        let p = producer(
            config(&cluster)
                .request_timeout_ms(1_000)
                .delivery_timeout_ms(30_000),
        );
        assert_offsets(send_all(&p, "t", 0, 0..1), 0);
        let before = cluster.request_count(ApiKey::PRODUCE);
        cluster.delay_responses(None, Some(ApiKey::PRODUCE), super::HOUR);
        let future = send_all(&p, "t", 0, 1..2);
        wait_for("the produce to be appended", || {
            cluster.log_end_offset("t", 0) == Some(2)
        });
        // The held answer never comes: the producer must give up on it
        // after request.timeout.ms, reconnect and resend.
        cluster.clear_faults();
        assert_offsets(future, 1);
        assert!(cluster.request_count(ApiKey::PRODUCE) >= before + 2);
        assert_eq!(stored(&cluster, "t", 0), [0, 1], "stored once");
    }

    #[test]
    fn round_trip_time_keeps_order() {
        let cluster = single(2, "t", 2);
        cluster.set_round_trip_time(1, Duration::from_millis(20));
        cluster.set_round_trip_time(2, Duration::from_millis(5));
        let p = producer(config(&cluster));
        let a = send_all(&p, "t", 0, 0..300);
        let b = send_all(&p, "t", 1, 0..300);
        p.flush().unwrap();
        assert_offsets(a, 0);
        assert_offsets(b, 0);
        for partition in 0..2 {
            assert_eq!(
                stored(&cluster, "t", partition),
                (0..300).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn leadership_moved_is_answered_not_leader_then_delivered_to_the_new_leader() {
        let cluster = single(2, "t", 1);
        cluster.set_partition_leader("t", 0, 1).unwrap();
        let p = producer(config(&cluster));
        assert_offsets(send_all(&p, "t", 0, 0..1), 0);
        cluster.set_partition_leader("t", 0, 2).unwrap();
        assert_offsets(send_all(&p, "t", 0, 1..2), 1);
        assert_eq!(
            cluster.broker_request_count(1, ApiKey::PRODUCE),
            2,
            "the first send, then the refused one"
        );
        assert_eq!(cluster.broker_request_count(2, ApiKey::PRODUCE), 1);
        let more = send_all(&p, "t", 0, 2..200);
        p.flush().unwrap();
        assert_offsets(more, 2);
        assert_eq!(stored(&cluster, "t", 0), (0..200).collect::<Vec<_>>());
    }

    #[test]
    fn a_leader_going_down_hands_over_and_delivery_goes_on() {
        let cluster = single(2, "t", 1);
        cluster.set_partition_leader("t", 0, 1).unwrap();
        let p = producer(config(&cluster));
        assert_offsets(send_all(&p, "t", 0, 0..1), 0);
        let first = send_all(&p, "t", 0, 1..200);
        cluster.broker_down(1).unwrap();
        let second = send_all(&p, "t", 0, 200..400);
        p.flush().unwrap();
        assert_offsets(first, 1);
        assert_offsets(second, 200);
        assert_eq!(stored(&cluster, "t", 0), (0..400).collect::<Vec<_>>());
    }

    #[test]
    fn the_only_broker_down_then_up_and_delivery_resumes() {
        let cluster = single(1, "t", 1);
        let p = producer(config(&cluster));
        assert_offsets(send_all(&p, "t", 0, 0..1), 0);
        cluster.broker_down(1).unwrap();
        // Sent from another thread: once the producer has found the only
        // broker gone it rebootstraps, forgetting the topic's partitions
        // (as Java's does), and `send` waits for metadata until the broker
        // is back.
        let futures = std::thread::scope(|s| {
            let sender = s.spawn(|| send_all(&p, "t", 0, 1..100));
            // Time for the producer to find the broker gone: the test
            // passes either way, it is only more interesting this way.
            std::thread::sleep(Duration::from_millis(300));
            cluster.broker_up(1).unwrap();
            sender.join().unwrap()
        });
        p.flush().unwrap();
        assert_offsets(futures, 1);
        assert_eq!(stored(&cluster, "t", 0), (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn sink_mode_acknowledges_a_producer_without_storing() {
        let cluster = single(1, "t", 1);
        cluster.set_sink_mode(true);
        let p = producer(config(&cluster).batch_size(16_384).linger_ms(5));
        let futures = send_all(&p, "t", 0, 0..2_000);
        p.flush().unwrap();
        assert_offsets(futures, 0);
        assert_eq!(cluster.log_end_offset("t", 0), Some(2_000));
        assert!(cluster.records("t", 0).is_empty());
    }

    #[test]
    fn garbled_or_dropped_metadata_and_producer_id_answers_are_retried() {
        let cluster = single(1, "t", 1);
        cluster.corrupt_next_response(None, Some(ApiKey::METADATA), Corruption::Garbage);
        cluster.drop_connection_after(None, Some(ApiKey::METADATA), 2, Disconnect::BeforeHandling);
        cluster.corrupt_next_response(
            None,
            Some(ApiKey::INIT_PRODUCER_ID),
            Corruption::WrongCorrelationId,
        );
        cluster.drop_connection_after(
            None,
            Some(ApiKey::INIT_PRODUCER_ID),
            2,
            Disconnect::AfterHandling,
        );
        let p = producer(config(&cluster));
        let futures = send_all(&p, "t", 0, 0..50);
        p.flush().unwrap();
        assert_offsets(futures, 0);
        assert_eq!(stored(&cluster, "t", 0), (0..50).collect::<Vec<_>>());
        assert!(cluster.request_count(ApiKey::METADATA) >= 3);
        assert!(cluster.request_count(ApiKey::INIT_PRODUCER_ID) >= 3);
        // Each InitProducerId handled gave out a new id (0, 1, ...): the
        // batches carry the last one.
        let last = cluster.request_count(ApiKey::INIT_PRODUCER_ID) as i64 - 1;
        let ids: Vec<i64> = cluster
            .records("t", 0)
            .iter()
            .map(|r| r.producer_id)
            .collect();
        assert!(ids.iter().all(|&id| id == last), "{ids:?}, last {last}");
    }

    #[test]
    fn every_broker_down_then_up_and_delivery_resumes() {
        let cluster = single(2, "t", 2);
        let p = producer(config(&cluster));
        for partition in 0..2 {
            assert_offsets(send_all(&p, "t", partition, 0..1), 0);
        }
        let (a, b) = std::thread::scope(|s| {
            cluster.broker_down(1).unwrap();
            cluster.broker_down(2).unwrap();
            let sender = s.spawn(|| (send_all(&p, "t", 0, 1..100), send_all(&p, "t", 1, 1..100)));
            std::thread::sleep(Duration::from_millis(300));
            cluster.broker_up(2).unwrap();
            cluster.broker_up(1).unwrap();
            sender.join().unwrap()
        });
        p.flush().unwrap();
        assert_offsets(a, 1);
        assert_offsets(b, 1);
        for partition in 0..2 {
            assert_eq!(
                stored(&cluster, "t", partition),
                (0..100).collect::<Vec<_>>()
            );
        }
    }

    /// Several faults at once on two brokers and four partitions, with
    /// leadership moving in the middle: still every record once, in order.
    #[test]
    fn a_storm_of_faults_loses_and_repeats_nothing() {
        let cluster = single(2, "t", 4);
        let p = producer(config(&cluster).linger_ms(1));
        for partition in 0..4 {
            assert_offsets(send_all(&p, "t", partition, 0..1), 0);
        }
        for broker in [1, 2] {
            cluster.drop_connection_after(
                Some(broker),
                Some(ApiKey::PRODUCE),
                3,
                Disconnect::AfterHandling,
            );
            cluster.drop_connection_after(
                Some(broker),
                Some(ApiKey::PRODUCE),
                7,
                Disconnect::MidFrame,
            );
            cluster.corrupt_next_response(Some(broker), Some(ApiKey::PRODUCE), Corruption::Garbage);
            cluster.set_round_trip_time(broker, Duration::from_millis(2));
        }
        cluster.push_partition_errors("t", 2, &[ErrorCode::NOT_ENOUGH_REPLICAS; 3]);
        cluster.push_request_errors(ApiKey::PRODUCE, &[ErrorCode::REQUEST_TIMED_OUT]);
        let mut futures: BTreeMap<i32, Vec<SendFuture>> = BTreeMap::new();
        for i in 1..1_201u32 {
            let partition = (i % 4) as i32;
            let f = p
                .send(ProducerRecord::new("t", value(i)).with_partition(partition))
                .unwrap();
            futures.entry(partition).or_default().push(f);
            if i == 600 {
                for partition in 0..4 {
                    let leader = cluster.partition_leader("t", partition).unwrap();
                    cluster
                        .set_partition_leader("t", partition, 3 - leader)
                        .unwrap();
                }
            }
        }
        p.flush().unwrap();
        for (partition, fs) in futures {
            assert_offsets(fs, 1);
            let mut expected = vec![0];
            expected.extend((1..1_201).filter(|i| i % 4 == partition as u32));
            assert_eq!(
                stored(&cluster, "t", partition),
                expected,
                "partition {partition}"
            );
        }
    }
}
