//! [`MockClient`]: a scripted [`KafkaClient`] for tests (Java's
//! `MockClient` idea). Nothing goes over a socket: requests the sender
//! sends are kept, with their encoded bodies, until the test answers,
//! fails or disconnects them through a [`MockHandle`]; the next `poll`
//! returns what the test prepared. Time moves only when the test moves its
//! `MockClock`; requests older than their timeout fail on the next poll,
//! as over a real connection.
//!
//! ```text
//!  test                         MockHandle ──shared state── MockClient (owned by the Sender)
//!  run_once()  ─────────────────────────────────────────▶  send(): kept in flight
//!  handle.in_flight(), decode bodies
//!  handle.respond(corr, body) / disconnect(node) / fail_next()
//!  run_once()  ─────────────────────────────────────────▶  poll(): responses returned
//! ```

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::{client_throttles, ClientResponse, KafkaClient, LeastLoadedNode, RequestFailure};
use crate::clients::metadata::{Metadata, TopicPolicy};
use crate::common::Node;
use crate::error::{Error, Result};
use crate::network::{Frame, Wakeup};
use crate::protocol::api_key::{ApiKey, VersionRange};

/// A request the client under test sent.
#[derive(Debug, Clone)]
pub(crate) struct SentRequest {
    pub(crate) node: i32,
    pub(crate) api_key: ApiKey,
    pub(crate) version: i16,
    pub(crate) correlation_id: i32,
    /// The request body (after the header), as encoded at `version`, its
    /// segments joined.
    pub(crate) body: Vec<u8>,
    /// How many shared segments (record batches not copied) the body had.
    pub(crate) shared_segments: usize,
    pub(crate) expect_response: bool,
    pub(crate) created: Instant,
    pub(crate) timeout: Duration,
}

#[derive(Debug, Default)]
struct NodeState {
    down: bool,
    throttled_until: Option<Instant>,
}

#[derive(Debug)]
struct MockState {
    next_correlation: i32,
    in_flight: Vec<SentRequest>,
    responses: VecDeque<ClientResponse>,
    nodes: HashMap<i32, NodeState>,
    max_in_flight: usize,
    max_versions: HashMap<ApiKey, i16>,
    poll_timeouts: Vec<Duration>,
    sent: Vec<SentRequest>,
    closed: bool,
}

impl MockState {
    fn node(&mut self, id: i32) -> &mut NodeState {
        self.nodes.entry(id).or_default()
    }

    fn in_flight_to(&self, node: i32) -> usize {
        self.in_flight.iter().filter(|r| r.node == node).count()
    }

    fn is_ready(&self, node: i32, now: Instant) -> bool {
        let state = self.nodes.get(&node);
        !self.closed
            && !state.is_some_and(|s| s.down)
            && state
                .and_then(|s| s.throttled_until)
                .is_none_or(|until| now >= until)
            && self.in_flight_to(node) < self.max_in_flight
    }

    fn take(&mut self, correlation_id: i32) -> Option<SentRequest> {
        let pos = self
            .in_flight
            .iter()
            .position(|r| r.correlation_id == correlation_id)?;
        Some(self.in_flight.remove(pos))
    }
}

fn response(
    r: &SentRequest,
    now: Instant,
    body: std::result::Result<Vec<u8>, RequestFailure>,
) -> ClientResponse {
    ClientResponse {
        destination: r.node,
        api_key: r.api_key,
        api_version: r.version,
        correlation_id: r.correlation_id,
        created: r.created,
        received: now,
        body,
    }
}

/// The scripted client; the sender owns it, the test keeps a [`MockHandle`].
#[derive(Debug)]
pub(crate) struct MockClient<P: TopicPolicy> {
    shared: Arc<Mutex<MockState>>,
    metadata: Arc<Metadata<P>>,
}

/// The test's side of a [`MockClient`].
#[derive(Debug, Clone)]
pub(crate) struct MockHandle {
    shared: Arc<Mutex<MockState>>,
}

impl<P: TopicPolicy> MockClient<P> {
    /// A client over `metadata` (the test updates it), allowing
    /// `max_in_flight` requests per node.
    pub(crate) fn new(metadata: Arc<Metadata<P>>, max_in_flight: usize) -> (Self, MockHandle) {
        let shared = Arc::new(Mutex::new(MockState {
            next_correlation: 0,
            in_flight: Vec::new(),
            responses: VecDeque::new(),
            nodes: HashMap::new(),
            max_in_flight: max_in_flight.max(1),
            max_versions: HashMap::new(),
            poll_timeouts: Vec::new(),
            sent: Vec::new(),
            closed: false,
        }));
        (
            MockClient {
                shared: Arc::clone(&shared),
                metadata,
            },
            MockHandle { shared },
        )
    }
}

impl MockHandle {
    /// The requests in flight, oldest first.
    pub(crate) fn in_flight(&self) -> Vec<SentRequest> {
        self.shared.lock().in_flight.clone()
    }

    /// The in-flight requests of one API, oldest first.
    pub(crate) fn in_flight_of(&self, api_key: ApiKey) -> Vec<SentRequest> {
        self.in_flight()
            .into_iter()
            .filter(|r| r.api_key == api_key)
            .collect()
    }

    /// Every request sent so far, oldest first.
    pub(crate) fn sent(&self) -> Vec<SentRequest> {
        self.shared.lock().sent.clone()
    }

    /// Answers the in-flight request `correlation_id` with `body`; the next
    /// poll returns it. Returns whether such a request was in flight.
    pub(crate) fn respond(&self, correlation_id: i32, body: Vec<u8>, now: Instant) -> bool {
        let mut s = self.shared.lock();
        match s.take(correlation_id) {
            Some(r) => {
                let resp = response(&r, now, Ok(body));
                s.responses.push_back(resp);
                true
            }
            None => false,
        }
    }

    /// Fails the in-flight request `correlation_id` (as a broken or
    /// unreadable answer would).
    pub(crate) fn fail(&self, correlation_id: i32, failure: RequestFailure, now: Instant) -> bool {
        let mut s = self.shared.lock();
        match s.take(correlation_id) {
            Some(r) => {
                let resp = response(&r, now, Err(failure));
                s.responses.push_back(resp);
                true
            }
            None => false,
        }
    }

    /// Drops the connection to `node`: its in-flight requests fail as
    /// disconnected on the next poll.
    pub(crate) fn disconnect(&self, node: i32, now: Instant) {
        let mut s = self.shared.lock();
        let (gone, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut s.in_flight)
            .into_iter()
            .partition(|r| r.node == node);
        s.in_flight = kept;
        for r in gone {
            let failure = RequestFailure::Disconnected(format!("Disconnected from node {node}"));
            let resp = response(&r, now, Err(failure));
            s.responses.push_back(resp);
        }
    }

    /// Makes `node` unreachable (never ready) or reachable again.
    pub(crate) fn set_node_down(&self, node: i32, down: bool) {
        self.shared.lock().node(node).down = down;
    }

    /// Caps the version used for `api_key` (an older broker).
    pub(crate) fn set_max_version(&self, api_key: ApiKey, version: i16) {
        self.shared.lock().max_versions.insert(api_key, version);
    }

    /// Until when `node` is throttled, if it is.
    pub(crate) fn throttled_until(&self, node: i32) -> Option<Instant> {
        self.shared
            .lock()
            .nodes
            .get(&node)
            .and_then(|n| n.throttled_until)
    }

    /// The timeouts of every poll so far.
    pub(crate) fn poll_timeouts(&self) -> Vec<Duration> {
        self.shared.lock().poll_timeouts.clone()
    }
}

impl<P: TopicPolicy> KafkaClient for MockClient<P> {
    type Policy = P;

    fn wakeup_handle(&self) -> Option<Wakeup> {
        None
    }

    fn metadata(&self) -> &Arc<Metadata<P>> {
        &self.metadata
    }

    fn ready(&mut self, node: &Node, now: Instant) -> bool {
        self.shared.lock().is_ready(node.id, now)
    }

    fn poll_delay(&self, node: i32, now: Instant) -> Duration {
        self.shared
            .lock()
            .nodes
            .get(&node)
            .and_then(|n| n.throttled_until)
            .map_or(Duration::ZERO, |until| until.saturating_duration_since(now))
    }

    fn least_loaded_node(&mut self, now: Instant) -> LeastLoadedNode {
        let cluster = self.metadata.fetch();
        let s = self.shared.lock();
        let mut best: Option<(&Node, usize)> = None;
        for node in cluster.nodes() {
            if !s.is_ready(node.id, now) {
                continue;
            }
            let load = s.in_flight_to(node.id);
            if best.is_none_or(|(_, l)| load < l) {
                best = Some((node, load));
            }
        }
        LeastLoadedNode {
            at_least_one_connection_ready: best.is_some(),
            node: best.map(|(n, _)| n.clone()),
        }
    }

    fn in_flight_request_count(&self) -> usize {
        self.shared.lock().in_flight.len()
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
        let mut s = self.shared.lock();
        if !s.is_ready(node, now) {
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
        let version = s
            .max_versions
            .get(&api_key)
            .map_or(wanted.max, |&m| m.min(wanted.max));
        if version < wanted.min {
            return Err(Error::Unsupported(format!(
                "node {node} does not support {api_key} in versions {}..={}",
                wanted.min, wanted.max
            )));
        }
        let mut frame = Frame::default();
        encode(version, &mut frame)?;
        let shared_segments = frame.shared_segments();
        let body = frame.to_vec();
        let correlation_id = s.next_correlation;
        s.next_correlation += 1;
        let request = SentRequest {
            node,
            api_key,
            version,
            correlation_id,
            body,
            shared_segments,
            expect_response,
            created: now,
            timeout: request_timeout,
        };
        s.sent.push(request.clone());
        if expect_response {
            s.in_flight.push(request);
        } else {
            // Completed once written, as over a connection.
            let resp = response(&request, now, Ok(Vec::new()));
            s.responses.push_back(resp);
        }
        Ok(correlation_id)
    }

    fn poll(&mut self, timeout: Duration, now: Instant) -> Vec<ClientResponse> {
        let mut s = self.shared.lock();
        s.poll_timeouts.push(timeout);
        let (expired, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut s.in_flight)
            .into_iter()
            .partition(|r| r.created.checked_add(r.timeout).is_some_and(|t| t <= now));
        s.in_flight = kept;
        for r in expired {
            let failure = RequestFailure::TimedOut(format!(
                "Disconnected from node {} due to timeout",
                r.node
            ));
            let resp = response(&r, now, Err(failure));
            s.responses.push_back(resp);
        }
        s.responses.drain(..).collect()
    }

    fn maybe_throttle(
        &mut self,
        node: i32,
        api_key: ApiKey,
        version: i16,
        throttle_ms: i32,
        now: Instant,
    ) {
        if throttle_ms > 0 && client_throttles(api_key, version) {
            let ms = u64::try_from(throttle_ms).unwrap_or(0);
            self.shared.lock().node(node).throttled_until =
                now.checked_add(Duration::from_millis(ms));
        }
    }

    fn disconnect(&mut self, node: i32, now: Instant) -> Vec<ClientResponse> {
        let mut s = self.shared.lock();
        let (gone, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut s.in_flight)
            .into_iter()
            .partition(|r| r.node == node);
        s.in_flight = kept;
        gone.iter()
            .map(|r| {
                response(
                    r,
                    now,
                    Err(RequestFailure::Disconnected(format!(
                        "Disconnected from node {node}"
                    ))),
                )
            })
            .collect()
    }

    fn close(&mut self) {
        let mut s = self.shared.lock();
        s.closed = true;
        s.in_flight.clear();
    }
}
