//! Robustness and round trips of the protocol messages.
//!
//! * arbitrary bytes, and mutated Java frames, fed to every decoder (both
//!   headers, every request and response, every version and a few invalid
//!   ones) never panic;
//! * every truncation of every Java vector frame fails to decode at its own
//!   API and version, and never panics in any other decoder;
//! * hostile array counts are refused with `LengthExceedsInput` naming the
//!   field, before anything is allocated;
//! * arbitrary messages (restricted to what each version can carry) survive
//!   encode then decode unchanged, at every version.

mod support;

use std::borrow::Cow;

use kafka_producer::protocol::api_key::{request_header_version, ApiKey};
use kafka_producer::protocol::codec::{DecodeError, DecodeErrorKind, Reader, Writer};
use kafka_producer::protocol::header::{RequestHeader, ResponseHeader};
use kafka_producer::protocol::messages::api_versions::{
    ApiVersion, ApiVersionsRequest, ApiVersionsResponse, FinalizedFeatureKey, SupportedFeatureKey,
};
use kafka_producer::protocol::messages::init_producer_id::{
    InitProducerIdRequest, InitProducerIdResponse,
};
use kafka_producer::protocol::messages::metadata::{
    MetadataRequest, MetadataRequestTopic, MetadataResponse, MetadataResponseBroker,
    MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_producer::protocol::messages::produce::{
    BatchIndexAndErrorMessage, LeaderIdAndEpoch, NodeEndpoint, PartitionProduceData,
    PartitionProduceResponse, ProduceRequest, ProduceResponse, TopicProduceData,
    TopicProduceResponse,
};
use kafka_producer::protocol::messages::{Uuid, ZERO_UUID};
use kafka_producer::protocol::ErrorCode;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use support::{read_jsonl, unhex};

// ---------------------------------------------------------------------------
// Every decoder

/// Decodes `bytes` completely with one decoder; `Ok` only if every byte was
/// consumed.
fn full<'a, T>(
    bytes: &'a [u8],
    decode: impl FnOnce(&mut Reader<'a>) -> Result<T, DecodeError>,
) -> Result<T, DecodeError> {
    let mut r = Reader::new(bytes);
    let v = decode(&mut r)?;
    r.finish("end")?;
    Ok(v)
}

/// Versions to try: the schema's plus a few outside it.
fn versions(min: i16, max: i16) -> impl Iterator<Item = i16> {
    (min..=max).chain([-1, max + 1, i16::MAX])
}

/// Feeds `bytes` to every decoder at every version; only panics matter.
fn decode_with_everything(bytes: &[u8]) {
    let _ = full(bytes, RequestHeader::decode);
    for hv in [0, 1, 2, 3] {
        let _ = full(bytes, |r| RequestHeader::decode_version(r, hv));
        let _ = full(bytes, |r| ResponseHeader::decode(r, hv));
    }
    for v in versions(0, 4) {
        let _ = full(bytes, |r| ApiVersionsRequest::decode(r, v));
        let _ = full(bytes, |r| ApiVersionsResponse::decode(r, v));
        let _ = full(bytes, |r| ApiVersionsResponse::decode_exact(r, v));
    }
    for v in versions(0, 13) {
        let _ = full(bytes, |r| MetadataRequest::decode(r, v));
        let _ = full(bytes, |r| MetadataResponse::decode(r, v));
    }
    for v in versions(3, 13) {
        let _ = full(bytes, |r| ProduceRequest::decode(r, v));
        let _ = full(bytes, |r| ProduceResponse::decode(r, v));
    }
    for v in versions(0, 6) {
        let _ = full(bytes, |r| InitProducerIdRequest::decode(r, v));
        let _ = full(bytes, |r| InitProducerIdResponse::decode(r, v));
    }
}

/// A vector frame without its size prefix, with what it is.
struct Frame {
    id: String,
    request: bool,
    api: ApiKey,
    version: i16,
    bytes: Vec<u8>,
}

fn frames() -> Vec<Frame> {
    let mut out = Vec::new();
    for (file, request, hex_field) in [
        ("requests.jsonl", true, "hex"),
        ("responses.jsonl", false, "frame_hex"),
    ] {
        for d in read_jsonl(file) {
            let frame = unhex(d[hex_field].as_str().expect("hex"));
            out.push(Frame {
                id: d["id"].as_str().expect("id").to_owned(),
                request,
                api: ApiKey(i16::try_from(d["api_key"].as_i64().unwrap()).unwrap()),
                version: i16::try_from(d["api_version"].as_i64().unwrap()).unwrap(),
                bytes: frame[4..].to_vec(),
            });
        }
    }
    assert_eq!(out.len(), 70 + 37, "vector frames");
    out
}

/// Decodes a frame (header and body) at its own API and version.
fn decode_own(f: &Frame, bytes: &[u8]) -> Result<(), DecodeError> {
    let v = f.version;
    let mut r = Reader::new(bytes);
    if f.request {
        RequestHeader::decode(&mut r)?;
        match f.api {
            ApiKey::API_VERSIONS => {
                ApiVersionsRequest::decode(&mut r, v)?;
            }
            ApiKey::METADATA => {
                MetadataRequest::decode(&mut r, v)?;
            }
            ApiKey::PRODUCE => {
                ProduceRequest::decode(&mut r, v)?;
            }
            ApiKey::INIT_PRODUCER_ID => {
                InitProducerIdRequest::decode(&mut r, v)?;
            }
            other => panic!("{other}"),
        }
    } else {
        let hv = kafka_producer::protocol::api_key::response_header_version(f.api, v);
        ResponseHeader::decode(&mut r, hv)?;
        match f.api {
            // Without the v0 fallback: a v1/v2 body cut before its
            // throttle time *is* a valid v0 body, the ambiguity the Java
            // client accepts for ApiVersions (the size prefix rules out a
            // truncated frame on a real connection).
            ApiKey::API_VERSIONS => {
                ApiVersionsResponse::decode_exact(&mut r, v)?;
            }
            ApiKey::METADATA => {
                MetadataResponse::decode(&mut r, v)?;
            }
            ApiKey::PRODUCE => {
                ProduceResponse::decode(&mut r, v)?;
            }
            ApiKey::INIT_PRODUCER_ID => {
                InitProducerIdResponse::decode(&mut r, v)?;
            }
            other => panic!("{other}"),
        }
    }
    r.finish("end of frame")
}

#[test]
fn every_truncation_of_every_vector_fails_and_never_panics() {
    let mut truncations = 0usize;
    let frames = frames();
    let expected: usize = frames.iter().map(|f| f.bytes.len()).sum();
    for f in frames {
        decode_own(&f, &f.bytes).unwrap_or_else(|e| panic!("{}: whole frame: {e}", f.id));
        for len in 0..f.bytes.len() {
            let cut = &f.bytes[..len];
            assert!(
                decode_own(&f, cut).is_err(),
                "{}: truncated to {len} bytes decoded",
                f.id
            );
            // Headers and bodies alone, at every API and version.
            decode_with_everything(cut);
            truncations += 1;
        }
    }
    assert_eq!(truncations, expected);
    assert!(truncations > 20_000, "{truncations} truncations");
}

#[test]
fn hostile_counts_are_refused_naming_the_field() {
    // Produce response v3: a topic count of 2^31-1 with 4 bytes left.
    let mut bytes = Vec::new();
    bytes.put_i32(i32::MAX);
    bytes.put_i32(0);
    assert_eq!(
        full(&bytes, |r| ProduceResponse::decode(r, 3)),
        Err(DecodeError::new(
            "ProduceResponse.responses",
            DecodeErrorKind::LengthExceedsInput
        ))
    );
    // The same in the compact encoding (v9): varint 2^31 = count 2^31-1.
    let mut bytes = Vec::new();
    bytes.put_unsigned_varint(1 << 31);
    bytes.put_i32(0);
    assert_eq!(
        full(&bytes, |r| ProduceResponse::decode(r, 9)),
        Err(DecodeError::new(
            "ProduceResponse.responses",
            DecodeErrorKind::LengthExceedsInput
        ))
    );
    // Nested: one topic "t" with 1000 partitions but 30 bytes left (a
    // partition takes at least 22 bytes at v3: index, error, two int64s).
    let mut bytes = Vec::new();
    bytes.put_i32(1);
    bytes.put_nullable_string(Some("t"), "t").unwrap();
    bytes.put_i32(1000);
    bytes.extend_from_slice(&[0; 30]);
    assert_eq!(
        full(&bytes, |r| ProduceResponse::decode(r, 3)),
        Err(DecodeError::new(
            "ProduceResponse.responses.partition_responses",
            DecodeErrorKind::LengthExceedsInput
        ))
    );
    // ApiVersions: 2^31-1 API entries.
    let mut bytes = vec![0, 0];
    bytes.put_i32(i32::MAX);
    bytes.extend_from_slice(&[0; 6]);
    assert_eq!(
        full(&bytes, |r| ApiVersionsResponse::decode_exact(r, 0)),
        Err(DecodeError::new(
            "ApiVersionsResponse.api_keys",
            DecodeErrorKind::LengthExceedsInput
        ))
    );
    // Metadata v0: one topic "t" with one partition whose replica list
    // claims 2^31-1 entries with 8 bytes left.
    let mut bytes = Vec::new();
    bytes.put_i32(0); // no brokers
    bytes.put_i32(1); // one topic
    bytes.put_i16(0);
    bytes.put_nullable_string(Some("t"), "t").unwrap();
    bytes.put_i32(1); // one partition
    bytes.put_i16(0);
    bytes.put_i32(0);
    bytes.put_i32(1);
    bytes.put_i32(i32::MAX);
    bytes.extend_from_slice(&[0; 8]);
    assert_eq!(
        full(&bytes, |r| MetadataResponse::decode(r, 0)),
        Err(DecodeError::new(
            "MetadataResponse.topics.partitions.replica_nodes",
            DecodeErrorKind::LengthExceedsInput
        ))
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..256)) {
        decode_with_everything(&bytes);
    }

    #[test]
    fn mutated_vector_frames_never_panic(
        pick in any::<prop::sample::Index>(),
        edits in vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let frames = frames_cached();
        let f = &frames[pick.index(frames.len())];
        let mut bytes = f.bytes.clone();
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let _ = decode_own(f, &bytes);
        decode_with_everything(&bytes);
    }
}

fn frames_cached() -> &'static [Frame] {
    static FRAMES: std::sync::OnceLock<Vec<Frame>> = std::sync::OnceLock::new();
    FRAMES.get_or_init(frames)
}

// ---------------------------------------------------------------------------
// Round trips. Strategies build arbitrary values; `*_at(version)` resets
// what a version cannot carry to the defaults a decoder fills in.

fn text() -> impl Strategy<Value = String> {
    "\\PC{0,12}"
}

fn uuid() -> impl Strategy<Value = Uuid> {
    any::<[u8; 16]>()
}

fn round_trip<T: PartialEq + std::fmt::Debug>(
    value: &T,
    version: i16,
    encode: impl Fn(&T, &mut Vec<u8>, i16) -> Result<(), kafka_producer::protocol::codec::EncodeError>,
    decode: impl for<'a> Fn(&mut Reader<'a>, i16) -> Result<T, DecodeError>,
) -> Result<(), TestCaseError> {
    let mut out = Vec::new();
    encode(value, &mut out, version).map_err(|e| TestCaseError::fail(format!("encode: {e}")))?;
    let back = full(&out, |r| decode(r, version))
        .map_err(|e| TestCaseError::fail(format!("decode: {e}")))?;
    prop_assert_eq!(&back, value);
    Ok(())
}

fn api_versions_response() -> impl Strategy<Value = ApiVersionsResponse> {
    (
        any::<i16>(),
        vec(any::<(i16, i16, i16)>(), 0..6),
        any::<i32>(),
        vec((text(), any::<i16>(), any::<i16>()), 0..3),
        any::<i64>(),
        vec((text(), any::<i16>(), any::<i16>()), 0..3),
        any::<bool>(),
    )
        .prop_map(
            |(e, keys, throttle, sup, epoch, fin, zk)| ApiVersionsResponse {
                error_code: ErrorCode(e),
                api_keys: keys
                    .into_iter()
                    .map(|(k, min, max)| ApiVersion {
                        api_key: ApiKey(k),
                        min_version: min,
                        max_version: max,
                    })
                    .collect(),
                throttle_time_ms: throttle,
                supported_features: sup
                    .into_iter()
                    .map(|(name, min_version, max_version)| SupportedFeatureKey {
                        name,
                        min_version,
                        max_version,
                    })
                    .collect(),
                finalized_features_epoch: epoch,
                finalized_features: fin
                    .into_iter()
                    .map(
                        |(name, max_version_level, min_version_level)| FinalizedFeatureKey {
                            name,
                            max_version_level,
                            min_version_level,
                        },
                    )
                    .collect(),
                zk_migration_ready: zk,
            },
        )
}

fn api_versions_response_at(mut v: ApiVersionsResponse, version: i16) -> ApiVersionsResponse {
    if version < 1 {
        v.throttle_time_ms = 0;
    }
    if version < 3 {
        let d = ApiVersionsResponse::default();
        v.supported_features = d.supported_features;
        v.finalized_features_epoch = d.finalized_features_epoch;
        v.finalized_features = d.finalized_features;
        v.zk_migration_ready = d.zk_migration_ready;
    }
    v
}

fn metadata_request() -> impl Strategy<Value = MetadataRequest> {
    (
        option::of(vec((uuid(), option::of(text())), 0..4)),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(topics, auto, cluster, topic_ops)| MetadataRequest {
            topics: topics.map(|ts| {
                ts.into_iter()
                    .map(|(topic_id, name)| MetadataRequestTopic { topic_id, name })
                    .collect()
            }),
            allow_auto_topic_creation: auto,
            include_cluster_authorized_operations: cluster,
            include_topic_authorized_operations: topic_ops,
        })
}

fn metadata_request_at(mut v: MetadataRequest, version: i16) -> MetadataRequest {
    if version < 1 && v.topics.is_none() {
        v.topics = Some(Vec::new());
    }
    for t in v.topics.iter_mut().flatten() {
        if version < 10 {
            t.topic_id = ZERO_UUID;
            t.name.get_or_insert_with(String::new);
        }
    }
    if version < 4 {
        v.allow_auto_topic_creation = true;
    }
    if !(8..=10).contains(&version) {
        v.include_cluster_authorized_operations = false;
    }
    if version < 8 {
        v.include_topic_authorized_operations = false;
    }
    v
}

fn metadata_response() -> impl Strategy<Value = MetadataResponse> {
    let broker = (any::<i32>(), text(), any::<i32>(), option::of(text())).prop_map(
        |(node_id, host, port, rack)| MetadataResponseBroker {
            node_id,
            host,
            port,
            rack,
        },
    );
    let partition = (
        any::<(i16, i32, i32, i32)>(),
        vec(any::<i32>(), 0..4),
        vec(any::<i32>(), 0..4),
        vec(any::<i32>(), 0..3),
    )
        .prop_map(|((e, index, leader, epoch), replicas, isr, offline)| {
            MetadataResponsePartition {
                error_code: ErrorCode(e),
                partition_index: index,
                leader_id: leader,
                leader_epoch: epoch,
                replica_nodes: replicas,
                isr_nodes: isr,
                offline_replicas: offline,
            }
        });
    let topic = (
        any::<i16>(),
        option::of(text()),
        uuid(),
        any::<bool>(),
        vec(partition, 0..3),
        any::<i32>(),
    )
        .prop_map(
            |(e, name, topic_id, internal, partitions, ops)| MetadataResponseTopic {
                error_code: ErrorCode(e),
                name,
                topic_id,
                is_internal: internal,
                partitions,
                topic_authorized_operations: ops,
            },
        );
    (
        any::<i32>(),
        vec(broker, 0..3),
        option::of(text()),
        any::<i32>(),
        vec(topic, 0..3),
        any::<i32>(),
        any::<i16>(),
    )
        .prop_map(
            |(throttle, brokers, cluster_id, controller, topics, cluster_ops, e)| {
                MetadataResponse {
                    throttle_time_ms: throttle,
                    brokers,
                    cluster_id,
                    controller_id: controller,
                    topics,
                    cluster_authorized_operations: cluster_ops,
                    error_code: ErrorCode(e),
                }
            },
        )
}

fn metadata_response_at(mut v: MetadataResponse, version: i16) -> MetadataResponse {
    let d = MetadataResponse::default();
    if version < 3 {
        v.throttle_time_ms = 0;
    }
    for b in &mut v.brokers {
        if version < 1 {
            b.rack = None;
        }
    }
    if version < 2 {
        v.cluster_id = d.cluster_id;
    }
    if version < 1 {
        v.controller_id = d.controller_id;
    }
    for t in &mut v.topics {
        if version < 12 {
            t.name.get_or_insert_with(String::new);
        }
        if version < 10 {
            t.topic_id = ZERO_UUID;
        }
        if version < 1 {
            t.is_internal = false;
        }
        if version < 8 {
            t.topic_authorized_operations = i32::MIN;
        }
        for p in &mut t.partitions {
            if version < 7 {
                p.leader_epoch = -1;
            }
            if version < 5 {
                p.offline_replicas.clear();
            }
        }
    }
    if !(8..=10).contains(&version) {
        v.cluster_authorized_operations = i32::MIN;
    }
    if version < 13 {
        v.error_code = ErrorCode::NONE;
    }
    v
}

/// Owned produce request data; the request borrows from it.
type OwnedTopics = Vec<(String, Uuid, Vec<(i32, Option<Vec<u8>>)>)>;

fn produce_topics() -> impl Strategy<Value = OwnedTopics> {
    vec(
        (
            text(),
            uuid(),
            vec((any::<i32>(), option::of(vec(any::<u8>(), 0..40))), 0..3),
        ),
        0..3,
    )
}

fn produce_request_at<'a>(
    topics: &'a OwnedTopics,
    txn: &'a Option<String>,
    acks: i16,
    timeout_ms: i32,
    version: i16,
) -> ProduceRequest<'a> {
    ProduceRequest {
        transactional_id: txn.as_deref().map(Cow::Borrowed),
        acks,
        timeout_ms,
        topic_data: topics
            .iter()
            .map(|(name, id, parts)| TopicProduceData {
                name: Cow::Borrowed(if version >= 13 { "" } else { name }),
                topic_id: if version >= 13 { *id } else { ZERO_UUID },
                partition_data: parts
                    .iter()
                    .map(|(index, records)| PartitionProduceData {
                        index: *index,
                        records: records.as_deref(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

fn produce_response() -> impl Strategy<Value = ProduceResponse> {
    let partition = (
        any::<(i32, i16, i64, i64, i64)>(),
        vec((any::<i32>(), option::of(text())), 0..3),
        option::of(text()),
        any::<(i32, i32)>(),
    )
        .prop_map(
            |((index, e, base, append, start), errors, message, (leader_id, leader_epoch))| {
                PartitionProduceResponse {
                    index,
                    error_code: ErrorCode(e),
                    base_offset: base,
                    log_append_time_ms: append,
                    log_start_offset: start,
                    record_errors: errors
                        .into_iter()
                        .map(|(batch_index, m)| BatchIndexAndErrorMessage {
                            batch_index,
                            batch_index_error_message: m,
                        })
                        .collect(),
                    error_message: message,
                    current_leader: LeaderIdAndEpoch {
                        leader_id,
                        leader_epoch,
                    },
                }
            },
        );
    let topic = (text(), uuid(), vec(partition, 0..3)).prop_map(|(name, topic_id, parts)| {
        TopicProduceResponse {
            name,
            topic_id,
            partition_responses: parts,
        }
    });
    let endpoint = (any::<i32>(), text(), any::<i32>(), option::of(text())).prop_map(
        |(node_id, host, port, rack)| NodeEndpoint {
            node_id,
            host,
            port,
            rack,
        },
    );
    (vec(topic, 0..3), any::<i32>(), vec(endpoint, 0..2)).prop_map(
        |(responses, throttle_time_ms, node_endpoints)| ProduceResponse {
            responses,
            throttle_time_ms,
            node_endpoints,
        },
    )
}

fn produce_response_at(mut v: ProduceResponse, version: i16) -> ProduceResponse {
    for t in &mut v.responses {
        if version >= 13 {
            t.name.clear();
        } else {
            t.topic_id = ZERO_UUID;
        }
        for p in &mut t.partition_responses {
            if version < 5 {
                p.log_start_offset = -1;
            }
            if version < 8 {
                p.record_errors.clear();
                p.error_message = None;
            }
            if version < 10 {
                p.current_leader = LeaderIdAndEpoch::default();
            }
        }
    }
    if version < 10 {
        v.node_endpoints.clear();
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn api_versions_round_trip(
        name in text(),
        software_version in text(),
        resp in api_versions_response(),
        version in 0i16..=4,
    ) {
        let (name, software_version) = if version >= 3 {
            (name, software_version)
        } else {
            (String::new(), String::new())
        };
        let req = ApiVersionsRequest { client_software_name: name, client_software_version: software_version };
        round_trip(&req, version, ApiVersionsRequest::encode, ApiVersionsRequest::decode)?;
        let resp = api_versions_response_at(resp, version);
        round_trip(&resp, version, ApiVersionsResponse::encode, ApiVersionsResponse::decode_exact)?;
        round_trip(&resp, version, ApiVersionsResponse::encode, ApiVersionsResponse::decode)?;
    }

    #[test]
    fn metadata_round_trip(
        req in metadata_request(),
        resp in metadata_response(),
        version in 0i16..=13,
    ) {
        let req = metadata_request_at(req, version);
        round_trip(&req, version, MetadataRequest::encode, MetadataRequest::decode)?;
        let resp = metadata_response_at(resp, version);
        round_trip(&resp, version, MetadataResponse::encode, MetadataResponse::decode)?;
    }

    #[test]
    fn produce_round_trip(
        topics in produce_topics(),
        txn in option::of(text()),
        acks in any::<i16>(),
        timeout_ms in any::<i32>(),
        resp in produce_response(),
        version in 3i16..=13,
    ) {
        let req = produce_request_at(&topics, &txn, acks, timeout_ms, version);
        let mut out = Vec::new();
        req.encode(&mut out, version).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back = full(&out, |r| ProduceRequest::decode(r, version))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, req);
        let resp = produce_response_at(resp, version);
        round_trip(&resp, version, ProduceResponse::encode, ProduceResponse::decode)?;
    }

    #[test]
    fn init_producer_id_round_trip(
        txn in option::of(text()),
        timeout in any::<i32>(),
        (pid, epoch) in any::<(i64, i16)>(),
        (two_pc, keep) in any::<(bool, bool)>(),
        (throttle, e, rpid, repoch, opid, oepoch) in any::<(i32, i16, i64, i16, i64, i16)>(),
        version in 0i16..=6,
    ) {
        let req = InitProducerIdRequest {
            transactional_id: txn,
            transaction_timeout_ms: timeout,
            producer_id: if version >= 3 { pid } else { -1 },
            producer_epoch: if version >= 3 { epoch } else { -1 },
            enable_2pc: version >= 6 && two_pc,
            keep_prepared_txn: version >= 6 && keep,
        };
        round_trip(&req, version, InitProducerIdRequest::encode, InitProducerIdRequest::decode)?;
        let resp = InitProducerIdResponse {
            throttle_time_ms: throttle,
            error_code: ErrorCode(e),
            producer_id: rpid,
            producer_epoch: repoch,
            ongoing_txn_producer_id: if version >= 6 { opid } else { -1 },
            ongoing_txn_producer_epoch: if version >= 6 { oepoch } else { -1 },
        };
        round_trip(&resp, version, InitProducerIdResponse::encode, InitProducerIdResponse::decode)?;
    }

    #[test]
    fn headers_round_trip(
        api in prop::sample::select(vec![0i16, 3, 10, 17, 18, 22, 24, 25, 26, 28, 36, 999]),
        version in 0i16..=15,
        correlation_id in any::<i32>(),
        client_id in option::of(text()),
        response_header_version in 0i16..=1,
    ) {
        let header = RequestHeader {
            api_key: ApiKey(api),
            api_version: version,
            correlation_id,
            client_id,
        };
        let mut out = Vec::new();
        header.encode(&mut out, request_header_version(header.api_key, version))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back = full(&out, RequestHeader::decode)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, header);

        let resp = ResponseHeader { correlation_id };
        let mut out = Vec::new();
        resp.encode(&mut out, response_header_version).unwrap();
        let back = full(&out, |r| ResponseHeader::decode(r, response_header_version))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, resp);
    }
}
