//! Unit tests of expiry, re-enqueueing and aborts (JAVA-PRODUCER.md §3
//! item 45, G-4, G-5, TX-6/7).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::tests::{config, tp, Fixture, BATCH, DELIVERY_MS, LINGER_MS};
use crate::error::Error;
use crate::producer::future::RecordCallback;
use crate::producer::internals::transaction_manager::{ProducerIdAndEpoch, TransactionManager};
use crate::util::clock::Clock;

const VALUE: &[u8] = &[7u8; 100];

#[test]
fn rule45_batches_past_the_delivery_timeout_expire_oldest_first() {
    let f = Fixture::new();
    let t0 = f.clock.now();
    f.fill_batch(&tp(0), VALUE); // batch A full, batch B started, at t0
    f.ms(50);
    f.append(&tp(1), VALUE); // batch C at t0 + 50

    f.ms(DELIVERY_MS - 51);
    f.acc.reset_next_batch_expiry_time();
    assert!(f.acc.expired_batches(f.clock.now()).is_empty());
    let delivery = Duration::from_millis(DELIVERY_MS);
    assert_eq!(f.acc.next_expiry_time(), Some(t0 + delivery));

    f.ms(1);
    f.acc.reset_next_batch_expiry_time();
    let expired = f.acc.expired_batches(f.clock.now());
    assert_eq!(expired.len(), 2, "both batches of tp0");
    assert!(expired.iter().all(|b| b.topic_partition() == &tp(0)));
    assert!(expired[0].is_full() && expired[0].records().is_empty());
    assert_eq!(
        f.acc.next_expiry_time(),
        Some(t0 + Duration::from_millis(50) + delivery)
    );
    assert_eq!(f.acc.queued_batches(&tp(0)), 0);
    assert_eq!(f.acc.queued_batches(&tp(1)), 1);

    // The sender fails them with Java's message and frees them.
    let now = f.clock.now();
    for mut b in expired {
        let msg = format!(
            "Expiring {} record(s) for {}:{} ms has passed since batch creation",
            b.record_count(),
            b.topic_partition(),
            now.duration_since(b.created()).as_millis()
        );
        assert!(b.complete_exceptionally(Error::Timeout(msg), None));
        f.acc.deallocate(b);
    }
    assert_eq!(f.pool.available_memory(), f.pool.total_memory() - BATCH);
}

#[test]
fn rule45_in_flight_batches_are_not_in_the_deques() {
    let f = Fixture::new();
    f.append(&tp(0), VALUE);
    f.ms(LINGER_MS);
    let in_flight = f.drain_node(1, usize::MAX);
    f.ms(DELIVERY_MS);
    // In-flight expiry is the sender's (it owns them); the accumulator only
    // expires what it still holds.
    assert!(f.acc.expired_batches(f.clock.now()).is_empty());
    assert!(in_flight[0]
        .has_reached_delivery_timeout(Duration::from_millis(DELIVERY_MS), f.clock.now()));
    assert!(f.acc.has_incomplete() && !f.acc.has_undrained());
}

#[test]
fn reenqueued_batch_goes_to_the_head_and_counts_an_attempt() {
    let f = Fixture::new();
    f.fill_batch(&tp(0), VALUE);
    f.ms(LINGER_MS);
    let b = f.drain_node(1, usize::MAX).pop().unwrap();
    let first_records = b.record_count();
    assert!(!b.in_retry());
    f.acc.reenqueue(b, f.clock.now());
    let head = f
        .acc
        .with_deque(&tp(0), |dq| {
            (
                dq.len(),
                dq[0].record_count(),
                dq[0].attempts(),
                dq[0].in_retry(),
            )
        })
        .unwrap();
    assert_eq!(head, (2, first_records, 1, true));
    // A retried batch is already built: appends go to the batch behind it.
    let r = f.append(&tp(0), VALUE);
    assert!(!r.new_batch_created);
    assert_eq!(f.acc.with_deque(&tp(0), |dq| dq[1].record_count()), Some(2));
}

#[test]
fn idempotent_reenqueue_inserts_in_sequence_order_before_unsequenced_batches() {
    let tm = Arc::new(TransactionManager::new_idempotent());
    tm.set_producer_id_and_epoch(ProducerIdAndEpoch::new(3, 0));
    let f = Fixture::with(config(), 64 * BATCH, Some(tm));
    // Four batches in flight with sequences 0, 8, 16, 24.
    for _ in 0..4 {
        f.fill_batch(&tp(0), VALUE);
    }
    f.ms(LINGER_MS);
    let mut in_flight: Vec<_> = (0..4)
        .map(|_| f.drain_node(1, usize::MAX).pop().unwrap())
        .collect();
    assert_eq!(
        in_flight
            .iter()
            .map(|b| b.base_sequence())
            .collect::<Vec<_>>(),
        vec![0, 8, 16, 24]
    );
    // They come back out of order; the never-sent batch stays last.
    let order = [2usize, 0, 3, 1];
    let mut taken: Vec<Option<_>> = in_flight.drain(..).map(Some).collect();
    for i in order {
        f.acc.reenqueue(taken[i].take().unwrap(), f.clock.now());
    }
    let seqs: Vec<i32> = f
        .acc
        .with_deque(&tp(0), |dq| dq.iter().map(|b| b.base_sequence()).collect())
        .unwrap();
    assert_eq!(seqs, vec![0, 8, 16, 24, -1]);
}

#[test]
fn abort_undrained_batches_fails_only_batches_not_yet_sent() {
    // Without idempotence: batches not built yet.
    let f = Fixture::new();
    f.append(&tp(0), VALUE);
    f.append(&tp(2), VALUE);
    f.ms(LINGER_MS);
    let sent = f.drain_node(1, usize::MAX);
    assert_eq!(sent.len(), 2);
    let mut sent = sent.into_iter();
    let retried = sent.next().unwrap();
    let retried_tp = retried.topic_partition().clone();
    f.acc.reenqueue(retried, f.clock.now());
    let failed = Arc::new(AtomicUsize::new(0));
    let c = failed.clone();
    let mut cb: Option<RecordCallback> = Some(RecordCallback::new(move |r| {
        assert!(matches!(r, Err(Error::Other(_))));
        c.fetch_add(1, Ordering::SeqCst);
    }));
    let fut = f
        .append_with(&tp(1), VALUE, &mut cb)
        .unwrap()
        .future
        .unwrap();
    f.acc
        .abort_undrained_batches(&Error::Other("transaction aborted".into()));
    assert_eq!(failed.load(Ordering::SeqCst), 1);
    assert!(fut.is_done());
    assert_eq!(f.acc.queued_batches(&tp(1)), 0);
    assert_eq!(
        f.acc.queued_batches(&retried_tp),
        1,
        "already sent once: kept"
    );

    // With idempotence: batches without a sequence.
    let tm = Arc::new(TransactionManager::new_idempotent());
    tm.set_producer_id_and_epoch(ProducerIdAndEpoch::new(3, 0));
    let f = Fixture::with(config(), 64 * BATCH, Some(tm));
    f.append(&tp(0), VALUE);
    f.ms(LINGER_MS);
    let b = f.drain_node(1, usize::MAX).pop().unwrap();
    f.acc.reenqueue(b, f.clock.now());
    f.append(&tp(0), VALUE);
    f.append(&tp(2), VALUE);
    f.acc.abort_undrained_batches(&Error::Other("abort".into()));
    let seqs: Vec<i32> = f
        .acc
        .with_deque(&tp(0), |dq| dq.iter().map(|b| b.base_sequence()).collect())
        .unwrap();
    assert_eq!(seqs, vec![0]);
    assert_eq!(f.acc.queued_batches(&tp(2)), 0);
}

#[test]
fn undrained_and_incomplete_follow_the_batch_lifecycle() {
    let f = Fixture::new();
    assert!(!f.acc.has_undrained() && !f.acc.has_incomplete());
    f.append(&tp(0), VALUE);
    assert!(f.acc.has_undrained() && f.acc.has_incomplete());
    f.ms(LINGER_MS);
    let drained = f.drain_node(1, usize::MAX);
    assert!(!f.acc.has_undrained() && f.acc.has_incomplete());
    f.complete_all(drained, 0);
    assert!(!f.acc.has_incomplete());
    assert!(f.all_memory_back());
}

/// Between walks nothing can expire, so `expired_batches` leaves the
/// deques (and their locks, which the appends take) alone until the
/// earliest expiry the last walk found.
#[test]
fn no_walk_and_no_deque_lock_before_the_earliest_expiry() {
    let f = Fixture::new();
    let t0 = f.clock.now();
    f.append(&tp(0), VALUE);
    assert!(f.acc.expired_batches(f.clock.now()).is_empty());
    let delivery = Duration::from_millis(DELIVERY_MS);
    assert_eq!(f.acc.next_expiry_time(), Some(t0 + delivery));
    f.ms(DELIVERY_MS - 1);

    // The deque is locked by another thread: a walk would wait for it.
    let (locked_tx, locked_rx) = crossbeam_channel::bounded(0);
    let (release_tx, release_rx) = crossbeam_channel::bounded::<()>(0);
    let acc = Arc::clone(&f.acc);
    let holder = std::thread::spawn(move || {
        acc.with_deque(&tp(0), |_| {
            locked_tx.send(()).unwrap();
            release_rx.recv().unwrap();
        });
    });
    locked_rx.recv().unwrap();
    let (done_tx, done_rx) = crossbeam_channel::bounded(1);
    let acc = Arc::clone(&f.acc);
    let now = f.clock.now();
    let walker = std::thread::spawn(move || {
        done_tx.send(acc.expired_batches(now).len()).unwrap();
    });
    let walked = done_rx.recv_timeout(Duration::from_secs(5));
    release_tx.send(()).unwrap();
    holder.join().unwrap();
    walker.join().unwrap();
    assert_eq!(walked, Ok(0), "returned without the deque's lock");

    f.ms(1);
    assert_eq!(f.acc.expired_batches(f.clock.now()).len(), 1);
}

/// A batch queued after a walk that found nothing expires on time: the
/// walk that found nothing is due again a delivery timeout after it, and
/// the batch, created later, expires later.
#[test]
fn a_batch_queued_after_an_empty_walk_expires_on_time() {
    let f = Fixture::new();
    assert!(f.acc.expired_batches(f.clock.now()).is_empty());
    f.ms(10);
    let created = f.clock.now();
    f.append(&tp(0), VALUE);
    f.ms(DELIVERY_MS - 1);
    assert!(f.acc.expired_batches(f.clock.now()).is_empty());
    assert!(f.acc.next_expiry_time() <= Some(created + Duration::from_millis(DELIVERY_MS)));
    f.ms(1);
    assert_eq!(f.acc.expired_batches(f.clock.now()).len(), 1);
}

/// A retried batch comes back with its old creation time, before what the
/// last walk found: it brings the next walk forward and expires on time.
#[test]
fn a_reenqueued_batch_brings_the_next_walk_forward() {
    let f = Fixture::new();
    let created = f.clock.now();
    f.append(&tp(0), VALUE);
    f.ms(LINGER_MS);
    let a = f.drain_node(1, usize::MAX).pop().unwrap();
    f.ms(100);
    f.append(&tp(1), VALUE); // expires LINGER_MS + 100 ms after A
    assert!(f.acc.expired_batches(f.clock.now()).is_empty());
    f.acc.reenqueue(a, f.clock.now());
    let delivery = Duration::from_millis(DELIVERY_MS);
    assert_eq!(f.acc.next_expiry_time(), Some(created + delivery));
    f.ms(DELIVERY_MS - LINGER_MS - 100);
    let expired = f.acc.expired_batches(f.clock.now());
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].topic_partition(), &tp(0));
}
