//! Topic-partitions, nodes, partition info and the [`Cluster`] snapshot.
//!
//! A `Cluster` is immutable: metadata builds a new one on every update and
//! publishes it behind an `Arc`, so readers (caller threads partitioning a
//! record, the sender computing ready nodes) never lock it.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

/// A topic name and a partition number.
///
/// The topic is an `Arc<str>`, so cloning is cheap on the send path.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    topic: Arc<str>,
    partition: i32,
}

impl TopicPartition {
    /// A topic-partition.
    #[must_use]
    pub fn new(topic: impl Into<Arc<str>>, partition: i32) -> Self {
        TopicPartition {
            topic: topic.into(),
            partition,
        }
    }

    /// The topic name.
    #[must_use]
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The topic name as a shared string.
    #[must_use]
    pub fn topic_arc(&self) -> &Arc<str> {
        &self.topic
    }

    /// The partition number.
    #[must_use]
    pub fn partition(&self) -> i32 {
        self.partition
    }
}

impl fmt::Display for TopicPartition {
    /// Java's form: `topic-partition`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

impl fmt::Debug for TopicPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A broker: id, host, port and optional rack.
///
/// Bootstrap nodes have negative ids (-1, -2, ...) until metadata names the
/// real brokers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Node {
    /// The broker id.
    pub id: i32,
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// The broker's rack, if it has one.
    pub rack: Option<String>,
}

impl Node {
    /// A node without a rack.
    #[must_use]
    pub fn new(id: i32, host: impl Into<String>, port: u16) -> Self {
        Node {
            id,
            host: host.into(),
            port,
            rack: None,
        }
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{} (id: {} rack: {})",
            self.host,
            self.port,
            self.id,
            self.rack.as_deref().unwrap_or("null")
        )
    }
}

/// What metadata says about one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionInfo {
    /// The topic-partition.
    pub tp: TopicPartition,
    /// The leader's broker id, `None` when there is no leader.
    pub leader: Option<i32>,
    /// The leader epoch, -1 when unknown.
    pub leader_epoch: i32,
    /// All replicas.
    pub replicas: Vec<i32>,
    /// In-sync replicas.
    pub isr: Vec<i32>,
    /// Offline replicas.
    pub offline_replicas: Vec<i32>,
}

impl PartitionInfo {
    /// A partition with a leader (or none) and no replica details.
    #[must_use]
    pub fn new(tp: TopicPartition, leader: Option<i32>) -> Self {
        PartitionInfo {
            tp,
            leader,
            leader_epoch: -1,
            replicas: Vec::new(),
            isr: Vec::new(),
            offline_replicas: Vec::new(),
        }
    }
}

/// An immutable snapshot of the cluster: brokers, partitions and leaders.
#[derive(Debug, Clone, Default)]
pub struct Cluster {
    cluster_id: Option<String>,
    nodes: Vec<Node>,
    nodes_by_id: HashMap<i32, Node>,
    partitions_by_topic: HashMap<Arc<str>, Vec<PartitionInfo>>,
    available_by_topic: HashMap<Arc<str>, Vec<i32>>,
    partitions_by_node: HashMap<i32, Vec<TopicPartition>>,
    leaders: HashMap<TopicPartition, i32>,
    topic_ids: HashMap<Arc<str>, [u8; 16]>,
    unauthorized_topics: HashSet<String>,
    invalid_topics: HashSet<String>,
    bootstrap: bool,
}

impl Cluster {
    /// A cluster from its parts. Partitions of each topic are sorted by
    /// partition number; a partition whose leader is not among `nodes` is
    /// treated as leaderless.
    #[must_use]
    pub fn new(
        cluster_id: Option<String>,
        nodes: Vec<Node>,
        partitions: Vec<PartitionInfo>,
    ) -> Self {
        let nodes_by_id: HashMap<i32, Node> = nodes.iter().map(|n| (n.id, n.clone())).collect();
        let mut partitions_by_topic: HashMap<Arc<str>, Vec<PartitionInfo>> = HashMap::new();
        for p in partitions {
            partitions_by_topic
                .entry(p.tp.topic_arc().clone())
                .or_default()
                .push(p);
        }
        let mut available_by_topic = HashMap::new();
        let mut partitions_by_node: HashMap<i32, Vec<TopicPartition>> = HashMap::new();
        let mut leaders = HashMap::new();
        for (topic, parts) in &mut partitions_by_topic {
            parts.sort_by_key(|p| p.tp.partition());
            let mut available = Vec::new();
            for p in parts.iter() {
                if let Some(leader) = p.leader.filter(|l| nodes_by_id.contains_key(l)) {
                    available.push(p.tp.partition());
                    partitions_by_node
                        .entry(leader)
                        .or_default()
                        .push(p.tp.clone());
                    leaders.insert(p.tp.clone(), leader);
                }
            }
            available_by_topic.insert(topic.clone(), available);
        }
        Cluster {
            cluster_id,
            nodes,
            nodes_by_id,
            partitions_by_topic,
            available_by_topic,
            partitions_by_node,
            leaders,
            ..Cluster::default()
        }
    }

    /// The bootstrap cluster: the configured addresses as nodes -1, -2, ...
    /// and no topics.
    #[must_use]
    pub fn bootstrap(addresses: &[(String, u16)]) -> Self {
        let nodes = addresses
            .iter()
            .zip(1..)
            .map(|((host, port), i)| Node::new(-i, host.clone(), *port))
            .collect();
        Cluster {
            bootstrap: true,
            ..Cluster::new(None, nodes, Vec::new())
        }
    }

    /// Sets the topic ids (Metadata v10+), used by Produce v13.
    #[must_use]
    pub fn with_topic_ids(mut self, ids: HashMap<Arc<str>, [u8; 16]>) -> Self {
        self.topic_ids = ids;
        self
    }

    /// Sets the topics the broker reported as unauthorized and invalid.
    #[must_use]
    pub fn with_topic_errors(
        mut self,
        unauthorized: HashSet<String>,
        invalid: HashSet<String>,
    ) -> Self {
        self.unauthorized_topics = unauthorized;
        self.invalid_topics = invalid;
        self
    }

    /// The cluster id, when known.
    #[must_use]
    pub fn cluster_id(&self) -> Option<&str> {
        self.cluster_id.as_deref()
    }

    /// Whether this is the bootstrap cluster (no metadata yet).
    #[must_use]
    pub fn is_bootstrap(&self) -> bool {
        self.bootstrap
    }

    /// All brokers.
    #[must_use]
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// A broker by id.
    #[must_use]
    pub fn node(&self, id: i32) -> Option<&Node> {
        self.nodes_by_id.get(&id)
    }

    /// The partitions of a topic sorted by number, `None` if the topic is
    /// unknown.
    #[must_use]
    pub fn partitions_for_topic(&self, topic: &str) -> Option<&[PartitionInfo]> {
        self.partitions_by_topic.get(topic).map(Vec::as_slice)
    }

    /// The partition count of a topic, `None` if the topic is unknown.
    #[must_use]
    pub fn partition_count(&self, topic: &str) -> Option<usize> {
        self.partitions_by_topic.get(topic).map(Vec::len)
    }

    /// The numbers of a topic's partitions that have a leader.
    #[must_use]
    pub fn available_partitions_for_topic(&self, topic: &str) -> &[i32] {
        self.available_by_topic
            .get(topic)
            .map_or(&[], Vec::as_slice)
    }

    /// The leader's id for a partition, `None` when unknown or leaderless.
    #[must_use]
    pub fn leader_for(&self, tp: &TopicPartition) -> Option<i32> {
        self.leaders.get(tp).copied()
    }

    /// The partitions a broker leads.
    #[must_use]
    pub fn partitions_for_node(&self, node_id: i32) -> &[TopicPartition] {
        self.partitions_by_node
            .get(&node_id)
            .map_or(&[], Vec::as_slice)
    }

    /// A topic's id (Metadata v10+), when known.
    #[must_use]
    pub fn topic_id(&self, topic: &str) -> Option<[u8; 16]> {
        self.topic_ids.get(topic).copied()
    }

    /// Topics the broker reported as unauthorized.
    #[must_use]
    pub fn unauthorized_topics(&self) -> &HashSet<String> {
        &self.unauthorized_topics
    }

    /// Topics the broker reported as invalid.
    #[must_use]
    pub fn invalid_topics(&self) -> &HashSet<String> {
        &self.invalid_topics
    }

    /// All topics with known partitions.
    pub fn topics(&self) -> impl Iterator<Item = &str> {
        self.partitions_by_topic.keys().map(|t| &**t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(t: &str, p: i32) -> TopicPartition {
        TopicPartition::new(t, p)
    }

    #[test]
    fn leaders_and_available_partitions() {
        let nodes = vec![Node::new(1, "a", 9092), Node::new(2, "b", 9092)];
        let parts = vec![
            PartitionInfo::new(tp("t", 2), Some(2)),
            PartitionInfo::new(tp("t", 0), Some(1)),
            PartitionInfo::new(tp("t", 1), None),
            PartitionInfo::new(tp("t", 3), Some(9)), // leader not among the nodes
        ];
        let c = Cluster::new(Some("c".into()), nodes, parts);
        assert_eq!(c.partition_count("t"), Some(4));
        assert_eq!(c.partitions_for_topic("t").unwrap()[0].tp, tp("t", 0));
        assert_eq!(c.available_partitions_for_topic("t"), &[0, 2]);
        assert_eq!(c.leader_for(&tp("t", 2)), Some(2));
        assert_eq!(c.leader_for(&tp("t", 1)), None);
        assert_eq!(c.leader_for(&tp("t", 3)), None);
        assert_eq!(c.partitions_for_node(1), &[tp("t", 0)]);
        assert_eq!(c.partition_count("u"), None);
    }

    #[test]
    fn bootstrap_nodes_have_negative_ids() {
        let c = Cluster::bootstrap(&[("h1".into(), 1), ("h2".into(), 2)]);
        assert!(c.is_bootstrap());
        assert_eq!(
            c.nodes().iter().map(|n| n.id).collect::<Vec<_>>(),
            vec![-1, -2]
        );
        assert_eq!(tp("orders", 3).to_string(), "orders-3");
    }
}
