//! The `BufferPool` (Java `BufferPool`): bounds the memory that record
//! batches may hold to `buffer.memory`, and recycles batch buffers so that
//! a steady stream of batches allocates nothing.
//!
//! Java recycles only buffers of exactly `batch.size` bytes, the size every
//! Java batch starts with. Ours start small and double as they fill (see
//! `ProducerBatch`), so the pool also recycles the smaller *classes*:
//! buffers of exactly 4 KiB, 8 KiB, ... below `batch.size`. A batch grows
//! by taking a buffer of the next class ([`BufferPool::grow`]) and giving
//! its old one back. Not only does this save the allocator's work: buffers
//! are taken by caller threads and freed by the network thread, and with
//! glibc's per-thread arenas, memory freed that way stays resident in the
//! caller's arena, beside the memory that the next allocation takes from
//! elsewhere. Kept here, it is reused and counted within `buffer.memory`.
//!
//! Memory is counted in two places: `non_pooled_available` (bytes nobody
//! holds) and the free lists of class buffers. A request is served at once
//! when nobody waits and the two together cover it (see *Pressure* for
//! when free buffers of other sizes may be freed to do so); otherwise the
//! caller queues and waits:
//!
//! ```text
//!   allocate(size)                      deallocate(buf, size)
//!     size > total ──────────▶ Err        size == cap, a class, no debt
//!     closed ────────────────▶ Err          ──▶ its free list
//!     someone waits ─────────▶ queue       else ──▶ non_pooled += size
//!     a class, one is free ──▶ take it     signal the first waiter
//!     enough memory ─▶ take it
//!     else: waiters.push_back(me)
//!       loop until gathered == size:
//!         wait (deadline) ── closed ─▶ Err, give back what was gathered
//!                         └─ timeout ─▶ Err, give back what was gathered
//!         what it needs is free whole ─▶ take it, give back the gathered
//!         gather what is there (piecemeal)
//!       waiters.remove(me)
//!     signal the next waiter if memory is left
//! ```
//!
//! Fairness: waiters form a FIFO queue, one condition variable each, and only
//! the head of the queue is signalled; newcomers queue behind it even when
//! free buffers are there (they may be what the head waits for). Memory
//! therefore goes to the longest waiting thread until it has all it asked
//! for, so a large request is never starved by a stream of small ones.
//!
//! # Pressure (not in Java)
//!
//! Freeing a free buffer (or chunk) to allocate one of another size is a
//! *conversion*. Java's pool does it whenever a request of another size
//! comes; a garbage collector compacts the heap behind it. Here each
//! conversion is a `free` and a `malloc` of another size, and under load
//! they leave holes in the heap that the next allocations do not fit: at
//! 1000 partitions, with batches growing through the classes and the pool
//! full, conversions went through more bytes than the pool holds, and the
//! process's resident memory ended 13 MiB above the memory in use.
//!
//! So the pool converts only when it is not under pressure: when at least
//! half of it is available (unallocated, free, or gathered by the waiting
//! thread). Under pressure, free memory keeps its sizes: a waiter takes
//! what comes back when it fits whole (a free buffer of at least its
//! class, and a chunk), otherwise only unallocated bytes; a growth or a
//! charge that would need a conversion is refused (the batch counts as
//! full, as when memory is short); and while a thread waits, nothing is
//! taken past it. Batches come back (with threads waiting, every batch
//! is ready to send), so a waiter is usually served whole, or once half
//! of the pool is available. When memory does not come back (a broker is
//! down and its batches hold the memory in use until they expire) or not
//! in the size asked, a thread that has waited longer than the pool's
//! *patience* (100 ms) converts anyway, rather than failing with
//! `BufferExhausted` while memory is free. Forced growths and charges (a
//! batch's first record) still convert.
//!
//! # Charges (not in Java)
//!
//! Besides batch buffers, the pool counts the memory records hold while
//! they wait outside their batch's bytes: their callbacks and `Thunk`s (see
//! `ProducerBatch`). Thunk chunks are recycled like buffers: a batch takes
//! each from the pool (`take_chunk`), and they come back emptied with the
//! batch's charge, to a free list of their own. Such memory is *charged*
//! (`charge`) while a caller holds a deque lock, so a charge never blocks:
//! it either is refused (when memory is short; the batch then counts as
//! full and the record goes to a new batch, whose allocation waits as
//! usual) or, when forced, takes what there is and puts the pool into
//! *debt* for the rest. Returned memory pays the debt first, so while the
//! pool is in debt nothing is free and every allocation waits. A new batch
//! for a record with a callback takes its buffer, its first thunk chunk and
//! an estimate of its callbacks' boxes in one wait (`allocate_with_chunk`),
//! so that its first record needs no forced charge (debt, which returned
//! chunks and buffers would pay by being freed instead of kept). Charges
//! come back with the batch (`deallocate_with_charge`) or, unused, when it
//! is drained (`release`).
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
use crate::producer::future::{Thunk, THUNK_CHUNK, THUNK_CHUNK_COST};
use crate::util::clock::{Clock, SystemClock};

/// The smallest buffer class, and the buffer a new batch starts with unless
/// its first record needs more: a batch holding one small record counts
/// this much against `buffer.memory`, not `batch.size`.
pub(crate) const SMALLEST_CLASS: usize = 4096;

/// The pool: `buffer.memory` bytes in total, recycling batch buffers.
pub(crate) struct BufferPool {
    total_memory: usize,
    poolable_size: usize,
    clock: Arc<dyn Clock>,
    /// How long a waiting thread waits for what it needs to come back
    /// whole before it may free free buffers of other sizes anyway (see
    /// the module's notes on pressure).
    patience: Duration,
    state: Mutex<State>,
}

/// The default [`BufferPool`] patience: far longer than memory takes to
/// come back while batches flow (a produce round trip), short enough
/// that a send is not held up for long when it does not (the memory in
/// use waits for a broker that is down, and what is free is not of the
/// size asked).
const PATIENCE: Duration = Duration::from_millis(100);

/// Everything the lock guards.
struct State {
    /// Pooled buffers, each of capacity exactly `poolable_size`, empty.
    free: VecDeque<Vec<u8>>,
    /// Empty buffers of the smaller classes, by class: index `i` holds
    /// buffers of capacity exactly `SMALLEST_CLASS << i` (all below
    /// `poolable_size`).
    small: Vec<Vec<Vec<u8>>>,
    /// Bytes in `small`.
    small_bytes: usize,
    /// Empty thunk chunks (capacity exactly `THUNK_CHUNK`), each counted
    /// as `THUNK_CHUNK_COST` bytes.
    chunks: Vec<Vec<Thunk>>,
    /// One condition variable per blocked allocation, oldest first.
    waiters: VecDeque<Arc<Condvar>>,
    /// `total_memory` minus the bytes held by callers and by the free
    /// lists.
    non_pooled_available: usize,
    /// Bytes charged beyond `total_memory`: paid back before any memory
    /// becomes available again. While it is non-zero, the free lists are
    /// empty and `non_pooled_available` is zero.
    debt: usize,
    closed: bool,
}

/// The index in `State::small` of a buffer of `capacity` bytes, if it is a
/// small class of a pool whose poolable size is `poolable_size`.
fn small_class(capacity: usize, poolable_size: usize) -> Option<usize> {
    (capacity >= SMALLEST_CLASS && capacity < poolable_size && capacity.is_power_of_two())
        .then(|| (capacity / SMALLEST_CLASS).trailing_zeros() as usize)
}

impl State {
    /// Moves free buffers into the non-pooled count (the small classes
    /// first, smallest first, then thunk chunks, then pooled buffers from
    /// the tail of the free list) until it covers `size`, or the free lists
    /// are empty.
    fn free_up(&mut self, size: usize) {
        for class in &mut self.small {
            while self.non_pooled_available < size {
                match class.pop() {
                    Some(buffer) => {
                        self.small_bytes -= buffer.capacity();
                        self.non_pooled_available += buffer.capacity();
                    }
                    None => break,
                }
            }
        }
        while self.non_pooled_available < size && self.chunks.pop().is_some() {
            self.non_pooled_available += THUNK_CHUNK_COST;
        }
        while self.non_pooled_available < size {
            match self.free.pop_back() {
                Some(buffer) => self.non_pooled_available += buffer.capacity(),
                None => break,
            }
        }
    }

    /// A free buffer of exactly `size` bytes' capacity, if `size` is a
    /// class (`poolable_size` or a small class) and one is free.
    fn take_class(&mut self, size: usize, poolable_size: usize) -> Option<Vec<u8>> {
        if size == poolable_size {
            return self.free.pop_front();
        }
        let buffer = self
            .small
            .get_mut(small_class(size, poolable_size)?)?
            .pop()?;
        self.small_bytes -= size;
        Some(buffer)
    }

    /// The smallest class of at least `size` bytes that has a free buffer.
    fn free_class_at_least(&self, size: usize, poolable_size: usize) -> Option<usize> {
        if size > poolable_size {
            return None;
        }
        let first = small_class(size.max(SMALLEST_CLASS).next_power_of_two(), poolable_size);
        if let Some(first) = first {
            if let Some(i) = (first..self.small.len()).find(|&i| !self.small[i].is_empty()) {
                return Some(SMALLEST_CLASS << i);
            }
        }
        (!self.free.is_empty()).then_some(poolable_size)
    }

    /// Keeps `buffer`, which counted `size` bytes, on its class's free list
    /// if it is a class buffer and the pool is not in debt. Otherwise only
    /// the accounting comes back (paying the debt first) and the buffer is
    /// handed back to be freed outside the lock.
    fn put_back(&mut self, mut buffer: Vec<u8>, size: usize, poolable_size: usize) -> Vec<u8> {
        if size == buffer.capacity() && self.debt == 0 {
            if size == poolable_size {
                buffer.clear();
                self.free.push_back(buffer);
                return Vec::new();
            }
            if let Some(class) = small_class(size, poolable_size) {
                buffer.clear();
                self.small[class].push(buffer);
                self.small_bytes += size;
                return Vec::new();
            }
        }
        self.give_back(size);
        buffer
    }

    /// Bytes in the free lists.
    fn free_bytes(&self, poolable_size: usize) -> usize {
        self.free.len() * poolable_size + self.small_bytes + self.chunks.len() * THUNK_CHUNK_COST
    }

    /// Wakes the head of the queue when there is any memory it could take.
    fn signal_next_waiter_if_memory_available(&self) {
        if self.non_pooled_available > 0
            || !self.free.is_empty()
            || self.small_bytes > 0
            || !self.chunks.is_empty()
        {
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

/// What the locked part of an allocation hands to the unlocked part.
enum Granted<W> {
    /// What was asked, taken whole at once (free buffers, mostly).
    Whole(W),
    /// `size` bytes reserved; what they are for is allocated after
    /// unlocking.
    Reserved,
}

/// What [`BufferPool::allocate_with_chunk`] grants a new batch.
#[derive(Debug)]
pub(crate) struct NewBatchMemory {
    /// The batch's buffer.
    pub(crate) buffer: Vec<u8>,
    /// The bytes the buffer counts against the pool.
    pub(crate) counted: usize,
    /// The bytes charged beside it: the chunk's and the reserve.
    pub(crate) charged: usize,
    /// The first thunk chunk; `None` in a pool too small for it.
    pub(crate) chunk: Option<Vec<Thunk>>,
}

/// A new batch's memory taken whole from the pool: a free buffer (or
/// `None`: allocate one of the size asked), the bytes it counts, and a
/// free thunk chunk (or `None`: allocate one).
type BatchMemory = (Option<Vec<u8>>, usize, Option<Vec<Thunk>>);

impl BufferPool {
    /// A pool of `total_memory` bytes (`buffer.memory`) that keeps buffers of
    /// `poolable_size` bytes (`batch.size`), and of the smaller classes, for
    /// reuse.
    pub(crate) fn new(total_memory: usize, poolable_size: usize, clock: Arc<dyn Clock>) -> Self {
        let small_classes = (0..usize::BITS)
            .map_while(|i| SMALLEST_CLASS.checked_shl(i))
            .take_while(|&c| c < poolable_size)
            .count();
        BufferPool {
            total_memory,
            poolable_size,
            clock,
            patience: PATIENCE,
            state: Mutex::new(State {
                free: VecDeque::new(),
                small: vec![Vec::new(); small_classes],
                small_bytes: 0,
                chunks: Vec::new(),
                waiters: VecDeque::new(),
                non_pooled_available: total_memory,
                debt: 0,
                closed: false,
            }),
        }
    }

    /// The pool with another patience (see [`PATIENCE`]).
    #[cfg(test)]
    pub(crate) fn with_patience(mut self, patience: Duration) -> Self {
        self.patience = patience;
        self
    }

    /// The capacity a new batch's buffer gets for `size` bytes: the
    /// smallest class that holds them (`SMALLEST_CLASS` doubled, or
    /// `poolable_size`), so that the buffer can be recycled; `size` itself
    /// when it exceeds `poolable_size`.
    pub(crate) fn class_size_for(&self, size: usize) -> usize {
        if size >= self.poolable_size {
            return size;
        }
        let class = size.max(SMALLEST_CLASS).next_power_of_two();
        class.min(self.poolable_size)
    }

    /// An empty buffer of at least `size` bytes' capacity, blocking at most
    /// `max_time_to_block` for memory to be freed.
    ///
    /// A request of exactly a class's size (`poolable_size`, or
    /// `SMALLEST_CLASS` doubled below it) gets a buffer whose capacity is
    /// exactly `size` (recycled when its free list has one). Fails with
    /// [`Error::BufferExhausted`] when the deadline passes,
    /// [`Error::Closed`] when the pool is (or gets) closed, and
    /// [`Error::Other`] when `size` exceeds the whole pool.
    #[allow(dead_code)] // tests; batches take theirs with allocate_batch
    pub(crate) fn allocate(
        &self,
        size: usize,
        max_time_to_block: Duration,
    ) -> Result<Vec<u8>, Error> {
        let poolable = self.poolable_size;
        match self.acquire(size, max_time_to_block, |state| {
            state.take_class(size, poolable)
        })? {
            Granted::Whole(buffer) => Ok(buffer),
            // Allocated outside the lock: other threads need not wait for
            // the allocator.
            Granted::Reserved => Ok(Vec::with_capacity(size)),
        }
    }

    /// The accounting part of an allocation: `size` bytes taken, or what
    /// `whole` takes at once (free buffers) when it can, before waiting and
    /// at the first wake-up.
    fn acquire<W>(
        &self,
        size: usize,
        max_time_to_block: Duration,
        mut whole: impl FnMut(&mut State) -> Option<W>,
    ) -> Result<Granted<W>, Error> {
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
        let granted = self.grant(&mut state, size, &mut whole, max_time_to_block, deadline);
        // Whatever happened, pass leftover memory on to the next in line.
        state.signal_next_waiter_if_memory_available();
        granted
    }

    /// A buffer for a new batch: [`allocate`](Self::allocate) of `size`
    /// bytes, except that when `size`'s own class has no free buffer, a
    /// free buffer of a larger class is taken whole rather than freed to
    /// make room (a recycled buffer in use rather than idle but resident).
    /// Returns the buffer and the bytes it counts against the pool: its
    /// capacity, or `size` for a new buffer.
    pub(crate) fn allocate_batch(
        &self,
        size: usize,
        max_time_to_block: Duration,
    ) -> Result<(Vec<u8>, usize), Error> {
        let poolable = self.poolable_size;
        let at_least = |state: &mut State| {
            let class = state.free_class_at_least(size, poolable)?;
            state.take_class(class, poolable)
        };
        match self.acquire(size, max_time_to_block, at_least)? {
            Granted::Whole(buffer) => {
                let counted = buffer.capacity();
                Ok((buffer, counted))
            }
            Granted::Reserved => Ok((Vec::with_capacity(size), size)),
        }
    }

    /// The memory of a new batch whose first record has a callback, granted
    /// in one wait so that a thread never holds part of it while waiting
    /// for the rest: a buffer of `size` bytes as
    /// [`allocate_batch`](Self::allocate_batch) gives it, the first thunk
    /// chunk, and a charge of up to `reserve` more bytes (as
    /// [`charge`](Self::charge) takes them) for the callbacks' boxes.
    /// Free buffers and chunks are taken when there are some, rather than
    /// freed to make room for new ones.
    ///
    /// The reserve is less than asked if the pool is too small for it. In
    /// a pool too small for the buffer and a chunk, only the buffer is
    /// granted, as [`allocate_batch`](Self::allocate_batch) does (the first
    /// record's chunk is then charged when it is appended).
    pub(crate) fn allocate_with_chunk(
        &self,
        size: usize,
        reserve: usize,
        max_time_to_block: Duration,
    ) -> Result<NewBatchMemory, Error> {
        if size.saturating_add(THUNK_CHUNK_COST) > self.total_memory {
            let (buffer, counted) = self.allocate_batch(size, max_time_to_block)?;
            return Ok(NewBatchMemory {
                buffer,
                counted,
                charged: 0,
                chunk: None,
            });
        }
        let reserve = reserve.min(
            self.total_memory
                .saturating_sub(size)
                .saturating_sub(THUNK_CHUNK_COST),
        );
        let charged = reserve + THUNK_CHUNK_COST;
        let whole = |state: &mut State| self.take_batch_memory(state, size, charged);
        let (buffer, counted, chunk) =
            match self.acquire(size + charged, max_time_to_block, whole)? {
                Granted::Whole(memory) => memory,
                // Gathered piecemeal (accounting only): free ones, if there
                // are some by now, replace the bytes taken for the buffer and
                // the chunk.
                Granted::Reserved => {
                    let mut state = self.state.lock();
                    let buffer = state.take_class(size, self.poolable_size);
                    if buffer.is_some() {
                        state.give_back(size);
                    }
                    let chunk = state.chunks.pop();
                    if chunk.is_some() {
                        state.give_back(THUNK_CHUNK_COST);
                    }
                    state.signal_next_waiter_if_memory_available();
                    (buffer, size, chunk)
                }
            };
        let buffer = buffer.unwrap_or_else(|| Vec::with_capacity(size));
        let chunk = chunk.unwrap_or_else(|| Vec::with_capacity(THUNK_CHUNK));
        Ok(NewBatchMemory {
            buffer,
            counted,
            charged,
            chunk: Some(chunk),
        })
    }

    /// The locked part of [`allocate_with_chunk`](Self::allocate_with_chunk)
    /// when the free memory covers it all: a free buffer of at least
    /// `size` bytes and a free chunk when there are some (taken rather than
    /// freed to make room for new ones), and the rest of `size + charged`
    /// from the unallocated bytes.
    fn take_batch_memory(
        &self,
        state: &mut State,
        size: usize,
        charged: usize,
    ) -> Option<BatchMemory> {
        let class = state.free_class_at_least(size, self.poolable_size);
        let counted = class.unwrap_or(size);
        if self.available_locked(state) < counted + charged {
            return None;
        }
        let raw = if class.is_some() { 0 } else { size }
            + if state.chunks.is_empty() {
                THUNK_CHUNK_COST
            } else {
                0
            }
            + (charged - THUNK_CHUNK_COST);
        if !self.may_free_up(state, raw, 0) {
            return None;
        }
        let buffer = class.and_then(|c| state.take_class(c, self.poolable_size));
        let chunk = state.chunks.pop();
        state.free_up(raw);
        state.non_pooled_available -= raw;
        Some((buffer, counted, chunk))
    }

    /// A new, empty buffer of at least `to` bytes' capacity for a batch
    /// whose buffer counts `from` bytes and must grow, without blocking
    /// (the caller holds a deque lock): a free one of `to`'s class, else a
    /// free one of a larger class, else a new one of exactly `to` bytes.
    /// Unless `force`, refused (`None`, nothing taken) as a
    /// [`charge`](Self::charge) is: when a thread waits, when the free
    /// memory does not cover the growth, or when a new buffer would need a
    /// conversion under pressure (see the module's notes). The caller
    /// copies its bytes over and gives the old buffer back with
    /// [`deallocate`](Self::deallocate)`(old, from)`, which recycles it;
    /// the new one counts its capacity.
    ///
    /// Until then both buffers are counted: when the free memory covers the
    /// growth but not the whole new buffer, the difference is debt, which
    /// the old buffer pays on its return.
    pub(crate) fn grow(&self, from: usize, to: usize, force: bool) -> Option<Vec<u8>> {
        let mut state = self.state.lock();
        if !force && (!state.waiters.is_empty() || self.available_locked(&state) + from < to) {
            return None;
        }
        // A free buffer of the class, or of a larger one rather than
        // freeing it to allocate this one.
        if let Some(class) = state.free_class_at_least(to, self.poolable_size) {
            return state.take_class(class, self.poolable_size);
        }
        if !force && !self.may_free_up(&state, to, 0) {
            return None;
        }
        state.free_up(to);
        let taken = to.min(state.non_pooled_available);
        state.non_pooled_available -= taken;
        state.debt += to - taken;
        drop(state);
        Some(Vec::with_capacity(to))
    }

    /// The locked part of `allocate`.
    fn grant<W>(
        &self,
        state: &mut MutexGuard<'_, State>,
        size: usize,
        whole: &mut impl FnMut(&mut State) -> Option<W>,
        max_time_to_block: Duration,
        deadline: Option<std::time::Instant>,
    ) -> Result<Granted<W>, Error> {
        // First come, first served: while a thread waits, newcomers queue
        // behind it, even when free memory is there (it may be what the
        // head of the queue waits to take whole).
        if state.waiters.is_empty() {
            if let Some(w) = whole(state) {
                return Ok(Granted::Whole(w));
            }
            if self.available_locked(state) >= size && self.may_free_up(state, size, 0) {
                state.free_up(size);
                state.non_pooled_available -= size;
                return Ok(Granted::Reserved);
            }
        }
        // Out of memory: queue and gather memory as it is freed.
        let me = Arc::new(Condvar::new());
        state.waiters.push_back(Arc::clone(&me));
        let mut accumulated = 0;
        // Real time, whatever the pool's clock: it only bounds a wait.
        let patient_until = SystemClock.now().checked_add(self.patience);
        let outcome = loop {
            if accumulated >= size {
                break Ok(Granted::Reserved);
            }
            let patient = patient_until.is_some_and(|t| SystemClock.now() < t);
            let wake_at = match (deadline, patient_until.filter(|_| patient)) {
                (Some(d), Some(p)) => Some(d.min(p)),
                (d, p) => d.or(p),
            };
            let timed_out = match wake_at {
                Some(at) => me.wait_until(state, at).timed_out() && wake_at == deadline,
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
            if let Some(w) = whole(state) {
                // Served whole: what was gathered so far goes back.
                state.non_pooled_available += accumulated;
                break Ok(Granted::Whole(w));
            }
            // Take what there is; the rest may come with later wake-ups.
            // Free buffers and chunks are freed to make up the rest only
            // when the pool is not under pressure (`may_free_up`); until
            // then the thread waits for what it needs to come back whole,
            // or as unallocated bytes.
            // Nor, once its patience is out, for a thread that waited in
            // vain (memory does not come back, or not in the size asked).
            let rest = size - accumulated;
            let impatient = patient_until.is_some_and(|t| SystemClock.now() >= t);
            if impatient || self.may_free_up(state, rest, accumulated) {
                state.free_up(rest);
            }
            let got = rest.min(state.non_pooled_available);
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

    /// Returns a buffer. `size` is the bytes it counts against the pool
    /// (what was asked of [`BufferPool::allocate`], plus growth); the
    /// buffer goes back to its class's free list only when its capacity is
    /// exactly `size` and `size` is a class (a buffer that grew by itself
    /// is dropped, and only the accounting returns).
    pub(crate) fn deallocate(&self, buffer: Vec<u8>, size: usize) {
        self.deallocate_with_charge(buffer, size, 0, Vec::new());
    }

    /// [`deallocate`](Self::deallocate), and gives back `charged` bytes
    /// taken by [`charge`](Self::charge) and [`take_chunk`](Self::take_chunk),
    /// under one lock, with the empty thunk `chunks`: those are kept for
    /// `take_chunk` (their cost moving from the charge to the free list)
    /// unless the pool is in debt.
    pub(crate) fn deallocate_with_charge(
        &self,
        buffer: Vec<u8>,
        size: usize,
        charged: usize,
        mut chunks: Vec<Vec<Thunk>>,
    ) {
        let mut state = self.state.lock();
        state.give_back(charged);
        while state.debt == 0 && state.non_pooled_available >= THUNK_CHUNK_COST {
            match chunks.pop() {
                Some(chunk) if chunk.is_empty() && chunk.capacity() == THUNK_CHUNK => {
                    state.non_pooled_available -= THUNK_CHUNK_COST;
                    state.chunks.push(chunk);
                }
                Some(_) => {}
                None => break,
            }
        }
        // In debt, a class buffer pays the debt instead of being kept.
        let buffer = state.put_back(buffer, size, self.poolable_size);
        if let Some(waiter) = state.waiters.front() {
            waiter.notify_one();
        }
        drop(state);
        // What is not kept is freed here, after the lock is released.
        drop(buffer);
        drop(chunks);
    }

    /// Charges `size` bytes held outside batch buffers (records' callbacks
    /// and thunks) without blocking; they are given back with
    /// [`release`](Self::release) or
    /// [`deallocate_with_charge`](Self::deallocate_with_charge).
    ///
    /// Unless `force`, the charge is refused (returns `false`, nothing
    /// taken) when a thread waits for memory, when the free memory does
    /// not cover it, or when the unallocated bytes do not cover it and the
    /// pool is under pressure (free buffers would have to be freed; see the
    /// module's notes). A forced charge
    /// always succeeds: what free memory does not
    /// cover becomes debt, which returned memory pays before anyone can
    /// allocate again.
    pub(crate) fn charge(&self, size: usize, force: bool) -> bool {
        let mut state = self.state.lock();
        self.charge_locked(&mut state, size, force)
    }

    /// The locked part of [`charge`](Self::charge).
    fn charge_locked(&self, state: &mut State, size: usize, force: bool) -> bool {
        if !force
            && (!state.waiters.is_empty()
                || self.available_locked(state) < size
                || !self.may_free_up(state, size, 0))
        {
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
        self.deallocate_with_charge(Vec::new(), 0, size, Vec::new());
    }

    /// An empty thunk chunk for a batch, counted as `THUNK_CHUNK_COST`
    /// bytes until the batch gives it back with its charge
    /// ([`deallocate_with_charge`](Self::deallocate_with_charge)): a kept
    /// one when there is one, else a new one, charged as
    /// [`charge`](Self::charge) does (so refused, `None`, when memory is
    /// short or a thread waits for it, unless `force`).
    pub(crate) fn take_chunk(&self, force: bool) -> Option<Vec<Thunk>> {
        let mut state = self.state.lock();
        if !force && !state.waiters.is_empty() {
            return None;
        }
        if let Some(chunk) = state.chunks.pop() {
            return Some(chunk);
        }
        if !self.charge_locked(&mut state, THUNK_CHUNK_COST, force) {
            return None;
        }
        drop(state);
        Some(Vec::with_capacity(THUNK_CHUNK))
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

    /// Whether `size` bytes may be taken from the unallocated bytes,
    /// freeing free buffers and chunks to make room if need be: always
    /// when the unallocated bytes cover them, otherwise only while at least
    /// half of the pool is available: unallocated, free, or `gathered` by
    /// the thread asking. Under pressure, free memory keeps its sizes (see
    /// the module's notes on pressure).
    fn may_free_up(&self, state: &State, size: usize, gathered: usize) -> bool {
        state.non_pooled_available >= size
            || self.available_locked(state) + gathered >= self.total_memory / 2
    }

    fn available_locked(&self, state: &State) -> usize {
        state.non_pooled_available + state.free_bytes(self.poolable_size)
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
                .field("free_small_bytes", &state.small_bytes)
                .field("free_chunks", &state.chunks.len())
                .field("debt", &state.debt)
                .field("queued", &state.waiters.len())
                .field("closed", &state.closed),
            None => d.field("state", &"<locked>"),
        };
        d.finish()
    }
}

#[cfg(test)]
mod tests;
