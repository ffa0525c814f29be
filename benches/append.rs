//! The caller's side of `KafkaProducer::send`: what a thread pays to hand
//! one 100-byte uncompressed record to the producer, with 1 and 4 caller
//! threads, unkeyed (sticky partitioner) and keyed (murmur2 of a 10-byte
//! key), with `batch.size` at Java's default 16 KiB and at 1 MiB.
//!
//! # Method
//!
//! Each scenario gets its own embedded [`MockCluster`] (3 brokers, one topic
//! of 12 partitions) and its own producer with Java's defaults (acks=all,
//! idempotence on) except: `linger.ms` = 60 s, so a batch leaves only when
//! it is full or flushed, and `buffer.memory` = 256 MiB, so a send never
//! waits for memory. Before measuring, one record is sent to every
//! partition and acknowledged (metadata, connections and producer id are
//! in place).
//!
//! Records are built before the clock starts (topic, key and value
//! references: building one costs a `String` for the topic); the timed
//! part is the `send` calls and dropping their futures. After every chunk
//! of at most 50,000 records per thread the producer is flushed with the
//! clock stopped, so batches never pile up. Full batches still leave while
//! the clock runs: the network thread drains and sends them (and the mock
//! brokers store them) on the same 2 cores, as they would in an
//! application.
//!
//! * criterion (`send/...`): `iter_custom` returns the wall time of the
//!   sends; with 4 threads that is from the first thread's start to the
//!   last one's end, so the figure is wall time per record (the inverse of
//!   the callers' combined throughput), not one call's latency;
//! * then, in `cargo bench` only, every send of 400,000 more
//!   (`KAFKA_BENCH_SEND_SAMPLES` to change, 0 to skip) is timed alone and
//!   the bench prints percentiles and a histogram of those latencies, and
//!   the cost of reading the clock twice, which each of them includes.
//!
//! At the end of each scenario the brokers' log end offsets must add up to
//! the number of records sent, or the bench panics: a measurement of sends
//! that failed would be worthless.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use kafka_producer::mock::MockCluster;
use kafka_producer::producer::serialization::BytesSerializer;
use kafka_producer::util::clock::{Clock, SystemClock};
use kafka_producer::{KafkaProducer, ProducerConfig, ProducerRecord};

mod support;

const TOPIC: &str = "bench";
const PARTITIONS: i32 = 12;
const BROKERS: usize = 3;
const VALUE_LEN: usize = 100;
/// Distinct keys (10 bytes each, `key-000000` ...), cycled.
const KEYS: usize = 10_000;
const LINGER_MS: u64 = 60_000;
const BUFFER_MEMORY: u64 = 256 << 20;
/// Records per caller thread between two (untimed) flushes.
const CHUNK: u64 = 50_000;
/// Sends timed one by one per scenario, in `cargo bench`.
const HISTOGRAM_SENDS: u64 = 400_000;
/// The same in test mode (`cargo test --benches`): just run the code.
const HISTOGRAM_SENDS_TEST: u64 = 100;

type Key = &'static [u8];
type Record = ProducerRecord<Key, Key>;
type Producer = KafkaProducer<Key, Key>;

#[derive(Debug, Clone, Copy)]
struct Scenario {
    threads: usize,
    keyed: bool,
    batch_size: usize,
}

impl Scenario {
    fn group_name(self) -> String {
        let keys = if self.keyed { "keyed" } else { "unkeyed" };
        let batch = if self.batch_size >= 1 << 20 {
            format!("{}MiB", self.batch_size >> 20)
        } else {
            format!("{}KiB", self.batch_size >> 10)
        };
        format!("{keys}/batch={batch}")
    }

    fn threads_name(self) -> String {
        format!("{}-thread", self.threads)
    }
}

/// One scenario's cluster and producer, and what was sent through it.
struct Fixture {
    scenario: Scenario,
    // Dropped after the producer (field order), so the producer's close
    // still finds its brokers.
    producer: Producer,
    cluster: MockCluster,
    keys: &'static [Vec<u8>],
    value: &'static [u8],
    sent: AtomicU64,
}

impl Fixture {
    fn start(scenario: Scenario, keys: &'static [Vec<u8>], value: &'static [u8]) -> Self {
        let cluster = MockCluster::builder()
            .brokers(BROKERS)
            .start()
            .unwrap_or_else(|e| panic!("mock cluster: {e}"));
        cluster
            .create_topic(TOPIC, PARTITIONS)
            .unwrap_or_else(|e| panic!("create topic: {e}"));
        let config = ProducerConfig::builder(&cluster.bootstrap_servers())
            .linger_ms(LINGER_MS)
            .batch_size(scenario.batch_size)
            .buffer_memory(BUFFER_MEMORY)
            .build()
            .unwrap_or_else(|e| panic!("config: {e}"));
        let producer = Producer::new(config, BytesSerializer, BytesSerializer)
            .unwrap_or_else(|e| panic!("producer: {e}"));
        // Metadata, connections to every leader and the producer id, before
        // anything is timed.
        let futures: Vec<_> = (0..PARTITIONS)
            .map(|p| {
                producer
                    .send(Record::new(TOPIC, value).with_partition(p))
                    .unwrap_or_else(|e| panic!("warm-up send: {e}"))
            })
            .collect();
        producer.flush().unwrap_or_else(|e| panic!("flush: {e}"));
        for f in futures {
            f.get()
                .unwrap_or_else(|e| panic!("warm-up record failed: {e}"));
        }
        Fixture {
            scenario,
            producer,
            cluster,
            keys,
            value,
            sent: AtomicU64::new(PARTITIONS as u64),
        }
    }

    /// Appends `n` records for caller `thread` to `out` (`first` numbers
    /// them, to pick the keys).
    fn make_records(&self, thread: usize, first: u64, n: u64, out: &mut Vec<Record>) {
        out.reserve(n as usize);
        for i in first..first + n {
            let record = Record::new(TOPIC, self.value);
            out.push(if self.scenario.keyed {
                let k = (thread * 7919 + i as usize) % self.keys.len();
                record.with_key(self.keys[k].as_slice())
            } else {
                record
            });
        }
    }

    /// Sends every record; only the sends (and dropping their futures)
    /// happen between the two clock readings.
    fn send_all(&self, records: &mut Vec<Record>) -> Duration {
        let clock = SystemClock;
        let start = clock.now();
        for record in records.drain(..) {
            match self.producer.send(record) {
                Ok(future) => drop(black_box(future)),
                Err(e) => panic!("send failed: the bench would time the error path: {e}"),
            }
        }
        clock.now() - start
    }

    /// Sends every record, timing each send alone, and appends the
    /// latencies (ns) to `latencies`.
    fn send_all_timed(&self, records: &mut Vec<Record>, latencies: &mut Vec<u32>) {
        let clock = SystemClock;
        latencies.reserve(records.len());
        for record in records.drain(..) {
            let start = clock.now();
            let result = self.producer.send(record).map(drop);
            let took = clock.now() - start;
            if let Err(e) = result {
                panic!("send failed: the bench would time the error path: {e}");
            }
            latencies.push(u32::try_from(took.as_nanos()).unwrap_or(u32::MAX));
        }
    }

    /// Runs `total` sends split over the scenario's threads in chunks, with
    /// an untimed flush after each chunk; returns the timed wall time and
    /// the single-send latencies when `per_send` is set.
    fn run(&self, total: u64, per_send: bool) -> (Duration, Vec<u32>) {
        let threads = self.scenario.threads;
        let mut elapsed = Duration::ZERO;
        let mut latencies = Vec::new();
        let mut done = 0;
        while done < total {
            let chunk = (total - done).min(CHUNK * threads as u64);
            let share =
                |t: usize| chunk / threads as u64 + u64::from((t as u64) < chunk % threads as u64);
            if threads == 1 {
                let mut records = Vec::new();
                self.make_records(0, done, chunk, &mut records);
                if per_send {
                    self.send_all_timed(&mut records, &mut latencies);
                } else {
                    elapsed += self.send_all(&mut records);
                }
            } else {
                let barrier = Barrier::new(threads);
                let results: Vec<(Instant, Instant, Vec<u32>)> = std::thread::scope(|s| {
                    let handles: Vec<_> = (0..threads)
                        .map(|t| {
                            let barrier = &barrier;
                            s.spawn(move || {
                                let mut records = Vec::new();
                                self.make_records(t, done, share(t), &mut records);
                                let mut latencies = Vec::new();
                                barrier.wait();
                                let clock = SystemClock;
                                let start = clock.now();
                                if per_send {
                                    self.send_all_timed(&mut records, &mut latencies);
                                } else {
                                    self.send_all(&mut records);
                                }
                                (start, clock.now(), latencies)
                            })
                        })
                        .collect();
                    handles
                        .into_iter()
                        .map(|h| {
                            h.join()
                                .unwrap_or_else(|_| panic!("a caller thread panicked"))
                        })
                        .collect()
                });
                let first = results.iter().map(|r| r.0).min();
                let last = results.iter().map(|r| r.1).max();
                if let (Some(first), Some(last)) = (first, last) {
                    elapsed += last - first;
                }
                for (_, _, l) in results {
                    latencies.extend(l);
                }
            }
            self.producer
                .flush()
                .unwrap_or_else(|e| panic!("flush: {e}"));
            self.sent.fetch_add(chunk, Ordering::Relaxed);
            done += chunk;
        }
        (elapsed, latencies)
    }

    /// Panics unless the brokers hold every record sent.
    fn check_delivered(&self) {
        let stored: i64 = (0..PARTITIONS)
            .map(|p| self.cluster.log_end_offset(TOPIC, p).unwrap_or(0))
            .sum();
        let sent = self.sent.load(Ordering::Relaxed);
        assert_eq!(
            stored,
            sent as i64,
            "{}/{}: the brokers hold {stored} records, {sent} were sent",
            self.scenario.group_name(),
            self.scenario.threads_name()
        );
    }
}

/// The median cost of two back-to-back clock readings, which every
/// single-send latency includes.
fn timer_overhead_ns() -> u32 {
    let clock = SystemClock;
    let mut samples: Vec<u32> = (0..100_000)
        .map(|_| {
            let a = clock.now();
            let b = clock.now();
            u32::try_from((b - a).as_nanos()).unwrap_or(u32::MAX)
        })
        .collect();
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// The value at quantile `q` of sorted `v` (nearest rank).
fn quantile(v: &[u32], q: f64) -> u32 {
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

fn print_latencies(name: &str, mut latencies: Vec<u32>, timer_ns: u32) {
    if latencies.is_empty() {
        return;
    }
    latencies.sort_unstable();
    let n = latencies.len();
    let mean = latencies.iter().map(|&l| u64::from(l)).sum::<u64>() / n as u64;
    println!(
        "{name}: {n} sends timed one by one (ns, each including ~{timer_ns} ns of clock reads):\n  \
         p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  mean {mean}",
        quantile(&latencies, 0.50),
        quantile(&latencies, 0.90),
        quantile(&latencies, 0.99),
        quantile(&latencies, 0.999),
        latencies[n - 1],
    );
    let edges = [100u32, 150, 200, 300, 500, 1_000, 10_000, 100_000];
    let mut line = String::from("  histogram:");
    let mut lower = 0;
    for upper in edges.iter().copied().chain([u32::MAX]) {
        let count =
            latencies.partition_point(|&l| l < upper) - latencies.partition_point(|&l| l < lower);
        let label = if upper == u32::MAX {
            format!(">={lower}")
        } else {
            format!("<{upper}")
        };
        line.push_str(&format!(
            " {label}: {:.1}%",
            100.0 * count as f64 / n as f64
        ));
        lower = upper;
    }
    println!("{line}");
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` does not, and
    // then criterion runs each benchmark once, as a test.
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let histogram_sends = if bench_mode {
        std::env::var("KAFKA_BENCH_SEND_SAMPLES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(HISTOGRAM_SENDS)
    } else {
        HISTOGRAM_SENDS_TEST
    };
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
        .configure_from_args();

    // Leaked once: records borrow them for as long as the producer holds them.
    let keys: &'static [Vec<u8>] = Vec::leak(
        (0..KEYS)
            .map(|i| format!("key-{i:06}").into_bytes())
            .collect(),
    );
    let value: &'static [u8] = Vec::leak(support::random_letters(VALUE_LEN, 7));
    let timer_ns = timer_overhead_ns();

    for batch_size in [16 * 1024, 1 << 20] {
        for keyed in [false, true] {
            for threads in [1, 4] {
                let scenario = Scenario {
                    threads,
                    keyed,
                    batch_size,
                };
                let fixture = Fixture::start(scenario, keys, value);
                let mut group =
                    criterion.benchmark_group(format!("send/{}", scenario.group_name()));
                group.throughput(Throughput::Elements(1));
                group.bench_function(BenchmarkId::from_parameter(scenario.threads_name()), |b| {
                    b.iter_custom(|iters| fixture.run(iters, false).0);
                });
                group.finish();
                if histogram_sends > 0 {
                    let (_, latencies) = fixture.run(histogram_sends, true);
                    let name =
                        format!("send/{}/{}", scenario.group_name(), scenario.threads_name());
                    print_latencies(&name, latencies, timer_ns);
                }
                fixture.check_delivered();
                fixture
                    .producer
                    .close()
                    .unwrap_or_else(|e| panic!("close: {e}"));
            }
        }
    }
    criterion.final_summary();
}
