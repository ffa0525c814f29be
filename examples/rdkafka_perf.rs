//! The peer for `kafka-producer-perf-test`: the same workload through
//! librdkafka (rust-rdkafka's `BaseProducer`, the `rdkafka` dev-dependency),
//! so both can be run one after the other against the same broker.
//!
//! ```text
//! cargo run --release --example rdkafka_perf -- --bootstrap-server HOST:PORT \
//!     --topic demo --num-records 1000000 --record-size 100 [--producer-props k=v ...]
//! ```
//!
//! Records are keyless, `record-size` bytes of uppercase letters, sent as
//! fast as librdkafka accepts them (a full queue is waited out with
//! `poll`), with Java's producer defaults that matter for throughput set
//! explicitly (`acks=all`, `enable.idempotence=true`, `linger.ms=5`,
//! `batch.size=16384`); `--producer-props` overrides them. The last line
//! has the perf tool's format (latency is send-to-delivery-report).

use std::time::{Duration, Instant};

use kafka_producer::util::clock::{Clock, SystemClock};

use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::ClientContext;

struct Ctx {
    latencies_us: parking_lot::Mutex<Vec<u32>>,
    failed: std::sync::atomic::AtomicU64,
}

impl ClientContext for Ctx {}

impl ProducerContext for Ctx {
    type DeliveryOpaque = Box<Instant>;

    fn delivery(&self, result: &DeliveryResult<'_>, sent: Self::DeliveryOpaque) {
        if result.is_err() {
            self.failed
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        let us = sent.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
        self.latencies_us.lock().push(us);
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut bootstrap = String::new();
    let mut topic = String::from("demo");
    let mut num: u64 = 1_000_000;
    let mut size: usize = 100;
    let mut props: Vec<(String, String)> = Vec::new();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--bootstrap-server" => bootstrap = args.next().expect("value"),
            "--topic" => topic = args.next().expect("value"),
            "--num-records" => num = args.next().expect("value").parse().expect("number"),
            "--record-size" => size = args.next().expect("value").parse().expect("number"),
            "--producer-props" => {
                for kv in args.by_ref() {
                    let (k, v) = kv.split_once('=').expect("k=v");
                    props.push((k.to_owned(), v.to_owned()));
                }
            }
            other => panic!("unknown argument {other}"),
        }
    }
    assert!(!bootstrap.is_empty(), "--bootstrap-server is required");

    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &bootstrap)
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .set("batch.size", "16384")
        .set("queue.buffering.max.messages", "1000000");
    for (k, v) in &props {
        config.set(k, v);
    }
    let ctx = Ctx {
        latencies_us: parking_lot::Mutex::new(Vec::with_capacity(num as usize)),
        failed: 0.into(),
    };
    let producer: BaseProducer<Ctx> = config.create_with_context(ctx).expect("producer");
    let payload: Vec<u8> = (0..size).map(|i| b'A' + (i % 26) as u8).collect();

    let start = SystemClock.now();
    for _ in 0..num {
        let mut record =
            BaseRecord::with_opaque_to(&topic, Box::new(SystemClock.now())).payload(&payload[..]);
        loop {
            match producer.send::<[u8], [u8]>(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    record = r;
                    producer.poll(Duration::from_millis(1));
                }
                Err((e, _)) => panic!("send failed: {e}"),
            }
        }
        producer.poll(Duration::ZERO);
    }
    producer.flush(Duration::from_secs(120)).expect("flush");
    let elapsed = start.elapsed().as_secs_f64();

    let ctx = producer.context();
    let mut lat = ctx.latencies_us.lock().clone();
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0) as f64
            / 1000.0
    };
    let avg = lat.iter().map(|&u| f64::from(u)).sum::<f64>() / lat.len().max(1) as f64 / 1000.0;
    let rate = num as f64 / elapsed;
    println!(
        "{num} records sent, {rate:.1} records/sec ({:.2} MB/sec), {avg:.2} ms avg latency, {:.2} ms max latency, {:.0} ms 50th, {:.0} ms 95th, {:.0} ms 99th, {:.0} ms 99.9th. (librdkafka {}, failed {})",
        rate * size as f64 / (1024.0 * 1024.0),
        pct(1.0),
        pct(0.5),
        pct(0.95),
        pct(0.99),
        pct(0.999),
        rdkafka::util::get_rdkafka_version().1,
        ctx.failed.load(std::sync::atomic::Ordering::Relaxed),
    );
}
