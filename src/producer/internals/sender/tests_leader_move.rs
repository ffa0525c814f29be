//! With idempotence, a partition's batches go to one node at a time: after
//! a leader move, nothing of the partition is sent to the new leader while
//! a request carrying it is still in flight to the old one (so a resend of
//! a batch whose answer was lost stays within the broker's five-batch
//! duplicate window); the partition's other batches follow once that
//! request is answered or fails.

use super::testutil::*;
use crate::clients::metadata::testutil::{partition, response, topic};
use crate::clients::network_client::RequestFailure;
use crate::util::clock::Clock;

/// Partition 0 moves from broker 1 to broker 2 (leader epoch 1).
fn move_partition_0_to_node_2(fx: &Fx) {
    let mut t = topic("t", 3, 1);
    t.partitions[0] = partition(0, 2, 1);
    let now = fx.clock.now();
    let request = fx.metadata.new_metadata_request(now);
    fx.metadata.update(
        request.request_version,
        &response(vec![t]),
        request.is_partial_update,
        now,
    );
    assert_eq!(fx.metadata.fetch().leader_for(&tp(0)), Some(2));
}

/// A produce request as (node, its batches as (partition, values)).
type Sent = (i32, Vec<(i32, Vec<String>)>);

/// The produce requests in flight, oldest first.
fn sent(fx: &Fx) -> Vec<Sent> {
    fx.produce_requests()
        .iter()
        .map(|r| {
            let batches = wire_batches(r)
                .iter()
                .map(|b| (b.tp.partition(), strings(&b.values)))
                .collect();
            (r.node, batches)
        })
        .collect()
}

fn s(v: &str) -> Vec<String> {
    vec![v.to_owned()]
}

#[test]
fn no_batch_goes_to_the_new_leader_until_the_old_leaders_request_is_answered() {
    let mut fx = Fx::idempotent(Options::default(), 7);
    fx.append(0, b"a");
    fx.run();
    let old = fx.only_produce_request();
    assert_eq!(old.node, 1);

    move_partition_0_to_node_2(&fx);
    fx.append(0, b"b");
    fx.append(1, b"c");
    fx.run();
    fx.run();
    // Node 2 takes its own partition 1, but not partition 0's "b".
    assert_eq!(sent(&fx), [(1, vec![(0, s("a"))]), (2, vec![(1, s("c"))])]);

    fx.answer(&old, |_| ok(0));
    fx.run();
    fx.run();
    let requests = sent(&fx);
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(requests[0], (2, vec![(1, s("c"))]));
    let next = fx.produce_requests().pop().unwrap();
    assert_eq!(next.node, 2);
    let batches = wire_batches(&next);
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0].tp, tp(0));
    assert_eq!(batches[0].seq(), (1, 1), "\"b\" follows \"a\"");
    assert_eq!(fx.acked(), [("a".to_owned(), 0)]);
}

#[test]
fn a_request_to_the_old_leader_that_times_out_lets_its_batch_go_first_to_the_new_one() {
    let mut fx = Fx::idempotent(Options::default(), 7);
    fx.append(0, b"a");
    fx.run();
    let old = fx.only_produce_request();
    assert_eq!(old.node, 1);

    move_partition_0_to_node_2(&fx);
    fx.append(0, b"b");
    fx.run();
    fx.run();
    assert_eq!(sent(&fx), [(1, vec![(0, s("a"))])]);

    assert!(fx.client.fail(
        old.correlation_id,
        RequestFailure::TimedOut("held".to_owned()),
        fx.clock.now()
    ));
    fx.run();
    // The retry of "a" (sequence 0) goes to the new leader first, alone
    // (a retry is sent only as the first in flight), then "b".
    fx.clock.advance(1000 * MS);
    fx.run();
    fx.run();
    let requests = fx.produce_requests();
    assert!(!requests.is_empty());
    let first = wire_batches(&requests[0]);
    assert_eq!(requests[0].node, 2);
    assert_eq!(first[0].tp, tp(0));
    assert_eq!(first[0].seq(), (0, 1), "the retry of \"a\" first");
    assert_eq!(strings(&first[0].values), s("a"));
}
