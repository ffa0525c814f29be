//! Metadata (key 3), versions 0-13, flexible from 9: the brokers, and the
//! partitions and leaders of the topics the producer writes to.
//!
//! The producer speaks v4-13 (see [`ApiKey::client_versions`]); the codec
//! covers the whole schema so the mock broker can answer any client.
//! Topic ids appear from v10, topic names may be null from v12 (topics
//! looked up by id), the top-level error code exists from v13.

use super::{
    absent_must_be_default, check_decode_version, check_encode_version, put_i32_array, read_array,
    read_i32_array, read_nullable_array, Request, Response, Uuid, ZERO_UUID,
};
use crate::protocol::api_key::{ApiKey, VersionRange};
use crate::protocol::codec::{DecodeError, EncodeError, Reader, Writer};
use crate::protocol::error_code::ErrorCode;

type DResult<T> = Result<T, DecodeError>;

const VERSIONS: VersionRange = VersionRange::new(0, 13);
const FLEXIBLE_FROM: i16 = 9;

/// Smallest encoding of a string / array length prefix at a version.
const fn len_prefix(flexible: bool, classic: usize) -> usize {
    if flexible {
        1
    } else {
        classic
    }
}

/// One topic to look up.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MetadataRequestTopic {
    /// The topic id (v10+, ignorable); zero when looked up by name.
    pub topic_id: Uuid,
    /// The topic name; `None` (v10+ only) when looked up by id.
    pub name: Option<String>,
}

/// Metadata request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataRequest {
    /// The topics to describe; `None` (v1+) means all topics.
    pub topics: Option<Vec<MetadataRequestTopic>>,
    /// Let the broker auto-create missing topics (v4+; default true, not
    /// ignorable).
    pub allow_auto_topic_creation: bool,
    /// Ask for cluster authorized operations (v8-10 only).
    pub include_cluster_authorized_operations: bool,
    /// Ask for topic authorized operations (v8+).
    pub include_topic_authorized_operations: bool,
}

impl Default for MetadataRequest {
    fn default() -> Self {
        MetadataRequest {
            topics: Some(Vec::new()),
            allow_auto_topic_creation: true,
            include_cluster_authorized_operations: false,
            include_topic_authorized_operations: false,
        }
    }
}

impl MetadataRequest {
    /// A request for the named topics.
    #[must_use]
    pub fn topics<S: Into<String>>(
        names: impl IntoIterator<Item = S>,
        allow_auto_topic_creation: bool,
    ) -> Self {
        MetadataRequest {
            topics: Some(
                names
                    .into_iter()
                    .map(|n| MetadataRequestTopic {
                        topic_id: ZERO_UUID,
                        name: Some(n.into()),
                    })
                    .collect(),
            ),
            allow_auto_topic_creation,
            ..Default::default()
        }
    }

    /// A request for every topic in the cluster (a null topic list, v1+).
    #[must_use]
    pub fn all_topics(allow_auto_topic_creation: bool) -> Self {
        MetadataRequest {
            topics: None,
            allow_auto_topic_creation,
            ..Default::default()
        }
    }

    /// Appends the body at `version`.
    pub fn encode(&self, out: &mut Vec<u8>, version: i16) -> Result<(), EncodeError> {
        check_encode_version("MetadataRequest", VERSIONS, version)?;
        let flexible = version >= FLEXIBLE_FROM;
        match &self.topics {
            None if version < 1 => {
                return Err(EncodeError::new(
                    "MetadataRequest.topics",
                    "a null topic list (all topics) cannot be written at version 0",
                ))
            }
            None => out.put_array_len(None, flexible),
            Some(topics) => {
                out.put_array_len(Some(topics.len()), flexible);
                for t in topics {
                    if version >= 10 {
                        out.put_uuid(&t.topic_id);
                    }
                    if t.name.is_none() && version < 10 {
                        return Err(EncodeError::new(
                            "MetadataRequest.topics.name",
                            format!("a null name cannot be written at version {version}"),
                        ));
                    }
                    out.put_string_flex(
                        t.name.as_deref(),
                        flexible,
                        "MetadataRequest.topics.name",
                    )?;
                    if flexible {
                        out.put_empty_tagged_fields();
                    }
                }
            }
        }
        absent_must_be_default(
            version >= 4,
            &self.allow_auto_topic_creation,
            &true,
            "MetadataRequest.allow_auto_topic_creation",
            version,
        )?;
        if version >= 4 {
            out.put_bool(self.allow_auto_topic_creation);
        }
        let cluster_ops = (8..=10).contains(&version);
        absent_must_be_default(
            cluster_ops,
            &self.include_cluster_authorized_operations,
            &false,
            "MetadataRequest.include_cluster_authorized_operations",
            version,
        )?;
        if cluster_ops {
            out.put_bool(self.include_cluster_authorized_operations);
        }
        absent_must_be_default(
            version >= 8,
            &self.include_topic_authorized_operations,
            &false,
            "MetadataRequest.include_topic_authorized_operations",
            version,
        )?;
        if version >= 8 {
            out.put_bool(self.include_topic_authorized_operations);
        }
        if flexible {
            out.put_empty_tagged_fields();
        }
        Ok(())
    }

    /// Reads the body at `version`.
    pub fn decode(r: &mut Reader<'_>, version: i16) -> DResult<Self> {
        check_decode_version("MetadataRequest.version", VERSIONS, version)?;
        let flexible = version >= FLEXIBLE_FROM;
        let min_topic =
            len_prefix(flexible, 2) + if version >= 10 { 16 } else { 0 } + usize::from(flexible);
        let topic = |r: &mut Reader<'_>| -> DResult<MetadataRequestTopic> {
            let topic_id = if version >= 10 {
                r.uuid("MetadataRequest.topics.topic_id")?
            } else {
                ZERO_UUID
            };
            let name = if version >= 10 {
                r.nullable_string_flex(flexible, "MetadataRequest.topics.name")?
            } else {
                Some(r.string_flex(flexible, "MetadataRequest.topics.name")?)
            };
            if flexible {
                r.skip_tagged_fields("MetadataRequest.topics.tagged_fields")?;
            }
            Ok(MetadataRequestTopic { topic_id, name })
        };
        let topics = if version >= 1 {
            read_nullable_array(r, flexible, min_topic, "MetadataRequest.topics", topic)?
        } else {
            Some(read_array(
                r,
                flexible,
                min_topic,
                "MetadataRequest.topics",
                topic,
            )?)
        };
        let mut out = MetadataRequest {
            topics,
            ..Default::default()
        };
        if version >= 4 {
            out.allow_auto_topic_creation = r.bool("MetadataRequest.allow_auto_topic_creation")?;
        }
        if (8..=10).contains(&version) {
            out.include_cluster_authorized_operations =
                r.bool("MetadataRequest.include_cluster_authorized_operations")?;
        }
        if version >= 8 {
            out.include_topic_authorized_operations =
                r.bool("MetadataRequest.include_topic_authorized_operations")?;
        }
        if flexible {
            r.skip_tagged_fields("MetadataRequest.tagged_fields")?;
        }
        Ok(out)
    }
}

impl Request for MetadataRequest {
    const API_KEY: ApiKey = ApiKey::METADATA;
    const VERSIONS: VersionRange = VERSIONS;
    fn encode(&self, out: &mut Vec<u8>, version: i16) -> Result<(), EncodeError> {
        MetadataRequest::encode(self, out, version)
    }
}

/// A broker in the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MetadataResponseBroker {
    /// The broker id.
    pub node_id: i32,
    /// The broker's host name.
    pub host: String,
    /// The broker's port.
    pub port: i32,
    /// The broker's rack (v1+, ignorable; default null).
    pub rack: Option<String>,
}

/// One partition of a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataResponsePartition {
    /// The partition error, or `NONE`.
    pub error_code: ErrorCode,
    /// The partition index.
    pub partition_index: i32,
    /// The leader's broker id, -1 if none.
    pub leader_id: i32,
    /// The leader epoch (v7+, ignorable; default -1).
    pub leader_epoch: i32,
    /// All replicas.
    pub replica_nodes: Vec<i32>,
    /// The in-sync replicas.
    pub isr_nodes: Vec<i32>,
    /// The offline replicas (v5+, ignorable).
    pub offline_replicas: Vec<i32>,
}

impl Default for MetadataResponsePartition {
    fn default() -> Self {
        MetadataResponsePartition {
            error_code: ErrorCode::NONE,
            partition_index: 0,
            leader_id: 0,
            leader_epoch: -1,
            replica_nodes: Vec::new(),
            isr_nodes: Vec::new(),
            offline_replicas: Vec::new(),
        }
    }
}

/// One topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataResponseTopic {
    /// The topic error, or `NONE`.
    pub error_code: ErrorCode,
    /// The topic name; null (v12+) for an unknown topic asked for by id.
    pub name: Option<String>,
    /// The topic id (v10+, ignorable); zero for an unknown topic.
    pub topic_id: Uuid,
    /// Whether the topic is internal (v1+, ignorable).
    pub is_internal: bool,
    /// The partitions.
    pub partitions: Vec<MetadataResponsePartition>,
    /// Authorized operations bitfield (v8+; default `i32::MIN`, not
    /// ignorable).
    pub topic_authorized_operations: i32,
}

impl Default for MetadataResponseTopic {
    fn default() -> Self {
        MetadataResponseTopic {
            error_code: ErrorCode::NONE,
            name: Some(String::new()),
            topic_id: ZERO_UUID,
            is_internal: false,
            partitions: Vec::new(),
            topic_authorized_operations: i32::MIN,
        }
    }
}

/// Metadata response body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataResponse {
    /// Throttle time in ms (v3+, ignorable).
    pub throttle_time_ms: i32,
    /// The brokers.
    pub brokers: Vec<MetadataResponseBroker>,
    /// The cluster id (v2+, ignorable; default null).
    pub cluster_id: Option<String>,
    /// The controller's broker id (v1+, ignorable; default -1).
    pub controller_id: i32,
    /// The topics.
    pub topics: Vec<MetadataResponseTopic>,
    /// Cluster authorized operations (v8-10; default `i32::MIN`, not
    /// ignorable).
    pub cluster_authorized_operations: i32,
    /// The top-level error code (v13+, ignorable).
    pub error_code: ErrorCode,
}

impl Default for MetadataResponse {
    fn default() -> Self {
        MetadataResponse {
            throttle_time_ms: 0,
            brokers: Vec::new(),
            cluster_id: None,
            controller_id: -1,
            topics: Vec::new(),
            cluster_authorized_operations: i32::MIN,
            error_code: ErrorCode::NONE,
        }
    }
}

impl MetadataResponse {
    /// Reads the body at `version`.
    pub fn decode(r: &mut Reader<'_>, version: i16) -> DResult<Self> {
        check_decode_version("MetadataResponse.version", VERSIONS, version)?;
        let flexible = version >= FLEXIBLE_FROM;
        let s = len_prefix(flexible, 2);
        let a = len_prefix(flexible, 4);
        let tags = usize::from(flexible);
        let mut out = MetadataResponse::default();
        if version >= 3 {
            out.throttle_time_ms = r.i32("MetadataResponse.throttle_time_ms")?;
        }
        let min_broker = 4 + s + 4 + if version >= 1 { s } else { 0 } + tags;
        out.brokers = read_array(r, flexible, min_broker, "MetadataResponse.brokers", |r| {
            let mut b = MetadataResponseBroker {
                node_id: r.i32("MetadataResponse.brokers.node_id")?,
                host: r.string_flex(flexible, "MetadataResponse.brokers.host")?,
                port: r.i32("MetadataResponse.brokers.port")?,
                rack: None,
            };
            if version >= 1 {
                b.rack = r.nullable_string_flex(flexible, "MetadataResponse.brokers.rack")?;
            }
            if flexible {
                r.skip_tagged_fields("MetadataResponse.brokers.tagged_fields")?;
            }
            Ok(b)
        })?;
        if version >= 2 {
            out.cluster_id = r.nullable_string_flex(flexible, "MetadataResponse.cluster_id")?;
        }
        if version >= 1 {
            out.controller_id = r.i32("MetadataResponse.controller_id")?;
        }
        let min_topic = 2
            + s
            + if version >= 10 { 16 } else { 0 }
            + usize::from(version >= 1)
            + a
            + if version >= 8 { 4 } else { 0 }
            + tags;
        out.topics = read_array(r, flexible, min_topic, "MetadataResponse.topics", |r| {
            decode_topic(r, version)
        })?;
        if (8..=10).contains(&version) {
            out.cluster_authorized_operations =
                r.i32("MetadataResponse.cluster_authorized_operations")?;
        }
        if version >= 13 {
            out.error_code = ErrorCode(r.i16("MetadataResponse.error_code")?);
        }
        if flexible {
            r.skip_tagged_fields("MetadataResponse.tagged_fields")?;
        }
        Ok(out)
    }

    /// Appends the body at `version`.
    pub fn encode(&self, out: &mut Vec<u8>, version: i16) -> Result<(), EncodeError> {
        check_encode_version("MetadataResponse", VERSIONS, version)?;
        let flexible = version >= FLEXIBLE_FROM;
        if version >= 3 {
            out.put_i32(self.throttle_time_ms);
        }
        out.put_array_len(Some(self.brokers.len()), flexible);
        for b in &self.brokers {
            out.put_i32(b.node_id);
            out.put_string_flex(Some(&b.host), flexible, "MetadataResponse.brokers.host")?;
            out.put_i32(b.port);
            if version >= 1 {
                out.put_string_flex(b.rack.as_deref(), flexible, "MetadataResponse.brokers.rack")?;
            }
            if flexible {
                out.put_empty_tagged_fields();
            }
        }
        if version >= 2 {
            out.put_string_flex(
                self.cluster_id.as_deref(),
                flexible,
                "MetadataResponse.cluster_id",
            )?;
        }
        if version >= 1 {
            out.put_i32(self.controller_id);
        }
        out.put_array_len(Some(self.topics.len()), flexible);
        for t in &self.topics {
            encode_topic(t, out, version)?;
        }
        let cluster_ops = (8..=10).contains(&version);
        absent_must_be_default(
            cluster_ops,
            &self.cluster_authorized_operations,
            &i32::MIN,
            "MetadataResponse.cluster_authorized_operations",
            version,
        )?;
        if cluster_ops {
            out.put_i32(self.cluster_authorized_operations);
        }
        if version >= 13 {
            out.put_i16(self.error_code.0);
        }
        if flexible {
            out.put_empty_tagged_fields();
        }
        Ok(())
    }
}

fn decode_topic(r: &mut Reader<'_>, version: i16) -> DResult<MetadataResponseTopic> {
    let flexible = version >= FLEXIBLE_FROM;
    let a = len_prefix(flexible, 4);
    let mut t = MetadataResponseTopic {
        error_code: ErrorCode(r.i16("MetadataResponse.topics.error_code")?),
        ..Default::default()
    };
    t.name = if version >= 12 {
        r.nullable_string_flex(flexible, "MetadataResponse.topics.name")?
    } else {
        Some(r.string_flex(flexible, "MetadataResponse.topics.name")?)
    };
    if version >= 10 {
        t.topic_id = r.uuid("MetadataResponse.topics.topic_id")?;
    }
    if version >= 1 {
        t.is_internal = r.bool("MetadataResponse.topics.is_internal")?;
    }
    let min_partition = 2
        + 4
        + 4
        + if version >= 7 { 4 } else { 0 }
        + a
        + a
        + if version >= 5 { a } else { 0 }
        + usize::from(flexible);
    t.partitions = read_array(
        r,
        flexible,
        min_partition,
        "MetadataResponse.topics.partitions",
        |r| {
            let mut p = MetadataResponsePartition {
                error_code: ErrorCode(r.i16("MetadataResponse.topics.partitions.error_code")?),
                partition_index: r.i32("MetadataResponse.topics.partitions.partition_index")?,
                leader_id: r.i32("MetadataResponse.topics.partitions.leader_id")?,
                ..Default::default()
            };
            if version >= 7 {
                p.leader_epoch = r.i32("MetadataResponse.topics.partitions.leader_epoch")?;
            }
            p.replica_nodes = read_i32_array(
                r,
                flexible,
                "MetadataResponse.topics.partitions.replica_nodes",
            )?;
            p.isr_nodes =
                read_i32_array(r, flexible, "MetadataResponse.topics.partitions.isr_nodes")?;
            if version >= 5 {
                p.offline_replicas = read_i32_array(
                    r,
                    flexible,
                    "MetadataResponse.topics.partitions.offline_replicas",
                )?;
            }
            if flexible {
                r.skip_tagged_fields("MetadataResponse.topics.partitions.tagged_fields")?;
            }
            Ok(p)
        },
    )?;
    if version >= 8 {
        t.topic_authorized_operations =
            r.i32("MetadataResponse.topics.topic_authorized_operations")?;
    }
    if flexible {
        r.skip_tagged_fields("MetadataResponse.topics.tagged_fields")?;
    }
    Ok(t)
}

fn encode_topic(
    t: &MetadataResponseTopic,
    out: &mut Vec<u8>,
    version: i16,
) -> Result<(), EncodeError> {
    let flexible = version >= FLEXIBLE_FROM;
    out.put_i16(t.error_code.0);
    if t.name.is_none() && version < 12 {
        return Err(EncodeError::new(
            "MetadataResponse.topics.name",
            format!("a null name cannot be written at version {version}"),
        ));
    }
    out.put_string_flex(t.name.as_deref(), flexible, "MetadataResponse.topics.name")?;
    if version >= 10 {
        out.put_uuid(&t.topic_id);
    }
    if version >= 1 {
        out.put_bool(t.is_internal);
    }
    out.put_array_len(Some(t.partitions.len()), flexible);
    for p in &t.partitions {
        out.put_i16(p.error_code.0);
        out.put_i32(p.partition_index);
        out.put_i32(p.leader_id);
        if version >= 7 {
            out.put_i32(p.leader_epoch);
        }
        put_i32_array(out, &p.replica_nodes, flexible);
        put_i32_array(out, &p.isr_nodes, flexible);
        if version >= 5 {
            put_i32_array(out, &p.offline_replicas, flexible);
        }
        if flexible {
            out.put_empty_tagged_fields();
        }
    }
    absent_must_be_default(
        version >= 8,
        &t.topic_authorized_operations,
        &i32::MIN,
        "MetadataResponse.topics.topic_authorized_operations",
        version,
    )?;
    if version >= 8 {
        out.put_i32(t.topic_authorized_operations);
    }
    if flexible {
        out.put_empty_tagged_fields();
    }
    Ok(())
}

impl Response for MetadataResponse {
    const API_KEY: ApiKey = ApiKey::METADATA;
    const VERSIONS: VersionRange = VERSIONS;
    fn decode(r: &mut Reader<'_>, version: i16) -> DResult<Self> {
        MetadataResponse::decode(r, version)
    }
    fn encode(&self, out: &mut Vec<u8>, version: i16) -> Result<(), EncodeError> {
        MetadataResponse::encode(self, out, version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::codec::DecodeErrorKind;

    #[test]
    fn hostile_topic_count_is_rejected_before_allocating() {
        // v4 response: throttle, 0 brokers, null cluster id, controller, then
        // a topic count of 2^31-1 with 3 bytes left.
        let mut bytes = Vec::new();
        bytes.put_i32(0);
        bytes.put_i32(0);
        bytes.put_i16(-1);
        bytes.put_i32(1);
        bytes.put_i32(i32::MAX);
        bytes.extend_from_slice(&[0, 0, 0]);
        assert_eq!(
            MetadataResponse::decode(&mut Reader::new(&bytes), 4),
            Err(DecodeError::new(
                "MetadataResponse.topics",
                DecodeErrorKind::LengthExceedsInput
            ))
        );
    }

    #[test]
    fn null_names_need_the_versions_that_allow_them() {
        let req = MetadataRequest {
            topics: Some(vec![MetadataRequestTopic {
                topic_id: [1; 16],
                name: None,
            }]),
            ..Default::default()
        };
        assert_eq!(
            req.encode(&mut Vec::new(), 9).unwrap_err().field,
            "MetadataRequest.topics.name"
        );
        assert!(req.encode(&mut Vec::new(), 10).is_ok());
        let all = MetadataRequest {
            topics: None,
            ..Default::default()
        };
        assert_eq!(
            all.encode(&mut Vec::new(), 0).unwrap_err().field,
            "MetadataRequest.topics"
        );
        let no_auto = MetadataRequest {
            allow_auto_topic_creation: false,
            ..Default::default()
        };
        assert_eq!(
            no_auto.encode(&mut Vec::new(), 3).unwrap_err().field,
            "MetadataRequest.allow_auto_topic_creation"
        );
    }
}
