//! The end-to-end scenario the producer must pass against every broker
//! (`tests/e2e_rdkafka.rs`, `tests/e2e_tansu.rs`, `tests/e2e_mock.rs`).
//!
//! ```text
//!  plan (seeded)          send (one shared KafkaProducer, several threads)     read back + check
//!   per thread: specs      send().get()            -> ack at once               count per topic
//!   keys null/empty/set    send_with_callback      -> ack in the callback       each (thread, seq) once
//!   values null/empty/KiB  fire-and-forget, flush  -> ack from the future       key, value, headers
//!   headers, partitions,                                after flush              timestamp (CreateTime)
//!   timestamps, mode                                                            murmur2 partition
//!                                                                               ack == (partition, offset)
//!                                                                               per-thread order
//! ```
//!
//! Every record carries a first header [`ID_HEADER`] = `"<thread>:<seq>"`,
//! so a record read back is matched to the one sent by content, not by
//! position; the headers the record was generated with follow it. The
//! comparison itself is in `scenario/check.rs`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use kafka_producer::producer::serialization::BytesSerializer;
use kafka_producer::producer::ProducerConfigBuilder;
use kafka_producer::util::clock::{Clock, SystemClock};
use kafka_producer::{Error, KafkaProducer, ProducerConfig, ProducerRecord, RecordMetadata};
use parking_lot::Mutex;

use super::brokers::ConsumedRecord;

mod check;

/// The header naming a record's sending thread and its sequence number.
pub const ID_HEADER: &str = "e2e.id";

/// The issue's topics: name, partition count, and the share of the records
/// each gets (relative weights). The 1-partition topic gets a tenth: the
/// librdkafka mock keeps only the newest 5 MiB of each partition
/// (`rd_kafka_mock_partition` `max_size`), so 100 000 records must not put
/// more than that on one partition.
pub const TOPICS: [(&str, i32, usize); 3] = [("one", 1, 1), ("six", 6, 3), ("sixty-four", 64, 6)];

/// The record count when `KAFKA_PRODUCER_E2E_RECORDS` is not set.
pub const DEFAULT_RECORDS: usize = 100_000;

/// `KAFKA_PRODUCER_E2E_RECORDS`, else `default`.
pub fn record_count(default: usize) -> usize {
    match std::env::var("KAFKA_PRODUCER_E2E_RECORDS") {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("KAFKA_PRODUCER_E2E_RECORDS={v:?} is not a count")),
        Err(_) => default,
    }
}

/// How a record is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    /// `send(record)?.get()` before the next record.
    Sync,
    /// `send_with_callback`; the callback stores the acknowledgement.
    Callback,
    /// `send`, keep the future, `flush`, then read the future.
    FireAndForget,
}

/// What a broker puts in the acknowledgement's timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckTimestamp {
    /// -1 (topics with CreateTime): the record's own create time.
    CreateTime,
    /// The record's create time, except for a batch the broker answered
    /// as a duplicate of one it already holds: Kafka (`UnifiedLog.append`)
    /// then puts the stored batch's max timestamp in the answer's
    /// log_append_time_ms, and the producer reports that for each of its
    /// records, as Java does. Checked as: the record's create time, or a
    /// larger create time stored in the same partition.
    CreateTimeOrBatchMax,
    /// This value on every acknowledgement (the librdkafka mock answers
    /// every Produce with log_append_time_ms 1234 although its topics keep
    /// create times), reported as is, as Java does.
    Fixed(i64),
}

/// One record to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// The sending thread.
    pub thread: usize,
    /// The record's number in its thread's send order.
    pub seq: usize,
    /// Index into [`Scenario::topics`].
    pub topic: usize,
    /// An explicit partition.
    pub partition: Option<i32>,
    /// The key (`Some(vec![])` is an empty key).
    pub key: Option<Vec<u8>>,
    /// The value (`None` is a tombstone).
    pub value: Option<Vec<u8>>,
    /// Every header, [`ID_HEADER`] first.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    /// An explicit create time.
    pub timestamp: Option<i64>,
    /// How it is sent.
    pub mode: Mode,
}

/// A small deterministic generator (splitmix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `percent` / 100.
    pub fn percent(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// `len` random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }

    /// Between `min` and `min + spread - 1` random bytes.
    pub fn blob(&mut self, min: usize, spread: usize) -> Vec<u8> {
        let len = min + self.below(spread);
        self.bytes(len)
    }
}

/// The scenario: where to send, how much, from how many threads.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Names the broker in messages.
    pub label: String,
    /// `bootstrap.servers`.
    pub bootstrap: String,
    /// Topic names and partition counts; the topics exist already.
    pub topics: Vec<(String, i32)>,
    /// Each topic's relative share of the records.
    pub weights: Vec<usize>,
    /// Records in total, over every topic and thread.
    pub records: usize,
    /// Sending threads, all sharing one producer.
    pub threads: usize,
    /// The generator's seed.
    pub seed: u64,
    /// What the acknowledgements' timestamps hold.
    pub ack_timestamp: AckTimestamp,
    /// Accept a record stored more than once (identical copies, one at
    /// its acknowledged position; order checked on the first copies), for
    /// a broker that does not deduplicate resent batches: the librdkafka
    /// mock checks no sequence numbers for idempotent producers that are
    /// not transactional, so a batch appended whose answer was lost (a
    /// connection closed, a request timed out) is appended again when
    /// resent, where Kafka would answer it as a duplicate. Off by default.
    pub tolerate_duplicates: bool,
}

impl Scenario {
    /// A scenario on [`TOPICS`] with four threads and a fixed seed.
    pub fn new(label: &str, bootstrap: &str, records: usize) -> Scenario {
        Scenario {
            label: label.to_owned(),
            bootstrap: bootstrap.to_owned(),
            topics: TOPICS
                .iter()
                .map(|(t, p, _)| ((*t).to_owned(), *p))
                .collect(),
            weights: TOPICS.iter().map(|(_, _, w)| *w).collect(),
            records,
            threads: 4,
            seed: 0x6b61_666b_6165_3265,
            ack_timestamp: AckTimestamp::CreateTime,
            tolerate_duplicates: false,
        }
    }

    /// Every thread's records, in send order: `plan()[t][seq]`.
    pub fn plan(&self) -> Vec<Vec<Spec>> {
        (0..self.threads)
            .map(|thread| {
                let count =
                    self.records / self.threads + usize::from(thread < self.records % self.threads);
                let mut rng = Rng::new(self.seed ^ (thread as u64).wrapping_mul(0x1000_0001));
                (0..count)
                    .map(|seq| self.spec(&mut rng, thread, seq))
                    .collect()
            })
            .collect()
    }

    fn spec(&self, rng: &mut Rng, thread: usize, seq: usize) -> Spec {
        let mut pick = rng.below(self.weights.iter().sum());
        let topic = self
            .weights
            .iter()
            .position(|&w| {
                let here = pick < w;
                pick = pick.saturating_sub(w);
                here
            })
            .unwrap_or(0);
        let partitions = self.topics[topic].1;
        let key = match rng.below(10) {
            0..=1 => None,
            2 => Some(Vec::new()),
            // Few distinct keys, so keyed records share partitions and
            // batches; some long ones.
            3 => Some(rng.blob(1, 300)),
            _ => Some(format!("key-{}", rng.below(500)).into_bytes()),
        };
        let value = match rng.below(100) {
            0..=4 => None,
            5..=9 => Some(Vec::new()),
            10 => Some(rng.blob(1024, 7 * 1024)),
            _ => Some(rng.blob(1, 200)),
        };
        let mut headers = vec![(
            ID_HEADER.to_owned(),
            Some(format!("{thread}:{seq}").into_bytes()),
        )];
        match rng.below(6) {
            0..=2 => {}
            3 => headers.push(("trace".to_owned(), Some(rng.bytes(16)))),
            4 => {
                // Repeated keys (kept in order), a null and an empty value.
                headers.push(("dup".to_owned(), Some(b"first".to_vec())));
                headers.push(("null".to_owned(), None));
                headers.push(("empty".to_owned(), Some(Vec::new())));
                headers.push(("dup".to_owned(), Some(b"second".to_vec())));
            }
            _ => {
                for h in 0..1 + rng.below(8) {
                    let value = (!rng.percent(20)).then(|| rng.blob(0, 64));
                    headers.push((format!("h{h}-\u{e9}"), value));
                }
            }
        }
        Spec {
            thread,
            seq,
            topic,
            partition: rng
                .percent(15)
                .then(|| rng.below(partitions as usize) as i32),
            key,
            value,
            headers,
            timestamp: match rng.below(10) {
                0 => Some(1_000_000_000_000 + rng.below(1 << 30) as i64),
                1 => Some(4_000_000_000_000 + rng.below(1 << 30) as i64),
                2 => Some(0),
                _ => None,
            },
            mode: match rng.below(100) {
                // send().get() waits for linger.ms and a round trip per
                // record: a few per cent only.
                0..=2 => Mode::Sync,
                3..=50 => Mode::Callback,
                _ => Mode::FireAndForget,
            },
        }
    }

    /// A producer config for this scenario's bootstrap servers.
    pub fn config(&self) -> ProducerConfigBuilder {
        ProducerConfig::builder(&self.bootstrap)
            .max_block_ms(60_000)
            .client_id(&format!("e2e-{}", self.label))
    }

    /// [`Scenario::config`] with short backoffs and small batches, for the
    /// fault scenarios: a broker that is back is found quickly.
    pub fn fault_config(&self) -> ProducerConfigBuilder {
        self.config()
            .retry_backoff_ms(10)
            .reconnect_backoff_ms(10)
            .reconnect_backoff_max_ms(100)
            .batch_size(2048)
            .linger_ms(20)
    }

    /// Sends the plan through one producer built from `config`, shared by
    /// [`Scenario::threads`] threads, and closes it.
    pub fn send(&self, config: ProducerConfigBuilder) -> Sent {
        let plan = self.plan();
        let producer = Arc::new(
            KafkaProducer::<Vec<u8>, Vec<u8>>::new(
                config.build().expect("a valid producer config"),
                BytesSerializer,
                BytesSerializer,
            )
            .unwrap_or_else(|e| panic!("{}: producer: {e}", self.label)),
        );
        let clock = SystemClock;
        let started = clock.now();
        let before = clock.wall_clock_ms();
        let acks: Vec<Vec<Ack>> = thread::scope(|s| {
            let handles: Vec<_> = plan
                .iter()
                .map(|specs| {
                    let producer = Arc::clone(&producer);
                    s.spawn(move || self.send_thread(&producer, specs))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a sending thread panicked"))
                .collect()
        });
        let sent_in = clock.now() - started;
        Arc::into_inner(producer)
            .expect("the threads are done with the producer")
            .close_timeout(Duration::from_secs(30))
            .unwrap_or_else(|e| panic!("{}: close: {e}", self.label));
        let after = clock.wall_clock_ms();
        Sent {
            plan,
            acks,
            stamped: (before, after),
            sent_in,
        }
    }

    /// One thread's sends, in order; the acknowledgement of each record.
    fn send_thread(&self, producer: &KafkaProducer<Vec<u8>, Vec<u8>>, specs: &[Spec]) -> Vec<Ack> {
        let acks: Arc<Mutex<Vec<Ack>>> = Arc::new(Mutex::new(vec![Ack::Missing; specs.len()]));
        let mut futures = Vec::new();
        for spec in specs {
            let (topic, _) = &self.topics[spec.topic];
            let mut record = ProducerRecord::new(topic.clone(), Vec::new())
                .with_key_opt(spec.key.clone())
                .with_value_opt(spec.value.clone());
            for (k, v) in &spec.headers {
                record = match v {
                    Some(v) => record.with_header(k.clone(), v.clone()),
                    None => record.with_null_header(k.clone()),
                };
            }
            if let Some(p) = spec.partition {
                record = record.with_partition(p);
            }
            if let Some(ts) = spec.timestamp {
                record = record.with_timestamp(ts);
            }
            let seq = spec.seq;
            let sent = match spec.mode {
                Mode::Sync => producer
                    .send(record)
                    .and_then(|f| f.get())
                    .map(|md| acks.lock()[seq] = Ack::from(Ok(md))),
                Mode::Callback => {
                    let acks = Arc::clone(&acks);
                    producer
                        .send_with_callback(record, move |r| acks.lock()[seq] = Ack::from(r))
                        .map(drop)
                }
                Mode::FireAndForget => producer.send(record).map(|f| futures.push((seq, f))),
            };
            if let Err(e) = sent {
                acks.lock()[seq] = Ack::Failed(format!("send: {e}"));
            }
        }
        if let Err(e) = producer.flush() {
            panic!("{}: flush on thread {}: {e}", self.label, specs[0].thread);
        }
        let mut acks = acks.lock();
        for (seq, future) in futures {
            acks[seq] = if future.is_done() {
                Ack::from(future.get())
            } else {
                Ack::Failed("not done after flush".to_owned())
            };
        }
        std::mem::take(&mut *acks)
    }
}

/// What the producer said about one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ack {
    /// No answer (a callback that never ran).
    Missing,
    /// Acknowledged at this partition and offset, with this timestamp.
    Acked {
        /// The partition.
        partition: i32,
        /// The offset.
        offset: i64,
        /// `RecordMetadata::timestamp`.
        timestamp: i64,
    },
    /// Failed with this error.
    Failed(String),
}

impl From<Result<RecordMetadata, Error>> for Ack {
    fn from(r: Result<RecordMetadata, Error>) -> Ack {
        match r {
            Ok(md) if md.has_offset() => Ack::Acked {
                partition: md.partition(),
                offset: md.offset(),
                timestamp: md.timestamp(),
            },
            Ok(md) => Ack::Failed(format!("acknowledged without an offset: {md:?}")),
            Err(e) => Ack::Failed(e.to_string()),
        }
    }
}

/// The outcome of [`Scenario::send`].
#[derive(Debug)]
pub struct Sent {
    /// What was sent: `plan[thread][seq]`.
    pub plan: Vec<Vec<Spec>>,
    /// The acknowledgements: `acks[thread][seq]`.
    pub acks: Vec<Vec<Ack>>,
    /// Wall-clock ms before the first send and after close: the range of
    /// the create times the producer stamped.
    pub stamped: (i64, i64),
    /// From the first send to the last thread's flush.
    pub sent_in: Duration,
}

impl Sent {
    /// Records sent to each topic index.
    pub fn count_per_topic(&self, topics: usize) -> Vec<usize> {
        let mut counts = vec![0; topics];
        for spec in self.plan.iter().flatten() {
            counts[spec.topic] += 1;
        }
        counts
    }

    /// Records per mode.
    pub fn count_per_mode(&self) -> BTreeMap<Mode, usize> {
        let mut counts = BTreeMap::new();
        for spec in self.plan.iter().flatten() {
            *counts.entry(spec.mode).or_default() += 1;
        }
        counts
    }
}

impl Scenario {
    /// Sends, reads back with `read(topic, partitions, expected_count)` and
    /// panics with the first problems if anything differs.
    pub fn run(
        &self,
        config: ProducerConfigBuilder,
        read: impl Fn(&str, i32, usize) -> Vec<ConsumedRecord>,
    ) -> Sent {
        self.run_during(config, || {}, read)
    }

    /// [`Scenario::run`], with `during` run on this thread while the
    /// records are being sent (fault injection: the broker handle may not
    /// be `Send`). The checks do not depend on when its faults land.
    pub fn run_during(
        &self,
        config: ProducerConfigBuilder,
        during: impl FnOnce(),
        read: impl Fn(&str, i32, usize) -> Vec<ConsumedRecord>,
    ) -> Sent {
        let sent = thread::scope(|s| {
            let sending = s.spawn(|| self.send(config));
            during();
            sending.join().expect("the sending threads panicked")
        });
        let clock = SystemClock;
        let started: Instant = clock.now();
        let counts = sent.count_per_topic(self.topics.len());
        let read: Vec<Vec<ConsumedRecord>> = self
            .topics
            .iter()
            .zip(&counts)
            .map(|((name, partitions), &count)| read(name, *partitions, count))
            .collect();
        let read_in = clock.now() - started;
        println!(
            "{}: {} records ({:?}) from {} threads to {:?}: sent in {:?}, read back in {:?}",
            self.label,
            self.records,
            sent.count_per_mode(),
            self.threads,
            self.topics,
            sent.sent_in,
            read_in
        );
        let problems = self.check(&sent, &read);
        assert!(
            problems.is_empty(),
            "{}: {} problems, the first ones:\n{}",
            self.label,
            problems.len(),
            problems[..problems.len().min(20)].join("\n")
        );
        sent
    }
}

/// A logger to stderr for the producer's `log` records, at the level in
/// `KAFKA_PRODUCER_E2E_LOG` (`debug`, `trace`, ...); off when unset. For
/// debugging a failing scenario: the tests pass or fail the same with it.
pub fn init_log() {
    struct Stderr;
    impl log::Log for Stderr {
        fn enabled(&self, _: &log::Metadata<'_>) -> bool {
            true
        }
        fn log(&self, record: &log::Record<'_>) {
            let clock = SystemClock;
            eprintln!(
                "{} {:5} [{}] {}: {}",
                clock.wall_clock_ms(),
                record.level(),
                thread::current().name().unwrap_or("?"),
                record.target(),
                record.args()
            );
        }
        fn flush(&self) {}
    }
    let Ok(level) = std::env::var("KAFKA_PRODUCER_E2E_LOG") else {
        return;
    };
    let level = level.parse().unwrap_or(log::LevelFilter::Debug);
    if log::set_logger(&Stderr).is_ok() {
        log::set_max_level(level);
    }
}
