//! How a metadata response becomes the next snapshot (Java
//! `Metadata.update`, `handleMetadataResponse`, `updateLatestMetadata`),
//! and the two other ways leaders change: a newer epoch seen elsewhere
//! (`updateLastSeenEpochIfNewer`) and a produce response's leader hint
//! (KIP-951, `updatePartitionLeadership`).
//!
//! Leader epochs: the last epoch seen per partition is remembered. A
//! response describing a partition with an older epoch is a stale broker
//! talking; its entry is ignored and the cached one kept (Java does not
//! request another update for it). A partition without an epoch (old
//! brokers, errors) is taken as is and its remembered epoch forgotten.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use super::snapshot::{node_from_endpoint, nodes_from_brokers, PartitionMeta, Snapshot};
use super::{Core, Metadata, TopicPolicy};
use crate::common::{Node, TopicPartition};
use crate::protocol::error_code::ErrorCode;
use crate::protocol::messages::metadata::MetadataResponse;
use crate::protocol::messages::produce::{LeaderIdAndEpoch, NodeEndpoint};
use crate::protocol::messages::{Uuid, ZERO_UUID};

/// A partition's leader as metadata knows it (Java
/// `Metadata.LeaderAndEpoch`): either part may be unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LeaderAndEpoch {
    /// The leader, when known and among the brokers.
    pub(crate) leader: Option<Node>,
    /// The leader epoch, when known.
    pub(crate) epoch: Option<i32>,
}

impl Core {
    /// Java `Metadata.update` after the checks: versions, refresh times,
    /// the new snapshot, the recorded topic errors, and forgetting the
    /// epochs of topics no longer wanted.
    pub(super) fn apply_response<P: TopicPolicy>(
        &mut self,
        policy: &mut P,
        request_version: u64,
        response: &MetadataResponse,
        is_partial_update: bool,
        now: Instant,
    ) {
        self.need_partial_update = request_version < self.request_version;
        self.last_refresh = Some(now);
        self.attempts = 0;
        self.update_version += 1;
        if !is_partial_update {
            self.need_full_update = false;
            self.last_successful_refresh = Some(now);
        }
        // Reset by `update_latest_metadata` if anything changed.
        self.equivalent_response_count += 1;

        let previous_cluster_id = self.snapshot.cluster_id.clone();
        self.snapshot = self.snapshot_from_response(policy, response, is_partial_update, now);

        self.invalid_topics = self.snapshot.invalid.clone();
        self.unauthorized_topics = self.snapshot.unauthorized.clone();
        if !self.invalid_topics.is_empty() {
            log::error!(
                "Metadata response reported invalid topics {:?}",
                self.invalid_topics
            );
        }
        if !self.unauthorized_topics.is_empty() {
            log::error!(
                "Topic authorization failed for topics {:?}",
                self.unauthorized_topics
            );
        }
        self.last_seen_leader_epochs
            .retain(|tp, _| policy.retain_topic(tp.topic(), false, now));

        if previous_cluster_id != self.snapshot.cluster_id {
            log::info!("Cluster ID: {:?}", self.snapshot.cluster_id);
        }
        log::debug!(
            "Updated cluster metadata updateVersion {} to {:?}",
            self.update_version,
            self.snapshot.cluster()
        );
    }

    /// Java `handleMetadataResponse`.
    fn snapshot_from_response<P: TopicPolicy>(
        &mut self,
        policy: &mut P,
        response: &MetadataResponse,
        is_partial_update: bool,
        now: Instant,
    ) -> Snapshot {
        // Every topic the response describes, kept or not.
        let mut seen: HashSet<&str> = HashSet::new();
        let mut internal = HashSet::new();
        let mut unauthorized = HashSet::new();
        let mut invalid = HashSet::new();
        let mut partitions = Vec::new();
        let mut topic_ids: HashMap<Arc<str>, Uuid> = HashMap::new();

        for topic in &response.topics {
            // A null name answers a lookup by id, which this client never
            // makes.
            let Some(name) = topic.name.as_deref() else {
                continue;
            };
            seen.insert(name);
            let topic_id = (topic.topic_id != ZERO_UUID).then_some(topic.topic_id);
            // Ids can only be compared when the new one is valid.
            let old_topic_id = topic_id.and_then(|_| self.snapshot.topic_ids.get(name).copied());

            if !policy.retain_topic(name, topic.is_internal, now) {
                continue;
            }
            let name_arc: Arc<str> = Arc::from(name);
            if let Some(id) = topic_id {
                topic_ids.insert(Arc::clone(&name_arc), id);
            }
            if topic.is_internal {
                internal.insert(name.to_owned());
            }

            if topic.error_code.is_ok() {
                for p in &topic.partitions {
                    let tp = TopicPartition::new(Arc::clone(&name_arc), p.partition_index);
                    // A partition error still carries an epoch worth
                    // tracking.
                    let meta = PartitionMeta::from_response(p);
                    if let Some(m) = self.update_latest_metadata(&tp, meta, topic_id, old_topic_id)
                    {
                        partitions.push((tp.clone(), m));
                    }
                    if p.error_code.is_invalid_metadata() {
                        log::debug!(
                            "Requesting metadata update for partition {tp} due to error {}",
                            p.error_code
                        );
                        self.request_update(false);
                    }
                }
            } else {
                if topic.error_code.is_invalid_metadata() {
                    log::debug!(
                        "Requesting metadata update for topic {name} due to error {}",
                        topic.error_code
                    );
                    self.request_update(false);
                }
                if topic.error_code == ErrorCode::INVALID_TOPIC_EXCEPTION {
                    invalid.insert(name.to_owned());
                } else if topic.error_code == ErrorCode::TOPIC_AUTHORIZATION_FAILED {
                    unauthorized.insert(name.to_owned());
                }
            }
        }

        let nodes = nodes_from_brokers(&response.brokers);
        let cluster_id = response.cluster_id.clone();
        if is_partial_update {
            self.snapshot.merge_with(
                cluster_id,
                nodes,
                partitions,
                unauthorized,
                invalid,
                internal,
                &topic_ids,
                |topic, is_internal| {
                    !seen.contains(topic) && policy.retain_topic(topic, is_internal, now)
                },
            )
        } else {
            Snapshot::new(
                cluster_id,
                nodes,
                partitions.into_iter().collect(),
                unauthorized,
                invalid,
                internal,
                topic_ids,
            )
        }
    }

    /// Java `updateLatestMetadata`: which entry to keep for a partition,
    /// given the leader epochs seen and whether the topic id changed.
    fn update_latest_metadata(
        &mut self,
        tp: &TopicPartition,
        meta: PartitionMeta,
        topic_id: Option<Uuid>,
        old_topic_id: Option<Uuid>,
    ) -> Option<PartitionMeta> {
        let Some(new_epoch) = meta.leader_epoch else {
            // Old brokers, or an error without leader and epoch.
            self.last_seen_leader_epochs.remove(tp);
            self.equivalent_response_count = 0;
            return Some(meta.without_leader_epoch());
        };
        match self.last_seen_leader_epochs.get(tp).copied() {
            None => {
                log::debug!(
                    "Setting the last seen epoch of partition {tp} to {new_epoch} since the last known epoch was undefined."
                );
                self.last_seen_leader_epochs.insert(tp.clone(), new_epoch);
                self.equivalent_response_count = 0;
                Some(meta)
            }
            // The topic was deleted and re-created: its epochs start over.
            Some(_) if topic_id.is_some() && topic_id != old_topic_id => {
                log::info!(
                    "Resetting the last seen epoch of partition {tp} to {new_epoch} since the associated topicId changed"
                );
                self.last_seen_leader_epochs.insert(tp.clone(), new_epoch);
                self.equivalent_response_count = 0;
                Some(meta)
            }
            Some(current) if new_epoch >= current => {
                self.last_seen_leader_epochs.insert(tp.clone(), new_epoch);
                if new_epoch > current {
                    self.equivalent_response_count = 0;
                }
                Some(meta)
            }
            Some(current) => {
                log::debug!(
                    "Got metadata for an older epoch {new_epoch} (current is {current}) for partition {tp}, not updating"
                );
                self.snapshot.partitions.get(tp).cloned()
            }
        }
    }

    /// Java `currentLeader`: the cached leader, unless a newer epoch was
    /// seen since the cache was filled (then only that epoch is known).
    fn current_leader(&self, tp: &TopicPartition) -> LeaderAndEpoch {
        let last_seen = self.last_seen_leader_epochs.get(tp).copied();
        let cached = self
            .snapshot
            .partitions
            .get(tp)
            .filter(|m| last_seen.is_none() || m.leader_epoch == last_seen);
        match cached {
            None => LeaderAndEpoch {
                leader: None,
                epoch: last_seen,
            },
            Some(m) => LeaderAndEpoch {
                leader: m.leader_id.and_then(|id| self.snapshot.node(id)).cloned(),
                epoch: m.leader_epoch,
            },
        }
    }
}

impl<P: TopicPolicy> Metadata<P> {
    /// Remembers a newer leader epoch seen in some other response; when it
    /// is newer than the one known, a full update is requested (Java
    /// `updateLastSeenEpochIfNewer`). Returns whether it was newer. An
    /// epoch for a partition without one is not recorded.
    pub(crate) fn update_last_seen_epoch_if_newer(&self, tp: &TopicPartition, epoch: i32) -> bool {
        if epoch < 0 {
            log::debug!("Ignoring invalid leader epoch {epoch} for partition {tp}");
            return false;
        }
        let mut st = self.state.lock();
        let core = &mut st.core;
        let updated = match core.last_seen_leader_epochs.get(tp) {
            Some(old) if epoch > *old => {
                log::debug!("Updating last seen epoch from {old} to {epoch} for partition {tp}");
                core.last_seen_leader_epochs.insert(tp.clone(), epoch);
                true
            }
            _ => false,
        };
        core.need_full_update |= updated;
        updated
    }

    /// The last leader epoch seen for a partition.
    pub(crate) fn last_seen_leader_epoch(&self, tp: &TopicPartition) -> Option<i32> {
        self.state
            .lock()
            .core
            .last_seen_leader_epochs
            .get(tp)
            .copied()
    }

    /// The partition's leader and epoch as far as metadata knows.
    pub(crate) fn current_leader(&self, tp: &TopicPartition) -> LeaderAndEpoch {
        self.state.lock().core.current_leader(tp)
    }

    /// KIP-951: applies the leader hints of a produce response
    /// (`current_leader` per partition plus the leaders' `node_endpoints`)
    /// without a metadata round trip. A hint is used only if it is
    /// complete, its epoch is newer than the one known, its leader's
    /// endpoint is known, and the partition is cached. Returns the
    /// partitions whose leader changed. The update version does not move.
    pub(crate) fn update_partition_leadership(
        &self,
        leaders: &[(TopicPartition, LeaderIdAndEpoch)],
        endpoints: &[NodeEndpoint],
    ) -> HashSet<TopicPartition> {
        let mut st = self.state.lock();
        let core = &mut st.core;

        // The hinted endpoints win over the known brokers with the same id.
        let mut nodes: Vec<Node> = core.snapshot.nodes.clone();
        for node in endpoints.iter().filter_map(node_from_endpoint) {
            match nodes.iter_mut().find(|n| n.id == node.id) {
                Some(existing) => *existing = node,
                None => nodes.push(node),
            }
        }

        let mut updated = Vec::new();
        for (tp, hint) in leaders {
            if hint.leader_id < 0 || hint.leader_epoch < 0 {
                log::debug!("For {tp}, incoming leader information is incomplete {hint:?}");
                continue;
            }
            let current = core.current_leader(tp);
            if current.epoch.is_some_and(|e| hint.leader_epoch <= e) {
                log::debug!(
                    "For {tp}, incoming leader({hint:?}) is not-newer than the one in the existing metadata {current:?}, so ignoring."
                );
                continue;
            }
            if !nodes.iter().any(|n| n.id == hint.leader_id) {
                log::debug!(
                    "For {tp}, incoming leader({hint:?}), the corresponding node information for node-id {} is missing, so ignoring.",
                    hint.leader_id
                );
                continue;
            }
            let Some(existing) = core.snapshot.partitions.get(tp) else {
                log::debug!(
                    "For {tp}, incoming leader({hint:?}), partition metadata is no longer cached, ignoring."
                );
                continue;
            };
            let meta = PartitionMeta {
                leader_id: Some(hint.leader_id),
                leader_epoch: Some(hint.leader_epoch),
                ..existing.clone()
            };
            core.last_seen_leader_epochs
                .insert(tp.clone(), hint.leader_epoch);
            updated.push((tp.clone(), meta));
        }
        if updated.is_empty() {
            log::debug!("No relevant metadata updates.");
            return HashSet::new();
        }

        let changed: HashSet<TopicPartition> = updated.iter().map(|(tp, _)| tp.clone()).collect();
        let topic_ids: HashMap<Arc<str>, Uuid> = updated
            .iter()
            .filter_map(|(tp, _)| {
                core.snapshot
                    .topic_ids
                    .get(tp.topic())
                    .map(|id| (Arc::clone(tp.topic_arc()), *id))
            })
            .collect();
        core.snapshot = core.snapshot.merge_with(
            core.snapshot.cluster_id.clone(),
            nodes,
            updated,
            HashSet::new(),
            HashSet::new(),
            HashSet::new(),
            &topic_ids,
            |_, _| true,
        );
        self.publish(&st.core);
        changed
    }
}
