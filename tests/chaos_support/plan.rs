//! What one seed runs: the cluster layout, the producer settings, the
//! records each thread sends, and the fault schedule, all drawn from the
//! seed by [`Plan::generate`]. Nothing here touches a socket: a plan can be
//! printed (a failing seed shows it) and regenerated from its seed.

use std::fmt;
use std::time::Duration;

use kafka_producer::mock::{Corruption, Disconnect};
use kafka_producer::protocol::{ApiKey, ErrorCode};

use super::rng::Rng;

/// Brokers in every chaos cluster (ids 1 to 3).
pub const BROKERS: i32 = 3;

/// `request.timeout.ms`: small, so that held answers time out for real.
pub const REQUEST_TIMEOUT_MS: u64 = 600;

/// `request.timeout.ms` of plans with non-retriable errors (see
/// [`Plan::fatal_errors`]): long, so that no request times out there.
pub const CALM_REQUEST_TIMEOUT_MS: u64 = 5_000;

/// `delivery.timeout.ms`: long enough that no fault of a schedule (each
/// lasts at most a couple of request timeouts, and they are spread out)
/// can make a healthy producer give up on a record. A batch failed by the
/// delivery timeout while a write of it may have reached the log is
/// ambiguous by design (Java's `TimeoutException`); keeping every fault far
/// shorter than this keeps the test's "failed => absent" check honest.
pub const DELIVERY_TIMEOUT_MS: u64 = 10_000;

/// Percent of plans with non-retriable errors.
const FATAL_PLANS_PERCENT: u64 = 8;

/// `max.block.ms`: how long `send` may wait for metadata or memory (every
/// broker can be down for a while).
pub const MAX_BLOCK_MS: u64 = 10_000;

/// The record counts' default for `cargo test` (200 seeds) and for runs
/// on demand (`KAFKA_PRODUCER_CHAOS_SEEDS` / `KAFKA_PRODUCER_CHAOS_SEED`).
pub const CI_RECORDS: usize = 1_500;
pub const ON_DEMAND_RECORDS: usize = 20_000;

/// A topic of the run.
#[derive(Debug, Clone)]
pub struct TopicSpec {
    pub name: String,
    pub partitions: i32,
}

/// How the sending threads share producers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// One `KafkaProducer` shared by every thread.
    Shared,
    /// One `KafkaProducer` per thread.
    PerThread,
}

/// One record a thread sends: everything needed to rebuild its bytes.
#[derive(Debug, Clone, Copy)]
pub struct RecordSpec {
    /// Index into [`Plan::topics`].
    pub topic: u8,
    /// The key's number (`key-<n>`), or none for a warm-up record.
    pub key: Option<u16>,
    /// An explicit partition (warm-up records only).
    pub partition: Option<i32>,
    /// Bytes of filler after the id in the value.
    pub filler: u8,
}

/// A fault the chaos thread applies to the cluster.
#[derive(Debug, Clone)]
pub enum Fault {
    /// `push_partition_errors` with retriable codes.
    PartitionErrors {
        topic: String,
        partition: i32,
        codes: Vec<ErrorCode>,
    },
    /// `push_partition_errors` with one code the producer must not retry:
    /// that batch fails (and is not in the log).
    FatalPartitionError {
        topic: String,
        partition: i32,
        code: ErrorCode,
    },
    /// `push_request_errors` (retriable codes).
    RequestErrors { api: ApiKey, codes: Vec<ErrorCode> },
    /// `delay_responses` for a while, then removed. Long delays hold
    /// answers past `request.timeout.ms`.
    Delay {
        broker: Option<i32>,
        api: Option<ApiKey>,
        delay: Duration,
        for_: Duration,
    },
    /// `drop_connection_after`.
    Drop {
        broker: Option<i32>,
        api: Option<ApiKey>,
        n: u32,
        how: Disconnect,
    },
    /// `corrupt_next_response`.
    Corrupt {
        broker: Option<i32>,
        api: Option<ApiKey>,
        how: Corruption,
    },
    /// `broker_down`, then `broker_up` after a while.
    BrokerDown { broker: i32, for_: Duration },
    /// `set_partition_leader` (to the next live broker if that one is
    /// down when the step fires).
    MoveLeader {
        topic: String,
        partition: i32,
        to: i32,
    },
}

/// A fault and when it fires: once `after_acked` records have been
/// acknowledged, or at the latest [`Plan::max_gap`] after the previous
/// step (so that a stalled producer still meets every fault).
#[derive(Debug, Clone)]
pub struct Step {
    pub after_acked: u64,
    pub fault: Fault,
}

/// Everything one seed does.
#[derive(Debug, Clone)]
pub struct Plan {
    pub seed: u64,
    pub variant: Variant,
    pub topics: Vec<TopicSpec>,
    /// The first leader of each partition, per topic.
    pub leaders: Vec<Vec<i32>>,
    /// Producer settings as Java keys and values (on top of the fixed ones:
    /// idempotence on by default, `request.timeout.ms`, ...).
    pub settings: Vec<(&'static str, String)>,
    /// Records per sending thread.
    pub threads: Vec<Vec<RecordSpec>>,
    /// Sleep 1 ms after every that many records (0: never), per thread,
    /// so that sending spreads over a while and faults meet traffic.
    pub pace_every: u64,
    /// Whether the schedule has non-retriable errors. Such a plan has no
    /// fault that can lose the answer to a handled produce request, and a
    /// long request timeout: a non-retriable answer to the resend of a
    /// batch whose first write landed (Kafka validates a batch before it
    /// looks for duplicates; so does the mock) leaves the record failed yet
    /// in the log, and no producer can tell. Every fault that closes a
    /// connection can lose answers (those of the requests pipelined before
    /// the one that closes it, even one dropped before handling, and the
    /// connection may be one a metadata request shares with produce
    /// requests), so such a plan has no dropped connections, corrupt
    /// answers, brokers down or answers held past the request timeout,
    /// only errors, short delays and leadership moves. Such plans check
    /// that a failure is reported and leaves nothing behind.
    pub fatal_errors: bool,
    /// `request.timeout.ms`.
    pub request_timeout_ms: u64,
    /// Faults set before the producers start (metadata, producer ids).
    pub at_start: Vec<Fault>,
    pub steps: Vec<Step>,
    pub max_gap: Duration,
}

impl Plan {
    /// The plan of `seed`, with about `records` records in all.
    pub fn generate(seed: u64, records: usize) -> Plan {
        let mut rng = Rng::derive(seed, 0);
        let variant = if rng.chance(50) {
            Variant::Shared
        } else {
            Variant::PerThread
        };
        let topic_count = rng.range(1, 3) as usize;
        let topics: Vec<TopicSpec> = (0..topic_count)
            .map(|i| TopicSpec {
                name: format!("chaos-{}", (b'a' + i as u8) as char),
                partitions: rng.range(1, 6) as i32,
            })
            .collect();
        let leaders = topics
            .iter()
            .map(|t| {
                (0..t.partitions)
                    .map(|_| rng.range(1, BROKERS as u64) as i32)
                    .collect()
            })
            .collect();

        let mut settings: Vec<(&'static str, String)> = vec![
            (
                "batch.size",
                rng.pick(&[200u64, 200, 512, 1024, 4096, 16384]).to_string(),
            ),
            ("linger.ms", rng.pick(&[0u64, 0, 1, 5]).to_string()),
            (
                "max.in.flight.requests.per.connection",
                rng.pick(&[1u64, 2, 5, 5, 5]).to_string(),
            ),
            ("retry.backoff.ms", rng.range(2, 20).to_string()),
            ("retry.backoff.max.ms", "200".to_owned()),
            ("reconnect.backoff.ms", rng.range(2, 20).to_string()),
            ("reconnect.backoff.max.ms", "200".to_owned()),
        ];
        if rng.chance(25) {
            settings.push(("buffer.memory", (256u64 << 10).to_string()));
        }
        if rng.chance(15) {
            settings.push(("compression.type", "gzip".to_owned()));
        }

        let thread_count = rng.range(2, 4) as usize;
        let keys = rng.pick(&[16u64, 200, 5_000]);
        let per_thread = records.div_ceil(thread_count);
        let threads = (0..thread_count)
            .map(|t| {
                let mut r = Rng::derive(seed, 100 + t as u64);
                (0..per_thread)
                    .map(|_| RecordSpec {
                        topic: r.below(topic_count as u64) as u8,
                        key: Some(r.below(keys) as u16),
                        partition: None,
                        filler: r.below(48) as u8,
                    })
                    .collect()
            })
            .collect();
        let pace_every = if rng.chance(70) {
            (per_thread as u64 / rng.range(100, 800)).max(1)
        } else {
            0
        };
        let fatal_errors = rng.chance(FATAL_PLANS_PERCENT);
        let request_timeout_ms = if fatal_errors {
            CALM_REQUEST_TIMEOUT_MS
        } else {
            REQUEST_TIMEOUT_MS
        };

        let mut faults = FaultDraw {
            rng: Rng::derive(seed, 1),
            topics: &topics,
            fatal_errors,
        };
        let at_start = (0..faults.rng.range(0, 3))
            .map(|_| faults.startup_fault())
            .collect();
        let step_count = faults.rng.range(4, 12) + (records as u64 / 2_500).min(40);
        let horizon = (records as u64 * 9 / 10).max(1);
        let mut steps: Vec<Step> = (0..step_count)
            .map(|_| Step {
                after_acked: faults.rng.below(horizon),
                fault: faults.fault(),
            })
            .collect();
        steps.sort_by_key(|s| s.after_acked);
        Plan {
            seed,
            variant,
            topics,
            leaders,
            settings,
            threads,
            pace_every,
            fatal_errors,
            request_timeout_ms,
            at_start,
            steps,
            max_gap: Duration::from_millis(250),
        }
    }

    /// Records the sending threads send (warm-up records not counted).
    pub fn records(&self) -> usize {
        self.threads.iter().map(Vec::len).sum()
    }
}

/// Draws faults for one plan.
struct FaultDraw<'a> {
    rng: Rng,
    topics: &'a [TopicSpec],
    /// See [`Plan::fatal_errors`].
    fatal_errors: bool,
}

const RETRIABLE_PRODUCE_ERRORS: &[ErrorCode] = &[
    ErrorCode::NOT_ENOUGH_REPLICAS,
    ErrorCode::NOT_ENOUGH_REPLICAS_AFTER_APPEND,
    ErrorCode::REQUEST_TIMED_OUT,
    ErrorCode::NOT_LEADER_OR_FOLLOWER,
    ErrorCode::LEADER_NOT_AVAILABLE,
    ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
    ErrorCode::KAFKA_STORAGE_ERROR,
    ErrorCode::NETWORK_EXCEPTION,
    ErrorCode::CORRUPT_MESSAGE,
];

const FATAL_PRODUCE_ERRORS: &[ErrorCode] = &[
    ErrorCode::INVALID_RECORD,
    ErrorCode::INVALID_TIMESTAMP,
    ErrorCode::TOPIC_AUTHORIZATION_FAILED,
];

const RETRIABLE_PRODUCER_ID_ERRORS: &[ErrorCode] = &[
    ErrorCode::COORDINATOR_NOT_AVAILABLE,
    ErrorCode::NOT_COORDINATOR,
    ErrorCode::COORDINATOR_LOAD_IN_PROGRESS,
];

const HOW: &[Disconnect] = &[
    Disconnect::BeforeHandling,
    Disconnect::AfterHandling,
    Disconnect::MidFrame,
];

const CORRUPTIONS: &[Corruption] = &[Corruption::Garbage, Corruption::WrongCorrelationId];

impl FaultDraw<'_> {
    fn partition(&mut self) -> (String, i32) {
        let t = &self.topics[self.rng.below(self.topics.len() as u64) as usize];
        (t.name.clone(), self.rng.below(t.partitions as u64) as i32)
    }

    fn broker(&mut self) -> i32 {
        self.rng.range(1, BROKERS as u64) as i32
    }

    fn maybe_broker(&mut self) -> Option<i32> {
        if self.rng.chance(30) {
            None
        } else {
            Some(self.broker())
        }
    }

    fn codes(&mut self, from: &[ErrorCode], max: u64) -> Vec<ErrorCode> {
        (0..self.rng.range(1, max))
            .map(|_| self.rng.pick(from))
            .collect()
    }

    /// A fault on the producer's first requests: metadata and producer id.
    fn startup_fault(&mut self) -> Fault {
        let api = self.rng.pick(&[ApiKey::METADATA, ApiKey::INIT_PRODUCER_ID]);
        match self.rng.below(3) {
            0 => Fault::Drop {
                broker: None,
                api: Some(api),
                n: self.rng.range(1, 3) as u32,
                how: self.rng.pick(HOW),
            },
            1 => Fault::Corrupt {
                broker: None,
                api: Some(api),
                how: self.rng.pick(CORRUPTIONS),
            },
            _ => Fault::RequestErrors {
                api: ApiKey::INIT_PRODUCER_ID,
                codes: self.codes(RETRIABLE_PRODUCER_ID_ERRORS, 3),
            },
        }
    }

    /// Any fault, weighted.
    fn fault(&mut self) -> Fault {
        let api_weights = [60, 20, 15, 5];
        let apis = [
            Some(ApiKey::PRODUCE),
            Some(ApiKey::METADATA),
            None,
            Some(ApiKey::INIT_PRODUCER_ID),
        ];
        // Kinds: retriable partition errors, non-retriable partition
        // error, request errors, short delays, answers held past the
        // request timeout, dropped connections, corrupt answers, broker
        // down, leadership moves.
        let weights = if self.fatal_errors {
            [14, 8, 8, 8, 0, 0, 0, 0, 8]
        } else {
            [14, 0, 8, 8, 6, 14, 8, 6, 8]
        };
        match self.rng.weighted(&weights) {
            0 => {
                let (topic, partition) = self.partition();
                Fault::PartitionErrors {
                    topic,
                    partition,
                    codes: self.codes(RETRIABLE_PRODUCE_ERRORS, 4),
                }
            }
            1 => {
                let (topic, partition) = self.partition();
                Fault::FatalPartitionError {
                    topic,
                    partition,
                    code: self.rng.pick(FATAL_PRODUCE_ERRORS),
                }
            }
            2 => Fault::RequestErrors {
                api: ApiKey::PRODUCE,
                codes: self.codes(RETRIABLE_PRODUCE_ERRORS, 3),
            },
            3 => Fault::Delay {
                broker: self.maybe_broker(),
                api: self.rng.pick(&[None, Some(ApiKey::PRODUCE)]),
                delay: Duration::from_millis(self.rng.range(1, 40)),
                for_: Duration::from_millis(self.rng.range(100, 800)),
            },
            4 => Fault::Delay {
                // Held past the request timeout: the producer gives up on
                // the answer, reconnects and resends.
                broker: Some(self.broker()),
                api: self.rng.pick(&[None, Some(ApiKey::PRODUCE)]),
                delay: Duration::from_millis(REQUEST_TIMEOUT_MS * 3 / 2),
                for_: Duration::from_millis(self.rng.range(20, 300)),
            },
            5 => Fault::Drop {
                broker: self.maybe_broker(),
                api: apis[self.rng.weighted(&api_weights)],
                n: self.rng.range(1, 8) as u32,
                how: self.rng.pick(HOW),
            },
            6 => Fault::Corrupt {
                broker: self.maybe_broker(),
                api: apis[self.rng.weighted(&api_weights)],
                how: self.rng.pick(CORRUPTIONS),
            },
            7 => Fault::BrokerDown {
                broker: self.broker(),
                for_: Duration::from_millis(self.rng.range(30, 600)),
            },
            _ => {
                let (topic, partition) = self.partition();
                Fault::MoveLeader {
                    topic,
                    partition,
                    to: self.broker(),
                }
            }
        }
    }
}

fn opt<T: fmt::Display>(v: Option<T>, any: &str) -> String {
    v.map_or_else(|| any.to_owned(), |v| v.to_string())
}

fn names(codes: &[ErrorCode]) -> String {
    codes
        .iter()
        .map(|c| c.name())
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::PartitionErrors {
                topic,
                partition,
                codes,
            } => write!(f, "partition errors {topic}-{partition} [{}]", names(codes)),
            Fault::FatalPartitionError {
                topic,
                partition,
                code,
            } => write!(
                f,
                "non-retriable partition error {topic}-{partition} {}",
                code.name()
            ),
            Fault::RequestErrors { api, codes } => {
                write!(f, "request errors {api} [{}]", names(codes))
            }
            Fault::Delay {
                broker,
                api,
                delay,
                for_,
            } => write!(
                f,
                "delay {} ms on broker {} api {} for {} ms",
                delay.as_millis(),
                opt(*broker, "any"),
                opt(*api, "any"),
                for_.as_millis()
            ),
            Fault::Drop {
                broker,
                api,
                n,
                how,
            } => write!(
                f,
                "drop connection {how:?} at request {n} of api {} on broker {}",
                opt(*api, "any"),
                opt(*broker, "any")
            ),
            Fault::Corrupt { broker, api, how } => write!(
                f,
                "corrupt ({how:?}) next response of api {} on broker {}",
                opt(*api, "any"),
                opt(*broker, "any")
            ),
            Fault::BrokerDown { broker, for_ } => {
                write!(f, "broker {broker} down for {} ms", for_.as_millis())
            }
            Fault::MoveLeader {
                topic,
                partition,
                to,
            } => write!(f, "move leader of {topic}-{partition} to broker {to}"),
        }
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "  {:?}, {} threads, {} records, pace {}, request.timeout.ms={}{}",
            self.variant,
            self.threads.len(),
            self.records(),
            if self.pace_every == 0 {
                "none".to_owned()
            } else {
                format!("1 ms every {} records", self.pace_every)
            },
            self.request_timeout_ms,
            if self.fatal_errors {
                ", non-retriable errors (no lost answers)"
            } else {
                ""
            }
        )?;
        for (t, leaders) in self.topics.iter().zip(&self.leaders) {
            writeln!(f, "  topic {} leaders {leaders:?}", t.name)?;
        }
        let settings: Vec<String> = self
            .settings
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        writeln!(f, "  settings {}", settings.join(" "))?;
        for fault in &self.at_start {
            writeln!(f, "  at start: {fault}")?;
        }
        for step in &self.steps {
            writeln!(f, "  after {} acks: {}", step.after_acked, step.fault)?;
        }
        Ok(())
    }
}
