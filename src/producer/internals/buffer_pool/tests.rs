//! Tests of the `BufferPool`: accounting, recycling, fairness, timeouts,
//! charges and debt.

use std::sync::mpsc;
use std::thread;

use super::*;
use crate::util::clock::{MockClock, SystemClock};

/// Long enough never to expire in a test that expects success: it only
/// bounds how long a broken implementation can hang the test.
const LONG: Duration = Duration::from_secs(30);

fn pool(total: usize, poolable: usize) -> Arc<BufferPool> {
    Arc::new(BufferPool::new(
        total,
        poolable,
        Arc::new(MockClock::default()),
    ))
}

/// Waits (without a timing assertion) until `cond` holds; panics after a
/// generous bound so that a broken implementation fails instead of hanging.
fn wait_for(what: &str, cond: impl Fn() -> bool) {
    for _ in 0..30_000 {
        if cond() {
            return;
        }
        thread::sleep(Duration::from_millis(1));
    }
    panic!("never happened: {what}");
}

#[test]
fn simple_allocate_and_free_keep_the_accounting() {
    let pool = pool(1024, 128);
    let buffer = pool.allocate(128, Duration::ZERO).unwrap();
    assert_eq!(buffer.len(), 0);
    assert_eq!(buffer.capacity(), 128);
    assert_eq!(pool.available_memory(), 1024 - 128);
    assert_eq!(pool.unallocated_memory(), 1024 - 128);
    pool.deallocate(buffer, 128);
    // Pooled: available again, but held in the free list.
    assert_eq!(pool.available_memory(), 1024);
    assert_eq!(pool.unallocated_memory(), 1024 - 128);

    let big = pool.allocate(500, Duration::ZERO).unwrap();
    assert!(big.capacity() >= 500);
    // 500 > 1024 - 128 is false, so no pooled buffer was freed up.
    assert_eq!(pool.unallocated_memory(), 1024 - 128 - 500);
    assert_eq!(pool.available_memory(), 1024 - 500);
    pool.deallocate(big, 500);
    assert_eq!(pool.available_memory(), 1024);
    assert_eq!(pool.total_memory(), 1024);
    assert_eq!(pool.poolable_size(), 128);
    assert_eq!(pool.queued(), 0);
}

#[test]
fn pooled_buffers_are_reused() {
    let pool = pool(1024, 128);
    let mut buffer = pool.allocate(128, Duration::ZERO).unwrap();
    buffer.extend_from_slice(b"some bytes");
    let address = buffer.as_ptr() as usize;
    pool.deallocate(buffer, 128);
    let again = pool.allocate(128, Duration::ZERO).unwrap();
    assert_eq!(
        again.as_ptr() as usize,
        address,
        "the same buffer came back"
    );
    assert_eq!(again.len(), 0, "cleared before reuse");
    assert_eq!(again.capacity(), 128);
    pool.deallocate(again, 128);
}

#[test]
fn non_pooled_sizes_return_only_the_accounting() {
    let pool = pool(1024, 128);
    let small = pool.allocate(100, Duration::ZERO).unwrap();
    assert!(small.capacity() >= 100);
    pool.deallocate(small, 100);
    assert_eq!(
        pool.unallocated_memory(),
        1024,
        "a 100-byte buffer is not pooled"
    );

    // A pooled-size request whose buffer grew is not pooled either.
    let mut grown = pool.allocate(128, Duration::ZERO).unwrap();
    grown.resize(300, 0);
    pool.deallocate(grown, 128);
    assert_eq!(pool.unallocated_memory(), 1024);
    assert_eq!(pool.available_memory(), 1024);
}

#[test]
fn allocation_frees_up_pooled_buffers_from_the_tail() {
    let pool = pool(512, 128);
    let buffers: Vec<_> = (0..4)
        .map(|_| pool.allocate(128, Duration::ZERO).unwrap())
        .collect();
    for b in buffers {
        pool.deallocate(b, 128);
    }
    assert_eq!(pool.unallocated_memory(), 0);
    let big = pool.allocate(300, Duration::ZERO).unwrap();
    // Three pooled buffers (384 bytes) were released to cover 300.
    assert_eq!(pool.unallocated_memory(), 84);
    assert_eq!(pool.available_memory(), 84 + 128);
    pool.deallocate(big, 300);
    assert_eq!(pool.available_memory(), 512);
}

#[test]
fn a_request_larger_than_the_pool_fails_at_once() {
    let pool = pool(1024, 128);
    let e = pool.allocate(1025, LONG).unwrap_err();
    assert!(matches!(e, Error::Other(_)), "{e:?}");
    assert_eq!(
        e.to_string(),
        "Attempt to allocate 1025 bytes, but there is a hard limit of 1024 on memory allocations."
    );
    assert_eq!(pool.queued(), 0);
    assert_eq!(pool.available_memory(), 1024);
}

#[test]
fn a_blocked_allocation_is_woken_by_a_deallocation() {
    let pool = pool(256, 128);
    let a = pool.allocate(128, Duration::ZERO).unwrap();
    let b = pool.allocate(128, Duration::ZERO).unwrap();
    let address = a.as_ptr() as usize;
    let waiter = {
        let pool = Arc::clone(&pool);
        thread::spawn(move || pool.allocate(128, LONG))
    };
    wait_for("the allocation to block", || pool.queued() == 1);
    pool.deallocate(a, 128);
    let got = waiter.join().unwrap().unwrap();
    assert_eq!(
        got.as_ptr() as usize,
        address,
        "the freed pooled buffer was handed over"
    );
    assert_eq!(pool.queued(), 0);
    pool.deallocate(got, 128);
    pool.deallocate(b, 128);
    assert_eq!(pool.available_memory(), 256);
}

#[test]
fn timeout_fails_with_javas_message_and_returns_gathered_memory() {
    let pool = Arc::new(BufferPool::new(100, 10, Arc::new(SystemClock)));
    let seventy = pool.allocate(70, Duration::ZERO).unwrap();
    let thirty = pool.allocate(30, Duration::ZERO).unwrap();
    let waiter = {
        let pool = Arc::clone(&pool);
        thread::spawn(move || pool.allocate(50, Duration::from_millis(500)))
    };
    wait_for("the allocation to block", || pool.queued() == 1);
    // The waiter takes these 30 bytes and then runs out of time.
    pool.deallocate(thirty, 30);
    let e = waiter.join().unwrap().unwrap_err();
    assert!(matches!(e, Error::BufferExhausted(_)), "{e:?}");
    let Error::BufferExhausted(message) = &e else {
        unreachable!()
    };
    assert_eq!(
        message,
        "Failed to allocate 50 bytes within the configured max blocking time 500 ms. \
         Total memory: 100 bytes. Available memory: 0 bytes. Poolable size: 10 bytes"
    );
    // The gathered 30 bytes are back and the waiter is gone.
    assert_eq!(pool.queued(), 0);
    assert_eq!(pool.unallocated_memory(), 30);
    pool.deallocate(seventy, 70);
    assert_eq!(pool.available_memory(), 100);
}

#[test]
fn zero_wait_fails_at_once_when_memory_is_short() {
    let pool = pool(100, 10);
    let held = pool.allocate(95, Duration::ZERO).unwrap();
    let e = pool.allocate(10, Duration::ZERO).unwrap_err();
    assert!(matches!(e, Error::BufferExhausted(_)), "{e:?}");
    assert_eq!(pool.queued(), 0);
    assert_eq!(pool.unallocated_memory(), 5);
    pool.deallocate(held, 95);
}

#[test]
fn waiters_are_served_in_arrival_order() {
    let pool = pool(120, 10);
    let held = pool.allocate(120, Duration::ZERO).unwrap();
    let (tx, rx) = mpsc::channel();
    let mut threads = Vec::new();
    for (i, name) in ["A", "B", "C"].into_iter().enumerate() {
        let pool2 = Arc::clone(&pool);
        let tx = tx.clone();
        threads.push(thread::spawn(move || {
            let r = pool2.allocate(40, LONG);
            tx.send((name, r.is_ok())).unwrap();
            r
        }));
        // Queue them one at a time so the arrival order is known.
        wait_for("the waiter to queue", || pool.queued() == i + 1);
    }
    // Return the memory 40 bytes at a time: each piece can serve only the
    // head of the queue, so the order of completions is the queue order.
    drop(held);
    for expected in ["A", "B", "C"] {
        pool.deallocate(Vec::new(), 40);
        assert_eq!(rx.recv().unwrap(), (expected, true));
    }
    for t in threads {
        let b = t.join().unwrap().unwrap();
        pool.deallocate(b, 40);
    }
    assert_eq!(pool.queued(), 0);
    assert_eq!(pool.available_memory(), 120);
}

#[test]
fn memory_is_gathered_across_wake_ups() {
    // Patient enough never to run out here.
    let pool =
        Arc::new(BufferPool::new(100, 10, Arc::new(MockClock::default())).with_patience(LONG));
    let mut held: Vec<_> = (0..10)
        .map(|_| pool.allocate(10, Duration::ZERO).unwrap())
        .collect();
    let waiter = {
        let pool = Arc::clone(&pool);
        thread::spawn(move || pool.allocate(50, LONG))
    };
    wait_for("the allocation to block", || pool.queued() == 1);
    for _ in 0..3 {
        // Unallocated memory is taken as it comes.
        pool.deallocate(Vec::new(), 10);
        wait_for("the waiter to take the returned bytes", || {
            pool.available_memory() == 0
        });
    }
    held.truncate(7);
    // Under pressure (less than half the pool available), returned
    // buffers are kept whole, not freed to make up the rest: the waiter
    // leaves them in the free list.
    pool.deallocate(held.pop().unwrap(), 10);
    thread::sleep(Duration::from_millis(20));
    assert_eq!(pool.available_memory(), 10);
    assert_eq!(pool.unallocated_memory(), 0);
    // They are reserved for the head of the queue all the same: a
    // newcomer cannot take them.
    let e = pool.allocate(10, Duration::ZERO).unwrap_err();
    assert!(matches!(e, Error::BufferExhausted(_)), "{e:?}");
    assert_eq!(pool.queued(), 1);
    // With half the pool available (30 held by the waiter, 20 free), the
    // free buffers are freed to make up the rest.
    pool.deallocate(held.pop().unwrap(), 10);
    let big = waiter.join().unwrap().unwrap();
    assert!(big.capacity() >= 50);
    assert_eq!(pool.available_memory(), 0);
    pool.deallocate(big, 50);
    for b in held {
        pool.deallocate(b, 10);
    }
    assert_eq!(pool.available_memory(), 100);
    assert_eq!(pool.queued(), 0);
}

#[test]
fn close_wakes_every_waiter_with_an_error() {
    let pool = pool(100, 10);
    let held = pool.allocate(100, Duration::ZERO).unwrap();
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let pool = Arc::clone(&pool);
            thread::spawn(move || pool.allocate(10, LONG))
        })
        .collect();
    wait_for("three waiters", || pool.queued() == 3);
    pool.close();
    for t in threads {
        let e = t.join().unwrap().unwrap_err();
        assert!(matches!(e, Error::Closed(_)), "{e:?}");
        assert_eq!(
            e.to_string(),
            "closed: Producer closed while allocating memory"
        );
    }
    assert_eq!(pool.queued(), 0);
    let e = pool.allocate(10, LONG).unwrap_err();
    assert!(matches!(e, Error::Closed(_)), "{e:?}");
    // Memory can still come back after close.
    pool.deallocate(held, 100);
    assert_eq!(pool.available_memory(), 100);
}

#[test]
fn concurrent_allocations_leave_the_pool_whole() {
    const THREADS: usize = 4;
    const ROUNDS: usize = 300;
    let pool = pool(4 * 1024, 256);
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let pool = Arc::clone(&pool);
            thread::spawn(move || {
                // A small LCG per thread: sizes need no quality randomness.
                let mut seed = 0x2545_f491_u64 ^ (t as u64 * 0x9e37_79b9);
                for _ in 0..ROUNDS {
                    seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    let size = match (seed >> 33) % 3 {
                        0 => 256,
                        1 => 1 + (seed >> 40) as usize % 256,
                        _ => 1 + (seed >> 40) as usize % 2048,
                    };
                    // Each thread holds at most one buffer, so every
                    // waiter is eventually served.
                    let mut buffer = pool.allocate(size, LONG).unwrap();
                    buffer.push(1);
                    pool.deallocate(buffer, size);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(pool.available_memory(), pool.total_memory());
    assert_eq!(pool.queued(), 0);
}

#[test]
fn charges_take_free_memory_and_are_refused_when_short() {
    let pool = pool(1024, 128);
    let buffer = pool.allocate(128, Duration::ZERO).unwrap();
    pool.deallocate(buffer, 128);
    assert!(pool.charge(500, false));
    assert_eq!(pool.available_memory(), 1024 - 500);
    // The pooled buffer was kept: the charge came from unallocated memory.
    assert_eq!(pool.unallocated_memory(), 1024 - 128 - 500);
    // More than is free: refused, nothing taken.
    assert!(!pool.charge(525, false));
    assert_eq!(pool.available_memory(), 524);
    // Exactly what is free: the pooled buffer is given up for it.
    assert!(pool.charge(524, false));
    assert_eq!(pool.available_memory(), 0);
    assert_eq!(pool.debt(), 0);
    pool.release(1024);
    assert_eq!(pool.available_memory(), 1024);
    assert_eq!(pool.debt(), 0);
}

#[test]
fn under_pressure_free_buffers_are_kept_and_what_needs_them_freed_is_refused() {
    let pool = pool(1024, 128);
    let mut held: Vec<_> = (0..8)
        .map(|_| pool.allocate(128, Duration::ZERO).unwrap())
        .collect();
    pool.deallocate(held.pop().unwrap(), 128);
    // 128 bytes free, in one pooled buffer; 896 held: under pressure.
    assert_eq!(
        (pool.available_memory(), pool.unallocated_memory()),
        (128, 0)
    );
    // A charge would free the buffer: refused, and so is a new chunk.
    assert!(!pool.charge(100, false));
    assert!(pool.take_chunk(false).is_none());
    // So is an allocation of another size, which waits (here: fails).
    let e = pool.allocate(100, Duration::ZERO).unwrap_err();
    assert!(matches!(e, Error::BufferExhausted(_)), "{e:?}");
    assert_eq!(pool.available_memory(), 128, "refusals take nothing");
    // The buffer itself serves a request of its size.
    let again = pool.allocate(128, Duration::ZERO).unwrap();
    held.push(again);
    // Forced, a charge frees what it must and goes into debt for the rest.
    assert!(pool.charge(100, true));
    assert_eq!(pool.debt(), 100);
    pool.release(100);
    // Once half of the pool is back, free buffers are freed on demand.
    for buffer in held.drain(..4) {
        pool.deallocate(buffer, 128);
    }
    assert_eq!(pool.available_memory(), 512);
    assert!(pool.charge(100, false));
    assert_eq!(pool.unallocated_memory(), 28, "one buffer freed for it");
    pool.release(100);
    for buffer in held {
        pool.deallocate(buffer, 128);
    }
    assert_eq!(pool.available_memory(), 1024);
    assert_eq!(pool.debt(), 0);
}

#[test]
fn a_waiter_whose_patience_runs_out_frees_buffers_of_another_size() {
    use crate::producer::future::THUNK_CHUNK_COST;
    let pool = Arc::new(
        BufferPool::new(64 * 1024, 16384, Arc::new(SystemClock))
            .with_patience(Duration::from_millis(20)),
    );
    // 48 KiB held for good (a broker that is down), 16 KiB free as four
    // 4 KiB buffers: under pressure, and no chunk is free.
    let held = pool.allocate(48 * 1024, Duration::ZERO).unwrap();
    let free: Vec<_> = (0..4)
        .map(|_| pool.allocate(4096, Duration::ZERO).unwrap())
        .collect();
    for buffer in free {
        pool.deallocate(buffer, 4096);
    }
    assert_eq!(pool.unallocated_memory(), 0);
    // A new batch with a callback needs a buffer and a chunk. Nothing will
    // come back, so once its patience is out it frees a free buffer for
    // the chunk rather than failing with memory free.
    let m = pool.allocate_with_chunk(4096, 0, LONG).unwrap();
    assert_eq!((m.buffer.capacity(), m.counted), (4096, 4096));
    assert_eq!(m.charged, THUNK_CHUNK_COST);
    assert!(m.chunk.is_some());
    assert_eq!(pool.queued(), 0);
    pool.deallocate_with_charge(
        m.buffer,
        m.counted,
        m.charged,
        m.chunk.into_iter().collect(),
    );
    pool.deallocate(held, 48 * 1024);
    assert_eq!(pool.available_memory(), 64 * 1024);
    assert_eq!(pool.debt(), 0);
}

#[test]
fn a_buffer_its_first_chunk_and_a_reserve_are_granted_together() {
    use crate::producer::future::{THUNK_CHUNK, THUNK_CHUNK_COST as COST};
    let total = 16384;
    let pool = pool(total, 4096);
    let m = pool.allocate_with_chunk(4096, 300, LONG).unwrap();
    let (buffer, counted, charged, chunk) = (m.buffer, m.counted, m.charged, m.chunk);
    assert_eq!(
        (buffer.capacity(), counted, charged),
        (4096, 4096, 300 + COST)
    );
    let chunk = chunk.expect("room for a chunk");
    assert_eq!((chunk.len(), chunk.capacity()), (0, THUNK_CHUNK));
    assert_eq!(pool.available_memory(), total - 4096 - 300 - COST);
    // Not enough for all of it: it waits for all (here: fails at once)
    // and takes nothing.
    let left = pool.available_memory();
    let e = pool
        .allocate_with_chunk(4096, left, Duration::ZERO)
        .unwrap_err();
    assert!(matches!(e, Error::BufferExhausted(_)), "{e:?}");
    assert_eq!(pool.available_memory(), left);
    // The buffer and the chunk are kept, the rest comes back as a charge.
    let (buffer_at, chunk_at) = (buffer.as_ptr() as usize, chunk.as_ptr() as usize);
    pool.deallocate_with_charge(buffer, 4096, charged, vec![chunk]);
    assert_eq!(pool.available_memory(), total);
    assert_eq!(pool.unallocated_memory(), total - 4096 - COST);
    // Both serve the next batch, the reserve comes from the rest.
    let m = pool.allocate_with_chunk(4096, 300, LONG).unwrap();
    let (again, charged, chunk) = (m.buffer, m.charged, m.chunk);
    assert_eq!(again.as_ptr() as usize, buffer_at);
    let chunk = chunk.expect("room for a chunk");
    assert_eq!(chunk.as_ptr() as usize, chunk_at);
    assert_eq!(pool.unallocated_memory(), total - 4096 - COST - 300);
    pool.deallocate_with_charge(again, 4096, charged, vec![chunk]);
    // The reserve is capped at what the pool has beside the buffer and
    // the chunk; the wait frees the kept ones to make room.
    let m = pool.allocate_with_chunk(100, 100_000, LONG).unwrap();
    let (whole, counted, charged, chunk) = (m.buffer, m.counted, m.charged, m.chunk);
    assert_eq!(
        (whole.capacity(), counted, charged),
        (100, 100, total - 100)
    );
    assert_eq!(pool.available_memory(), 0);
    pool.deallocate_with_charge(whole, 100, charged, chunk.into_iter().collect());
    assert_eq!(pool.available_memory(), total);
    assert_eq!(pool.debt(), 0);
    // A pool too small for a buffer and a chunk grants the buffer alone.
    let small = self::pool(COST, COST);
    let m = small.allocate_with_chunk(COST, 10, LONG).unwrap();
    assert_eq!((m.counted, m.charged, m.chunk.is_none()), (COST, 0, true));
    small.deallocate(m.buffer, m.counted);
}

#[test]
fn a_forced_charge_goes_into_debt_which_returned_memory_pays_first() {
    let pool = pool(512, 128);
    let buffers: Vec<_> = (0..3)
        .map(|_| pool.allocate(128, Duration::ZERO).unwrap())
        .collect();
    pool.deallocate(buffers.into_iter().next().unwrap(), 128);
    // 256 free (one pooled buffer, 128 unallocated); 2 buffers held.
    assert_eq!(pool.available_memory(), 256);
    assert!(pool.charge(400, true));
    assert_eq!(pool.debt(), 144);
    assert_eq!(pool.available_memory(), 0);
    assert_eq!(pool.unallocated_memory(), 0);
    // Nothing can be allocated while in debt.
    let e = pool.allocate(1, Duration::ZERO).unwrap_err();
    assert!(matches!(e, Error::BufferExhausted(_)), "{e:?}");
    // A returned pooled buffer pays the debt instead of being kept.
    pool.deallocate(Vec::with_capacity(128), 128);
    assert_eq!(pool.debt(), 16);
    assert_eq!(pool.available_memory(), 0);
    // A waiter is served once the debt is paid and memory is left.
    let waiter = {
        let pool = Arc::clone(&pool);
        thread::spawn(move || pool.allocate(100, LONG))
    };
    wait_for("the allocation to block", || pool.queued() == 1);
    pool.release(400);
    let got = waiter.join().unwrap().unwrap();
    assert_eq!(pool.debt(), 0);
    assert_eq!(pool.available_memory(), 512 - 128 - 100);
    pool.deallocate_with_charge(got, 100, 0, Vec::new());
    pool.deallocate(Vec::with_capacity(128), 128);
    assert_eq!(pool.available_memory(), 512);
}

#[test]
fn debug_shows_the_accounting_not_the_bytes() {
    let pool = pool(100, 10);
    let s = format!("{pool:?}");
    assert!(
        s.contains("available_memory: 100") && s.contains("queued: 0"),
        "{s}"
    );
}

#[test]
fn new_batch_buffers_are_rounded_up_to_a_class() {
    let pool = pool(1 << 20, 16384);
    assert_eq!(pool.class_size_for(0), SMALLEST_CLASS);
    assert_eq!(pool.class_size_for(1), 4096);
    assert_eq!(pool.class_size_for(4096), 4096);
    assert_eq!(pool.class_size_for(4097), 8192);
    assert_eq!(pool.class_size_for(10_000), 16384);
    assert_eq!(pool.class_size_for(16384), 16384);
    assert_eq!(
        pool.class_size_for(20_000),
        20_000,
        "over batch.size: exact"
    );
    // A batch.size that is not a power of two is the last class.
    let odd = self::pool(1 << 20, 100_000);
    assert_eq!(odd.class_size_for(70_000), 100_000);
    assert_eq!(odd.class_size_for(40_000), 65536);
}

#[test]
fn buffers_of_every_class_are_recycled() {
    let pool = pool(1 << 20, 16384);
    for size in [4096, 8192, 16384] {
        let buffer = pool.allocate(size, Duration::ZERO).unwrap();
        assert_eq!(buffer.capacity(), size);
        let address = buffer.as_ptr() as usize;
        pool.deallocate(buffer, size);
        assert_eq!(pool.available_memory(), 1 << 20);
        let again = pool.allocate(size, Duration::ZERO).unwrap();
        assert_eq!(again.as_ptr() as usize, address, "class {size} reused");
        pool.deallocate(again, size);
    }
    // All three are kept, and they are free memory.
    assert_eq!(pool.unallocated_memory(), (1 << 20) - 4096 - 8192 - 16384);
    // A request of another size frees kept buffers up, smallest first.
    let big = pool.allocate((1 << 20) - 16384, Duration::ZERO).unwrap();
    assert_eq!(pool.unallocated_memory(), 0);
    assert_eq!(pool.available_memory(), 16384);
    pool.deallocate(big, (1 << 20) - 16384);
    // Not a power of two below batch.size: only the accounting is kept.
    let odd = pool.allocate(5000, Duration::ZERO).unwrap();
    pool.deallocate(odd, 5000);
    assert_eq!(pool.unallocated_memory(), (1 << 20) - 16384);
}

#[test]
fn a_batch_takes_its_own_class_before_a_pooled_buffer() {
    let pool = pool(1 << 20, 16384);
    let small = pool.allocate(4096, Duration::ZERO).unwrap();
    let full = pool.allocate(16384, Duration::ZERO).unwrap();
    pool.deallocate(small, 4096);
    pool.deallocate(full, 16384);
    let (a, counted_a) = pool.allocate_batch(4096, Duration::ZERO).unwrap();
    assert_eq!((a.capacity(), counted_a), (4096, 4096));
    // No 4 KiB buffer left: the free batch.size buffer is taken whole.
    let (b, counted_b) = pool.allocate_batch(4096, Duration::ZERO).unwrap();
    assert_eq!((b.capacity(), counted_b), (16384, 16384));
    // Neither left: a new one of the class.
    let (c, counted_c) = pool.allocate_batch(4096, Duration::ZERO).unwrap();
    assert_eq!((c.capacity(), counted_c), (4096, 4096));
    for (buffer, counted) in [(a, counted_a), (b, counted_b), (c, counted_c)] {
        pool.deallocate(buffer, counted);
    }
    assert_eq!(pool.available_memory(), 1 << 20);
}

#[test]
fn growing_takes_the_next_class_and_recycles_the_old_buffer() {
    let pool = pool(64 * 1024, 16384);
    let mut buffer = pool.allocate(4096, Duration::ZERO).unwrap();
    buffer.extend_from_slice(b"batch bytes");
    let old_address = buffer.as_ptr() as usize;
    let mut bigger = pool.grow(4096, 8192, false).unwrap();
    assert_eq!((bigger.len(), bigger.capacity()), (0, 8192));
    // Both are counted until the old one comes back.
    assert_eq!(pool.available_memory(), 64 * 1024 - 4096 - 8192);
    bigger.extend_from_slice(&buffer);
    pool.deallocate(buffer, 4096);
    assert_eq!(pool.available_memory(), 64 * 1024 - 8192);
    // The old buffer serves the next small batch.
    let next = pool.allocate(4096, Duration::ZERO).unwrap();
    assert_eq!(next.as_ptr() as usize, old_address);
    pool.deallocate(next, 4096);
    pool.deallocate(bigger, 8192);
    assert_eq!(pool.available_memory(), 64 * 1024);
}

#[test]
fn a_growth_is_refused_when_short_and_a_forced_one_is_paid_by_the_old_buffer() {
    let pool = pool(12 * 1024, 16384);
    let a = pool.allocate(4096, Duration::ZERO).unwrap();
    let b = pool.allocate(4096, Duration::ZERO).unwrap();
    // 4 KiB free: not enough for 4 -> 16 KiB even with the old 4 KiB back.
    assert!(pool.grow(4096, 16384, false).is_none());
    assert_eq!(pool.available_memory(), 4096, "a refusal takes nothing");
    // Enough for 4 -> 8 KiB once the old 4 KiB come back, but under
    // pressure (less than half of the pool available) the new buffer
    // must fit in the unallocated bytes: the old one would pay the
    // difference by being freed instead of kept.
    assert!(pool.grow(4096, 8192, false).is_none());
    assert_eq!(pool.debt(), 0);
    // Forced, a growth goes into debt beyond the old buffer too.
    let forced = pool.grow(4096, 16384, true).unwrap();
    assert_eq!(pool.debt(), 12 * 1024);
    pool.deallocate(b, 4096);
    pool.deallocate(a, 4096);
    assert_eq!(pool.debt(), 4096);
    // Returned in debt, the 16 KiB buffer pays it and is not kept.
    pool.deallocate(forced, 16384);
    assert_eq!(pool.debt(), 0);
    assert_eq!(pool.available_memory(), 12 * 1024);
    assert_eq!(pool.unallocated_memory(), 12 * 1024);
}

#[test]
fn with_half_of_the_pool_available_a_growth_frees_free_buffers_and_the_old_one_pays() {
    let pool = pool(16 * 1024, 16384);
    let held = pool.allocate(8192, Duration::ZERO).unwrap();
    let free: Vec<_> = (0..2)
        .map(|_| pool.allocate(4096, Duration::ZERO).unwrap())
        .collect();
    for buffer in free {
        pool.deallocate(buffer, 4096);
    }
    // Half of the pool available, all of it in two free 4 KiB buffers:
    // they are freed for the 16 KiB buffer, and the 8 KiB still held
    // become debt until the old buffer comes back.
    let grown = pool.grow(8192, 16384, false).unwrap();
    assert_eq!(grown.capacity(), 16384);
    assert_eq!(pool.debt(), 8192);
    assert_eq!(pool.available_memory(), 0);
    pool.deallocate(held, 8192);
    assert_eq!(pool.debt(), 0, "the old buffer paid the debt");
    pool.deallocate(grown, 16384);
    assert_eq!(pool.available_memory(), 16 * 1024);
    assert_eq!(pool.unallocated_memory(), 0, "the 16 KiB buffer is kept");
}

#[test]
fn thunk_chunks_come_back_and_are_reused() {
    use crate::producer::future::{THUNK_CHUNK, THUNK_CHUNK_COST};
    let total = 64 * 1024;
    let pool = pool(total, 16384);
    let chunk = pool.take_chunk(false).unwrap();
    assert_eq!((chunk.len(), chunk.capacity()), (0, THUNK_CHUNK));
    assert_eq!(pool.available_memory(), total - THUNK_CHUNK_COST);
    let address = chunk.as_ptr() as usize;
    // Given back with the charge that counted it: kept, and free.
    pool.deallocate_with_charge(Vec::new(), 0, THUNK_CHUNK_COST, vec![chunk]);
    assert_eq!(pool.available_memory(), total);
    assert_eq!(pool.unallocated_memory(), total - THUNK_CHUNK_COST);
    let again = pool.take_chunk(false).unwrap();
    assert_eq!(again.as_ptr() as usize, address, "the kept chunk");
    assert_eq!(pool.unallocated_memory(), total - THUNK_CHUNK_COST);
    // A chunk of another capacity is not kept (charged as any memory).
    assert!(pool.charge(THUNK_CHUNK_COST, false));
    pool.deallocate_with_charge(
        Vec::new(),
        0,
        2 * THUNK_CHUNK_COST,
        vec![again, Vec::with_capacity(1)],
    );
    assert_eq!(pool.available_memory(), total);
    assert_eq!(pool.unallocated_memory(), total - THUNK_CHUNK_COST);
}

#[test]
fn a_chunk_is_refused_when_memory_is_short_unless_forced() {
    use crate::producer::future::THUNK_CHUNK_COST;
    let pool = pool(4096, 4096);
    let buffer = pool.allocate(4096, Duration::ZERO).unwrap();
    assert!(pool.take_chunk(false).is_none());
    assert_eq!(pool.debt(), 0, "a refusal takes nothing");
    let chunk = pool.take_chunk(true).unwrap();
    assert_eq!(pool.debt(), THUNK_CHUNK_COST);
    // Returned in debt: the chunk pays it and is not kept.
    pool.deallocate_with_charge(Vec::new(), 0, THUNK_CHUNK_COST, vec![chunk]);
    assert_eq!(pool.debt(), 0);
    pool.deallocate(buffer, 4096);
    assert_eq!(pool.available_memory(), 4096);
    assert_eq!(pool.unallocated_memory(), 0, "only the buffer is kept");
}
