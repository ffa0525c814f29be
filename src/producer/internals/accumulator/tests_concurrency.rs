//! Concurrency test: caller threads append (keyed, explicit and unkeyed
//! records) while a network-thread stand-in loops ready → drain → complete
//! (success, failure, or one retry), with a small pool so appends block on
//! memory. Checks that every record reaches exactly one batch, every
//! callback and future resolves exactly once with the offset the "broker"
//! gave it, and all pool memory comes back. Nothing depends on timing: the
//! mock clock stands still, linger and backoff are zero.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::tests::{config, Fixture, BATCH};
use super::AccumulatorConfig;
use crate::error::Error;
use crate::producer::future::RecordCallback;
use crate::producer::internals::built_in_partitioner::BuiltInPartitioner;
use crate::producer::internals::producer_batch::ProducerBatch;
use crate::producer::record::RecordMetadata;
use crate::protocol::codec::Reader;
use crate::record::RECORD_BATCH_OVERHEAD;
use crate::util::clock::Clock;

const THREADS: usize = 4;
const PER_THREAD: usize = 1500;
const PARTITIONS: i32 = 4;

/// The values of an uncompressed v2 batch, in order.
fn batch_values(bytes: &[u8]) -> Vec<Vec<u8>> {
    let count = i32::from_be_bytes(bytes[57..61].try_into().unwrap());
    let mut r = Reader::new(&bytes[RECORD_BATCH_OVERHEAD..]);
    (0..count)
        .map(|_| {
            r.varint("length").unwrap();
            r.i8("attributes").unwrap();
            r.varlong("timestamp delta").unwrap();
            r.varint("offset delta").unwrap();
            let key_len = r.varint("key length").unwrap();
            if key_len >= 0 {
                r.take(key_len as usize, "key").unwrap();
            }
            let value_len = r.varint("value length").unwrap();
            let value = r.take(value_len as usize, "value").unwrap().to_vec();
            assert_eq!(r.varint("headers").unwrap(), 0);
            value
        })
        .collect()
}

fn record_id(value: &[u8]) -> usize {
    let text = std::str::from_utf8(value).unwrap();
    let (t, s) = text.split_once('-').unwrap();
    t.parse::<usize>().unwrap() * PER_THREAD + s.parse::<usize>().unwrap()
}

/// What the stand-in broker decided for a record.
#[derive(Debug, Clone, PartialEq)]
enum Fate {
    Offset(i32, i64),
    Failed,
}

#[test]
fn appenders_and_sender_agree_on_every_record() {
    let cfg = AccumulatorConfig {
        linger: Duration::ZERO,
        retry_backoff: Duration::ZERO,
        retry_backoff_max: Duration::ZERO,
        enable_adaptive_partitioning: true,
        ..config()
    };
    // Eight buffers for four threads and four partitions: appends block.
    let f = Fixture::with(cfg, 8 * BATCH, None);
    let total = THREADS * PER_THREAD;
    let callback_calls: Arc<Vec<AtomicU32>> =
        Arc::new((0..total).map(|_| AtomicU32::new(0)).collect());
    let callback_results: Arc<Mutex<HashMap<usize, Result<RecordMetadata, Error>>>> =
        Arc::default();
    let producers_done = Arc::new(AtomicUsize::new(0));

    let producers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (acc, cluster, clock) = (f.acc.clone(), f.cluster.clone(), f.clock.clone());
            let (calls, results, done) = (
                callback_calls.clone(),
                callback_results.clone(),
                producers_done.clone(),
            );
            std::thread::spawn(move || {
                let mut futures = Vec::with_capacity(PER_THREAD);
                for s in 0..PER_THREAD {
                    let id = t * PER_THREAD + s;
                    let value = format!("{t}-{s}").into_bytes();
                    let key = format!("key-{}", s % 17).into_bytes();
                    // A third keyed, a third explicit, a third unkeyed.
                    let (key, partition) = match s % 3 {
                        0 => (
                            Some(key.as_slice()),
                            BuiltInPartitioner::partition_for_key(&key, PARTITIONS as usize),
                        ),
                        1 => (None, (s as i32) % PARTITIONS),
                        _ => (None, RecordMetadata::UNKNOWN_PARTITION),
                    };
                    let (calls, results) = (calls.clone(), results.clone());
                    let mut cb: Option<RecordCallback> = Some(RecordCallback::new(move |r| {
                        calls[id].fetch_add(1, Ordering::SeqCst);
                        results.lock().insert(id, r);
                    }));
                    let r = acc
                        .append(
                            "t",
                            partition,
                            1_000 + s as i64,
                            key,
                            Some(&value),
                            &[],
                            &mut cb,
                            Duration::from_secs(600),
                            false,
                            clock.now(),
                            &cluster,
                        )
                        .unwrap();
                    assert!(cb.is_none());
                    if partition != RecordMetadata::UNKNOWN_PARTITION {
                        assert_eq!(r.partition, partition);
                    }
                    futures.push((id, r.future.unwrap()));
                }
                done.fetch_add(1, Ordering::SeqCst);
                futures
            })
        })
        .collect();

    // The network thread stand-in.
    let fates: Arc<Mutex<HashMap<usize, Fate>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let sender = {
        let (acc, cluster, clock, fates, stop) = (
            f.acc.clone(),
            f.cluster.clone(),
            f.clock.clone(),
            fates.clone(),
            stop.clone(),
        );
        std::thread::spawn(move || {
            let mut next_offset: HashMap<i32, i64> = HashMap::new();
            let mut round = 0u64;
            while !stop.load(Ordering::SeqCst) {
                let ready = acc.ready(&cluster, clock.now());
                let drained = acc.drain(&cluster, &ready.ready_nodes, 4 * BATCH, clock.now());
                let mut batches: Vec<ProducerBatch> = drained.into_values().flatten().collect();
                if batches.is_empty() {
                    std::thread::yield_now();
                }
                for mut batch in batches.drain(..) {
                    round += 1;
                    let tp = batch.topic_partition().clone();
                    let values = batch_values(batch.records());
                    assert_eq!(values.len(), batch.record_count() as usize);
                    if round.is_multiple_of(7) && batch.attempts() == 0 {
                        // Retriable error: back to the deque, same bytes.
                        acc.reenqueue(batch, clock.now());
                        continue;
                    }
                    let mut fates = fates.lock();
                    if round.is_multiple_of(5) {
                        for v in &values {
                            assert!(fates.insert(record_id(v), Fate::Failed).is_none());
                        }
                        drop(fates);
                        assert!(batch.complete_exceptionally(
                            Error::Other(format!("broker said no to {tp}")),
                            None
                        ));
                    } else {
                        let base = next_offset.entry(tp.partition()).or_insert(0);
                        for (i, v) in values.iter().enumerate() {
                            let fate = Fate::Offset(tp.partition(), *base + i as i64);
                            assert!(fates.insert(record_id(v), fate).is_none(), "duplicate");
                        }
                        let b = *base;
                        *base += values.len() as i64;
                        drop(fates);
                        assert!(batch.complete(b, -1));
                    }
                    acc.deallocate(batch);
                }
            }
        })
    };

    let mut futures = Vec::new();
    for p in producers {
        futures.extend(p.join().unwrap());
    }
    assert_eq!(producers_done.load(Ordering::SeqCst), THREADS);
    // Flush waits for everything still queued or in flight.
    f.acc.begin_flush();
    f.acc.await_flush_completion(Duration::MAX).unwrap();
    // Flush returns once every batch completed; the sender deallocates
    // each right after completing it, before it looks at `stop` again.
    stop.store(true, Ordering::SeqCst);
    sender.join().unwrap();
    assert!(!f.acc.has_incomplete() && !f.acc.has_undrained());

    let fates = fates.lock();
    assert_eq!(fates.len(), total, "every record was in exactly one batch");
    let results = callback_results.lock();
    for (id, future) in futures {
        assert_eq!(callback_calls[id].load(Ordering::SeqCst), 1, "record {id}");
        let got = future.get_timeout(Duration::ZERO);
        let from_callback = &results[&id];
        match &fates[&id] {
            Fate::Offset(partition, offset) => {
                let m = got.unwrap();
                assert_eq!((m.partition(), m.offset()), (*partition, *offset));
                assert_eq!(from_callback.as_ref().unwrap(), &m);
                let (t, s) = (id / PER_THREAD, id % PER_THREAD);
                assert_eq!(m.timestamp(), 1_000 + s as i64);
                assert_eq!(m.serialized_value_size() as usize, format!("{t}-{s}").len());
            }
            Fate::Failed => {
                assert!(matches!(got, Err(Error::Other(_))));
                assert!(from_callback.is_err());
            }
        }
    }
    assert!(fates.values().any(|f| *f == Fate::Failed));
    assert_eq!(f.pool.available_memory(), f.pool.total_memory());
    assert_eq!(f.pool.queued(), 0);
}
