//! [`InFlightRequests`]: the requests sent, or being sent, to each node that
//! have not been answered yet (Java `InFlightRequests`).
//!
//! One FIFO queue per node: a broker answers the requests of one connection
//! in order, so the oldest request is the one the next response belongs to
//! (the caller checks the correlation id). Capacity per node is
//! `max.in.flight.requests.per.connection`, with Java's extra rule that a new
//! request waits until the previous one is fully written, so at most one
//! frame per connection sits unwritten in the selector.
//!
//! ```text
//!  add() ──▶ [newest … oldest] ──▶ complete_next()        (a response arrived)
//!            mark_sends_completed(n): the n oldest unwritten requests are written;
//!            those that expect no response (acks=0) leave the queue here
//!            clear_all(): the connection is gone
//! ```
//!
//! The payload `T` is whatever the network client keeps per request
//! (callback, request body, ...); this module never looks at it.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::protocol::api_key::ApiKey;

/// One request sent, or being sent, to a node.
#[derive(Debug)]
pub(crate) struct InFlightRequest<T> {
    /// The correlation id in the request header; the response carries it.
    pub(crate) correlation_id: i32,
    /// The request's API.
    pub(crate) api_key: ApiKey,
    /// The request's API version (the response is read at the same one).
    pub(crate) api_version: i16,
    /// The node the request went to.
    pub(crate) destination: i32,
    /// When the request was handed to the selector.
    pub(crate) send_time: Instant,
    /// Whether the broker answers (false for Produce with `acks=0`).
    pub(crate) expect_response: bool,
    /// How long to wait for the response (`request.timeout.ms` or the
    /// request's own).
    pub(crate) request_timeout: Duration,
    /// Whether the request's frame is fully written. [`InFlightRequests::add`]
    /// sets it to false, [`InFlightRequests::mark_sends_completed`] to true.
    pub(crate) send_completed: bool,
    /// What the network client keeps with the request.
    pub(crate) payload: T,
}

impl<T> InFlightRequest<T> {
    /// Whether the request has waited longer than its timeout at `now`.
    pub(crate) fn is_timed_out(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.send_time) > self.request_timeout
    }
}

/// The in-flight requests of every node.
#[derive(Debug)]
pub(crate) struct InFlightRequests<T> {
    max_per_connection: usize,
    /// Oldest at the front.
    requests: HashMap<i32, VecDeque<InFlightRequest<T>>>,
    total: usize,
}

impl<T> InFlightRequests<T> {
    /// Empty queues allowing `max_per_connection` requests per node
    /// (`max.in.flight.requests.per.connection`).
    pub(crate) fn new(max_per_connection: usize) -> Self {
        InFlightRequests {
            max_per_connection,
            requests: HashMap::new(),
            total: 0,
        }
    }

    /// Adds a request just handed to the selector for its destination.
    pub(crate) fn add(&mut self, mut request: InFlightRequest<T>) {
        request.send_completed = false;
        self.requests
            .entry(request.destination)
            .or_default()
            .push_back(request);
        self.total += 1;
    }

    /// Whether another request may be sent to `node`: none is in flight, or
    /// the newest is fully written and fewer than the maximum are in flight.
    pub(crate) fn can_send_more(&self, node: i32) -> bool {
        match self.requests.get(&node) {
            None => true,
            Some(q) => q
                .back()
                .is_none_or(|newest| newest.send_completed && q.len() < self.max_per_connection),
        }
    }

    /// The oldest request to `node`: the one the next response answers.
    pub(crate) fn next_to_complete(&self, node: i32) -> Option<&InFlightRequest<T>> {
        self.requests.get(&node).and_then(VecDeque::front)
    }

    /// Removes and returns the oldest request to `node`, when its response
    /// has arrived.
    pub(crate) fn complete_next(&mut self, node: i32) -> Option<InFlightRequest<T>> {
        let request = self.requests.get_mut(&node)?.pop_front()?;
        self.removed(node, 1);
        Some(request)
    }

    /// The newest request to `node`.
    #[allow(dead_code)] // part of the Java API; tests
    pub(crate) fn last_sent(&self, node: i32) -> Option<&InFlightRequest<T>> {
        self.requests.get(&node).and_then(VecDeque::back)
    }

    /// Removes and returns the newest request to `node` (Java
    /// `completeLastSent`).
    #[allow(dead_code)] // part of the Java API; tests
    pub(crate) fn complete_last_sent(&mut self, node: i32) -> Option<InFlightRequest<T>> {
        let request = self.requests.get_mut(&node)?.pop_back()?;
        self.removed(node, 1);
        Some(request)
    }

    /// Records that the selector finished writing `frames` more frames to
    /// `node` (its `completed_sends`): the oldest requests not yet written
    /// are marked written. Those that expect no response are complete now;
    /// they are removed and returned, oldest first.
    pub(crate) fn mark_sends_completed(
        &mut self,
        node: i32,
        frames: usize,
    ) -> Vec<InFlightRequest<T>> {
        let Some(q) = self.requests.get_mut(&node) else {
            return Vec::new();
        };
        // Frames are written in the order the requests were added, so the
        // unwritten requests are the newest ones.
        let first_unsent = q.iter().position(|r| !r.send_completed).unwrap_or(q.len());
        let end = (first_unsent + frames).min(q.len());
        let mut done = Vec::new();
        let mut i = first_unsent;
        for _ in first_unsent..end {
            if q[i].expect_response {
                q[i].send_completed = true;
                i += 1;
            } else if let Some(mut r) = q.remove(i) {
                r.send_completed = true;
                done.push(r);
            }
        }
        let removed = done.len();
        self.removed(node, removed);
        done
    }

    /// Removes and returns every request to `node`, oldest first, when its
    /// connection is gone.
    pub(crate) fn clear_all(&mut self, node: i32) -> Vec<InFlightRequest<T>> {
        match self.requests.remove(&node) {
            Some(q) => {
                self.total -= q.len();
                q.into()
            }
            None => Vec::new(),
        }
    }

    /// How many requests to `node` are in flight (least-loaded-node choice).
    pub(crate) fn count(&self, node: i32) -> usize {
        self.requests.get(&node).map_or(0, VecDeque::len)
    }

    /// Whether no request to `node` is in flight.
    #[allow(dead_code)] // part of the Java API; tests
    pub(crate) fn is_empty(&self, node: i32) -> bool {
        self.count(node) == 0
    }

    /// How many requests are in flight to all nodes.
    pub(crate) fn total(&self) -> usize {
        self.total
    }

    /// Whether no request is in flight at all.
    #[allow(dead_code)] // part of the Java API; tests
    pub(crate) fn is_all_empty(&self) -> bool {
        self.total == 0
    }

    /// The nodes with at least one request older than its timeout, in
    /// ascending id order.
    pub(crate) fn nodes_with_timed_out_requests(&self, now: Instant) -> Vec<i32> {
        let mut nodes: Vec<i32> = self
            .requests
            .iter()
            .filter(|(_, q)| q.iter().any(|r| r.is_timed_out(now)))
            .map(|(&node, _)| node)
            .collect();
        nodes.sort_unstable();
        nodes
    }

    /// Updates the total after `n` requests to `node` left its queue, and
    /// drops the queue once empty.
    fn removed(&mut self, node: i32, n: usize) {
        self.total -= n;
        if self.requests.get(&node).is_some_and(VecDeque::is_empty) {
            self.requests.remove(&node);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::clock::{Clock, MockClock};

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    fn request(node: i32, id: i32, sent: Instant, expect: bool) -> InFlightRequest<&'static str> {
        InFlightRequest {
            correlation_id: id,
            api_key: ApiKey::PRODUCE,
            api_version: 11,
            destination: node,
            send_time: sent,
            expect_response: expect,
            request_timeout: ms(30_000),
            send_completed: true, // add() resets it
            payload: "p",
        }
    }

    fn ids(v: &[InFlightRequest<&str>]) -> Vec<i32> {
        v.iter().map(|r| r.correlation_id).collect()
    }

    #[test]
    fn requests_complete_oldest_first_per_node() {
        let t0 = MockClock::default().now();
        let mut q = InFlightRequests::new(5);
        q.add(request(1, 10, t0, true));
        q.add(request(2, 20, t0, true));
        q.add(request(1, 11, t0, true));
        assert_eq!((q.count(1), q.count(2), q.total()), (2, 1, 3));
        assert_eq!(q.next_to_complete(1).unwrap().correlation_id, 10);
        assert_eq!(q.last_sent(1).unwrap().correlation_id, 11);
        assert_eq!(q.complete_next(1).unwrap().correlation_id, 10);
        assert_eq!(q.complete_next(1).unwrap().correlation_id, 11);
        assert!(q.complete_next(1).is_none());
        assert!(q.is_empty(1) && !q.is_empty(2) && !q.is_all_empty());
        assert_eq!(q.complete_next(2).unwrap().payload, "p");
        assert!(q.is_all_empty());
        assert!(q.complete_next(3).is_none() && q.complete_last_sent(3).is_none());
    }

    #[test]
    fn can_send_more_needs_the_last_send_written_and_room() {
        let t0 = MockClock::default().now();
        let mut q = InFlightRequests::new(2);
        assert!(q.can_send_more(1));
        q.add(request(1, 1, t0, true));
        assert!(!q.last_sent(1).unwrap().send_completed);
        assert!(!q.can_send_more(1), "the first frame is not written yet");
        assert!(q.mark_sends_completed(1, 1).is_empty());
        assert!(q.can_send_more(1));
        q.add(request(1, 2, t0, true));
        q.mark_sends_completed(1, 1);
        assert!(!q.can_send_more(1), "two in flight, the maximum");
        q.complete_next(1);
        assert!(q.can_send_more(1));
    }

    #[test]
    fn sends_completed_mark_the_oldest_unwritten_and_release_those_without_responses() {
        let t0 = MockClock::default().now();
        let mut q = InFlightRequests::new(10);
        q.add(request(1, 1, t0, true));
        q.add(request(1, 2, t0, false));
        q.add(request(1, 3, t0, true));
        q.add(request(1, 4, t0, false));
        // Two frames written: request 1 (kept) and 2 (acks=0, released).
        let done = q.mark_sends_completed(1, 2);
        assert_eq!(ids(&done), vec![2]);
        assert!(done[0].send_completed);
        assert_eq!(q.count(1), 3);
        assert_eq!(q.total(), 3);
        // More frames reported than unwritten requests: only those exist.
        let done = q.mark_sends_completed(1, 5);
        assert_eq!(ids(&done), vec![4]);
        assert_eq!(ids(&q.clear_all(1)), vec![1, 3]);
        assert!(q.mark_sends_completed(9, 1).is_empty());
    }

    #[test]
    fn complete_last_sent_takes_the_newest() {
        let t0 = MockClock::default().now();
        let mut q = InFlightRequests::new(5);
        q.add(request(1, 1, t0, true));
        q.add(request(1, 2, t0, false));
        assert_eq!(q.complete_last_sent(1).unwrap().correlation_id, 2);
        assert_eq!(q.total(), 1);
        assert_eq!(q.next_to_complete(1).unwrap().correlation_id, 1);
    }

    #[test]
    fn clear_all_returns_every_request_oldest_first() {
        let t0 = MockClock::default().now();
        let mut q = InFlightRequests::new(5);
        for id in 0..4 {
            q.add(request(1, id, t0, true));
        }
        q.add(request(2, 9, t0, true));
        assert_eq!(ids(&q.clear_all(1)), vec![0, 1, 2, 3]);
        assert_eq!(q.total(), 1);
        assert!(q.can_send_more(1));
        assert!(q.clear_all(1).is_empty());
    }

    #[test]
    fn timed_out_requests_are_found_per_node() {
        let t0 = MockClock::default().now();
        let mut q = InFlightRequests::new(5);
        q.add(request(3, 1, t0, true));
        q.add(request(1, 2, t0 + ms(10_000), true));
        let mut short = request(2, 3, t0 + ms(20_000), true);
        short.request_timeout = ms(1000);
        q.add(short);
        assert!(q.nodes_with_timed_out_requests(t0 + ms(21_000)).is_empty());
        assert_eq!(q.nodes_with_timed_out_requests(t0 + ms(21_001)), vec![2]);
        assert_eq!(q.nodes_with_timed_out_requests(t0 + ms(30_001)), vec![2, 3]);
        assert_eq!(
            q.nodes_with_timed_out_requests(t0 + ms(40_001)),
            vec![1, 2, 3]
        );
    }
}
