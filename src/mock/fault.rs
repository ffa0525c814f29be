//! The fault plan: what a mock cluster should do wrong, consulted on every
//! request, and the public enums that describe faults ([`Disconnect`],
//! [`Corruption`]). Brokers going down and up are not here: they stop and
//! restart a broker's threads (`cluster.rs`, `broker.rs`).
//!
//! One `Mutex<FaultPlan>` per cluster. The request path asks it at fixed
//! points, so each kind of fault slots in at one of them:
//!
//! ```text
//!  reader thread (one per connection)        hook
//!  read frame, decode the header, count it
//!  on_request(broker, api) ──────────────── drop_connection_after: the n-th matching
//!   │  BeforeHandling: close now              request closes its connection
//!  dispatch to the API handler
//!   │  next_error(api) ───────────────────── push_request_errors: the whole request fails
//!   │  per partition: next_partition_error ─ push_partition_errors: that partition fails
//!   │  leader check ───────────────────────── set_partition_leader, broker_down
//!   │  append (or count only) ─────────────── set_sink_mode
//!   │  AfterHandling: close, answer lost
//!  on_response(broker, api) ─────────────── corrupt_next_response, delay_responses
//!   │  MidFrame: queue half the frame, then close
//!   v
//!  writer thread (one per connection): holds each response until its due
//!  time, writes them in order
//! ```
//!
//! Queued errors, drops and corruptions are used up as they fire; delays
//! stay until replaced or cleared.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use crate::protocol::api_key::ApiKey;
use crate::protocol::error_code::ErrorCode;

/// How a connection is dropped by
/// [`MockCluster::drop_connection_after`](super::MockCluster::drop_connection_after).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Disconnect {
    /// Close the connection as soon as the request is read: it is counted
    /// but not handled (a produce appends nothing) and not answered.
    BeforeHandling,
    /// Handle the request (a produce is appended), then close the connection
    /// without answering: the response is lost on the way back. A producer
    /// with idempotence resends the batch, and the broker answers the
    /// duplicate with its original offset.
    AfterHandling,
    /// Handle the request, write the responses queued before it, then the
    /// first half of its response frame (the size prefix announces the
    /// whole frame), then close. A request without a response (Produce with
    /// acks=0) just closes the connection after it is handled.
    MidFrame,
}

/// How [`MockCluster::corrupt_next_response`](super::MockCluster::corrupt_next_response)
/// spoils a response frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Corruption {
    /// Keep the size prefix and the correlation id, replace every later
    /// byte with `0x7f`: a frame of the right size and the right request
    /// whose body no response of the mock's APIs decodes from, except the
    /// fixed-size InitProducerId v0-1 body, which decodes with error code
    /// 32639 (`0x7f7f`), unknown to any client.
    Garbage,
    /// Keep the body, invert every bit of the correlation id: a well-formed
    /// frame that answers no request the client sent.
    WrongCorrelationId,
}

impl Corruption {
    /// Spoils a whole response frame (size prefix included).
    pub(crate) fn apply(self, frame: &mut [u8]) {
        match self {
            Corruption::Garbage => {
                if let Some(body) = frame.get_mut(8..) {
                    body.fill(0x7f);
                }
            }
            Corruption::WrongCorrelationId => {
                if let Some(id) = frame.get_mut(4..8) {
                    for b in id {
                        *b = !*b;
                    }
                }
            }
        }
    }
}

/// Which requests a fault applies to: `None` matches every broker or API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Selector {
    broker: Option<i32>,
    api: Option<ApiKey>,
}

impl Selector {
    fn matches(self, broker: i32, api: ApiKey) -> bool {
        self.broker.is_none_or(|b| b == broker) && self.api.is_none_or(|a| a == api)
    }
}

/// A counted connection drop.
#[derive(Debug, Clone, Copy)]
struct DropRule {
    on: Selector,
    /// Matching requests still to come before the drop, this one included.
    remaining: u32,
    how: Disconnect,
}

/// What to do with one response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ResponseFaults {
    /// How long to hold it back.
    pub(crate) delay: Duration,
    pub(crate) corruption: Option<Corruption>,
}

/// Faults waiting to happen.
#[derive(Debug, Default)]
pub(crate) struct FaultPlan {
    /// Error codes to answer, one per request, in order, per API.
    request_errors: HashMap<ApiKey, VecDeque<ErrorCode>>,
    /// Error codes for one partition, one per produce request that holds it.
    partition_errors: HashMap<(String, i32), VecDeque<ErrorCode>>,
    /// Standing delays; the longest matching one applies.
    delays: Vec<(Selector, Duration)>,
    drops: Vec<DropRule>,
    /// Oldest first; each spoils one response.
    corruptions: VecDeque<(Selector, Corruption)>,
}

impl FaultPlan {
    /// Queues `codes`: the next `codes.len()` requests of `api` are answered
    /// with them, one each.
    pub(crate) fn push_request_errors(&mut self, api: ApiKey, codes: &[ErrorCode]) {
        self.request_errors
            .entry(api)
            .or_default()
            .extend(codes.iter().copied());
    }

    /// The error to answer this request of `api` with, if one is queued.
    pub(crate) fn next_error(&mut self, api: ApiKey) -> Option<ErrorCode> {
        self.request_errors.get_mut(&api)?.pop_front()
    }

    /// Queues `codes` for one partition: the next `codes.len()` produce
    /// requests that hold it answer it with them, one each.
    pub(crate) fn push_partition_errors(
        &mut self,
        topic: &str,
        partition: i32,
        codes: &[ErrorCode],
    ) {
        self.partition_errors
            .entry((topic.to_owned(), partition))
            .or_default()
            .extend(codes.iter().copied());
    }

    /// The error to answer this partition of a produce request with, if one
    /// is queued.
    pub(crate) fn next_partition_error(
        &mut self,
        topic: &str,
        partition: i32,
    ) -> Option<ErrorCode> {
        if self.partition_errors.is_empty() {
            return None; // the common case: no String key to build
        }
        let key = (topic.to_owned(), partition);
        let queue = self.partition_errors.get_mut(&key)?;
        let code = queue.pop_front();
        if queue.is_empty() {
            self.partition_errors.remove(&key);
        }
        code
    }

    /// Holds back the responses of matching requests by `delay`, replacing
    /// the delay set for the same broker and API; `Duration::ZERO` removes
    /// it.
    pub(crate) fn delay_responses(
        &mut self,
        broker: Option<i32>,
        api: Option<ApiKey>,
        delay: Duration,
    ) {
        let on = Selector { broker, api };
        self.delays.retain(|(s, _)| *s != on);
        if !delay.is_zero() {
            self.delays.push((on, delay));
        }
    }

    /// Drops the connection that carries the `n`-th matching request from
    /// now (`n` = 0 is taken as 1).
    pub(crate) fn drop_connection_after(
        &mut self,
        broker: Option<i32>,
        api: Option<ApiKey>,
        n: u32,
        how: Disconnect,
    ) {
        self.drops.push(DropRule {
            on: Selector { broker, api },
            remaining: n.max(1),
            how,
        });
    }

    /// Spoils the response of the next matching request that has one.
    pub(crate) fn corrupt_next_response(
        &mut self,
        broker: Option<i32>,
        api: Option<ApiKey>,
        how: Corruption,
    ) {
        self.corruptions.push_back((Selector { broker, api }, how));
    }

    /// Called once per request, when its header is read: counts it against
    /// every drop rule that matches and says whether its connection must be
    /// dropped, and how. When several rules fire on one request, the
    /// earliest drop wins (before handling, then after, then mid-frame) and
    /// all of them are used up.
    pub(crate) fn on_request(&mut self, broker: i32, api: ApiKey) -> Option<Disconnect> {
        if self.drops.is_empty() {
            return None;
        }
        let mut fired: Option<Disconnect> = None;
        self.drops.retain_mut(|rule| {
            if !rule.on.matches(broker, api) {
                return true;
            }
            rule.remaining -= 1; // >= 1 while the rule is kept
            if rule.remaining > 0 {
                return true;
            }
            fired = Some(match fired {
                Some(earlier) if rank(earlier) <= rank(rule.how) => earlier,
                _ => rule.how,
            });
            false
        });
        fired
    }

    /// Called once per response about to be written: its delay and the
    /// corruption it takes, if one is queued for it (used up).
    pub(crate) fn on_response(&mut self, broker: i32, api: ApiKey) -> ResponseFaults {
        let delay = self
            .delays
            .iter()
            .filter(|(s, _)| s.matches(broker, api))
            .map(|(_, d)| *d)
            .max()
            .unwrap_or(Duration::ZERO);
        let corruption = self
            .corruptions
            .iter()
            .position(|(s, _)| s.matches(broker, api))
            .and_then(|i| self.corruptions.remove(i))
            .map(|(_, how)| how);
        ResponseFaults { delay, corruption }
    }

    /// Forgets every pending fault and delay.
    pub(crate) fn clear(&mut self) {
        *self = FaultPlan::default();
    }
}

/// The order in which simultaneous drops win: the one that leaves the
/// least done first.
fn rank(how: Disconnect) -> u8 {
    match how {
        Disconnect::BeforeHandling => 0,
        Disconnect::AfterHandling => 1,
        Disconnect::MidFrame => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_answered_once_each_in_order() {
        let mut plan = FaultPlan::default();
        plan.push_request_errors(
            ApiKey::PRODUCE,
            &[
                ErrorCode::NOT_LEADER_OR_FOLLOWER,
                ErrorCode::REQUEST_TIMED_OUT,
            ],
        );
        assert_eq!(plan.next_error(ApiKey::METADATA), None);
        assert_eq!(
            plan.next_error(ApiKey::PRODUCE),
            Some(ErrorCode::NOT_LEADER_OR_FOLLOWER)
        );
        assert_eq!(
            plan.next_error(ApiKey::PRODUCE),
            Some(ErrorCode::REQUEST_TIMED_OUT)
        );
        assert_eq!(plan.next_error(ApiKey::PRODUCE), None);
    }

    #[test]
    fn partition_errors_are_per_partition() {
        let mut plan = FaultPlan::default();
        plan.push_partition_errors("t", 1, &[ErrorCode::NOT_ENOUGH_REPLICAS]);
        plan.push_partition_errors("t", 1, &[ErrorCode::REQUEST_TIMED_OUT]);
        assert_eq!(plan.next_partition_error("t", 0), None);
        assert_eq!(plan.next_partition_error("u", 1), None);
        assert_eq!(
            plan.next_partition_error("t", 1),
            Some(ErrorCode::NOT_ENOUGH_REPLICAS)
        );
        assert_eq!(
            plan.next_partition_error("t", 1),
            Some(ErrorCode::REQUEST_TIMED_OUT)
        );
        assert_eq!(plan.next_partition_error("t", 1), None);
        assert!(plan.partition_errors.is_empty());
    }

    #[test]
    fn drops_count_matching_requests_only() {
        let mut plan = FaultPlan::default();
        plan.drop_connection_after(Some(2), Some(ApiKey::PRODUCE), 2, Disconnect::AfterHandling);
        assert_eq!(plan.on_request(1, ApiKey::PRODUCE), None);
        assert_eq!(plan.on_request(2, ApiKey::METADATA), None);
        assert_eq!(plan.on_request(2, ApiKey::PRODUCE), None);
        assert_eq!(
            plan.on_request(2, ApiKey::PRODUCE),
            Some(Disconnect::AfterHandling)
        );
        assert_eq!(plan.on_request(2, ApiKey::PRODUCE), None, "used up");
    }

    #[test]
    fn zero_means_the_next_request_and_the_earliest_drop_wins() {
        let mut plan = FaultPlan::default();
        plan.drop_connection_after(None, None, 0, Disconnect::MidFrame);
        plan.drop_connection_after(None, None, 1, Disconnect::BeforeHandling);
        plan.drop_connection_after(None, None, 1, Disconnect::AfterHandling);
        assert_eq!(
            plan.on_request(3, ApiKey::METADATA),
            Some(Disconnect::BeforeHandling)
        );
        assert_eq!(plan.on_request(3, ApiKey::METADATA), None);
    }

    #[test]
    fn delays_stand_and_the_longest_applies() {
        let mut plan = FaultPlan::default();
        let ms = Duration::from_millis;
        plan.delay_responses(None, None, ms(5));
        plan.delay_responses(Some(1), Some(ApiKey::PRODUCE), ms(50));
        assert_eq!(plan.on_response(1, ApiKey::PRODUCE).delay, ms(50));
        assert_eq!(plan.on_response(1, ApiKey::PRODUCE).delay, ms(50));
        assert_eq!(plan.on_response(2, ApiKey::PRODUCE).delay, ms(5));
        plan.delay_responses(Some(1), Some(ApiKey::PRODUCE), ms(1));
        assert_eq!(plan.on_response(1, ApiKey::PRODUCE).delay, ms(5));
        plan.delay_responses(None, None, Duration::ZERO);
        assert_eq!(plan.on_response(2, ApiKey::PRODUCE).delay, Duration::ZERO);
        plan.clear();
        assert_eq!(
            plan.on_response(1, ApiKey::PRODUCE),
            ResponseFaults::default()
        );
    }

    #[test]
    fn corruptions_are_used_once_in_order() {
        let mut plan = FaultPlan::default();
        plan.corrupt_next_response(Some(1), Some(ApiKey::METADATA), Corruption::Garbage);
        plan.corrupt_next_response(None, None, Corruption::WrongCorrelationId);
        assert_eq!(
            plan.on_response(2, ApiKey::METADATA).corruption,
            Some(Corruption::WrongCorrelationId)
        );
        assert_eq!(plan.on_response(2, ApiKey::METADATA).corruption, None);
        assert_eq!(
            plan.on_response(1, ApiKey::METADATA).corruption,
            Some(Corruption::Garbage)
        );
    }

    #[test]
    fn corruption_keeps_the_size_and_spoils_what_it_says() {
        let frame = [0, 0, 0, 6, 0, 0, 0, 9, 1, 2];
        let mut garbage = frame;
        Corruption::Garbage.apply(&mut garbage);
        assert_eq!(garbage, [0, 0, 0, 6, 0, 0, 0, 9, 0x7f, 0x7f]);
        let mut wrong = frame;
        Corruption::WrongCorrelationId.apply(&mut wrong);
        assert_eq!(wrong, [0, 0, 0, 6, 0xff, 0xff, 0xff, 0xf6, 1, 2]);
        // Too short to hold the fields: left alone, no panic.
        let mut tiny = [0u8; 3];
        Corruption::Garbage.apply(&mut tiny);
        Corruption::WrongCorrelationId.apply(&mut tiny);
        assert_eq!(tiny, [0; 3]);
    }
}
