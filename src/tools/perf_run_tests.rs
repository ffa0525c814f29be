//! Tests of whole perf runs on a mock clock: report lines, payloads,
//! throttling, warm-up, failures, metrics, transactions, the embedded cluster.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::*;
use crate::error::Error;
use crate::producer::ProducerConfig;
use crate::tools::backend::{Backend, SendCallback, ToolProducer};
use crate::tools::cli::{Captured, Output};
use crate::tools::line_reader::ByteRecord;
use crate::tools::testing::{FakeBackend, ScriptedProducer};
use crate::util::clock::{Clock, MockClock};

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kp-perf-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A producer on a mock clock: each send takes `step`, and a record is
/// acknowledged `lag` sends later (so its latency is `lag * step`).
struct ClockedProducer {
    clock: Arc<MockClock>,
    step: Duration,
    lag: usize,
    pending: Mutex<Vec<SendCallback>>,
    sent: Mutex<Vec<ByteRecord>>,
}

impl ClockedProducer {
    fn complete_oldest(&self) {
        let cb = self.pending.lock().remove(0);
        cb.call(Ok(crate::producer::RecordMetadata::new(
            crate::common::TopicPartition::new("t", 0),
            0,
            0,
            -1,
            -1,
            1,
        )));
    }
}

impl ToolProducer for Arc<ClockedProducer> {
    fn send(&self, record: ByteRecord, callback: SendCallback) {
        self.sent.lock().push(record);
        self.pending.lock().push(callback);
        self.clock.advance(self.step);
        while self.pending.lock().len() > self.lag {
            self.complete_oldest();
        }
    }

    fn flush(&self) -> Result<(), Error> {
        while !self.pending.lock().is_empty() {
            self.complete_oldest();
        }
        Ok(())
    }

    fn close(&self) -> Result<(), Error> {
        self.flush()
    }
}

struct Clocked(Arc<ClockedProducer>);

impl Backend for Clocked {
    fn start_cluster(
        &self,
        _: u32,
    ) -> Result<Box<dyn crate::tools::backend::EmbeddedCluster>, String> {
        Err("no cluster in this test".into())
    }
    fn create_producer(&self, _: ProducerConfig) -> Result<Box<dyn ToolProducer>, Error> {
        Ok(Box::new(self.0.clone()))
    }
}

struct Outcome {
    code: u8,
    stdout: String,
    stderr: String,
    slept: Vec<Option<Duration>>,
}

fn run_with(args: &[&str], backend: &dyn Backend, clock: Arc<MockClock>) -> Outcome {
    let (stdout, out): (Output, Captured) = Output::capture();
    let (stderr, err) = Output::capture();
    let slept = Arc::new(Mutex::new(Vec::new()));
    let (s, c) = (slept.clone(), clock.clone());
    let env = PerfEnv {
        stdout,
        stderr,
        clock,
        sleep: Box::new(move |d| {
            s.lock().push(d);
            if let Some(d) = d {
                c.advance(d);
            }
        }),
    };
    let code = main(args.iter().copied(), backend, env);
    let slept = slept.lock().clone();
    Outcome {
        code,
        stdout: out.contents(),
        stderr: err.contents(),
        slept,
    }
}

fn clocked(step_ms: u64, lag: usize) -> (Arc<ClockedProducer>, Arc<MockClock>) {
    let clock = Arc::new(MockClock::default());
    let producer = Arc::new(ClockedProducer {
        clock: clock.clone(),
        step: Duration::from_millis(step_ms),
        lag,
        pending: Mutex::new(Vec::new()),
        sent: Mutex::new(Vec::new()),
    });
    (producer, clock)
}

#[test]
fn a_run_prints_javas_windows_and_total() {
    // 12 records, one sent every second and acknowledged when the send two
    // later ends (3 s latency); the last two are acknowledged at close, at
    // 12 s, after 2 s and 1 s. Windows close at the acknowledgements at 5 s
    // and 10 s.
    let (producer, clock) = clocked(1_000, 2);
    let o = run_with(
        &[
            "--topic",
            "t",
            "--num-records",
            "12",
            "--record-size",
            "10",
            "--throughput",
            "-1",
            "--bootstrap-server",
            "h:1",
        ],
        &Clocked(producer.clone()),
        clock,
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stderr, "");
    assert_eq!(
        o.stdout,
        "3 records sent, 0.6 records/sec (0.00 MB/sec), 3000.0 ms avg latency, 3000.0 ms max latency.\n\
         5 records sent, 1.0 records/sec (0.00 MB/sec), 3000.0 ms avg latency, 3000.0 ms max latency.\n\
         12 records sent, 1.000000 records/sec (0.00 MB/sec), 2750.00 ms avg latency, 3000.00 ms max latency, \
         3000 ms 50th, 3000 ms 95th, 3000 ms 99th, 3000 ms 99.9th.\n"
    );
    let sent = producer.sent.lock();
    assert_eq!(sent.len(), 12);
    assert!(sent
        .iter()
        .all(|r| r.key().is_none() && r.value().unwrap().len() == 10));
}

#[test]
fn record_size_payloads_are_javas_bytes() {
    let expected: Vec<String> = include_str!("../../tests/data/tools/payloads.txt")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    let producer = ScriptedProducer::acking();
    let backend = FakeBackend::new(producer.clone());
    let n = expected.len().to_string();
    let o = run_with(
        &[
            "--topic",
            "t",
            "--num-records",
            &n,
            "--record-size",
            "100",
            "--throughput",
            "-1",
            "--bootstrap-server",
            "h:1",
        ],
        &backend,
        Arc::new(MockClock::default()),
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let got: Vec<String> = producer
        .sent()
        .iter()
        .map(|r| String::from_utf8(r.value().cloned().unwrap()).unwrap())
        .collect();
    assert_eq!(got, expected);
    let config = backend.config();
    assert_eq!(config.client_id(), "perf-producer-client");
}

#[test]
fn payload_file_and_monotonic_payloads() {
    let f = temp_file("choices.txt", b"x\nyy\nzzz\n");
    let producer = ScriptedProducer::acking();
    let o = run_with(
        &[
            "--topic",
            "t",
            "--num-records",
            "30",
            "--payload-file",
            f.to_str().unwrap(),
            "--throughput",
            "-1",
            "--bootstrap-server",
            "h:1",
        ],
        &FakeBackend::new(producer.clone()),
        Arc::new(MockClock::default()),
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.starts_with(&format!(
        "Reading payloads from: {}\nNumber of messages read: 3\n",
        f.display()
    )));
    let values: Vec<Vec<u8>> = producer
        .sent()
        .iter()
        .map(|r| r.value().cloned().unwrap())
        .collect();
    assert!(values
        .iter()
        .all(|v| [&b"x"[..], b"yy", b"zzz"].contains(&v.as_slice())));
    // new SplittableRandom(0).nextInt(3), printed by a JDK 17.
    let java = [1, 1, 0, 0, 1, 1, 2, 0, 1, 0];
    let mut r = crate::tools::java::SplittableRandom::new(0);
    let picks: Vec<usize> = (0..30).map(|_| r.next_int_bounded(3) as usize).collect();
    assert_eq!(&picks[..10], java);
    let choices = [b"x".to_vec(), b"yy".to_vec(), b"zzz".to_vec()];
    assert_eq!(
        values,
        picks
            .iter()
            .map(|i| choices[*i].clone())
            .collect::<Vec<_>>()
    );

    let producer = ScriptedProducer::acking();
    run_with(
        &[
            "--topic",
            "t",
            "--num-records",
            "3",
            "--payload-monotonic",
            "--throughput",
            "-1",
            "--bootstrap-server",
            "h:1",
        ],
        &FakeBackend::new(producer.clone()),
        Arc::new(MockClock::default()),
    );
    let values: Vec<Vec<u8>> = producer
        .sent()
        .iter()
        .map(|r| r.value().cloned().unwrap())
        .collect();
    assert_eq!(values, [b"0".to_vec(), b"1".to_vec(), b"2".to_vec()]);
}

#[test]
fn throughput_is_throttled_on_the_injected_clock() {
    // Sends take 1 ms; the target is 100 records/sec: 1,000 records take
    // about 10 s of (mock) time, in sleeps of 10 ms.
    let (producer, clock) = clocked(1, 0);
    let start = Clock::now(&*clock);
    let o = run_with(
        &[
            "--topic",
            "t",
            "--num-records",
            "1000",
            "--payload-monotonic",
            "--throughput",
            "100",
            "--bootstrap-server",
            "h:1",
        ],
        &Clocked(producer),
        clock.clone(),
    );
    assert_eq!(o.code, 0);
    let took = Clock::now(&*clock) - start;
    assert!(
        (9_900..=10_100).contains(&took.as_millis()),
        "took {took:?}"
    );
    assert!(
        o.slept
            .iter()
            .all(|d| *d == Some(Duration::from_millis(10))),
        "{:?}",
        &o.slept[..3]
    );
}

#[test]
fn warmup_prints_a_steady_state_summary() {
    let (producer, clock) = clocked(1_000, 0);
    let o = run_with(
        &[
            "--topic",
            "t",
            "--num-records",
            "8",
            "--payload-monotonic",
            "--throughput",
            "-1",
            "--warmup-records",
            "3",
            "--bootstrap-server",
            "h:1",
        ],
        &Clocked(producer),
        clock,
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "Warmup first 3 records. Steady state results will print after the complete test summary."
    );
    // The whole-run stats stop printing windows once the steady-state ones
    // start; those announce their first window.
    assert_eq!(lines[1], "In steady state.");
    assert!(
        lines[2].starts_with("5 records sent, 1.0 records/sec"),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].starts_with("8 records sent, 1.000000 records/sec"),
        "{}",
        lines[3]
    );
    assert!(
        lines[4].starts_with("5 steady state records sent, 1.000000 records/sec"),
        "{}",
        lines[4]
    );
    assert_eq!(lines.len(), 5);
}

#[test]
fn failed_sends_are_reported_and_exit_one() {
    let producer = ScriptedProducer::with_rule(false, |n, _| {
        (n > 8).then(|| Error::Timeout("Expiring 2 record(s)".into()))
    });
    let o = run_with(
        &[
            "--topic",
            "t",
            "--num-records",
            "10",
            "--payload-monotonic",
            "--throughput",
            "-1",
            "--bootstrap-server",
            "h:1",
        ],
        &FakeBackend::new(producer),
        Arc::new(MockClock::default()),
    );
    assert_eq!(o.code, 1);
    assert_eq!(
        o.stderr,
        "Error sending record: timed out: Expiring 2 record(s)\n\
         Error sending record: timed out: Expiring 2 record(s)\n\
         2 of 10 records failed\n"
    );
    // Only acknowledged records are counted, as in Java.
    assert!(o.stdout.starts_with("8 records sent, "), "{}", o.stdout);
}

#[test]
fn print_metrics_uses_javas_layout_and_says_when_there_are_none() {
    let producer = ScriptedProducer::acking();
    let o = run_with(
        &[
            "--topic",
            "t",
            "--num-records",
            "2",
            "--payload-monotonic",
            "--throughput",
            "-1",
            "--print-metrics",
            "--bootstrap-server",
            "h:1",
        ],
        &FakeBackend::new(producer.clone()),
        Arc::new(MockClock::default()),
    );
    assert_eq!(o.code, 0);
    let name = "producer-metrics:record-send-total:{client-id=test}";
    assert!(
        o.stdout.ends_with(&format!(
            "\n\n{:<w$}   Value\n{name} : 2.000\n",
            "Metric Name",
            w = name.len()
        )),
        "{}",
        o.stdout
    );
    assert!(producer.closed.load(Ordering::Relaxed));

    let (clocked_producer, clock) = clocked(1, 0);
    let o = run_with(
        &[
            "--topic",
            "t",
            "--num-records",
            "2",
            "--payload-monotonic",
            "--throughput",
            "-1",
            "--print-metrics",
            "--bootstrap-server",
            "h:1",
        ],
        &Clocked(clocked_producer),
        clock,
    );
    assert_eq!(o.code, 0);
    assert!(o.stderr.contains("exposes no metrics yet"), "{}", o.stderr);
}

#[test]
fn transactions_are_refused_for_now() {
    for extra in [
        &["--transactional-id", "tx"][..],
        &["--transaction-duration-ms", "100"][..],
        &["--producer-props", "transactional.id=tx"][..],
    ] {
        let producer = ScriptedProducer::acking();
        let mut args = vec![
            "--topic",
            "t",
            "--num-records",
            "2",
            "--payload-monotonic",
            "--throughput",
            "-1",
        ];
        args.extend_from_slice(extra);
        let o = run_with(
            &args,
            &FakeBackend::new(producer.clone()),
            Arc::new(MockClock::default()),
        );
        assert_eq!(o.code, 1, "{extra:?}");
        assert!(
            o.stderr.contains("transactions are not supported yet"),
            "{}",
            o.stderr
        );
        assert!(producer.sent().is_empty());
    }
}

#[test]
fn without_bootstrap_servers_the_embedded_cluster_is_started() {
    let producer = ScriptedProducer::acking();
    let backend = FakeBackend::new(producer);
    let o = run_with(
        &[
            "--topic",
            "demo",
            "--num-records",
            "3",
            "--record-size",
            "100",
            "--throughput",
            "-1",
        ],
        &backend,
        Arc::new(MockClock::default()),
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(*backend.cluster_started.lock(), Some(3));
    assert!(o.stderr.starts_with(
        "No --bootstrap-server given: started an embedded MockCluster with 3 brokers at "
    ));
}

#[test]
fn embedded_options_need_the_embedded_cluster() {
    let args = [
        "--topic",
        "demo",
        "--num-records",
        "3",
        "--record-size",
        "100",
        "--throughput",
        "-1",
        "--embedded-sink",
    ];
    // The fake backend serves default options only: the options reach it.
    let backend = FakeBackend::new(ScriptedProducer::acking());
    let o = run_with(&args, &backend, Arc::new(MockClock::default()));
    assert_eq!(o.code, 1);
    assert!(
        o.stderr
            .contains("cannot run with EmbeddedOptions { sink: true"),
        "{}",
        o.stderr
    );
    // With a bootstrap server they make no sense.
    let mut with_servers = args.to_vec();
    with_servers.extend(["--bootstrap-server", "b:9092"]);
    let backend = FakeBackend::new(ScriptedProducer::acking());
    let o = run_with(&with_servers, &backend, Arc::new(MockClock::default()));
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("need the embedded cluster"),
        "{}",
        o.stderr
    );
    assert_eq!(*backend.cluster_started.lock(), None);
}

#[test]
fn usage_errors_and_help() {
    let backend = FakeBackend::new(ScriptedProducer::acking());
    let o = run_with(&["--topic", "t"], &backend, Arc::new(MockClock::default()));
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.starts_with("Usage: kafka-producer-perf-test"),
        "{}",
        o.stderr
    );
    assert!(o
        .stderr
        .ends_with("kafka-producer-perf-test: error: argument --num-records is required\n"));
    let o = run_with(&[], &backend, Arc::new(MockClock::default()));
    assert_eq!((o.code, o.stderr.as_str()), (0, ""));
    assert!(o.stdout.starts_with("Usage: kafka-producer-perf-test"));
}
