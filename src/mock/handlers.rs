//! The request path of a mock broker, from a frame's bytes to the response
//! frame: header, dispatch by API and version, and the ApiVersions,
//! Metadata and InitProducerId handlers (Produce has its own module).
//!
//! ```text
//!  frame ─RequestHeader::decode─> count ─> ApiVersions (any version: too new gets the v0 answer)
//!                                        ─> Metadata / Produce / InitProducerId at a version we
//!                                           advertise: decode the body (must end the frame),
//!                                           handle, encode the response
//!                                        ─> anything else: close the connection, as Kafka does
//! ```
//!
//! Handlers return an [`Outcome`]; none of them panics on any input.

use super::produce;
use super::state::{ClusterState, Topic};
use crate::protocol::api_key::{ApiKey, VersionRange};
use crate::protocol::codec::{DecodeError, Reader};
use crate::protocol::error_code::ErrorCode;
use crate::protocol::header::{encode_response, RequestHeader};
use crate::protocol::messages::api_versions::{
    ApiVersion, ApiVersionsRequest, ApiVersionsResponse,
};
use crate::protocol::messages::init_producer_id::{InitProducerIdRequest, InitProducerIdResponse};
use crate::protocol::messages::metadata::{
    MetadataRequest, MetadataRequestTopic, MetadataResponse, MetadataResponseBroker,
    MetadataResponsePartition, MetadataResponseTopic,
};
use crate::protocol::messages::{Response, ZERO_UUID};

/// The APIs and versions a mock broker advertises and answers, in API key
/// order. InitProducerId stops at 5 as a default Kafka 4.x broker does (v6,
/// two-phase commit, is advertised only with unstable versions enabled).
pub(crate) const SUPPORTED_APIS: [(ApiKey, VersionRange); 4] = [
    (ApiKey::PRODUCE, VersionRange::new(3, 13)),
    (ApiKey::METADATA, VersionRange::new(0, 13)),
    (ApiKey::API_VERSIONS, VersionRange::new(0, 4)),
    (ApiKey::INIT_PRODUCER_ID, VersionRange::new(0, 5)),
];

fn supported_versions(api: ApiKey) -> Option<VersionRange> {
    SUPPORTED_APIS
        .iter()
        .find(|(k, _)| *k == api)
        .map(|(_, r)| *r)
}

/// What the connection should do after a request.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Write this response frame.
    Respond(Vec<u8>),
    /// Send nothing (Produce with acks=0).
    NoResponse,
    /// Close the connection; the reason is logged.
    Close(String),
}

/// The broker a request arrived at.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub(crate) cluster: &'a ClusterState,
    pub(crate) broker_id: i32,
}

/// Decodes a request frame's header (the frame without its size prefix):
/// the header and a reader on the body, or the reason to close the
/// connection.
pub(crate) fn decode_header(frame: &[u8]) -> Result<(RequestHeader, Reader<'_>), String> {
    let mut r = Reader::new(frame);
    match RequestHeader::decode(&mut r) {
        Ok(h) => Ok((h, r)),
        Err(e) => Err(format!("malformed request header: {e}")),
    }
}

/// Handles one request whose header [`decode_header`] read (the caller
/// counts it and consults the fault plan first).
pub(crate) fn handle_request(ctx: Ctx<'_>, header: &RequestHeader, r: Reader<'_>) -> Outcome {
    if header.api_key == ApiKey::API_VERSIONS {
        return api_versions(header, r);
    }
    let Some(range) = supported_versions(header.api_key) else {
        return Outcome::Close(format!("unsupported API {}", header.api_key));
    };
    if !range.contains(header.api_version) {
        return Outcome::Close(format!(
            "unsupported version {} of {} (supported: {range})",
            header.api_version, header.api_key
        ));
    }
    match header.api_key {
        ApiKey::PRODUCE => produce::handle(ctx, header, r),
        ApiKey::METADATA => metadata(ctx, header, r),
        _ => init_producer_id(ctx, header, r),
    }
}

/// Decodes a request body that must end exactly at the end of the frame
/// (stricter than Kafka, which ignores trailing bytes: a test double should
/// notice an encoder that writes too much).
pub(crate) fn decode_body<'a, T>(
    mut r: Reader<'a>,
    end_field: &'static str,
    decode: impl FnOnce(&mut Reader<'a>) -> Result<T, DecodeError>,
) -> Result<T, Outcome> {
    let body = decode(&mut r).map_err(|e| Outcome::Close(format!("malformed request: {e}")))?;
    r.finish(end_field)
        .map_err(|e| Outcome::Close(format!("malformed request: {e}")))?;
    Ok(body)
}

/// Encodes a whole response frame, or closes the connection if the
/// response cannot be written at this version (a bug in the mock, logged).
pub(crate) fn respond<R: Response>(header: &RequestHeader, version: i16, body: &R) -> Outcome {
    let mut out = Vec::new();
    match encode_response(&mut out, header.correlation_id, version, body) {
        Ok(()) => Outcome::Respond(out),
        Err(e) => Outcome::Close(format!("cannot encode the {} response: {e}", R::API_KEY)),
    }
}

/// Kafka's rule for client software names and versions (KIP-511).
fn valid_software_field(s: &str) -> bool {
    let end = |c: char| c.is_ascii_alphanumeric();
    let mid = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.';
    s.starts_with(end) && s.ends_with(end) && s.chars().all(mid)
}

fn api_versions(header: &RequestHeader, r: Reader<'_>) -> Outcome {
    let version = header.api_version;
    let ours = supported_versions(ApiKey::API_VERSIONS).unwrap_or(VersionRange::new(0, 0));
    if !ours.contains(version) {
        // KIP-511: a version we do not know is answered in the v0 layout
        // with UNSUPPORTED_VERSION and our ApiVersions range, so the client
        // can retry with a version we speak. The body is not read.
        let body = ApiVersionsResponse {
            error_code: ErrorCode::UNSUPPORTED_VERSION,
            api_keys: vec![ApiVersion {
                api_key: ApiKey::API_VERSIONS,
                min_version: ours.min,
                max_version: ours.max,
            }],
            ..Default::default()
        };
        return respond(header, 0, &body);
    }
    let request = match decode_body(r, "ApiVersionsRequest", |r| {
        ApiVersionsRequest::decode(r, version)
    }) {
        Ok(req) => req,
        Err(outcome) => return outcome,
    };
    if version >= 3
        && !(valid_software_field(&request.client_software_name)
            && valid_software_field(&request.client_software_version))
    {
        let body = ApiVersionsResponse {
            error_code: ErrorCode::INVALID_REQUEST,
            ..Default::default()
        };
        return respond(header, version, &body);
    }
    let body = ApiVersionsResponse {
        api_keys: SUPPORTED_APIS
            .iter()
            .map(|(api, range)| ApiVersion {
                api_key: *api,
                min_version: range.min,
                max_version: range.max,
            })
            .collect(),
        ..Default::default()
    };
    respond(header, version, &body)
}

/// A topic's metadata: every partition with its leader, leader epoch and a
/// replica set of one (the mock does not replicate). An offline partition
/// (its last leader down, no other broker live) is answered as Kafka does:
/// `LEADER_NOT_AVAILABLE`, leader -1, its replica offline.
pub(crate) fn describe_topic(topic: &Topic) -> MetadataResponseTopic {
    let partitions = topic
        .partitions
        .iter()
        .enumerate()
        .map(|(index, p)| {
            let p = p.lock();
            let online = p.leader >= 0;
            MetadataResponsePartition {
                error_code: if online {
                    ErrorCode::NONE
                } else {
                    ErrorCode::LEADER_NOT_AVAILABLE
                },
                // Partition counts come from an i32 (`create_topic`).
                partition_index: i32::try_from(index).unwrap_or(i32::MAX),
                leader_id: p.leader,
                leader_epoch: p.leader_epoch,
                replica_nodes: vec![p.last_leader],
                isr_nodes: if online { vec![p.leader] } else { Vec::new() },
                offline_replicas: if online {
                    Vec::new()
                } else {
                    vec![p.last_leader]
                },
            }
        })
        .collect();
    MetadataResponseTopic {
        error_code: ErrorCode::NONE,
        name: Some(topic.name.clone()),
        topic_id: topic.id,
        is_internal: false,
        partitions,
        ..Default::default()
    }
}

fn topic_error(code: ErrorCode, name: Option<String>, id: [u8; 16]) -> MetadataResponseTopic {
    MetadataResponseTopic {
        error_code: code,
        name,
        topic_id: id,
        ..Default::default()
    }
}

fn metadata(ctx: Ctx<'_>, header: &RequestHeader, r: Reader<'_>) -> Outcome {
    let version = header.api_version;
    let request = match decode_body(r, "MetadataRequest", |r| {
        MetadataRequest::decode(r, version)
    }) {
        Ok(req) => req,
        Err(outcome) => return outcome,
    };
    let cluster = ctx.cluster;
    // v0: an empty list means every topic; v1+: a null list does.
    let requested = match &request.topics {
        Some(t) if !(version == 0 && t.is_empty()) => Some(t.as_slice()),
        _ => None,
    };
    let topics = match requested {
        None => cluster
            .all_topics()
            .iter()
            .map(|t| describe_topic(t))
            .collect(),
        Some(requested) => {
            if requested
                .iter()
                .any(|t| t.name.is_none() && (version < 12 || t.topic_id == ZERO_UUID))
                || (version < 12 && requested.iter().any(|t| t.topic_id != ZERO_UUID))
            {
                // Kafka answers these with INVALID_REQUEST for every topic
                // (MetadataRequest.getErrorResponse).
                return respond(header, version, &metadata_error(&request, version));
            }
            if requested.iter().any(|t| t.topic_id != ZERO_UUID) {
                topics_by_id(cluster, requested)
            } else {
                let allow =
                    cluster.settings.auto_create_topics && request.allow_auto_topic_creation;
                topics_by_name(cluster, requested, allow)
            }
        }
    };
    // Kafka lists only the brokers that are alive.
    let live = cluster.live_brokers();
    let body = MetadataResponse {
        brokers: live
            .iter()
            .map(|b| cluster.advertised(b))
            .map(|b| MetadataResponseBroker {
                node_id: b.id,
                host: b.host,
                port: i32::from(b.port),
                rack: None,
            })
            .collect(),
        cluster_id: Some(cluster.cluster_id.clone()),
        controller_id: live.first().map_or(-1, |b| b.id),
        topics,
        ..Default::default()
    };
    respond(header, version, &body)
}

fn metadata_error(request: &MetadataRequest, version: i16) -> MetadataResponse {
    let topics = request
        .topics
        .iter()
        .flatten()
        .map(|t| MetadataResponseTopic {
            error_code: ErrorCode::INVALID_REQUEST,
            name: Some(t.name.clone().unwrap_or_default()),
            topic_id: if version >= 10 { t.topic_id } else { ZERO_UUID },
            ..Default::default()
        })
        .collect();
    MetadataResponse {
        topics,
        ..Default::default()
    }
}

/// Topics looked up by id (v12+): known ones described, unknown ones
/// answered `UNKNOWN_TOPIC_ID` with a null name.
fn topics_by_id(
    cluster: &ClusterState,
    requested: &[MetadataRequestTopic],
) -> Vec<MetadataResponseTopic> {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for t in requested.iter().filter(|t| t.topic_id != ZERO_UUID) {
        if seen.contains(&t.topic_id) {
            continue;
        }
        seen.push(t.topic_id);
        out.push(match cluster.topic_by_id(&t.topic_id) {
            Some(topic) => describe_topic(&topic),
            None => topic_error(ErrorCode::UNKNOWN_TOPIC_ID, None, t.topic_id),
        });
    }
    out
}

/// Topics looked up by name, each once: existing ones described, missing
/// ones created when `allow` (and the name is legal), else
/// `UNKNOWN_TOPIC_OR_PARTITION`, or `INVALID_TOPIC_EXCEPTION` for an
/// illegal name.
fn topics_by_name(
    cluster: &ClusterState,
    requested: &[MetadataRequestTopic],
    allow: bool,
) -> Vec<MetadataResponseTopic> {
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for name in requested.iter().filter_map(|t| t.name.as_deref()) {
        if seen.contains(&name) {
            continue;
        }
        seen.push(name);
        let found = if allow {
            cluster.get_or_create_topic(name)
        } else {
            cluster
                .topic(name)
                .ok_or_else(|| match super::state::invalid_topic_name(name) {
                    Some(reason) => (ErrorCode::INVALID_TOPIC_EXCEPTION, reason),
                    None => (ErrorCode::UNKNOWN_TOPIC_OR_PARTITION, String::new()),
                })
        };
        out.push(match found {
            Ok(topic) => describe_topic(&topic),
            Err((code, _)) => topic_error(code, Some(name.to_owned()), ZERO_UUID),
        });
    }
    out
}

fn init_producer_id(ctx: Ctx<'_>, header: &RequestHeader, r: Reader<'_>) -> Outcome {
    let version = header.api_version;
    let request = match decode_body(r, "InitProducerIdRequest", |r| {
        InitProducerIdRequest::decode(r, version)
    }) {
        Ok(req) => req,
        Err(outcome) => return outcome,
    };
    let error = |code: ErrorCode| InitProducerIdResponse {
        error_code: code,
        producer_id: -1,
        producer_epoch: -1,
        ..Default::default()
    };
    let pushed = ctx
        .cluster
        .faults
        .lock()
        .next_error(ApiKey::INIT_PRODUCER_ID);
    let body = if let Some(code) = pushed {
        error(code)
    } else {
        match request.transactional_id.as_deref() {
            // Kafka: a producer id without an epoch, or the reverse, is an
            // invalid request.
            None if (request.producer_id == -1) != (request.producer_epoch == -1) => {
                error(ErrorCode::INVALID_REQUEST)
            }
            // Kafka's coordinator gives an idempotent producer a new id at
            // epoch 0 every time, even when it names its current id and
            // epoch: idempotent producers bump their epoch locally (KIP-360).
            None => InitProducerIdResponse {
                producer_id: ctx.cluster.next_producer_id(),
                producer_epoch: 0,
                ..Default::default()
            },
            Some("") => error(ErrorCode::INVALID_REQUEST),
            // No transactions here: answered as a broker whose ACLs refuse
            // every transactional id (fatal for the client, not retried).
            Some(_) => error(ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED),
        }
    };
    respond(header, version, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn software_names_follow_kip_511() {
        for ok in [
            "kafka-producer-rs",
            "a",
            "1.2.3",
            "apache-kafka-java",
            "x.y-z9",
        ] {
            assert!(valid_software_field(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "a b", "a_b", ".a", "ü"] {
            assert!(!valid_software_field(bad), "{bad}");
        }
    }

    #[test]
    fn advertised_ranges_are_within_the_codec() {
        use crate::protocol::messages::{init_producer_id, metadata, produce, Request};
        let codec = [
            produce::ProduceRequest::VERSIONS,
            <metadata::MetadataRequest as Request>::VERSIONS,
            <ApiVersionsRequest as Request>::VERSIONS,
            <init_producer_id::InitProducerIdRequest as Request>::VERSIONS,
        ];
        for ((api, ours), codec) in SUPPORTED_APIS.iter().zip(codec) {
            assert!(
                codec.min <= ours.min && ours.max <= codec.max,
                "{api}: {ours} vs {codec}"
            );
        }
    }
}
