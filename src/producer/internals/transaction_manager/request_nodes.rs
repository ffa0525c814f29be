//! Which nodes each partition has produce requests in flight to.
//!
//! Not in Java: after a leader move, Java drains a partition's next
//! batches to the new leader while earlier ones are still in a request to
//! the old one. If the old request's answer is lost, its batch is resent
//! after more than five later batches were written, outside the broker's
//! duplicate window, and is answered `OUT_OF_ORDER_SEQUENCE_NUMBER` though
//! written. The drain therefore sends a partition's batches to one node at
//! a time: a node gets new batches of a partition only once every request
//! carrying the partition to another node has been answered, failed or
//! timed out. The partition then never has more than
//! `max.in.flight.requests.per.connection` batches in flight in total.

use std::collections::HashMap;

use super::TransactionManager;
use crate::common::TopicPartition;

/// Produce requests in flight per partition, counted per node.
pub(super) type RequestNodes = HashMap<TopicPartition, HashMap<i32, usize>>;

impl TransactionManager {
    /// A produce request carrying a batch of `tp` was sent to `node`.
    pub(crate) fn batch_sent_to_node(&self, tp: &TopicPartition, node: i32) {
        *self
            .request_nodes
            .lock()
            .entry(tp.clone())
            .or_default()
            .entry(node)
            .or_insert(0) += 1;
    }

    /// A produce request to `node` carrying a batch of `tp` is over
    /// (answered, failed, timed out or dropped at close).
    pub(crate) fn batch_request_done(&self, tp: &TopicPartition, node: i32) {
        let mut nodes = self.request_nodes.lock();
        let Some(per_node) = nodes.get_mut(tp) else {
            return;
        };
        if let Some(count) = per_node.get_mut(&node) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                per_node.remove(&node);
            }
        }
        if per_node.is_empty() {
            nodes.remove(tp);
        }
    }

    /// Whether `tp` has a produce request in flight to a node other than
    /// `node`: then nothing of `tp` may be sent to `node` yet.
    pub(crate) fn has_requests_in_flight_to_other_node(
        &self,
        tp: &TopicPartition,
        node: i32,
    ) -> bool {
        self.request_nodes
            .lock()
            .get(tp)
            .is_some_and(|per_node| per_node.keys().any(|&n| n != node))
    }
}
