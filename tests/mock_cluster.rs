//! The mock cluster over real TCP, driven by a small blocking client built
//! on the crate's own protocol encoders: every answer below is decoded from
//! bytes a mock broker wrote on a socket.

#![cfg(feature = "mock")]

use std::borrow::Cow;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use kafka_producer::mock::MockCluster;
use kafka_producer::protocol::header::{
    decode_response, encode_frame, encode_request, write_request_header, RequestHeader,
};
use kafka_producer::protocol::messages::api_versions::{ApiVersionsRequest, ApiVersionsResponse};
use kafka_producer::protocol::messages::init_producer_id::{
    InitProducerIdRequest, InitProducerIdResponse,
};
use kafka_producer::protocol::messages::metadata::{
    MetadataRequest, MetadataRequestTopic, MetadataResponse,
};
use kafka_producer::protocol::messages::produce::{
    PartitionProduceData, PartitionProduceResponse, ProduceRequest, ProduceResponse,
    TopicProduceData,
};
use kafka_producer::protocol::messages::{Request, Response, Uuid, ZERO_UUID};
use kafka_producer::protocol::{ApiKey, ErrorCode};
use kafka_producer::record::{Compression, Header, MemoryRecordsBuilder, RecordBatch};

// ---------------------------------------------------------------- client

/// A blocking Kafka client of one connection, for tests.
struct Client {
    socket: TcpStream,
    next_correlation: i32,
}

impl Client {
    fn connect(addr: SocketAddr) -> Client {
        let socket = TcpStream::connect(addr).expect("connect to the mock broker");
        // Guards the test run against a hang; no assertion depends on it.
        socket
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        Client {
            socket,
            next_correlation: 1,
        }
    }

    fn to_broker(cluster: &MockCluster, id: i32) -> Client {
        Client::connect(cluster.broker_address(id).expect("broker"))
    }

    fn send<R: Request>(&mut self, version: i16, request: &R) -> i32 {
        let correlation_id = self.next_correlation;
        self.next_correlation += 1;
        let header = RequestHeader {
            api_key: R::API_KEY,
            api_version: version,
            correlation_id,
            client_id: Some("mock-test".into()),
        };
        let mut frame = Vec::new();
        encode_request(&mut frame, &header, request).expect("encode");
        self.socket.write_all(&frame).unwrap();
        correlation_id
    }

    fn receive_frame(&mut self) -> Vec<u8> {
        let mut size = [0u8; 4];
        self.socket.read_exact(&mut size).expect("a response frame");
        let mut frame = vec![0u8; i32::from_be_bytes(size) as usize];
        self.socket.read_exact(&mut frame).unwrap();
        frame
    }

    fn receive<R: Response>(&mut self, version: i16, correlation_id: i32) -> R {
        let frame = self.receive_frame();
        let (header, body) = decode_response::<R>(&frame, version).expect("decode the response");
        assert_eq!(header.correlation_id, correlation_id);
        body
    }

    fn call<Req: Request, Resp: Response>(&mut self, version: i16, request: &Req) -> Resp {
        let id = self.send(version, request);
        self.receive(version, id)
    }

    /// Whether the broker closed this connection (EOF or reset on read).
    fn is_closed(&mut self) -> bool {
        let mut byte = [0u8; 1];
        match self.socket.read(&mut byte) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => matches!(
                e.kind(),
                ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe
            ),
        }
    }
}

// ---------------------------------------------------------------- helpers

fn cluster(brokers: usize) -> MockCluster {
    MockCluster::builder()
        .brokers(brokers)
        .default_partitions(3)
        .start()
        .expect("start the mock cluster")
}

/// One record as the tests write it.
#[derive(Clone)]
struct Rec {
    timestamp: i64,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    headers: Vec<Header>,
}

fn rec(i: usize) -> Rec {
    Rec {
        timestamp: 1_700_000_000_000 + i as i64 * 7,
        key: (i % 3 != 0).then(|| format!("key-{i}").into_bytes()),
        value: (i % 4 != 1).then(|| vec![i as u8; i * 5]),
        headers: (0..i % 3)
            .map(|h| {
                if h == 1 {
                    Header::null(format!("h{h}"))
                } else {
                    Header::new(format!("h{h}"), vec![h as u8, 0xff])
                }
            })
            .collect(),
    }
}

fn build_batch(
    records: &[Rec],
    compression: Compression,
    producer: Option<(i64, i16, i32)>,
) -> Vec<u8> {
    let mut b = MemoryRecordsBuilder::new(Vec::new(), compression, 1 << 20).unwrap();
    for r in records {
        b.append(
            r.timestamp,
            r.key.as_deref(),
            r.value.as_deref(),
            &r.headers,
        )
        .unwrap();
    }
    if let Some((pid, epoch, seq)) = producer {
        b.set_producer_state(pid, epoch, seq, false).unwrap();
    }
    b.build().unwrap()
}

fn batch_of(n: usize) -> Vec<u8> {
    build_batch(
        &(0..n).map(rec).collect::<Vec<_>>(),
        Compression::none(),
        None,
    )
}

fn idempotent_batch(n: usize, pid: i64, epoch: i16, seq: i32) -> Vec<u8> {
    build_batch(
        &(0..n).map(rec).collect::<Vec<_>>(),
        Compression::none(),
        Some((pid, epoch, seq)),
    )
}

fn produce_request<'a>(
    topic: &'a str,
    partition: i32,
    records: &'a [u8],
    acks: i16,
) -> ProduceRequest<'a> {
    ProduceRequest {
        transactional_id: None,
        acks,
        timeout_ms: 30_000,
        topic_data: vec![TopicProduceData {
            name: Cow::Borrowed(topic),
            topic_id: ZERO_UUID,
            partition_data: vec![PartitionProduceData {
                index: partition,
                records: Some(records),
            }],
        }],
    }
}

/// Produces one batch and returns the one partition answer.
fn produce(
    client: &mut Client,
    version: i16,
    topic: &str,
    partition: i32,
    batch: &[u8],
) -> PartitionProduceResponse {
    let response: ProduceResponse =
        client.call(version, &produce_request(topic, partition, batch, -1));
    assert_eq!(response.responses.len(), 1);
    assert_eq!(response.responses[0].name, topic);
    assert_eq!(response.responses[0].partition_responses.len(), 1);
    response.responses[0].partition_responses[0].clone()
}

fn metadata(client: &mut Client, version: i16, request: &MetadataRequest) -> MetadataResponse {
    client.call(version, request)
}

fn init_producer_id(client: &mut Client, version: i16) -> InitProducerIdResponse {
    client.call(
        version,
        &InitProducerIdRequest {
            transaction_timeout_ms: 60_000,
            ..Default::default()
        },
    )
}

// ---------------------------------------------------------------- ApiVersions

#[test]
fn api_versions_advertises_what_the_mock_answers_at_every_version() {
    let cluster = cluster(1);
    let mut c = Client::to_broker(&cluster, 1);
    for version in 0..=4 {
        let r: ApiVersionsResponse = c.call(version, &ApiVersionsRequest::this_client());
        assert_eq!(r.error_code, ErrorCode::NONE, "v{version}");
        let ranges: Vec<_> = r
            .api_keys
            .iter()
            .map(|k| (k.api_key, k.min_version, k.max_version))
            .collect();
        assert_eq!(
            ranges,
            [
                (ApiKey::PRODUCE, 3, 13),
                (ApiKey::METADATA, 0, 13),
                (ApiKey::API_VERSIONS, 0, 4),
                (ApiKey::INIT_PRODUCER_ID, 0, 5),
            ],
            "v{version}"
        );
    }
    assert_eq!(cluster.request_count(ApiKey::API_VERSIONS), 5);
}

#[test]
fn a_too_new_api_versions_gets_the_v0_answer_with_our_range() {
    let cluster = cluster(1);
    let mut c = Client::to_broker(&cluster, 1);
    // Version 7 with a body this mock has never seen: the header alone
    // decides the answer.
    let mut frame = Vec::new();
    encode_frame(&mut frame, |out| {
        write_request_header(out, ApiKey::API_VERSIONS, 7, 42, Some("future"), 2)?;
        out.extend_from_slice(&[9, 9, 9]);
        Ok(())
    })
    .unwrap();
    c.socket.write_all(&frame).unwrap();
    let frame = c.receive_frame();
    let (header, r) = decode_response::<ApiVersionsResponse>(&frame, 0).unwrap();
    assert_eq!(header.correlation_id, 42);
    assert_eq!(r.error_code, ErrorCode::UNSUPPORTED_VERSION);
    assert_eq!(r.api_keys.len(), 1);
    assert_eq!(
        (
            r.api_keys[0].api_key,
            r.api_keys[0].min_version,
            r.api_keys[0].max_version
        ),
        (ApiKey::API_VERSIONS, 0, 4)
    );
    // The v0 layout exactly: no throttle time after the array.
    assert_eq!(frame.len(), 4 + 2 + 4 + 6);
    // The connection stays usable.
    let r: ApiVersionsResponse = c.call(3, &ApiVersionsRequest::this_client());
    assert_eq!(r.error_code, ErrorCode::NONE);
}

#[test]
fn api_versions_refuses_software_names_kafka_refuses() {
    let cluster = cluster(1);
    let mut c = Client::to_broker(&cluster, 1);
    for (name, version) in [("bad name", "1.0"), ("ok", "-1"), ("", "1")] {
        let request = ApiVersionsRequest {
            client_software_name: name.into(),
            client_software_version: version.into(),
        };
        let r: ApiVersionsResponse = c.call(3, &request);
        assert_eq!(
            r.error_code,
            ErrorCode::INVALID_REQUEST,
            "{name:?} {version:?}"
        );
        assert!(r.api_keys.is_empty());
        // Below v3 the fields are not on the wire: nothing to refuse.
        let r: ApiVersionsResponse = c.call(2, &request);
        assert_eq!(r.error_code, ErrorCode::NONE);
    }
}

// ---------------------------------------------------------------- Metadata

#[test]
fn metadata_lists_brokers_and_auto_creates_topics() {
    let cluster = cluster(3);
    let mut c = Client::to_broker(&cluster, 2);
    let r = metadata(&mut c, 12, &MetadataRequest::topics(["auto"], true));
    let ports: Vec<String> = r
        .brokers
        .iter()
        .map(|b| format!("{}:{}", b.host, b.port))
        .collect();
    assert_eq!(ports.join(","), cluster.bootstrap_servers());
    assert_eq!(
        r.brokers.iter().map(|b| b.node_id).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(r.cluster_id.as_deref(), Some(cluster.cluster_id()));
    assert_eq!(r.controller_id, 1);
    assert_eq!(r.topics.len(), 1);
    let t = &r.topics[0];
    assert_eq!(
        (t.error_code, t.name.as_deref()),
        (ErrorCode::NONE, Some("auto"))
    );
    assert_eq!(Some(t.topic_id), cluster.topic_id("auto"));
    assert_ne!(t.topic_id, ZERO_UUID);
    assert_eq!(t.partitions.len(), 3);
    for (i, p) in t.partitions.iter().enumerate() {
        assert_eq!(p.partition_index, i as i32);
        assert_eq!(
            Some(p.leader_id),
            cluster.partition_leader("auto", i as i32)
        );
        assert_eq!(p.leader_epoch, 0);
        assert_eq!(p.replica_nodes, [p.leader_id]);
        assert_eq!(p.isr_nodes, [p.leader_id]);
    }
    // Leaders spread over the brokers.
    let mut leaders: Vec<i32> = t.partitions.iter().map(|p| p.leader_id).collect();
    leaders.sort_unstable();
    assert_eq!(leaders, [1, 2, 3]);
    // The id is stable.
    let again = metadata(&mut c, 12, &MetadataRequest::topics(["auto"], false));
    assert_eq!(again.topics[0].topic_id, t.topic_id);
}

#[test]
fn metadata_answers_unknown_and_invalid_topics() {
    let cluster = cluster(1);
    let mut c = Client::to_broker(&cluster, 1);
    let r = metadata(
        &mut c,
        12,
        &MetadataRequest::topics(["missing", "bad name", "."], false),
    );
    let codes: Vec<_> = r
        .topics
        .iter()
        .map(|t| (t.name.clone().unwrap(), t.error_code))
        .collect();
    assert_eq!(
        codes,
        [
            ("missing".to_owned(), ErrorCode::UNKNOWN_TOPIC_OR_PARTITION),
            ("bad name".to_owned(), ErrorCode::INVALID_TOPIC_EXCEPTION),
            (".".to_owned(), ErrorCode::INVALID_TOPIC_EXCEPTION),
        ]
    );
    assert!(r.topics.iter().all(|t| t.partitions.is_empty()));
    assert_eq!(cluster.partition_count("missing"), None);
    // Even when creation is allowed, an illegal name is refused.
    let long = "x".repeat(250);
    let r = metadata(&mut c, 9, &MetadataRequest::topics([long.as_str()], true));
    assert_eq!(r.topics[0].error_code, ErrorCode::INVALID_TOPIC_EXCEPTION);
}

#[test]
fn metadata_creates_nothing_when_the_cluster_forbids_it() {
    let cluster = MockCluster::builder()
        .auto_create_topics(false)
        .start()
        .unwrap();
    let mut c = Client::to_broker(&cluster, 1);
    let r = metadata(&mut c, 8, &MetadataRequest::topics(["t"], true));
    assert_eq!(
        r.topics[0].error_code,
        ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
    );
    cluster.create_topic("t", 2).unwrap();
    let r = metadata(&mut c, 8, &MetadataRequest::topics(["t"], true));
    assert_eq!(r.topics[0].error_code, ErrorCode::NONE);
    assert_eq!(r.topics[0].partitions.len(), 2);
}

#[test]
fn metadata_every_version_all_topics_and_by_id() {
    let cluster = cluster(2);
    cluster.create_topic("b", 1).unwrap();
    cluster.create_topic("a", 2).unwrap();
    let mut c = Client::to_broker(&cluster, 1);
    for version in 1..=13 {
        let r = metadata(&mut c, version, &MetadataRequest::all_topics(true));
        let names: Vec<_> = r.topics.iter().map(|t| t.name.clone().unwrap()).collect();
        assert_eq!(names, ["a", "b"], "v{version}");
        assert_eq!(r.topics[0].partitions.len(), 2, "v{version}");
    }
    // v0: an empty list means all topics.
    let v0 = MetadataRequest {
        topics: Some(Vec::new()),
        ..Default::default()
    };
    assert_eq!(metadata(&mut c, 0, &v0).topics.len(), 2);
    // v1+: an empty list means none.
    assert_eq!(metadata(&mut c, 1, &v0).topics.len(), 0);

    // By id (v12+): known and unknown.
    let id = cluster.topic_id("a").unwrap();
    let unknown: Uuid = [7; 16];
    let by_id = MetadataRequest {
        topics: Some(
            [id, unknown]
                .into_iter()
                .map(|topic_id| MetadataRequestTopic {
                    topic_id,
                    name: None,
                })
                .collect(),
        ),
        allow_auto_topic_creation: false,
        ..Default::default()
    };
    let r = metadata(&mut c, 12, &by_id);
    assert_eq!(r.topics.len(), 2);
    assert_eq!(
        (
            r.topics[0].error_code,
            r.topics[0].name.as_deref(),
            r.topics[0].topic_id
        ),
        (ErrorCode::NONE, Some("a"), id)
    );
    assert_eq!(
        (
            r.topics[1].error_code,
            r.topics[1].name.as_deref(),
            r.topics[1].topic_id
        ),
        (ErrorCode::UNKNOWN_TOPIC_ID, None, unknown)
    );
    // Below v12 ids are not accepted (Kafka: INVALID_REQUEST).
    let by_id_v10 = MetadataRequest {
        topics: Some(vec![MetadataRequestTopic {
            topic_id: id,
            name: Some("a".into()),
        }]),
        ..Default::default()
    };
    let r = metadata(&mut c, 10, &by_id_v10);
    assert_eq!(r.topics[0].error_code, ErrorCode::INVALID_REQUEST);
}

#[test]
fn moving_leadership_bumps_the_leader_epoch() {
    let cluster = cluster(3);
    cluster.create_topic("t", 1).unwrap();
    let old = cluster.partition_leader("t", 0).unwrap();
    let new = old % 3 + 1;
    cluster.set_partition_leader("t", 0, new).unwrap();
    assert_eq!(cluster.partition_leader("t", 0), Some(new));
    assert_eq!(cluster.leader_epoch("t", 0), Some(1));
    // Naming the current leader again changes nothing.
    cluster.set_partition_leader("t", 0, new).unwrap();
    assert_eq!(cluster.leader_epoch("t", 0), Some(1));
    let mut c = Client::to_broker(&cluster, old);
    let r = metadata(&mut c, 7, &MetadataRequest::topics(["t"], false));
    assert_eq!(r.topics[0].partitions[0].leader_id, new);
    assert_eq!(r.topics[0].partitions[0].leader_epoch, 1);
    assert!(cluster.set_partition_leader("t", 0, 4).is_err());
    assert!(cluster.set_partition_leader("t", 1, 1).is_err());
    assert!(cluster.set_partition_leader("nope", 0, 1).is_err());
}

// ---------------------------------------------------------------- Produce

/// Timestamp, key, value and headers of a record, as `StoredRecord` holds them.
type Fields = (
    i64,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    Vec<(Vec<u8>, Option<Vec<u8>>)>,
);

/// The record fields a client wrote.
fn expected_fields(records: &[Rec]) -> Vec<Fields> {
    records
        .iter()
        .map(|r| {
            (
                r.timestamp,
                r.key.clone(),
                r.value.clone(),
                r.headers
                    .iter()
                    .map(|h| (h.key.as_bytes().to_vec(), h.value.clone()))
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn produced_records_read_back_field_for_field_at_every_version() {
    let cluster = cluster(1);
    cluster.create_topic("t", 1).unwrap();
    let mut c = Client::to_broker(&cluster, 1);
    let mut written = Vec::new();
    let mut offset = 0;
    for version in 3..=12 {
        let records: Vec<Rec> = (0..version as usize).map(rec).collect();
        let batch = build_batch(&records, Compression::none(), None);
        let answer = produce(&mut c, version, "t", 0, &batch);
        assert_eq!(answer.error_code, ErrorCode::NONE, "v{version}");
        assert_eq!(answer.base_offset, offset, "v{version}");
        assert_eq!(answer.log_append_time_ms, -1);
        if version >= 5 {
            assert_eq!(answer.log_start_offset, 0);
        }
        offset += records.len() as i64;
        written.extend(records);
    }
    assert_eq!(cluster.log_end_offset("t", 0), Some(offset));
    let stored = cluster.records("t", 0);
    assert_eq!(stored.len(), written.len());
    for (i, s) in stored.iter().enumerate() {
        assert_eq!(s.offset, i as i64);
        assert_eq!((s.producer_id, s.producer_epoch, s.sequence), (-1, -1, -1));
    }
    let got: Vec<_> = stored
        .iter()
        .map(|s| {
            (
                s.timestamp,
                s.key.clone(),
                s.value.clone(),
                s.headers.clone(),
            )
        })
        .collect();
    assert_eq!(got, expected_fields(&written));
    assert_eq!(cluster.request_count(ApiKey::PRODUCE), 10);
}

#[test]
fn stored_batches_are_the_sent_bytes_with_offset_and_epoch_assigned() {
    let cluster = cluster(1);
    cluster.create_topic("t", 1).unwrap();
    let mut c = Client::to_broker(&cluster, 1);
    let first = batch_of(3);
    let second = build_batch(&[rec(4), rec(5)], Compression::gzip(-1).unwrap(), None);
    assert_eq!(produce(&mut c, 9, "t", 0, &first).base_offset, 0);
    assert_eq!(produce(&mut c, 9, "t", 0, &second).base_offset, 3);
    let stored = cluster.batches("t", 0);
    assert_eq!(stored.len(), 2);
    for (sent, (kept, base)) in [&first, &second]
        .into_iter()
        .zip(stored.iter().zip([0i64, 3]))
    {
        assert_eq!(kept.len(), sent.len());
        assert_eq!(&kept[..8], &base.to_be_bytes(), "base offset");
        assert_eq!(&kept[12..16], &0i32.to_be_bytes(), "leader epoch");
        assert_eq!(&kept[8..12], &sent[8..12]);
        assert_eq!(&kept[16..], &sent[16..], "CRC and everything it covers");
        let batch = RecordBatch::parse(kept).unwrap();
        batch.validate().expect("still a valid batch");
        assert_eq!(batch.base_offset(), base);
    }
    // The gzip batch reads back too.
    let stored = cluster.records("t", 0);
    assert_eq!(stored.len(), 5);
    assert_eq!(stored[3].offset, 3);
    assert_eq!(stored[4].value, rec(5).value);
}

#[test]
fn offsets_are_consecutive_across_requests_and_connections() {
    let cluster = cluster(1);
    cluster.create_topic("t", 2).unwrap();
    let mut a = Client::to_broker(&cluster, 1);
    let mut b = Client::to_broker(&cluster, 1);
    let mut expected = 0;
    for (i, n) in [2usize, 3, 1, 4].into_iter().enumerate() {
        let client = if i % 2 == 0 { &mut a } else { &mut b };
        let answer = produce(client, 11, "t", 1, &batch_of(n));
        assert_eq!(answer.base_offset, expected);
        expected += n as i64;
    }
    assert_eq!(cluster.log_end_offset("t", 1), Some(10));
    assert_eq!(cluster.log_end_offset("t", 0), Some(0));
    let offsets: Vec<i64> = cluster.records("t", 1).iter().map(|r| r.offset).collect();
    assert_eq!(offsets, (0..10).collect::<Vec<_>>());
}

#[test]
fn acks_zero_gets_no_answer_and_a_failure_closes_the_connection() {
    let cluster = MockCluster::builder()
        .auto_create_topics(false)
        .start()
        .unwrap();
    cluster.create_topic("t", 1).unwrap();
    let mut c = Client::to_broker(&cluster, 1);
    let batch = batch_of(2);
    c.send(9, &produce_request("t", 0, &batch, 0));
    // Responses come in request order: the next frame must be Metadata's.
    let id = c.send(9, &MetadataRequest::topics(["t"], false));
    let r: MetadataResponse = c.receive(9, id);
    assert_eq!(r.topics[0].error_code, ErrorCode::NONE);
    assert_eq!(cluster.log_end_offset("t", 0), Some(2));

    c.send(9, &produce_request("unknown", 0, &batch, 0));
    assert!(
        c.is_closed(),
        "a failed acks=0 produce closes the connection"
    );
}

#[test]
fn idempotent_duplicates_gaps_and_stale_epochs() {
    let cluster = cluster(1);
    cluster.create_topic("t", 1).unwrap();
    let mut c = Client::to_broker(&cluster, 1);
    let pid = init_producer_id(&mut c, 4).producer_id;

    let first = idempotent_batch(3, pid, 0, 0);
    let second = idempotent_batch(2, pid, 0, 3);
    assert_eq!(produce(&mut c, 9, "t", 0, &first).base_offset, 0);
    assert_eq!(produce(&mut c, 9, "t", 0, &second).base_offset, 3);

    // An exact duplicate: success with the original offset and, as Kafka
    // does, the batch's max timestamp as log append time.
    let dup = produce(&mut c, 9, "t", 0, &first);
    assert_eq!(dup.error_code, ErrorCode::NONE);
    assert_eq!(dup.base_offset, 0);
    assert_eq!(dup.log_append_time_ms, rec(2).timestamp);
    assert_eq!(cluster.log_end_offset("t", 0), Some(5), "nothing appended");

    // A gap.
    let gap = produce(&mut c, 9, "t", 0, &idempotent_batch(1, pid, 0, 9));
    assert_eq!(gap.error_code, ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_eq!((gap.base_offset, gap.log_start_offset), (-1, 0));

    // A new epoch must start at 0; then the old epoch is stale.
    let bad_start = produce(&mut c, 9, "t", 0, &idempotent_batch(1, pid, 1, 5));
    assert_eq!(
        bad_start.error_code,
        ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER
    );
    assert_eq!(
        produce(&mut c, 9, "t", 0, &idempotent_batch(1, pid, 1, 0)).base_offset,
        5
    );
    let stale = produce(&mut c, 9, "t", 0, &idempotent_batch(1, pid, 0, 5));
    assert_eq!(stale.error_code, ErrorCode::INVALID_PRODUCER_EPOCH);

    let stored = cluster.records("t", 0);
    assert_eq!(stored.len(), 6);
    let producer: Vec<_> = stored
        .iter()
        .map(|r| (r.offset, r.producer_id, r.producer_epoch, r.sequence))
        .collect();
    assert_eq!(
        producer,
        [
            (0, pid, 0, 0),
            (1, pid, 0, 1),
            (2, pid, 0, 2),
            (3, pid, 0, 3),
            (4, pid, 0, 4),
            (5, pid, 1, 0),
        ]
    );
    // An unknown producer may start at any sequence (Kafka 4.x).
    let fresh = produce(&mut c, 9, "t", 0, &idempotent_batch(1, pid + 100, 0, 17));
    assert_eq!(fresh.error_code, ErrorCode::NONE);
}

#[test]
fn a_corrupt_crc_is_corrupt_message() {
    let cluster = cluster(1);
    cluster.create_topic("t", 1).unwrap();
    let mut c = Client::to_broker(&cluster, 1);
    let mut batch = batch_of(3);
    let last = batch.len() - 1;
    batch[last] ^= 0x01;
    let answer = produce(&mut c, 9, "t", 0, &batch);
    assert_eq!(answer.error_code, ErrorCode::CORRUPT_MESSAGE);
    assert_eq!(
        (
            answer.base_offset,
            answer.log_append_time_ms,
            answer.log_start_offset
        ),
        (-1, -1, -1)
    );
    assert_eq!(cluster.log_end_offset("t", 0), Some(0));
    // The connection goes on.
    assert_eq!(
        produce(&mut c, 9, "t", 0, &batch_of(1)).error_code,
        ErrorCode::NONE
    );
}

#[test]
fn malformed_batches_are_refused_with_kafkas_codes() {
    let cluster = MockCluster::builder()
        .max_message_bytes(300)
        .start()
        .unwrap();
    cluster.create_topic("t", 1).unwrap();
    let mut c = Client::to_broker(&cluster, 1);
    let good = batch_of(2);

    let two = [good.clone(), good.clone()].concat();
    assert_eq!(
        produce(&mut c, 9, "t", 0, &two).error_code,
        ErrorCode::INVALID_RECORD
    );
    let cut = &good[..good.len() - 1];
    assert_eq!(
        produce(&mut c, 9, "t", 0, cut).error_code,
        ErrorCode::INVALID_RECORD
    );
    assert_eq!(
        produce(&mut c, 9, "t", 0, &[]).error_code,
        ErrorCode::INVALID_RECORD
    );
    let mut magic1 = good.clone();
    magic1[16] = 1;
    assert_eq!(
        produce(&mut c, 9, "t", 0, &magic1).error_code,
        ErrorCode::INVALID_RECORD
    );
    let mut tiny_length = good.clone();
    tiny_length[8..12].copy_from_slice(&13i32.to_be_bytes());
    assert_eq!(
        produce(&mut c, 9, "t", 0, &tiny_length).error_code,
        ErrorCode::CORRUPT_MESSAGE
    );

    let mut based = good.clone();
    based[..8].copy_from_slice(&5i64.to_be_bytes());
    let answer = produce(&mut c, 9, "t", 0, &based);
    assert_eq!(answer.error_code, ErrorCode::INVALID_RECORD);
    assert_eq!(answer.log_start_offset, 0, "found by the log");

    let big = batch_of(12);
    assert!(big.len() > 300);
    let answer = produce(&mut c, 9, "t", 0, &big);
    assert_eq!(answer.error_code, ErrorCode::MESSAGE_TOO_LARGE);
    assert_eq!(answer.log_start_offset, -1);

    let mut bad_acks = produce_request("t", 0, &good, 2);
    bad_acks.acks = 2;
    let r: ProduceResponse = c.call(9, &bad_acks);
    assert_eq!(
        r.responses[0].partition_responses[0].error_code,
        ErrorCode::INVALID_REQUIRED_ACKS
    );
    assert_eq!(
        produce(&mut c, 9, "t", 7, &good).error_code,
        ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
    );
    assert_eq!(cluster.log_end_offset("t", 0), Some(0), "nothing appended");
    assert_eq!(produce(&mut c, 9, "t", 0, &good).base_offset, 0);
}

/// Sets a batch's codec bits to zstd and fixes its CRC.
fn as_zstd(mut batch: Vec<u8>) -> Vec<u8> {
    batch[22] = (batch[22] & !0x07) | 4;
    let crc = kafka_producer::util::crc::crc32c(&batch[21..]);
    batch[17..21].copy_from_slice(&crc.to_be_bytes());
    batch
}

#[test]
fn zstd_needs_produce_v7() {
    let cluster = cluster(1);
    cluster.create_topic("t", 1).unwrap();
    let mut c = Client::to_broker(&cluster, 1);
    let zstd = as_zstd(batch_of(2));
    assert_eq!(
        produce(&mut c, 6, "t", 0, &zstd).error_code,
        ErrorCode::UNSUPPORTED_COMPRESSION_TYPE
    );
    // From v7 it is accepted; this build cannot inflate zstd, so it is
    // stored unread and left out of `records`.
    assert_eq!(
        produce(&mut c, 7, "t", 0, &zstd).error_code,
        ErrorCode::NONE
    );
    assert_eq!(cluster.log_end_offset("t", 0), Some(2));
    assert_eq!(cluster.batches("t", 0).len(), 1);
    assert!(cluster.records("t", 0).is_empty());
}

#[test]
fn a_non_leader_refuses_and_names_the_leader_from_v10() {
    let cluster = cluster(3);
    cluster.create_topic("t", 1).unwrap();
    let leader = cluster.partition_leader("t", 0).unwrap();
    let other = leader % 3 + 1;
    let mut c = Client::to_broker(&cluster, other);
    let batch = batch_of(1);

    let old = produce(&mut c, 9, "t", 0, &batch);
    assert_eq!(old.error_code, ErrorCode::NOT_LEADER_OR_FOLLOWER);
    assert_eq!(old.current_leader.leader_id, -1, "no hint before v10");

    let r: ProduceResponse = c.call(10, &produce_request("t", 0, &batch, 1));
    let p = &r.responses[0].partition_responses[0];
    assert_eq!(p.error_code, ErrorCode::NOT_LEADER_OR_FOLLOWER);
    assert_eq!((p.base_offset, p.log_start_offset), (-1, -1));
    assert_eq!(
        (p.current_leader.leader_id, p.current_leader.leader_epoch),
        (leader, 0)
    );
    assert_eq!(r.node_endpoints.len(), 1);
    let endpoint = &r.node_endpoints[0];
    assert_eq!(endpoint.node_id, leader);
    assert_eq!(
        Some(SocketAddr::from(([127, 0, 0, 1], endpoint.port as u16))),
        cluster.broker_address(leader)
    );
    assert_eq!(cluster.log_end_offset("t", 0), Some(0));

    // Move the leadership here: this broker now accepts, the old one
    // refuses, and the stored batch carries the new leader epoch.
    cluster.set_partition_leader("t", 0, other).unwrap();
    assert_eq!(
        produce(&mut c, 12, "t", 0, &batch).error_code,
        ErrorCode::NONE
    );
    let mut at_old = Client::to_broker(&cluster, leader);
    let r: ProduceResponse = at_old.call(12, &produce_request("t", 0, &batch, 1));
    let p = &r.responses[0].partition_responses[0];
    assert_eq!(p.error_code, ErrorCode::NOT_LEADER_OR_FOLLOWER);
    assert_eq!(
        (p.current_leader.leader_id, p.current_leader.leader_epoch),
        (other, 1)
    );
    assert_eq!(&cluster.batches("t", 0)[0][12..16], &1i32.to_be_bytes());
}

#[test]
fn produce_v13_names_topics_by_id() {
    let cluster = cluster(1);
    cluster.create_topic("t", 1).unwrap();
    let id = cluster.topic_id("t").unwrap();
    let mut c = Client::to_broker(&cluster, 1);
    let batch = batch_of(2);
    for (topic_id, code) in [
        (id, ErrorCode::NONE),
        ([3; 16], ErrorCode::UNKNOWN_TOPIC_ID),
    ] {
        let mut request = produce_request("", 0, &batch, -1);
        request.topic_data[0].topic_id = topic_id;
        let r: ProduceResponse = c.call(13, &request);
        assert_eq!(r.responses[0].topic_id, topic_id);
        assert_eq!(r.responses[0].name, "");
        assert_eq!(r.responses[0].partition_responses[0].error_code, code);
    }
    assert_eq!(cluster.records("t", 0).len(), 2);
}

#[test]
fn pushed_errors_answer_the_next_produce_requests() {
    let cluster = cluster(1);
    cluster.create_topic("t", 1).unwrap();
    let mut c = Client::to_broker(&cluster, 1);
    cluster.push_request_errors(ApiKey::PRODUCE, &[ErrorCode::NOT_ENOUGH_REPLICAS]);
    let batch = batch_of(1);
    assert_eq!(
        produce(&mut c, 9, "t", 0, &batch).error_code,
        ErrorCode::NOT_ENOUGH_REPLICAS
    );
    assert_eq!(
        produce(&mut c, 9, "t", 0, &batch).error_code,
        ErrorCode::NONE
    );
    assert_eq!(cluster.log_end_offset("t", 0), Some(1));
}

// ---------------------------------------------------------------- InitProducerId

#[test]
fn init_producer_id_hands_out_increasing_ids() {
    let cluster = cluster(2);
    let mut a = Client::to_broker(&cluster, 1);
    let mut b = Client::to_broker(&cluster, 2);
    let mut last = -1;
    for version in 0..=5 {
        let client = if version % 2 == 0 { &mut a } else { &mut b };
        let r = init_producer_id(client, version);
        assert_eq!(r.error_code, ErrorCode::NONE, "v{version}");
        assert_eq!(r.producer_epoch, 0);
        assert!(
            r.producer_id > last,
            "v{version}: {} after {last}",
            r.producer_id
        );
        last = r.producer_id;
    }
    // Naming a current id and epoch still gets a new id at epoch 0 (Kafka's
    // coordinator for a null transactional id).
    let r: InitProducerIdResponse = a.call(
        4,
        &InitProducerIdRequest {
            producer_id: last,
            producer_epoch: 3,
            ..Default::default()
        },
    );
    assert_eq!((r.error_code, r.producer_epoch), (ErrorCode::NONE, 0));
    assert!(r.producer_id > last);
    // An id without an epoch is invalid; transactions are not served.
    let r: InitProducerIdResponse = a.call(
        4,
        &InitProducerIdRequest {
            producer_id: last,
            producer_epoch: -1,
            ..Default::default()
        },
    );
    assert_eq!(r.error_code, ErrorCode::INVALID_REQUEST);
    let r: InitProducerIdResponse = a.call(
        4,
        &InitProducerIdRequest {
            transactional_id: Some("tx".into()),
            ..Default::default()
        },
    );
    assert_eq!(
        r.error_code,
        ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    );
    assert_eq!((r.producer_id, r.producer_epoch), (-1, -1));
    cluster.push_request_errors(
        ApiKey::INIT_PRODUCER_ID,
        &[ErrorCode::COORDINATOR_NOT_AVAILABLE],
    );
    assert_eq!(
        init_producer_id(&mut a, 4).error_code,
        ErrorCode::COORDINATOR_NOT_AVAILABLE
    );
    assert_eq!(cluster.request_count(ApiKey::INIT_PRODUCER_ID), 10);
    assert_eq!(cluster.broker_request_count(2, ApiKey::INIT_PRODUCER_ID), 3);
}

// ---------------------------------------------------------------- hostile input, shutdown

#[test]
fn hostile_bytes_close_only_their_connection() {
    let cluster = cluster(1);
    cluster.create_topic("t", 1).unwrap();
    let addr = cluster.broker_address(1).unwrap();
    let mut good = Client::connect(addr);
    assert_eq!(init_producer_id(&mut good, 2).error_code, ErrorCode::NONE);

    let hostile: Vec<Vec<u8>> = vec![
        // Negative size; zero size; a size over the request limit.
        vec![0xff, 0xff, 0xff, 0xff],
        vec![0, 0, 0, 0],
        vec![0x7f, 0xff, 0xff, 0xff, 1, 2, 3],
        // A header cut short.
        vec![0, 0, 0, 3, 0, 3, 0],
        // An unknown API key; an unsupported Produce version (2).
        [
            &[0, 0, 0, 10][..],
            &[0x03, 0xe7, 0, 0, 0, 0, 0, 1, 0xff, 0xff],
        ]
        .concat(),
        [&[0, 0, 0, 10][..], &[0, 0, 0, 2, 0, 0, 0, 1, 0xff, 0xff]].concat(),
        // Metadata v1 claiming two billion topics.
        [
            &[0, 0, 0, 14][..],
            &[0, 3, 0, 1, 0, 0, 0, 1, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff],
        ]
        .concat(),
        // A valid InitProducerId v0 with a trailing byte.
        [
            &[0, 0, 0, 17][..],
            &[
                0, 22, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0xea, 0x60, 9,
            ],
        ]
        .concat(),
    ];
    for (i, bytes) in hostile.iter().enumerate() {
        let mut bad = Client::connect(addr);
        bad.socket.write_all(bytes).unwrap();
        assert!(bad.is_closed(), "hostile input {i} closes its connection");
        // The other connection is still served.
        let r = init_producer_id(&mut good, 2);
        assert_eq!(r.error_code, ErrorCode::NONE, "after hostile input {i}");
    }
    // Garbage records are a partition error, not a dead connection.
    let garbage = vec![0xab; 80];
    let answer = produce(&mut good, 9, "t", 0, &garbage);
    assert_ne!(answer.error_code, ErrorCode::NONE);
    assert_eq!(
        produce(&mut good, 9, "t", 0, &batch_of(1)).error_code,
        ErrorCode::NONE
    );
    // A peer that vanishes mid-frame does not disturb anyone either.
    let mut cut = Client::connect(addr);
    cut.socket.write_all(&[0, 0, 1, 0, 0, 3]).unwrap();
    drop(cut);
    assert_eq!(init_producer_id(&mut good, 2).error_code, ErrorCode::NONE);
}

#[test]
fn shutdown_closes_ports_and_joins_threads() {
    let mut cluster = cluster(3);
    let addrs: Vec<SocketAddr> = cluster
        .broker_ids()
        .iter()
        .map(|id| cluster.broker_address(*id).unwrap())
        .collect();
    let mut clients: Vec<Client> = addrs.iter().map(|a| Client::connect(*a)).collect();
    for c in &mut clients {
        assert_eq!(init_producer_id(c, 3).error_code, ErrorCode::NONE);
    }
    // Three acceptors and three connection threads at least.
    assert!(
        cluster.running_threads() >= 6,
        "{}",
        cluster.running_threads()
    );

    cluster.shutdown();
    assert_eq!(cluster.running_threads(), 0);
    for c in &mut clients {
        assert!(c.is_closed(), "open connections are closed");
    }
    for addr in &addrs {
        let refused = TcpStream::connect_timeout(addr, Duration::from_secs(5));
        assert!(refused.is_err(), "{addr} still accepts connections");
    }
    cluster.shutdown(); // idempotent
    drop(cluster);
}

#[test]
fn the_builder_refuses_empty_clusters() {
    assert!(MockCluster::builder().brokers(0).start().is_err());
    assert!(MockCluster::builder()
        .default_partitions(0)
        .start()
        .is_err());
    let cluster = MockCluster::builder().brokers(2).start().unwrap();
    assert_eq!(cluster.broker_ids(), [1, 2]);
    let servers = cluster.bootstrap_servers();
    assert_eq!(servers.split(',').count(), 2);
    assert!(servers.split(',').all(|s| s.starts_with("127.0.0.1:")));
    assert!(cluster.create_topic("bad/name", 1).is_err());
    assert_eq!(
        cluster
            .create_topic("t", 1)
            .and_then(|()| cluster.create_topic("t", 1))
            .unwrap_err()
            .code(),
        Some(ErrorCode::TOPIC_ALREADY_EXISTS)
    );
}
