//! [`NetworkClient`]: requests and responses over the [`Selector`] (Java
//! `NetworkClient` with its `DefaultMetadataUpdater`, Kafka 4.3). It knows
//! nodes, API keys, versions and correlation ids; not batches.
//!
//! ```text
//!  send(node, api, encode)          poll(timeout, now)
//!    version negotiated per node      metadata update if due (least-loaded node)
//!    header + body in one Frame       selector.poll
//!    (record batches shared, not copied)
//!    queued, tracked in flight        completed sends    acks=0 requests complete
//!                                     completed receives header checked against the
//!                                                        oldest in-flight request;
//!                                                        Metadata / ApiVersions handled
//!                                                        here, the rest returned
//!                                     disconnections     in-flight requests fail
//!                                     new connections    ApiVersions handshake starts
//!                                     setup timeouts, request timeouts: connection closed
//! ```
//!
//! A connection is usable only after its ApiVersions exchange: the first
//! request asks at our newest version (4); a broker that does not know it
//! answers `UNSUPPORTED_VERSION` with its own range, and the request is
//! sent again at the newest version both know. The node's ranges are then
//! recorded and every later request uses the newest common version.
//!
//! Single-threaded: it lives on the network thread. Other threads reach it
//! only through the [`Wakeup`] handle, which interrupts a blocked poll.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::api_versions::{ApiVersions, NodeApiVersions};
use super::cluster_connection_states::{ClusterConnectionStates, ConnectionStatesConfig};
use super::host_resolver::HostResolver;
use super::in_flight_requests::{InFlightRequest, InFlightRequests};
use super::metadata::{Metadata, TopicPolicy};
use crate::common::Node;
use crate::error::{Error, Result};
use crate::network::{Frame, Selector, SelectorConfig, Wakeup};
use crate::protocol::api_key::{request_header_version, ApiKey, VersionRange};
use crate::protocol::codec::Reader;
use crate::protocol::header::write_request_header;
use crate::util::clock::Clock;

mod kafka_client;
mod metadata_updater;
#[cfg(test)]
pub(crate) mod mock_client;
mod poll;

pub(crate) use kafka_client::KafkaClient;

use poll::Disconnection;

/// The newest ApiVersions version this client speaks: the first handshake
/// request uses it.
const API_VERSIONS_MAX: i16 = 4;

/// What the network client takes from the configuration.
#[derive(Debug, Clone)]
pub(crate) struct NetworkClientConfig {
    /// `client.id`, written in every request header.
    pub(crate) client_id: String,
    /// `max.in.flight.requests.per.connection`.
    pub(crate) max_in_flight_per_connection: usize,
    /// `request.timeout.ms`: the default request timeout, also the longest
    /// a poll blocks.
    pub(crate) request_timeout: Duration,
    /// `reconnect.backoff.ms`: the metadata updater's retry interval when no
    /// node can take its request.
    pub(crate) reconnect_backoff: Duration,
    /// `metadata.recovery.strategy=rebootstrap`.
    pub(crate) rebootstrap: bool,
    /// Socket settings.
    pub(crate) selector: SelectorConfig,
    /// Backoffs and setup timeouts.
    pub(crate) connection_states: ConnectionStatesConfig,
}

/// Why a request got no response.
#[derive(Debug, Clone)]
pub(crate) enum RequestFailure {
    /// The connection was closed first (Java `wasDisconnected`).
    Disconnected(String),
    /// The request, or the connection it waited for, timed out; the
    /// connection was closed (Java `wasTimedOut`).
    TimedOut(String),
    /// The response could not be read; the connection was closed.
    Invalid(Error),
}

impl fmt::Display for RequestFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestFailure::Disconnected(m) | RequestFailure::TimedOut(m) => f.write_str(m),
            RequestFailure::Invalid(e) => e.fmt(f),
        }
    }
}

/// The outcome of one request sent with [`NetworkClient::send`] (Java
/// `ClientResponse`).
#[derive(Debug)]
pub(crate) struct ClientResponse {
    /// The node the request went to.
    pub(crate) destination: i32,
    /// The request's API.
    pub(crate) api_key: ApiKey,
    /// The version it was sent at (the body is read at the same one).
    pub(crate) api_version: i16,
    /// The request's correlation id.
    pub(crate) correlation_id: i32,
    /// When the request was handed to the selector.
    pub(crate) created: Instant,
    /// When the response (or failure) arrived.
    pub(crate) received: Instant,
    /// The response body after its header; empty for a request that
    /// expects no response (Produce with `acks=0`), completed once written.
    pub(crate) body: std::result::Result<Vec<u8>, RequestFailure>,
}

/// What the client keeps with each in-flight request.
#[derive(Debug, Clone, Copy)]
enum RequestKind {
    /// Sent by the user of the client; its response is returned.
    User,
    /// The metadata updater's request.
    Metadata {
        request_version: u64,
        is_partial_update: bool,
    },
    /// The ApiVersions handshake of a new connection.
    ApiVersions,
}

/// The node least loaded with requests, if any can be used, and whether
/// some connection is ready at all (Java `LeastLoadedNode`).
#[derive(Debug, Clone)]
pub(crate) struct LeastLoadedNode {
    pub(crate) node: Option<Node>,
    pub(crate) at_least_one_connection_ready: bool,
}

/// Small random source for the least-loaded node's starting point (Java
/// uses `Random`); SplitMix64 seeded from std's random hasher keys.
#[derive(Debug)]
struct SplitMix(u64);

impl SplitMix {
    fn new() -> Self {
        SplitMix(RandomState::new().build_hasher().finish())
    }

    fn next_below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // n is a node count: far below u64::MAX, so the modulo fits usize.
        (z % (n.max(1) as u64)) as usize
    }
}

/// Requests and responses over one selector, with per-node version
/// negotiation and the metadata updater.
pub(crate) struct NetworkClient<P: TopicPolicy> {
    config: NetworkClientConfig,
    selector: Selector,
    states: ClusterConnectionStates,
    in_flight: InFlightRequests<RequestKind>,
    api_versions: ApiVersions,
    metadata: Arc<Metadata<P>>,
    clock: Arc<dyn Clock>,
    /// Whether a metadata request is in flight (Java `inProgress`).
    metadata_fetch_in_progress: bool,
    /// Connected nodes waiting to send their ApiVersions request, with the
    /// version to use.
    api_versions_needed: BTreeMap<i32, i16>,
    /// The address each node was last connected to, for logs.
    addresses: HashMap<i32, SocketAddr>,
    correlation: i32,
    random: SplitMix,
    closed: bool,
}

impl<P: TopicPolicy> fmt::Debug for NetworkClient<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NetworkClient")
            .field("client_id", &self.config.client_id)
            .field("in_flight", &self.in_flight.total())
            .field("selector", &self.selector)
            .finish_non_exhaustive()
    }
}

impl<P: TopicPolicy> NetworkClient<P> {
    /// A client with no connections, resolving hosts with `resolver`.
    pub(crate) fn new(
        config: NetworkClientConfig,
        metadata: Arc<Metadata<P>>,
        resolver: Arc<dyn HostResolver>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        let selector = Selector::new(config.selector.clone(), Arc::clone(&clock))?;
        Ok(NetworkClient {
            states: ClusterConnectionStates::new(config.connection_states, resolver),
            in_flight: InFlightRequests::new(config.max_in_flight_per_connection.max(1)),
            config,
            selector,
            api_versions: ApiVersions::new(),
            metadata,
            clock,
            metadata_fetch_in_progress: false,
            api_versions_needed: BTreeMap::new(),
            addresses: HashMap::new(),
            correlation: 0,
            random: SplitMix::new(),
            closed: false,
        })
    }

    /// Replaces the connection states (tests: no jitter).
    #[cfg(test)]
    pub(crate) fn set_connection_states(&mut self, states: ClusterConnectionStates) {
        self.states = states;
    }

    /// A handle that interrupts [`poll`](Self::poll) from any thread.
    pub(crate) fn wakeup_handle(&self) -> Wakeup {
        self.selector.wakeup_handle()
    }

    /// The metadata this client keeps up to date.
    pub(crate) fn metadata(&self) -> &Arc<Metadata<P>> {
        &self.metadata
    }

    /// The versions `node` advertised, once its handshake is done.
    #[allow(dead_code)] // tests
    pub(crate) fn node_api_versions(&self, node: i32) -> Option<&NodeApiVersions> {
        self.api_versions.get(node)
    }

    // ---- readiness -------------------------------------------------------

    /// Whether a metadata update is due and none is in flight (then every
    /// node reports not ready, so the update goes first, as in Java).
    fn metadata_update_due(&self, now: Instant) -> bool {
        !self.metadata_fetch_in_progress && self.metadata.time_to_next_update(now).is_zero()
    }

    /// Whether a request can go to `node` now: connected, handshake done,
    /// not throttled, and room in flight.
    fn can_send_request(&self, node: i32, now: Instant) -> bool {
        self.states.is_ready(node, now)
            && self.selector.is_connected(node)
            && self.in_flight.can_send_more(node)
    }

    /// Whether `node` can take a request now (Java `isReady`).
    pub(crate) fn is_ready(&self, node: i32, now: Instant) -> bool {
        !self.metadata_update_due(now) && self.can_send_request(node, now)
    }

    /// Whether `node` can take a request now; if not, starts connecting to
    /// it when allowed (Java `ready`).
    pub(crate) fn ready(&mut self, node: &Node, now: Instant) -> bool {
        if self.is_ready(node.id, now) {
            return true;
        }
        if self.states.can_connect(node.id, now) {
            self.initiate_connect(node, now);
        }
        false
    }

    /// How long until `node` may be connected to or sent to, by its
    /// connection state (Java `connectionDelay`).
    #[allow(dead_code)] // Java API; the sender uses poll_delay
    pub(crate) fn connection_delay(&self, node: i32, now: Instant) -> Duration {
        self.states.connection_delay(node, now)
    }

    /// How long to wait before sending to a node that is not ready: its
    /// throttle time if throttled, else its connection delay (Java
    /// `pollDelayMs`).
    pub(crate) fn poll_delay(&self, node: i32, now: Instant) -> Duration {
        self.states.poll_delay(node, now)
    }

    /// Requests in flight to every node.
    pub(crate) fn in_flight_request_count(&self) -> usize {
        self.in_flight.total()
    }

    /// Requests in flight to `node`.
    #[allow(dead_code)] // Java API; tests
    pub(crate) fn in_flight_request_count_for(&self, node: i32) -> usize {
        self.in_flight.count(node)
    }

    /// The node with the fewest requests in flight among those that can
    /// take one, else one that is connecting, else the one that can be
    /// connected to and was tried longest ago; nodes in reconnect backoff
    /// are skipped. The scan starts at a random node so the load spreads
    /// (Java 4.x `leastLoadedNode`).
    pub(crate) fn least_loaded_node(&mut self, now: Instant) -> LeastLoadedNode {
        let cluster = self.metadata.fetch();
        let nodes = cluster.nodes();
        let mut result = LeastLoadedNode {
            node: None,
            at_least_one_connection_ready: false,
        };
        if nodes.is_empty() {
            return result;
        }
        let offset = self.random.next_below(nodes.len());
        let mut least_in_flight = usize::MAX;
        let mut found_ready: Option<&Node> = None;
        let mut found_connecting: Option<&Node> = None;
        let mut found_can_connect: Option<&Node> = None;
        for i in 0..nodes.len() {
            let node = &nodes[(offset + i) % nodes.len()];
            if !result.at_least_one_connection_ready
                && self.states.is_ready(node.id, now)
                && self.selector.is_connected(node.id)
            {
                result.at_least_one_connection_ready = true;
            }
            if self.can_send_request(node.id, now) {
                let in_flight = self.in_flight.count(node.id);
                if in_flight == 0 {
                    // An idle, ready connection: cannot do better.
                    result.node = Some(node.clone());
                    result.at_least_one_connection_ready = true;
                    return result;
                }
                if in_flight < least_in_flight {
                    least_in_flight = in_flight;
                    found_ready = Some(node);
                }
            } else if self.states.is_preparing_connection(node.id) {
                found_connecting = Some(node);
            } else if self.states.can_connect(node.id, now) {
                let older = |a: &Node, b: &Node| {
                    self.states.last_connect_attempt(a.id) > self.states.last_connect_attempt(b.id)
                };
                if found_can_connect.is_none_or(|f| older(f, node)) {
                    found_can_connect = Some(node);
                }
            } else {
                log::trace!(
                    "Removing node {node} from least loaded node selection since it is neither ready for sending or connecting"
                );
            }
        }
        result.node = found_ready
            .or(found_connecting)
            .or(found_can_connect)
            .cloned();
        if result.node.is_none() {
            log::trace!("Least loaded node selection failed to find an available node");
        }
        result
    }

    // ---- sending ---------------------------------------------------------

    /// Sends a request to a ready `node` at the newest version both sides
    /// speak within `versions` (default: all this client speaks). `encode`
    /// appends the body for the chosen version to the frame, after the
    /// header; it may splice in shared segments (record batches) instead
    /// of copying them. Returns the correlation id. A request that expects
    /// no response completes once written.
    #[allow(clippy::too_many_arguments)] // Java's ClientRequest, spelled out
    pub(crate) fn send(
        &mut self,
        node: i32,
        api_key: ApiKey,
        versions: Option<VersionRange>,
        encode: impl FnOnce(i16, &mut Frame) -> Result<()>,
        expect_response: bool,
        request_timeout: Duration,
        now: Instant,
    ) -> Result<i32> {
        if self.closed {
            return Err(Error::Closed("the network client is closed".to_owned()));
        }
        if !self.can_send_request(node, now) {
            return Err(Error::Other(format!(
                "Attempt to send a request to node {node} which is not ready."
            )));
        }
        let ours = api_key
            .client_versions()
            .ok_or_else(|| Error::Unsupported(format!("this client does not speak {api_key}")))?;
        let wanted = versions.map_or(ours, |v| {
            VersionRange::new(v.min.max(ours.min), v.max.min(ours.max))
        });
        let version = match self.api_versions.get(node) {
            Some(v) => v.latest_usable_version_in(api_key, wanted)?,
            None => {
                return Err(Error::Other(format!(
                    "no API versions known for node {node}"
                )))
            }
        };
        self.do_send(
            node,
            api_key,
            version,
            encode,
            expect_response,
            request_timeout,
            RequestKind::User,
            now,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn do_send(
        &mut self,
        node: i32,
        api_key: ApiKey,
        version: i16,
        encode: impl FnOnce(i16, &mut Frame) -> Result<()>,
        expect_response: bool,
        request_timeout: Duration,
        kind: RequestKind,
        now: Instant,
    ) -> Result<i32> {
        let correlation_id = self.next_correlation_id();
        // Room for the header and a small request's fields (a produce
        // request's batches are not copied in).
        let mut frame = Frame::with_capacity(256);
        let head = frame.bytes_mut();
        head.extend_from_slice(&[0; 4]);
        write_request_header(
            head,
            api_key,
            version,
            correlation_id,
            Some(&self.config.client_id),
            request_header_version(api_key, version),
        )?;
        encode(version, &mut frame)?;
        // The size prefix counts every segment, shared ones included.
        if frame.patch_size_prefix().is_none() {
            return Err(Error::Other(format!(
                "{api_key} request of {} bytes exceeds 2 GiB",
                frame.len()
            )));
        }
        self.selector.send(node, frame)?;
        log::trace!(
            "Sending {} request with correlation id {} to node {} at version {}",
            api_key.name(),
            correlation_id,
            node,
            version
        );
        self.in_flight.add(InFlightRequest {
            correlation_id,
            api_key,
            api_version: version,
            destination: node,
            send_time: now,
            expect_response,
            request_timeout,
            send_completed: false,
            payload: kind,
        });
        Ok(correlation_id)
    }

    /// Correlation ids count up from 0 and wrap before going negative.
    fn next_correlation_id(&mut self) -> i32 {
        let id = self.correlation;
        self.correlation = if id == i32::MAX { 0 } else { id + 1 };
        id
    }

    /// Notes a throttle time from a response the caller decoded (KIP-219):
    /// from the API versions where the client throttles, nothing more is
    /// sent to `node` for `throttle_ms`.
    pub(crate) fn maybe_throttle(
        &mut self,
        node: i32,
        api_key: ApiKey,
        version: i16,
        throttle_ms: i32,
        now: Instant,
    ) {
        if throttle_ms > 0 && client_throttles(api_key, version) {
            let ms = u64::try_from(throttle_ms).unwrap_or(0);
            if let Some(until) = now.checked_add(Duration::from_millis(ms)) {
                self.states.throttle(node, until);
                log::trace!("Connection to node {node} is throttled for {throttle_ms} ms");
            }
        }
    }

    /// Closes the connection to `node` at once; its in-flight requests fail
    /// as disconnected in the returned responses.
    pub(crate) fn disconnect(&mut self, node: i32, now: Instant) -> Vec<ClientResponse> {
        let mut responses = Vec::new();
        if self.selector.close(node) {
            self.process_disconnection(
                &mut responses,
                node,
                now,
                Disconnection::local("the client closed the connection"),
            );
        }
        responses
    }

    /// Closes every connection. In-flight requests are dropped unanswered.
    pub(crate) fn close(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        let nodes: Vec<i32> = self.addresses.keys().copied().collect();
        for node in nodes {
            self.selector.close(node);
            self.in_flight.clear_all(node);
        }
        log::debug!("network client closed");
    }

    // ---- connecting --------------------------------------------------

    fn initiate_connect(&mut self, node: &Node, now: Instant) {
        let id = node.id;
        self.states.connecting(id, now, &node.host);
        let result = self.states.current_address(id).and_then(|ip| {
            let addr = SocketAddr::new(ip, node.port);
            self.addresses.insert(id, addr);
            log::debug!("Initiating connection to node {node} using address {addr}");
            self.selector.connect(id, addr).map(|()| addr)
        });
        if let Err(e) = result {
            // Typically an unresolvable host: back off, and look for other
            // brokers in metadata.
            log::warn!("Error connecting to node {node}: {e}");
            self.states.disconnected(id, now);
            self.metadata.request_update(false);
        }
    }

    fn address_of(&self, node: i32) -> String {
        self.addresses
            .get(&node)
            .map_or_else(|| "unknown address".to_owned(), SocketAddr::to_string)
    }
}

/// Whether the client, rather than the broker, delays requests after a
/// response of this API and version carries a throttle time (KIP-219).
pub(crate) fn client_throttles(api_key: ApiKey, version: i16) -> bool {
    match api_key {
        ApiKey::PRODUCE | ApiKey::METADATA => version >= 6,
        ApiKey::API_VERSIONS => version >= 2,
        ApiKey::INIT_PRODUCER_ID => version >= 1,
        _ => false,
    }
}

/// Accepts bytes left after a response body, as the Java client does
/// (`AbstractResponse.parseResponse` reads the fields of the version it
/// asked for and never looks at the rest): the librdkafka mock cluster
/// ends its flexible Metadata answers with one byte too many. They are
/// logged, not treated as a broken connection.
pub(crate) fn ignore_trailing_bytes(r: &Reader<'_>, response: &str, node: i32) {
    if r.remaining() > 0 {
        log::debug!(
            "Ignoring {} bytes after the end of the {response} from node {node}",
            r.remaining()
        );
    }
}

#[cfg(test)]
#[path = "network_client_tests.rs"]
mod tests;
