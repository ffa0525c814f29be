//! The receiving half of [`NetworkClient`]: `poll` and its handlers, in
//! Java's order (completed sends, completed receives, disconnections, new
//! connections, the ApiVersions handshake, connection setup and request
//! timeouts), and the metadata updater (Java `DefaultMetadataUpdater`).

use std::collections::HashSet;
use std::fmt;
use std::time::{Duration, Instant};

use super::{ClientResponse, NetworkClient, RequestFailure, RequestKind, API_VERSIONS_MAX};
use crate::clients::api_versions::NodeApiVersions;
use crate::clients::in_flight_requests::InFlightRequest;
use crate::clients::metadata::TopicPolicy;
use crate::error::Error;
use crate::network::DisconnectReason;
use crate::protocol::api_key::{response_header_version, ApiKey};
use crate::protocol::codec::Reader;
use crate::protocol::error_code::ErrorCode;
use crate::protocol::header::ResponseHeader;
use crate::protocol::messages::api_versions::{ApiVersionsRequest, ApiVersionsResponse};

impl<P: TopicPolicy> NetworkClient<P> {
    // ---- polling -----------------------------------------------------

    /// Does the network I/O: sends a metadata request if one is due, waits
    /// at most `timeout` (and never longer than `request.timeout.ms` or the
    /// next metadata update) for I/O, then handles completed sends,
    /// responses, disconnections, new connections and timeouts, in Java's
    /// order. Returns the responses to user requests.
    pub(crate) fn poll(&mut self, timeout: Duration, now: Instant) -> Vec<ClientResponse> {
        let mut responses = Vec::new();
        if self.closed {
            return responses;
        }
        let metadata_timeout = self.maybe_update_metadata(now);
        let wait = timeout
            .min(metadata_timeout)
            .min(self.config.request_timeout);
        if let Err(e) = self.selector.poll(wait) {
            log::error!("Unexpected error during I/O: {e}");
        }
        let now = self.clock.now();
        self.handle_completed_sends(&mut responses, now);
        self.handle_completed_receives(&mut responses, now);
        self.handle_disconnections(&mut responses, now);
        self.handle_connections();
        self.handle_initiate_api_versions_requests(now);
        self.handle_timed_out_connections(&mut responses, now);
        self.handle_timed_out_requests(&mut responses, now);
        responses
    }

    pub(super) fn handle_completed_sends(
        &mut self,
        responses: &mut Vec<ClientResponse>,
        now: Instant,
    ) {
        let sends = self.selector.completed_sends().to_vec();
        for send in sends {
            for request in self.in_flight.mark_sends_completed(send.node, send.frames) {
                responses.push(completed(&request, now, Ok(Vec::new())));
            }
        }
    }

    pub(super) fn handle_completed_receives(
        &mut self,
        responses: &mut Vec<ClientResponse>,
        now: Instant,
    ) {
        let mut closed: HashSet<i32> = HashSet::new();
        for receive in self.selector.take_completed_receives() {
            let node = receive.node;
            if closed.contains(&node) {
                continue;
            }
            let mut payload = receive.payload;
            let Some(next) = self.in_flight.next_to_complete(node) else {
                log::error!(
                    "Received a response from node {node} ({}) with no request in flight; closing the connection",
                    self.address_of(node)
                );
                self.close_after_bad_response(responses, node, now, None);
                closed.insert(node);
                continue;
            };
            let (api_key, version, expected) =
                (next.api_key, next.api_version, next.correlation_id);
            let mut r = Reader::new(&payload);
            let header = ResponseHeader::decode(&mut r, response_header_version(api_key, version));
            let body_start = payload.len() - r.remaining();
            match header {
                Err(e) => {
                    let error = Error::Other(format!(
                        "cannot read the {} response header from node {node}: {e}",
                        api_key.name()
                    ));
                    log::error!("{error}; closing the connection");
                    self.close_after_bad_response(responses, node, now, Some(error));
                    closed.insert(node);
                }
                Ok(h) if h.correlation_id != expected => {
                    let error = Error::Other(format!(
                        "Correlation id for response ({}) does not match request ({expected}) from node {node}, request header: {} v{version}",
                        h.correlation_id,
                        api_key.name()
                    ));
                    log::error!("{error}; closing the connection");
                    self.close_after_bad_response(responses, node, now, Some(error));
                    closed.insert(node);
                }
                Ok(_) => {
                    let Some(request) = self.in_flight.complete_next(node) else {
                        continue;
                    };
                    payload.drain(..body_start);
                    log::trace!(
                        "Completed receive from node {node} for {} with correlation id {expected}",
                        api_key.name()
                    );
                    match request.payload {
                        RequestKind::User => responses.push(completed(&request, now, Ok(payload))),
                        RequestKind::Metadata {
                            request_version,
                            is_partial_update,
                        } => {
                            if !self.handle_metadata_response(
                                &request,
                                request_version,
                                is_partial_update,
                                &payload,
                                now,
                            ) {
                                self.close_after_bad_response(responses, node, now, None);
                                closed.insert(node);
                            }
                        }
                        RequestKind::ApiVersions => {
                            if !self
                                .handle_api_versions_response(responses, &request, &payload, now)
                            {
                                closed.insert(node);
                            }
                        }
                    }
                }
            }
        }
    }

    /// Closes a connection that sent a response we cannot accept. With an
    /// error, the oldest in-flight request fails with it; the others fail
    /// as disconnected.
    pub(super) fn close_after_bad_response(
        &mut self,
        responses: &mut Vec<ClientResponse>,
        node: i32,
        now: Instant,
        error: Option<Error>,
    ) {
        self.selector.close(node);
        if let Some(error) = error {
            if let Some(request) = self.in_flight.complete_next(node) {
                self.fail_request(responses, request, now, RequestFailure::Invalid(error));
            }
        }
        self.process_disconnection(
            responses,
            node,
            now,
            Disconnection::local("the connection was closed after an invalid response"),
        );
    }

    /// Handles a node's ApiVersions answer; false if the connection was
    /// closed.
    pub(super) fn handle_api_versions_response(
        &mut self,
        responses: &mut Vec<ClientResponse>,
        request: &InFlightRequest<RequestKind>,
        body: &[u8],
        now: Instant,
    ) -> bool {
        let node = request.destination;
        let mut r = Reader::new(body);
        let response = match ApiVersionsResponse::decode(&mut r, request.api_version) {
            Ok(resp) => resp,
            Err(e) => {
                log::error!(
                    "Cannot read the ApiVersions response from node {node}: {e}. Disconnecting."
                );
                self.selector.close(node);
                self.process_disconnection(
                    responses,
                    node,
                    now,
                    Disconnection::local("unreadable ApiVersions response"),
                );
                return false;
            }
        };
        if !response.error_code.is_ok() {
            // The throttle time of an error answer is not applied: the
            // librdkafka mock cluster puts a bogus ~20 minute value there.
            if request.api_version == 0 || response.error_code != ErrorCode::UNSUPPORTED_VERSION {
                log::warn!(
                    "Received error {} from node {node} when making an ApiVersionsRequest with correlation id {}. Disconnecting.",
                    response.error_code.name(),
                    request.correlation_id
                );
                self.selector.close(node);
                self.process_disconnection(
                    responses,
                    node,
                    now,
                    Disconnection::local("the broker refused the ApiVersions request"),
                );
                return false;
            }
            // Since Kafka 2.4 the error answer lists the broker's own
            // ApiVersions range; without it, fall back to v0.
            let max = response
                .version_range(ApiKey::API_VERSIONS)
                .map_or(0, |r| r.max)
                .clamp(0, API_VERSIONS_MAX);
            log::debug!(
                "Node {node} does not support ApiVersions v{}; retrying at v{max}",
                request.api_version
            );
            self.api_versions_needed.insert(node, max);
            return true;
        }
        self.maybe_throttle(
            node,
            ApiKey::API_VERSIONS,
            request.api_version,
            response.throttle_time_ms,
            now,
        );
        let versions = NodeApiVersions::from_response(&response);
        log::debug!("Node {node} has API versions: {versions}");
        self.api_versions.update(node, versions);
        self.states.ready(node);
        true
    }

    pub(super) fn handle_disconnections(
        &mut self,
        responses: &mut Vec<ClientResponse>,
        now: Instant,
    ) {
        let disconnected = self.selector.disconnected().to_vec();
        for d in disconnected {
            self.process_disconnection(responses, d.node, now, Disconnection::remote(d.reason));
        }
    }

    pub(super) fn handle_connections(&mut self) {
        let connected = self.selector.connected().to_vec();
        for node in connected {
            log::debug!("Completed connection to node {node}. Fetching API versions.");
            self.states.checking_api_versions(node);
            self.api_versions_needed.insert(node, API_VERSIONS_MAX);
        }
    }

    pub(super) fn handle_initiate_api_versions_requests(&mut self, now: Instant) {
        let pending: Vec<(i32, i16)> = self
            .api_versions_needed
            .iter()
            .map(|(&n, &v)| (n, v))
            .collect();
        for (node, version) in pending {
            if !(self.selector.is_connected(node) && self.in_flight.can_send_more(node)) {
                continue;
            }
            self.api_versions_needed.remove(&node);
            log::debug!("Initiating API versions fetch from node {node}.");
            let request = ApiVersionsRequest::this_client();
            let sent = self.do_send(
                node,
                ApiKey::API_VERSIONS,
                version,
                |v, out| request.encode(out.bytes_mut(), v).map_err(Error::from),
                true,
                self.config.request_timeout,
                RequestKind::ApiVersions,
                now,
            );
            if let Err(e) = sent {
                log::warn!("Cannot send the ApiVersions request to node {node}: {e}");
            }
        }
    }

    pub(super) fn handle_timed_out_connections(
        &mut self,
        responses: &mut Vec<ClientResponse>,
        now: Instant,
    ) {
        for node in self.states.nodes_with_connection_setup_timeout(now) {
            let timeout = self
                .states
                .connection_setup_timeout(node)
                .unwrap_or_default();
            log::info!(
                "Disconnecting from node {node} ({}) due to socket connection setup timeout. The timeout value is {} ms.",
                self.address_of(node),
                timeout.as_millis()
            );
            self.selector.close(node);
            self.process_disconnection(
                responses,
                node,
                now,
                Disconnection::timed_out(format!(
                    "connection to node {node} ({}) was not established within {} ms",
                    self.address_of(node),
                    timeout.as_millis()
                )),
            );
        }
    }

    pub(super) fn handle_timed_out_requests(
        &mut self,
        responses: &mut Vec<ClientResponse>,
        now: Instant,
    ) {
        for node in self.in_flight.nodes_with_timed_out_requests(now) {
            log::info!(
                "Disconnecting from node {node} ({}) due to request timeout.",
                self.address_of(node)
            );
            self.selector.close(node);
            self.process_disconnection(
                responses,
                node,
                now,
                Disconnection::timed_out(format!(
                    "Disconnected from node {node} due to timeout (request.timeout.ms {} ms)",
                    self.config.request_timeout.as_millis()
                )),
            );
        }
    }

    /// The connection to `node` is gone: state, versions, in-flight
    /// requests and metadata react (Java `processDisconnection`).
    pub(super) fn process_disconnection(
        &mut self,
        responses: &mut Vec<ClientResponse>,
        node: i32,
        now: Instant,
        why: Disconnection,
    ) {
        let was_connecting = self.states.is_connecting(node);
        self.states.disconnected(node, now);
        self.api_versions.remove(node);
        self.api_versions_needed.remove(&node);
        if let Some(reason) = &why.remote {
            if reason.is_connect_failure() || was_connecting {
                log::warn!(
                    "Connection to node {node} ({}) could not be established. Node may not be available. ({reason})",
                    self.address_of(node)
                );
            } else {
                log::debug!(
                    "Connection to node {node} ({}) closed: {reason}",
                    self.address_of(node)
                );
            }
        }
        self.cancel_in_flight_requests(responses, node, now, &why);
        // Java `handleServerDisconnect`.
        let cluster = self.metadata.fetch();
        if cluster.is_bootstrap() {
            if let Some(n) = cluster.node(node) {
                log::warn!("Bootstrap broker {n} disconnected");
            }
        }
        self.metadata.request_update(false);
    }

    pub(super) fn cancel_in_flight_requests(
        &mut self,
        responses: &mut Vec<ClientResponse>,
        node: i32,
        now: Instant,
        why: &Disconnection,
    ) {
        let requests = self.in_flight.clear_all(node);
        if requests.is_empty() {
            return;
        }
        let summary: Vec<String> = requests
            .iter()
            .map(|r| {
                format!(
                    "{} v{} (correlation id {}, sent {} ms ago)",
                    r.api_key.name(),
                    r.api_version,
                    r.correlation_id,
                    now.saturating_duration_since(r.send_time).as_millis()
                )
            })
            .collect();
        let message = format!(
            "Connection to node {node} ({}) lost with {} request(s) in flight: {}",
            self.address_of(node),
            requests.len(),
            summary.join(", ")
        );
        if why.remote.is_some()
            && requests
                .iter()
                .any(|r| matches!(r.payload, RequestKind::User))
        {
            log::warn!("{message} ({why})");
        } else {
            log::debug!("{message} ({why})");
        }
        for request in requests {
            let failure = why.failure(node);
            self.fail_request(responses, request, now, failure);
        }
    }

    pub(super) fn fail_request(
        &mut self,
        responses: &mut Vec<ClientResponse>,
        request: InFlightRequest<RequestKind>,
        now: Instant,
        failure: RequestFailure,
    ) {
        match request.payload {
            RequestKind::User => responses.push(completed(&request, now, Err(failure))),
            RequestKind::Metadata { .. } => {
                self.metadata_fetch_in_progress = false;
                self.metadata.failed_update(now);
            }
            RequestKind::ApiVersions => {}
        }
    }
}

/// Why a connection went away, for logs and the failed requests.
#[derive(Debug)]
pub(super) struct Disconnection {
    /// The selector's reason when the peer or the network closed it.
    remote: Option<DisconnectReason>,
    /// A timeout (request or connection setup) closed it.
    timed_out: Option<String>,
    /// We closed it for this reason.
    local: Option<&'static str>,
}

impl Disconnection {
    pub(super) fn remote(reason: DisconnectReason) -> Self {
        Disconnection {
            remote: Some(reason),
            timed_out: None,
            local: None,
        }
    }

    pub(super) fn local(why: &'static str) -> Self {
        Disconnection {
            remote: None,
            timed_out: None,
            local: Some(why),
        }
    }

    pub(super) fn timed_out(message: String) -> Self {
        Disconnection {
            remote: None,
            timed_out: Some(message),
            local: None,
        }
    }

    pub(super) fn failure(&self, node: i32) -> RequestFailure {
        match &self.timed_out {
            Some(m) => RequestFailure::TimedOut(m.clone()),
            None => RequestFailure::Disconnected(format!("Disconnected from node {node} ({self})")),
        }
    }
}

impl fmt::Display for Disconnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(r) = &self.remote {
            r.fmt(f)
        } else if let Some(m) = &self.timed_out {
            f.write_str(m)
        } else {
            f.write_str(self.local.unwrap_or("closed"))
        }
    }
}

pub(super) fn completed(
    request: &InFlightRequest<RequestKind>,
    now: Instant,
    body: std::result::Result<Vec<u8>, RequestFailure>,
) -> ClientResponse {
    ClientResponse {
        destination: request.destination,
        api_key: request.api_key,
        api_version: request.api_version,
        correlation_id: request.correlation_id,
        created: request.send_time,
        received: now,
        body,
    }
}
