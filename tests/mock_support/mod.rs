//! The blocking Kafka client and the record helpers shared by the mock
//! cluster tests (`tests/mock_cluster.rs`, `tests/mock_produce.rs`): every
//! request is built with the crate's own encoders and every answer decoded
//! from the bytes a mock broker wrote on a real socket.

#![allow(dead_code)] // each test binary uses a different subset

use std::borrow::Cow;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use kafka_producer::mock::MockCluster;
use kafka_producer::protocol::header::{decode_response, encode_request, RequestHeader};
use kafka_producer::protocol::messages::init_producer_id::{
    InitProducerIdRequest, InitProducerIdResponse,
};
use kafka_producer::protocol::messages::metadata::{MetadataRequest, MetadataResponse};
use kafka_producer::protocol::messages::produce::{
    PartitionProduceData, PartitionProduceResponse, ProduceRequest, ProduceResponse,
    TopicProduceData,
};
use kafka_producer::protocol::messages::{Request, Response, ZERO_UUID};
use kafka_producer::record::{Compression, Header, MemoryRecordsBuilder};

// ---------------------------------------------------------------- client

/// A blocking Kafka client of one connection, for tests.
pub struct Client {
    pub socket: TcpStream,
    next_correlation: i32,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
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

    pub fn to_broker(cluster: &MockCluster, id: i32) -> Client {
        Client::connect(cluster.broker_address(id).expect("broker"))
    }

    pub fn send<R: Request>(&mut self, version: i16, request: &R) -> i32 {
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

    pub fn receive_frame(&mut self) -> Vec<u8> {
        let mut size = [0u8; 4];
        self.socket.read_exact(&mut size).expect("a response frame");
        let mut frame = vec![0u8; i32::from_be_bytes(size) as usize];
        self.socket.read_exact(&mut frame).unwrap();
        frame
    }

    pub fn receive<R: Response>(&mut self, version: i16, correlation_id: i32) -> R {
        let frame = self.receive_frame();
        let (header, body) = decode_response::<R>(&frame, version).expect("decode the response");
        assert_eq!(header.correlation_id, correlation_id);
        body
    }

    pub fn call<Req: Request, Resp: Response>(&mut self, version: i16, request: &Req) -> Resp {
        let id = self.send(version, request);
        self.receive(version, id)
    }

    /// Whether the broker closed this connection (EOF or reset on read).
    pub fn is_closed(&mut self) -> bool {
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

pub fn cluster(brokers: usize) -> MockCluster {
    MockCluster::builder()
        .brokers(brokers)
        .default_partitions(3)
        .start()
        .expect("start the mock cluster")
}

/// One record as the tests write it.
#[derive(Clone)]
pub struct Rec {
    pub timestamp: i64,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<Header>,
}

pub fn rec(i: usize) -> Rec {
    Rec {
        timestamp: 1_700_000_000_000 + i as i64 * 7,
        key: (!i.is_multiple_of(3)).then(|| format!("key-{i}").into_bytes()),
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

pub fn build_batch(
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

pub fn batch_of(n: usize) -> Vec<u8> {
    build_batch(
        &(0..n).map(rec).collect::<Vec<_>>(),
        Compression::none(),
        None,
    )
}

pub fn idempotent_batch(n: usize, pid: i64, epoch: i16, seq: i32) -> Vec<u8> {
    build_batch(
        &(0..n).map(rec).collect::<Vec<_>>(),
        Compression::none(),
        Some((pid, epoch, seq)),
    )
}

pub fn produce_request<'a>(
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
pub fn produce(
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

pub fn metadata(client: &mut Client, version: i16, request: &MetadataRequest) -> MetadataResponse {
    client.call(version, request)
}

pub fn init_producer_id(client: &mut Client, version: i16) -> InitProducerIdResponse {
    client.call(
        version,
        &InitProducerIdRequest {
            transaction_timeout_ms: 60_000,
            ..Default::default()
        },
    )
}

/// Rewrites a header field of a built batch and fixes its CRC.
pub fn patch(mut batch: Vec<u8>, at: usize, bytes: &[u8]) -> Vec<u8> {
    batch[at..at + bytes.len()].copy_from_slice(bytes);
    let crc = kafka_producer::util::crc::crc32c(&batch[21..]);
    batch[17..21].copy_from_slice(&crc.to_be_bytes());
    batch
}

// ---------------------------------------------------------------- fault tests

/// A produce request (acks=-1) with one batch for each `(partition, batch)`
/// of one topic.
pub fn produce_request_multi<'a>(
    topic: &'a str,
    batches: &'a [(i32, Vec<u8>)],
) -> ProduceRequest<'a> {
    ProduceRequest {
        transactional_id: None,
        acks: -1,
        timeout_ms: 30_000,
        topic_data: vec![TopicProduceData {
            name: Cow::Borrowed(topic),
            topic_id: ZERO_UUID,
            partition_data: batches
                .iter()
                .map(|(index, batch)| PartitionProduceData {
                    index: *index,
                    records: Some(batch),
                })
                .collect(),
        }],
    }
}

/// Waits (polling) until `done` holds; panics after 20 s so that a broken
/// mock fails the test instead of hanging it. Nothing is asserted about
/// how long it took.
pub fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..2000 {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("timed out waiting for {what}");
}

/// Reads everything the peer sends until it closes the connection (EOF or
/// reset), with the 30 s read timeout of [`Client::connect`] as a guard.
pub fn read_to_close(socket: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match socket.read(&mut buf) {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted
                ) =>
            {
                return got
            }
            Err(e) => panic!("reading until the broker closes: {e}"),
        }
    }
}
