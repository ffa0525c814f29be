//! A small driver for profiling the caller's side of `KafkaProducer::send`
//! (see docs/performance.md, "Profiling `send`"): the `append` bench's
//! workload without criterion, so that `valgrind --tool=callgrind` or
//! `perf` see nothing but the producer.
//!
//! ```sh
//! cargo build --release --example send_cost
//! valgrind --tool=callgrind --toggle-collect='send_cost::one_send' \
//!     target/release/examples/send_cost 200000
//! ```
//!
//! Arguments: records to send (default 200,000), partitions (default 12),
//! `keyed` to give every record a 10-byte key. One caller thread, 100-byte
//! values, `batch.size` 16 KiB, `linger.ms` 60 s, `buffer.memory` 256 MiB,
//! an embedded 3-broker cluster in sink mode; the producer is flushed after
//! every 50,000 records. `one_send` (not inlined) is a single send and the
//! drop of its future: toggle the instruction count on it and divide by
//! the records sent.

use std::hint::black_box;
use std::time::Duration;

use kafka_producer::mock::MockCluster;
use kafka_producer::producer::serialization::BytesSerializer;
use kafka_producer::util::clock::{Clock, SystemClock};
use kafka_producer::{KafkaProducer, ProducerConfig, ProducerRecord};

type Record = ProducerRecord<&'static [u8], &'static [u8]>;
type Producer = KafkaProducer<&'static [u8], &'static [u8]>;

const TOPIC: &str = "bench";
const CHUNK: u64 = 50_000;

#[inline(never)]
fn one_send(producer: &Producer, record: Record) {
    match producer.send(record) {
        Ok(future) => drop(black_box(future)),
        Err(e) => panic!("send failed: {e}"),
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let records: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let partitions: i32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(12);
    let keyed = args.next().is_some_and(|a| a == "keyed");

    let cluster = MockCluster::builder()
        .brokers(3)
        .start()
        .unwrap_or_else(|e| panic!("mock cluster: {e}"));
    cluster
        .create_topic(TOPIC, partitions)
        .unwrap_or_else(|e| panic!("create topic: {e}"));
    cluster.set_sink_mode(true);
    let config = ProducerConfig::builder(&cluster.bootstrap_servers())
        .linger_ms(60_000)
        .batch_size(16 * 1024)
        .buffer_memory(256 << 20)
        .build()
        .unwrap_or_else(|e| panic!("config: {e}"));
    let producer = Producer::new(config, BytesSerializer, BytesSerializer)
        .unwrap_or_else(|e| panic!("producer: {e}"));
    let value: &'static [u8] = Vec::leak(vec![b'x'; 100]);
    let keys: &'static [Vec<u8>] = Vec::leak(
        (0..10_000)
            .map(|i| format!("key-{i:06}").into_bytes())
            .collect(),
    );

    // Metadata, connections and the producer id before anything counts.
    let futures: Vec<_> = (0..partitions)
        .map(|p| {
            producer
                .send(Record::new(TOPIC, value).with_partition(p))
                .unwrap_or_else(|e| panic!("warm-up send: {e}"))
        })
        .collect();
    producer.flush().unwrap_or_else(|e| panic!("flush: {e}"));
    for f in futures {
        f.get().unwrap_or_else(|e| panic!("warm-up: {e}"));
    }

    let clock = SystemClock;
    let mut sent = 0u64;
    let mut busy = Duration::ZERO;
    while sent < records {
        let n = CHUNK.min(records - sent);
        let batch: Vec<Record> = (sent..sent + n)
            .map(|i| {
                let r = Record::new(TOPIC, value);
                if keyed {
                    r.with_key(keys[i as usize % keys.len()].as_slice())
                } else {
                    r
                }
            })
            .collect();
        let start = clock.now();
        for r in batch {
            one_send(&producer, r);
        }
        busy += clock.now() - start;
        producer.flush().unwrap_or_else(|e| panic!("flush: {e}"));
        sent += n;
    }
    producer.close().unwrap_or_else(|e| panic!("close: {e}"));
    println!(
        "{records} sends, {:.0} ns per send (wall)",
        busy.as_nanos() as f64 / records as f64
    );
}
