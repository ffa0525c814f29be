//! Unit tests of the memory records hold outside their batch's bytes
//! (callbacks and thunks): charged to the buffer pool on append, given
//! back with the batch whatever its end (success, failure, expiry, abort,
//! split), and refused when the pool is short, so that the next record
//! waits for memory as a record does.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::append::RecordAppendResult;
use super::tests::{config, tp, Fixture, BATCH, DELIVERY_MS, LINGER_MS};
use crate::common::TopicPartition;
use crate::error::Error;
use crate::producer::future::{allocation_cost, RecordCallback, THUNK_CHUNK, THUNK_CHUNK_COST};
use crate::producer::internals::producer_batch::ProducerBatch;
use crate::util::clock::Clock;

const VALUE: &[u8] = &[7u8; 10];

/// Bytes a callback of [`big_callback`] captures.
const CAPTURED: usize = 256;

/// A callback capturing `CAPTURED` bytes, counting its calls in `ran`
/// (and, when `ok`, its successes).
fn big_callback(ran: &Arc<AtomicUsize>, ok: &Arc<AtomicUsize>) -> Option<RecordCallback> {
    let (ran, ok) = (ran.clone(), ok.clone());
    let payload = [1u8; CAPTURED];
    Some(RecordCallback::new(move |r| {
        std::hint::black_box(&payload);
        ran.fetch_add(1, Ordering::SeqCst);
        if r.is_ok() {
            ok.fetch_add(1, Ordering::SeqCst);
        }
    }))
}

/// What one big callback is charged: its box (its captures are the two
/// `Arc`s and the array).
fn callback_cost() -> usize {
    allocation_cost(CAPTURED + 2 * std::mem::size_of::<usize>())
}

impl Fixture {
    /// Appends without waiting for memory.
    fn append_now(
        &self,
        tp: &TopicPartition,
        callback: &mut Option<RecordCallback>,
    ) -> Result<RecordAppendResult, Error> {
        self.acc.append(
            tp.topic(),
            tp.partition(),
            self.clock.wall_clock_ms(),
            None,
            Some(VALUE),
            &[],
            callback,
            Duration::ZERO,
            false,
            self.clock.now(),
            &self.cluster,
        )
    }

    /// Completes every batch of node 1 and node 2 and gives their memory
    /// back.
    fn drain_and_complete(&self) {
        self.ms(LINGER_MS);
        self.acc.begin_flush();
        for node in [1, 2] {
            loop {
                let drained = self.drain_node(node, usize::MAX);
                if drained.is_empty() {
                    break;
                }
                self.complete_all(drained, 0);
            }
        }
        self.acc
            .await_flush_completion(Duration::ZERO)
            .expect("every batch completed");
    }

    fn assert_pool_whole(&self) {
        assert_eq!(self.pool.debt(), 0);
        assert_eq!(self.pool.available_memory(), self.pool.total_memory());
        assert!(!self.acc.has_incomplete());
    }
}

fn counters() -> (Arc<AtomicUsize>, Arc<AtomicUsize>) {
    (Arc::default(), Arc::default())
}

#[test]
fn callbacks_are_charged_on_append_and_given_back_on_success() {
    let f = Fixture::new();
    let total = f.pool.total_memory();
    let (ran, ok) = counters();
    for _ in 0..3 {
        let mut cb = big_callback(&ran, &ok);
        f.append_with(&tp(0), VALUE, &mut cb).unwrap();
        assert!(cb.is_none(), "taken by the batch");
    }
    // Records without a callback cost nothing beyond the batch.
    f.append(&tp(0), VALUE);
    let (charged, used) = f
        .acc
        .with_deque(&tp(0), |dq| (dq[0].charged(), dq[0].charge_used()))
        .unwrap();
    assert_eq!(used, THUNK_CHUNK_COST + 3 * callback_cost());
    assert!(charged >= used, "{charged} < {used}");
    assert_eq!(f.pool.available_memory(), total - BATCH - charged);

    f.drain_and_complete();
    assert_eq!(
        (ran.load(Ordering::SeqCst), ok.load(Ordering::SeqCst)),
        (3, 3)
    );
    f.assert_pool_whole();
}

#[test]
fn a_second_thunk_chunk_is_charged_when_the_first_is_full() {
    let f = Fixture::with(config(), 64 * BATCH, None);
    let (ran, ok) = counters();
    // Small callbacks (they capture two Arcs: stored in place), many
    // records: the batch is as large as the records need.
    let n = THUNK_CHUNK + 1;
    for _ in 0..n {
        let (ran, ok) = (ran.clone(), ok.clone());
        let mut cb: Option<RecordCallback> = Some(RecordCallback::new(move |r| {
            ran.fetch_add(1, Ordering::SeqCst);
            if r.is_ok() {
                ok.fetch_add(1, Ordering::SeqCst);
            }
        }));
        f.append_with(&tp(0), VALUE, &mut cb).unwrap();
    }
    // Two Arcs fit in the callback's place: nothing on the heap.
    let used = f
        .acc
        .with_deque(&tp(0), |dq| {
            assert_eq!(dq.len(), 1);
            dq[0].charge_used()
        })
        .unwrap();
    assert_eq!(used, 2 * THUNK_CHUNK_COST);
    f.drain_and_complete();
    assert_eq!(ok.load(Ordering::SeqCst), n);
    f.assert_pool_whole();
}

#[test]
fn charges_come_back_when_batches_fail_or_expire() {
    let f = Fixture::new();
    let (ran, ok) = counters();
    // Failed by the broker.
    f.append_with(&tp(0), VALUE, &mut big_callback(&ran, &ok))
        .unwrap();
    f.ms(LINGER_MS);
    for mut b in f.drain_node(1, usize::MAX) {
        assert!(b.complete_exceptionally(Error::Other("failed".into()), None));
        f.acc.deallocate(b);
    }
    // Expired in the deque.
    f.append_with(&tp(1), VALUE, &mut big_callback(&ran, &ok))
        .unwrap();
    f.ms(DELIVERY_MS);
    f.acc.reset_next_batch_expiry_time();
    let expired = f.acc.expired_batches(f.clock.now());
    assert_eq!(expired.len(), 1);
    for mut b in expired {
        assert!(b.complete_exceptionally(Error::Timeout("expired".into()), None));
        f.acc.deallocate(b);
    }
    assert_eq!(
        (ran.load(Ordering::SeqCst), ok.load(Ordering::SeqCst)),
        (2, 0)
    );
    f.assert_pool_whole();
}

#[test]
fn charges_come_back_when_batches_are_aborted_queued_or_in_flight() {
    let f = Fixture::new();
    let (ran, ok) = counters();
    f.append_with(&tp(0), VALUE, &mut big_callback(&ran, &ok))
        .unwrap();
    f.ms(LINGER_MS);
    let in_flight: Vec<ProducerBatch> = f.drain_node(1, usize::MAX);
    f.append_with(&tp(1), VALUE, &mut big_callback(&ran, &ok))
        .unwrap();
    f.acc.close();
    f.acc.abort_incomplete_batches();
    // The queued batch is failed and freed; the in-flight one failed
    // through its slot, and the sender frees it when it is done with it.
    assert_eq!(ran.load(Ordering::SeqCst), 2);
    assert!(f.pool.available_memory() < f.pool.total_memory());
    for b in in_flight {
        assert!(b.is_done());
        f.acc.deallocate(b);
    }
    assert_eq!(ok.load(Ordering::SeqCst), 0);
    f.assert_pool_whole();
}

#[test]
fn charges_come_back_when_undrained_batches_are_aborted() {
    let f = Fixture::new();
    let (ran, ok) = counters();
    f.append_with(&tp(0), VALUE, &mut big_callback(&ran, &ok))
        .unwrap();
    f.append_with(&tp(3), VALUE, &mut big_callback(&ran, &ok))
        .unwrap();
    f.acc
        .abort_undrained_batches(&Error::Other("transaction aborted".into()));
    assert_eq!(
        (ran.load(Ordering::SeqCst), ok.load(Ordering::SeqCst)),
        (2, 0)
    );
    f.assert_pool_whole();
}

#[test]
fn a_split_batch_gives_back_its_charge_and_its_callbacks_still_run() {
    let f = Fixture::new();
    let (ran, ok) = counters();
    for _ in 0..6 {
        f.append_with(&tp(0), VALUE, &mut big_callback(&ran, &ok))
            .unwrap();
    }
    f.ms(LINGER_MS);
    let mut big = f.drain_node(1, usize::MAX).pop().unwrap();
    assert_eq!(big.record_count(), 6);
    assert!(big.charged() > 0);
    assert!(f.acc.split_and_reenqueue(&mut big).unwrap() >= 2);
    // The sender frees the refused batch: its charge comes back, though
    // its callbacks now wait in the split batches (outside the pool, like
    // their buffers).
    f.acc.deallocate(big);
    f.assert_pool_whole_but_incomplete();
    f.ms(1000); // past any retry backoff
    f.drain_and_complete();
    assert_eq!(
        (ran.load(Ordering::SeqCst), ok.load(Ordering::SeqCst)),
        (6, 6)
    );
    f.assert_pool_whole();
}

impl Fixture {
    fn assert_pool_whole_but_incomplete(&self) {
        assert_eq!(self.pool.debt(), 0);
        assert_eq!(self.pool.available_memory(), self.pool.total_memory());
        assert!(self.acc.has_incomplete(), "the split batches");
    }
}

#[test]
fn a_refused_charge_fills_the_batch_and_the_next_record_waits_for_memory() {
    // Four batches' worth of memory: one batch buffer, and callbacks that
    // soon take the rest.
    let f = Fixture::with(config(), 4 * BATCH, None);
    let (ran, ok) = counters();
    let mut appended = 0usize;
    let error = loop {
        let mut cb = big_callback(&ran, &ok);
        match f.append_now(&tp(0), &mut cb) {
            Ok(r) => {
                assert!(!r.new_batch_created || appended == 0, "one batch");
                appended += 1;
            }
            Err(e) => {
                assert!(cb.is_some(), "the callback stays with the caller");
                break e;
            }
        }
        assert!(appended < 100, "the pool never ran out");
    };
    assert!(matches!(error, Error::BufferExhausted(_)), "{error:?}");
    // The records fit the batch's bytes; their callbacks did not fit the
    // pool, so the batch took no more and counts as full.
    let (records, full) = f
        .acc
        .with_deque(&tp(0), |dq| (dq[0].record_count(), dq[0].is_full()))
        .unwrap();
    assert_eq!(usize::try_from(records).unwrap(), appended);
    assert!(full);
    assert!(appended * VALUE.len() * 4 < BATCH);
    assert!(f.pool.available_memory() < BATCH);

    // Once the batch is done, memory is there again.
    f.drain_and_complete();
    assert_eq!(ok.load(Ordering::SeqCst), appended);
    f.assert_pool_whole();
    f.append_now(&tp(0), &mut big_callback(&ran, &ok)).unwrap();
    f.drain_and_complete();
    f.assert_pool_whole();
}

#[test]
fn a_first_record_is_never_refused_but_its_debt_blocks_new_batches() {
    let f = Fixture::with(config(), 4 * BATCH, None);
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    // A callback bigger than what the pool has left after the buffer.
    let huge = [1u8; 4 * BATCH];
    let mut cb: Option<RecordCallback> = Some(RecordCallback::new(move |_| {
        std::hint::black_box(&huge);
        r.fetch_add(1, Ordering::SeqCst);
    }));
    f.append_now(&tp(0), &mut cb).unwrap();
    assert!(f.pool.debt() > 0);
    assert_eq!(f.pool.available_memory(), 0);
    // A record without a callback still fits the open batch...
    f.append_now(&tp(0), &mut None).unwrap();
    // ...but a new batch waits (here: fails at once) while in debt.
    let e = f.append_now(&tp(1), &mut None).unwrap_err();
    assert!(matches!(e, Error::BufferExhausted(_)), "{e:?}");
    f.drain_and_complete();
    assert_eq!(ran.load(Ordering::SeqCst), 1);
    f.assert_pool_whole();
}

/// Bytes in the pool's free lists.
fn pooled(f: &Fixture) -> usize {
    f.pool.available_memory() - f.pool.unallocated_memory()
}

/// A batch deallocated while a request still holds its bytes (the
/// connection was cut with the frame queued, or the batch expired in
/// flight): the pool gets the whole charge back at once, and the bytes
/// stay valid for the holder until it lets go.
#[test]
fn a_batch_whose_bytes_are_still_being_sent_gives_its_charge_back() {
    let f = Fixture::new();
    for _ in 0..5 {
        f.append(&tp(0), VALUE);
    }
    f.ms(LINGER_MS);
    let mut drained = f.drain_node(1, usize::MAX);
    assert_eq!(drained.len(), 1);
    let mut batch = drained.pop().unwrap();
    let frame_copy = Arc::clone(batch.shared_records().expect("built at drain"));
    assert_eq!(frame_copy.as_slice(), batch.records());
    assert!(f.pool.available_memory() < f.pool.total_memory());
    let pooled_before = pooled(&f);
    batch.complete(0, -1);
    f.acc.deallocate(batch);
    f.assert_pool_whole();
    assert_eq!(pooled(&f), pooled_before, "a shared buffer is not pooled");
    // The request's copy is intact and now its only owner.
    let parsed = crate::record::RecordBatch::parse(&frame_copy).unwrap();
    parsed.validate().unwrap();
    assert_eq!(Arc::strong_count(&frame_copy), 1);
}

/// The normal case: the request let go of the bytes before the batch was
/// deallocated, so its buffer is recycled by the pool.
#[test]
fn a_batch_no_longer_being_sent_returns_its_buffer_for_reuse() {
    let f = Fixture::new();
    f.append(&tp(0), VALUE);
    f.ms(LINGER_MS);
    let mut drained = f.drain_node(1, usize::MAX);
    let mut batch = drained.pop().unwrap();
    let frame_copy = Arc::clone(batch.shared_records().unwrap());
    drop(frame_copy);
    let pooled_before = pooled(&f);
    batch.complete(0, -1);
    f.acc.deallocate(batch);
    f.assert_pool_whole();
    assert!(pooled(&f) > pooled_before, "the buffer is pooled");
}
