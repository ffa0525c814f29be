//! The network thread's questions: which nodes have something to send
//! ([`RecordAccumulator::ready`]) and which batches go in the next request
//! to each ([`RecordAccumulator::drain`]), with Java 4.3's rules.
//!
//! A partition is ready when its first batch is not backing off and any of:
//! it is full (or not the only batch), it waited `linger.ms`, some thread is
//! blocked on buffer memory, the accumulator is closed, a flush is waiting,
//! or a transaction is completing. `ready` also feeds each topic's
//! partitioner with the queue sizes of the partitions that have a leader
//! (adaptive partitioning), leaving out those whose leader could not be
//! drained for longer than `partitioner.availability.timeout.ms`.
//!
//! `drain` takes at most one batch per partition per call, starting at a
//! per-node index that rotates so no partition starves, until the request
//! would exceed `max.request.size` (the first batch is always taken). It
//! assigns producer id and sequence to batches that have none (idempotence)
//! and builds each batch's bytes.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{Cluster, PartitionInfo, TopicPartition};
use crate::producer::internals::producer_batch::ProducerBatch;
use crate::record::NO_SEQUENCE;

use super::{leader_epoch, partition_info, Deque, NodeLatencyStats, RecordAccumulator, TopicInfo};

/// What [`RecordAccumulator::ready`] found (Java `ReadyCheckResult`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReadyCheckResult {
    /// Ids of the nodes leading at least one ready partition.
    pub(crate) ready_nodes: HashSet<i32>,
    /// When a partition that is not ready yet may become ready;
    /// `Duration::MAX` when none is waiting.
    pub(crate) next_ready_check_delay: Duration,
    /// Topics with queued data for a partition without a known leader.
    pub(crate) unknown_leader_topics: HashSet<Arc<str>>,
}

/// What `ready` looked at in one partition's first batch.
pub(super) struct HeadState {
    pub(super) waited: Duration,
    pub(super) backing_off: bool,
    pub(super) attempts: u32,
    pub(super) deque_size: usize,
    pub(super) full: bool,
}

/// What `drain` does with one partition.
// A transient return value, moved once; boxing would allocate per batch.
#[allow(clippy::large_enum_variant)]
enum DrainStep {
    /// Nothing to take here; go on with the next partition.
    Skip,
    /// This node is done for this call.
    Stop,
    /// Take this batch.
    Take(ProducerBatch),
}

/// The topic `drain` is in: its accumulator state (`None` if nothing was
/// ever appended to it) and its partitions' metadata.
struct TopicScan<'c> {
    name: &'c Arc<str>,
    info: Option<Arc<TopicInfo>>,
    parts: &'c [PartitionInfo],
}

impl TopicScan<'_> {
    /// Whether `tp` is of this topic.
    fn is(&self, tp: &TopicPartition) -> bool {
        Arc::ptr_eq(self.name, tp.topic_arc()) || **self.name == *tp.topic()
    }
}

impl RecordAccumulator {
    /// The nodes with sendable data, the delay until the next partition may
    /// become sendable, and the topics whose leaders are unknown (Java
    /// `ready`).
    pub(crate) fn ready(&self, cluster: &Cluster, now: Instant) -> ReadyCheckResult {
        let mut result = ReadyCheckResult {
            ready_nodes: HashSet::new(),
            next_ready_check_delay: Duration::MAX,
            unknown_leader_topics: HashSet::new(),
        };
        let muted = self.muted.lock();
        let node_stats = self.node_stats.lock();
        let mut scratch = self.ready_scratch.lock();
        let topics = self.topics.read();
        // Topic by topic, so each topic's queue sizes can feed its
        // partitioner.
        for info in topics.values() {
            self.partition_ready(
                cluster,
                now,
                info,
                &muted,
                &node_stats,
                &mut scratch,
                &mut result,
            );
        }
        result
    }

    /// Java `partitionReady`: one topic's partitions. `scratch` holds the
    /// queue sizes and partition ids between calls (no allocation per
    /// call once grown).
    #[allow(clippy::too_many_arguments)]
    fn partition_ready(
        &self,
        cluster: &Cluster,
        now: Instant,
        info: &TopicInfo,
        muted: &HashSet<TopicPartition>,
        node_stats: &HashMap<i32, NodeLatencyStats>,
        scratch: &mut (Vec<i32>, Vec<i32>),
        result: &mut ReadyCheckResult,
    ) {
        let batches = info.batches.read();
        // One lookup of the topic's metadata; its partitions are then found
        // by number.
        let parts = cluster.partitions_for_topic(&info.topic);
        // Adaptive partitioning starts only once every partition of the
        // topic has a deque: a partition without one would never be picked.
        let adaptive = self.config.enable_adaptive_partitioning
            && batches.len() >= parts.map_or(0, <[_]>::len);
        let parts = parts.unwrap_or(&[]);
        let (queue_sizes, partition_ids) = scratch;
        queue_sizes.clear();
        partition_ids.clear();
        if adaptive {
            queue_sizes.resize(batches.len(), 0);
            partition_ids.resize(batches.len(), 0);
        }
        // Number of entries filled in `queue_sizes` (Java's index + 1).
        let mut available = 0usize;
        let exhausted = self.pool.queued() > 0;
        let timeout = self.config.partition_availability_timeout;
        // The last leader checked against the cluster's nodes and whether
        // it is one: partitions mostly share a few leaders.
        let mut last_leader: Option<(i32, bool)> = None;

        for (partition, dq) in batches.iter() {
            // An empty deque matters only to adaptive partitioning (its
            // queue size, 0, counts when it has a leader): without it, skip
            // it unlocked (a stale hint is harmless, see `Deque`).
            if !adaptive && dq.looks_empty() {
                continue;
            }
            let metadata = partition_info(parts, partition);
            // Java's `leaderFor`: a leader the cluster does not list counts
            // as none.
            let leader = metadata.and_then(|p| p.leader).filter(|&l| {
                let known = match last_leader {
                    Some((id, known)) if id == l => known,
                    _ => cluster.node(l).is_some(),
                };
                last_leader = Some((l, known));
                known
            });
            if leader.is_some() && adaptive {
                partition_ids[available] = partition;
                queue_sizes[available] = 0;
                available += 1;
            }
            if dq.looks_empty() {
                continue;
            }
            let epoch = metadata.and_then(leader_epoch);
            // Only the minimum under the lock: appending threads wait on it.
            let head = {
                let mut dq = dq.lock();
                let deque_size = dq.len();
                let Some(batch) = dq.front_mut() else {
                    continue;
                };
                let waited = batch.waited_time(now);
                batch.maybe_update_leader_epoch(epoch);
                HeadState {
                    waited,
                    backing_off: self.should_backoff(
                        batch.has_leader_changed_for_the_ongoing_retry(),
                        batch,
                        waited,
                    ),
                    attempts: batch.attempts(),
                    deque_size,
                    full: deque_size > 1 || batch.is_full(),
                }
            };
            let Some(leader) = leader else {
                // Data waits for a partition without a leader. Deques are
                // not removed when they empty, so only non-empty ones count.
                result.unknown_leader_topics.insert(info.topic.clone());
                continue;
            };
            if adaptive {
                queue_sizes[available - 1] = i32::try_from(head.deque_size).unwrap_or(i32::MAX);
            }
            if !timeout.is_zero() {
                if let Some(stats) = node_stats.get(&leader) {
                    // The leader had data ready but could not take it for
                    // too long: leave the partition out of the stats so
                    // the partitioner avoids it.
                    if stats.ready_time.saturating_duration_since(stats.drain_time) > timeout {
                        available -= usize::from(adaptive);
                    }
                }
            }
            let tp = TopicPartition::new(info.topic.clone(), partition);
            self.batch_ready(exhausted, &tp, leader, &head, muted, result);
        }
        info.partitioner.update_partition_load_stats(
            adaptive.then_some(queue_sizes.as_slice()),
            partition_ids,
            available,
        );
    }

    /// Java `batchReady`: adds the leader when the partition is sendable,
    /// else shortens the next check delay to when it may become so.
    pub(super) fn batch_ready(
        &self,
        exhausted: bool,
        tp: &TopicPartition,
        leader: i32,
        head: &HeadState,
        muted: &HashSet<TopicPartition>,
        result: &mut ReadyCheckResult,
    ) {
        // A node already ready needs no more checks; its other partitions
        // do not shorten the delay.
        if result.ready_nodes.contains(&leader)
            || muted.contains(tp)
            || self.in_flight_to_other_node(tp, leader)
        {
            // A partition in flight to its old leader waits for that
            // request's end, which wakes the sender.
            return;
        }
        let time_to_wait = if head.backing_off {
            self.retry_backoff.backoff(head.attempts.saturating_sub(1))
        } else {
            self.config.linger
        };
        let expired = head.waited >= time_to_wait;
        let transaction_completing = self
            .transaction_manager
            .as_ref()
            .is_some_and(|tm| tm.is_completing());
        let sendable = head.full
            || expired
            || exhausted
            || self.is_closed()
            || self.flush_in_progress()
            || transaction_completing;
        if sendable && !head.backing_off {
            result.ready_nodes.insert(leader);
        } else {
            // Conservative: an unsendable partition's leader may turn out
            // ready through another partition; we then wake up early and
            // sleep again.
            let left = time_to_wait.saturating_sub(head.waited);
            result.next_ready_check_delay = result.next_ready_check_delay.min(left);
        }
    }

    /// Java `shouldBackoff`: a retried batch waits its backoff, unless its
    /// partition has a new leader since the failed attempt.
    fn should_backoff(
        &self,
        has_leader_changed: bool,
        batch: &ProducerBatch,
        waited: Duration,
    ) -> bool {
        let should_wait_more =
            batch.attempts() > 0 && waited < self.retry_backoff.backoff(batch.attempts() - 1);
        let backoff = !has_leader_changed && should_wait_more;
        if has_leader_changed && should_wait_more {
            log::debug!(
                "For {:?}, leader has changed, hence skipping backoff.",
                batch
            );
        }
        backoff
    }

    /// Takes the batches to send to each of `nodes`, at most `max_size`
    /// bytes per node (Java `drain`).
    pub(crate) fn drain(
        &self,
        cluster: &Cluster,
        nodes: &HashSet<i32>,
        max_size: usize,
        now: Instant,
    ) -> HashMap<i32, Vec<ProducerBatch>> {
        let mut out = HashMap::with_capacity(nodes.len());
        if nodes.is_empty() {
            return out;
        }
        // Held for the whole drain: only the network thread touches it.
        let muted = self.muted.lock();
        for &node in nodes {
            out.insert(
                node,
                self.drain_batches_for_one_node(cluster, node, max_size, now, &muted),
            );
        }
        out
    }

    fn drain_batches_for_one_node(
        &self,
        cluster: &Cluster,
        node: i32,
        max_size: usize,
        now: Instant,
        muted: &HashSet<TopicPartition>,
    ) -> Vec<ProducerBatch> {
        let parts = cluster.partitions_for_node(node);
        let mut ready = Vec::new();
        if parts.is_empty() {
            return ready;
        }
        let mut size = 0usize;
        let mut indexes = self.drain_index.lock();
        // Each node keeps its own start index, so a partition that did not
        // fit last time comes first next time.
        let mut drain_index = indexes.get(&node).copied().unwrap_or(0) % parts.len();
        let start = drain_index;
        // The topic of the partition visited before: a node's partitions
        // are listed topic by topic, so most steps reuse it.
        let mut topic: Option<TopicScan<'_>> = None;
        loop {
            let tp = &parts[drain_index];
            // Java stores the index at every step; the last one stored is
            // the partition visited last, which is what is kept below.
            let visited = drain_index;
            drain_index = (drain_index + 1) % parts.len();
            if topic.as_ref().is_none_or(|t| !t.is(tp)) {
                topic = None;
            }
            let scan = topic.get_or_insert_with(|| TopicScan {
                name: tp.topic_arc(),
                info: self.topic_info(tp.topic()),
                parts: cluster.partitions_for_topic(tp.topic()).unwrap_or(&[]),
            });
            // Partitions without a batch are skipped without a lock or a
            // reference count change (a stale hint is harmless: `Deque`).
            let step = match scan
                .info
                .as_ref()
                .and_then(|info| info.nonempty_deque(tp.partition()))
            {
                None => DrainStep::Skip,
                Some(dq) => self.drain_step(
                    &dq,
                    scan.parts,
                    node,
                    tp,
                    size,
                    ready.is_empty(),
                    max_size,
                    now,
                    muted,
                ),
            };
            match step {
                DrainStep::Skip => {}
                DrainStep::Stop => {
                    indexes.insert(node, visited);
                    break;
                }
                DrainStep::Take(mut batch) => {
                    // Building the bytes is the expensive part; done outside
                    // the deque lock.
                    match batch.close() {
                        Ok(ratio) => {
                            if let (Some(ratio), Some(info)) = (ratio, &scan.info) {
                                info.compression_ratio
                                    .update_estimation(batch.compression_type(), ratio);
                            }
                            size += batch.records().len();
                            batch.drained(now);
                            ready.push(batch);
                        }
                        Err(e) => {
                            log::error!("failed to build the batch for {}: {}", tp, e);
                            batch.complete_exceptionally(e, None);
                            self.deallocate(batch);
                        }
                    }
                }
            }
            if drain_index == start {
                indexes.insert(node, visited);
                break;
            }
        }
        ready
    }

    /// One partition of `drain_batches_for_one_node`, whose deque is `dq`
    /// and whose topic's partitions are `parts`.
    #[allow(clippy::too_many_arguments)]
    fn drain_step(
        &self,
        dq: &Deque,
        parts: &[PartitionInfo],
        node: i32,
        tp: &TopicPartition,
        size: usize,
        nothing_taken: bool,
        max_size: usize,
        now: Instant,
        muted: &HashSet<TopicPartition>,
    ) -> DrainStep {
        // Only partitions without an in-flight batch (when ordering is
        // guaranteed) are drained.
        if muted.contains(tp) || self.in_flight_to_other_node(tp, node) {
            return DrainStep::Skip;
        }
        let epoch = partition_info(parts, tp.partition()).and_then(leader_epoch);
        let mut dq = dq.lock();
        let Some(first) = dq.front_mut() else {
            return DrainStep::Skip;
        };
        first.maybe_update_leader_epoch(epoch);
        let waited = first.waited_time(now);
        if self.should_backoff(
            first.has_leader_changed_for_the_ongoing_retry(),
            first,
            waited,
        ) {
            return DrainStep::Skip;
        }
        if size + first.estimated_size_in_bytes() > max_size && !nothing_taken {
            // A single batch may exceed the request size (compression
            // estimates); it is still sent, alone, in a later request.
            return DrainStep::Stop;
        }
        if self.should_stop_drain_batches_for_partition(first, tp) {
            return DrainStep::Stop;
        }
        let Some(mut batch) = dq.pop_front() else {
            return DrainStep::Skip;
        };
        if let Err(e) = self.maybe_assign_sequence(&mut batch, tp) {
            log::error!("cannot assign a sequence to the batch for {}: {}", tp, e);
            drop(dq);
            batch.complete_exceptionally(e, None);
            self.deallocate(batch);
            return DrainStep::Skip;
        }
        DrainStep::Take(batch)
    }

    /// With idempotence, a batch drained for the first time gets the
    /// producer id, epoch and the partition's next sequence. A batch that
    /// already has a sequence keeps it: the earlier attempt may have been
    /// written, and a new sequence would then duplicate it.
    fn maybe_assign_sequence(
        &self,
        batch: &mut ProducerBatch,
        tp: &TopicPartition,
    ) -> Result<(), crate::error::Error> {
        let Some(tm) = &self.transaction_manager else {
            return Ok(());
        };
        if batch.has_sequence() {
            return Ok(());
        }
        let producer = tm.producer_id_and_epoch();
        // Restart the partition's sequences if its in-flight batches (none
        // left, checked by should_stop...) were for an older id or epoch.
        tm.maybe_update_producer_id_and_epoch(tp);
        batch.set_producer_state(producer, tm.sequence_number(tp), tm.is_transactional())?;
        tm.increment_sequence_number(tp, batch.record_count());
        log::debug!(
            "Assigned producerId {} and producerEpoch {} to batch with base sequence {} being sent to partition {}",
            producer.producer_id,
            producer.epoch,
            batch.base_sequence(),
            tp
        );
        tm.add_in_flight_batch(batch)
    }

    /// With idempotence, whether `tp` has a produce request in flight to
    /// a node other than `node` (its old leader): its batches go to one
    /// node at a time, so that a resend of a batch whose answer was lost
    /// stays within the broker's five-batch duplicate window (see
    /// `transaction_manager::request_nodes`). Not in Java.
    fn in_flight_to_other_node(&self, tp: &TopicPartition, node: i32) -> bool {
        self.transaction_manager
            .as_ref()
            .is_some_and(|tm| tm.has_requests_in_flight_to_other_node(tp, node))
    }

    /// Java `shouldStopDrainBatchesForPartition`: with idempotence, stop
    /// draining this node at a partition that cannot send now.
    fn should_stop_drain_batches_for_partition(
        &self,
        first: &ProducerBatch,
        tp: &TopicPartition,
    ) -> bool {
        let Some(tm) = &self.transaction_manager else {
            return false;
        };
        if !tm.is_send_to_partition_allowed(tp) {
            return true;
        }
        if !tm.producer_id_and_epoch().is_valid() {
            // Nothing can be sent until a producer id is assigned.
            return true;
        }
        if !first.has_sequence() {
            if tm.has_inflight_batches(tp) && tm.has_stale_producer_id_and_epoch(tp) {
                // A new batch with sequence 0 under a new epoch must not
                // overtake the older epoch's batches still in flight.
                return true;
            }
            if tm.has_unresolved_sequence(tp) {
                // Earlier batches' fate is unknown (expired after being
                // sent): wait until it is resolved.
                return true;
            }
            if tm.has_retried_batches(tp) {
                // Not in Java: a batch is being retried, which the broker
                // must still be able to recognise as a duplicate.
                return true;
            }
        }
        // A retried batch (it has a sequence) goes only when it is the
        // first in flight: retries are sent one at a time, in order.
        let first_in_flight = tm.first_in_flight_sequence(tp);
        first_in_flight != NO_SEQUENCE
            && first.has_sequence()
            && first.base_sequence() != first_in_flight
    }

    /// Batches queued per partition, for tests.
    #[cfg(test)]
    pub(crate) fn queued_batches(&self, tp: &TopicPartition) -> usize {
        self.deque(tp).map_or(0, |dq| dq.lock().len())
    }

    /// Runs `f` on a partition's deque, for tests.
    #[cfg(test)]
    pub(crate) fn with_deque<R>(
        &self,
        tp: &TopicPartition,
        f: impl FnOnce(&mut std::collections::VecDeque<ProducerBatch>) -> R,
    ) -> Option<R> {
        self.deque(tp).map(|dq| f(&mut dq.lock()))
    }
}
