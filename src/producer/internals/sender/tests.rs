//! Sender tests on a mock clock over the real network client: delivery
//! timeout expiry and the poll timeout without a reachable broker, forced
//! close. The request/response rules are tested on the scripted client in
//! `tests_retries.rs`, `tests_idempotence.rs` and `tests_split.rs`, and end
//! to end in `tests/producer_mock.rs` and `tests/producer_faults.rs`.

use std::net::TcpListener;
use std::sync::Arc;

use parking_lot::Mutex;

use super::*;
use crate::clients::cluster_connection_states::ConnectionStatesConfig;
use crate::clients::host_resolver::DefaultHostResolver;
use crate::clients::metadata::MetadataParams;
use crate::clients::network_client::NetworkClientConfig;
use crate::common::Cluster;
use crate::network::SelectorConfig;
use crate::producer::future::RecordCallback;
use crate::producer::internals::accumulator::AccumulatorConfig;
use crate::producer::internals::buffer_pool::BufferPool;
use crate::producer::record::RecordMetadata;
use crate::record::Compression;
use crate::util::clock::MockClock;

const MS: Duration = Duration::from_millis(1);

struct Fixture {
    sender: Sender,
    control: Arc<SenderControl>,
    accumulator: Arc<RecordAccumulator>,
    clock: Arc<MockClock>,
}

/// A sender whose only bootstrap server refuses connections.
fn unreachable_sender(delivery_timeout: Duration) -> Fixture {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let clock = Arc::new(MockClock::default());
    let metadata = Arc::new(ProducerMetadata::new(
        MetadataParams {
            backoff_jitter: 0.0,
            ..MetadataParams::default()
        },
        Duration::from_secs(300),
        clock.clone(),
    ));
    metadata.bootstrap(&[("127.0.0.1".to_owned(), port)]);
    let client = NetworkClient::new(
        NetworkClientConfig {
            client_id: "sender-test".into(),
            max_in_flight_per_connection: 5,
            request_timeout: 30_000 * MS,
            reconnect_backoff: 50 * MS,
            rebootstrap: false,
            selector: SelectorConfig {
                max_receive_size: 1 << 20,
                connections_max_idle: None,
                send_buffer_bytes: -1,
                receive_buffer_bytes: -1,
            },
            connection_states: ConnectionStatesConfig {
                reconnect_backoff: 50 * MS,
                reconnect_backoff_max: 1000 * MS,
                connection_setup_timeout: 10_000 * MS,
                connection_setup_timeout_max: 30_000 * MS,
            },
        },
        metadata,
        Arc::new(DefaultHostResolver),
        clock.clone(),
    )
    .unwrap();
    let mut acc_config = AccumulatorConfig::new(16_384, Compression::none());
    acc_config.delivery_timeout = delivery_timeout;
    acc_config.retry_backoff_jitter = 0.0;
    let pool = Arc::new(BufferPool::new(1 << 20, 16_384, clock.clone()));
    let accumulator =
        Arc::new(RecordAccumulator::new(acc_config, pool, None, clock.clone()).unwrap());
    let (sender, control) = Sender::new(
        client,
        Arc::clone(&accumulator),
        None,
        SenderConfig {
            guarantee_message_order: false,
            max_request_size: 1 << 20,
            acks: -1,
            retries: u32::MAX,
            request_timeout: 30_000 * MS,
            retry_backoff: 100 * MS,
            retry_backoff_max: 1000 * MS,
            delivery_timeout,
            retry_backoff_jitter: 0.0,
        },
        clock.clone(),
    );
    Fixture {
        sender,
        control,
        accumulator,
        clock,
    }
}

type Outcomes = Arc<Mutex<Vec<Result<RecordMetadata, Error>>>>;

fn append(f: &Fixture, topic: &str, partition: i32, outcomes: &Outcomes) {
    let o = Arc::clone(outcomes);
    let mut callback: Option<RecordCallback> = Some(RecordCallback::new(move |r| o.lock().push(r)));
    f.accumulator
        .append(
            topic,
            partition,
            0,
            None,
            Some(b"v"),
            &[],
            &mut callback,
            Duration::ZERO,
            false,
            f.clock.now(),
            &Cluster::default(),
        )
        .unwrap();
}

#[test]
fn queued_batches_expire_with_javas_message() {
    let mut f = unreachable_sender(1000 * MS);
    let outcomes: Outcomes = Arc::default();
    append(&f, "t", 0, &outcomes);
    append(&f, "t", 0, &outcomes);
    f.sender.run_once();
    assert!(outcomes.lock().is_empty(), "not expired yet");
    f.clock.advance(999 * MS);
    f.sender.run_once();
    assert!(outcomes.lock().is_empty(), "not expired yet");
    f.clock.advance(MS);
    f.sender.run_once();
    let outcomes = outcomes.lock();
    assert_eq!(outcomes.len(), 2);
    for o in outcomes.iter() {
        match o {
            Err(Error::Timeout(m)) => assert_eq!(
                m,
                "Expiring 2 record(s) for t-0:1000 ms has passed since batch creation"
            ),
            other => panic!("expected the expiry timeout, got {other:?}"),
        }
    }
    assert!(!f.accumulator.has_incomplete(), "memory given back");
    assert_eq!(f.accumulator.pool().available_memory(), 1 << 20);
}

#[test]
fn the_poll_timeout_reaches_up_to_the_next_expiry() {
    let mut f = unreachable_sender(1000 * MS);
    let outcomes: Outcomes = Arc::default();
    append(&f, "t", 0, &outcomes);
    f.clock.advance(400 * MS);
    // No leader known: the batch waits; the sender wakes for the expiry.
    let timeout = f.sender.send_producer_data(f.clock.now());
    assert!(timeout <= 600 * MS, "{timeout:?}");
}

#[test]
fn a_forced_close_fails_what_is_queued_and_ends_the_loop() {
    let f = unreachable_sender(120_000 * MS);
    let outcomes: Outcomes = Arc::default();
    append(&f, "t", 0, &outcomes);
    f.control.force_close(&f.accumulator);
    assert!(!f.control.is_running());
    // run() returns: nothing is sent, everything is aborted.
    let Fixture {
        sender,
        accumulator,
        ..
    } = f;
    sender.run();
    let outcomes = outcomes.lock();
    assert_eq!(outcomes.len(), 1);
    assert!(
        matches!(&outcomes[0], Err(Error::Closed(m)) if m.contains("forcefully")),
        "{outcomes:?}"
    );
    assert!(!accumulator.has_incomplete());
}

/// A built batch of one record for `topic`/`partition`.
fn built_batch(clock: &Arc<MockClock>, topic: &str, partition: i32) -> ProducerBatch {
    let tp = TopicPartition::new(topic, partition);
    let builder =
        crate::record::MemoryRecordsBuilder::new(Vec::new(), Compression::none(), 1024).unwrap();
    let result = crate::producer::future::ProduceRequestResult::new(tp.clone(), clock.clone());
    let mut b = ProducerBatch::new(tp, builder, 1024, clock.now(), result);
    let mut none = None;
    b.try_append(1, None, Some(topic.as_bytes()), &[], &mut none, clock.now())
        .unwrap();
    b.close().unwrap();
    b
}

/// The records fields of a request come in topic order, which need not be
/// the drain order: each is matched to its own batch's buffer whatever
/// the order, and a slice that is no batch's bytes matches none (it is
/// then copied).
#[test]
fn records_fields_find_their_batch_in_any_order() {
    let clock = Arc::new(MockClock::default());
    let batches = vec![
        built_batch(&clock, "a", 0),
        built_batch(&clock, "b", 0),
        built_batch(&clock, "a", 1),
    ];
    let buffer = |i: usize| batches[i].shared_records().unwrap();
    let mut next = 0;
    // Wire order: a-0, a-1, b-0.
    for i in [0, 2, 1] {
        let found = shared_buffer_of(&batches, &mut next, batches[i].records()).unwrap();
        assert!(Arc::ptr_eq(found, buffer(i)), "batch {i}");
    }
    let copy = batches[0].records().to_vec();
    assert!(shared_buffer_of(&batches, &mut next, &copy).is_none());
    assert!(shared_buffer_of(&[], &mut 0, &copy).is_none());
}
