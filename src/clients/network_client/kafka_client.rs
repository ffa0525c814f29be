//! [`KafkaClient`]: what the producer's `Sender` needs of a network client
//! (Java's `KafkaClient` interface), implemented by [`NetworkClient`] over
//! real sockets and, in tests, by a scripted client (Java's `MockClient`
//! idea) so that every retry, timeout and idempotence rule of the sender
//! can be checked deterministically on a mock clock.
//!
//! The sender is generic over it: the production build monomorphizes the
//! trait away, so the hot path pays no dynamic dispatch.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{ClientResponse, LeastLoadedNode, NetworkClient};
use crate::clients::metadata::{Metadata, TopicPolicy};
use crate::common::Node;
use crate::error::Result;
use crate::network::{Frame, Wakeup};
use crate::protocol::api_key::{ApiKey, VersionRange};

/// The requests-and-responses client the sender drives (Java
/// `KafkaClient`). Single-threaded: it lives on the network thread.
pub(crate) trait KafkaClient {
    /// Which topics the client's metadata keeps (the producer's policy).
    type Policy: TopicPolicy;

    /// A handle that interrupts [`poll`](Self::poll) from any thread;
    /// `None` when polls never block (scripted clients).
    fn wakeup_handle(&self) -> Option<Wakeup>;

    /// The metadata this client keeps up to date.
    fn metadata(&self) -> &Arc<Metadata<Self::Policy>>;

    /// Whether `node` can take a request now; if not, starts connecting to
    /// it when allowed (Java `ready`).
    fn ready(&mut self, node: &Node, now: Instant) -> bool;

    /// How long to wait before sending to a node that is not ready (Java
    /// `pollDelayMs`).
    fn poll_delay(&self, node: i32, now: Instant) -> Duration;

    /// The node least loaded with requests (Java `leastLoadedNode`).
    fn least_loaded_node(&mut self, now: Instant) -> LeastLoadedNode;

    /// Requests in flight to every node.
    fn in_flight_request_count(&self) -> usize;

    /// Sends a request to a ready node at the newest version both sides
    /// speak within `versions`; `encode` appends the body for that version
    /// to the frame (record batches may go in as shared segments). Returns
    /// the correlation id.
    #[allow(clippy::too_many_arguments)] // Java's ClientRequest, spelled out
    fn send(
        &mut self,
        node: i32,
        api_key: ApiKey,
        versions: Option<VersionRange>,
        encode: impl FnOnce(i16, &mut Frame) -> Result<()>,
        expect_response: bool,
        request_timeout: Duration,
        now: Instant,
    ) -> Result<i32>;

    /// Does the I/O, waiting at most `timeout`; returns the responses (and
    /// failures) of requests sent with [`send`](Self::send).
    fn poll(&mut self, timeout: Duration, now: Instant) -> Vec<ClientResponse>;

    /// Notes a throttle time read from a response body (KIP-219).
    fn maybe_throttle(
        &mut self,
        node: i32,
        api_key: ApiKey,
        version: i16,
        throttle_ms: i32,
        now: Instant,
    );

    /// Closes the connection to `node`; its in-flight requests fail in the
    /// returned responses.
    fn disconnect(&mut self, node: i32, now: Instant) -> Vec<ClientResponse>;

    /// Closes every connection.
    fn close(&mut self);
}

impl<P: TopicPolicy> KafkaClient for NetworkClient<P> {
    type Policy = P;

    fn wakeup_handle(&self) -> Option<Wakeup> {
        Some(NetworkClient::wakeup_handle(self))
    }

    fn metadata(&self) -> &Arc<Metadata<P>> {
        NetworkClient::metadata(self)
    }

    fn ready(&mut self, node: &Node, now: Instant) -> bool {
        NetworkClient::ready(self, node, now)
    }

    fn poll_delay(&self, node: i32, now: Instant) -> Duration {
        NetworkClient::poll_delay(self, node, now)
    }

    fn least_loaded_node(&mut self, now: Instant) -> LeastLoadedNode {
        NetworkClient::least_loaded_node(self, now)
    }

    fn in_flight_request_count(&self) -> usize {
        NetworkClient::in_flight_request_count(self)
    }

    fn send(
        &mut self,
        node: i32,
        api_key: ApiKey,
        versions: Option<VersionRange>,
        encode: impl FnOnce(i16, &mut Frame) -> Result<()>,
        expect_response: bool,
        request_timeout: Duration,
        now: Instant,
    ) -> Result<i32> {
        NetworkClient::send(
            self,
            node,
            api_key,
            versions,
            encode,
            expect_response,
            request_timeout,
            now,
        )
    }

    fn poll(&mut self, timeout: Duration, now: Instant) -> Vec<ClientResponse> {
        NetworkClient::poll(self, timeout, now)
    }

    fn maybe_throttle(
        &mut self,
        node: i32,
        api_key: ApiKey,
        version: i16,
        throttle_ms: i32,
        now: Instant,
    ) {
        NetworkClient::maybe_throttle(self, node, api_key, version, throttle_ms, now);
    }

    fn disconnect(&mut self, node: i32, now: Instant) -> Vec<ClientResponse> {
        NetworkClient::disconnect(self, node, now)
    }

    fn close(&mut self) {
        NetworkClient::close(self);
    }
}
