//! The protocol messages against the bytes of the Java client 4.3.0
//! (`tests/data/requests.jsonl`, `tests/data/responses.jsonl`).
//!
//! * every request vector is rebuilt from its `decoded_body` and encoded as a
//!   whole frame (size prefix, header, body) equal byte for byte to the
//!   Java frame, and decoding the frame gives back the header and body;
//! * every response vector decodes (header and body) to exactly its
//!   `decoded_body`, and encoding that value gives the Java frame back.
//!
//! `decoded_body` lists every field of the message, with defaults for the
//! fields a version lacks; our decoders fill absent fields with the same
//! defaults, so whole structs are compared. The JSON readers below insist on
//! the exact field list, so a field we forgot cannot go unnoticed. The
//! number of vectors checked per API is asserted, so a skipped line fails.

mod support;

use std::borrow::Cow;
use std::collections::BTreeMap;

use kafka_producer::protocol::api_key::{request_header_version, response_header_version, ApiKey};
use kafka_producer::protocol::codec::Reader;
use kafka_producer::protocol::header::{
    decode_response, encode_request, encode_response, RequestHeader,
};
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
use kafka_producer::protocol::messages::{Request, Response, Uuid};
use kafka_producer::protocol::ErrorCode;
use serde_json::{Map, Value};
use support::{hex, read_jsonl, unhex};

// ---------------------------------------------------------------------------
// Strict JSON readers: each object must have exactly the listed fields.

fn obj<'v>(v: &'v Value, keys: &[&str]) -> &'v Map<String, Value> {
    let m = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"));
    let mut got: Vec<&str> = m.keys().map(String::as_str).collect();
    got.sort_unstable();
    let mut want = keys.to_vec();
    want.sort_unstable();
    assert_eq!(got, want, "fields of {v}");
    m
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}
fn i16_(v: &Value) -> i16 {
    i16::try_from(int(v)).expect("int16")
}
fn i32_(v: &Value) -> i32 {
    i32::try_from(int(v)).expect("int32")
}
fn bool_(v: &Value) -> bool {
    v.as_bool().unwrap_or_else(|| panic!("not a bool: {v}"))
}
fn string(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_owned()
}
fn opt_string(v: &Value) -> Option<String> {
    if v.is_null() {
        None
    } else {
        Some(string(v))
    }
}
fn uuid(v: &Value) -> Uuid {
    unhex(v.as_str().expect("uuid hex"))
        .try_into()
        .expect("16 bytes")
}
fn arr(v: &Value) -> &Vec<Value> {
    v.as_array().unwrap_or_else(|| panic!("not an array: {v}"))
}
fn i32s(v: &Value) -> Vec<i32> {
    arr(v).iter().map(i32_).collect()
}

// ---------------------------------------------------------------------------
// decoded_body -> our structs

fn api_versions_request(v: &Value) -> ApiVersionsRequest {
    let m = obj(v, &["clientSoftwareName", "clientSoftwareVersion"]);
    ApiVersionsRequest {
        client_software_name: string(&m["clientSoftwareName"]),
        client_software_version: string(&m["clientSoftwareVersion"]),
    }
}

fn metadata_request(v: &Value) -> MetadataRequest {
    let m = obj(
        v,
        &[
            "topics",
            "allowAutoTopicCreation",
            "includeClusterAuthorizedOperations",
            "includeTopicAuthorizedOperations",
        ],
    );
    let topics = (!m["topics"].is_null()).then(|| {
        arr(&m["topics"])
            .iter()
            .map(|t| {
                let t = obj(t, &["topicId", "name"]);
                MetadataRequestTopic {
                    topic_id: uuid(&t["topicId"]),
                    name: opt_string(&t["name"]),
                }
            })
            .collect()
    });
    MetadataRequest {
        topics,
        allow_auto_topic_creation: bool_(&m["allowAutoTopicCreation"]),
        include_cluster_authorized_operations: bool_(&m["includeClusterAuthorizedOperations"]),
        include_topic_authorized_operations: bool_(&m["includeTopicAuthorizedOperations"]),
    }
}

/// The record bytes of a produce request's `decoded_body`, in order; the
/// request borrows them.
fn produce_records(v: &Value) -> Vec<Option<Vec<u8>>> {
    let mut out = Vec::new();
    for t in arr(&v["topicData"]) {
        for p in arr(&t["partitionData"]) {
            out.push(p["records"].as_str().map(unhex));
        }
    }
    out
}

fn produce_request<'a>(v: &Value, records: &'a [Option<Vec<u8>>]) -> ProduceRequest<'a> {
    let m = obj(v, &["transactionalId", "acks", "timeoutMs", "topicData"]);
    let mut next = records.iter();
    let topic_data = arr(&m["topicData"])
        .iter()
        .map(|t| {
            let t = obj(t, &["name", "topicId", "partitionData"]);
            TopicProduceData {
                name: Cow::Owned(string(&t["name"])),
                topic_id: uuid(&t["topicId"]),
                partition_data: arr(&t["partitionData"])
                    .iter()
                    .map(|p| {
                        let p = obj(p, &["index", "records"]);
                        PartitionProduceData {
                            index: i32_(&p["index"]),
                            records: next.next().expect("records").as_deref(),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    ProduceRequest {
        transactional_id: opt_string(&m["transactionalId"]).map(Cow::Owned),
        acks: i16_(&m["acks"]),
        timeout_ms: i32_(&m["timeoutMs"]),
        topic_data,
    }
}

fn init_producer_id_request(v: &Value) -> InitProducerIdRequest {
    let m = obj(
        v,
        &[
            "transactionalId",
            "transactionTimeoutMs",
            "producerId",
            "producerEpoch",
            "enable2Pc",
            "keepPreparedTxn",
        ],
    );
    InitProducerIdRequest {
        transactional_id: opt_string(&m["transactionalId"]),
        transaction_timeout_ms: i32_(&m["transactionTimeoutMs"]),
        producer_id: int(&m["producerId"]),
        producer_epoch: i16_(&m["producerEpoch"]),
        enable_2pc: bool_(&m["enable2Pc"]),
        keep_prepared_txn: bool_(&m["keepPreparedTxn"]),
    }
}

fn api_versions_response(v: &Value) -> ApiVersionsResponse {
    let m = obj(
        v,
        &[
            "errorCode",
            "apiKeys",
            "throttleTimeMs",
            "supportedFeatures",
            "finalizedFeaturesEpoch",
            "finalizedFeatures",
            "zkMigrationReady",
        ],
    );
    ApiVersionsResponse {
        error_code: ErrorCode(i16_(&m["errorCode"])),
        api_keys: arr(&m["apiKeys"])
            .iter()
            .map(|k| {
                let k = obj(k, &["apiKey", "minVersion", "maxVersion"]);
                ApiVersion {
                    api_key: ApiKey(i16_(&k["apiKey"])),
                    min_version: i16_(&k["minVersion"]),
                    max_version: i16_(&k["maxVersion"]),
                }
            })
            .collect(),
        throttle_time_ms: i32_(&m["throttleTimeMs"]),
        supported_features: arr(&m["supportedFeatures"])
            .iter()
            .map(|f| {
                let f = obj(f, &["name", "minVersion", "maxVersion"]);
                SupportedFeatureKey {
                    name: string(&f["name"]),
                    min_version: i16_(&f["minVersion"]),
                    max_version: i16_(&f["maxVersion"]),
                }
            })
            .collect(),
        finalized_features_epoch: int(&m["finalizedFeaturesEpoch"]),
        finalized_features: arr(&m["finalizedFeatures"])
            .iter()
            .map(|f| {
                let f = obj(f, &["name", "maxVersionLevel", "minVersionLevel"]);
                FinalizedFeatureKey {
                    name: string(&f["name"]),
                    max_version_level: i16_(&f["maxVersionLevel"]),
                    min_version_level: i16_(&f["minVersionLevel"]),
                }
            })
            .collect(),
        zk_migration_ready: bool_(&m["zkMigrationReady"]),
    }
}

fn metadata_response(v: &Value) -> MetadataResponse {
    let m = obj(
        v,
        &[
            "throttleTimeMs",
            "brokers",
            "clusterId",
            "controllerId",
            "topics",
            "clusterAuthorizedOperations",
            "errorCode",
        ],
    );
    let brokers = arr(&m["brokers"])
        .iter()
        .map(|b| {
            let b = obj(b, &["nodeId", "host", "port", "rack"]);
            MetadataResponseBroker {
                node_id: i32_(&b["nodeId"]),
                host: string(&b["host"]),
                port: i32_(&b["port"]),
                rack: opt_string(&b["rack"]),
            }
        })
        .collect();
    let topics = arr(&m["topics"])
        .iter()
        .map(|t| {
            let t = obj(
                t,
                &[
                    "errorCode",
                    "name",
                    "topicId",
                    "isInternal",
                    "partitions",
                    "topicAuthorizedOperations",
                ],
            );
            MetadataResponseTopic {
                error_code: ErrorCode(i16_(&t["errorCode"])),
                name: opt_string(&t["name"]),
                topic_id: uuid(&t["topicId"]),
                is_internal: bool_(&t["isInternal"]),
                partitions: arr(&t["partitions"])
                    .iter()
                    .map(|p| {
                        let p = obj(
                            p,
                            &[
                                "errorCode",
                                "partitionIndex",
                                "leaderId",
                                "leaderEpoch",
                                "replicaNodes",
                                "isrNodes",
                                "offlineReplicas",
                            ],
                        );
                        MetadataResponsePartition {
                            error_code: ErrorCode(i16_(&p["errorCode"])),
                            partition_index: i32_(&p["partitionIndex"]),
                            leader_id: i32_(&p["leaderId"]),
                            leader_epoch: i32_(&p["leaderEpoch"]),
                            replica_nodes: i32s(&p["replicaNodes"]),
                            isr_nodes: i32s(&p["isrNodes"]),
                            offline_replicas: i32s(&p["offlineReplicas"]),
                        }
                    })
                    .collect(),
                topic_authorized_operations: i32_(&t["topicAuthorizedOperations"]),
            }
        })
        .collect();
    MetadataResponse {
        throttle_time_ms: i32_(&m["throttleTimeMs"]),
        brokers,
        cluster_id: opt_string(&m["clusterId"]),
        controller_id: i32_(&m["controllerId"]),
        topics,
        cluster_authorized_operations: i32_(&m["clusterAuthorizedOperations"]),
        error_code: ErrorCode(i16_(&m["errorCode"])),
    }
}

fn produce_response(v: &Value) -> ProduceResponse {
    let m = obj(v, &["responses", "throttleTimeMs", "nodeEndpoints"]);
    let responses = arr(&m["responses"])
        .iter()
        .map(|t| {
            let t = obj(t, &["name", "topicId", "partitionResponses"]);
            TopicProduceResponse {
                name: string(&t["name"]),
                topic_id: uuid(&t["topicId"]),
                partition_responses: arr(&t["partitionResponses"])
                    .iter()
                    .map(|p| {
                        let p = obj(
                            p,
                            &[
                                "index",
                                "errorCode",
                                "baseOffset",
                                "logAppendTimeMs",
                                "logStartOffset",
                                "recordErrors",
                                "errorMessage",
                                "currentLeader",
                            ],
                        );
                        let leader = obj(&p["currentLeader"], &["leaderId", "leaderEpoch"]);
                        PartitionProduceResponse {
                            index: i32_(&p["index"]),
                            error_code: ErrorCode(i16_(&p["errorCode"])),
                            base_offset: int(&p["baseOffset"]),
                            log_append_time_ms: int(&p["logAppendTimeMs"]),
                            log_start_offset: int(&p["logStartOffset"]),
                            record_errors: arr(&p["recordErrors"])
                                .iter()
                                .map(|e| {
                                    let e = obj(e, &["batchIndex", "batchIndexErrorMessage"]);
                                    BatchIndexAndErrorMessage {
                                        batch_index: i32_(&e["batchIndex"]),
                                        batch_index_error_message: opt_string(
                                            &e["batchIndexErrorMessage"],
                                        ),
                                    }
                                })
                                .collect(),
                            error_message: opt_string(&p["errorMessage"]),
                            current_leader: LeaderIdAndEpoch {
                                leader_id: i32_(&leader["leaderId"]),
                                leader_epoch: i32_(&leader["leaderEpoch"]),
                            },
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    ProduceResponse {
        responses,
        throttle_time_ms: i32_(&m["throttleTimeMs"]),
        node_endpoints: arr(&m["nodeEndpoints"])
            .iter()
            .map(|n| {
                let n = obj(n, &["nodeId", "host", "port", "rack"]);
                NodeEndpoint {
                    node_id: i32_(&n["nodeId"]),
                    host: string(&n["host"]),
                    port: i32_(&n["port"]),
                    rack: opt_string(&n["rack"]),
                }
            })
            .collect(),
    }
}

fn init_producer_id_response(v: &Value) -> InitProducerIdResponse {
    let m = obj(
        v,
        &[
            "throttleTimeMs",
            "errorCode",
            "producerId",
            "producerEpoch",
            "ongoingTxnProducerId",
            "ongoingTxnProducerEpoch",
        ],
    );
    InitProducerIdResponse {
        throttle_time_ms: i32_(&m["throttleTimeMs"]),
        error_code: ErrorCode(i16_(&m["errorCode"])),
        producer_id: int(&m["producerId"]),
        producer_epoch: i16_(&m["producerEpoch"]),
        ongoing_txn_producer_id: int(&m["ongoingTxnProducerId"]),
        ongoing_txn_producer_epoch: i16_(&m["ongoingTxnProducerEpoch"]),
    }
}

// ---------------------------------------------------------------------------
// The checks

/// Encodes `body` as a whole frame and compares it with the vector's bytes;
/// returns the frame's header and a reader positioned at the body.
fn check_request_frame<R: Request>(d: &Value, body: &R) -> (RequestHeader, Vec<u8>) {
    let id = d["id"].as_str().expect("id");
    let api_key = ApiKey(i16_(&d["api_key"]));
    let version = i16_(&d["api_version"]);
    assert_eq!(api_key, R::API_KEY, "{id}");
    assert_eq!(
        request_header_version(api_key, version),
        i16_(&d["request_header_version"]),
        "{id}: request header version"
    );
    assert_eq!(
        response_header_version(api_key, version),
        i16_(&d["response_header_version"]),
        "{id}: response header version"
    );
    let header = RequestHeader {
        api_key,
        api_version: version,
        correlation_id: i32_(&d["correlation_id"]),
        client_id: opt_string(&d["client_id"]),
    };
    let mut frame = Vec::new();
    encode_request(&mut frame, &header, body).unwrap_or_else(|e| panic!("{id}: {e}"));
    assert_eq!(hex(&frame), d["hex"].as_str().expect("hex"), "{id}: frame");
    assert_eq!(
        i64::try_from(frame.len() - 4).unwrap(),
        int(&d["size_prefix"]),
        "{id}"
    );

    // Decoding: the header, then the body starts where header_hex ends.
    let mut r = Reader::new(&frame[4..]);
    let back = RequestHeader::decode(&mut r).unwrap_or_else(|e| panic!("{id}: {e}"));
    assert_eq!(back, header, "{id}: decoded header");
    assert_eq!(
        hex(&frame[4..4 + r.position()]),
        d["header_hex"].as_str().expect("header_hex"),
        "{id}: header bytes"
    );
    let body_start = 4 + r.position();
    (back, frame[body_start..].to_vec())
}

/// Decodes a body completely with `decode`.
fn decode_all<'a, T>(
    id: &str,
    bytes: &'a [u8],
    decode: impl FnOnce(&mut Reader<'a>) -> Result<T, kafka_producer::protocol::codec::DecodeError>,
) -> T {
    let mut r = Reader::new(bytes);
    let v = decode(&mut r).unwrap_or_else(|e| panic!("{id}: {e}"));
    r.finish("end of body")
        .unwrap_or_else(|e| panic!("{id}: {e}"));
    v
}

/// The body from `encode_with_records`, each records field left out and
/// spliced back in at the position the callback saw (as a transport
/// writing the batches from their own buffers does); also how many fields
/// were handed over. Checks that they come in wire order with their place.
fn spliced_produce_body(req: &ProduceRequest<'_>, version: i16) -> (Vec<u8>, usize) {
    let mut owned = Vec::new();
    let mut splices: Vec<(usize, &[u8])> = Vec::new();
    let mut places = Vec::new();
    req.encode_with_records(&mut owned, version, |out, field| {
        splices.push((out.len(), field.records));
        places.push((field.topic, field.partition));
    })
    .unwrap();
    let expected_places: Vec<(usize, usize)> = req
        .topic_data
        .iter()
        .enumerate()
        .flat_map(|(t, topic)| {
            topic
                .partition_data
                .iter()
                .enumerate()
                .filter(|(_, p)| p.records.is_some())
                .map(move |(p, _)| (t, p))
        })
        .collect();
    assert_eq!(places, expected_places);
    let mut body = Vec::new();
    let mut from = 0;
    for &(at, records) in &splices {
        body.extend_from_slice(&owned[from..at]);
        body.extend_from_slice(records);
        from = at;
    }
    body.extend_from_slice(&owned[from..]);
    (body, splices.len())
}

#[test]
fn every_request_vector_is_reproduced_and_decoded() {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for d in read_jsonl("requests.jsonl") {
        let id = d["id"].as_str().expect("id").to_owned();
        let version = i16_(&d["api_version"]);
        let body = &d["decoded_body"];
        let api = d["api"].as_str().expect("api").to_owned();
        match api.as_str() {
            "ApiVersions" => {
                let req = api_versions_request(body);
                let (_, bytes) = check_request_frame(&d, &req);
                let back = decode_all(&id, &bytes, |r| ApiVersionsRequest::decode(r, version));
                assert_eq!(back, req, "{id}");
                // The inputs carry the software name at every version: the
                // ignorable fields are dropped below v3, same bytes.
                let inputs = &d["inputs"];
                let from_inputs = ApiVersionsRequest {
                    client_software_name: string(&inputs["client_software_name"]),
                    client_software_version: string(&inputs["client_software_version"]),
                };
                let mut out = Vec::new();
                from_inputs.encode(&mut out, version).unwrap();
                assert_eq!(
                    hex(&out),
                    d["body_hex"].as_str().unwrap(),
                    "{id}: from inputs"
                );
            }
            "Metadata" => {
                let req = metadata_request(body);
                let (_, bytes) = check_request_frame(&d, &req);
                let back = decode_all(&id, &bytes, |r| MetadataRequest::decode(r, version));
                assert_eq!(back, req, "{id}");
            }
            "Produce" => {
                let records = produce_records(body);
                assert_eq!(records.len(), 4, "{id}: four partitions");
                let req = produce_request(body, &records);
                let (_, bytes) = check_request_frame(&d, &req);
                let back = decode_all(&id, &bytes, |r| ProduceRequest::decode(r, version));
                assert_eq!(back, req, "{id}");
                // Records kept apart, as the producer's network client
                // sends them: the same bytes once spliced in.
                let (spliced, fields) = spliced_produce_body(&req, version);
                assert_eq!(fields, 4, "{id}: records fields handed over");
                assert_eq!(
                    hex(&spliced),
                    d["body_hex"].as_str().unwrap(),
                    "{id}: spliced records"
                );
            }
            "InitProducerId" => {
                let req = init_producer_id_request(body);
                let (_, bytes) = check_request_frame(&d, &req);
                let back = decode_all(&id, &bytes, |r| InitProducerIdRequest::decode(r, version));
                assert_eq!(back, req, "{id}");
            }
            other => panic!("{id}: unexpected API {other}"),
        }
        *counts.entry(api).or_default() += 1;
    }
    let counts: Vec<(&str, usize)> = counts.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        counts,
        [
            ("ApiVersions", 7),
            ("InitProducerId", 18),
            ("Metadata", 23),
            ("Produce", 22)
        ],
        "request vectors checked per API (70 in all)"
    );
}

/// Decodes the response frame, compares with `expected`, and re-encodes.
fn check_response<R: Response + PartialEq + std::fmt::Debug>(d: &Value, expected: &R) {
    let id = d["id"].as_str().expect("id");
    let version = i16_(&d["api_version"]);
    assert_eq!(ApiKey(i16_(&d["api_key"])), R::API_KEY, "{id}");
    assert_eq!(
        response_header_version(R::API_KEY, version),
        i16_(&d["response_header_version"]),
        "{id}: response header version"
    );
    let frame = unhex(d["frame_hex"].as_str().expect("frame_hex"));
    let size = i32::from_be_bytes(frame[..4].try_into().unwrap());
    assert_eq!(i64::from(size), int(&d["size_prefix"]), "{id}");
    assert_eq!(frame.len() - 4, size as usize, "{id}");

    let (header, body) =
        decode_response::<R>(&frame[4..], version).unwrap_or_else(|e| panic!("{id}: {e}"));
    assert_eq!(header.correlation_id, i32_(&d["correlation_id"]), "{id}");
    assert_eq!(&body, expected, "{id}: decoded body");

    let mut out = Vec::new();
    encode_response(&mut out, header.correlation_id, version, expected)
        .unwrap_or_else(|e| panic!("{id}: {e}"));
    assert_eq!(hex(&out), hex(&frame), "{id}: re-encoded frame");
}

#[test]
fn every_response_vector_decodes_and_reencodes() {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for d in read_jsonl("responses.jsonl") {
        let body = &d["decoded_body"];
        let api = d["api"].as_str().expect("api").to_owned();
        match api.as_str() {
            "ApiVersions" => check_response(&d, &api_versions_response(body)),
            "Metadata" => check_response(&d, &metadata_response(body)),
            "Produce" => check_response(&d, &produce_response(body)),
            "InitProducerId" => check_response(&d, &init_producer_id_response(body)),
            other => panic!("unexpected API {other}"),
        }
        *counts.entry(api).or_default() += 1;
    }
    let counts: Vec<(&str, usize)> = counts.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        counts,
        [
            ("ApiVersions", 6),
            ("InitProducerId", 9),
            ("Metadata", 11),
            ("Produce", 11)
        ],
        "response vectors checked per API (37 in all)"
    );
}

#[test]
fn unsupported_version_answer_is_read_through_the_v0_fallback() {
    let d = read_jsonl("responses.jsonl")
        .into_iter()
        .find(|d| d["id"] == "api_versions_v0_unsupported_version")
        .expect("vector");
    let expected = api_versions_response(&d["decoded_body"]);
    let frame = unhex(d["frame_hex"].as_str().unwrap());
    // The client asked at v1..v4; the broker answered in the v0 layout.
    for asked in 1..=4 {
        let (_, body) = decode_response::<ApiVersionsResponse>(&frame[4..], asked)
            .unwrap_or_else(|e| panic!("v{asked}: {e}"));
        assert_eq!(body, expected, "asked v{asked}");
        assert_eq!(body.error_code, ErrorCode::UNSUPPORTED_VERSION);
        assert_eq!(
            body.version_range(ApiKey::API_VERSIONS)
                .map(|r| (r.min, r.max)),
            Some((0, 4))
        );
    }
}

#[test]
fn negotiation_against_the_java_broker_list() {
    use kafka_producer::protocol::api_key::negotiate_version;
    let d = read_jsonl("responses.jsonl")
        .into_iter()
        .find(|d| d["id"] == "api_versions_v4")
        .expect("vector");
    let resp = api_versions_response(&d["decoded_body"]);
    let pick = |api: ApiKey| {
        negotiate_version(api, api.client_versions().unwrap(), resp.version_range(api))
    };
    assert_eq!(pick(ApiKey::PRODUCE), Ok(13));
    assert_eq!(pick(ApiKey::METADATA), Ok(13));
    assert_eq!(pick(ApiKey::API_VERSIONS), Ok(4));
    // The 4.3 broker list stops InitProducerId at v5 (v6 is unstable).
    assert_eq!(pick(ApiKey::INIT_PRODUCER_ID), Ok(5));
}
