//! [`ClusterConnectionStates`]: the state of the connection to each node,
//! reconnect backoff, connection setup timeouts and the address to try next
//! (Java `ClusterConnectionStates`, Kafka 4.3).
//!
//! ```text
//!             connecting()                checking_api_versions()         ready()
//!  (none) ───────────────▶ CONNECTING ──────────────────────▶ CHECKING_API ─────────▶ READY
//!  DISCONNECTED ─────────▶     │            (TCP connected)     _VERSIONS               │
//!    ▲  can_connect():         │ disconnected(): backoff grows,     │                     │
//!    │  backoff elapsed        │ setup timeout grows                │ disconnected():     │
//!    └─────────────────────────┴────────────────────────────────────┴─ addresses re-resolved
//! ```
//!
//! Reconnect backoff: `reconnect.backoff.ms * 2^(failures - 1)`, capped at
//! `reconnect.backoff.max.ms`, ±20 % jitter; reset by `ready()`. Connection
//! setup timeout: `socket.connection.setup.timeout.ms * 2^(failed connects)`,
//! capped at `socket.connection.setup.timeout.max.ms`, ±20 % jitter; reset once
//! the TCP connection is up. Both come from [`ExponentialBackoff`].
//!
//! Addresses (`client.dns.lookup=use_all_dns_ips`): a node's host is resolved
//! on the first attempt; each later attempt moves to the next address, and
//! once all were tried, or after a connection that had been established is
//! lost, the host is resolved again (skipping the address just tried when
//! there is a choice). Times are `Instant`s from the caller's clock.

use std::collections::{BTreeSet, HashMap};
use std::io;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::host_resolver::{self, HostResolver};
use crate::util::backoff::ExponentialBackoff;

/// Java `ClusterConnectionStates.RECONNECT_BACKOFF_EXP_BASE`.
const RECONNECT_BACKOFF_EXP_BASE: u32 = 2;
/// Java `ClusterConnectionStates.RECONNECT_BACKOFF_JITTER`.
const RECONNECT_BACKOFF_JITTER: f64 = 0.2;
/// Java `ClusterConnectionStates.CONNECTION_SETUP_TIMEOUT_EXP_BASE`.
const CONNECTION_SETUP_TIMEOUT_EXP_BASE: u32 = 2;
/// Java `ClusterConnectionStates.CONNECTION_SETUP_TIMEOUT_JITTER`.
const CONNECTION_SETUP_TIMEOUT_JITTER: f64 = 0.2;

/// The state of the connection to one node (Java `ConnectionState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConnectionState {
    /// No connection; a new one may be attempted after the backoff.
    Disconnected,
    /// The TCP connect is in progress.
    Connecting,
    /// Connected; the ApiVersions exchange is in progress.
    CheckingApiVersions,
    /// Connected and versions known: requests may be sent.
    Ready,
    /// Authentication failed; treated as disconnected.
    #[allow(dead_code)] // SASL/SSL authentication (not supported yet)
    AuthenticationFailed,
}

impl ConnectionState {
    /// Disconnected or failed authentication.
    pub(crate) fn is_disconnected(self) -> bool {
        matches!(
            self,
            ConnectionState::Disconnected | ConnectionState::AuthenticationFailed
        )
    }

    /// The TCP connection is up (checking versions or ready).
    pub(crate) fn is_connected(self) -> bool {
        matches!(
            self,
            ConnectionState::CheckingApiVersions | ConnectionState::Ready
        )
    }
}

/// The timing configuration of [`ClusterConnectionStates`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnectionStatesConfig {
    /// `reconnect.backoff.ms` (default 50 ms).
    pub(crate) reconnect_backoff: Duration,
    /// `reconnect.backoff.max.ms` (default 1 s).
    pub(crate) reconnect_backoff_max: Duration,
    /// `socket.connection.setup.timeout.ms` (default 10 s).
    pub(crate) connection_setup_timeout: Duration,
    /// `socket.connection.setup.timeout.max.ms` (default 30 s).
    pub(crate) connection_setup_timeout_max: Duration,
}

/// What is known about one node's connection.
#[derive(Debug)]
struct NodeConnectionState {
    state: ConnectionState,
    last_connect_attempt: Instant,
    /// Failures since the last `ready()` (reconnect backoff exponent).
    failed_attempts: u32,
    /// Failed connects since the last established connection (setup
    /// timeout exponent).
    failed_connect_attempts: u32,
    reconnect_backoff: Duration,
    connection_setup_timeout: Duration,
    throttle_until: Option<Instant>,
    authentication_error: Option<String>,
    host: String,
    /// Resolved addresses; empty means "resolve on the next attempt".
    addresses: Vec<IpAddr>,
    address_index: usize,
    last_attempted_address: Option<IpAddr>,
}

impl NodeConnectionState {
    /// The address to connect to, resolving the host if needed.
    fn current_address(&mut self, resolver: &dyn HostResolver) -> io::Result<IpAddr> {
        if self.addresses.is_empty() {
            self.addresses = host_resolver::resolve(&self.host, resolver)?;
            self.address_index = 0;
            // After a re-resolution, do not go straight back to the address
            // that just failed (a dead load balancer instance, say) when
            // there is another one.
            if self.addresses.len() > 1 && Some(self.addresses[0]) == self.last_attempted_address {
                self.address_index = 1;
            }
        }
        let address = self.addresses[self.address_index];
        self.last_attempted_address = Some(address);
        Ok(address)
    }

    /// Moves to the next address; after the last one, forgets them so the
    /// host is resolved again.
    fn move_to_next_address(&mut self) {
        if self.addresses.is_empty() {
            return;
        }
        self.address_index = (self.address_index + 1) % self.addresses.len();
        if self.address_index == 0 {
            self.addresses.clear();
        }
    }
}

/// The connection state of every node the client has tried to reach.
#[derive(Debug)]
pub(crate) struct ClusterConnectionStates {
    nodes: HashMap<i32, NodeConnectionState>,
    /// Nodes in the `Connecting` state (ordered, so results are stable).
    connecting: BTreeSet<i32>,
    reconnect_backoff: ExponentialBackoff,
    connection_setup_timeout: ExponentialBackoff,
    resolver: Arc<dyn HostResolver>,
}

impl ClusterConnectionStates {
    /// Connection states with Java's ±20 % jitter.
    pub(crate) fn new(config: ConnectionStatesConfig, resolver: Arc<dyn HostResolver>) -> Self {
        Self::with_jitter(
            config,
            resolver,
            RECONNECT_BACKOFF_JITTER,
            CONNECTION_SETUP_TIMEOUT_JITTER,
        )
    }

    /// Connection states with the given jitter (0 for exact values in tests).
    pub(crate) fn with_jitter(
        config: ConnectionStatesConfig,
        resolver: Arc<dyn HostResolver>,
        reconnect_jitter: f64,
        setup_timeout_jitter: f64,
    ) -> Self {
        ClusterConnectionStates {
            nodes: HashMap::new(),
            connecting: BTreeSet::new(),
            reconnect_backoff: ExponentialBackoff::new(
                config.reconnect_backoff,
                RECONNECT_BACKOFF_EXP_BASE,
                config.reconnect_backoff_max,
                reconnect_jitter,
            ),
            connection_setup_timeout: ExponentialBackoff::new(
                config.connection_setup_timeout,
                CONNECTION_SETUP_TIMEOUT_EXP_BASE,
                config.connection_setup_timeout_max,
                setup_timeout_jitter,
            ),
            resolver,
        }
    }

    /// Whether a new connection to `node` may be started now: never tried,
    /// or disconnected for at least the current reconnect backoff.
    pub(crate) fn can_connect(&self, node: i32, now: Instant) -> bool {
        self.nodes.get(&node).is_none_or(|s| {
            s.state.is_disconnected()
                && now.saturating_duration_since(s.last_connect_attempt) >= s.reconnect_backoff
        })
    }

    /// Whether `node` is disconnected and still inside its reconnect backoff.
    #[allow(dead_code)] // part of the Java API; tests
    pub(crate) fn is_blacked_out(&self, node: i32, now: Instant) -> bool {
        self.nodes.get(&node).is_some_and(|s| {
            s.state.is_disconnected()
                && now.saturating_duration_since(s.last_connect_attempt) < s.reconnect_backoff
        })
    }

    /// How long to wait before trying to send to `node`, by connection state:
    /// the rest of the backoff when disconnected, the setup timeout while
    /// connecting, and `Duration::MAX` once connected (a wakeup or an event
    /// will come first). Zero for an unknown node.
    pub(crate) fn connection_delay(&self, node: i32, now: Instant) -> Duration {
        let Some(s) = self.nodes.get(&node) else {
            return Duration::ZERO;
        };
        match s.state {
            ConnectionState::Connecting => s.connection_setup_timeout,
            st if st.is_disconnected() => s
                .reconnect_backoff
                .saturating_sub(now.saturating_duration_since(s.last_connect_attempt)),
            _ => Duration::MAX,
        }
    }

    /// Whether a TCP connect to `node` is in progress.
    pub(crate) fn is_connecting(&self, node: i32) -> bool {
        self.state_is(node, ConnectionState::Connecting)
    }

    /// Whether any node is connecting (Java `isAnyNodeConnecting`, used by
    /// the least-loaded-node choice).
    pub(crate) fn is_any_node_connecting(&self) -> bool {
        !self.connecting.is_empty()
    }

    /// Whether `node` is connecting or checking API versions.
    pub(crate) fn is_preparing_connection(&self, node: i32) -> bool {
        self.state_is(node, ConnectionState::Connecting)
            || self.state_is(node, ConnectionState::CheckingApiVersions)
    }

    /// Enters the connecting state for `node` at `host`. A node already known
    /// under the same host moves on to its next address; a new node, or one
    /// whose host changed, starts afresh (backoffs at their base values).
    pub(crate) fn connecting(&mut self, node: i32, now: Instant, host: &str) {
        if let Some(s) = self.nodes.get_mut(&node) {
            if s.host == host {
                s.last_connect_attempt = now;
                s.state = ConnectionState::Connecting;
                s.move_to_next_address();
                self.connecting.insert(node);
                return;
            }
            log::info!("hostname for node {node} changed from {} to {host}", s.host);
        }
        self.nodes.insert(
            node,
            NodeConnectionState {
                state: ConnectionState::Connecting,
                last_connect_attempt: now,
                failed_attempts: 0,
                failed_connect_attempts: 0,
                reconnect_backoff: self.reconnect_backoff.backoff(0),
                connection_setup_timeout: self.connection_setup_timeout.backoff(0),
                throttle_until: None,
                authentication_error: None,
                host: host.to_owned(),
                addresses: Vec::new(),
                address_index: 0,
                last_attempted_address: None,
            },
        );
        self.connecting.insert(node);
    }

    /// The address to connect `node` to, resolving its host if needed (call
    /// after [`Self::connecting`]). A resolution failure is an error; the
    /// caller then calls [`Self::disconnected`] so the backoff applies.
    pub(crate) fn current_address(&mut self, node: i32) -> io::Result<IpAddr> {
        let Some(s) = self.nodes.get_mut(&node) else {
            return Err(io::Error::other(format!(
                "no connection state for node {node}"
            )));
        };
        s.current_address(self.resolver.as_ref())
    }

    /// Enters the disconnected state: the reconnect backoff grows; a failed
    /// connect also grows the setup timeout, while a lost established
    /// connection resets it and makes the host be resolved again. Unknown
    /// nodes are ignored.
    pub(crate) fn disconnected(&mut self, node: i32, now: Instant) {
        let Some(s) = self.nodes.get_mut(&node) else {
            return;
        };
        s.last_connect_attempt = now;
        s.reconnect_backoff = self.reconnect_backoff.backoff(s.failed_attempts);
        s.failed_attempts = s.failed_attempts.saturating_add(1);
        if s.state == ConnectionState::Connecting {
            s.failed_connect_attempts = s.failed_connect_attempts.saturating_add(1);
            s.connection_setup_timeout = self
                .connection_setup_timeout
                .backoff(s.failed_connect_attempts);
            self.connecting.remove(&node);
        } else {
            s.failed_connect_attempts = 0;
            s.connection_setup_timeout = self.connection_setup_timeout.backoff(0);
            if s.state.is_connected() {
                // The node's addresses may have changed.
                s.addresses.clear();
            }
        }
        s.state = ConnectionState::Disconnected;
    }

    /// Notes that the broker throttles `node` until `until` (never moves the
    /// deadline back).
    pub(crate) fn throttle(&mut self, node: i32, until: Instant) {
        if let Some(s) = self.nodes.get_mut(&node) {
            if s.throttle_until.is_none_or(|t| t < until) {
                s.throttle_until = Some(until);
            }
        }
    }

    /// The rest of `node`'s throttle time, zero if not throttled.
    pub(crate) fn throttle_delay(&self, node: i32, now: Instant) -> Duration {
        self.nodes
            .get(&node)
            .and_then(|s| s.throttle_until)
            .map_or(Duration::ZERO, |t| t.saturating_duration_since(now))
    }

    /// How long to wait before sending to `node`: the throttle delay if it
    /// is connected and throttled, otherwise [`Self::connection_delay`].
    pub(crate) fn poll_delay(&self, node: i32, now: Instant) -> Duration {
        let throttle = self.throttle_delay(node, now);
        if self.is_connected(node) && !throttle.is_zero() {
            throttle
        } else {
            self.connection_delay(node, now)
        }
    }

    /// The TCP connection to `node` is up; the ApiVersions exchange starts.
    /// Resets the setup timeout.
    pub(crate) fn checking_api_versions(&mut self, node: i32) {
        if let Some(s) = self.nodes.get_mut(&node) {
            s.state = ConnectionState::CheckingApiVersions;
            s.failed_connect_attempts = 0;
            s.connection_setup_timeout = self.connection_setup_timeout.backoff(0);
            self.connecting.remove(&node);
        }
    }

    /// `node` is ready for requests. Resets both backoffs.
    pub(crate) fn ready(&mut self, node: i32) {
        if let Some(s) = self.nodes.get_mut(&node) {
            s.state = ConnectionState::Ready;
            s.authentication_error = None;
            s.failed_attempts = 0;
            s.reconnect_backoff = self.reconnect_backoff.backoff(0);
            s.failed_connect_attempts = 0;
            s.connection_setup_timeout = self.connection_setup_timeout.backoff(0);
            self.connecting.remove(&node);
        }
    }

    /// Authentication with `node` failed; it counts as a failed attempt.
    #[allow(dead_code)] // SASL/SSL authentication (not supported yet)
    pub(crate) fn authentication_failed(&mut self, node: i32, now: Instant, error: String) {
        if let Some(s) = self.nodes.get_mut(&node) {
            s.authentication_error = Some(error);
            s.state = ConnectionState::AuthenticationFailed;
            s.last_connect_attempt = now;
            s.reconnect_backoff = self.reconnect_backoff.backoff(s.failed_attempts);
            s.failed_attempts = s.failed_attempts.saturating_add(1);
            // Java leaves the node in its connecting set here too; drop it,
            // or the node would count as connecting until the next attempt.
            self.connecting.remove(&node);
        }
    }

    /// The authentication error of `node`, if its last attempt failed so.
    #[allow(dead_code)] // SASL/SSL authentication (not supported yet)
    pub(crate) fn authentication_error(&self, node: i32) -> Option<&str> {
        self.nodes
            .get(&node)
            .and_then(|s| s.authentication_error.as_deref())
    }

    /// Whether `node` is ready and not throttled at `now`.
    pub(crate) fn is_ready(&self, node: i32, now: Instant) -> bool {
        self.nodes
            .get(&node)
            .is_some_and(|s| Self::ready_at(s, now))
    }

    /// Whether any node is ready and not throttled.
    #[allow(dead_code)] // part of the Java API; tests
    pub(crate) fn has_ready_nodes(&self, now: Instant) -> bool {
        self.nodes.values().any(|s| Self::ready_at(s, now))
    }

    fn ready_at(s: &NodeConnectionState, now: Instant) -> bool {
        s.state == ConnectionState::Ready && s.throttle_until.is_none_or(|t| t <= now)
    }

    /// Whether the TCP connection to `node` is up.
    pub(crate) fn is_connected(&self, node: i32) -> bool {
        self.nodes
            .get(&node)
            .is_some_and(|s| s.state.is_connected())
    }

    /// Whether `node` is known and disconnected.
    #[allow(dead_code)] // part of the Java API; tests
    pub(crate) fn is_disconnected(&self, node: i32) -> bool {
        self.nodes
            .get(&node)
            .is_some_and(|s| s.state.is_disconnected())
    }

    /// Forgets `node`: unlike [`Self::disconnected`], its next connection
    /// needs no backoff.
    #[allow(dead_code)] // part of the Java API; tests
    pub(crate) fn remove(&mut self, node: i32) {
        self.nodes.remove(&node);
        self.connecting.remove(&node);
    }

    /// The state of `node`, `None` if it was never tried (or removed).
    #[allow(dead_code)] // tests
    pub(crate) fn connection_state(&self, node: i32) -> Option<ConnectionState> {
        self.nodes.get(&node).map(|s| s.state)
    }

    /// When the last connect to `node` was started (or it last failed).
    pub(crate) fn last_connect_attempt(&self, node: i32) -> Option<Instant> {
        self.nodes.get(&node).map(|s| s.last_connect_attempt)
    }

    /// The current reconnect backoff of `node`.
    #[allow(dead_code)] // tests
    pub(crate) fn reconnect_backoff(&self, node: i32) -> Option<Duration> {
        self.nodes.get(&node).map(|s| s.reconnect_backoff)
    }

    /// The current connection setup timeout of `node`.
    pub(crate) fn connection_setup_timeout(&self, node: i32) -> Option<Duration> {
        self.nodes.get(&node).map(|s| s.connection_setup_timeout)
    }

    /// Whether `node` has been connecting for longer than its setup timeout
    /// (false if it is not connecting).
    pub(crate) fn is_connection_setup_timeout(&self, node: i32, now: Instant) -> bool {
        self.nodes.get(&node).is_some_and(|s| {
            s.state == ConnectionState::Connecting
                && now.saturating_duration_since(s.last_connect_attempt)
                    > s.connection_setup_timeout
        })
    }

    /// The connecting nodes whose setup timed out, in ascending id order.
    pub(crate) fn nodes_with_connection_setup_timeout(&self, now: Instant) -> Vec<i32> {
        self.connecting
            .iter()
            .copied()
            .filter(|&n| self.is_connection_setup_timeout(n, now))
            .collect()
    }

    /// The connecting nodes, in ascending id order.
    #[allow(dead_code)] // tests
    pub(crate) fn connecting_nodes(&self) -> impl Iterator<Item = i32> + '_ {
        self.connecting.iter().copied()
    }

    fn state_is(&self, node: i32, state: ConnectionState) -> bool {
        self.nodes.get(&node).is_some_and(|s| s.state == state)
    }
}

#[cfg(test)]
#[path = "cluster_connection_states_tests.rs"]
mod tests;
