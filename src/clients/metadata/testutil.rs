//! Builders for metadata responses and a test setup, shared by the
//! metadata tests here and the producer metadata tests.

use std::sync::Arc;
use std::time::Duration;

use super::MetadataParams;
use crate::protocol::error_code::ErrorCode;
use crate::protocol::messages::metadata::{
    MetadataResponse, MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use crate::protocol::messages::Uuid;
use crate::util::clock::MockClock;

/// Deterministic settings: backoff 100 ms doubling to 1 s without jitter,
/// max age 10 s, rebootstrap after 5 s.
pub(crate) fn params() -> MetadataParams {
    MetadataParams {
        refresh_backoff: Duration::from_millis(100),
        refresh_backoff_max: Duration::from_millis(1000),
        metadata_max_age: Duration::from_secs(10),
        rebootstrap: true,
        rebootstrap_trigger: Duration::from_secs(5),
        backoff_jitter: 0.0,
    }
}

pub(crate) fn clock() -> Arc<MockClock> {
    Arc::new(MockClock::default())
}

pub(crate) fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

/// Broker `id` at `b<id>:9092` in rack `r<id>`.
pub(crate) fn broker(id: i32) -> MetadataResponseBroker {
    MetadataResponseBroker {
        node_id: id,
        host: format!("b{id}"),
        port: 9092,
        rack: Some(format!("r{id}")),
    }
}

/// A partition with a leader, an epoch and three replicas.
pub(crate) fn partition(index: i32, leader: i32, epoch: i32) -> MetadataResponsePartition {
    MetadataResponsePartition {
        partition_index: index,
        leader_id: leader,
        leader_epoch: epoch,
        replica_nodes: vec![1, 2, 3],
        isr_nodes: vec![1, 2],
        offline_replicas: vec![3],
        ..MetadataResponsePartition::default()
    }
}

/// A topic whose partition `i` is led by broker `1 + i % 3` at `epoch`.
pub(crate) fn topic(name: &str, partitions: i32, epoch: i32) -> MetadataResponseTopic {
    MetadataResponseTopic {
        name: Some(name.to_owned()),
        partitions: (0..partitions)
            .map(|i| partition(i, 1 + i % 3, epoch))
            .collect(),
        ..MetadataResponseTopic::default()
    }
}

/// A topic with an id.
pub(crate) fn topic_with_id(
    name: &str,
    partitions: i32,
    epoch: i32,
    id: Uuid,
) -> MetadataResponseTopic {
    MetadataResponseTopic {
        topic_id: id,
        ..topic(name, partitions, epoch)
    }
}

/// A topic-level error.
pub(crate) fn topic_error(name: &str, code: ErrorCode) -> MetadataResponseTopic {
    MetadataResponseTopic {
        error_code: code,
        name: Some(name.to_owned()),
        ..MetadataResponseTopic::default()
    }
}

/// Brokers 1, 2, 3 in cluster `c1` and the given topics.
pub(crate) fn response(topics: Vec<MetadataResponseTopic>) -> MetadataResponse {
    MetadataResponse {
        brokers: vec![broker(1), broker(2), broker(3)],
        cluster_id: Some("c1".to_owned()),
        controller_id: 1,
        topics,
        ..MetadataResponse::default()
    }
}
