//! Idempotent-producer state (the part of Java's `TransactionManager`,
//! `TxnPartitionMap` and `TxnPartitionEntry` that the accumulator's drain
//! needs): the producer id and epoch, and per partition the next sequence,
//! the in-flight batches ordered by sequence, the last acknowledged
//! sequence and whether the sequence is unresolved.
//!
//! Transactions (the state machine, `AddPartitionsToTxn`, commit / abort)
//! and the sequence repairs done on responses (epoch bumps, rewriting
//! in-flight sequences) are added with the sender and the transactional
//! producer. The type is internally synchronized and shared as `Arc`
//! between caller threads and the network thread, as Java's synchronized
//! methods are.
//!
//! In-flight batches are tracked by (producer id, epoch, base sequence)
//! and record count, not by reference: the sender owns drained batches.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::common::TopicPartition;
use crate::error::Error;
use crate::producer::internals::producer_batch::ProducerBatch;
use crate::record::{increment_sequence, NO_PRODUCER_EPOCH, NO_PRODUCER_ID, NO_SEQUENCE};

/// A producer id and epoch (Java `ProducerIdAndEpoch`); `NONE` (-1/-1)
/// until `InitProducerId` assigns one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

/// Java `TxnPartitionEntry::NO_LAST_ACKED_SEQUENCE_NUMBER`.
const NO_LAST_ACKED_SEQUENCE: i32 = -1;

/// Sequence state of one partition (Java `TxnPartitionEntry`).
#[derive(Debug)]
struct PartitionEntry {
    /// The producer id and epoch the partition's sequences belong to.
    producer_id_and_epoch: ProducerIdAndEpoch,
    /// Base sequence of the next batch drained for the partition.
    next_sequence: i32,
    last_acked_sequence: i32,
    /// In-flight batches ordered by (producer id, epoch, base sequence),
    /// Java's comparator; the value is the record count.
    in_flight: BTreeMap<(i64, i16, i32), i32>,
}

impl PartitionEntry {
    fn new() -> Self {
        PartitionEntry {
            producer_id_and_epoch: ProducerIdAndEpoch::NONE,
            next_sequence: 0,
            last_acked_sequence: NO_LAST_ACKED_SEQUENCE,
            in_flight: BTreeMap::new(),
        }
    }
}

#[derive(Debug)]
struct State {
    producer_id_and_epoch: ProducerIdAndEpoch,
    partitions: HashMap<TopicPartition, PartitionEntry>,
    /// Partitions whose last sequences are unknown (a batch expired after
    /// being sent), with the next sequence expected after them.
    unresolved: HashMap<TopicPartition, i32>,
    fatal_error: Option<Error>,
}

impl State {
    fn entry(&mut self, tp: &TopicPartition) -> &mut PartitionEntry {
        self.partitions
            .entry(tp.clone())
            .or_insert_with(PartitionEntry::new)
    }

    fn has_inflight_batches(&mut self, tp: &TopicPartition) -> bool {
        !self.entry(tp).in_flight.is_empty()
    }

    fn has_stale_producer_id_and_epoch(&mut self, tp: &TopicPartition) -> bool {
        let current = self.producer_id_and_epoch;
        self.entry(tp).producer_id_and_epoch != current
    }
}

/// Idempotence state shared by the accumulator and the sender.
#[derive(Debug)]
pub(crate) struct TransactionManager {
    transactional_id: Option<Arc<str>>,
    state: Mutex<State>,
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
                fatal_error: None,
            }),
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

    /// The current producer id and epoch; check `is_valid`.
    pub(crate) fn producer_id_and_epoch(&self) -> ProducerIdAndEpoch {
        self.state.lock().producer_id_and_epoch
    }

    /// Installs a producer id and epoch (from `InitProducerId`).
    pub(crate) fn set_producer_id_and_epoch(&self, producer: ProducerIdAndEpoch) {
        log::info!(
            "ProducerId set to {} with epoch {}",
            producer.producer_id,
            producer.epoch
        );
        self.state.lock().producer_id_and_epoch = producer;
    }

    /// Whether a producer id has been assigned.
    pub(crate) fn has_producer_id(&self) -> bool {
        self.producer_id_and_epoch().is_valid()
    }

    /// Moves to the fatal error state: nothing more is sent.
    pub(crate) fn transition_to_fatal_error(&self, error: Error) {
        log::info!("Transiting to fatal error state due to {}", error);
        self.state.lock().fatal_error = Some(error);
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

    /// Whether batches for `tp` may be sent: not after a fatal error, and
    /// (transactional only) only once the partition is in the transaction.
    pub(crate) fn is_send_to_partition_allowed(&self, _tp: &TopicPartition) -> bool {
        // Transactional producers will also require the partition to have
        // been added to the transaction.
        !self.has_fatal_error() && !self.is_transactional()
    }

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
            let e = s.entry(tp);
            e.producer_id_and_epoch = current;
            e.next_sequence = 0;
            e.last_acked_sequence = NO_LAST_ACKED_SEQUENCE;
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

    /// Tracks a drained batch until it completes.
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
                (
                    batch.producer_id(),
                    batch.producer_epoch(),
                    batch.base_sequence(),
                ),
                batch.record_count(),
            );
        Ok(())
    }

    /// Stops tracking a batch (completed, or failed for good).
    pub(crate) fn remove_in_flight_batch(&self, batch: &ProducerBatch) {
        let mut s = self.state.lock();
        if let Some(e) = s.partitions.get_mut(batch.topic_partition()) {
            e.in_flight.remove(&(
                batch.producer_id(),
                batch.producer_epoch(),
                batch.base_sequence(),
            ));
        }
    }

    /// Base sequence of the lowest in-flight batch of `tp`, or -1.
    pub(crate) fn first_in_flight_sequence(&self, tp: &TopicPartition) -> i32 {
        self.state
            .lock()
            .entry(tp)
            .in_flight
            .keys()
            .next()
            .map_or(NO_SEQUENCE, |&(_, _, seq)| seq)
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
    #[allow(dead_code)] // sequence resolution (next issue)
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

    /// A batch was acknowledged (Java `handleCompletedBatch`): its last
    /// sequence becomes the partition's last acknowledged one and it stops
    /// being tracked in flight.
    pub(crate) fn handle_completed_batch(&self, batch: &ProducerBatch) {
        let tp = batch.topic_partition();
        let acked = self.maybe_update_last_acked_sequence(tp, batch.last_sequence());
        log::debug!(
            "ProducerId: {}; Set last ack'd sequence number for topic-partition {} to {}",
            batch.producer_id(),
            tp,
            acked
        );
        self.remove_in_flight_batch(batch);
    }

    /// The last acknowledged sequence of `tp`, if any.
    pub(crate) fn last_acked_sequence(&self, tp: &TopicPartition) -> Option<i32> {
        self.state
            .lock()
            .partitions
            .get(tp)
            .map(|e| e.last_acked_sequence)
            .filter(|&s| s != NO_LAST_ACKED_SEQUENCE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::producer::future::ProduceRequestResult;
    use crate::record::{Compression, MemoryRecordsBuilder};
    use crate::util::clock::{Clock, MockClock};

    fn batch(
        tp: &TopicPartition,
        records: usize,
        seq: Option<(ProducerIdAndEpoch, i32)>,
    ) -> ProducerBatch {
        let clock = Arc::new(MockClock::default());
        let b = MemoryRecordsBuilder::new(Vec::new(), Compression::none(), 1024).unwrap();
        let mut batch = ProducerBatch::new(
            tp.clone(),
            b,
            1024,
            clock.now(),
            ProduceRequestResult::new(tp.clone(), clock.clone()),
        );
        let mut none = None;
        for _ in 0..records {
            batch
                .try_append(0, None, Some(b"v"), &[], &mut none, clock.now())
                .unwrap()
                .unwrap();
        }
        if let Some((p, s)) = seq {
            batch.set_producer_state(p, s, false).unwrap();
        }
        batch
    }

    #[test]
    fn producer_id_and_epoch_validity() {
        assert!(!ProducerIdAndEpoch::NONE.is_valid());
        assert!(ProducerIdAndEpoch::new(0, 0).is_valid());
        let tm = TransactionManager::new_idempotent();
        assert!(!tm.has_producer_id());
        tm.set_producer_id_and_epoch(ProducerIdAndEpoch::new(5, 1));
        assert_eq!(tm.producer_id_and_epoch(), ProducerIdAndEpoch::new(5, 1));
    }

    #[test]
    fn sequences_advance_and_wrap() {
        let tm = TransactionManager::new_idempotent();
        let tp = TopicPartition::new("t", 0);
        assert_eq!(tm.sequence_number(&tp), 0);
        tm.increment_sequence_number(&tp, 5);
        assert_eq!(tm.sequence_number(&tp), 5);
        tm.increment_sequence_number(&tp, i32::MAX - 5);
        assert_eq!(tm.sequence_number(&tp), i32::MAX);
        tm.increment_sequence_number(&tp, 2);
        assert_eq!(tm.sequence_number(&tp), 1);
    }

    #[test]
    fn in_flight_batches_are_ordered_by_sequence() {
        let tm = TransactionManager::new_idempotent();
        let p = ProducerIdAndEpoch::new(1, 0);
        let tp = TopicPartition::new("t", 0);
        assert_eq!(tm.first_in_flight_sequence(&tp), NO_SEQUENCE);
        assert!(tm.add_in_flight_batch(&batch(&tp, 1, None)).is_err());
        let b10 = batch(&tp, 2, Some((p, 10)));
        let b5 = batch(&tp, 5, Some((p, 5)));
        tm.add_in_flight_batch(&b10).unwrap();
        tm.add_in_flight_batch(&b5).unwrap();
        assert!(tm.has_inflight_batches(&tp));
        assert_eq!(tm.first_in_flight_sequence(&tp), 5);
        tm.remove_in_flight_batch(&b5);
        assert_eq!(tm.first_in_flight_sequence(&tp), 10);
        tm.remove_in_flight_batch(&b10);
        assert!(!tm.has_inflight_batches(&tp));
    }

    #[test]
    fn stale_epoch_resets_sequences_only_without_in_flight_batches() {
        let tm = TransactionManager::new_idempotent();
        let tp = TopicPartition::new("t", 0);
        let old = ProducerIdAndEpoch::new(1, 0);
        tm.set_producer_id_and_epoch(old);
        tm.maybe_update_producer_id_and_epoch(&tp);
        assert!(!tm.has_stale_producer_id_and_epoch(&tp));
        tm.increment_sequence_number(&tp, 3);
        let inflight = batch(&tp, 3, Some((old, 0)));
        tm.add_in_flight_batch(&inflight).unwrap();

        tm.set_producer_id_and_epoch(ProducerIdAndEpoch::new(1, 1));
        assert!(tm.has_stale_producer_id_and_epoch(&tp));
        tm.maybe_update_producer_id_and_epoch(&tp);
        assert_eq!(tm.sequence_number(&tp), 3, "in flight: no reset yet");
        tm.remove_in_flight_batch(&inflight);
        tm.maybe_update_producer_id_and_epoch(&tp);
        assert_eq!(tm.sequence_number(&tp), 0);
        assert!(!tm.has_stale_producer_id_and_epoch(&tp));
    }

    #[test]
    fn unresolved_sequence_keeps_the_highest_next_sequence() {
        let tm = TransactionManager::new_idempotent();
        let p = ProducerIdAndEpoch::new(1, 0);
        let tp = TopicPartition::new("t", 0);
        assert!(!tm.has_unresolved_sequence(&tp));
        tm.mark_sequence_unresolved(&batch(&tp, 4, Some((p, 10))));
        tm.mark_sequence_unresolved(&batch(&tp, 2, Some((p, 0))));
        assert!(tm.has_unresolved_sequence(&tp));
        assert!(tm.has_unresolved_sequences());
        assert_eq!(tm.state.lock().unresolved[&tp], 14);
    }

    #[test]
    fn last_acked_sequence_only_grows() {
        let tm = TransactionManager::new_idempotent();
        let tp = TopicPartition::new("t", 0);
        assert_eq!(tm.maybe_update_last_acked_sequence(&tp, 3), -1);
        tm.sequence_number(&tp);
        assert_eq!(tm.last_acked_sequence(&tp), None);
        assert_eq!(tm.maybe_update_last_acked_sequence(&tp, 3), 3);
        assert_eq!(tm.maybe_update_last_acked_sequence(&tp, 2), 3);
        assert_eq!(tm.last_acked_sequence(&tp), Some(3));
    }

    #[test]
    fn fatal_error_blocks_sending() {
        let tm = TransactionManager::new_idempotent();
        let tp = TopicPartition::new("t", 0);
        assert!(tm.is_send_to_partition_allowed(&tp));
        tm.transition_to_fatal_error(Error::Other("fenced".into()));
        assert!(!tm.is_send_to_partition_allowed(&tp));
    }
}
