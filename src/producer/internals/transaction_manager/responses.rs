//! What the idempotent producer learns from produce answers (Java
//! `TransactionManager.handleCompletedBatch`, `handleFailedBatch`,
//! `canRetry`): acknowledged sequences and offsets, the fatal errors, and
//! the sequence gaps that call for an epoch bump.

use super::{batch_key, is_fatal_for_idempotence, BatchKey, TransactionManager};
use crate::common::TopicPartition;
use crate::error::Error;
use crate::producer::internals::producer_batch::ProducerBatch;
use crate::protocol::error_code::ErrorCode;
use crate::record::increment_sequence;

impl TransactionManager {
    /// Java `updateLastAckedOffset`.
    fn update_last_acked_offset(&self, tp: &TopicPartition, base_offset: i64, record_count: i32) {
        if base_offset < 0 {
            return;
        }
        let last = base_offset.saturating_add(i64::from(record_count) - 1);
        let mut s = self.state.lock();
        // The partition may have been reset while this batch was retried:
        // an idempotent producer starts tracking it again.
        let e = s.entry(tp);
        if e.last_acked_offset.is_none_or(|o| last > o) {
            e.last_acked_offset = Some(last);
        }
    }

    /// A batch was acknowledged (Java `handleCompletedBatch`): its last
    /// sequence and offset become the partition's last acknowledged ones
    /// and it stops being tracked in flight.
    pub(crate) fn handle_completed_batch(&self, batch: &ProducerBatch, base_offset: i64) {
        let tp = batch.topic_partition();
        self.handle_completed_sequence(tp, batch_key(batch), batch.record_count(), base_offset);
    }

    /// [`handle_completed_batch`](Self::handle_completed_batch) for a batch
    /// known by its key (one that expired while in flight and whose answer
    /// came late).
    pub(crate) fn handle_completed_sequence(
        &self,
        tp: &TopicPartition,
        key: BatchKey,
        record_count: i32,
        base_offset: i64,
    ) {
        let last = increment_sequence(key.1, record_count - 1);
        let acked = self.maybe_update_last_acked_sequence(tp, last);
        log::debug!(
            "ProducerId: {}; Set last ack'd sequence number for topic-partition {} to {}",
            key.0.producer_id,
            tp,
            acked
        );
        self.update_last_acked_offset(tp, base_offset, record_count);
        self.state.lock().remove_in_flight(tp, &key);
    }

    /// Java `handleFailedBatch`: a batch failed for good. Fatal errors stop
    /// the producer; otherwise a sequence gap the failure leaves is closed
    /// by an epoch bump (`adjust_sequence_numbers`: only when the batch had
    /// retries left, else the broker may have it).
    pub(crate) fn handle_failed_batch(
        &self,
        batch: &ProducerBatch,
        error: &Error,
        adjust_sequence_numbers: bool,
    ) {
        if is_fatal_for_idempotence(error) {
            self.transition_to_fatal_error(error.clone());
        }
        let tp = batch.topic_partition();
        let mut s = self.state.lock();
        if batch.has_sequence() {
            s.remove_in_flight(tp, &batch_key(batch));
        }
        if s.fatal_error.is_some() {
            log::debug!(
                "Ignoring batch {:?} with producer id {}, epoch {}, and sequence number {} since the producer is already in fatal error state",
                batch,
                batch.producer_id(),
                batch.producer_epoch(),
                batch.base_sequence()
            );
            return;
        }
        // Java's UnknownProducerIdException is an OutOfOrderSequenceException.
        let out_of_order = matches!(
            error.code(),
            Some(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER | ErrorCode::UNKNOWN_PRODUCER_ID)
        );
        if out_of_order && !self.is_transactional() {
            log::error!(
                "The broker returned {} for topic-partition {} with producerId {}, epoch {}, and sequence number {}",
                error,
                tp,
                batch.producer_id(),
                batch.producer_epoch(),
                batch.base_sequence()
            );
            s.request_epoch_bump_for_partition(tp);
        } else if error.code() == Some(ErrorCode::UNKNOWN_PRODUCER_ID) {
            s.reset_sequence_for_partition(tp);
        } else if adjust_sequence_numbers && batch.has_sequence() {
            // Transactional producers shift the later sequences down
            // instead (`adjustSequencesDueToFailedBatch`): not built yet.
            s.request_epoch_bump_for_partition(tp);
        }
    }

    /// Java `TransactionManager.canRetry`: whether a batch failed with
    /// `error` may be retried by the idempotence rules, requesting an epoch
    /// bump where the failure shows a real gap.
    ///
    /// * `UNKNOWN_PRODUCER_ID`: always retried; the epoch is bumped unless
    ///   the batch was already re-sequenced or the log start offset is
    ///   unknown (-1).
    /// * `OUT_OF_ORDER_SEQUENCE_NUMBER` on a batch that is not the next one
    ///   after the last acknowledged (an earlier batch failed and is
    ///   retried first), or that was re-sequenced: retried as is. On the
    ///   next one: a gap; retried after an epoch bump, unless an unresolved
    ///   sequence may still explain it.
    /// * anything else: retried if retriable.
    pub(crate) fn can_retry(
        &self,
        error: ErrorCode,
        log_start_offset: i64,
        batch: &ProducerBatch,
    ) -> bool {
        let tp = batch.topic_partition();
        let mut s = self.state.lock();
        if error == ErrorCode::UNKNOWN_PRODUCER_ID {
            if log_start_offset == -1 || batch.sequence_has_been_reset() {
                return true;
            }
            let last_acked_offset = s
                .partitions
                .get(tp)
                .and_then(|e| e.last_acked_offset)
                .unwrap_or(-1);
            if last_acked_offset < log_start_offset || !self.is_transactional() {
                // The log head was removed (retention) and with it the
                // producer state, or the broker lost it otherwise: restart
                // the partition under a new epoch.
                s.request_epoch_bump_for_partition(tp);
                return true;
            }
        } else if error == ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER {
            let unresolved = s.unresolved.contains_key(tp);
            if !unresolved
                && (batch.sequence_has_been_reset()
                    || !s.is_next_sequence(tp, batch.base_sequence()))
            {
                return true;
            }
            if !self.is_transactional() {
                if !unresolved || s.is_next_sequence_for_unresolved(tp, batch.base_sequence()) {
                    s.request_epoch_bump_for_partition(tp);
                }
                return true;
            }
        }
        error.is_retriable()
    }
}
