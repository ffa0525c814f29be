//! NetworkClient tests over real TCP: a scripted in-process server for the
//! protocol corner cases, the embedded MockCluster for the happy paths.
//! Time that matters (timeouts, backoff) is on a mock clock.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use super::*;
use crate::clients::host_resolver::DefaultHostResolver;
use crate::clients::metadata::{AllTopics, MetadataParams};
use crate::protocol::codec::Reader;
use crate::protocol::error_code::ErrorCode;
use crate::protocol::header::{encode_response, RequestHeader};
use crate::protocol::messages::api_versions::ApiVersion;
use crate::protocol::messages::api_versions::ApiVersionsResponse;
use crate::protocol::messages::init_producer_id::{InitProducerIdRequest, InitProducerIdResponse};
use crate::protocol::messages::metadata::{MetadataResponse, MetadataResponseBroker};
use crate::util::clock::MockClock;

const MS: Duration = Duration::from_millis(1);

/// What a scripted server answers to one request: a whole response frame,
/// or nothing (no answer, connection kept).
type Handler = dyn Fn(&RequestHeader, &[u8]) -> Option<Vec<u8>> + Send + Sync;

/// A one-connection-at-a-time server that answers with `handler`.
struct ScriptedServer {
    port: u16,
    requests: Arc<AtomicUsize>,
}

impl ScriptedServer {
    fn start(handler: Arc<Handler>) -> ScriptedServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&requests);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let handler = Arc::clone(&handler);
                let count = Arc::clone(&count);
                thread::spawn(move || serve(stream, handler.as_ref(), &count));
            }
        });
        ScriptedServer { port, requests }
    }
}

fn serve(mut stream: TcpStream, handler: &Handler, count: &AtomicUsize) {
    loop {
        let mut size = [0u8; 4];
        if stream.read_exact(&mut size).is_err() {
            return;
        }
        let mut frame = vec![0u8; i32::from_be_bytes(size) as usize];
        if stream.read_exact(&mut frame).is_err() {
            return;
        }
        let mut r = Reader::new(&frame);
        let header = RequestHeader::decode(&mut r).unwrap();
        let body = &frame[frame.len() - r.remaining()..];
        count.fetch_add(1, Ordering::SeqCst);
        if let Some(response) = handler(&header, body) {
            if stream.write_all(&response).is_err() {
                return;
            }
        }
    }
}

fn all_versions() -> Vec<ApiVersion> {
    [(0, 3, 13), (3, 0, 13), (18, 0, 4), (22, 0, 6)]
        .iter()
        .map(|&(k, min, max)| ApiVersion {
            api_key: ApiKey(k),
            min_version: min,
            max_version: max,
        })
        .collect()
}

fn api_versions_frame(
    correlation_id: i32,
    version: i16,
    response: &ApiVersionsResponse,
) -> Vec<u8> {
    let mut out = Vec::new();
    encode_response(&mut out, correlation_id, version, response).unwrap();
    out
}

/// ApiVersions with every API, Metadata naming broker 1 at `port`.
fn standard_answer(h: &RequestHeader, port: u16) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    match h.api_key {
        ApiKey::API_VERSIONS => {
            let r = ApiVersionsResponse {
                api_keys: all_versions(),
                ..Default::default()
            };
            encode_response(&mut out, h.correlation_id, h.api_version, &r).unwrap();
        }
        ApiKey::METADATA => {
            let r = MetadataResponse {
                brokers: vec![MetadataResponseBroker {
                    node_id: 1,
                    host: "127.0.0.1".into(),
                    port: i32::from(port),
                    rack: None,
                }],
                cluster_id: Some("c".into()),
                controller_id: 1,
                ..Default::default()
            };
            encode_response(&mut out, h.correlation_id, h.api_version, &r).unwrap();
        }
        _ => return None,
    }
    Some(out)
}

fn client_for(port: u16, clock: Arc<MockClock>) -> NetworkClient<AllTopics> {
    client_with(port, clock, false)
}

fn client_with(port: u16, clock: Arc<MockClock>, rebootstrap: bool) -> NetworkClient<AllTopics> {
    let params = MetadataParams {
        backoff_jitter: 0.0,
        ..MetadataParams::default()
    };
    let metadata = Arc::new(Metadata::with_policy(params, AllTopics, clock.clone()));
    metadata.bootstrap(&[("127.0.0.1".to_owned(), port)]);
    let states = ConnectionStatesConfig {
        reconnect_backoff: 50 * MS,
        reconnect_backoff_max: 1000 * MS,
        connection_setup_timeout: 10_000 * MS,
        connection_setup_timeout_max: 30_000 * MS,
    };
    let config = NetworkClientConfig {
        client_id: "test-client".into(),
        max_in_flight_per_connection: 5,
        request_timeout: 30_000 * MS,
        reconnect_backoff: 50 * MS,
        rebootstrap,
        selector: SelectorConfig {
            max_receive_size: 1 << 20,
            connections_max_idle: None,
            send_buffer_bytes: -1,
            receive_buffer_bytes: -1,
        },
        connection_states: states,
    };
    let mut client =
        NetworkClient::new(config, metadata, Arc::new(DefaultHostResolver), clock).unwrap();
    client.set_connection_states(ClusterConnectionStates::with_jitter(
        states,
        Arc::new(DefaultHostResolver),
        0.0,
        0.0,
    ));
    client
}

/// Polls (bounded by an iteration count, not by time) until `done`.
fn poll_until<P: TopicPolicy>(
    client: &mut NetworkClient<P>,
    clock: &MockClock,
    mut done: impl FnMut(&mut NetworkClient<P>, &[ClientResponse]) -> bool,
) -> Vec<ClientResponse> {
    let mut all = Vec::new();
    for _ in 0..400 {
        let responses = client.poll(20 * MS, clock.now());
        all.extend(responses);
        if done(client, &all) {
            return all;
        }
    }
    panic!("condition not reached; responses so far: {all:?}");
}

fn bootstrap_node(port: u16) -> Node {
    Node::new(-1, "127.0.0.1", port)
}

/// Connects to node -1 and waits until it is ready and metadata arrived.
fn connect_ready(client: &mut NetworkClient<AllTopics>, clock: &MockClock, port: u16) {
    let node = bootstrap_node(port);
    poll_until(client, clock, |c, _| {
        let now = clock.now();
        c.ready(&node, now) && !c.metadata().fetch().is_bootstrap()
    });
}

#[test]
fn api_versions_falls_back_to_the_brokers_version_and_ignores_the_error_throttle() {
    let seen_versions = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let seen = Arc::clone(&seen_versions);
    let port_cell = Arc::new(AtomicUsize::new(0));
    let port_for_handler = Arc::clone(&port_cell);
    let server = ScriptedServer::start(Arc::new(move |h: &RequestHeader, _b: &[u8]| {
        let port = port_for_handler.load(Ordering::SeqCst) as u16;
        if h.api_key == ApiKey::API_VERSIONS {
            seen.lock().push(h.api_version);
            if h.api_version > 2 {
                // What the librdkafka mock does: the error answer carries a
                // huge throttle time.
                let r = ApiVersionsResponse {
                    error_code: ErrorCode::UNSUPPORTED_VERSION,
                    api_keys: vec![ApiVersion {
                        api_key: ApiKey::API_VERSIONS,
                        min_version: 0,
                        max_version: 2,
                    }],
                    throttle_time_ms: 1_200_000,
                    ..Default::default()
                };
                return Some(api_versions_frame(h.correlation_id, h.api_version, &r));
            }
        }
        standard_answer(h, port)
    }));
    port_cell.store(usize::from(server.port), Ordering::SeqCst);
    let clock = Arc::new(MockClock::default());
    let mut client = client_for(server.port, clock.clone());
    connect_ready(&mut client, &clock, server.port);
    assert_eq!(*seen_versions.lock(), vec![4, 2]);
    let versions = client.node_api_versions(-1).expect("versions recorded");
    assert_eq!(versions.latest_usable_version(ApiKey::PRODUCE), Ok(13));
    assert!(client.is_ready(-1, clock.now()), "not throttled");
}

#[test]
fn api_versions_without_a_range_falls_back_to_v0() {
    let seen_versions = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let seen = Arc::clone(&seen_versions);
    let server = ScriptedServer::start(Arc::new(move |h: &RequestHeader, _b: &[u8]| {
        if h.api_key == ApiKey::API_VERSIONS {
            seen.lock().push(h.api_version);
            if h.api_version > 0 {
                let r = ApiVersionsResponse {
                    error_code: ErrorCode::UNSUPPORTED_VERSION,
                    ..Default::default()
                };
                // The v0 layout, as an old broker answers.
                return Some(api_versions_frame(h.correlation_id, 0, &r));
            }
        }
        standard_answer(h, 1)
    }));
    let clock = Arc::new(MockClock::default());
    let mut client = client_for(server.port, clock.clone());
    let node = bootstrap_node(server.port);
    poll_until(&mut client, &clock, |c, _| {
        c.node_api_versions(-1).is_some()
    });
    assert_eq!(*seen_versions.lock(), vec![4, 0]);
    // The metadata update comes first; then the node is ready.
    poll_until(&mut client, &clock, |c, _| c.ready(&node, clock.now()));
}

#[test]
fn metadata_bootstrap_and_update_against_the_mock_cluster() {
    let cluster = crate::mock::MockCluster::builder()
        .brokers(3)
        .start()
        .unwrap();
    cluster.create_topic("events", 4).unwrap();
    let addr = cluster.broker_address(2).unwrap();
    let clock = Arc::new(MockClock::default());
    let mut client = client_for(addr.port(), clock.clone());
    assert!(client.metadata().fetch().is_bootstrap());
    poll_until(&mut client, &clock, |c, _| {
        c.metadata().fetch().nodes().len() == 3
    });
    let cluster_view = client.metadata().fetch();
    assert!(!cluster_view.is_bootstrap());
    assert_eq!(cluster_view.partition_count("events"), Some(4));
    assert_eq!(cluster.request_count(ApiKey::API_VERSIONS), 1);
    assert!(cluster.request_count(ApiKey::METADATA) >= 1);
    // An update asked for is sent on a later poll and bumps the version.
    let version = client.metadata().request_update(true);
    clock.advance(100 * MS); // the refresh backoff since the last update
    poll_until(&mut client, &clock, |c, _| {
        c.metadata().update_version() > version
    });
}

#[test]
fn user_requests_are_routed_to_their_response() {
    let cluster = crate::mock::MockCluster::builder()
        .brokers(1)
        .start()
        .unwrap();
    let addr = cluster.broker_address(1).unwrap();
    let clock = Arc::new(MockClock::default());
    let mut client = client_for(addr.port(), clock.clone());
    poll_until(&mut client, &clock, |c, _| {
        !c.metadata().fetch().is_bootstrap()
    });
    let node = client.metadata().fetch().nodes()[0].clone();
    poll_until(&mut client, &clock, |c, _| c.ready(&node, clock.now()));
    let request = InitProducerIdRequest {
        transaction_timeout_ms: i32::MAX,
        ..Default::default()
    };
    let mut sent = Vec::new();
    let mut responses = Vec::new();
    for _ in 0..3 {
        // A new request waits until the previous one is written.
        let mut got = poll_until(&mut client, &clock, |c, _| c.is_ready(node.id, clock.now()));
        responses.append(&mut got);
        let id = client
            .send(
                node.id,
                ApiKey::INIT_PRODUCER_ID,
                None,
                |v, out| request.encode(out.bytes_mut(), v).map_err(Error::from),
                true,
                30_000 * MS,
                clock.now(),
            )
            .unwrap();
        sent.push(id);
    }
    let mut rest = poll_until(&mut client, &clock, |c, _| c.in_flight_request_count() == 0);
    responses.append(&mut rest);
    assert_eq!(responses.len(), 3);
    // Answered in order: the mock hands out producer ids 0, 1, 2.
    for (i, r) in responses.iter().enumerate() {
        assert_eq!(r.correlation_id, sent[i]);
        let body = r.body.as_ref().unwrap();
        let decoded =
            InitProducerIdResponse::decode(&mut Reader::new(body), r.api_version).unwrap();
        assert_eq!(decoded.producer_id, i as i64);
    }
}

#[test]
fn responses_carry_api_version_and_body() {
    let cluster = crate::mock::MockCluster::builder()
        .brokers(1)
        .start()
        .unwrap();
    let addr = cluster.broker_address(1).unwrap();
    let clock = Arc::new(MockClock::default());
    let mut client = client_for(addr.port(), clock.clone());
    poll_until(&mut client, &clock, |c, _| {
        !c.metadata().fetch().is_bootstrap()
    });
    let node = client.metadata().fetch().nodes()[0].clone();
    poll_until(&mut client, &clock, |c, _| c.ready(&node, clock.now()));
    let request = InitProducerIdRequest {
        transaction_timeout_ms: i32::MAX,
        ..Default::default()
    };
    let id = client
        .send(
            node.id,
            ApiKey::INIT_PRODUCER_ID,
            None,
            |v, out| request.encode(out.bytes_mut(), v).map_err(Error::from),
            true,
            30_000 * MS,
            clock.now(),
        )
        .unwrap();
    assert_eq!(client.in_flight_request_count_for(node.id), 1);
    let responses = poll_until(&mut client, &clock, |_, r| !r.is_empty());
    assert_eq!(responses.len(), 1, "{responses:?}");
    let r = &responses[0];
    assert_eq!(
        (r.destination, r.api_key, r.correlation_id),
        (node.id, ApiKey::INIT_PRODUCER_ID, id)
    );
    // The mock speaks InitProducerId up to v5.
    assert_eq!(r.api_version, 5);
    let body = r.body.as_ref().expect("a body");
    let mut reader = Reader::new(body);
    let decoded = InitProducerIdResponse::decode(&mut reader, r.api_version).unwrap();
    assert!(decoded.error_code.is_ok());
    assert_eq!(decoded.producer_id, 0);
}

#[test]
fn correlation_mismatch_closes_the_connection_and_fails_the_request() {
    let server = ScriptedServer::start(Arc::new(|h: &RequestHeader, _b: &[u8]| {
        if h.api_key == ApiKey::INIT_PRODUCER_ID {
            let mut out = Vec::new();
            let r = InitProducerIdResponse::default();
            encode_response(&mut out, h.correlation_id + 100, h.api_version, &r).unwrap();
            return Some(out);
        }
        standard_answer(h, 1)
    }));
    let clock = Arc::new(MockClock::default());
    let mut client = client_for(server.port, clock.clone());
    connect_ready(&mut client, &clock, server.port);
    let request = InitProducerIdRequest::default();
    client
        .send(
            -1,
            ApiKey::INIT_PRODUCER_ID,
            None,
            |v, out| request.encode(out.bytes_mut(), v).map_err(Error::from),
            true,
            30_000 * MS,
            clock.now(),
        )
        .unwrap();
    let responses = poll_until(&mut client, &clock, |_, r| !r.is_empty());
    match &responses[0].body {
        Err(RequestFailure::Invalid(e)) => {
            assert!(e.to_string().contains("Correlation id"), "{e}")
        }
        other => panic!("expected an invalid response, got {other:?}"),
    }
    assert!(!client.is_ready(-1, clock.now()));
    assert_eq!(client.in_flight_request_count(), 0);
}

#[test]
fn request_timeout_closes_the_connection_and_fails_its_requests() {
    let server = ScriptedServer::start(Arc::new(|h: &RequestHeader, _b: &[u8]| {
        if h.api_key == ApiKey::INIT_PRODUCER_ID {
            return None; // never answered
        }
        standard_answer(h, 1)
    }));
    let clock = Arc::new(MockClock::default());
    let mut client = client_for(server.port, clock.clone());
    connect_ready(&mut client, &clock, server.port);
    let request = InitProducerIdRequest::default();
    client
        .send(
            -1,
            ApiKey::INIT_PRODUCER_ID,
            None,
            |v, out| request.encode(out.bytes_mut(), v).map_err(Error::from),
            true,
            1000 * MS,
            clock.now(),
        )
        .unwrap();
    // Not yet: the request is written, no answer.
    let early = client.poll(10 * MS, clock.now());
    assert!(early.is_empty());
    clock.advance(1001 * MS);
    let responses = poll_until(&mut client, &clock, |_, r| !r.is_empty());
    assert!(
        matches!(&responses[0].body, Err(RequestFailure::TimedOut(m)) if m.contains("timeout")),
        "{responses:?}"
    );
    assert_eq!(client.in_flight_request_count(), 0);
    assert!(!client.is_ready(-1, clock.now()));
}

#[test]
fn refused_connections_back_off_before_reconnecting() {
    // A port with nothing listening.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let clock = Arc::new(MockClock::default());
    let mut client = client_for(port, clock.clone());
    let node = bootstrap_node(port);
    assert!(!client.ready(&node, clock.now()), "connecting");
    poll_until(&mut client, &clock, |c, _| c.states.is_disconnected(-1));
    let now = clock.now();
    assert!(!client.ready(&node, now));
    assert!(c_blacked_out(&client, now), "in backoff: no new connect");
    assert_eq!(client.connection_delay(-1, now), 50 * MS);
    assert_eq!(
        client.least_loaded_node(now).node,
        None,
        "nodes in backoff are skipped"
    );
    clock.advance(50 * MS);
    assert!(!client.ready(&node, clock.now()));
    assert!(
        client.states.is_connecting(-1),
        "a new attempt after the backoff"
    );
    poll_until(&mut client, &clock, |c, _| c.states.is_disconnected(-1));
    // The second failure doubles the backoff.
    assert_eq!(client.connection_delay(-1, clock.now()), 100 * MS);
}

fn c_blacked_out(client: &NetworkClient<AllTopics>, now: Instant) -> bool {
    client.states.is_blacked_out(-1, now)
}

#[test]
fn unsupported_versions_are_refused_with_both_ranges() {
    let server = ScriptedServer::start(Arc::new(|h: &RequestHeader, _b: &[u8]| {
        if h.api_key == ApiKey::API_VERSIONS {
            let r = ApiVersionsResponse {
                api_keys: vec![
                    ApiVersion {
                        api_key: ApiKey::PRODUCE,
                        min_version: 0,
                        max_version: 2,
                    },
                    ApiVersion {
                        api_key: ApiKey::METADATA,
                        min_version: 0,
                        max_version: 12,
                    },
                    ApiVersion {
                        api_key: ApiKey::API_VERSIONS,
                        min_version: 0,
                        max_version: 4,
                    },
                ],
                ..Default::default()
            };
            return Some(api_versions_frame(h.correlation_id, h.api_version, &r));
        }
        standard_answer(h, 1)
    }));
    let clock = Arc::new(MockClock::default());
    let mut client = client_for(server.port, clock.clone());
    connect_ready(&mut client, &clock, server.port);
    let e = client
        .send(
            -1,
            ApiKey::PRODUCE,
            None,
            |_, _| Ok(()),
            true,
            30_000 * MS,
            clock.now(),
        )
        .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::Unsupported(_)), "{e:?}");
    assert!(
        msg.contains("Produce") && msg.contains("0-2") && msg.contains("3-13"),
        "{msg}"
    );
    let e = client
        .send(
            -1,
            ApiKey::INIT_PRODUCER_ID,
            None,
            |_, _| Ok(()),
            true,
            30_000 * MS,
            clock.now(),
        )
        .unwrap_err();
    assert!(
        e.to_string().contains("does not support InitProducerId"),
        "{e}"
    );
    assert_eq!(client.in_flight_request_count(), 0);
    assert!(server.requests.load(Ordering::SeqCst) >= 2);
}

#[test]
fn sending_to_a_node_that_is_not_ready_fails() {
    let clock = Arc::new(MockClock::default());
    let mut client = client_for(9, clock.clone());
    let e = client
        .send(
            -1,
            ApiKey::PRODUCE,
            None,
            |_, _| Ok(()),
            true,
            30_000 * MS,
            clock.now(),
        )
        .unwrap_err();
    assert!(e.to_string().contains("not ready"), "{e}");
}

#[test]
fn bytes_after_a_metadata_body_are_ignored_as_java_does() {
    // The librdkafka mock ends its flexible Metadata answers with an extra
    // byte; Java reads the fields and ignores the rest. The update must be
    // applied and the connection kept.
    let port_cell = Arc::new(AtomicUsize::new(0));
    let port_for_handler = Arc::clone(&port_cell);
    let server = ScriptedServer::start(Arc::new(move |h: &RequestHeader, _b: &[u8]| {
        let mut frame = standard_answer(h, port_for_handler.load(Ordering::SeqCst) as u16)?;
        if h.api_key == ApiKey::METADATA {
            frame.push(0);
            let size = i32::try_from(frame.len() - 4).unwrap();
            frame[..4].copy_from_slice(&size.to_be_bytes());
        }
        Some(frame)
    }));
    port_cell.store(usize::from(server.port), Ordering::SeqCst);
    let clock = Arc::new(MockClock::default());
    let mut client = client_for(server.port, clock.clone());
    connect_ready(&mut client, &clock, server.port);
    assert_eq!(client.metadata().fetch().nodes().len(), 1);
    assert!(client.is_ready(-1, clock.now()), "the connection was kept");
}

#[test]
fn unreachable_bootstrap_brokers_do_not_rebootstrap_in_a_loop() {
    // Rebootstrapping to the bootstrap nodes themselves used to bump the
    // metadata version on every poll, waking every send() waiting for
    // metadata, which woke the network thread again: a busy loop.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let clock = Arc::new(MockClock::default());
    let mut client = client_with(port, clock.clone(), true);
    let version = client.metadata().update_version();
    for _ in 0..100 {
        client.metadata().request_update(false);
        client.poll(MS, clock.now());
        clock.advance(20 * MS);
    }
    assert!(client.metadata().fetch().is_bootstrap());
    assert_eq!(
        client.metadata().update_version(),
        version,
        "no rebootstrap (and no metadata version) while only bootstrap nodes are known"
    );
}
