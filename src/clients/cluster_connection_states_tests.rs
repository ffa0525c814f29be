//! Tests of [`ClusterConnectionStates`]: state changes, reconnect backoff and
//! setup timeout growth (exact without jitter, bounded with it), address
//! rotation and re-resolution on a static resolver.

use std::sync::atomic::Ordering;

use super::*;
use crate::clients::host_resolver::StaticResolver;
use crate::util::clock::{Clock, MockClock};

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

fn config() -> ConnectionStatesConfig {
    ConnectionStatesConfig {
        reconnect_backoff: ms(50),
        reconnect_backoff_max: ms(1000),
        connection_setup_timeout: ms(10_000),
        connection_setup_timeout_max: ms(30_000),
    }
}

fn resolver() -> Arc<StaticResolver> {
    Arc::new(StaticResolver::new(&[
        ("a", &["10.0.0.1", "10.0.0.2", "10.0.0.3"]),
        ("b", &["10.0.1.1"]),
    ]))
}

/// States without jitter, and a base instant.
fn exact(resolver: Arc<StaticResolver>) -> (ClusterConnectionStates, Instant) {
    let s = ClusterConnectionStates::with_jitter(config(), resolver, 0.0, 0.0);
    (s, MockClock::default().now())
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn an_unknown_node_can_connect_at_once() {
    let (s, t0) = exact(resolver());
    assert!(s.can_connect(1, t0));
    assert!(!s.is_blacked_out(1, t0));
    assert_eq!(s.connection_delay(1, t0), Duration::ZERO);
    assert_eq!(s.connection_state(1), None);
    assert!(!s.is_connected(1) && !s.is_disconnected(1) && !s.is_ready(1, t0));
    assert!(!s.is_any_node_connecting());
}

#[test]
fn connect_check_versions_ready() {
    let (mut s, t0) = exact(resolver());
    s.connecting(1, t0, "a");
    assert_eq!(s.connection_state(1), Some(ConnectionState::Connecting));
    assert!(s.is_connecting(1) && s.is_preparing_connection(1) && s.is_any_node_connecting());
    assert_eq!(s.connecting_nodes().collect::<Vec<_>>(), vec![1]);
    assert!(!s.can_connect(1, t0 + ms(60_000)));
    // While connecting, the delay is the setup timeout.
    assert_eq!(s.connection_delay(1, t0), ms(10_000));
    s.checking_api_versions(1);
    assert!(s.is_connected(1) && s.is_preparing_connection(1) && !s.is_connecting(1));
    assert!(!s.is_any_node_connecting());
    assert!(!s.is_ready(1, t0));
    s.ready(1);
    assert!(s.is_ready(1, t0) && s.has_ready_nodes(t0) && !s.is_preparing_connection(1));
    assert_eq!(s.connection_delay(1, t0), Duration::MAX);
}

#[test]
fn reconnect_backoff_applies_after_a_disconnect() {
    let (mut s, t0) = exact(resolver());
    s.connecting(1, t0, "a");
    let t1 = t0 + ms(5);
    s.disconnected(1, t1);
    assert!(s.is_disconnected(1));
    assert!(s.is_blacked_out(1, t1 + ms(49)));
    assert!(!s.can_connect(1, t1 + ms(49)));
    assert_eq!(s.connection_delay(1, t1 + ms(20)), ms(30));
    assert!(s.can_connect(1, t1 + ms(50)));
    assert!(!s.is_blacked_out(1, t1 + ms(50)));
    assert_eq!(s.connection_delay(1, t1 + ms(70)), Duration::ZERO);
}

#[test]
fn backoff_doubles_per_failure_up_to_the_maximum_and_ready_resets_it() {
    let (mut s, mut now) = exact(resolver());
    let mut backoffs = Vec::new();
    let mut setup_timeouts = Vec::new();
    for _ in 0..7 {
        s.connecting(1, now, "a");
        setup_timeouts.push(s.connection_setup_timeout(1).unwrap().as_millis());
        s.disconnected(1, now);
        backoffs.push(s.reconnect_backoff(1).unwrap().as_millis());
        now += ms(5000);
    }
    assert_eq!(backoffs, vec![50, 100, 200, 400, 800, 1000, 1000]);
    assert_eq!(
        setup_timeouts,
        vec![10_000, 20_000, 30_000, 30_000, 30_000, 30_000, 30_000]
    );
    s.connecting(1, now, "a");
    s.checking_api_versions(1);
    // The setup timeout resets once connected; the backoff only when ready.
    assert_eq!(s.connection_setup_timeout(1), Some(ms(10_000)));
    assert_eq!(s.reconnect_backoff(1), Some(ms(1000)));
    s.ready(1);
    assert_eq!(s.reconnect_backoff(1), Some(ms(50)));
    s.disconnected(1, now);
    assert_eq!(s.reconnect_backoff(1), Some(ms(50)));
}

#[test]
fn a_lost_established_connection_resets_the_setup_timeout() {
    let (mut s, t0) = exact(resolver());
    s.connecting(1, t0, "a");
    s.disconnected(1, t0);
    s.connecting(1, t0 + ms(100), "a");
    assert_eq!(s.connection_setup_timeout(1), Some(ms(20_000)));
    s.checking_api_versions(1);
    s.disconnected(1, t0 + ms(200));
    assert_eq!(s.connection_setup_timeout(1), Some(ms(10_000)));
    // Two failures without a ready(): 50 then 100.
    assert_eq!(s.reconnect_backoff(1), Some(ms(100)));
}

#[test]
fn jitter_stays_within_twenty_percent() {
    let s = ClusterConnectionStates::new(config(), resolver());
    let t0 = MockClock::default().now();
    let mut states = s;
    for node in 0..200 {
        states.connecting(node, t0, "b");
        let first = states.reconnect_backoff(node).unwrap().as_millis();
        assert!((40..=60).contains(&first), "{first}");
        let setup = states.connection_setup_timeout(node).unwrap().as_millis();
        assert!((8_000..=12_000).contains(&setup), "{setup}");
        for failures in 1..=6u32 {
            states.disconnected(node, t0);
            let b = states.reconnect_backoff(node).unwrap().as_millis() as f64;
            let base = (50.0 * 2f64.powi(failures as i32 - 1)).min(1000.0);
            assert!(
                b >= base * 0.8 - 1.0 && b <= (base * 1.2).min(1000.0),
                "{failures} failures: {b} vs {base}"
            );
            states.connecting(node, t0, "b");
        }
    }
}

#[test]
fn connection_setup_timeouts_are_detected() {
    let (mut s, t0) = exact(resolver());
    s.connecting(1, t0, "a");
    s.connecting(2, t0 + ms(5000), "b");
    assert!(!s.is_connection_setup_timeout(1, t0 + ms(10_000)));
    assert!(s.is_connection_setup_timeout(1, t0 + ms(10_001)));
    assert_eq!(
        s.nodes_with_connection_setup_timeout(t0 + ms(10_001)),
        vec![1]
    );
    assert_eq!(
        s.nodes_with_connection_setup_timeout(t0 + ms(15_001)),
        vec![1, 2]
    );
    s.checking_api_versions(1);
    assert!(!s.is_connection_setup_timeout(1, t0 + ms(60_000)));
    assert_eq!(
        s.nodes_with_connection_setup_timeout(t0 + ms(60_000)),
        vec![2]
    );
    s.disconnected(2, t0 + ms(60_000));
    assert!(s
        .nodes_with_connection_setup_timeout(t0 + ms(120_000))
        .is_empty());
}

#[test]
fn each_attempt_tries_the_next_address_then_resolves_again() {
    let r = resolver();
    let (mut s, t0) = exact(Arc::clone(&r));
    let mut tried = Vec::new();
    for i in 0..4 {
        let now = t0 + ms(10_000 * i);
        s.connecting(1, now, "a");
        tried.push(s.current_address(1).unwrap());
        s.disconnected(1, now);
    }
    assert_eq!(
        tried,
        vec![
            ip("10.0.0.1"),
            ip("10.0.0.2"),
            ip("10.0.0.3"),
            ip("10.0.0.1")
        ]
    );
    // Resolved once at first, once more when the list ran out.
    assert_eq!(r.lookups.load(Ordering::SeqCst), 2);
}

#[test]
fn a_re_resolution_skips_the_address_just_tried() {
    let r = Arc::new(StaticResolver::new(&[("h", &["10.0.0.1", "10.0.0.2"])]));
    let (mut s, t0) = exact(Arc::clone(&r));
    s.connecting(1, t0, "h");
    assert_eq!(s.current_address(1).unwrap(), ip("10.0.0.1"));
    s.disconnected(1, t0);
    s.connecting(1, t0 + ms(100), "h");
    assert_eq!(s.current_address(1).unwrap(), ip("10.0.0.2"));
    s.disconnected(1, t0 + ms(100));
    // The DNS answer now starts with the address that just failed.
    r.set("h", &["10.0.0.2", "10.0.0.1"]);
    s.connecting(1, t0 + ms(1000), "h");
    assert_eq!(s.current_address(1).unwrap(), ip("10.0.0.1"));
}

#[test]
fn losing_an_established_connection_resolves_the_host_again() {
    let r = resolver();
    let (mut s, t0) = exact(Arc::clone(&r));
    s.connecting(1, t0, "b");
    assert_eq!(s.current_address(1).unwrap(), ip("10.0.1.1"));
    s.checking_api_versions(1);
    s.ready(1);
    r.set("b", &["10.0.1.9"]);
    s.disconnected(1, t0 + ms(10));
    s.connecting(1, t0 + ms(100), "b");
    assert_eq!(s.current_address(1).unwrap(), ip("10.0.1.9"));
    assert_eq!(r.lookups.load(Ordering::SeqCst), 2);
}

#[test]
fn a_resolution_failure_is_an_error_and_is_retried_next_attempt() {
    let r = resolver();
    let (mut s, t0) = exact(Arc::clone(&r));
    s.connecting(1, t0, "later");
    let e = s.current_address(1).unwrap_err();
    assert!(e.to_string().contains("later"), "{e}");
    s.disconnected(1, t0);
    assert!(s.is_blacked_out(1, t0 + ms(10)));
    r.set("later", &["10.9.9.9"]);
    s.connecting(1, t0 + ms(50), "later");
    assert_eq!(s.current_address(1).unwrap(), ip("10.9.9.9"));
    assert!(s.current_address(99).is_err());
}

#[test]
fn only_the_first_address_family_is_tried() {
    let r = Arc::new(StaticResolver::new(&[(
        "dual",
        &["::1", "10.0.0.1", "::2"],
    )]));
    let (mut s, t0) = exact(r);
    let mut tried = Vec::new();
    for i in 0..3 {
        s.connecting(1, t0 + ms(i * 1000), "dual");
        tried.push(s.current_address(1).unwrap());
        s.disconnected(1, t0 + ms(i * 1000));
    }
    assert_eq!(tried, vec![ip("::1"), ip("::2"), ip("::1")]);
}

#[test]
fn a_changed_host_starts_afresh() {
    let (mut s, t0) = exact(resolver());
    for i in 0..3 {
        s.connecting(1, t0 + ms(i * 1000), "a");
        s.disconnected(1, t0 + ms(i * 1000));
    }
    assert_eq!(s.reconnect_backoff(1), Some(ms(200)));
    s.connecting(1, t0 + ms(5000), "b");
    assert_eq!(s.reconnect_backoff(1), Some(ms(50)));
    assert_eq!(s.current_address(1).unwrap(), ip("10.0.1.1"));
}

#[test]
fn throttling_delays_a_ready_node() {
    let (mut s, t0) = exact(resolver());
    s.connecting(1, t0, "a");
    s.checking_api_versions(1);
    s.ready(1);
    s.throttle(1, t0 + ms(300));
    s.throttle(1, t0 + ms(100)); // never moves back
    assert!(!s.is_ready(1, t0 + ms(200)) && !s.has_ready_nodes(t0 + ms(200)));
    assert_eq!(s.throttle_delay(1, t0 + ms(200)), ms(100));
    assert_eq!(s.poll_delay(1, t0 + ms(200)), ms(100));
    assert!(s.is_ready(1, t0 + ms(300)));
    assert_eq!(s.poll_delay(1, t0 + ms(300)), Duration::MAX);
    // A disconnected node's poll delay is its backoff, throttled or not.
    s.disconnected(1, t0 + ms(250));
    assert_eq!(s.poll_delay(1, t0 + ms(260)), ms(40));
}

#[test]
fn authentication_failure_counts_as_disconnected() {
    let (mut s, t0) = exact(resolver());
    s.connecting(1, t0, "a");
    s.checking_api_versions(1);
    s.authentication_failed(1, t0, "bad credentials".to_owned());
    assert_eq!(
        s.connection_state(1),
        Some(ConnectionState::AuthenticationFailed)
    );
    assert!(s.is_disconnected(1) && !s.is_connected(1));
    assert_eq!(s.authentication_error(1), Some("bad credentials"));
    assert!(s.is_blacked_out(1, t0 + ms(10)));
    assert!(s.can_connect(1, t0 + ms(50)));
    s.connecting(1, t0 + ms(50), "a");
    s.ready(1);
    assert_eq!(s.authentication_error(1), None);
}

#[test]
fn removing_a_node_forgets_its_backoff() {
    let (mut s, t0) = exact(resolver());
    s.connecting(1, t0, "a");
    s.disconnected(1, t0);
    assert!(!s.can_connect(1, t0));
    s.remove(1);
    assert!(s.can_connect(1, t0));
    assert_eq!(s.connection_state(1), None);
    assert_eq!(s.last_connect_attempt(1), None);
    // Calls for unknown nodes are ignored.
    s.disconnected(7, t0);
    s.ready(7);
    s.checking_api_versions(7);
    assert_eq!(s.connection_state(7), None);
}
