//! What the sender does with answers: produce responses per partition
//! (Java `handleProduceResponse` / `completeBatch` / `failBatch`, §6 G-4)
//! and the idempotent producer's `InitProducerId` answer.
//!
//! ```text
//!  per partition:  NONE, DUPLICATE_SEQUENCE_NUMBER ─▶ complete(base offset, append time)
//!                  retriable, time and attempts left ─▶ re-enqueue at the head (backoff)
//!                  anything else ─▶ fail (Java's exception messages)
//!                  invalid metadata ─▶ metadata update requested
//!  always:         in-flight bookkeeping, unmute (max.in.flight == 1), buffer back
//!  disconnect / timeout / unreadable answer ─▶ NETWORK_EXCEPTION / REQUEST_TIMED_OUT
//!  acks=0 ─▶ complete with offset -1 once written
//! ```
//!
//! Not here yet (next issue): splitting a batch on `MESSAGE_TOO_LARGE`
//! (it fails instead), epoch bumps and sequence repair after
//! `OUT_OF_ORDER_SEQUENCE_NUMBER` / `UNKNOWN_PRODUCER_ID` (they fail the
//! batch), resolving unresolved sequences.

use std::collections::HashSet;
use std::time::Instant;

use super::{RequestKey, Sender};
use crate::clients::metadata::topic_authorization_error;
use crate::clients::network_client::{ignore_trailing_bytes, ClientResponse, RequestFailure};
use crate::common::TopicPartition;
use crate::error::Error;
use crate::producer::future::RecordErrors;
use crate::producer::internals::producer_batch::ProducerBatch;
use crate::producer::internals::transaction_manager::ProducerIdAndEpoch;
use crate::protocol::api_key::ApiKey;
use crate::protocol::codec::Reader;
use crate::protocol::error_code::ErrorCode;
use crate::protocol::messages::init_producer_id::InitProducerIdResponse;
use crate::protocol::messages::produce::{
    BatchIndexAndErrorMessage, LeaderIdAndEpoch, PartitionProduceResponse, ProduceResponse,
};
use crate::record::NO_TIMESTAMP;

/// One partition's answer, as `completeBatch` needs it (Java
/// `ProduceResponse.PartitionResponse`).
#[derive(Debug)]
pub(super) struct PartitionResult {
    error: ErrorCode,
    base_offset: i64,
    log_append_time: i64,
    error_message: Option<String>,
    record_errors: Vec<BatchIndexAndErrorMessage>,
}

impl PartitionResult {
    fn error(error: ErrorCode, message: Option<String>) -> Self {
        PartitionResult {
            error,
            base_offset: -1,
            log_append_time: NO_TIMESTAMP,
            error_message: message,
            record_errors: Vec::new(),
        }
    }

    fn from_response(p: PartitionProduceResponse) -> Self {
        PartitionResult {
            error: p.error_code,
            base_offset: p.base_offset,
            log_append_time: p.log_append_time_ms,
            error_message: p.error_message,
            record_errors: p.record_errors,
        }
    }

    /// Java `formatErrMsg`.
    fn describe(&self) -> String {
        match &self.error_message {
            Some(m) => format!("{}. Error Message: {m}", self.error.name()),
            None => self.error.name().to_owned(),
        }
    }
}

impl Sender {
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
        let now = self.clock.now();
        let correlation_id = response.correlation_id;
        let node = response.destination;
        log::trace!(
            "Received produce response from node {node} with correlation id {correlation_id} after {} ms",
            response.received.saturating_duration_since(response.created).as_millis()
        );
        let mut entries = request.entries;
        for (tp, batch) in &entries {
            if let Some(b) = batch {
                self.forget_in_flight(tp, b.id());
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
                            now,
                        );
                        None
                    }
                    Err(e) => {
                        log::error!(
                            "Cannot read the produce response from node {node} (correlation id {correlation_id}): {e}; closing the connection"
                        );
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

        for (tp, batch) in entries {
            match (&same_for_all, batch) {
                (Some(result), Some(batch)) => {
                    let result = PartitionResult {
                        error: result.error,
                        base_offset: result.base_offset,
                        log_append_time: result.log_append_time,
                        error_message: result.error_message.clone(),
                        record_errors: Vec::new(),
                    };
                    self.complete_batch(batch, result, correlation_id, now);
                }
                (None, Some(batch)) => {
                    // The broker did not mention this partition.
                    log::error!(
                        "The produce response from node {node} (correlation id {correlation_id}) has no result for {tp}"
                    );
                    let result = PartitionResult::error(
                        ErrorCode::UNKNOWN_SERVER_ERROR,
                        Some(format!(
                            "the broker's response did not mention partition {tp}"
                        )),
                    );
                    self.complete_batch(batch, result, correlation_id, now);
                }
                (_, None) => {
                    // Expired while in flight: it was failed then; only the
                    // partition may still be muted.
                    if self.config.guarantee_message_order {
                        self.accumulator.unmute_partition(&tp);
                    }
                }
            }
        }
    }

    /// Completes the batches named in a decoded response, taking them out
    /// of `entries`; applies KIP-951 leader hints and the throttle time.
    #[allow(clippy::too_many_arguments)]
    fn apply_produce_response(
        &mut self,
        response: ProduceResponse,
        topic_names: &std::collections::HashMap<[u8; 16], std::sync::Arc<str>>,
        entries: &mut [(TopicPartition, Option<ProducerBatch>)],
        node: i32,
        version: i16,
        correlation_id: i32,
        now: Instant,
    ) {
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
            let name: std::sync::Arc<str> = if topic.name.is_empty() {
                match topic_names.get(&topic.topic_id) {
                    Some(n) => std::sync::Arc::clone(n),
                    None => {
                        log::warn!("Produce response from node {node} names an unknown topic id");
                        continue;
                    }
                }
            } else {
                std::sync::Arc::from(topic.name.as_str())
            };
            for p in topic.partition_responses {
                let tp = TopicPartition::new(std::sync::Arc::clone(&name), p.index);
                if p.current_leader.leader_id >= 0 {
                    leader_hints.push((tp.clone(), p.current_leader));
                }
                let Some(slot) = entries.iter_mut().find(|(t, _)| *t == tp) else {
                    log::warn!("Produce response from node {node} names {tp}, which was not in the request");
                    continue;
                };
                seen.insert(tp.clone());
                match slot.1.take() {
                    Some(batch) => self.complete_batch(
                        batch,
                        PartitionResult::from_response(p),
                        correlation_id,
                        now,
                    ),
                    None if self.config.guarantee_message_order => {
                        self.accumulator.unmute_partition(&tp);
                    }
                    None => {}
                }
            }
        }
        // Partitions the response left out stay in `entries` (failed by
        // the caller); mark the answered ones done.
        for (tp, batch) in entries.iter_mut() {
            if seen.contains(tp) {
                *batch = None;
            }
        }
        if !leader_hints.is_empty() {
            let changed = self
                .metadata
                .update_partition_leadership(&leader_hints, &response.node_endpoints);
            if !changed.is_empty() {
                log::debug!(
                    "Updated partition leadership from the produce response for {changed:?}"
                );
            }
        }
    }

    /// Java `completeBatch`: success, retry or failure of one batch.
    fn complete_batch(
        &mut self,
        batch: ProducerBatch,
        result: PartitionResult,
        correlation_id: i32,
        now: Instant,
    ) {
        let tp = batch.topic_partition().clone();
        if result.error.is_ok() {
            self.complete_batch_successfully(batch, &result);
        } else if result.error == ErrorCode::DUPLICATE_SEQUENCE_NUMBER {
            // The broker has it already (an earlier attempt was written).
            self.complete_batch_successfully(batch, &result);
        } else {
            if result.error.is_invalid_metadata() {
                if result.error == ErrorCode::UNKNOWN_TOPIC_OR_PARTITION {
                    log::warn!(
                        "Received unknown topic or partition error in produce request on partition {tp}. The topic-partition may not exist or the user may not have Describe access to it"
                    );
                } else {
                    log::warn!(
                        "Received invalid metadata error in produce request on partition {tp} due to {}. Going to request metadata update now",
                        result.describe()
                    );
                }
                self.metadata.request_update(false);
            }
            if self.can_retry(&batch, &result, now) {
                let same_producer = self.transaction_manager.as_ref().map_or(true, |tm| {
                    tm.producer_id_and_epoch()
                        == ProducerIdAndEpoch::new(batch.producer_id(), batch.producer_epoch())
                });
                if same_producer {
                    log::warn!(
                        "Got error produce response with correlation id {correlation_id} on topic-partition {tp}, retrying ({} attempts left). Error: {}",
                        self.config.retries.saturating_sub(batch.attempts() + 1),
                        result.describe()
                    );
                    self.accumulator.reenqueue(batch, now);
                } else {
                    let error = Error::Other(format!(
                        "Attempted to retry sending a batch but the producer id changed from {} to {} in the mean time. This batch will be dropped.",
                        batch.producer_id(),
                        self.transaction_manager
                            .as_ref()
                            .map_or(-1, |tm| tm.producer_id_and_epoch().producer_id)
                    ));
                    self.fail_batch(batch, error, None, now);
                }
            } else {
                let error = batch_error(&tp, &result);
                let record_errors = record_errors(&result, &error);
                self.fail_batch(batch, error, record_errors, now);
            }
        }
        if self.config.guarantee_message_order {
            self.accumulator.unmute_partition(&tp);
        }
    }

    /// Java `canRetry`: time and attempts left, not done, retriable error.
    fn can_retry(&self, batch: &ProducerBatch, result: &PartitionResult, now: Instant) -> bool {
        !batch.has_reached_delivery_timeout(self.config.delivery_timeout, now)
            && batch.attempts() < self.config.retries
            && !batch.is_done()
            && (result.error.is_retriable() || self.out_of_order_but_not_next(batch, result))
    }

    /// Java `TransactionManager.canRetry` for `OUT_OF_ORDER_SEQUENCE_NUMBER`:
    /// when the batch is not the partition's next sequence, an earlier
    /// batch failed and will be retried first, so this one is retried too.
    /// A real gap (the batch is the next one) needs an epoch bump, which
    /// comes with the next issue: that batch fails.
    fn out_of_order_but_not_next(&self, batch: &ProducerBatch, result: &PartitionResult) -> bool {
        let Some(tm) = &self.transaction_manager else {
            return false;
        };
        if result.error != ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER {
            return false;
        }
        let tp = batch.topic_partition();
        let next = crate::record::increment_sequence(tm.last_acked_sequence(tp).unwrap_or(-1), 1);
        !tm.has_unresolved_sequence(tp)
            && (batch.sequence_has_been_reset() || batch.base_sequence() != next)
    }

    fn complete_batch_successfully(&mut self, mut batch: ProducerBatch, result: &PartitionResult) {
        if let Some(tm) = &self.transaction_manager {
            if batch.has_sequence() {
                tm.handle_completed_batch(&batch);
            }
        }
        batch.complete(result.base_offset, result.log_append_time);
        self.accumulator.deallocate(batch);
    }

    /// Java `failBatch`: the batch fails for good; fatal errors stop the
    /// idempotent producer.
    pub(super) fn fail_batch(
        &mut self,
        mut batch: ProducerBatch,
        error: Error,
        record_errors: Option<RecordErrors>,
        _now: Instant,
    ) {
        if let Some(tm) = &self.transaction_manager {
            if is_fatal_for_idempotence(&error) {
                tm.transition_to_fatal_error(error.clone());
            }
            if batch.has_sequence() {
                tm.remove_in_flight_batch(&batch);
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

    fn handle_init_producer_id_response(&mut self, response: ClientResponse) {
        let key = RequestKey {
            node: response.destination,
            correlation_id: response.correlation_id,
        };
        if self.producer_id_request.in_flight != Some(key) {
            log::debug!(
                "Ignoring a stale InitProducerId response from node {}",
                key.node
            );
            return;
        }
        self.producer_id_request.in_flight = None;
        let now = self.clock.now();
        let Some(tm) = self.transaction_manager.clone() else {
            return;
        };
        let body = match response.body {
            Ok(body) => body,
            Err(e) => {
                log::debug!("InitProducerId to node {} failed: {e}; retrying", key.node);
                self.producer_id_request_failed(now);
                return;
            }
        };
        let mut r = Reader::new(&body);
        let resp = match InitProducerIdResponse::decode(&mut r, response.api_version) {
            Ok(resp) => {
                ignore_trailing_bytes(&r, "InitProducerIdResponse", key.node);
                resp
            }
            Err(e) => {
                log::error!(
                    "Cannot read the InitProducerId response from node {}: {e}",
                    key.node
                );
                for r in self.client.disconnect(key.node, now) {
                    self.handle_response(r);
                }
                self.producer_id_request_failed(now);
                return;
            }
        };
        self.client.maybe_throttle(
            key.node,
            ApiKey::INIT_PRODUCER_ID,
            response.api_version,
            resp.throttle_time_ms,
            now,
        );
        if resp.error_code.is_ok() {
            tm.set_producer_id_and_epoch(ProducerIdAndEpoch::new(
                resp.producer_id,
                resp.producer_epoch,
            ));
            self.producer_id_request.failures = 0;
            self.producer_id_request.next_attempt = None;
        } else if resp.error_code.is_retriable() {
            log::debug!(
                "InitProducerId answered {}; retrying",
                resp.error_code.name()
            );
            self.producer_id_request_failed(now);
        } else {
            let error = match resp.error_code {
                ErrorCode::CLUSTER_AUTHORIZATION_FAILED => Error::Broker {
                    code: resp.error_code,
                    message: Some(
                        "The producer is not authorized to do idempotent sends".to_owned(),
                    ),
                },
                code => Error::Broker {
                    code,
                    message: None,
                },
            };
            log::error!("Cannot get a producer id: {error}");
            tm.transition_to_fatal_error(error);
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
        code => Error::Broker {
            code,
            message: result.error_message.clone(),
        },
    }
}

/// Per-record errors (produce v8+, KIP-467), as Java builds them: with a
/// single record error, that record gets the partition's error; with
/// several, each gets `INVALID_RECORD`; the others in the batch get a
/// generic error.
fn record_errors(result: &PartitionResult, top_level: &Error) -> Option<RecordErrors> {
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
                match top_level {
                    Error::Broker { code, .. } => *code,
                    _ => result.error,
                }
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

/// Errors that put an idempotent producer in the fatal state (Java
/// `maybeTransitionToErrorState`).
fn is_fatal_for_idempotence(error: &Error) -> bool {
    matches!(
        error.code(),
        Some(
            ErrorCode::CLUSTER_AUTHORIZATION_FAILED
                | ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED
                | ErrorCode::PRODUCER_FENCED
                | ErrorCode::UNSUPPORTED_VERSION
        )
    ) || matches!(error, Error::Unsupported(_))
}
