//! Tests of the generic metadata on a mock clock: bootstrap, responses to
//! snapshots, refresh timing and backoff, leader epochs, KIP-951 hints,
//! topic errors, rebootstrap, and the versioned wait.

use std::sync::Arc;
use std::thread;
use std::time::Instant;

use super::testutil::{
    broker, clock, ms, params, partition, response, topic, topic_error, topic_with_id,
};
use super::{AllTopics, Metadata, MetadataParams, UpdateOutcome};
use crate::common::{Node, TopicPartition};
use crate::error::Error;
use crate::protocol::error_code::ErrorCode;
use crate::protocol::messages::metadata::MetadataResponse;
use crate::protocol::messages::produce::{LeaderIdAndEpoch, NodeEndpoint};
use crate::util::clock::{Clock, MockClock};

fn metadata_with(p: MetadataParams) -> (Metadata<AllTopics>, Arc<MockClock>) {
    let c = clock();
    let m = Metadata::with_policy(p, AllTopics, c.clone());
    m.bootstrap(&[("h1".to_owned(), 9092), ("h2".to_owned(), 9093)]);
    (m, c)
}

fn metadata() -> (Metadata<AllTopics>, Arc<MockClock>) {
    metadata_with(params())
}

fn tp(t: &str, p: i32) -> TopicPartition {
    TopicPartition::new(t, p)
}

/// Sends the request metadata asks for and applies `resp` as its answer.
fn round_trip(m: &Metadata<AllTopics>, resp: &MetadataResponse, now: Instant) -> UpdateOutcome {
    let r = m.new_metadata_request(now);
    m.update(r.request_version, resp, r.is_partial_update, now)
}

#[test]
fn bootstrap_gives_negative_node_ids_and_wants_a_full_update() {
    let (m, c) = metadata();
    let cluster = m.fetch();
    assert!(cluster.is_bootstrap());
    let ids: Vec<i32> = cluster.nodes().iter().map(|n| n.id).collect();
    assert_eq!(ids, vec![-1, -2]);
    assert_eq!(cluster.nodes()[1].port, 9093);
    assert_eq!(m.update_version(), 1, "bootstrap counts as a version");
    assert!(m.update_requested());
    assert_eq!(m.time_to_next_update(c.now()), ms(0));
    let r = m.new_metadata_request(c.now());
    assert!(!r.is_partial_update);
    assert_eq!(
        r.request.topics, None,
        "the generic policy asks for all topics"
    );
    assert!(r.request.allow_auto_topic_creation);
}

#[test]
fn response_becomes_the_cluster() {
    let (m, c) = metadata();
    let mut t = topic_with_id("t", 3, 7, [9; 16]);
    t.partitions[2].leader_id = 42; // not among the brokers
    let before = m.update_version();
    assert_eq!(
        round_trip(&m, &response(vec![t]), c.now()),
        UpdateOutcome::Updated
    );
    assert_eq!(m.update_version(), before + 1);
    assert!(!m.update_requested());

    let cluster = m.fetch();
    assert!(!cluster.is_bootstrap());
    assert_eq!(cluster.cluster_id(), Some("c1"));
    assert_eq!(cluster.nodes().len(), 3);
    assert_eq!(
        cluster.node(2),
        Some(&Node {
            id: 2,
            host: "b2".into(),
            port: 9092,
            rack: Some("r2".into())
        })
    );
    assert_eq!(cluster.partition_count("t"), Some(3));
    let p0 = &cluster.partitions_for_topic("t").unwrap()[0];
    assert_eq!(p0.leader, Some(1));
    assert_eq!(p0.leader_epoch, 7);
    assert_eq!(p0.replicas, vec![1, 2, 3]);
    assert_eq!(p0.isr, vec![1, 2]);
    assert_eq!(p0.offline_replicas, vec![3]);
    // A leader that is not a known broker is no leader.
    assert_eq!(cluster.partitions_for_topic("t").unwrap()[2].leader, None);
    assert_eq!(cluster.leader_for(&tp("t", 2)), None);
    assert_eq!(cluster.available_partitions_for_topic("t"), &[0, 1]);
    assert_eq!(
        cluster.topic_id("t"),
        Some([9; 16]),
        "topic ids reach the cluster"
    );
}

#[test]
fn brokers_with_invalid_ports_and_duplicate_ids_are_cleaned() {
    let (m, c) = metadata();
    let mut resp = response(vec![topic("t", 1, 0)]);
    resp.brokers.push(broker(4));
    resp.brokers[3].port = 70_000;
    resp.brokers.push(broker(2));
    resp.brokers[4].host = "b2-new".into();
    round_trip(&m, &resp, c.now());
    let cluster = m.fetch();
    let ids: Vec<i32> = cluster.nodes().iter().map(|n| n.id).collect();
    assert_eq!(ids, vec![1, 2, 3]);
    assert_eq!(
        cluster.node(2).unwrap().host,
        "b2-new",
        "the last entry for an id wins"
    );
}

#[test]
fn empty_broker_list_is_a_failed_update() {
    let (m, c) = metadata();
    let resp = MetadataResponse {
        topics: vec![topic("t", 1, 0)],
        ..MetadataResponse::default()
    };
    assert_eq!(round_trip(&m, &resp, c.now()), UpdateOutcome::IgnoredEmpty);
    assert_eq!(m.update_version(), 1);
    assert!(m.fetch().is_bootstrap(), "the snapshot is unchanged");
    assert!(m.update_requested());
    assert_eq!(
        m.time_to_next_update(c.now()),
        ms(100),
        "backoff after the failure"
    );
}

#[test]
fn refresh_backoff_grows_after_each_failed_update() {
    let (m, c) = metadata();
    let mut waits = Vec::new();
    for _ in 0..6 {
        m.failed_update(c.now());
        waits.push(m.time_to_next_update(c.now()));
    }
    assert_eq!(
        waits,
        vec![ms(100), ms(200), ms(400), ms(800), ms(1000), ms(1000)]
    );
    c.sleep_ms(999);
    assert_eq!(m.time_to_next_update(c.now()), ms(1));
    c.sleep_ms(1);
    assert_eq!(m.time_to_next_update(c.now()), ms(0));
    // A success resets the count.
    round_trip(&m, &response(vec![]), c.now());
    m.request_update(true);
    assert_eq!(m.time_to_next_update(c.now()), ms(100));
}

#[test]
fn periodic_full_refresh_after_max_age() {
    let (m, c) = metadata();
    round_trip(&m, &response(vec![topic("t", 1, 0)]), c.now());
    assert_eq!(m.time_to_next_update(c.now()), ms(10_000));
    c.sleep_ms(9_999);
    assert_eq!(m.time_to_next_update(c.now()), ms(1));
    c.sleep_ms(1);
    assert_eq!(m.time_to_next_update(c.now()), ms(0));
    assert!(!m.new_metadata_request(c.now()).is_partial_update);
}

#[test]
fn requested_update_still_waits_for_the_refresh_backoff() {
    let (m, c) = metadata();
    round_trip(&m, &response(vec![]), c.now());
    m.request_update(false);
    assert_eq!(m.time_to_next_update(c.now()), ms(100));
    // Another response that changed nothing doubles the wait.
    c.sleep_ms(100);
    round_trip(&m, &response(vec![]), c.now());
    m.request_update(false);
    assert_eq!(m.time_to_next_update(c.now()), ms(200));
    // Asking with a reset waives the doubling.
    m.request_update(true);
    assert_eq!(m.time_to_next_update(c.now()), ms(100));
}

#[test]
fn stale_leader_epoch_is_ignored_and_unknown_epoch_accepted() {
    let (m, c) = metadata();
    round_trip(&m, &response(vec![topic("t", 1, 5)]), c.now());
    assert_eq!(m.fetch().leader_for(&tp("t", 0)), Some(1));

    // A lagging broker: epoch 4 names another leader.
    let mut stale = topic("t", 1, 4);
    stale.partitions[0].leader_id = 2;
    round_trip(&m, &response(vec![stale]), c.now());
    let cluster = m.fetch();
    assert_eq!(
        cluster.leader_for(&tp("t", 0)),
        Some(1),
        "the newer entry stays"
    );
    assert_eq!(
        cluster.partitions_for_topic("t").unwrap()[0].leader_epoch,
        5
    );
    assert_eq!(m.last_seen_leader_epoch(&tp("t", 0)), Some(5));

    let mut newer = topic("t", 1, 6);
    newer.partitions[0].leader_id = 2;
    round_trip(&m, &response(vec![newer]), c.now());
    assert_eq!(m.fetch().leader_for(&tp("t", 0)), Some(2));

    // No epoch (old broker): taken as is, the remembered epoch forgotten.
    let mut no_epoch = topic("t", 1, -1);
    no_epoch.partitions[0].leader_id = 3;
    round_trip(&m, &response(vec![no_epoch]), c.now());
    assert_eq!(m.fetch().leader_for(&tp("t", 0)), Some(3));
    assert_eq!(m.last_seen_leader_epoch(&tp("t", 0)), None);
    assert_eq!(
        m.fetch().partitions_for_topic("t").unwrap()[0].leader_epoch,
        -1
    );
}

#[test]
fn new_topic_id_resets_the_leader_epoch() {
    let (m, c) = metadata();
    round_trip(
        &m,
        &response(vec![topic_with_id("t", 1, 9, [1; 16])]),
        c.now(),
    );
    // Deleted and re-created: epochs start again.
    round_trip(
        &m,
        &response(vec![topic_with_id("t", 1, 0, [2; 16])]),
        c.now(),
    );
    assert_eq!(m.last_seen_leader_epoch(&tp("t", 0)), Some(0));
    assert_eq!(m.fetch().topic_id("t"), Some([2; 16]));
}

#[test]
fn newer_epoch_seen_elsewhere_requests_an_update() {
    let (m, c) = metadata();
    round_trip(&m, &response(vec![topic("t", 1, 5)]), c.now());
    assert!(!m.update_requested());
    assert!(!m.update_last_seen_epoch_if_newer(&tp("t", 0), 5));
    assert!(
        !m.update_last_seen_epoch_if_newer(&tp("u", 0), 9),
        "unknown partition"
    );
    assert!(!m.update_requested());
    assert!(m.update_last_seen_epoch_if_newer(&tp("t", 0), 6));
    assert!(m.update_requested());
    // The cached leader is now known to be out of date.
    let current = m.current_leader(&tp("t", 0));
    assert_eq!((current.leader, current.epoch), (None, Some(6)));
}

fn hint(leader_id: i32, leader_epoch: i32) -> LeaderIdAndEpoch {
    LeaderIdAndEpoch {
        leader_id,
        leader_epoch,
    }
}

#[test]
fn produce_response_leader_hint_updates_one_partition() {
    let (m, c) = metadata();
    round_trip(
        &m,
        &response(vec![topic_with_id("t", 2, 5, [3; 16])]),
        c.now(),
    );
    let version = m.update_version();
    let endpoint = NodeEndpoint {
        node_id: 7,
        host: "b7".into(),
        port: 9094,
        rack: None,
    };
    let changed = m.update_partition_leadership(
        &[
            (tp("t", 0), hint(7, 6)),   // newer, endpoint given: applied
            (tp("t", 1), hint(2, 5)),   // not newer: ignored
            (tp("u", 0), hint(1, 9)),   // not cached: ignored
            (tp("t", 1), hint(-1, -1)), // incomplete: ignored
        ],
        &[endpoint],
    );
    assert_eq!(changed.into_iter().collect::<Vec<_>>(), vec![tp("t", 0)]);
    let cluster = m.fetch();
    assert_eq!(cluster.leader_for(&tp("t", 0)), Some(7));
    assert_eq!(cluster.node(7).map(|n| n.port), Some(9094));
    assert_eq!(
        cluster.partitions_for_topic("t").unwrap()[0].leader_epoch,
        6
    );
    assert_eq!(
        cluster.partitions_for_topic("t").unwrap()[0].replicas,
        vec![1, 2, 3]
    );
    assert_eq!(
        cluster.leader_for(&tp("t", 1)),
        Some(2),
        "other partitions unchanged"
    );
    assert_eq!(cluster.topic_id("t"), Some([3; 16]));
    assert_eq!(m.update_version(), version, "no version bump");
    assert_eq!(m.last_seen_leader_epoch(&tp("t", 0)), Some(6));

    // A leader whose endpoint nobody gave is ignored.
    assert!(m
        .update_partition_leadership(&[(tp("t", 1), hint(8, 9))], &[])
        .is_empty());
    assert_eq!(m.fetch().leader_for(&tp("t", 1)), Some(2));
}

#[test]
fn unknown_topic_is_transient_and_refreshed_again() {
    let (m, c) = metadata();
    round_trip(
        &m,
        &response(vec![
            topic_error("a", ErrorCode::UNKNOWN_TOPIC_OR_PARTITION),
            topic_error("b", ErrorCode::LEADER_NOT_AVAILABLE),
        ]),
        c.now(),
    );
    let cluster = m.fetch();
    assert_eq!(cluster.partition_count("a"), None);
    assert!(cluster.invalid_topics().is_empty() && cluster.unauthorized_topics().is_empty());
    assert!(m.update_requested(), "another update is wanted");
    assert!(m.maybe_throw_exception_for_topic("a").is_ok());
}

#[test]
fn partition_error_requests_another_update() {
    let (m, c) = metadata();
    let mut t = topic("t", 2, 1);
    t.partitions[1].error_code = ErrorCode::LEADER_NOT_AVAILABLE;
    t.partitions[1].leader_id = -1;
    round_trip(&m, &response(vec![t]), c.now());
    assert_eq!(m.fetch().partition_count("t"), Some(2));
    assert_eq!(m.fetch().leader_for(&tp("t", 1)), None);
    assert!(m.update_requested());
}

#[test]
fn invalid_and_unauthorized_topics_are_reported_once() {
    let (m, c) = metadata();
    round_trip(
        &m,
        &response(vec![
            topic_error("bad name", ErrorCode::INVALID_TOPIC_EXCEPTION),
            topic_error("secret", ErrorCode::TOPIC_AUTHORIZATION_FAILED),
        ]),
        c.now(),
    );
    let cluster = m.fetch();
    assert!(cluster.invalid_topics().contains("bad name"));
    assert!(cluster.unauthorized_topics().contains("secret"));
    assert!(!m.update_requested(), "not retriable: no refresh for them");

    let err = m.maybe_throw_exception_for_topic("secret").unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::TOPIC_AUTHORIZATION_FAILED));
    assert!(
        err.to_string()
            .contains("Not authorized to access topics: [secret]"),
        "{err}"
    );
    // Java clears every recorded error once one is thrown.
    assert!(m.maybe_throw_exception_for_topic("bad name").is_ok());

    round_trip(
        &m,
        &response(vec![topic_error(
            "bad name",
            ErrorCode::INVALID_TOPIC_EXCEPTION,
        )]),
        c.now(),
    );
    let err = m.maybe_throw_exception_for_topic("bad name").unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::INVALID_TOPIC_EXCEPTION));
    assert!(
        err.to_string().contains("Invalid topics: [bad name]"),
        "{err}"
    );
}

#[test]
fn rebootstrap_required_response_under_each_strategy() {
    let (m, c) = metadata();
    let resp = MetadataResponse {
        error_code: ErrorCode::REBOOTSTRAP_REQUIRED,
        ..MetadataResponse::default()
    };
    assert!(!m.needs_rebootstrap(c.now()));
    assert_eq!(
        round_trip(&m, &resp, c.now()),
        UpdateOutcome::RebootstrapRequested
    );
    assert!(m.needs_rebootstrap(c.now()));
    m.rebootstrap(c.now());
    assert!(!m.needs_rebootstrap(c.now()));
    assert!(m.fetch().is_bootstrap());

    let (m, c) = metadata_with(MetadataParams {
        rebootstrap: false,
        ..params()
    });
    assert_eq!(round_trip(&m, &resp, c.now()), UpdateOutcome::IgnoredEmpty);
    assert!(!m.needs_rebootstrap(c.now()));
}

#[test]
fn rebootstrap_after_trigger_without_a_successful_update() {
    let (m, c) = metadata();
    round_trip(&m, &response(vec![topic("t", 1, 0)]), c.now());
    let start = c.now();
    m.note_update_attempt(start);
    c.sleep_ms(1000);
    m.note_update_attempt(c.now()); // the clock keeps its first start
    assert!(!m.needs_rebootstrap(start + ms(5000)));
    assert!(m.needs_rebootstrap(start + ms(5001)));

    let version = m.update_version();
    m.rebootstrap(start + ms(5001));
    let cluster = m.fetch();
    assert!(cluster.is_bootstrap());
    assert_eq!(
        cluster.nodes().iter().map(|n| n.id).collect::<Vec<_>>(),
        vec![-1, -2]
    );
    assert_eq!(m.update_version(), version + 1);
    assert!(m.update_requested());
    // The trigger now counts from the rebootstrap; a success stops it.
    assert!(!m.needs_rebootstrap(start + ms(10_001)));
    assert!(m.needs_rebootstrap(start + ms(10_002)));
    round_trip(&m, &response(vec![]), c.now());
    assert!(!m.needs_rebootstrap(start + ms(60_000)));
}

#[test]
fn await_update_returns_once_the_version_moves() {
    let (m, c) = metadata();
    let m = Arc::new(m);
    let version = m.request_update(true);
    let waiter = {
        let m = Arc::clone(&m);
        thread::spawn(move || m.await_update(version, None))
    };
    round_trip(&m, &response(vec![]), c.now());
    waiter.join().unwrap().unwrap();
    // An old version returns at once.
    m.await_update(version, Some(c.now())).unwrap();
}

#[test]
fn await_update_times_out_on_a_still_mock_clock() {
    let (m, c) = metadata();
    let version = m.request_update(true);
    let err = m.await_update(version, Some(c.now() + ms(20))).unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
    // A deadline already passed does not wait.
    let err = m.await_update(version, Some(c.now())).unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
}

#[test]
fn close_wakes_every_waiter() {
    let (m, c) = metadata();
    let m = Arc::new(m);
    let version = m.request_update(true);
    let waiters: Vec<_> = (0..3)
        .map(|_| {
            let m = Arc::clone(&m);
            thread::spawn(move || m.await_update(version, None))
        })
        .collect();
    m.close();
    for w in waiters {
        let err = w.join().unwrap().unwrap_err();
        assert!(matches!(err, Error::Closed(_)), "{err:?}");
        assert!(err
            .to_string()
            .contains("Requested metadata update after close"));
    }
    assert!(m.is_closed());
    let resp = response(vec![]);
    assert_eq!(m.update(0, &resp, false, c.now()), UpdateOutcome::Closed);
}

#[test]
fn fatal_error_wakes_a_waiter_once() {
    let (m, c) = metadata();
    let m = Arc::new(m);
    let version = m.request_update(true);
    let waiter = {
        let m = Arc::clone(&m);
        thread::spawn(move || m.await_update(version, None))
    };
    m.fatal_error(Error::Other("authentication failed".into()));
    let err = waiter.join().unwrap().unwrap_err();
    assert_eq!(err.to_string(), "authentication failed");
    // Taken by that waiter: the next one times out instead.
    let err = m.await_update(version, Some(c.now())).unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
}

#[test]
fn partition_without_leader_epoch_keeps_replicas() {
    let (m, c) = metadata();
    let mut t = topic("t", 1, -1);
    t.partitions[0] = partition(0, -1, -1);
    round_trip(&m, &response(vec![t]), c.now());
    let cluster = m.fetch();
    let p = &cluster.partitions_for_topic("t").unwrap()[0];
    assert_eq!((p.leader, p.leader_epoch), (None, -1));
    assert_eq!(p.isr, vec![1, 2]);
}
