//! The metadata snapshot (Java `MetadataSnapshot`): what the last responses
//! said, kept in the raw form needed to merge later responses into it, plus
//! the immutable [`Cluster`] view built from it once per change.
//!
//! The raw form differs from the view in two ways that matter for merging:
//! a partition keeps its leader's id even when that broker is missing from
//! the broker list (the view shows it leaderless, a later response may name
//! the broker), and a leader epoch is `None` rather than -1.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::common::{Cluster, Node, PartitionInfo, TopicPartition};
use crate::protocol::error_code::ErrorCode;
use crate::protocol::messages::metadata::{MetadataResponseBroker, MetadataResponsePartition};
use crate::protocol::messages::produce::NodeEndpoint;
use crate::protocol::messages::Uuid;

/// One partition as a metadata response described it (Java
/// `MetadataResponse.PartitionMetadata`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PartitionMeta {
    /// The partition's error in the response that described it.
    pub(crate) error: ErrorCode,
    /// The leader's broker id; `None` when the response said -1.
    pub(crate) leader_id: Option<i32>,
    /// The leader epoch; `None` when unknown (-1 on the wire).
    pub(crate) leader_epoch: Option<i32>,
    /// All replicas.
    pub(crate) replicas: Vec<i32>,
    /// In-sync replicas.
    pub(crate) isr: Vec<i32>,
    /// Offline replicas.
    pub(crate) offline: Vec<i32>,
}

impl PartitionMeta {
    /// The partition as the wire has it; negative ids and epochs mean
    /// "none", as in Java.
    pub(crate) fn from_response(p: &MetadataResponsePartition) -> Self {
        PartitionMeta {
            error: p.error_code,
            leader_id: (p.leader_id >= 0).then_some(p.leader_id),
            leader_epoch: (p.leader_epoch >= 0).then_some(p.leader_epoch),
            replicas: p.replica_nodes.clone(),
            isr: p.isr_nodes.clone(),
            offline: p.offline_replicas.clone(),
        }
    }

    /// The same partition with its epoch forgotten (Java
    /// `withoutLeaderEpoch`).
    pub(crate) fn without_leader_epoch(mut self) -> Self {
        self.leader_epoch = None;
        self
    }
}

/// A broker from a metadata response, or `None` (logged) when its port is
/// not a TCP port: the bytes came from the network.
pub(crate) fn node_from_broker(b: &MetadataResponseBroker) -> Option<Node> {
    node_from_parts(b.node_id, &b.host, b.port, b.rack.as_deref())
}

/// A leader's endpoint from a produce response (KIP-951), or `None`
/// (logged) when its port is not a TCP port.
pub(crate) fn node_from_endpoint(e: &NodeEndpoint) -> Option<Node> {
    node_from_parts(e.node_id, &e.host, e.port, e.rack.as_deref())
}

fn node_from_parts(id: i32, host: &str, port: i32, rack: Option<&str>) -> Option<Node> {
    let Ok(port) = u16::try_from(port) else {
        log::warn!("Ignoring broker {id} at {host} with invalid port {port}");
        return None;
    };
    Some(Node {
        id,
        host: host.to_owned(),
        port,
        rack: rack.map(str::to_owned),
    })
}

/// The raw metadata and its [`Cluster`] view.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub(crate) cluster_id: Option<String>,
    /// Brokers in response order, one per id.
    pub(crate) nodes: Vec<Node>,
    pub(crate) partitions: HashMap<TopicPartition, PartitionMeta>,
    pub(crate) unauthorized: HashSet<String>,
    pub(crate) invalid: HashSet<String>,
    pub(crate) internal: HashSet<String>,
    pub(crate) topic_ids: HashMap<Arc<str>, Uuid>,
    /// The view, built once by the constructors.
    cluster: Arc<Cluster>,
}

impl Snapshot {
    /// Nothing known yet (Java `MetadataSnapshot.empty`).
    pub(crate) fn empty() -> Self {
        Snapshot {
            cluster_id: None,
            nodes: Vec::new(),
            partitions: HashMap::new(),
            unauthorized: HashSet::new(),
            invalid: HashSet::new(),
            internal: HashSet::new(),
            topic_ids: HashMap::new(),
            cluster: Arc::new(Cluster::default()),
        }
    }

    /// Only the bootstrap addresses, as nodes -1, -2, ... (Java
    /// `MetadataSnapshot.bootstrap`).
    pub(crate) fn bootstrap(addresses: &[(String, u16)]) -> Self {
        let cluster = Cluster::bootstrap(addresses);
        Snapshot {
            nodes: cluster.nodes().to_vec(),
            cluster: Arc::new(cluster),
            ..Snapshot::empty()
        }
    }

    /// A snapshot from its parts; builds the view.
    #[allow(clippy::too_many_arguments)] // the snapshot's fields, once each
    pub(crate) fn new(
        cluster_id: Option<String>,
        nodes: Vec<Node>,
        partitions: HashMap<TopicPartition, PartitionMeta>,
        unauthorized: HashSet<String>,
        invalid: HashSet<String>,
        internal: HashSet<String>,
        topic_ids: HashMap<Arc<str>, Uuid>,
    ) -> Self {
        let mut s = Snapshot {
            cluster_id,
            nodes,
            partitions,
            unauthorized,
            invalid,
            internal,
            topic_ids,
            cluster: Arc::new(Cluster::default()),
        };
        s.cluster = Arc::new(s.build_cluster());
        s
    }

    /// The immutable view.
    pub(crate) fn cluster(&self) -> &Arc<Cluster> {
        &self.cluster
    }

    /// A node by id.
    pub(crate) fn node(&self, id: i32) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// Java `MetadataResponse.toPartitionInfo` for every partition: a leader
    /// id that names no known broker becomes "no leader".
    fn build_cluster(&self) -> Cluster {
        let known: HashSet<i32> = self.nodes.iter().map(|n| n.id).collect();
        let partitions = self
            .partitions
            .iter()
            .map(|(tp, m)| PartitionInfo {
                tp: tp.clone(),
                leader: m.leader_id.filter(|id| known.contains(id)),
                leader_epoch: m.leader_epoch.unwrap_or(-1),
                replicas: m.replicas.clone(),
                isr: m.isr.clone(),
                offline_replicas: m.offline.clone(),
            })
            .collect();
        Cluster::new(self.cluster_id.clone(), self.nodes.clone(), partitions)
            .with_topic_ids(self.topic_ids.clone())
            .with_topic_errors(self.unauthorized.clone(), self.invalid.clone())
    }

    /// Java `MetadataSnapshot.mergeWith`: the new parts win where they
    /// overlap; what this snapshot knows about other topics stays when
    /// `retain_topic(topic, is_internal)` says so.
    #[allow(clippy::too_many_arguments)] // Java's signature, part for part
    pub(crate) fn merge_with(
        &self,
        cluster_id: Option<String>,
        nodes: Vec<Node>,
        add_partitions: Vec<(TopicPartition, PartitionMeta)>,
        add_unauthorized: HashSet<String>,
        add_invalid: HashSet<String>,
        add_internal: HashSet<String>,
        add_topic_ids: &HashMap<Arc<str>, Uuid>,
        mut retain_topic: impl FnMut(&str, bool) -> bool,
    ) -> Snapshot {
        let mut retain = |topic: &str| retain_topic(topic, self.internal.contains(topic));

        // The newest topic id wins; a topic the new parts describe without an
        // id loses its old one.
        let mut topic_ids: HashMap<Arc<str>, Uuid> = self
            .topic_ids
            .iter()
            .filter(|(t, _)| retain(t))
            .map(|(t, id)| (t.clone(), *id))
            .collect();
        let mut partitions = HashMap::with_capacity(add_partitions.len());
        for (tp, meta) in add_partitions {
            match add_topic_ids.get(tp.topic()) {
                Some(id) => {
                    topic_ids.insert(tp.topic_arc().clone(), *id);
                }
                None => {
                    topic_ids.remove(tp.topic());
                }
            }
            partitions.insert(tp, meta);
        }
        for (tp, meta) in &self.partitions {
            if !partitions.contains_key(tp) && retain(tp.topic()) {
                partitions.insert(tp.clone(), meta.clone());
            }
        }
        let mut fill = |mut base: HashSet<String>, old: &HashSet<String>| {
            for t in old {
                if !base.contains(t) && retain(t) {
                    base.insert(t.clone());
                }
            }
            base
        };
        let unauthorized = fill(add_unauthorized, &self.unauthorized);
        let invalid = fill(add_invalid, &self.invalid);
        let internal = fill(add_internal, &self.internal);
        Snapshot::new(
            cluster_id,
            nodes,
            partitions,
            unauthorized,
            invalid,
            internal,
            topic_ids,
        )
    }
}

/// Brokers of a response as nodes: invalid ports dropped, one node per id
/// (the last one wins, as Java's map by id does), response order kept.
pub(crate) fn nodes_from_brokers(brokers: &[MetadataResponseBroker]) -> Vec<Node> {
    let mut nodes: Vec<Node> = Vec::with_capacity(brokers.len());
    for node in brokers.iter().filter_map(node_from_broker) {
        match nodes.iter_mut().find(|n| n.id == node.id) {
            Some(existing) => *existing = node,
            None => nodes.push(node),
        }
    }
    nodes
}
