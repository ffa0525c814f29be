//! Completion of sent records: the public [`SendFuture`] (Java
//! `FutureRecordMetadata` and `FutureFailure`) and the batch-level one-shot
//! slot it waits on, `ProduceRequestResult` (crate-internal).
//!
//! ```text
//!   ProducerBatch ──owns── thunks (callbacks, in append order)
//!        │ close() hands them over
//!        ▼
//!   ProduceRequestResult  (one per batch, shared by Arc)
//!     complete(outcome):  outcome set once ─▶ callbacks run in order ─▶ waiters wake
//!        ▲          ▲
//!   SendFuture  SendFuture ...   (slot + index in batch: nothing allocated per record)
//! ```
//!
//! The order is Java's `completeFutureAndFireCallbacks`: the outcome is
//! recorded first, then every callback runs, and only then do blocked
//! `get` calls return, so a caller that sees its future done knows the
//! callbacks of the batch have run.
//!
//! A batch that is split after `MESSAGE_TOO_LARGE` completes its slot with
//! `BatchOutcome::Split`: every record's future then follows to the slot
//! of the new batch that holds it, and callbacks still waiting in the old
//! slot move there too, so the public API does not change when splitting
//! is added.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use smallbox::space::S4;
use smallbox::{smallbox, SmallBox};

use crate::common::TopicPartition;
use crate::error::Error;
use crate::producer::record::RecordMetadata;
use crate::record::NO_TIMESTAMP;
use crate::util::clock::Clock;

/// A send callback: called once, on the network thread, with the record's
/// metadata or the error that failed it.
///
/// A closure of up to four words (its captures and a flag) is stored in
/// place, without an allocation: the caller thread would allocate it and
/// the network thread free it, one allocation per record handed between
/// two threads, which costs more than the rest of the callback's path when
/// the two threads run on distant cores (see docs/performance.md). Larger
/// closures are boxed.
pub(crate) struct RecordCallback(SmallBox<dyn FnMut(Result<RecordMetadata, Error>) + Send, S4>);

impl RecordCallback {
    /// Wraps `f`, in place if it is small enough.
    pub(crate) fn new(f: impl FnOnce(Result<RecordMetadata, Error>) + Send + 'static) -> Self {
        // `FnMut` over an `Option`: a `dyn FnOnce` cannot be called out of
        // a `SmallBox`, and `call` consumes the callback, so it runs once.
        let mut f = Some(f);
        RecordCallback(smallbox!(move |result| {
            if let Some(f) = f.take() {
                f(result);
            }
        }))
    }

    /// Runs the callback.
    pub(crate) fn call(mut self, result: Result<RecordMetadata, Error>) {
        (self.0)(result);
    }

    /// Heap bytes the callback holds, with the allocator's overhead: none
    /// when stored in place. What its captures point to is not seen.
    pub(crate) fn heap_cost(&self) -> usize {
        if self.0.is_heap() {
            allocation_cost(std::mem::size_of_val(&*self.0))
        } else {
            0
        }
    }
}

/// A record a batch took: its place in the batch and what its metadata
/// reports besides the batch's outcome. Its callback's thunk and its
/// future each hold one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AppendedRecord {
    pub(crate) index: i32,
    pub(crate) timestamp: i64,
    pub(crate) key_size: i32,
    pub(crate) value_size: i32,
}

/// A callback waiting for its batch, with what it needs to build the
/// record's metadata (Java `Thunk`). Only records sent with a callback
/// have one.
pub(crate) struct Thunk {
    pub(crate) record: AppendedRecord,
    pub(crate) callback: RecordCallback,
}

/// Thunks per chunk of a [`ThunkList`].
pub(crate) const THUNK_CHUNK: usize = 32;

/// Bytes the allocator takes for a block of `size` bytes, the way glibc's
/// malloc does (an 8-byte header, 16-byte granularity, 32 bytes at least);
/// nothing for zero-sized blocks, which are never allocated.
pub(crate) const fn allocation_cost(size: usize) -> usize {
    if size == 0 {
        0
    } else {
        let rounded = (size + 8 + 15) & !15;
        if rounded < 32 {
            32
        } else {
            rounded
        }
    }
}

/// Memory one chunk of a [`ThunkList`] holds: the chunk, and twice its slot
/// in the list of chunks (which grows by doubling).
pub(crate) const THUNK_CHUNK_COST: usize =
    allocation_cost(THUNK_CHUNK * std::mem::size_of::<Thunk>())
        + 2 * std::mem::size_of::<Vec<Thunk>>();

/// The callbacks of a batch, in append order: chunks of [`THUNK_CHUNK`]
/// thunks, so that the list never holds much more than it uses (a `Vec`
/// growing by doubling wastes a quarter of its capacity on average) and
/// its memory is known when a record is appended ([`THUNK_CHUNK_COST`] per
/// chunk).
#[derive(Default)]
pub(crate) struct ThunkList {
    /// Every chunk holds at least one thunk; all but the last are full.
    chunks: Vec<Vec<Thunk>>,
}

impl ThunkList {
    /// A list of one thunk (no spare capacity).
    pub(crate) fn one(thunk: Thunk) -> Self {
        ThunkList {
            chunks: vec![vec![thunk]],
        }
    }

    /// Adds an empty chunk (from the pool's free list) for the next
    /// thunks; only when [`next_push_allocates`](Self::next_push_allocates).
    pub(crate) fn add_chunk(&mut self, chunk: Vec<Thunk>) {
        debug_assert!(chunk.is_empty() && chunk.capacity() > 0);
        self.chunks.push(chunk);
    }

    /// Whether the next [`push`](Self::push) allocates a chunk.
    pub(crate) fn next_push_allocates(&self) -> bool {
        self.chunks.last().is_none_or(|c| c.len() == c.capacity())
    }

    /// Appends a thunk.
    pub(crate) fn push(&mut self, thunk: Thunk) {
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < chunk.capacity() => chunk.push(thunk),
            _ => {
                let mut chunk = Vec::with_capacity(THUNK_CHUNK);
                chunk.push(thunk);
                self.chunks.push(chunk);
            }
        }
    }

    /// Appends all of `other`'s thunks after this list's, without copying
    /// them.
    pub(crate) fn append(&mut self, other: ThunkList) {
        if self.chunks.is_empty() {
            *self = other;
        } else {
            self.chunks.extend(other.chunks);
        }
    }

    /// Whether the list holds no thunk.
    pub(crate) fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// The number of thunks.
    #[allow(dead_code)] // tests
    pub(crate) fn len(&self) -> usize {
        self.chunks.iter().map(Vec::len).sum()
    }
}

impl IntoIterator for ThunkList {
    type Item = Thunk;
    type IntoIter = std::iter::Flatten<std::vec::IntoIter<Vec<Thunk>>>;

    fn into_iter(self) -> Self::IntoIter {
        self.chunks.into_iter().flatten()
    }
}

impl FromIterator<Thunk> for ThunkList {
    fn from_iter<I: IntoIterator<Item = Thunk>>(iter: I) -> Self {
        let mut list = ThunkList::default();
        for thunk in iter {
            list.push(thunk);
        }
        list
    }
}

impl fmt::Debug for ThunkList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThunkList")
            .field("chunks", &self.chunks.len())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Thunk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Thunk")
            .field("index", &self.record.index)
            .finish_non_exhaustive()
    }
}

/// Errors of individual records of a failed batch (Java's `recordErrors`
/// of a partition response): the listed records get their own error, the
/// others `other`.
#[derive(Debug, Clone)]
pub(crate) struct RecordErrors {
    by_index: Vec<(i32, Error)>,
    other: Error,
}

impl RecordErrors {
    /// Errors for the listed batch indexes; every other record gets `other`.
    pub(crate) fn new(mut by_index: Vec<(i32, Error)>, other: Error) -> Self {
        by_index.sort_by_key(|(i, _)| *i);
        RecordErrors { by_index, other }
    }

    fn error_for(&self, index: i32) -> &Error {
        match self.by_index.binary_search_by_key(&index, |(i, _)| *i) {
            Ok(pos) => &self.by_index[pos].1,
            Err(_) => &self.other,
        }
    }
}

/// How a batch ended.
#[derive(Debug, Clone)]
pub(crate) enum BatchOutcome {
    /// The broker appended the batch. `log_append_time` is -1 unless the
    /// topic uses `LogAppendTime`; `base_offset` is -1 when unknown.
    Success {
        base_offset: i64,
        log_append_time: i64,
    },
    /// The batch failed; every record gets `error` unless `record_errors`
    /// says otherwise.
    Failed {
        error: Error,
        record_errors: Option<RecordErrors>,
    },
    /// The batch was split; record `i` now lives at `targets[i]`
    /// (slot, index in the new batch).
    Split(Vec<(Arc<ProduceRequestResult>, i32)>),
}

impl BatchOutcome {
    fn error_for(&self, index: i32) -> Option<Error> {
        match self {
            BatchOutcome::Failed {
                error,
                record_errors,
            } => Some(
                record_errors
                    .as_ref()
                    .map_or(error, |r| r.error_for(index))
                    .clone(),
            ),
            _ => None,
        }
    }
}

/// Java's `ProducerBatch.FinalState`, kept for the log messages about
/// completions that arrive after the first one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FinalState {
    /// Aborted by the client (forced close, transaction abort).
    Aborted,
    /// Failed: error response, expiry.
    Failed,
    /// Acknowledged by the broker.
    Succeeded,
}

struct SlotState {
    outcome: Option<Arc<BatchOutcome>>,
    final_state: Option<FinalState>,
    /// Java's latch: set after the callbacks have run.
    completed: bool,
    thunks: ThunkList,
    /// The chunks the callbacks were in, emptied when they ran, for the
    /// buffer pool to reuse ([`take_spare_chunks`](ProduceRequestResult::take_spare_chunks)).
    spare_chunks: Vec<Vec<Thunk>>,
}

/// The completion slot shared by one batch and all its records' futures
/// (Java `ProduceRequestResult`): set once, then every waiter wakes.
pub(crate) struct ProduceRequestResult {
    tp: TopicPartition,
    clock: Arc<dyn Clock>,
    state: Mutex<SlotState>,
    done: Condvar,
}

impl fmt::Debug for ProduceRequestResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.state.lock();
        f.debug_struct("ProduceRequestResult")
            .field("tp", &self.tp)
            .field("final_state", &s.final_state)
            .field("completed", &s.completed)
            .finish_non_exhaustive()
    }
}

impl ProduceRequestResult {
    /// An empty slot for a batch of `tp`. The clock turns `get_timeout`
    /// durations into deadlines.
    pub(crate) fn new(tp: TopicPartition, clock: Arc<dyn Clock>) -> Arc<Self> {
        Arc::new(ProduceRequestResult {
            tp,
            clock,
            state: Mutex::new(SlotState {
                outcome: None,
                final_state: None,
                completed: false,
                thunks: ThunkList::default(),
                spare_chunks: Vec::new(),
            }),
            done: Condvar::new(),
        })
    }

    /// The batch's topic-partition.
    pub(crate) fn topic_partition(&self) -> &TopicPartition {
        &self.tp
    }

    /// Hands over callbacks from the batch. If the slot is already set
    /// (the batch was completed while these were still in the batch, e.g.
    /// aborted while being drained) they run at once with its outcome, so
    /// no callback is ever lost.
    pub(crate) fn add_thunks(&self, thunks: ThunkList) {
        if thunks.is_empty() {
            return;
        }
        let outcome = {
            let mut s = self.state.lock();
            match &s.outcome {
                None => {
                    s.thunks.append(thunks);
                    return;
                }
                Some(outcome) => outcome.clone(),
            }
        };
        let spare = self.fire(&outcome, thunks);
        self.state.lock().spare_chunks.extend(spare);
    }

    /// The emptied chunks of the callbacks that ran at completion (see
    /// `BufferPool::take_chunk`).
    pub(crate) fn take_spare_chunks(&self) -> Vec<Vec<Thunk>> {
        std::mem::take(&mut self.state.lock().spare_chunks)
    }

    /// Sets the outcome unless one is already set, runs the callbacks in
    /// append order, then wakes every waiter. Returns whether this call set
    /// it; later completions are logged and ignored (Java's `done`).
    pub(crate) fn complete(&self, outcome: BatchOutcome, final_state: Option<FinalState>) -> bool {
        let outcome = Arc::new(outcome);
        let thunks = {
            let mut s = self.state.lock();
            if s.outcome.is_some() {
                match (s.final_state, final_state) {
                    (Some(FinalState::Succeeded), _) => log::error!(
                        "a batch for {} that succeeded must not change state again (to {:?}); this is a bug in the client",
                        self.tp,
                        final_state
                    ),
                    (previous, Some(FinalState::Succeeded)) => log::debug!(
                        "produce response for {} succeeded after the batch had already been {:?}",
                        self.tp,
                        previous
                    ),
                    (previous, _) => log::debug!(
                        "ignored state transition {:?} -> {:?} for a batch of {}",
                        previous,
                        final_state,
                        self.tp
                    ),
                }
                return false;
            }
            s.outcome = Some(outcome.clone());
            s.final_state = final_state;
            std::mem::take(&mut s.thunks)
        };
        let spare = self.fire(&outcome, thunks);
        {
            let mut s = self.state.lock();
            s.completed = true;
            s.spare_chunks.extend(spare);
        }
        self.done.notify_all();
        true
    }

    /// Runs callbacks with an outcome (or forwards them after a split).
    /// Returns the emptied chunks of full size, for reuse.
    fn fire(&self, outcome: &BatchOutcome, thunks: ThunkList) -> Vec<Vec<Thunk>> {
        if let BatchOutcome::Split(targets) = outcome {
            for mut thunk in thunks {
                match usize::try_from(thunk.record.index)
                    .ok()
                    .and_then(|i| targets.get(i))
                {
                    Some((slot, new_index)) => {
                        thunk.record.index = *new_index;
                        slot.add_thunks(ThunkList::one(thunk));
                    }
                    None => log::error!(
                        "record {} of a split batch for {} has no new batch; this is a bug in the client",
                        thunk.record.index,
                        self.tp
                    ),
                }
            }
            return Vec::new();
        }
        let mut chunks = thunks.chunks;
        for chunk in &mut chunks {
            for thunk in chunk.drain(..) {
                self.run(outcome, thunk);
            }
        }
        chunks.retain(|c| c.capacity() == THUNK_CHUNK);
        chunks
    }

    /// Runs one record's callback with its result.
    fn run(&self, outcome: &BatchOutcome, thunk: Thunk) {
        let result = self.record_result(outcome, thunk.record);
        let callback = thunk.callback;
        // A panicking callback must not keep the other records' callbacks
        // from running nor their futures from waking (Java catches and
        // logs exceptions from callbacks too).
        if catch_unwind(AssertUnwindSafe(move || callback.call(result))).is_err() {
            log::error!(
                "error executing user-provided callback on message for topic-partition '{}'",
                self.tp
            );
        }
    }

    /// The result of one record once the outcome is known (not for `Split`).
    fn record_result(
        &self,
        outcome: &BatchOutcome,
        record: AppendedRecord,
    ) -> Result<RecordMetadata, Error> {
        let AppendedRecord {
            index,
            timestamp,
            key_size,
            value_size,
        } = record;
        match outcome {
            BatchOutcome::Success {
                base_offset,
                log_append_time,
            } => {
                let timestamp = if *log_append_time != NO_TIMESTAMP {
                    *log_append_time
                } else {
                    timestamp
                };
                Ok(RecordMetadata::new(
                    self.tp.clone(),
                    *base_offset,
                    index,
                    timestamp,
                    key_size,
                    value_size,
                ))
            }
            other => Err(other.error_for(index).unwrap_or_else(|| {
                Error::Other(format!(
                    "record of a split batch for {} not resolved",
                    self.tp
                ))
            })),
        }
    }

    /// The slots the records moved to, once completed as split (each slot
    /// once, in record order).
    pub(crate) fn split_targets(&self) -> Option<Vec<Arc<ProduceRequestResult>>> {
        let outcome = self.outcome()?;
        let BatchOutcome::Split(targets) = &*outcome else {
            return None;
        };
        let mut slots: Vec<Arc<ProduceRequestResult>> = Vec::new();
        for (slot, _) in targets {
            if !slots.last().is_some_and(|s| Arc::ptr_eq(s, slot)) {
                slots.push(Arc::clone(slot));
            }
        }
        Some(slots)
    }

    /// Whether the outcome is set and the callbacks have run.
    pub(crate) fn is_completed(&self) -> bool {
        self.state.lock().completed
    }

    /// The final state, once set.
    pub(crate) fn final_state(&self) -> Option<FinalState> {
        self.state.lock().final_state
    }

    /// Blocks until completed or the deadline (`None`: no deadline) passes;
    /// returns whether it completed.
    pub(crate) fn await_until(&self, deadline: Option<Instant>) -> bool {
        let mut s = self.state.lock();
        while !s.completed {
            match deadline {
                None => self.done.wait(&mut s),
                Some(d) => {
                    if self.done.wait_until(&mut s, d).timed_out() {
                        return s.completed;
                    }
                }
            }
        }
        true
    }

    /// The deadline `timeout` from now on this slot's clock (`None` when it
    /// overflows, i.e. no deadline).
    pub(crate) fn deadline_after(&self, timeout: Duration) -> Option<Instant> {
        self.clock.now().checked_add(timeout)
    }

    fn outcome(&self) -> Option<Arc<BatchOutcome>> {
        let s = self.state.lock();
        if s.completed {
            s.outcome.clone()
        } else {
            None
        }
    }
}

/// One record inside a batch: the batch's slot and the record's index, plus
/// what its metadata reports.
#[derive(Clone)]
struct RecordHandle {
    result: Arc<ProduceRequestResult>,
    record: AppendedRecord,
}

/// What resolving a completed handle gave.
enum Resolved {
    Done(Result<RecordMetadata, Error>),
    /// The batch was split: follow the record to its new batch.
    Moved(RecordHandle),
}

impl RecordHandle {
    /// Called once the slot is completed.
    fn resolve(&self) -> Resolved {
        let Some(outcome) = self.result.outcome() else {
            return Resolved::Done(Err(Error::Other(
                "record future resolved before its batch completed".into(),
            )));
        };
        if let BatchOutcome::Split(targets) = &*outcome {
            return match usize::try_from(self.record.index)
                .ok()
                .and_then(|i| targets.get(i))
            {
                Some((slot, index)) => Resolved::Moved(RecordHandle {
                    result: slot.clone(),
                    record: AppendedRecord {
                        index: *index,
                        ..self.record
                    },
                }),
                None => Resolved::Done(Err(Error::Other(format!(
                    "record {} of a split batch for {} has no new batch",
                    self.record.index,
                    self.result.topic_partition()
                )))),
            };
        }
        Resolved::Done(self.result.record_result(&outcome, self.record))
    }
}

enum FutureState {
    Pending(RecordHandle),
    #[allow(dead_code)] // made by SendFuture::failed
    Failed(Error),
}

/// The result of one sent record, available once its batch completes
/// (Java's `Future<RecordMetadata>` returned by `send`).
///
/// [`SendFuture::get`] blocks until the broker acknowledged the record's
/// batch or the batch failed. A record's future shares its batch's
/// completion slot, so futures cost no allocation per record. When a future
/// reports done, the send callbacks of its whole batch have already run.
///
/// Calling `get` from inside a send callback on a record of the same batch
/// would wait for itself; callbacks must not do that.
pub struct SendFuture {
    state: FutureState,
}

impl fmt::Debug for SendFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.state {
            FutureState::Pending(h) => f
                .debug_struct("SendFuture")
                .field("topic_partition", h.result.topic_partition())
                .field("batch_index", &h.record.index)
                .field("done", &self.is_done())
                .finish(),
            FutureState::Failed(e) => f.debug_struct("SendFuture").field("error", e).finish(),
        }
    }
}

impl SendFuture {
    /// The future of `record` of the batch completing `result`.
    pub(crate) fn new(result: Arc<ProduceRequestResult>, record: AppendedRecord) -> Self {
        SendFuture {
            state: FutureState::Pending(RecordHandle { result, record }),
        }
    }

    /// A future that already failed: the record was rejected before it
    /// reached a batch (Java `FutureFailure`).
    #[allow(dead_code)] // send reports immediate failures as Err; kept for MockProducer
    pub(crate) fn failed(error: Error) -> Self {
        SendFuture {
            state: FutureState::Failed(error),
        }
    }

    /// Blocks until the record's batch completes; returns the record's
    /// metadata or the error that failed it.
    pub fn get(self) -> Result<RecordMetadata, Error> {
        match self.state {
            FutureState::Failed(e) => Err(e),
            FutureState::Pending(mut handle) => loop {
                handle.result.await_until(None);
                match handle.resolve() {
                    Resolved::Done(r) => return r,
                    Resolved::Moved(next) => handle = next,
                }
            },
        }
    }

    /// Like [`get`](Self::get) but waits at most `timeout`; fails with
    /// [`Error::Timeout`] if the batch has not completed by then (the
    /// future stays usable).
    pub fn get_timeout(&self, timeout: Duration) -> Result<RecordMetadata, Error> {
        let mut handle = match &self.state {
            FutureState::Failed(e) => return Err(e.clone()),
            FutureState::Pending(h) => h.clone(),
        };
        let deadline = handle.result.deadline_after(timeout);
        loop {
            if !handle.result.await_until(deadline) {
                return Err(Error::Timeout(format!(
                    "Timeout after waiting for {} ms.",
                    timeout.as_millis()
                )));
            }
            match handle.resolve() {
                Resolved::Done(r) => return r,
                Resolved::Moved(next) => handle = next,
            }
        }
    }

    /// Whether [`get`](Self::get) would return without blocking.
    #[must_use]
    pub fn is_done(&self) -> bool {
        let mut handle = match &self.state {
            FutureState::Failed(_) => return true,
            FutureState::Pending(h) => h.clone(),
        };
        loop {
            if !handle.result.is_completed() {
                return false;
            }
            match handle.resolve() {
                Resolved::Done(_) => return true,
                Resolved::Moved(next) => handle = next,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::error_code::ErrorCode;
    use crate::util::clock::MockClock;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn slot() -> Arc<ProduceRequestResult> {
        ProduceRequestResult::new(TopicPartition::new("t", 1), Arc::new(MockClock::default()))
    }

    type Log = Arc<Mutex<Vec<(i32, Result<RecordMetadata, Error>)>>>;

    fn rec(index: i32, timestamp: i64, key_size: i32, value_size: i32) -> AppendedRecord {
        AppendedRecord {
            index,
            timestamp,
            key_size,
            value_size,
        }
    }

    fn thunk(index: i32, log: &Log) -> Thunk {
        let log = log.clone();
        Thunk {
            record: rec(index, 1000 + i64::from(index), 1, 2),
            callback: RecordCallback::new(move |r| log.lock().push((index, r))),
        }
    }

    #[test]
    fn success_gives_base_plus_index_and_create_time() {
        let s = slot();
        let f0 = SendFuture::new(s.clone(), rec(0, 1000, 1, -1));
        let f2 = SendFuture::new(s.clone(), rec(2, 1002, -1, 5));
        assert!(!f0.is_done());
        assert!(s.complete(
            BatchOutcome::Success {
                base_offset: 40,
                log_append_time: -1
            },
            Some(FinalState::Succeeded)
        ));
        assert!(f0.is_done());
        let m = f2.get().unwrap();
        assert_eq!((m.offset(), m.timestamp()), (42, 1002));
        assert_eq!(
            (m.serialized_key_size(), m.serialized_value_size()),
            (-1, 5)
        );
        assert_eq!(f0.get().unwrap().offset(), 40);
    }

    #[test]
    fn log_append_time_replaces_create_time() {
        let s = slot();
        let f = SendFuture::new(s.clone(), rec(1, 1000, 1, 1));
        s.complete(
            BatchOutcome::Success {
                base_offset: 0,
                log_append_time: 77,
            },
            Some(FinalState::Succeeded),
        );
        assert_eq!(f.get_timeout(Duration::ZERO).unwrap().timestamp(), 77);
    }

    #[test]
    fn first_completion_wins() {
        let s = slot();
        let f = SendFuture::new(s.clone(), rec(0, 1, 1, 1));
        assert!(s.complete(
            BatchOutcome::Failed {
                error: Error::Timeout("expired".into()),
                record_errors: None
            },
            Some(FinalState::Failed)
        ));
        assert!(!s.complete(
            BatchOutcome::Success {
                base_offset: 1,
                log_append_time: -1
            },
            Some(FinalState::Succeeded)
        ));
        assert!(matches!(f.get(), Err(Error::Timeout(_))));
        assert_eq!(s.final_state(), Some(FinalState::Failed));
    }

    #[test]
    fn callbacks_run_in_order_before_waiters_wake() {
        let s = slot();
        let log = Arc::new(Mutex::new(Vec::new()));
        s.add_thunks(ThunkList::from_iter(vec![
            thunk(0, &log),
            thunk(1, &log),
            thunk(3, &log),
        ]));
        s.complete(
            BatchOutcome::Success {
                base_offset: 10,
                log_append_time: -1,
            },
            Some(FinalState::Succeeded),
        );
        let log = log.lock();
        let got: Vec<(i32, i64)> = log
            .iter()
            .map(|(i, r)| (*i, r.as_ref().unwrap().offset()))
            .collect();
        assert_eq!(got, vec![(0, 10), (1, 11), (3, 13)]);
    }

    #[test]
    fn waiter_blocked_in_get_sees_callbacks_done() {
        let s = slot();
        let ran = Arc::new(AtomicUsize::new(0));
        let r2 = ran.clone();
        s.add_thunks(ThunkList::from_iter(vec![Thunk {
            record: rec(0, 0, -1, -1),
            callback: RecordCallback::new(move |_| {
                r2.fetch_add(1, Ordering::SeqCst);
            }),
        }]));
        let f = SendFuture::new(s.clone(), rec(0, 0, -1, -1));
        let ran2 = ran.clone();
        let waiter = std::thread::spawn(move || {
            let r = f.get();
            (r.is_ok(), ran2.load(Ordering::SeqCst))
        });
        s.complete(
            BatchOutcome::Success {
                base_offset: 0,
                log_append_time: -1,
            },
            Some(FinalState::Succeeded),
        );
        assert_eq!(waiter.join().unwrap(), (true, 1));
    }

    #[test]
    fn per_record_errors() {
        let s = slot();
        let f0 = SendFuture::new(s.clone(), rec(0, 0, 1, 1));
        let f1 = SendFuture::new(s.clone(), rec(1, 0, 1, 1));
        s.complete(
            BatchOutcome::Failed {
                error: Error::broker(ErrorCode::INVALID_RECORD),
                record_errors: Some(RecordErrors::new(
                    vec![(1, Error::broker(ErrorCode::INVALID_TIMESTAMP))],
                    Error::Other("part of a batch with invalid records".into()),
                )),
            },
            Some(FinalState::Failed),
        );
        assert!(matches!(f0.get(), Err(Error::Other(_))));
        assert_eq!(
            f1.get().unwrap_err().code(),
            Some(ErrorCode::INVALID_TIMESTAMP)
        );
    }

    #[test]
    fn late_thunks_run_immediately() {
        let s = slot();
        s.complete(
            BatchOutcome::Failed {
                error: Error::Closed("forced".into()),
                record_errors: None,
            },
            Some(FinalState::Aborted),
        );
        let log = Arc::new(Mutex::new(Vec::new()));
        s.add_thunks(ThunkList::from_iter(vec![thunk(0, &log)]));
        assert!(matches!(log.lock()[0].1, Err(Error::Closed(_))));
    }

    #[test]
    fn panicking_callback_does_not_block_the_others() {
        let s = slot();
        let log = Arc::new(Mutex::new(Vec::new()));
        s.add_thunks(ThunkList::from_iter(vec![
            Thunk {
                record: rec(0, 0, -1, -1),
                callback: RecordCallback::new(|_| panic!("user bug")),
            },
            thunk(1, &log),
        ]));
        let f = SendFuture::new(s.clone(), rec(1, 0, -1, -1));
        s.complete(
            BatchOutcome::Success {
                base_offset: 0,
                log_append_time: -1,
            },
            Some(FinalState::Succeeded),
        );
        assert_eq!(log.lock().len(), 1);
        assert!(f.is_done());
    }

    #[test]
    fn timeout_when_not_done_and_failed_form() {
        let s = slot();
        let f = SendFuture::new(s, rec(0, 0, -1, -1));
        assert!(matches!(
            f.get_timeout(Duration::from_millis(1)),
            Err(Error::Timeout(m)) if m.contains("1 ms")
        ));
        assert!(!f.is_done());
        let failed = SendFuture::failed(Error::RecordTooLarge("big".into()));
        assert!(failed.is_done());
        assert!(matches!(
            failed.get_timeout(Duration::ZERO),
            Err(Error::RecordTooLarge(_))
        ));
    }

    #[test]
    fn split_batches_chain_futures_and_callbacks() {
        let old = slot();
        let a = slot();
        let b = slot();
        let log = Arc::new(Mutex::new(Vec::new()));
        old.add_thunks(ThunkList::from_iter(vec![thunk(0, &log), thunk(2, &log)]));
        let f2 = SendFuture::new(old.clone(), rec(2, 1002, 1, 2));
        old.complete(
            BatchOutcome::Split(vec![(a.clone(), 0), (a.clone(), 1), (b.clone(), 0)]),
            None,
        );
        assert!(!f2.is_done());
        b.complete(
            BatchOutcome::Success {
                base_offset: 500,
                log_append_time: -1,
            },
            Some(FinalState::Succeeded),
        );
        assert!(f2.is_done());
        assert_eq!(f2.get().unwrap().offset(), 500);
        assert_eq!(log.lock().len(), 1);
        a.complete(
            BatchOutcome::Success {
                base_offset: 100,
                log_append_time: -1,
            },
            Some(FinalState::Succeeded),
        );
        let offsets: Vec<(i32, i64)> = log
            .lock()
            .iter()
            .map(|(i, r)| (*i, r.as_ref().unwrap().offset()))
            .collect();
        assert_eq!(offsets, vec![(2, 500), (0, 100)]);
    }

    #[test]
    fn thunk_lists_keep_order_across_chunks_and_waste_at_most_one_chunk() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut a = ThunkList::default();
        assert!(a.is_empty() && a.next_push_allocates());
        let n = i32::try_from(THUNK_CHUNK).unwrap() + 3;
        for i in 0..n {
            let allocates = a.next_push_allocates();
            assert_eq!(
                allocates,
                usize::try_from(i).unwrap() % THUNK_CHUNK == 0,
                "{i}"
            );
            a.push(thunk(i, &log));
        }
        assert_eq!(a.len(), THUNK_CHUNK + 3);
        assert_eq!(a.chunks.len(), 2);
        assert!(a.chunks.iter().all(|c| c.capacity() == THUNK_CHUNK));
        a.append(ThunkList::one(thunk(n, &log)));
        let mut empty = ThunkList::default();
        empty.append(a);
        let order: Vec<i32> = empty.into_iter().map(|t| t.record.index).collect();
        assert_eq!(order, (0..=n).collect::<Vec<_>>());
        assert_eq!(allocation_cost(0), 0);
        assert_eq!(allocation_cost(1), 32);
        assert_eq!(allocation_cost(24), 32);
        assert_eq!(allocation_cost(25), 48);
        // A thunk: index, timestamp, key and value sizes, and the callback
        // with its four words in place.
        assert_eq!(std::mem::size_of::<Thunk>(), 72);
        assert_eq!(THUNK_CHUNK_COST, 32 * 72 + 16 + 48);
    }

    #[test]
    fn send_future_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<SendFuture>();
        check::<Arc<ProduceRequestResult>>();
    }
}
