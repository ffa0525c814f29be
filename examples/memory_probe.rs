//! A driver for measuring the producer's peak memory against
//! `buffer.memory` (see docs/performance.md, "Memory"): caller threads
//! send records with callbacks (each capturing what the perf tool's does)
//! to an embedded 3-broker cluster in sink mode, whose produce responses
//! can be held back so that the buffer pool fills. Run it under
//! `/usr/bin/time -v` and read "Maximum resident set size".
//!
//! ```sh
//! cargo build --release --example memory_probe
//! /usr/bin/time -v target/release/examples/memory_probe records=2000000 size=100 \
//!     memory=32 partitions=1 threads=1 keyed=0 delay_ms=50
//! ```
//!
//! Arguments, all `name=value`: `records` in all (default 2,000,000),
//! `size` of each value in bytes (100), `memory` = `buffer.memory` in MiB
//! (32), `partitions` of the topic (1), caller `threads` (1), `keyed`
//! (0: no key; 1: a 10-byte key out of 10,000), `delay_ms` by which every
//! produce response is held back (0), `callback` (1: with a callback; 0:
//! none). Other settings are the producer's defaults.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use kafka_producer::mock::MockCluster;
use kafka_producer::producer::serialization::BytesSerializer;
use kafka_producer::protocol::ApiKey;
use kafka_producer::util::clock::{Clock, SystemClock};
use kafka_producer::{KafkaProducer, ProducerConfig, ProducerRecord};

const TOPIC: &str = "probe";

fn arg(name: &str, default: u64) -> u64 {
    std::env::args()
        .skip(1)
        .find_map(|a| {
            a.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix('='))
                .map(|v| v.parse().unwrap_or_else(|_| panic!("bad {a}")))
        })
        .unwrap_or(default)
}

fn main() {
    let records = arg("records", 2_000_000);
    let size = arg("size", 100) as usize;
    let memory = arg("memory", 32) << 20;
    let partitions = arg("partitions", 1) as i32;
    let threads = arg("threads", 1).max(1);
    let keyed = arg("keyed", 0) == 1;
    let delay = Duration::from_millis(arg("delay_ms", 0));
    let with_callback = arg("callback", 1) == 1;

    let cluster = MockCluster::builder()
        .brokers(3)
        .start()
        .unwrap_or_else(|e| panic!("mock cluster: {e}"));
    cluster
        .create_topic(TOPIC, partitions)
        .unwrap_or_else(|e| panic!("create topic: {e}"));
    cluster.set_sink_mode(true);
    if !delay.is_zero() {
        cluster.delay_responses(None, Some(ApiKey::PRODUCE), delay);
    }
    let config = ProducerConfig::builder(&cluster.bootstrap_servers())
        .buffer_memory(memory)
        .build()
        .unwrap_or_else(|e| panic!("config: {e}"));
    let producer = Arc::new(
        KafkaProducer::<Vec<u8>, Vec<u8>>::new(config, BytesSerializer, BytesSerializer)
            .unwrap_or_else(|e| panic!("producer: {e}")),
    );
    let acked = Arc::new(AtomicU64::new(0));
    let clock = Arc::new(SystemClock);
    let start = clock.now();
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (producer, acked, clock) = (producer.clone(), acked.clone(), clock.clone());
            thread::spawn(move || {
                let mine = records / threads + u64::from(t < records % threads);
                for i in 0..mine {
                    // A fresh value per record, as the perf tool makes.
                    let mut record = ProducerRecord::new(TOPIC, vec![b'a' + (i % 26) as u8; size]);
                    if keyed {
                        record = record.with_key(format!("key-{:06}", i % 10_000).into_bytes());
                    }
                    let sent = if with_callback {
                        let (acked, clock) = (acked.clone(), clock.clone());
                        let send_start = clock.now();
                        producer.send_with_callback(record, move |r| {
                            if r.is_ok() {
                                let _latency = clock.now() - send_start;
                                acked.fetch_add(1, Ordering::Relaxed);
                            }
                        })
                    } else {
                        producer.send(record)
                    };
                    drop(sent.unwrap_or_else(|e| panic!("send: {e}")));
                }
            })
        })
        .collect();
    for w in workers {
        w.join()
            .unwrap_or_else(|_| panic!("a caller thread panicked"));
    }
    producer.flush().unwrap_or_else(|e| panic!("flush: {e}"));
    let elapsed = clock.now() - start;
    producer.close().unwrap_or_else(|e| panic!("close: {e}"));
    println!(
        "{records} records of {size} bytes, {threads} thread(s), {partitions} partition(s), \
         buffer.memory {} MiB: {:.0} records/s, {} callbacks ok",
        memory >> 20,
        records as f64 / elapsed.as_secs_f64(),
        acked.load(Ordering::Relaxed)
    );
}
