//! The fault plan: what a mock cluster should do wrong, consulted on every
//! request.
//!
//! One `Mutex<FaultPlan>` per cluster. The request path asks it at fixed
//! points, so each kind of fault slots in at one of them:
//!
//! ```text
//!  connection thread                       hook
//!  read frame ─────────────────────────── (next: drop the connection after N
//!   │                                       requests / mid-frame, broker down)
//!  decode header, count the request
//!  dispatch to the API handler
//!   │  handler asks next_error(api) ───── push_request_errors: answer the next
//!   │                                       requests of an API with an error
//!   │  per partition: leader check ────── (leadership table: set_partition_leader)
//!   │  append to the log ──────────────── (next: sink mode, acknowledge only)
//!  encode the response
//!  write it ───────────────────────────── (next: delay, corrupt frame)
//! ```
//!
//! Built today: queued error codes per API (Produce answers the code for
//! every partition of the request; InitProducerId answers it as its error).

use std::collections::{HashMap, VecDeque};

use crate::protocol::api_key::ApiKey;
use crate::protocol::error_code::ErrorCode;

/// Faults waiting to happen.
#[derive(Debug, Default)]
pub(crate) struct FaultPlan {
    /// Error codes to answer, one per request, in order, per API.
    request_errors: HashMap<ApiKey, VecDeque<ErrorCode>>,
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
}
