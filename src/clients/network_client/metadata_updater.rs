//! The metadata updater of [`NetworkClient`] (Java
//! `DefaultMetadataUpdater`): when an update is due, a metadata request to
//! the least-loaded node (connecting to one first if needed), the answer
//! applied to `Metadata`, and rebootstrap (KIP-899) when no node is left.

use std::time::{Duration, Instant};

use super::poll::Disconnection;
use super::{NetworkClient, RequestKind};
use crate::clients::in_flight_requests::InFlightRequest;
use crate::clients::metadata::TopicPolicy;
use crate::common::Node;
use crate::error::Error;
use crate::protocol::api_key::ApiKey;
use crate::protocol::codec::Reader;
use crate::protocol::error_code::ErrorCode;
use crate::protocol::messages::metadata::MetadataResponse;

impl<P: TopicPolicy> NetworkClient<P> {
    /// Decodes and applies a metadata response; false if it was unreadable.
    pub(super) fn handle_metadata_response(
        &mut self,
        request: &InFlightRequest<RequestKind>,
        request_version: u64,
        is_partial_update: bool,
        body: &[u8],
        now: Instant,
    ) -> bool {
        self.metadata_fetch_in_progress = false;
        let mut r = Reader::new(body);
        let response = match MetadataResponse::decode(&mut r, request.api_version) {
            Ok(resp) => {
                super::ignore_trailing_bytes(&r, "MetadataResponse", request.destination);
                resp
            }
            Err(e) => {
                log::error!(
                    "Cannot read the metadata response from node {}: {e}; closing the connection",
                    request.destination
                );
                self.metadata.failed_update(now);
                return false;
            }
        };
        self.maybe_throttle(
            request.destination,
            ApiKey::METADATA,
            request.api_version,
            response.throttle_time_ms,
            now,
        );
        let errors: Vec<String> = response
            .topics
            .iter()
            .filter(|t| !t.error_code.is_ok())
            .map(|t| {
                format!(
                    "{}={}",
                    t.name.as_deref().unwrap_or("?"),
                    t.error_code.name()
                )
            })
            .collect();
        if !errors.is_empty() {
            log::warn!(
                "Error while fetching metadata with correlation id {} : {{{}}}",
                request.correlation_id,
                errors.join(", ")
            );
        }
        let listener_not_found: Vec<String> = response
            .topics
            .iter()
            .flat_map(|t| {
                t.partitions
                    .iter()
                    .filter(|p| p.error_code == ErrorCode::LISTENER_NOT_FOUND)
                    .map(move |p| {
                        format!("{}-{}", t.name.as_deref().unwrap_or("?"), p.partition_index)
                    })
            })
            .collect();
        if !listener_not_found.is_empty() {
            log::warn!(
                "{} partitions have leader brokers without a matching listener, including {:?}",
                listener_not_found.len(),
                &listener_not_found[..listener_not_found.len().min(10)]
            );
        }
        let outcome = self
            .metadata
            .update(request_version, &response, is_partial_update, now);
        log::debug!(
            "Metadata response with correlation id {} from node {}: {:?}",
            request.correlation_id,
            request.destination,
            outcome
        );
        true
    }

    /// Java `DefaultMetadataUpdater.maybeUpdate`: sends a metadata request
    /// when one is due; returns how long the poll may wait as far as
    /// metadata is concerned.
    pub(super) fn maybe_update_metadata(&mut self, now: Instant) -> Duration {
        let time_to_next = self.metadata.time_to_next_update(now);
        let wait_for_fetch = if self.metadata_fetch_in_progress {
            self.config.request_timeout
        } else {
            Duration::ZERO
        };
        let timeout = time_to_next.max(wait_for_fetch);
        if !timeout.is_zero() {
            return timeout;
        }
        self.metadata.note_update_attempt(now);
        let mut least_loaded = self.least_loaded_node(now);
        // Rebootstrapping from the bootstrap nodes themselves changes
        // nothing but the metadata version, and each new version wakes the
        // callers waiting in `send` for metadata, who ask for an update and
        // wake this thread again: with every bootstrap broker refusing
        // connections that loop burnt a core. So only leave real metadata.
        let stuck = self.config.rebootstrap
            && least_loaded.node.is_none()
            && !least_loaded.at_least_one_connection_ready
            && !self.metadata.fetch().is_bootstrap();
        if stuck || self.metadata.needs_rebootstrap(now) {
            self.rebootstrap(now);
            least_loaded = self.least_loaded_node(now);
        }
        let Some(node) = least_loaded.node else {
            log::debug!("Give up sending metadata request since no node is available");
            return self.config.reconnect_backoff;
        };
        self.maybe_update_metadata_from(&node, now)
    }

    pub(super) fn maybe_update_metadata_from(&mut self, node: &Node, now: Instant) -> Duration {
        if self.can_send_request(node.id, now) {
            let request = self.metadata.new_metadata_request(now);
            log::debug!(
                "Sending metadata request {:?} to node {node}",
                request.request
            );
            let kind = RequestKind::Metadata {
                request_version: request.request_version,
                is_partial_update: request.is_partial_update,
            };
            let versions = match self
                .api_versions
                .get(node.id)
                .map(|v| v.latest_usable_version(ApiKey::METADATA))
            {
                Some(Ok(v)) => v,
                Some(Err(e)) => {
                    log::error!("Cannot send metadata requests to node {node}: {e}");
                    self.metadata.fatal_error(e.into());
                    self.metadata.failed_update(now);
                    return self.config.reconnect_backoff;
                }
                None => return self.config.reconnect_backoff,
            };
            let sent = self.do_send(
                node.id,
                ApiKey::METADATA,
                versions,
                |v, out| {
                    request
                        .request
                        .encode(out.bytes_mut(), v)
                        .map_err(Error::from)
                },
                true,
                self.config.request_timeout,
                kind,
                now,
            );
            return match sent {
                Ok(_) => {
                    self.metadata_fetch_in_progress = true;
                    self.config.request_timeout
                }
                Err(e) => {
                    log::warn!("Cannot send the metadata request to node {node}: {e}");
                    self.metadata.failed_update(now);
                    self.config.reconnect_backoff
                }
            };
        }
        // A connection being set up will serve: do not open more meanwhile.
        if self.states.is_any_node_connecting() {
            return self.config.reconnect_backoff;
        }
        if self.states.can_connect(node.id, now) {
            log::debug!("Initialize connection to node {node} for sending metadata request");
            self.initiate_connect(node, now);
            return self.config.reconnect_backoff;
        }
        // Connected but busy, or checking versions: an event will come.
        Duration::MAX
    }

    /// Goes back to the bootstrap servers (KIP-899): every connection is
    /// closed and the bootstrap nodes become the cluster again.
    pub(super) fn rebootstrap(&mut self, now: Instant) {
        let nodes: Vec<i32> = self.addresses.keys().copied().collect();
        let mut dropped = Vec::new();
        for node in nodes {
            if self.selector.close(node) {
                self.process_disconnection(
                    &mut dropped,
                    node,
                    now,
                    Disconnection::local("rebootstrap"),
                );
            }
        }
        if !dropped.is_empty() {
            log::warn!(
                "{} request(s) cancelled by a rebootstrap were dropped",
                dropped.len()
            );
        }
        self.metadata.rebootstrap(now);
    }
}
