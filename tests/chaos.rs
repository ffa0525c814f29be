//! The chaos test (issue 4): seeded random fault schedules against the
//! embedded 3-broker `MockCluster`, several threads sending keyed records
//! through `KafkaProducer` with idempotence on (the defaults), then every
//! partition read back and checked.
//!
//! # One seed
//!
//! The seed draws a plan (`chaos_support/plan.rs`): 1-3 topics of 1-6
//! partitions with random leaders; 2-4 sending threads sharing one
//! producer or each with its own; producer settings (`batch.size`,
//! `linger.ms`, `max.in.flight.requests.per.connection` 1-5, backoffs,
//! sometimes a small `buffer.memory` or gzip), with `request.timeout.ms`
//! 600 (held answers time out for real) and `delivery.timeout.ms` 10 000
//! (far longer than any fault, so that a healthy producer never gives up on
//! a record whose write may have landed); and a fault schedule: retriable
//! partition and request errors, non-retriable partition errors, answers
//! delayed or held past the request timeout, connections dropped before
//! handling, after the append or mid-frame, garbage answers and answers
//! with a wrong correlation id, brokers down then up, leadership moves,
//! and metadata / InitProducerId answers dropped, garbled or refused at
//! start. Non-retriable errors come only in plans (8%) without faults
//! that can lose the answer to a written batch: a non-retriable answer to
//! the resend of such a batch leaves it failed yet written, which no
//! producer can tell (see `Plan::fatal_errors`). Each step fires after a number of acknowledged records, or at
//! the latest 250 ms after the previous one; timed faults are undone when
//! their time is up and the cluster is healed once every record is
//! resolved.
//!
//! Each record's value starts with its id (lane: the sending thread, or a
//! producer's warm-up; and its sequence in that lane), repeated in a
//! header. Every outcome is recorded from a callback, and every future is
//! kept. Each producer first sends one record per partition and waits
//! for them, so that every partition knows it before faults start.
//!
//! # What is checked (`chaos_support/check.rs`)
//!
//! After a graceful `close` of every producer, with every partition read
//! back with `MockCluster::records` (the mock deduplicates as Kafka 4.x):
//!
//! * every acknowledged record is in the log exactly once, at the
//!   partition and offset its callback reported;
//! * every record in the logs was sent exactly once: no duplicates, no
//!   stranger, bytes intact, in its key's partition, with producer ids;
//! * per partition, each thread's records are in send order;
//! * every record not in the logs failed, and its caller got the error;
//!   no record both failed and present;
//! * every callback ran exactly once, every future completed and agrees
//!   with its callback. Nothing may hang: records must resolve within
//!   `delivery.timeout.ms` (plus a grace) of the last send, `close` within
//!   a minute, a whole seed within four; a hang is a violation that says
//!   what did not finish.
//!
//! Timing is not asserted: a seed replays the same plan and schedule, but
//! thread interleavings differ from run to run.
//!
//! # Running and replaying
//!
//! `cargo test --test chaos` runs seeds 0-199 with 1 500 records each
//! (about 70 s for a debug build on 2 cores); the `found` module below keeps
//! short reproductions of the bugs earlier runs found. On demand:
//!
//! * `KAFKA_PRODUCER_CHAOS_SEEDS=2000` runs seeds 0-1999 (from
//!   `KAFKA_PRODUCER_CHAOS_FIRST_SEED`, default 0) with 20 000 records each;
//! * `KAFKA_PRODUCER_CHAOS_SEED=1234` replays seed 1234 alone (20 000
//!   records);
//! * `KAFKA_PRODUCER_CHAOS_RECORDS=n` sets the records per seed;
//! * `KAFKA_PRODUCER_CHAOS_JOBS=n` runs n seeds at once (default 4);
//! * `KAFKA_PRODUCER_CHAOS_LOG=debug` prints the producer's and the
//!   mock's log lines (stderr), to follow a replayed seed;
//! * `KAFKA_PRODUCER_CHAOS_VERBOSE=1` prints every seed's plan and what the
//!   chaos thread did (a replayed seed always does).
//!
//! A failing seed prints itself: the seed, its plan and schedule, what the
//! chaos thread did and when, its first violations and the command that
//! replays it, e.g.
//! `KAFKA_PRODUCER_CHAOS_SEED=17 KAFKA_PRODUCER_CHAOS_RECORDS=1500 cargo test --release --test chaos chaos_seeds -- --nocapture`.

#![cfg(feature = "mock")]

mod chaos_support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use chaos_support::plan::{Plan, CI_RECORDS, ON_DEMAND_RECORDS};
use chaos_support::run::{run_seed, SeedReport};
use kafka_producer::util::clock::{Clock, SystemClock};

/// The longest one seed may take before it counts as hung.
const SEED_BOUND: Duration = Duration::from_secs(240);
/// Seeds of a plain `cargo test`.
const CI_SEEDS: u64 = 200;
/// Violations printed per failing seed.
const SHOWN: usize = 12;

#[derive(Debug)]
struct Settings {
    seeds: Vec<u64>,
    records: usize,
    jobs: usize,
    /// Print every seed's plan and chaos log, not only failing ones'.
    verbose: bool,
}

fn env_number(name: &str) -> Option<u64> {
    let raw = std::env::var(name).ok()?;
    Some(
        raw.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={raw:?} is not a number")),
    )
}

fn settings() -> Settings {
    let single = std::env::var_os("KAFKA_PRODUCER_CHAOS_SEED").is_some();
    let (seeds, default_records) = if let Some(seed) = env_number("KAFKA_PRODUCER_CHAOS_SEED") {
        (vec![seed], ON_DEMAND_RECORDS)
    } else if let Some(n) = env_number("KAFKA_PRODUCER_CHAOS_SEEDS") {
        let first = env_number("KAFKA_PRODUCER_CHAOS_FIRST_SEED").unwrap_or(0);
        ((first..first + n).collect(), ON_DEMAND_RECORDS)
    } else {
        ((0..CI_SEEDS).collect(), CI_RECORDS)
    };
    Settings {
        seeds,
        records: env_number("KAFKA_PRODUCER_CHAOS_RECORDS").map_or(default_records, |n| n as usize),
        jobs: env_number("KAFKA_PRODUCER_CHAOS_JOBS").map_or(4, |n| n.max(1) as usize),
        verbose: single || env_number("KAFKA_PRODUCER_CHAOS_VERBOSE").is_some_and(|v| v > 0),
    }
}

/// How one seed ended.
enum Ended {
    Ran(SeedReport),
    Hung,
    Panicked,
}

/// Runs one seed on its own thread, so that a hang is reported (the
/// thread is left behind) instead of stopping the test.
fn run_bounded(plan: &Plan) -> Ended {
    let (tx, rx) = mpsc::channel();
    let plan = plan.clone();
    std::thread::Builder::new()
        .name(format!("chaos-seed-{}", plan.seed))
        .spawn(move || {
            let _ = tx.send(run_seed(&plan));
        })
        .expect("spawn a seed thread");
    match rx.recv_timeout(SEED_BOUND) {
        Ok(report) => Ended::Ran(report),
        Err(mpsc::RecvTimeoutError::Timeout) => Ended::Hung,
        Err(mpsc::RecvTimeoutError::Disconnected) => Ended::Panicked,
    }
}

fn replay_command(seed: u64, records: usize) -> String {
    format!(
        "KAFKA_PRODUCER_CHAOS_SEED={seed} KAFKA_PRODUCER_CHAOS_RECORDS={records} \
         cargo test --release --test chaos chaos_seeds -- --nocapture"
    )
}

fn seed_report(plan: &Plan, records: usize, ended: &Ended) -> String {
    let failed = !matches!(ended, Ended::Ran(r) if r.violations.is_empty());
    let mut out = format!(
        "\n=== chaos seed {} {}\nreplay: {}\nplan:\n{plan}",
        plan.seed,
        if failed { "FAILED" } else { "passed" },
        replay_command(plan.seed, records)
    );
    match ended {
        Ended::Ran(report) => {
            out.push_str("what the chaos thread did:\n");
            for line in &report.log {
                out.push_str(&format!("  {line}\n"));
            }
            out.push_str(&format!(
                "{} violations; the first {}:\n",
                report.violations.len(),
                report.violations.len().min(SHOWN)
            ));
            for v in report.violations.iter().take(SHOWN) {
                out.push_str(&format!("  {v}\n"));
            }
        }
        Ended::Hung => out.push_str(&format!(
            "the seed did not finish within {} s (a hang outside the bounded waits: \
             the cluster's shutdown or a send)\n",
            SEED_BOUND.as_secs()
        )),
        Ended::Panicked => out.push_str("the seed's thread panicked (message above)\n"),
    }
    out
}

#[test]
fn chaos_seeds_deliver_exactly_once_in_order_and_report_every_failure() {
    chaos_support::logger::init_from_env();
    let settings = settings();
    let clock = SystemClock;
    let start = clock.now();
    let seeds = Arc::new(settings.seeds.clone());
    let next = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel();
    for _ in 0..settings.jobs.min(seeds.len()) {
        let (seeds, next, tx) = (Arc::clone(&seeds), Arc::clone(&next), tx.clone());
        let records = settings.records;
        std::thread::spawn(move || loop {
            let i = next.fetch_add(1, Ordering::SeqCst);
            let Some(&seed) = seeds.get(i) else { break };
            let plan = Plan::generate(seed, records);
            let ended = run_bounded(&plan);
            if tx.send((plan, ended)).is_err() {
                break;
            }
        });
    }
    drop(tx);

    let mut failures = Vec::new();
    let mut totals = (0u64, 0u64, 0u64, 0u64); // records, acked, failed, present
    let mut causes: BTreeMap<String, u64> = BTreeMap::new();
    let mut done = 0;
    for (plan, ended) in rx {
        done += 1;
        match &ended {
            Ended::Ran(r) => {
                let s = &r.stats;
                totals.0 += s.records;
                totals.1 += s.acked;
                totals.2 += s.failed;
                totals.3 += s.present;
                for (cause, n) in &s.failures {
                    *causes.entry(cause.clone()).or_default() += n;
                }
                println!(
                    "[{done}/{}] seed {}: {}, {} records, {} acked, {} failed {:?}, \
                     {} produce requests, {} faults, {:.1} s",
                    seeds.len(),
                    plan.seed,
                    if r.violations.is_empty() {
                        "ok".to_owned()
                    } else {
                        format!("{} VIOLATIONS", r.violations.len())
                    },
                    s.records,
                    s.acked,
                    s.failed,
                    s.failures,
                    s.produce_requests,
                    plan.at_start.len() + plan.steps.len(),
                    r.elapsed.as_secs_f64()
                );
                if settings.verbose || !r.violations.is_empty() {
                    println!("{}", seed_report(&plan, settings.records, &ended));
                }
                if !r.violations.is_empty() {
                    failures.push((plan, ended));
                }
            }
            Ended::Hung | Ended::Panicked => {
                println!(
                    "[{done}/{}] seed {}: HUNG OR PANICKED",
                    seeds.len(),
                    plan.seed
                );
                failures.push((plan, ended));
            }
        }
    }
    println!(
        "chaos: {} seeds in {:.0} s: {} records checked, {} acknowledged, {} failed \
         (by cause: {causes:?}), {} found in the logs; {} seeds failed",
        seeds.len(),
        clock.now().saturating_duration_since(start).as_secs_f64(),
        totals.0,
        totals.1,
        totals.2,
        totals.3,
        failures.len()
    );
    assert_eq!(done, seeds.len(), "every seed reported");
    if !failures.is_empty() {
        let listed: Vec<u64> = failures.iter().map(|(p, _)| p.seed).collect();
        panic!(
            "{} of {} chaos seeds failed: {listed:?} (reports above, after each seed's line; replay one with {})",
            failures.len(),
            seeds.len(),
            replay_command(listed[0], settings.records)
        );
    }
    assert!(totals.1 > 0, "some records were acknowledged");
}

/// Minimal, seed-free reproductions of what the chaos seeds found, one
/// test per cause, each as short as the cause allows. Each asserts what the
/// issue requires, not what Java does.
///
/// Also found (seed 2540 of a 20 000-record run, no separate test): a
/// partition whose sequence is unresolved (a batch expired in retry, which
/// the second test below leads to) stops the drain of its whole broker
/// (`DrainStep::Stop`, Java's `break`, with the drain index left on it), so
/// the broker's other partitions starve until their batches reach
/// `delivery.timeout.ms`; one drained just before its deadline is sent,
/// written, then expired in flight: failed yet in the log.
mod found {
    use std::time::Duration;

    use kafka_producer::mock::MockCluster;
    use kafka_producer::producer::serialization::BytesSerializer;
    use kafka_producer::protocol::{ApiKey, ErrorCode};
    use kafka_producer::{KafkaProducer, ProducerConfig, ProducerRecord};

    type Producer = KafkaProducer<Vec<u8>, Vec<u8>>;

    const HOUR: Duration = Duration::from_secs(3600);

    fn producer(cluster: &MockCluster, request_timeout_ms: u64) -> Producer {
        super::chaos_support::logger::init_from_env();
        let config = ProducerConfig::builder(&cluster.bootstrap_servers())
            .set("linger.ms", "0")
            .set("retry.backoff.ms", "5")
            .set("reconnect.backoff.ms", "5")
            .set("request.timeout.ms", &request_timeout_ms.to_string())
            .set("delivery.timeout.ms", "8000")
            .build()
            .unwrap();
        KafkaProducer::new(config, BytesSerializer, BytesSerializer).unwrap()
    }

    fn send(p: &Producer, partition: i32, value: u8) -> kafka_producer::SendFuture {
        p.send(ProducerRecord::new("t", vec![value]).with_partition(partition))
            .unwrap()
    }

    /// Polls until `done`, at most 20 s (a hang guard, not a timing
    /// assertion).
    fn wait_for(what: &str, done: impl Fn() -> bool) {
        for _ in 0..2000 {
            if done() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("timed out waiting for {what}");
    }

    /// Seeds 55 and 99 (and others under `KAFKA_PRODUCER_CHAOS_SEEDS`):
    /// a batch written by its leader whose answer is held, the partition's
    /// leadership moving, and the producer sending the partition's next
    /// batches to the new leader while the first is still in flight. When
    /// the held request times out, its batch is resent; by then the broker
    /// has appended more than five later batches of the producer, so the
    /// resend is outside its duplicate window and is answered
    /// `OUT_OF_ORDER_SEQUENCE_NUMBER`; the producer retries it until
    /// `delivery.timeout.ms` and reports it failed, though it is in the log
    /// (Java's producer does the same: nothing in its drain stops a
    /// partition from having batches in flight to two brokers).
    #[test]
    fn a_held_batch_resent_after_a_leader_move_is_acknowledged_once() {
        let cluster = MockCluster::builder().brokers(2).start().unwrap();
        cluster.create_topic("t", 2).unwrap();
        cluster.set_partition_leader("t", 0, 1).unwrap();
        cluster.set_partition_leader("t", 1, 2).unwrap();
        // A long request timeout: the later sends must all happen while
        // the first is held (if this machine is slower than that, the test
        // passes without showing anything; it cannot fail wrongly).
        let p = producer(&cluster, 4_000);
        send(&p, 0, 0).get().unwrap();
        send(&p, 1, 0).get().unwrap();

        cluster.delay_responses(Some(1), Some(ApiKey::PRODUCE), HOUR);
        let held = send(&p, 0, 1);
        wait_for("the held batch to be written", || {
            cluster.log_end_offset("t", 0) == Some(2)
        });
        // Leadership moves; a NOT_LEADER answer on the other partition
        // makes the producer refresh its metadata and see it.
        cluster.set_partition_leader("t", 0, 2).unwrap();
        cluster.push_partition_errors("t", 1, &[ErrorCode::NOT_LEADER_OR_FOLLOWER]);
        send(&p, 1, 1).get().unwrap();
        // Six more batches of partition 0, one at a time, all acknowledged
        // by the new leader: more than the broker's five-batch window.
        for value in 2..8 {
            send(&p, 0, value).get().unwrap();
        }
        cluster.clear_faults();

        let md = held
            .get()
            .expect("the held batch is in the log: it must be acknowledged");
        assert_eq!(md.offset(), 1);
        let values: Vec<u8> = cluster
            .records("t", 0)
            .iter()
            .map(|r| r.value.as_ref().unwrap()[0])
            .collect();
        assert_eq!(values, [0, 1, 2, 3, 4, 5, 6, 7]);
    }

    /// Seeds with non-retriable errors: a batch failed by a non-retriable
    /// error leaves a gap in its partition's sequences; every later batch
    /// of the partition is answered `OUT_OF_ORDER_SEQUENCE_NUMBER`, retried
    /// and failed at `delivery.timeout.ms`. Java's idempotent producer
    /// bumps the epoch for the partition (`requestEpochBumpForPartition`
    /// in `TransactionManager.handleFailedBatch`) and the later batches go
    /// through.
    #[test]
    fn a_non_retriable_error_fails_its_batch_only() {
        let cluster = MockCluster::builder().brokers(1).start().unwrap();
        cluster.create_topic("t", 1).unwrap();
        let p = producer(&cluster, 2_000);
        send(&p, 0, 0).get().unwrap();
        cluster.push_partition_errors("t", 0, &[ErrorCode::INVALID_RECORD]);
        let err = send(&p, 0, 1).get().unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::INVALID_RECORD));
        let next = send(&p, 0, 2)
            .get()
            .expect("the record after a failed batch is delivered");
        assert_eq!(next.offset(), 1);
        let values: Vec<u8> = cluster
            .records("t", 0)
            .iter()
            .map(|r| r.value.as_ref().unwrap()[0])
            .collect();
        assert_eq!(values, [0, 2]);
    }
}
