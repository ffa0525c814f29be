//! The idempotent producer's producer id: the `InitProducerId` exchange
//! (Java's `InitProducerIdHandler` run by `maybeSendAndPollTransactionalRequest`
//! for a producer without `transactional.id`).
//!
//! ```text
//!  no producer id ─▶ least-loaded node ready? ─▶ InitProducerId(null id, no timeout)
//!     ▲                                              │
//!     │ retriable error, disconnect, timeout,        ├─ NONE ─▶ id + epoch installed; partitions
//!     │ unreadable answer (backoff)                  │          waiting for a re-sequencing restart
//!     │ authorization error: queued batches fail,    │          at 0 under it
//!     └──────── then try again ◀─────────────────────┤
//!                                                    └─ fenced, unexpected error, no InitProducerId
//!                                                       at all ─▶ fatal
//! ```
//!
//! While it waits, batches past `delivery.timeout.ms` expire as they would
//! when sending (Java's sender expires nothing until it has an id).
//!
//! The epoch is bumped without the broker (KIP-360 for idempotent
//! producers): see the transaction manager. The broker is asked again only
//! when the producer id was reset (its epoch ran out).

use std::time::{Duration, Instant};

use super::{RequestKey, Sender};
use crate::clients::network_client::{ignore_trailing_bytes, ClientResponse, KafkaClient};
use crate::error::Error;
use crate::producer::internals::producer_metadata::ProducerTopics;
use crate::producer::internals::transaction_manager::{ProducerIdAndEpoch, TransactionManager};
use crate::protocol::api_key::ApiKey;
use crate::protocol::codec::Reader;
use crate::protocol::error_code::ErrorCode;
use crate::protocol::messages::init_producer_id::{InitProducerIdRequest, InitProducerIdResponse};
use crate::util::backoff::ExponentialBackoff;

/// The state of the `InitProducerId` exchange.
#[derive(Debug)]
pub(super) struct ProducerIdRequest {
    pub(super) in_flight: Option<RequestKey>,
    /// No new attempt before this (retry backoff after a failure).
    pub(super) next_attempt: Option<Instant>,
    pub(super) failures: u32,
    pub(super) backoff: ExponentialBackoff,
}

impl<C: KafkaClient<Policy = ProducerTopics>> Sender<C> {
    /// Gets a producer id before anything is sent (Java
    /// `bumpIdempotentEpochAndResetIdIfNeeded` +
    /// `maybeSendAndPollTransactionalRequest`, without blocking: readiness
    /// and backoff are waited for by polling). Returns true when this
    /// iteration is done.
    pub(super) fn maybe_send_and_poll_producer_id_request(
        &mut self,
        tm: &TransactionManager,
    ) -> bool {
        if tm.has_producer_id() {
            return false;
        }
        // Java expires nothing while it waits for a producer id, so a
        // record sent when no broker can give one (all unreachable) waits
        // forever; `delivery.timeout.ms` is documented as the bound, so
        // batches expire here as they would when sending.
        let now = self.clock.now();
        let next_expiry = self.expire_batches(now);
        let wait =
            |d: Duration| next_expiry.map_or(d, |at| d.min(at.saturating_duration_since(now)));
        if self.producer_id_request.in_flight.is_some() {
            self.poll(wait(self.config.retry_backoff));
            return true;
        }
        if let Some(at) = self.producer_id_request.next_attempt {
            if at > now {
                self.poll(wait(at.saturating_duration_since(now)));
                return true;
            }
        }
        let Some(node) = self.client.least_loaded_node(now).node else {
            log::trace!("No nodes available to send requests, will poll and retry when until a node is ready.");
            self.poll(wait(self.config.retry_backoff));
            return true;
        };
        if !self.client.ready(&node, now) {
            log::trace!("Target node {node} not ready, will retry when node is ready.");
            let delay = self
                .client
                .poll_delay(node.id, now)
                .min(self.config.retry_backoff);
            self.poll(wait(delay));
            return true;
        }
        let request = InitProducerIdRequest {
            transactional_id: None,
            // Java's idempotent producer asks for no transaction timeout.
            transaction_timeout_ms: i32::MAX,
            ..InitProducerIdRequest::default()
        };
        let sent = self.client.send(
            node.id,
            ApiKey::INIT_PRODUCER_ID,
            None,
            |v, out| request.encode(out.bytes_mut(), v).map_err(Error::from),
            true,
            self.config.request_timeout,
            now,
        );
        match sent {
            Ok(correlation_id) => {
                log::debug!(
                    "Sending InitProducerId request to node {node} with correlation ID {correlation_id}"
                );
                self.producer_id_request.in_flight = Some(RequestKey {
                    node: node.id,
                    correlation_id,
                });
            }
            Err(e @ Error::Unsupported(_)) => {
                log::error!("Cannot get a producer id from node {node}: {e}");
                tm.transition_to_fatal_error(e);
            }
            Err(e) => {
                log::warn!("Cannot send InitProducerId to node {node}: {e}");
                self.producer_id_request_failed(now);
            }
        }
        self.poll(wait(self.config.retry_backoff));
        true
    }

    fn producer_id_request_failed(&mut self, now: Instant) {
        let r = &mut self.producer_id_request;
        r.in_flight = None;
        r.next_attempt = now.checked_add(r.backoff.backoff(r.failures));
        r.failures = r.failures.saturating_add(1);
    }

    /// Java `InitProducerIdHandler.handleResponse` for an idempotent
    /// producer.
    pub(super) fn handle_init_producer_id_response(&mut self, response: ClientResponse) {
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
                    "Cannot read the InitProducerId response from node {}: {e}; closing the connection",
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
        match resp.error_code {
            ErrorCode::NONE => {
                let producer = ProducerIdAndEpoch::new(resp.producer_id, resp.producer_epoch);
                if !producer.is_valid() || producer.epoch < 0 {
                    log::error!(
                        "InitProducerId from node {} answered the invalid producer {producer}; retrying",
                        key.node
                    );
                    self.producer_id_request_failed(now);
                    return;
                }
                let rewrites = tm.init_producer_id_completed(producer);
                self.apply_sequence_rewrites(rewrites);
                self.producer_id_request.failures = 0;
                self.producer_id_request.next_attempt = None;
            }
            ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED
            | ErrorCode::CLUSTER_AUTHORIZATION_FAILED => {
                // Java: an abortable error, which the sender handles at
                // once (`shouldHandleAuthorizationError`): every batch fails
                // with it and the producer asks again (the permission may
                // be granted meanwhile).
                let error = Error::Broker {
                    code: resp.error_code,
                    message: Some(
                        if resp.error_code == ErrorCode::CLUSTER_AUTHORIZATION_FAILED {
                            "The producer is not authorized to do idempotent sends".to_owned()
                        } else {
                            resp.error_code.message().to_owned()
                        },
                    ),
                };
                log::info!(
                    "Abortable authorization error: {error}.  Transition the producer state to UNINITIALIZED"
                );
                self.maybe_abort_batches(&error);
                self.producer_id_request_failed(now);
            }
            ErrorCode::INVALID_PRODUCER_EPOCH | ErrorCode::PRODUCER_FENCED => {
                let error = Error::Broker {
                    code: ErrorCode::PRODUCER_FENCED,
                    message: None,
                };
                log::error!("Cannot get a producer id: {error}");
                tm.transition_to_fatal_error(error);
            }
            code if code.is_retriable() || code == ErrorCode::TRANSACTION_ABORTABLE => {
                log::debug!("InitProducerId answered {}; retrying", code.name());
                self.producer_id_request_failed(now);
            }
            code => {
                let error = Error::Broker {
                    code,
                    message: Some(format!(
                        "Unexpected error in InitProducerIdResponse; {}",
                        code.message()
                    )),
                };
                log::error!("Cannot get a producer id: {error}");
                tm.transition_to_fatal_error(error);
            }
        }
    }
}
