//! Runs one seed: a 3-broker mock cluster, the plan's producers and
//! sending threads, the chaos thread; then a graceful close and the checks
//! of `check.rs`. Every wait is bounded: a hang becomes a violation that
//! names what did not finish.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use kafka_producer::mock::MockCluster;
use kafka_producer::producer::serialization::BytesSerializer;
use kafka_producer::protocol::ApiKey;
use kafka_producer::util::clock::{Clock, SystemClock};
use kafka_producer::{Error, KafkaProducer, ProducerConfig, ProducerRecord, SendFuture};

use super::chaos_thread;
use super::check::{check, Stats};
use super::plan::{Plan, RecordSpec, Variant, BROKERS, DELIVERY_TIMEOUT_MS, MAX_BLOCK_MS};
use super::records::{id_header, key, value, Lane, Reported, ID_HEADER};

pub type Producer = KafkaProducer<Vec<u8>, Vec<u8>>;

/// How long a warm-up record may take (every fault at start included).
const WARM_UP_BOUND: Duration = Duration::from_secs(60);
/// Past the last send, how long records may stay unresolved beyond
/// `delivery.timeout.ms` (a loaded debug build is slow) before that is a
/// violation.
const RESOLVE_GRACE: Duration = Duration::from_secs(20);
/// How long a graceful close may take once every record is resolved.
const CLOSE_BOUND: Duration = Duration::from_secs(60);

/// What one seed did and found.
#[derive(Debug)]
pub struct SeedReport {
    pub violations: Vec<String>,
    pub stats: Stats,
    /// What the chaos thread did, when.
    pub log: Vec<String>,
    pub elapsed: Duration,
}

/// Completion counts shared by every callback.
#[derive(Debug, Default)]
struct Counters {
    acked: AtomicU64,
    resolved: AtomicU64,
}

fn config(cluster: &MockCluster, plan: &Plan, index: usize) -> ProducerConfig {
    let mut b = ProducerConfig::builder(&cluster.bootstrap_servers())
        .set("client.id", &format!("chaos-{}-{index}", plan.seed))
        .set("request.timeout.ms", &plan.request_timeout_ms.to_string())
        .set("delivery.timeout.ms", &DELIVERY_TIMEOUT_MS.to_string())
        .set("max.block.ms", &MAX_BLOCK_MS.to_string());
    for (k, v) in &plan.settings {
        b = b.set(k, v);
    }
    b.build().expect("a valid chaos configuration")
}

/// Sends record `seq` of lane `lane_id` with a callback that writes into
/// the lane's slot.
fn send_one(
    producer: &Producer,
    plan: &Plan,
    lane_id: u32,
    seq: u64,
    lane: &Arc<Lane>,
    counters: &Arc<Counters>,
) -> Result<SendFuture, Error> {
    let spec: RecordSpec = lane.records[seq as usize];
    let topic: Arc<str> = Arc::from(plan.topics[usize::from(spec.topic)].name.as_str());
    let mut record = ProducerRecord::new(topic.to_string(), value(lane_id, seq, spec.filler))
        .with_header(ID_HEADER, id_header(lane_id, seq).into_bytes());
    if let Some(k) = spec.key {
        record = record.with_key(key(k));
    }
    if let Some(p) = spec.partition {
        record = record.with_partition(p);
    }
    let lane = Arc::clone(lane);
    let counters = Arc::clone(counters);
    producer.send_with_callback(record, move |result| {
        let ok = result.is_ok();
        let mut slots = lane.slots.lock();
        let slot = &mut slots[seq as usize];
        slot.calls += 1;
        if slot.calls > 1 {
            return;
        }
        slot.first = Some(match result {
            Ok(md) => Reported::Acked {
                partition: md.partition(),
                offset: md.offset(),
                topic_ok: md.topic() == &*topic,
            },
            Err(e) => Reported::Failed(e),
        });
        drop(slots);
        if ok {
            counters.acked.fetch_add(1, Ordering::SeqCst);
        }
        counters.resolved.fetch_add(1, Ordering::SeqCst);
    })
}

/// Polls `done` every few milliseconds until it holds or `bound` passes.
fn wait_until(bound: Duration, done: impl Fn() -> bool) -> bool {
    let clock = SystemClock;
    let deadline = clock.now() + bound;
    loop {
        if done() {
            return true;
        }
        if clock.now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs the seed's plan and checks the result.
pub fn run_seed(plan: &Plan) -> SeedReport {
    let clock = SystemClock;
    let start = clock.now();
    let mut violations = Vec::new();
    let cluster = MockCluster::builder()
        .brokers(BROKERS as usize)
        .auto_create_topics(false)
        .start()
        .expect("start the mock cluster");
    for (t, leaders) in plan.topics.iter().zip(&plan.leaders) {
        cluster
            .create_topic(&t.name, t.partitions)
            .expect("create a topic");
        for (p, &leader) in leaders.iter().enumerate() {
            cluster
                .set_partition_leader(&t.name, p as i32, leader)
                .expect("set a leader");
        }
    }
    for fault in &plan.at_start {
        let _ = chaos_thread::apply(&cluster, fault);
    }

    let producer_count = match plan.variant {
        Variant::Shared => 1,
        Variant::PerThread => plan.threads.len(),
    };
    let producers: Vec<Arc<Producer>> = (0..producer_count)
        .map(|i| {
            Arc::new(
                KafkaProducer::new(config(&cluster, plan, i), BytesSerializer, BytesSerializer)
                    .expect("create a producer"),
            )
        })
        .collect();

    // Lanes 0..T: the sending threads; T..T+P: each producer's warm-up, one
    // record per partition, acknowledged before the faults start so that
    // every partition knows the producer (a broker accepts any sequence
    // from a producer it does not know yet on a partition).
    let mut lanes: Vec<Arc<Lane>> = plan
        .threads
        .iter()
        .map(|records| Arc::new(Lane::new(records.clone())))
        .collect();
    let warm_up: Vec<RecordSpec> = plan
        .topics
        .iter()
        .enumerate()
        .flat_map(|(t, spec)| {
            (0..spec.partitions).map(move |p| RecordSpec {
                topic: t as u8,
                key: None,
                partition: Some(p),
                filler: 0,
            })
        })
        .collect();
    for _ in 0..producer_count {
        lanes.push(Arc::new(Lane::new(warm_up.clone())));
    }
    let total: u64 = lanes.iter().map(|l| l.records.len() as u64).sum();
    let counters = Arc::new(Counters::default());
    let mut futures: Vec<Vec<Result<SendFuture, Error>>> =
        (0..lanes.len()).map(|_| Vec::new()).collect();

    for (i, producer) in producers.iter().enumerate() {
        let lane_id = plan.threads.len() + i;
        let lane = &lanes[lane_id];
        for seq in 0..lane.records.len() as u64 {
            let f = send_one(producer, plan, lane_id as u32, seq, lane, &counters);
            futures[lane_id].push(f);
        }
        for f in futures[lane_id].iter().flatten() {
            // Bounded; a record not done in time is reported by the checks.
            let _ = f.get_timeout(WARM_UP_BOUND);
        }
    }

    let stop = AtomicBool::new(false);
    let (log, sent) = std::thread::scope(|s| {
        let chaos = s.spawn(|| chaos_thread::run(&cluster, plan, &counters.acked, &stop));
        let senders: Vec<_> = (0..plan.threads.len())
            .map(|t| {
                let producer = match plan.variant {
                    Variant::Shared => Arc::clone(&producers[0]),
                    Variant::PerThread => Arc::clone(&producers[t]),
                };
                let lane = Arc::clone(&lanes[t]);
                let counters = Arc::clone(&counters);
                s.spawn(move || {
                    let mut fs = Vec::with_capacity(lane.records.len());
                    for seq in 0..lane.records.len() as u64 {
                        fs.push(send_one(&producer, plan, t as u32, seq, &lane, &counters));
                        if plan.pace_every > 0 && (seq + 1) % plan.pace_every == 0 {
                            std::thread::sleep(Duration::from_millis(1));
                        }
                    }
                    fs
                })
            })
            .collect();
        let sent: Vec<_> = senders
            .into_iter()
            .map(|h| h.join().expect("a sending thread panicked"))
            .collect();
        let bound = Duration::from_millis(DELIVERY_TIMEOUT_MS) + RESOLVE_GRACE;
        if !wait_until(bound, || counters.resolved.load(Ordering::SeqCst) == total) {
            violations.push(format!(
                "hang: {} of {total} records still unresolved {} s after the last send returned \
                 (delivery.timeout.ms = {DELIVERY_TIMEOUT_MS})",
                total - counters.resolved.load(Ordering::SeqCst),
                bound.as_secs()
            ));
        }
        stop.store(true, Ordering::SeqCst);
        (chaos.join().expect("the chaos thread panicked"), sent)
    });
    for (t, fs) in sent.into_iter().enumerate() {
        futures[t] = fs;
    }

    // Graceful close of every producer, each on its own thread so that a
    // close that never returns is reported instead of hanging the test.
    let (tx, rx) = mpsc::channel();
    for (i, producer) in producers.iter().enumerate() {
        let producer = Arc::clone(producer);
        let tx = tx.clone();
        std::thread::spawn(move || {
            let result = producer.close();
            let _ = tx.send((i, result));
        });
    }
    drop(tx);
    let deadline = clock.now() + CLOSE_BOUND;
    let mut closed = vec![false; producers.len()];
    while closed.iter().any(|c| !c) {
        let left = deadline.saturating_duration_since(clock.now());
        match rx.recv_timeout(left) {
            Ok((i, result)) => {
                closed[i] = true;
                if let Err(e) = result {
                    violations.push(format!("close of producer {i} failed: {e}"));
                }
            }
            Err(_) => {
                let open: Vec<usize> = (0..closed.len()).filter(|&i| !closed[i]).collect();
                violations.push(format!(
                    "hang: close() of producers {open:?} did not return within {} s",
                    CLOSE_BOUND.as_secs()
                ));
                break;
            }
        }
    }

    let (mut found, stats) = check(plan, &cluster, &lanes, &futures);
    violations.append(&mut found);
    let mut stats = stats;
    stats.produce_requests = cluster.request_count(ApiKey::PRODUCE);
    SeedReport {
        violations,
        stats,
        log,
        elapsed: clock.now().saturating_duration_since(start),
    }
}
