//! Idempotent-producer state (the idempotent part of Java's
//! `TransactionManager`, `TxnPartitionMap` and `TxnPartitionEntry`, Kafka
//! 4.3): the producer id and epoch, per partition the next sequence, the
//! in-flight batches ordered by sequence, the last acknowledged sequence
//! and offset, the unresolved partitions, and the error state.
//!
//! ```text
//!  no producer id ──InitProducerId──▶ ready ──fatal error (fenced, cluster auth,
//!       ▲                              │      unsupported version)──▶ fatal: nothing sent,
//!       │ epoch exhausted              │                              every send fails
//!       └──────────────────────────────┤
//!        gap in the sequences (OUT_OF_ORDER_SEQUENCE_NUMBER, UNKNOWN_PRODUCER_ID,
//!        a batch failed for good, unresolved sequences that stayed so):
//!        request_idempotent_epoch_bump_for_partition(tp)
//!          ▼  next Sender iteration
//!        bump_idempotent_epoch_and_reset_id_if_needed: epoch + 1 (locally, KIP-360),
//!        sequences of the partitions that asked restart at 0: their in-flight
//!        batches are re-sequenced (SequenceRewrite, applied by the sender)
//! ```
//!
//! Java mutates the in-flight `ProducerBatch` objects it keeps. Here the
//! sender owns drained batches, so in-flight batches are tracked by
//! (producer id, epoch, base sequence) and record count, and every
//! re-sequencing returns the list of [`SequenceRewrite`]s for the sender to
//! apply to the batches it holds (in requests or back in the accumulator).
//!
//! Transactions (the state machine, `AddPartitionsToTxn`, commit / abort)
//! are not built yet. The type is internally synchronized and shared as
//! `Arc` between caller threads and the network thread, as Java's
//! synchronized methods are.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::common::TopicPartition;
use crate::error::Error;
use crate::producer::internals::producer_batch::ProducerBatch;
use crate::protocol::error_code::ErrorCode;
use crate::record::{increment_sequence, NO_PRODUCER_EPOCH, NO_PRODUCER_ID, NO_SEQUENCE};

/// A producer id and epoch (Java `ProducerIdAndEpoch`); `NONE` (-1/-1)
/// until `InitProducerId` assigns one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct ProducerIdAndEpoch {
    pub(crate) producer_id: i64,
    pub(crate) epoch: i16,
}

impl ProducerIdAndEpoch {
    /// No producer id yet.
    pub(crate) const NONE: ProducerIdAndEpoch = ProducerIdAndEpoch {
        producer_id: NO_PRODUCER_ID,
        epoch: NO_PRODUCER_EPOCH,
    };

    pub(crate) fn new(producer_id: i64, epoch: i16) -> Self {
        ProducerIdAndEpoch { producer_id, epoch }
    }

    /// Whether a producer id has been assigned.
    pub(crate) fn is_valid(&self) -> bool {
        self.producer_id > NO_PRODUCER_ID
    }
}

impl std::fmt::Display for ProducerIdAndEpoch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "(producerId={}, epoch={})", self.producer_id, self.epoch)
    }
}

/// Java `TxnPartitionEntry::NO_LAST_ACKED_SEQUENCE_NUMBER`.
const NO_LAST_ACKED_SEQUENCE: i32 = -1;

/// Key of an in-flight batch, in Java's comparator order: producer id,
/// epoch, base sequence.
pub(crate) type BatchKey = (ProducerIdAndEpoch, i32);

/// The key of a batch that has a sequence.
pub(crate) fn batch_key(batch: &ProducerBatch) -> BatchKey {
    (
        ProducerIdAndEpoch::new(batch.producer_id(), batch.producer_epoch()),
        batch.base_sequence(),
    )
}

/// A new producer state for one in-flight batch of a re-sequenced
/// partition (Java `ProducerBatch.resetProducerState`, done by the sender
/// on the batch it holds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SequenceRewrite {
    pub(crate) tp: TopicPartition,
    /// The batch's state before.
    pub(crate) from: BatchKey,
    /// Its state after.
    pub(crate) to: BatchKey,
}

/// Sequence state of one partition (Java `TxnPartitionEntry`).
#[derive(Debug)]
struct PartitionEntry {
    /// The producer id and epoch the partition's sequences belong to.
    producer_id_and_epoch: ProducerIdAndEpoch,
    /// Base sequence of the next batch drained for the partition.
    next_sequence: i32,
    last_acked_sequence: i32,
    last_acked_offset: Option<i64>,
    /// In-flight batches (drained, not completed: in a request or back in
    /// the accumulator for a retry) in Java's order.
    in_flight: BTreeMap<BatchKey, InFlight>,
}

/// One in-flight batch of a [`PartitionEntry`].
#[derive(Debug, Clone, Copy)]
struct InFlight {
    /// Its record count.
    records: i32,
    /// Whether it came back for a retry: the broker may hold it already.
    retried: bool,
}

impl PartitionEntry {
    fn new() -> Self {
        PartitionEntry {
            producer_id_and_epoch: ProducerIdAndEpoch::NONE,
            next_sequence: 0,
            last_acked_sequence: NO_LAST_ACKED_SEQUENCE,
            last_acked_offset: None,
            in_flight: BTreeMap::new(),
        }
    }

    /// Java `startSequencesAtBeginning`: the in-flight batches, in order,
    /// get sequences from 0 under `producer`; the partition continues after
    /// them.
    fn start_sequences_at_beginning(
        &mut self,
        tp: &TopicPartition,
        producer: ProducerIdAndEpoch,
        rewrites: &mut Vec<SequenceRewrite>,
    ) {
        let mut sequence = 0;
        let mut rewritten = BTreeMap::new();
        for (&from, &batch) in &self.in_flight {
            let to = (producer, sequence);
            log::info!(
                "Resetting sequence number of batch with current sequence {} for partition {} to {}",
                from.1,
                tp,
                sequence
            );
            rewrites.push(SequenceRewrite {
                tp: tp.clone(),
                from,
                to,
            });
            rewritten.insert(to, batch);
            sequence = increment_sequence(sequence, batch.records);
        }
        self.in_flight = rewritten;
        self.producer_id_and_epoch = producer;
        self.next_sequence = sequence;
        self.last_acked_sequence = NO_LAST_ACKED_SEQUENCE;
    }
}

#[derive(Debug)]
struct State {
    producer_id_and_epoch: ProducerIdAndEpoch,
    partitions: HashMap<TopicPartition, PartitionEntry>,
    /// Partitions whose last sequences are unknown (a batch expired after
    /// being sent), with the next sequence expected after them.
    unresolved: HashMap<TopicPartition, i32>,
    /// Java `clientSideEpochBumpRequired`.
    epoch_bump_required: bool,
    /// Partitions re-sequenced at the next epoch bump.
    partitions_to_rewrite: HashSet<TopicPartition>,
    fatal_error: Option<Error>,
}

impl State {
    fn entry(&mut self, tp: &TopicPartition) -> &mut PartitionEntry {
        self.partitions
            .entry(tp.clone())
            .or_insert_with(PartitionEntry::new)
    }

    fn has_inflight_batches(&self, tp: &TopicPartition) -> bool {
        self.partitions
            .get(tp)
            .is_some_and(|e| !e.in_flight.is_empty())
    }

    fn has_stale_producer_id_and_epoch(&self, tp: &TopicPartition) -> bool {
        let entry = self
            .partitions
            .get(tp)
            .map_or(ProducerIdAndEpoch::NONE, |e| e.producer_id_and_epoch);
        entry != self.producer_id_and_epoch
    }

    fn last_acked_sequence(&self, tp: &TopicPartition) -> i32 {
        self.partitions
            .get(tp)
            .map_or(NO_LAST_ACKED_SEQUENCE, |e| e.last_acked_sequence)
    }

    fn next_sequence(&self, tp: &TopicPartition) -> i32 {
        self.partitions.get(tp).map_or(0, |e| e.next_sequence)
    }

    /// Java `isNextSequence`: `sequence` follows the last acknowledged one.
    fn is_next_sequence(&self, tp: &TopicPartition, sequence: i32) -> bool {
        sequence.wrapping_sub(self.last_acked_sequence(tp)) == 1
    }

    /// Java `isNextSequenceForUnresolvedPartition`.
    fn is_next_sequence_for_unresolved(&self, tp: &TopicPartition, sequence: i32) -> bool {
        self.unresolved.get(tp) == Some(&sequence)
    }

    /// Java `requestIdempotentEpochBumpForPartition`.
    fn request_epoch_bump_for_partition(&mut self, tp: &TopicPartition) {
        self.epoch_bump_required = true;
        self.partitions_to_rewrite.insert(tp.clone());
    }

    /// Java `resetSequenceForPartition`.
    fn reset_sequence_for_partition(&mut self, tp: &TopicPartition) {
        self.partitions.remove(tp);
        self.unresolved.remove(tp);
    }

    fn remove_in_flight(&mut self, tp: &TopicPartition, key: &BatchKey) {
        if let Some(e) = self.partitions.get_mut(tp) {
            e.in_flight.remove(key);
        }
    }

    /// Re-sequences the partitions waiting for it under the current
    /// producer id and epoch.
    fn rewrite_pending_partitions(&mut self) -> Vec<SequenceRewrite> {
        let producer = self.producer_id_and_epoch;
        let mut rewrites = Vec::new();
        for tp in std::mem::take(&mut self.partitions_to_rewrite) {
            if let Some(e) = self.partitions.get_mut(&tp) {
                e.start_sequences_at_beginning(&tp, producer, &mut rewrites);
            }
            self.unresolved.remove(&tp);
        }
        rewrites
    }
}

/// Errors that put an idempotent producer in the fatal state (Java
/// `maybeTransitionToErrorState`).
pub(crate) fn is_fatal_for_idempotence(error: &Error) -> bool {
    matches!(
        error.code(),
        Some(
            ErrorCode::CLUSTER_AUTHORIZATION_FAILED
                | ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED
                | ErrorCode::PRODUCER_FENCED
                | ErrorCode::UNSUPPORTED_VERSION
                | ErrorCode::INVALID_PRODUCER_ID_MAPPING
        )
    ) || matches!(error, Error::Unsupported(_))
}

/// Idempotence state shared by the accumulator, the sender and the
/// producer.
#[derive(Debug)]
pub(crate) struct TransactionManager {
    transactional_id: Option<Arc<str>>,
    state: Mutex<State>,
    /// Nodes each partition has produce requests in flight to (see
    /// `request_nodes`); a lock of its own, apart from the sequences.
    request_nodes: Mutex<request_nodes::RequestNodes>,
    /// Set (after `fatal_error`) once the producer is in the fatal error
    /// state; never cleared. Every `send` checks it, so the common case
    /// (no fatal error) costs one atomic load, not the state lock the
    /// network thread also takes.
    has_fatal: AtomicBool,
}

impl TransactionManager {
    /// The state of an idempotent, non-transactional producer.
    pub(crate) fn new_idempotent() -> Self {
        TransactionManager {
            transactional_id: None,
            state: Mutex::new(State {
                producer_id_and_epoch: ProducerIdAndEpoch::NONE,
                partitions: HashMap::new(),
                unresolved: HashMap::new(),
                epoch_bump_required: false,
                partitions_to_rewrite: HashSet::new(),
                fatal_error: None,
            }),
            request_nodes: Mutex::new(HashMap::new()),
            has_fatal: AtomicBool::new(false),
        }
    }

    /// Whether the producer is transactional (has a `transactional.id`).
    pub(crate) fn is_transactional(&self) -> bool {
        self.transactional_id.is_some()
    }

    /// Whether a commit or abort is being completed (then the accumulator
    /// treats every batch as sendable). Always false until transactions
    /// exist.
    pub(crate) fn is_completing(&self) -> bool {
        false
    }

    // ---- producer id and error state ----------------------------------

    /// The current producer id and epoch; check `is_valid`.
    pub(crate) fn producer_id_and_epoch(&self) -> ProducerIdAndEpoch {
        self.state.lock().producer_id_and_epoch
    }

    /// Installs a producer id and epoch.
    pub(crate) fn set_producer_id_and_epoch(&self, producer: ProducerIdAndEpoch) {
        log::info!(
            "ProducerId set to {} with epoch {}",
            producer.producer_id,
            producer.epoch
        );
        self.state.lock().producer_id_and_epoch = producer;
    }

    /// Installs the producer id an `InitProducerId` answer gave. Partitions
    /// still waiting to be re-sequenced (the epoch ran out, so the id was
    /// reset) restart at 0 under it; their batches' new state is returned.
    ///
    /// Java re-sequences them when the id is reset, under the invalid id
    /// -1, and would send them so; waiting for the new id avoids that.
    pub(crate) fn init_producer_id_completed(
        &self,
        producer: ProducerIdAndEpoch,
    ) -> Vec<SequenceRewrite> {
        self.set_producer_id_and_epoch(producer);
        self.state.lock().rewrite_pending_partitions()
    }

    /// Whether a producer id has been assigned.
    pub(crate) fn has_producer_id(&self) -> bool {
        self.producer_id_and_epoch().is_valid()
    }

    /// Moves to the fatal error state: nothing more is sent.
    pub(crate) fn transition_to_fatal_error(&self, error: Error) {
        log::info!("Transiting to fatal error state due to {}", error);
        self.state.lock().fatal_error = Some(error);
        self.has_fatal.store(true, Ordering::Release);
    }

    /// The error that put the producer in the fatal state, if any (Java
    /// `lastError` in that state).
    pub(crate) fn fatal_error(&self) -> Option<Error> {
        self.state.lock().fatal_error.clone()
    }

    /// Whether the producer is in the fatal error state.
    pub(crate) fn has_fatal_error(&self) -> bool {
        self.state.lock().fatal_error.is_some()
    }

    /// Java `maybeFailWithError`, as `send` calls it: in the fatal state,
    /// the error a new send fails with, naming the cause.
    pub(crate) fn maybe_fail_with_error(&self) -> Result<(), Error> {
        if !self.has_fatal.load(Ordering::Acquire) {
            return Ok(());
        }
        let s = self.state.lock();
        let Some(cause) = &s.fatal_error else {
            return Ok(());
        };
        let context = format!(
            "Cannot send: the producer {} is in a fatal error state and must be closed; cause: {cause}",
            s.producer_id_and_epoch
        );
        Err(match cause {
            Error::Broker { code, .. } => Error::Broker {
                code: *code,
                message: Some(context),
            },
            Error::Unsupported(_) => Error::Unsupported(context),
            _ => Error::Other(context),
        })
    }

    /// Whether batches for `tp` may be sent: not after a fatal error, and
    /// (transactional only) only once the partition is in the transaction.
    pub(crate) fn is_send_to_partition_allowed(&self, _tp: &TopicPartition) -> bool {
        // Transactional producers will also require the partition to have
        // been added to the transaction.
        !self.has_fatal_error() && !self.is_transactional()
    }

    // ---- epoch bumps ----------------------------------------------------

    /// Whether an epoch bump is pending.
    #[cfg_attr(not(test), allow(dead_code))] // tests
    pub(crate) fn epoch_bump_required(&self) -> bool {
        self.state.lock().epoch_bump_required
    }

    /// Java `bumpIdempotentEpochAndResetIdIfNeeded` (the bump half; the
    /// sender then asks for a producer id if there is none): bumps the
    /// epoch locally, which brokers accept from an idempotent producer when
    /// the partition restarts at sequence 0 (KIP-360), and re-sequences the
    /// partitions that asked for it. At the last epoch the producer id is
    /// reset instead: `InitProducerId` gets a new one, and the partitions
    /// are re-sequenced then. Returns the rewrites for the sender.
    pub(crate) fn bump_idempotent_epoch_and_reset_id_if_needed(&self) -> Vec<SequenceRewrite> {
        let mut s = self.state.lock();
        if self.is_transactional() || !s.epoch_bump_required || s.fatal_error.is_some() {
            return Vec::new();
        }
        s.epoch_bump_required = false;
        let current = s.producer_id_and_epoch;
        if !current.is_valid() {
            // No id yet (or being replaced): the rewrite waits for it.
            return Vec::new();
        }
        if current.epoch == i16::MAX {
            log::debug!(
                "Resetting idempotent producer ID. ID and epoch before reset are {current}"
            );
            s.producer_id_and_epoch = ProducerIdAndEpoch::NONE;
            return Vec::new();
        }
        s.producer_id_and_epoch = ProducerIdAndEpoch::new(current.producer_id, current.epoch + 1);
        log::debug!(
            "Incremented producer epoch, current producer ID and epoch are now {}",
            s.producer_id_and_epoch
        );
        s.rewrite_pending_partitions()
    }

    // ---- sequences ------------------------------------------------------

    /// When the partition's sequences belong to an older producer id or
    /// epoch and none of its batches are in flight, restarts its sequences
    /// at 0 under the current id and epoch (Java
    /// `maybeUpdateProducerIdAndEpoch`).
    pub(crate) fn maybe_update_producer_id_and_epoch(&self, tp: &TopicPartition) {
        let mut s = self.state.lock();
        if s.fatal_error.is_some() {
            log::debug!(
                "Ignoring producer ID and epoch update request since the producer is in fatal error state"
            );
            return;
        }
        if s.has_stale_producer_id_and_epoch(tp) && !s.has_inflight_batches(tp) {
            let current = s.producer_id_and_epoch;
            let mut none = Vec::new();
            s.entry(tp)
                .start_sequences_at_beginning(tp, current, &mut none);
            log::debug!(
                "ProducerId of partition {} set to {} with epoch {}. Reinitialize sequence at beginning.",
                tp,
                current.producer_id,
                current.epoch
            );
        }
    }

    /// The base sequence for the next batch drained for `tp`.
    pub(crate) fn sequence_number(&self, tp: &TopicPartition) -> i32 {
        self.state.lock().entry(tp).next_sequence
    }

    /// Advances the partition's next sequence by a batch's record count,
    /// wrapping at `i32::MAX` as Kafka sequences do.
    pub(crate) fn increment_sequence_number(&self, tp: &TopicPartition, increment: i32) {
        let mut s = self.state.lock();
        let e = s.entry(tp);
        e.next_sequence = increment_sequence(e.next_sequence, increment);
    }

    /// Tracks a drained (or split) batch until it completes.
    pub(crate) fn add_in_flight_batch(&self, batch: &ProducerBatch) -> Result<(), Error> {
        if !batch.has_sequence() {
            return Err(Error::Other(format!(
                "Can't track batch for partition {} when sequence is not set.",
                batch.topic_partition()
            )));
        }
        self.state
            .lock()
            .entry(batch.topic_partition())
            .in_flight
            .insert(
                batch_key(batch),
                InFlight {
                    records: batch.record_count(),
                    retried: false,
                },
            );
        Ok(())
    }

    /// Notes that an in-flight batch came back to the accumulator for a
    /// retry (see [`has_retried_batches`](Self::has_retried_batches)).
    pub(crate) fn mark_retried(&self, batch: &ProducerBatch) {
        let mut s = self.state.lock();
        if let Some(b) = s
            .partitions
            .get_mut(batch.topic_partition())
            .and_then(|e| e.in_flight.get_mut(&batch_key(batch)))
        {
            b.retried = true;
        }
    }

    /// Whether one of `tp`'s in-flight batches is being retried. No new
    /// batch is drained for the partition meanwhile (not in Java, which
    /// drains new batches behind a retry): the broker keeps only the last
    /// five batches of a producer per partition to recognise a resend, and
    /// a retry that was written before its answer got lost must still be
    /// among them when it comes back, or it is refused as
    /// `OUT_OF_ORDER_SEQUENCE_NUMBER` until its delivery timeout although
    /// it is in the log. With at most five requests in flight the batches
    /// written behind it are at most four.
    pub(crate) fn has_retried_batches(&self, tp: &TopicPartition) -> bool {
        self.state
            .lock()
            .partitions
            .get(tp)
            .is_some_and(|e| e.in_flight.values().any(|b| b.retried))
    }

    /// Stops tracking a batch (completed, failed for good, or split).
    pub(crate) fn remove_in_flight_batch(&self, batch: &ProducerBatch) {
        self.state
            .lock()
            .remove_in_flight(batch.topic_partition(), &batch_key(batch));
    }

    /// Base sequence of the lowest in-flight batch of `tp`, or -1.
    pub(crate) fn first_in_flight_sequence(&self, tp: &TopicPartition) -> i32 {
        self.state
            .lock()
            .partitions
            .get(tp)
            .and_then(|e| e.in_flight.keys().next())
            .map_or(NO_SEQUENCE, |&(_, seq)| seq)
    }

    /// Whether `tp` has batches in flight.
    pub(crate) fn has_inflight_batches(&self, tp: &TopicPartition) -> bool {
        self.state.lock().has_inflight_batches(tp)
    }

    /// Whether `tp`'s sequences belong to another producer id or epoch than
    /// the current one.
    pub(crate) fn has_stale_producer_id_and_epoch(&self, tp: &TopicPartition) -> bool {
        self.state.lock().has_stale_producer_id_and_epoch(tp)
    }

    /// Whether `tp`'s sequence is unresolved.
    pub(crate) fn has_unresolved_sequence(&self, tp: &TopicPartition) -> bool {
        self.state.lock().unresolved.contains_key(tp)
    }

    /// Whether any partition's sequence is unresolved.
    #[cfg_attr(not(test), allow(dead_code))] // tests
    pub(crate) fn has_unresolved_sequences(&self) -> bool {
        !self.state.lock().unresolved.is_empty()
    }

    /// Marks `batch`'s partition unresolved: the batch expired after being
    /// sent, so whether the broker has it is unknown. No new batch is
    /// drained for the partition until its in-flight batches resolve.
    pub(crate) fn mark_sequence_unresolved(&self, batch: &ProducerBatch) {
        let next = increment_sequence(batch.last_sequence(), 1);
        let mut s = self.state.lock();
        let v = s
            .unresolved
            .entry(batch.topic_partition().clone())
            .or_insert(next);
        *v = (*v).max(next);
        log::debug!(
            "Marking partition {} unresolved with next sequence number {}",
            batch.topic_partition(),
            v
        );
    }

    /// Java `maybeResolveSequences`, at the start of every sender
    /// iteration: an unresolved partition without batches in flight is
    /// resolved if the last acknowledged sequence is the one before its
    /// next sequence (later batches succeeded); otherwise the batches were
    /// lost, and the epoch is bumped to restart it at 0.
    pub(crate) fn maybe_resolve_sequences(&self) {
        let mut s = self.state.lock();
        let candidates: Vec<TopicPartition> = s
            .unresolved
            .keys()
            .filter(|tp| !s.has_inflight_batches(tp))
            .cloned()
            .collect();
        for tp in candidates {
            let next = s.next_sequence(&tp);
            if !s.is_next_sequence(&tp, next) {
                log::info!(
                    "No inflight batches remaining for {}, last ack'd sequence for partition is {}, next sequence is {}. Going to bump epoch and reset sequence numbers.",
                    tp,
                    s.last_acked_sequence(&tp),
                    next
                );
                s.request_epoch_bump_for_partition(&tp);
            }
            s.unresolved.remove(&tp);
        }
    }

    /// The last acknowledged sequence of `tp`, if any.
    #[cfg_attr(not(test), allow(dead_code))] // tests
    pub(crate) fn last_acked_sequence(&self, tp: &TopicPartition) -> Option<i32> {
        Some(self.state.lock().last_acked_sequence(tp)).filter(|&s| s != NO_LAST_ACKED_SEQUENCE)
    }

    /// The offset of the last acknowledged record of `tp`, if any.
    #[cfg_attr(not(test), allow(dead_code))] // tests
    pub(crate) fn last_acked_offset(&self, tp: &TopicPartition) -> Option<i64> {
        self.state
            .lock()
            .partitions
            .get(tp)
            .and_then(|e| e.last_acked_offset)
    }

    /// Records an acknowledged sequence; returns the partition's last
    /// acknowledged sequence afterwards (-1 if the partition is unknown).
    pub(crate) fn maybe_update_last_acked_sequence(
        &self,
        tp: &TopicPartition,
        sequence: i32,
    ) -> i32 {
        let mut s = self.state.lock();
        match s.partitions.get_mut(tp) {
            Some(e) => {
                if sequence > e.last_acked_sequence {
                    e.last_acked_sequence = sequence;
                }
                e.last_acked_sequence
            }
            None => NO_LAST_ACKED_SEQUENCE,
        }
    }
}

mod request_nodes;
mod responses;
#[cfg(test)]
mod tests;
