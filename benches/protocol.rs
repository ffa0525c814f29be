//! The wire messages on the producer's hot path, at the newest version this
//! client speaks (Produce v13, Metadata v13):
//!
//! * `produce_request/encode/10x16KiB`: one whole ProduceRequest frame (size,
//!   header, body) carrying ten 16 KiB record batches of 100-byte records
//!   for ten partitions of one topic, written the way the network client
//!   writes it: a new `Vec`, the header, then the body, which reserves room
//!   for the records and copies each batch once;
//! * `produce_response/decode/100`: the broker's answer to a request for 100
//!   partitions of one topic (all `NONE`, with offsets), header included;
//! * `metadata_response/decode/<topics>x100`: a 3-broker cluster's answer
//!   for 1 or 10 topics of 100 partitions each (3 replicas, 3 in sync),
//!   header included.
//!
//! The responses are built with the crate's own encoders; decoding them is
//! what the network thread does with every response it reads.

use std::borrow::Cow;
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kafka_producer::protocol::api_key::{request_header_version, response_header_version};
use kafka_producer::protocol::header::{decode_response, write_request_header, ResponseHeader};
use kafka_producer::protocol::messages::metadata::{
    MetadataResponse, MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_producer::protocol::messages::produce::{
    PartitionProduceData, PartitionProduceResponse, ProduceRequest, ProduceResponse,
    TopicProduceData, TopicProduceResponse,
};
use kafka_producer::protocol::messages::Response;
use kafka_producer::protocol::{ApiKey, ErrorCode};
use kafka_producer::record::{Compression, MemoryRecordsBuilder};

mod support;

/// Produce v13 and Metadata v13: the newest versions this client speaks.
const PRODUCE_VERSION: i16 = 13;
const METADATA_VERSION: i16 = 13;
/// Partitions per topic in the responses.
const PARTITIONS: i32 = 100;
const BATCH_SIZE: usize = 16 * 1024;
const BATCHES: usize = 10;
const TOPIC: &str = "orders-events";
const CLIENT_ID: &str = "producer-1";

/// A distinct, non-zero topic id per topic index.
fn topic_id(i: usize) -> [u8; 16] {
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&(0x5eed_0000_0000_0001_u64 + i as u64).to_be_bytes());
    id[8..].copy_from_slice(&(0x0bad_cafe_0000_0000_u64 ^ i as u64).to_be_bytes());
    id
}

/// One closed 16 KiB batch of 100-byte records, as a producer sends it.
fn batch(seed: u64) -> Vec<u8> {
    let values = support::letter_values(64, 100);
    let mut builder = MemoryRecordsBuilder::new(
        Vec::with_capacity(BATCH_SIZE),
        Compression::none(),
        BATCH_SIZE,
    )
    .unwrap_or_else(|e| panic!("builder: {e}"));
    let mut i = seed as usize;
    while builder.has_room_for(1_700_000_000_000, None, Some(&values[i % 64]), &[]) {
        builder
            .append(1_700_000_000_000, None, Some(&values[i % 64]), &[])
            .unwrap_or_else(|e| panic!("append: {e}"));
        i += 1;
    }
    builder
        .set_producer_state(1000, 0, 0, false)
        .unwrap_or_else(|e| panic!("producer state: {e}"));
    builder.build().unwrap_or_else(|e| panic!("build: {e}"))
}

/// Encodes a whole request frame the way the network client does.
fn encode_produce_frame(request: &ProduceRequest<'_>) -> Vec<u8> {
    let mut frame = Vec::with_capacity(128);
    frame.extend_from_slice(&[0; 4]);
    write_request_header(
        &mut frame,
        ApiKey::PRODUCE,
        PRODUCE_VERSION,
        42,
        Some(CLIENT_ID),
        request_header_version(ApiKey::PRODUCE, PRODUCE_VERSION),
    )
    .unwrap_or_else(|e| panic!("request header: {e}"));
    request
        .encode(&mut frame, PRODUCE_VERSION)
        .unwrap_or_else(|e| panic!("produce request: {e}"));
    let size = i32::try_from(frame.len() - 4).unwrap_or_else(|e| panic!("frame size: {e}"));
    frame[..4].copy_from_slice(&size.to_be_bytes());
    frame
}

/// A response frame as the network layer hands it over (size prefix
/// already consumed): header, then body.
fn response_frame<R: Response>(response: &R, version: i16) -> Vec<u8> {
    let mut frame = Vec::new();
    ResponseHeader { correlation_id: 42 }
        .encode(&mut frame, response_header_version(R::API_KEY, version))
        .unwrap_or_else(|e| panic!("response header: {e}"));
    response
        .encode(&mut frame, version)
        .unwrap_or_else(|e| panic!("response body: {e}"));
    frame
}

fn produce_response() -> ProduceResponse {
    ProduceResponse {
        responses: vec![TopicProduceResponse {
            name: String::new(), // v13 names topics by id
            topic_id: topic_id(0),
            partition_responses: (0..PARTITIONS)
                .map(|index| PartitionProduceResponse {
                    index,
                    error_code: ErrorCode::NONE,
                    base_offset: 1_234_567_890 + i64::from(index) * 1000,
                    log_append_time_ms: -1,
                    log_start_offset: 0,
                    ..PartitionProduceResponse::default()
                })
                .collect(),
        }],
        throttle_time_ms: 0,
        node_endpoints: Vec::new(),
    }
}

fn metadata_response(topics: usize) -> MetadataResponse {
    let brokers = (1..=3)
        .map(|id| MetadataResponseBroker {
            node_id: id,
            host: format!("kafka-{id}.kafka-headless.prod.svc.cluster.local"),
            port: 9092,
            rack: Some(format!("eu-west-1{}", ['a', 'b', 'c'][(id - 1) as usize])),
        })
        .collect();
    let topics = (0..topics)
        .map(|t| MetadataResponseTopic {
            error_code: ErrorCode::NONE,
            name: Some(format!("{TOPIC}-{t}")),
            topic_id: topic_id(t),
            is_internal: false,
            partitions: (0..PARTITIONS)
                .map(|p| {
                    let replicas: Vec<i32> = (0..3).map(|r| (p + r) % 3 + 1).collect();
                    MetadataResponsePartition {
                        error_code: ErrorCode::NONE,
                        partition_index: p,
                        leader_id: replicas[0],
                        leader_epoch: 17,
                        isr_nodes: replicas.clone(),
                        replica_nodes: replicas,
                        offline_replicas: Vec::new(),
                    }
                })
                .collect(),
            topic_authorized_operations: i32::MIN,
        })
        .collect();
    MetadataResponse {
        throttle_time_ms: 0,
        brokers,
        cluster_id: Some("MkU3OEVBNTcwNTJENDM2Qk".to_owned()),
        controller_id: 1,
        topics,
        cluster_authorized_operations: i32::MIN,
        error_code: ErrorCode::NONE,
    }
}

fn bench_produce_request(c: &mut Criterion) {
    let batches: Vec<Vec<u8>> = (0..BATCHES as u64).map(batch).collect();
    let request = ProduceRequest {
        transactional_id: None,
        acks: -1,
        timeout_ms: 30_000,
        topic_data: vec![TopicProduceData {
            name: Cow::Borrowed(TOPIC),
            topic_id: topic_id(0),
            partition_data: batches
                .iter()
                .enumerate()
                .map(|(i, b)| PartitionProduceData {
                    index: i as i32,
                    records: Some(b.as_slice()),
                })
                .collect(),
        }],
    };
    let frame_len = encode_produce_frame(&request).len();
    eprintln!("produce_request/encode/10x16KiB: {frame_len} bytes");
    let mut group = c.benchmark_group("produce_request");
    group.throughput(Throughput::Bytes(frame_len as u64));
    group.bench_function(BenchmarkId::new("encode", "10x16KiB"), |b| {
        b.iter(|| encode_produce_frame(black_box(&request)));
    });
    group.finish();
}

fn bench_produce_response(c: &mut Criterion) {
    let frame = response_frame(&produce_response(), PRODUCE_VERSION);
    eprintln!(
        "produce_response/decode/{PARTITIONS}: {} bytes",
        frame.len()
    );
    let mut group = c.benchmark_group("produce_response");
    group.throughput(Throughput::Bytes(frame.len() as u64));
    group.bench_function(BenchmarkId::new("decode", PARTITIONS), |b| {
        b.iter(|| {
            decode_response::<ProduceResponse>(black_box(&frame), PRODUCE_VERSION)
                .unwrap_or_else(|e| panic!("decode: {e}"))
        });
    });
    group.finish();
}

fn bench_metadata_response(c: &mut Criterion) {
    let mut group = c.benchmark_group("metadata_response");
    for topics in [1usize, 10] {
        let frame = response_frame(&metadata_response(topics), METADATA_VERSION);
        eprintln!(
            "metadata_response/decode/{topics}x{PARTITIONS}: {} bytes",
            frame.len()
        );
        group.throughput(Throughput::Bytes(frame.len() as u64));
        let id = BenchmarkId::new("decode", format!("{topics}x{PARTITIONS}"));
        group.bench_function(id, |b| {
            b.iter(|| {
                decode_response::<MetadataResponse>(black_box(&frame), METADATA_VERSION)
                    .unwrap_or_else(|e| panic!("decode: {e}"))
            });
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench_produce_request, bench_produce_response, bench_metadata_response
}
criterion_main!(benches);
