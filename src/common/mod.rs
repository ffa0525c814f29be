//! Plain data shared by every layer (the Java `org.apache.kafka.common`
//! package): [`TopicPartition`], [`Node`], [`PartitionInfo`] and the
//! immutable [`Cluster`] snapshot that metadata produces.

mod cluster;

pub use cluster::{Cluster, Node, PartitionInfo, TopicPartition};
