//! Produce (key 0), versions 3-13, flexible from 9: record batches for
//! partitions, and per-partition offsets or errors back.
//!
//! The request is on the hot path, so [`ProduceRequest`] borrows: topic
//! names and the transactional id are `Cow<str>` (a sender lends its own
//! strings), and each partition's `records` is a borrowed slice of
//! already-built record batches. [`ProduceRequest::encode`] copies them
//! into the output once; [`ProduceRequest::encode_with_records`] hands each
//! records field to the caller instead, so the producer's network client
//! sends the batches from their own buffers without copying them at all.
//! Both write the same bytes. A decoder (the mock broker) borrows the
//! records from the frame.
//!
//! v13 (KIP-516) addresses topics by id in both directions: the name is
//! then not on the wire (it decodes as `""`), and below v13 the id is not.
//! From v10 a `NOT_LEADER_OR_FOLLOWER` partition may carry the new leader
//! (tagged `current_leader`) and the response the leaders' endpoints (tagged
//! `node_endpoints`), KIP-951.

use std::borrow::Cow;
use std::fmt;

use super::{
    absent_must_be_default, check_decode_version, check_encode_version, put_tagged_field,
    read_array, Request, Response, Uuid,
};
use crate::protocol::api_key::{ApiKey, VersionRange};
use crate::protocol::codec::{DecodeError, EncodeError, Reader, Writer};
use crate::protocol::error_code::ErrorCode;

type DResult<T> = Result<T, DecodeError>;

const VERSIONS: VersionRange = VersionRange::new(3, 13);
const FLEXIBLE_FROM: i16 = 9;
/// The first version that names topics by id instead of by name.
const TOPIC_ID_FROM: i16 = 13;

/// Smallest encoding of a string (`classic` 2) or array (`classic` 4)
/// length prefix.
const fn len_prefix(flexible: bool, classic: usize) -> usize {
    if flexible {
        1
    } else {
        classic
    }
}

/// The length prefix of a non-null records field: INT32 before v9,
/// compact (length + 1) from v9.
fn put_records_len(out: &mut Vec<u8>, len: usize, flexible: bool) -> Result<(), EncodeError> {
    let too_large = || {
        EncodeError::new(
            "ProduceRequest.topic_data.partition_data.records",
            "records larger than 2 GiB",
        )
    };
    if flexible {
        let n = u32::try_from(len)
            .ok()
            .and_then(|n| n.checked_add(1))
            .ok_or_else(too_large)?;
        out.put_unsigned_varint(n);
    } else {
        out.put_i32(i32::try_from(len).map_err(|_| too_large())?);
    }
    Ok(())
}

/// The records for one partition.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct PartitionProduceData<'a> {
    /// The partition index.
    pub index: i32,
    /// Encoded record batches, borrowed; `None` is a null records field.
    pub records: Option<&'a [u8]>,
}

impl fmt::Debug for PartitionProduceData<'_> {
    // Record bytes can be megabytes: show their size only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartitionProduceData")
            .field("index", &self.index)
            .field("records_len", &self.records.map(<[u8]>::len))
            .finish()
    }
}

/// The partitions of one topic.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TopicProduceData<'a> {
    /// The topic name (v3-12, ignorable).
    pub name: Cow<'a, str>,
    /// The topic id (v13+, ignorable).
    pub topic_id: Uuid,
    /// The partitions.
    pub partition_data: Vec<PartitionProduceData<'a>>,
}

/// Produce request body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProduceRequest<'a> {
    /// The transactional id, `None` if the producer is not transactional.
    pub transactional_id: Option<Cow<'a, str>>,
    /// 0 (no response at all), 1 (leader) or -1 (all in-sync replicas).
    pub acks: i16,
    /// How long the broker may wait for the acks, in ms.
    pub timeout_ms: i32,
    /// The topics.
    pub topic_data: Vec<TopicProduceData<'a>>,
}

/// A records field met by [`ProduceRequest::encode_with_records`]: where it
/// is in the request and the bytes that go there.
#[derive(Clone, Copy)]
pub struct RecordsField<'a> {
    /// Index of the topic in [`ProduceRequest::topic_data`].
    pub topic: usize,
    /// Index of the partition in that topic's `partition_data`.
    pub partition: usize,
    /// The records (non-null; null fields are written by the encoder).
    pub records: &'a [u8],
}

impl fmt::Debug for RecordsField<'_> {
    // Record bytes can be megabytes: show their size only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordsField")
            .field("topic", &self.topic)
            .field("partition", &self.partition)
            .field("records_len", &self.records.len())
            .finish()
    }
}

impl<'a> ProduceRequest<'a> {
    /// Appends the body at `version`. The record bytes are copied once, into
    /// `out`; nothing else is allocated beyond `out`'s growth.
    pub fn encode(&self, out: &mut Vec<u8>, version: i16) -> Result<(), EncodeError> {
        // One reservation for the record bytes, which dominate the request,
        // instead of repeated growth while copying them.
        let records: usize = self
            .topic_data
            .iter()
            .flat_map(|t| &t.partition_data)
            .map(|p| p.records.map_or(0, <[u8]>::len))
            .sum();
        out.reserve(records + self.fields_size_hint());
        self.encode_with_records(out, version, |out, field| {
            out.extend_from_slice(field.records);
        })
    }

    /// Appends the body at `version` like [`encode`](Self::encode), except
    /// that each non-null records field is handed to `put_records` right
    /// after its length prefix, in wire order, instead of being copied.
    /// `put_records` must make the field's bytes follow at that point of
    /// the output: copy them into `out`, or note `out.len()` as the place
    /// where a transport splices them in (the length prefix already counts
    /// them). So a sender can write record batches from their own buffers.
    pub fn encode_with_records(
        &self,
        out: &mut Vec<u8>,
        version: i16,
        mut put_records: impl FnMut(&mut Vec<u8>, RecordsField<'a>),
    ) -> Result<(), EncodeError> {
        check_encode_version("ProduceRequest", VERSIONS, version)?;
        let flexible = version >= FLEXIBLE_FROM;
        out.reserve(self.fields_size_hint());
        out.put_string_flex(
            self.transactional_id.as_deref(),
            flexible,
            "ProduceRequest.transactional_id",
        )?;
        out.put_i16(self.acks);
        out.put_i32(self.timeout_ms);
        out.put_array_len(Some(self.topic_data.len()), flexible);
        for (t, topic) in self.topic_data.iter().enumerate() {
            if version >= TOPIC_ID_FROM {
                out.put_uuid(&topic.topic_id);
            } else {
                out.put_string_flex(
                    Some(&topic.name),
                    flexible,
                    "ProduceRequest.topic_data.name",
                )?;
            }
            out.put_array_len(Some(topic.partition_data.len()), flexible);
            for (p, data) in topic.partition_data.iter().enumerate() {
                out.put_i32(data.index);
                match data.records {
                    None => out.put_nullable_bytes_flex(None, flexible),
                    Some(records) => {
                        put_records_len(out, records.len(), flexible)?;
                        put_records(
                            out,
                            RecordsField {
                                topic: t,
                                partition: p,
                                records,
                            },
                        );
                    }
                }
                if flexible {
                    out.put_empty_tagged_fields();
                }
            }
            if flexible {
                out.put_empty_tagged_fields();
            }
        }
        if flexible {
            out.put_empty_tagged_fields();
        }
        Ok(())
    }

    /// About the size of the request's own fields (all but the records),
    /// reserved in one step: a few bytes per partition and per topic name.
    fn fields_size_hint(&self) -> usize {
        let topics: usize = self
            .topic_data
            .iter()
            .map(|t| 24 + t.name.len() + 16 * t.partition_data.len())
            .sum();
        64 + self.transactional_id.as_deref().map_or(0, str::len) + topics
    }

    /// Reads the body at `version`, borrowing the records from the input.
    pub fn decode(r: &mut Reader<'a>, version: i16) -> DResult<Self> {
        check_decode_version("ProduceRequest.version", VERSIONS, version)?;
        let flexible = version >= FLEXIBLE_FROM;
        let tags = usize::from(flexible);
        let transactional_id = r
            .nullable_string_flex(flexible, "ProduceRequest.transactional_id")?
            .map(Cow::Owned);
        let acks = r.i16("ProduceRequest.acks")?;
        let timeout_ms = r.i32("ProduceRequest.timeout_ms")?;
        let min_topic = if version >= TOPIC_ID_FROM {
            16
        } else {
            len_prefix(flexible, 2)
        } + len_prefix(flexible, 4)
            + tags;
        let min_partition = 4 + len_prefix(flexible, 4) + tags;
        let topic_data = read_array(r, flexible, min_topic, "ProduceRequest.topic_data", |r| {
            let mut topic = TopicProduceData::default();
            if version >= TOPIC_ID_FROM {
                topic.topic_id = r.uuid("ProduceRequest.topic_data.topic_id")?;
            } else {
                topic.name = Cow::Owned(r.string_flex(flexible, "ProduceRequest.topic_data.name")?);
            }
            topic.partition_data = read_array(
                r,
                flexible,
                min_partition,
                "ProduceRequest.topic_data.partition_data",
                |r| {
                    let p = PartitionProduceData {
                        index: r.i32("ProduceRequest.topic_data.partition_data.index")?,
                        records: r.nullable_bytes_flex(
                            flexible,
                            "ProduceRequest.topic_data.partition_data.records",
                        )?,
                    };
                    if flexible {
                        r.skip_tagged_fields(
                            "ProduceRequest.topic_data.partition_data.tagged_fields",
                        )?;
                    }
                    Ok(p)
                },
            )?;
            if flexible {
                r.skip_tagged_fields("ProduceRequest.topic_data.tagged_fields")?;
            }
            Ok(topic)
        })?;
        if flexible {
            r.skip_tagged_fields("ProduceRequest.tagged_fields")?;
        }
        Ok(ProduceRequest {
            transactional_id,
            acks,
            timeout_ms,
            topic_data,
        })
    }
}

impl Request for ProduceRequest<'_> {
    const API_KEY: ApiKey = ApiKey::PRODUCE;
    const VERSIONS: VersionRange = VERSIONS;
    fn encode(&self, out: &mut Vec<u8>, version: i16) -> Result<(), EncodeError> {
        ProduceRequest::encode(self, out, version)
    }
}

/// A record that made the broker reject its batch (v8+).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BatchIndexAndErrorMessage {
    /// The record's index in the batch.
    pub batch_index: i32,
    /// Why it was rejected (default null).
    pub batch_index_error_message: Option<String>,
}

/// The current leader of a partition (v10+, tagged).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaderIdAndEpoch {
    /// The leader's broker id, -1 if unknown.
    pub leader_id: i32,
    /// The leader epoch, -1 if unknown.
    pub leader_epoch: i32,
}

impl Default for LeaderIdAndEpoch {
    fn default() -> Self {
        LeaderIdAndEpoch {
            leader_id: -1,
            leader_epoch: -1,
        }
    }
}

/// The outcome for one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionProduceResponse {
    /// The partition index.
    pub index: i32,
    /// The error code, or `NONE`.
    pub error_code: ErrorCode,
    /// The offset of the first record of the batch.
    pub base_offset: i64,
    /// The broker's append time with LogAppendTime topics, else -1
    /// (ignorable; default -1).
    pub log_append_time_ms: i64,
    /// The log start offset (v5+, ignorable; default -1).
    pub log_start_offset: i64,
    /// The records that caused the batch to be dropped (v8+, ignorable).
    pub record_errors: Vec<BatchIndexAndErrorMessage>,
    /// A summary of why records were dropped (v8+, ignorable; default null).
    pub error_message: Option<String>,
    /// The new leader after `NOT_LEADER_OR_FOLLOWER` (v10+, tagged 0).
    pub current_leader: LeaderIdAndEpoch,
}

impl Default for PartitionProduceResponse {
    fn default() -> Self {
        PartitionProduceResponse {
            index: 0,
            error_code: ErrorCode::NONE,
            base_offset: 0,
            log_append_time_ms: -1,
            log_start_offset: -1,
            record_errors: Vec::new(),
            error_message: None,
            current_leader: LeaderIdAndEpoch::default(),
        }
    }
}

/// The outcome for one topic.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TopicProduceResponse {
    /// The topic name (v3-12, ignorable); `""` at v13.
    pub name: String,
    /// The topic id (v13+, ignorable); zero below v13.
    pub topic_id: Uuid,
    /// The partitions.
    pub partition_responses: Vec<PartitionProduceResponse>,
}

/// A broker endpoint named by `current_leader` (v10+).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeEndpoint {
    /// The broker id.
    pub node_id: i32,
    /// The host name.
    pub host: String,
    /// The port.
    pub port: i32,
    /// The rack (default null).
    pub rack: Option<String>,
}

/// Produce response body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProduceResponse {
    /// One entry per topic.
    pub responses: Vec<TopicProduceResponse>,
    /// Throttle time in ms (ignorable).
    pub throttle_time_ms: i32,
    /// Endpoints of the leaders named in `current_leader` (v10+, tagged 0).
    pub node_endpoints: Vec<NodeEndpoint>,
}

impl ProduceResponse {
    /// Reads the body at `version`.
    pub fn decode(r: &mut Reader<'_>, version: i16) -> DResult<Self> {
        check_decode_version("ProduceResponse.version", VERSIONS, version)?;
        let flexible = version >= FLEXIBLE_FROM;
        let tags = usize::from(flexible);
        let min_topic = if version >= TOPIC_ID_FROM {
            16
        } else {
            len_prefix(flexible, 2)
        } + len_prefix(flexible, 4)
            + tags;
        let responses = read_array(r, flexible, min_topic, "ProduceResponse.responses", |r| {
            let mut topic = TopicProduceResponse::default();
            if version >= TOPIC_ID_FROM {
                topic.topic_id = r.uuid("ProduceResponse.responses.topic_id")?;
            } else {
                topic.name = r.string_flex(flexible, "ProduceResponse.responses.name")?;
            }
            topic.partition_responses = decode_partitions(r, version)?;
            if flexible {
                r.skip_tagged_fields("ProduceResponse.responses.tagged_fields")?;
            }
            Ok(topic)
        })?;
        let mut out = ProduceResponse {
            responses,
            throttle_time_ms: r.i32("ProduceResponse.throttle_time_ms")?,
            node_endpoints: Vec::new(),
        };
        if flexible {
            r.tagged_fields("ProduceResponse.tagged_fields", |tag, r| {
                if tag == 0 && version >= 10 {
                    out.node_endpoints = decode_node_endpoints(r)?;
                    Ok(true)
                } else {
                    Ok(false)
                }
            })?;
        }
        Ok(out)
    }

    /// Appends the body at `version`.
    pub fn encode(&self, out: &mut Vec<u8>, version: i16) -> Result<(), EncodeError> {
        check_encode_version("ProduceResponse", VERSIONS, version)?;
        let flexible = version >= FLEXIBLE_FROM;
        out.put_array_len(Some(self.responses.len()), flexible);
        for topic in &self.responses {
            if version >= TOPIC_ID_FROM {
                out.put_uuid(&topic.topic_id);
            } else {
                out.put_string_flex(
                    Some(&topic.name),
                    flexible,
                    "ProduceResponse.responses.name",
                )?;
            }
            out.put_array_len(Some(topic.partition_responses.len()), flexible);
            for p in &topic.partition_responses {
                encode_partition(p, out, version)?;
            }
            if flexible {
                out.put_empty_tagged_fields();
            }
        }
        out.put_i32(self.throttle_time_ms);
        absent_must_be_default(
            version >= 10,
            &self.node_endpoints.is_empty(),
            &true,
            "ProduceResponse.node_endpoints",
            version,
        )?;
        if flexible {
            if self.node_endpoints.is_empty() {
                out.put_empty_tagged_fields();
            } else {
                out.put_unsigned_varint(1);
                put_tagged_field(out, 0, |out| {
                    out.put_array_len(Some(self.node_endpoints.len()), true);
                    for n in &self.node_endpoints {
                        out.put_i32(n.node_id);
                        out.put_compact_nullable_string(Some(&n.host));
                        out.put_i32(n.port);
                        out.put_compact_nullable_string(n.rack.as_deref());
                        out.put_empty_tagged_fields();
                    }
                    Ok(())
                })?;
            }
        }
        Ok(())
    }
}

fn decode_partitions(r: &mut Reader<'_>, version: i16) -> DResult<Vec<PartitionProduceResponse>> {
    let flexible = version >= FLEXIBLE_FROM;
    let min_partition = 4
        + 2
        + 8
        + 8
        + if version >= 5 { 8 } else { 0 }
        + if version >= 8 {
            len_prefix(flexible, 4) + len_prefix(flexible, 2)
        } else {
            0
        }
        + usize::from(flexible);
    read_array(
        r,
        flexible,
        min_partition,
        "ProduceResponse.responses.partition_responses",
        |r| {
            let mut p = PartitionProduceResponse {
                index: r.i32("ProduceResponse.responses.partition_responses.index")?,
                error_code: ErrorCode(
                    r.i16("ProduceResponse.responses.partition_responses.error_code")?,
                ),
                base_offset: r.i64("ProduceResponse.responses.partition_responses.base_offset")?,
                log_append_time_ms: r
                    .i64("ProduceResponse.responses.partition_responses.log_append_time_ms")?,
                ..Default::default()
            };
            if version >= 5 {
                p.log_start_offset =
                    r.i64("ProduceResponse.responses.partition_responses.log_start_offset")?;
            }
            if version >= 8 {
                p.record_errors = decode_record_errors(r, flexible)?;
                p.error_message = r.nullable_string_flex(
                    flexible,
                    "ProduceResponse.responses.partition_responses.error_message",
                )?;
            }
            if flexible {
                r.tagged_fields(
                    "ProduceResponse.responses.partition_responses.tagged_fields",
                    |tag, r| {
                        if tag == 0 && version >= 10 {
                            p.current_leader = decode_leader(r)?;
                            Ok(true)
                        } else {
                            Ok(false)
                        }
                    },
                )?;
            }
            Ok(p)
        },
    )
}

fn decode_record_errors(
    r: &mut Reader<'_>,
    flexible: bool,
) -> DResult<Vec<BatchIndexAndErrorMessage>> {
    let min = 4 + len_prefix(flexible, 2) + usize::from(flexible);
    read_array(
        r,
        flexible,
        min,
        "ProduceResponse.responses.partition_responses.record_errors",
        |r| {
            let e = BatchIndexAndErrorMessage {
                batch_index: r
                    .i32("ProduceResponse.responses.partition_responses.record_errors.batch_index")?,
                batch_index_error_message: r.nullable_string_flex(
                    flexible,
                    "ProduceResponse.responses.partition_responses.record_errors.batch_index_error_message",
                )?,
            };
            if flexible {
                r.skip_tagged_fields(
                    "ProduceResponse.responses.partition_responses.record_errors.tagged_fields",
                )?;
            }
            Ok(e)
        },
    )
}

fn decode_leader(r: &mut Reader<'_>) -> DResult<LeaderIdAndEpoch> {
    let leader = LeaderIdAndEpoch {
        leader_id: r
            .i32("ProduceResponse.responses.partition_responses.current_leader.leader_id")?,
        leader_epoch: r
            .i32("ProduceResponse.responses.partition_responses.current_leader.leader_epoch")?,
    };
    r.skip_tagged_fields(
        "ProduceResponse.responses.partition_responses.current_leader.tagged_fields",
    )?;
    Ok(leader)
}

fn decode_node_endpoints(r: &mut Reader<'_>) -> DResult<Vec<NodeEndpoint>> {
    // node_id, compact host (≥1), port, compact rack (≥1), tag section.
    read_array(
        r,
        true,
        4 + 1 + 4 + 1 + 1,
        "ProduceResponse.node_endpoints",
        |r| {
            let n = NodeEndpoint {
                node_id: r.i32("ProduceResponse.node_endpoints.node_id")?,
                host: r.compact_string("ProduceResponse.node_endpoints.host")?,
                port: r.i32("ProduceResponse.node_endpoints.port")?,
                rack: r.compact_nullable_string("ProduceResponse.node_endpoints.rack")?,
            };
            r.skip_tagged_fields("ProduceResponse.node_endpoints.tagged_fields")?;
            Ok(n)
        },
    )
}

fn encode_partition(
    p: &PartitionProduceResponse,
    out: &mut Vec<u8>,
    version: i16,
) -> Result<(), EncodeError> {
    let flexible = version >= FLEXIBLE_FROM;
    out.put_i32(p.index);
    out.put_i16(p.error_code.0);
    out.put_i64(p.base_offset);
    out.put_i64(p.log_append_time_ms);
    if version >= 5 {
        out.put_i64(p.log_start_offset);
    }
    if version >= 8 {
        out.put_array_len(Some(p.record_errors.len()), flexible);
        for e in &p.record_errors {
            out.put_i32(e.batch_index);
            out.put_string_flex(
                e.batch_index_error_message.as_deref(),
                flexible,
                "ProduceResponse.responses.partition_responses.record_errors.batch_index_error_message",
            )?;
            if flexible {
                out.put_empty_tagged_fields();
            }
        }
        out.put_string_flex(
            p.error_message.as_deref(),
            flexible,
            "ProduceResponse.responses.partition_responses.error_message",
        )?;
    }
    let has_leader = p.current_leader != LeaderIdAndEpoch::default();
    absent_must_be_default(
        version >= 10,
        &p.current_leader,
        &LeaderIdAndEpoch::default(),
        "ProduceResponse.responses.partition_responses.current_leader",
        version,
    )?;
    if flexible {
        if has_leader {
            out.put_unsigned_varint(1);
            put_tagged_field(out, 0, |out| {
                out.put_i32(p.current_leader.leader_id);
                out.put_i32(p.current_leader.leader_epoch);
                out.put_empty_tagged_fields();
                Ok(())
            })?;
        } else {
            out.put_empty_tagged_fields();
        }
    }
    Ok(())
}

impl Response for ProduceResponse {
    const API_KEY: ApiKey = ApiKey::PRODUCE;
    const VERSIONS: VersionRange = VERSIONS;
    fn decode(r: &mut Reader<'_>, version: i16) -> DResult<Self> {
        ProduceResponse::decode(r, version)
    }
    fn encode(&self, out: &mut Vec<u8>, version: i16) -> Result<(), EncodeError> {
        ProduceResponse::encode(self, out, version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::ZERO_UUID;

    #[test]
    fn records_are_borrowed_from_the_frame() {
        let batch = [1u8, 2, 3, 4, 5];
        let req = ProduceRequest {
            transactional_id: None,
            acks: -1,
            timeout_ms: 30_000,
            topic_data: vec![TopicProduceData {
                name: Cow::Borrowed("t"),
                topic_id: ZERO_UUID,
                partition_data: vec![PartitionProduceData {
                    index: 0,
                    records: Some(&batch),
                }],
            }],
        };
        for version in [3, 9, 13] {
            let mut out = Vec::new();
            req.encode(&mut out, version).unwrap();
            let mut r = Reader::new(&out);
            let back = ProduceRequest::decode(&mut r, version).unwrap();
            r.finish("end").unwrap();
            let records = back.topic_data[0].partition_data[0].records.unwrap();
            assert_eq!(records, &batch);
            // The slice points into `out`, not into a copy.
            let range = out.as_ptr_range();
            assert!(range.contains(&records.as_ptr()));
        }
    }

    #[test]
    fn tagged_fields_below_v10_are_refused() {
        let resp = ProduceResponse {
            responses: vec![TopicProduceResponse {
                name: "t".into(),
                topic_id: ZERO_UUID,
                partition_responses: vec![PartitionProduceResponse {
                    current_leader: LeaderIdAndEpoch {
                        leader_id: 2,
                        leader_epoch: 7,
                    },
                    ..Default::default()
                }],
            }],
            ..Default::default()
        };
        assert_eq!(
            resp.encode(&mut Vec::new(), 9).unwrap_err().field,
            "ProduceResponse.responses.partition_responses.current_leader"
        );
        assert!(resp.encode(&mut Vec::new(), 10).is_ok());
    }
}
