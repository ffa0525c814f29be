//! The `BufferPool` (Java `BufferPool`): bounds the memory that record
//! batches may hold to `buffer.memory`, and recycles buffers of exactly
//! `batch.size` bytes so that a steady stream of full batches allocates
//! nothing.
//!
//! Memory is counted in two places: `non_pooled_available` (bytes nobody
//! holds) and the free list of pooled buffers. A request is served at once
//! when the two together cover it; otherwise the caller queues and waits:
//!
//! ```text
//!   allocate(size)                      deallocate(buf, size)
//!     size > total ──────────▶ Err        size == poolable && cap == poolable
//!     closed ────────────────▶ Err          ──▶ free.push_back(buf)
//!     pooled size, free list ─▶ pop_front  else ──▶ non_pooled += size
//!     enough memory ─▶ take it            signal the first waiter
//!     else: waiters.push_back(me)
//!       loop until gathered == size:
//!         wait (deadline) ── closed ─▶ Err, give back what was gathered
//!                         └─ timeout ─▶ Err, give back what was gathered
//!         gather what is there (piecemeal)
//!       waiters.remove(me)
//!     signal the next waiter if memory is left
//! ```
//!
//! Fairness: waiters form a FIFO queue, one condition variable each, and only
//! the head of the queue is signalled. Memory therefore goes to the longest
//! waiting thread until it has all it asked for, so a large request is never
//! starved by a stream of small ones.
//!
//! # Charges (not in Java)
//!
//! Besides batch buffers, the pool counts the memory records hold while they
//! wait outside their batch's bytes: their callbacks and `Thunk`s (see
//! `ProducerBatch`). Such memory is *charged* (`charge`) while a caller
//! holds a deque lock, so a charge never blocks: it either is refused (when
//! memory is short; the batch then counts as full
//! and the record goes to a new batch, whose allocation waits as usual) or,
//! when forced, takes what there is and puts the pool into *debt* for the
//! rest. Returned memory pays the debt first, so while the pool is in debt
//! nothing is free and every allocation waits. A new batch for a record
//! with a callback takes its buffer and an estimate of its callbacks'
//! memory in one wait (`allocate_with_reserve`). Charges come back with
//! the batch (`deallocate_with_charge`) or, unused, when it is drained
//! (`release`).
//!
//! ```text
//!   charge(n, force)                    release(n) / deallocate*(.., n)
//!     too little and !force ─▶ false           debt first: debt -= min(debt, n)
//!     free_up(n); take min(n, non_pooled)       the rest ─▶ non_pooled
//!     the rest ─▶ debt (force only)             signal the first waiter
//! ```
//!
//! Not here: the wait-time and buffer-exhausted metrics (there is no metrics
//! registry yet).

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Condvar, Mutex, MutexGuard};

use crate::error::Error;
use crate::util::clock::Clock;

/// The pool: `buffer.memory` bytes in total, recycling `batch.size` buffers.
pub(crate) struct BufferPool {
    total_memory: usize,
    poolable_size: usize,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
}

/// Everything the lock guards.
struct State {
    /// Pooled buffers, each of capacity exactly `poolable_size`, empty.
    free: VecDeque<Vec<u8>>,
    /// One condition variable per blocked allocation, oldest first.
    waiters: VecDeque<Arc<Condvar>>,
    /// `total_memory` minus the bytes held by callers and by `free`.
    non_pooled_available: usize,
    /// Bytes charged beyond `total_memory`: paid back before any memory
    /// becomes available again. While it is non-zero, `free` is empty and
    /// `non_pooled_available` is zero.
    debt: usize,
    closed: bool,
}

impl State {
    /// Moves pooled buffers (from the tail of the free list) into the
    /// non-pooled count until it covers `size`, or the free list is empty.
    fn free_up(&mut self, size: usize) {
        while self.non_pooled_available < size {
            match self.free.pop_back() {
                Some(buffer) => self.non_pooled_available += buffer.capacity(),
                None => break,
            }
        }
    }

    /// Wakes the head of the queue when there is any memory it could take.
    fn signal_next_waiter_if_memory_available(&self) {
        if self.non_pooled_available > 0 || !self.free.is_empty() {
            if let Some(waiter) = self.waiters.front() {
                waiter.notify_one();
            }
        }
    }

    /// Takes back `size` bytes: the debt is paid first.
    fn give_back(&mut self, size: usize) {
        let paid = size.min(self.debt);
        self.debt -= paid;
        self.non_pooled_available += size - paid;
    }

    fn remove_waiter(&mut self, waiter: &Arc<Condvar>) {
        if let Some(i) = self.waiters.iter().position(|w| Arc::ptr_eq(w, waiter)) {
            self.waiters.remove(i);
        }
    }
}

/// What the locked part of `allocate` hands to the unlocked part.
enum Granted {
    /// A buffer from the free list.
    Pooled(Vec<u8>),
    /// `size` bytes reserved; the buffer is allocated after unlocking.
    Reserved,
}

impl BufferPool {
    /// A pool of `total_memory` bytes (`buffer.memory`) that keeps buffers of
    /// `poolable_size` bytes (`batch.size`) for reuse.
    pub(crate) fn new(total_memory: usize, poolable_size: usize, clock: Arc<dyn Clock>) -> Self {
        BufferPool {
            total_memory,
            poolable_size,
            clock,
            state: Mutex::new(State {
                free: VecDeque::new(),
                waiters: VecDeque::new(),
                non_pooled_available: total_memory,
                debt: 0,
                closed: false,
            }),
        }
    }

    /// An empty buffer of at least `size` bytes' capacity, blocking at most
    /// `max_time_to_block` for memory to be freed.
    ///
    /// A request of exactly `poolable_size` bytes gets a buffer whose
    /// capacity is exactly `poolable_size` (recycled when the free list has
    /// one). Fails with [`Error::BufferExhausted`] when the deadline passes,
    /// [`Error::Closed`] when the pool is (or gets) closed, and
    /// [`Error::Other`] when `size` exceeds the whole pool.
    pub(crate) fn allocate(
        &self,
        size: usize,
        max_time_to_block: Duration,
    ) -> Result<Vec<u8>, Error> {
        if size > self.total_memory {
            return Err(Error::Other(format!(
                "Attempt to allocate {size} bytes, but there is a hard limit of {} on memory allocations.",
                self.total_memory
            )));
        }
        // The deadline is fixed at entry, so wake-ups that bring too little
        // memory do not extend the total wait.
        let deadline = self.clock.now().checked_add(max_time_to_block);

        let mut state = self.state.lock();
        if state.closed {
            return Err(closed_error());
        }
        let granted = self.grant(&mut state, size, max_time_to_block, deadline);
        // Whatever happened, pass leftover memory on to the next in line.
        state.signal_next_waiter_if_memory_available();
        drop(state);

        match granted? {
            Granted::Pooled(buffer) => Ok(buffer),
            // Allocated outside the lock: other threads need not wait for
            // the allocator.
            Granted::Reserved => Ok(Vec::with_capacity(size)),
        }
    }

    /// A buffer for a new batch: [`allocate`](Self::allocate) of `size`
    /// bytes, except that a request below `poolable_size` takes a pooled
    /// buffer when one is free and nobody waits (recycled buffers stay in
    /// use rather than idle but resident; they are already counted as
    /// taken). Returns the buffer and the bytes it counts against the pool:
    /// `size`, or `poolable_size` for a pooled buffer.
    pub(crate) fn allocate_batch(
        &self,
        size: usize,
        max_time_to_block: Duration,
    ) -> Result<(Vec<u8>, usize), Error> {
        if size < self.poolable_size {
            let mut state = self.state.lock();
            if !state.closed && state.waiters.is_empty() {
                if let Some(buffer) = state.free.pop_front() {
                    return Ok((buffer, self.poolable_size));
                }
            }
        }
        Ok((self.allocate(size, max_time_to_block)?, size))
    }

    /// [`allocate_batch`](Self::allocate_batch) of `size` bytes plus a
    /// charge of up to `reserve` bytes (as [`charge`](Self::charge) takes
    /// them), granted together so that a thread never holds one while
    /// waiting for the other. Returns the buffer, the bytes it counts
    /// against the pool, and the bytes charged: `reserve`, or what is left
    /// of the pool beside `size` if that is less.
    pub(crate) fn allocate_with_reserve(
        &self,
        size: usize,
        reserve: usize,
        max_time_to_block: Duration,
    ) -> Result<(Vec<u8>, usize, usize), Error> {
        let reserve = reserve.min(self.total_memory.saturating_sub(size));
        if reserve == 0 {
            let (buffer, charged) = self.allocate_batch(size, max_time_to_block)?;
            return Ok((buffer, charged, 0));
        }
        // A pooled buffer when there is one and memory beside it for the
        // reserve: batch buffers keep being recycled (a fresh buffer would
        // leave the pooled ones idle but resident).
        if size <= self.poolable_size {
            let mut state = self.state.lock();
            let beside = state.non_pooled_available
                + state.free.len().saturating_sub(1) * self.poolable_size;
            if !state.closed && state.waiters.is_empty() && beside >= reserve {
                if let Some(buffer) = state.free.pop_front() {
                    state.free_up(reserve);
                    state.non_pooled_available -= reserve;
                    return Ok((buffer, self.poolable_size, reserve));
                }
            }
        }
        let buffer = self.allocate(size + reserve, max_time_to_block)?;
        // The buffer is for `size` bytes: a pooled one (`size + reserve` is
        // exactly `poolable_size`) is dropped, and its memory stays counted
        // as taken until the batch gives `size` and the charge back.
        let buffer = if buffer.capacity() == size {
            buffer
        } else {
            Vec::with_capacity(size)
        };
        Ok((buffer, size, reserve))
    }

    /// The locked part of `allocate`.
    fn grant(
        &self,
        state: &mut MutexGuard<'_, State>,
        size: usize,
        max_time_to_block: Duration,
        deadline: Option<std::time::Instant>,
    ) -> Result<Granted, Error> {
        if size == self.poolable_size {
            if let Some(buffer) = state.free.pop_front() {
                return Ok(Granted::Pooled(buffer));
            }
        }
        let free_list_size = state.free.len() * self.poolable_size;
        if state.non_pooled_available + free_list_size >= size {
            state.free_up(size);
            state.non_pooled_available -= size;
            return Ok(Granted::Reserved);
        }

        // Out of memory: queue and gather memory as it is freed.
        let me = Arc::new(Condvar::new());
        state.waiters.push_back(Arc::clone(&me));
        let mut accumulated = 0;
        let outcome = loop {
            if accumulated >= size {
                break Ok(Granted::Reserved);
            }
            let timed_out = match deadline {
                Some(deadline) => me.wait_until(state, deadline).timed_out(),
                None => {
                    me.wait(state);
                    false
                }
            };
            if state.closed {
                break Err(closed_error());
            }
            if timed_out {
                // The message reports the memory available to others, so it
                // is built before the gathered bytes go back.
                break Err(Error::BufferExhausted(format!(
                    "Failed to allocate {size} bytes within the configured max blocking time {} ms. \
                     Total memory: {} bytes. Available memory: {} bytes. Poolable size: {} bytes",
                    max_time_to_block.as_millis(),
                    self.total_memory,
                    self.available_locked(state),
                    self.poolable_size
                )));
            }
            if accumulated == 0 && size == self.poolable_size {
                if let Some(buffer) = state.free.pop_front() {
                    break Ok(Granted::Pooled(buffer));
                }
            }
            // Take what there is; the rest may come with later wake-ups.
            state.free_up(size - accumulated);
            let got = (size - accumulated).min(state.non_pooled_available);
            state.non_pooled_available -= got;
            accumulated += got;
        };
        if outcome.is_err() {
            // Memory gathered before the failure is not lost.
            state.non_pooled_available += accumulated;
        }
        state.remove_waiter(&me);
        outcome
    }

    /// Returns a buffer. `size` is the size that was asked of
    /// [`BufferPool::allocate`]; the buffer goes back to the free list only
    /// when both it and the buffer's capacity are `poolable_size` (a buffer
    /// that grew is dropped, and only the accounting returns).
    #[allow(dead_code)] // tests; the producer gives back charges with buffers
    pub(crate) fn deallocate(&self, buffer: Vec<u8>, size: usize) {
        self.deallocate_with_charge(buffer, size, 0);
    }

    /// [`deallocate`](Self::deallocate), and gives back `charged` bytes
    /// taken by [`charge`](Self::charge), under one lock.
    pub(crate) fn deallocate_with_charge(&self, mut buffer: Vec<u8>, size: usize, charged: usize) {
        let mut state = self.state.lock();
        state.give_back(charged);
        // In debt, a pooled buffer pays the debt instead of being kept.
        if size == self.poolable_size && buffer.capacity() == self.poolable_size && state.debt == 0
        {
            buffer.clear();
            state.free.push_back(buffer);
            buffer = Vec::new();
        } else {
            state.give_back(size);
        }
        if let Some(waiter) = state.waiters.front() {
            waiter.notify_one();
        }
        drop(state);
        // A non-pooled buffer is freed here, after the lock is released.
        drop(buffer);
    }

    /// Charges `size` bytes held outside batch buffers (records' callbacks
    /// and thunks) without blocking; they are given back with
    /// [`release`](Self::release) or
    /// [`deallocate_with_charge`](Self::deallocate_with_charge).
    ///
    /// Unless `force`, the charge is refused (returns `false`, nothing
    /// taken) when the free memory does not cover it. A forced charge
    /// always succeeds: what free memory does not
    /// cover becomes debt, which returned memory pays before anyone can
    /// allocate again.
    pub(crate) fn charge(&self, size: usize, force: bool) -> bool {
        let mut state = self.state.lock();
        let free_list_size = state.free.len() * self.poolable_size;
        if !force && state.non_pooled_available + free_list_size < size {
            return false;
        }
        state.free_up(size);
        let taken = size.min(state.non_pooled_available);
        state.non_pooled_available -= taken;
        state.debt += size - taken;
        true
    }

    /// Gives back `size` bytes taken by [`charge`](Self::charge).
    pub(crate) fn release(&self, size: usize) {
        self.deallocate_with_charge(Vec::new(), 0, size);
    }

    /// Bytes charged beyond `buffer.memory` and not yet given back.
    #[allow(dead_code)] // tests and metrics
    pub(crate) fn debt(&self) -> usize {
        self.state.lock().debt
    }

    /// The number of threads blocked waiting for memory.
    pub(crate) fn queued(&self) -> usize {
        self.state.lock().waiters.len()
    }

    /// Free memory: unallocated bytes plus the pooled buffers (zero while
    /// the pool is in debt).
    #[allow(dead_code)] // tests and metrics
    pub(crate) fn available_memory(&self) -> usize {
        let state = self.state.lock();
        self.available_locked(&state)
    }

    fn available_locked(&self, state: &State) -> usize {
        state.non_pooled_available + state.free.len() * self.poolable_size
    }

    /// Unallocated memory: neither held by a caller nor in the free list.
    #[allow(dead_code)] // tests and metrics
    pub(crate) fn unallocated_memory(&self) -> usize {
        self.state.lock().non_pooled_available
    }

    /// The pool's size (`buffer.memory`).
    #[allow(dead_code)] // tests and metrics
    pub(crate) fn total_memory(&self) -> usize {
        self.total_memory
    }

    /// The size of the buffers kept for reuse (`batch.size`).
    #[allow(dead_code)] // tests and metrics
    pub(crate) fn poolable_size(&self) -> usize {
        self.poolable_size
    }

    /// Closes the pool: every waiting and every later allocation fails with
    /// [`Error::Closed`]. Memory can still be returned.
    pub(crate) fn close(&self) {
        let mut state = self.state.lock();
        state.closed = true;
        for waiter in &state.waiters {
            waiter.notify_one();
        }
    }
}

fn closed_error() -> Error {
    Error::Closed("Producer closed while allocating memory".to_owned())
}

impl fmt::Debug for BufferPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("BufferPool");
        d.field("total_memory", &self.total_memory)
            .field("poolable_size", &self.poolable_size);
        // try_lock: Debug must not block, nor deadlock if the caller holds
        // the lock.
        match self.state.try_lock() {
            Some(state) => d
                .field("available_memory", &self.available_locked(&state))
                .field("free_buffers", &state.free.len())
                .field("debt", &state.debt)
                .field("queued", &state.waiters.len())
                .field("closed", &state.closed),
            None => d.field("state", &"<locked>"),
        };
        d.finish()
    }
}

#[cfg(test)]
mod tests {
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
        let pool = pool(100, 10);
        let mut held: Vec<_> = (0..10)
            .map(|_| pool.allocate(10, Duration::ZERO).unwrap())
            .collect();
        let waiter = {
            let pool = Arc::clone(&pool);
            thread::spawn(move || pool.allocate(50, LONG))
        };
        wait_for("the allocation to block", || pool.queued() == 1);
        for _ in 0..3 {
            pool.deallocate(held.pop().unwrap(), 10);
            // The waiter takes each piece as it comes.
            wait_for("the waiter to take the freed buffer", || {
                pool.available_memory() == 0
            });
        }
        // 30 bytes are reserved for the head of the queue: a newcomer cannot
        // take them.
        let e = pool.allocate(10, Duration::ZERO).unwrap_err();
        assert!(matches!(e, Error::BufferExhausted(_)), "{e:?}");
        for _ in 0..2 {
            pool.deallocate(held.pop().unwrap(), 10);
        }
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
    fn a_buffer_and_its_reserve_are_granted_together() {
        let pool = pool(1024, 128);
        let (buffer, _, reserve) = pool.allocate_with_reserve(128, 300, LONG).unwrap();
        assert_eq!((buffer.capacity(), reserve), (128, 300));
        assert_eq!(pool.available_memory(), 1024 - 428);
        // Not enough for both: it waits for both (here: fails at once) and
        // takes neither.
        let e = pool
            .allocate_with_reserve(128, 500, Duration::ZERO)
            .unwrap_err();
        assert!(matches!(e, Error::BufferExhausted(_)), "{e:?}");
        assert_eq!(pool.available_memory(), 1024 - 428);
        // The buffer goes back to the free list, the reserve as a charge.
        let address = buffer.as_ptr() as usize;
        pool.deallocate_with_charge(buffer, 128, reserve);
        assert_eq!(pool.available_memory(), 1024);
        // The pooled buffer is used again, with memory beside it.
        let (again, _, reserve) = pool.allocate_with_reserve(128, 300, LONG).unwrap();
        assert_eq!((again.as_ptr() as usize, reserve), (address, 300));
        assert_eq!(pool.unallocated_memory(), 1024 - 428);
        pool.deallocate_with_charge(again, 128, reserve);
        // The reserve is capped at what the pool has beside the buffer.
        let (whole, charged, reserve) = pool.allocate_with_reserve(100, 5_000, LONG).unwrap();
        assert_eq!((whole.capacity(), charged, reserve), (100, 100, 924));
        assert_eq!(pool.available_memory(), 0);
        pool.deallocate_with_charge(whole, 100, reserve);
        assert_eq!(pool.available_memory(), 1024);
        assert_eq!(pool.debt(), 0);
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
        pool.deallocate_with_charge(got, 100, 0);
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
}
