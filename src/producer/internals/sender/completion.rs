//! What the sender does with produce answers (Java `handleProduceResponse`
//! / `completeBatch` / `failBatch`, §6 G-4, Kafka 4.3).
//!
//! ```text
//!  per partition:
//!    MESSAGE_TOO_LARGE, > 1 record ─▶ split into batch.size batches, re-enqueued in
//!                                      its place (same sequences), no attempt counted
//!    error, retry allowed ───────────▶ re-enqueue (sequence order, backoff)
//!      retry allowed: time and attempts left, not done, and retriable, or (idempotence)
//!      OUT_OF_ORDER_SEQUENCE_NUMBER / UNKNOWN_PRODUCER_ID by the transaction manager's
//!      rules, which may request an epoch bump
//!    DUPLICATE_SEQUENCE_NUMBER ──────▶ success (the broker has it)
//!    other error ────────────────────▶ fail: the broker's error and message, per-record
//!                                      errors (KIP-467); idempotence: fatal errors, epoch
//!                                      bump for the gap left (if retries were left)
//!    NOT_LEADER / FENCED_LEADER_EPOCH ─▶ leader hint (KIP-951) applied
//!    invalid metadata ───────────────▶ metadata update requested
//!    NONE ───────────────────────────▶ complete(base offset, append time)
//!  always: in-flight bookkeeping, unmute (max.in.flight == 1), buffer back
//!  disconnect / timeout / unreadable answer ─▶ NETWORK_EXCEPTION / REQUEST_TIMED_OUT
//!  partition not answered ─▶ fails with a message naming it; answer for a partition
//!  not asked ─▶ logged and ignored; acks=0 ─▶ complete with offset -1 once written
//! ```

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use super::{RequestEntry, RequestKey, Sender};
use crate::clients::metadata::topic_authorization_error;
use crate::clients::network_client::{
    ignore_trailing_bytes, ClientResponse, KafkaClient, RequestFailure,
};
use crate::common::TopicPartition;
use crate::error::Error;
use crate::producer::future::RecordErrors;
use crate::producer::internals::producer_batch::ProducerBatch;
use crate::producer::internals::producer_metadata::ProducerTopics;
use crate::protocol::api_key::ApiKey;
use crate::protocol::codec::Reader;
use crate::protocol::error_code::ErrorCode;
use crate::protocol::messages::produce::{
    BatchIndexAndErrorMessage, LeaderIdAndEpoch, PartitionProduceResponse, ProduceResponse,
};
use crate::protocol::messages::Uuid;
use crate::record::NO_TIMESTAMP;

/// One partition's answer, as `completeBatch` needs it (Java
/// `ProduceResponse.PartitionResponse`).
#[derive(Debug, Clone)]
pub(super) struct PartitionResult {
    error: ErrorCode,
    base_offset: i64,
    log_append_time: i64,
    log_start_offset: i64,
    error_message: Option<String>,
    record_errors: Vec<BatchIndexAndErrorMessage>,
    current_leader: LeaderIdAndEpoch,
}

impl PartitionResult {
    fn error(error: ErrorCode, message: Option<String>) -> Self {
        PartitionResult {
            error,
            base_offset: -1,
            log_append_time: NO_TIMESTAMP,
            log_start_offset: -1,
            error_message: message,
            record_errors: Vec::new(),
            current_leader: LeaderIdAndEpoch {
                leader_id: -1,
                leader_epoch: -1,
            },
        }
    }

    fn from_response(p: PartitionProduceResponse) -> Self {
        PartitionResult {
            error: p.error_code,
            base_offset: p.base_offset,
            log_append_time: p.log_append_time_ms,
            log_start_offset: p.log_start_offset,
            error_message: p.error_message,
            record_errors: p.record_errors,
            current_leader: p.current_leader,
        }
    }

    /// Java `formatErrMsg`.
    fn describe(&self) -> String {
        match self.error_message.as_deref() {
            Some(m) if !m.is_empty() => format!("{}. Error Message: {m}", self.error.name()),
            _ => self.error.name().to_owned(),
        }
    }
}

impl<C: KafkaClient<Policy = ProducerTopics>> Sender<C> {
    pub(super) fn handle_response(&mut self, response: ClientResponse) {
        match response.api_key {
            ApiKey::PRODUCE => self.handle_produce_response(response),
            ApiKey::INIT_PRODUCER_ID => self.handle_init_producer_id_response(response),
            other => log::warn!("Ignoring an unexpected {} response", other.name()),
        }
    }

    fn handle_produce_response(&mut self, response: ClientResponse) {
        let key = RequestKey {
            node: response.destination,
            correlation_id: response.correlation_id,
        };
        let Some(request) = self.requests.remove(&key) else {
            log::warn!(
                "No produce request in flight for the response from node {} with correlation id {}",
                key.node,
                key.correlation_id
            );
            return;
        };
        let correlation_id = response.correlation_id;
        let node = response.destination;
        log::trace!(
            "Received produce response from node {node} with correlation id {correlation_id} after {} ms",
            response.received.saturating_duration_since(response.created).as_millis()
        );
        let mut entries = request.entries;
        for entry in &entries {
            if let Some(tm) = &self.transaction_manager {
                // Before the batches are re-enqueued or completed: the
                // partition may go to another node from now on.
                tm.batch_request_done(&entry.tp, node);
            }
            if let Some(b) = &entry.batch {
                self.forget_in_flight(&entry.tp, b.id());
            }
        }

        // Every partition gets the same outcome unless the response says
        // otherwise.
        let same_for_all = match response.body {
            Err(RequestFailure::TimedOut(m)) => {
                log::trace!("Cancelled request with correlation id {correlation_id} due to the last request to node {node} timed out");
                Some(PartitionResult::error(
                    ErrorCode::REQUEST_TIMED_OUT,
                    Some(m),
                ))
            }
            Err(RequestFailure::Disconnected(m)) => {
                log::trace!("Cancelled request with correlation id {correlation_id} due to node {node} being disconnected");
                Some(PartitionResult::error(
                    ErrorCode::NETWORK_EXCEPTION,
                    Some(m),
                ))
            }
            Err(RequestFailure::Invalid(e)) => Some(PartitionResult::error(
                ErrorCode::NETWORK_EXCEPTION,
                Some(e.to_string()),
            )),
            Ok(_) if self.config.acks == 0 => Some(PartitionResult::error(ErrorCode::NONE, None)),
            Ok(body) => {
                let mut r = Reader::new(&body);
                match ProduceResponse::decode(&mut r, response.api_version) {
                    Ok(resp) => {
                        ignore_trailing_bytes(&r, "ProduceResponse", node);
                        self.apply_produce_response(
                            resp,
                            &request.topic_names,
                            &mut entries,
                            node,
                            response.api_version,
                            correlation_id,
                        );
                        None
                    }
                    Err(e) => {
                        log::error!(
                            "Cannot read the produce response from node {node} (correlation id {correlation_id}): {e}; closing the connection"
                        );
                        let now = self.clock.now();
                        for r in self.client.disconnect(node, now) {
                            self.handle_response(r);
                        }
                        Some(PartitionResult::error(
                            ErrorCode::NETWORK_EXCEPTION,
                            Some(format!("unreadable produce response from node {node}: {e}")),
                        ))
                    }
                }
            }
        };

        let now = self.clock.now();
        for entry in entries {
            let result = match &same_for_all {
                Some(result) => result.clone(),
                None => {
                    // The broker did not mention this partition: its fate is
                    // unknown, and a broker that leaves it out would do so
                    // again; it fails, saying so.
                    log::error!(
                        "The produce response from node {node} (correlation id {correlation_id}) has no result for {}",
                        entry.tp
                    );
                    PartitionResult::error(
                        ErrorCode::UNKNOWN_SERVER_ERROR,
                        Some(format!(
                            "the broker's response did not mention partition {}",
                            entry.tp
                        )),
                    )
                }
            };
            self.complete_entry(entry, result, correlation_id, now, None);
        }
    }

    /// Completes the batches named in a decoded response, taking them out
    /// of `entries` (what is left was not answered); applies the throttle
    /// time and the KIP-951 leader hints.
    fn apply_produce_response(
        &mut self,
        response: ProduceResponse,
        topic_names: &HashMap<Uuid, Arc<str>>,
        entries: &mut Vec<RequestEntry>,
        node: i32,
        version: i16,
        correlation_id: i32,
    ) {
        let now = self.clock.now();
        self.client.maybe_throttle(
            node,
            ApiKey::PRODUCE,
            version,
            response.throttle_time_ms,
            now,
        );
        let mut leader_hints: Vec<(TopicPartition, LeaderIdAndEpoch)> = Vec::new();
        let mut seen: HashSet<TopicPartition> = HashSet::new();
        for topic in response.responses {
            let name: Arc<str> = if topic.name.is_empty() {
                match topic_names.get(&topic.topic_id) {
                    Some(n) => Arc::clone(n),
                    None => {
                        log::warn!(
                            "Produce response from node {node} names an unknown topic id; ignored"
                        );
                        continue;
                    }
                }
            } else {
                Arc::from(topic.name.as_str())
            };
            for p in topic.partition_responses {
                let tp = TopicPartition::new(Arc::clone(&name), p.index);
                let Some(pos) = entries.iter().position(|e| e.tp == tp) else {
                    log::warn!(
                        "Produce response from node {node} (correlation id {correlation_id}) answers {tp}, which was not in the request; ignored"
                    );
                    continue;
                };
                if !seen.insert(tp.clone()) {
                    log::warn!(
                        "Produce response from node {node} (correlation id {correlation_id}) answers {tp} twice; the second answer is ignored"
                    );
                    continue;
                }
                let entry = entries.swap_remove(pos);
                self.complete_entry(
                    entry,
                    PartitionResult::from_response(p),
                    correlation_id,
                    now,
                    Some(&mut leader_hints),
                );
            }
        }
        if !leader_hints.is_empty() {
            let changed = self
                .metadata
                .update_partition_leadership(&leader_hints, &response.node_endpoints);
            for tp in changed {
                log::debug!("For {tp} leader was updated.");
            }
        }
    }

    /// Completes one partition of a request: its batch, or the trace of a
    /// batch that expired while in flight.
    fn complete_entry(
        &mut self,
        entry: RequestEntry,
        result: PartitionResult,
        correlation_id: i32,
        now: Instant,
        leader_hints: Option<&mut Vec<(TopicPartition, LeaderIdAndEpoch)>>,
    ) {
        match entry.batch {
            Some(batch) => self.complete_batch(batch, result, correlation_id, now, leader_hints),
            None => {
                // Expired while in flight: it was failed then. As Java's
                // completeBatch on a done batch, an acknowledgement still
                // advances the partition's sequences.
                let acked =
                    result.error.is_ok() || result.error == ErrorCode::DUPLICATE_SEQUENCE_NUMBER;
                if let (true, Some(tm), Some((key, count))) =
                    (acked, &self.transaction_manager, entry.expired)
                {
                    tm.handle_completed_sequence(&entry.tp, key, count, result.base_offset);
                }
                if result.error.is_invalid_metadata() {
                    self.metadata.request_update(false);
                }
                if self.config.guarantee_message_order {
                    self.accumulator.unmute_partition(&entry.tp);
                }
            }
        }
    }

    /// Java `completeBatch`: split, retry, success or failure of one batch.
    fn complete_batch(
        &mut self,
        mut batch: ProducerBatch,
        result: PartitionResult,
        correlation_id: i32,
        now: Instant,
        leader_hints: Option<&mut Vec<(TopicPartition, LeaderIdAndEpoch)>>,
    ) {
        let tp = batch.topic_partition().clone();
        let error = result.error;
        if error == ErrorCode::MESSAGE_TOO_LARGE && batch.record_count() > 1 && !batch.is_done() {
            // Too large for the broker: split and send the parts again,
            // without counting an attempt.
            log::warn!(
                "Got error produce response in correlation id {correlation_id} on topic-partition {tp}, splitting and retrying ({} attempts left). Error: {}",
                self.config.retries.saturating_sub(batch.attempts()),
                result.describe()
            );
            if let Some(tm) = &self.transaction_manager {
                tm.remove_in_flight_batch(&batch);
            }
            match self.accumulator.split_and_reenqueue(&mut batch) {
                Ok(n) => {
                    log::debug!("Split the batch for {tp} into {n} batches");
                    self.accumulator.deallocate(batch);
                }
                Err(e) => {
                    log::error!("Cannot split the batch for {tp}: {e}");
                    let error = batch_error(&tp, &result);
                    self.fail_batch(batch, error, None, true);
                }
            }
        } else if !error.is_ok() {
            if self.can_retry(&batch, &result, now) {
                log::warn!(
                    "Got error produce response with correlation id {correlation_id} on topic-partition {tp}, retrying ({} attempts left). Error: {}",
                    self.config.retries.saturating_sub(batch.attempts() + 1),
                    result.describe()
                );
                self.accumulator.reenqueue(batch, now);
            } else if error == ErrorCode::DUPLICATE_SEQUENCE_NUMBER {
                // The broker has it already, but no longer the offset it
                // got: success without an offset.
                self.complete_batch_successfully(batch, &result);
            } else {
                // Sequences after it are repaired only if it had retries
                // left; otherwise the broker may have it.
                let adjust = batch.attempts() < self.config.retries;
                let error = batch_error(&tp, &result);
                let record_errors = record_errors(&result);
                self.fail_batch(batch, error, record_errors, adjust);
            }
            if error.is_invalid_metadata() {
                if error == ErrorCode::UNKNOWN_TOPIC_OR_PARTITION {
                    log::warn!(
                        "Received unknown topic or partition error in produce request on partition {tp}. The topic-partition may not exist or the user may not have Describe access to it"
                    );
                } else {
                    log::warn!(
                        "Received invalid metadata error in produce request on partition {tp} due to {} Going to request metadata update now",
                        result.describe()
                    );
                }
                let hint = result.current_leader;
                if matches!(
                    error,
                    ErrorCode::NOT_LEADER_OR_FOLLOWER | ErrorCode::FENCED_LEADER_EPOCH
                ) && hint.leader_id != -1
                    && hint.leader_epoch != -1
                {
                    log::debug!(
                        "For {tp}, received error {}, with leaderIdAndEpoch {hint:?}",
                        error.name()
                    );
                    if let Some(hints) = leader_hints {
                        hints.push((tp.clone(), hint));
                    }
                }
                self.metadata.request_update(false);
            }
        } else {
            self.complete_batch_successfully(batch, &result);
        }
        if self.config.guarantee_message_order {
            self.accumulator.unmute_partition(&tp);
        }
    }

    /// Java `Sender.canRetry`: time and attempts left, not done, and the
    /// error retriable (with idempotence: by the transaction manager's
    /// rules).
    fn can_retry(&self, batch: &ProducerBatch, result: &PartitionResult, now: Instant) -> bool {
        !batch.has_reached_delivery_timeout(self.config.delivery_timeout, now)
            && batch.attempts() < self.config.retries
            && !batch.is_done()
            && match &self.transaction_manager {
                None => result.error.is_retriable(),
                Some(tm) => tm.can_retry(result.error, result.log_start_offset, batch),
            }
    }

    fn complete_batch_successfully(&mut self, mut batch: ProducerBatch, result: &PartitionResult) {
        if let Some(tm) = &self.transaction_manager {
            if batch.has_sequence() {
                tm.handle_completed_batch(&batch, result.base_offset);
            }
        }
        batch.complete(result.base_offset, result.log_append_time);
        self.accumulator.deallocate(batch);
    }

    /// Java `failBatch`: the batch fails for good; with idempotence the
    /// transaction manager then decides on fatal errors and sequence
    /// repair (`adjust_sequence_numbers`: the gap it leaves is closed).
    pub(super) fn fail_batch(
        &mut self,
        mut batch: ProducerBatch,
        error: Error,
        record_errors: Option<RecordErrors>,
        adjust_sequence_numbers: bool,
    ) {
        // Java updates the transaction manager after completing the batch;
        // doing it first (only this thread completes batches, so the batch
        // stays incomplete in between) means that a caller woken by the
        // failure already sees the producer's new state, e.g. fatal.
        if !batch.is_done() {
            if let Some(tm) = &self.transaction_manager {
                tm.handle_failed_batch(&batch, &error, adjust_sequence_numbers);
            }
        }
        batch.complete_exceptionally(error, record_errors);
        self.accumulator.deallocate(batch);
    }

    fn forget_in_flight(&mut self, tp: &TopicPartition, batch_id: u64) {
        if let Some(q) = self.in_flight_batches.get_mut(tp) {
            q.retain(|b| b.batch_id != batch_id);
            if q.is_empty() {
                self.in_flight_batches.remove(tp);
            }
        }
    }
}

/// The error a failed batch reports (Java's exception per error code).
fn batch_error(tp: &TopicPartition, result: &PartitionResult) -> Error {
    match result.error {
        ErrorCode::TOPIC_AUTHORIZATION_FAILED => topic_authorization_error(tp.topic()),
        ErrorCode::CLUSTER_AUTHORIZATION_FAILED => Error::Broker {
            code: result.error,
            message: Some("The producer is not authorized to do idempotent sends".to_owned()),
        },
        ErrorCode::MESSAGE_TOO_LARGE => Error::RecordTooLarge(format!(
            "{tp}: {}",
            result
                .error_message
                .as_deref()
                .unwrap_or(ErrorCode::MESSAGE_TOO_LARGE.message())
        )),
        code => Error::Broker {
            code,
            message: result.error_message.clone(),
        },
    }
}

/// Per-record errors (produce v8+, KIP-467), as Java builds them: with a
/// single record error, that record gets the partition's error code; with
/// several, each gets `INVALID_RECORD`; each with the record's message (or
/// the partition's, or the code's); the others in the batch get a generic
/// error.
fn record_errors(result: &PartitionResult) -> Option<RecordErrors> {
    if result.record_errors.is_empty() {
        return None;
    }
    let single = result.record_errors.len() == 1;
    let by_index = result
        .record_errors
        .iter()
        .map(|e| {
            let message = e
                .batch_index_error_message
                .clone()
                .or_else(|| result.error_message.clone())
                .unwrap_or_else(|| result.error.message().to_owned());
            let code = if single {
                result.error
            } else {
                ErrorCode::INVALID_RECORD
            };
            (
                e.batch_index,
                Error::Broker {
                    code,
                    message: Some(message),
                },
            )
        })
        .collect();
    Some(RecordErrors::new(
        by_index,
        Error::Other(
            "Failed to append record because it was part of a batch which had one more more invalid records"
                .to_owned(),
        ),
    ))
}
