//! [`SendQueue`]: the frames queued on one connection (Java `NetworkSend`,
//! generalised from one pending send to a queue) and how much of the oldest
//! one has been written.
//!
//! Frames arrive already size-prefixed as [`Frame`]s: owned bytes with the
//! record batches' shared buffers spliced in, so neither a large frame nor
//! the batches in it are ever copied again. Writes are vectored (`writev`)
//! over the segments of the queued frames, so many small pipelined requests
//! and every batch of a produce request go out in one system call, and a
//! partial write is resumed from where it stopped (segment and offset in
//! it) on the next writable event.
//!
//! This file does no socket I/O of its own: [`SendQueue::write_to`] writes into
//! any `io::Write`, which the tests use to simulate short writes.

use std::collections::VecDeque;
use std::io::{self, IoSlice, Write};

use super::frame::Frame;

/// At most this many segments are offered to one vectored write (well
/// below the usual `IOV_MAX` of 1024).
const MAX_SLICES: usize = 64;

/// How a [`SendQueue::write_to`] call ended.
#[derive(Debug)]
pub(crate) enum WriteEnd {
    /// Every queued frame is written.
    Drained,
    /// The writer would block; frames remain queued.
    WouldBlock,
    /// The writer failed; the connection is broken.
    Failed(io::Error),
}

/// What a [`SendQueue::write_to`] call did.
#[derive(Debug)]
pub(crate) struct WriteProgress {
    /// How many frames were completely written by this call.
    pub(crate) frames_completed: usize,
    /// Why it stopped.
    pub(crate) end: WriteEnd,
}

/// The frames waiting to be written on one connection, oldest first.
#[derive(Debug, Default)]
pub(crate) struct SendQueue {
    frames: VecDeque<Frame>,
    /// The segment of the front frame being written.
    segment: usize,
    /// Bytes written past the start of that segment (may run past its end
    /// until [`Self::pop_finished`] moves on).
    offset: usize,
}

impl SendQueue {
    /// Queues a whole frame (size prefix included).
    pub(crate) fn push(&mut self, frame: Frame) {
        self.frames.push_back(frame);
    }

    /// Whether nothing is waiting to be written.
    pub(crate) fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// How many frames are queued, the partly written one included.
    #[allow(dead_code)] // tests
    pub(crate) fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether the oldest frame has been partly written.
    #[allow(dead_code)] // tests
    pub(crate) fn is_partly_written(&self) -> bool {
        self.segment > 0 || self.offset > 0
    }

    /// Writes queued frames until the queue is empty, the writer would block
    /// or it fails. Interrupted writes are retried.
    pub(crate) fn write_to<W: Write>(&mut self, w: &mut W) -> WriteProgress {
        let mut frames_completed = 0;
        loop {
            frames_completed += self.pop_finished();
            if self.frames.is_empty() {
                return WriteProgress {
                    frames_completed,
                    end: WriteEnd::Drained,
                };
            }
            let mut slices = [IoSlice::new(&[]); MAX_SLICES];
            let count = self.fill_slices(&mut slices);
            match w.write_vectored(&slices[..count]) {
                Ok(0) => {
                    return WriteProgress {
                        frames_completed,
                        end: WriteEnd::Failed(io::Error::new(
                            io::ErrorKind::WriteZero,
                            "the socket accepted no bytes",
                        )),
                    }
                }
                Ok(n) => self.offset += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return WriteProgress {
                        frames_completed,
                        end: WriteEnd::WouldBlock,
                    }
                }
                Err(e) => {
                    return WriteProgress {
                        frames_completed,
                        end: WriteEnd::Failed(e),
                    }
                }
            }
        }
    }

    /// Points `slices` at the unwritten, non-empty segments of the queued
    /// frames, in order, as many as fit; returns how many. After
    /// [`Self::pop_finished`] the current segment has unwritten bytes, so
    /// at least one slice is filled while a frame is queued.
    fn fill_slices<'a>(&'a self, slices: &mut [IoSlice<'a>; MAX_SLICES]) -> usize {
        let mut count = 0;
        for (i, frame) in self.frames.iter().enumerate() {
            let first = if i == 0 { self.segment } else { 0 };
            for s in first..frame.segment_count() {
                let mut bytes = frame.segment(s);
                if i == 0 && s == self.segment {
                    bytes = bytes.get(self.offset..).unwrap_or(&[]);
                }
                if bytes.is_empty() {
                    continue;
                }
                slices[count] = IoSlice::new(bytes);
                count += 1;
                if count == MAX_SLICES {
                    return count;
                }
            }
        }
        count
    }

    /// Moves past the segments and frames that `offset` has covered; drops
    /// the finished frames and returns how many.
    fn pop_finished(&mut self) -> usize {
        let mut done = 0;
        while let Some(front) = self.frames.front() {
            while self.segment < front.segment_count() {
                let len = front.segment(self.segment).len();
                if self.offset < len {
                    return done;
                }
                self.offset -= len;
                self.segment += 1;
            }
            self.frames.pop_front();
            self.segment = 0;
            done += 1;
        }
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that takes at most `budget` bytes per call in total, then
    /// would block; optionally caps each call at `per_call` bytes.
    struct Throttled {
        out: Vec<u8>,
        budget: usize,
        per_call: usize,
        calls: usize,
    }

    impl Throttled {
        fn new(budget: usize, per_call: usize) -> Self {
            Throttled {
                out: Vec::new(),
                budget,
                per_call,
                calls: 0,
            }
        }
    }

    impl Write for Throttled {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.write_vectored(&[IoSlice::new(buf)])
        }

        fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
            self.calls += 1;
            if self.budget == 0 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let mut n = 0;
            for b in bufs {
                let take = b.len().min(self.budget).min(self.per_call - n);
                self.out.extend_from_slice(&b[..take]);
                self.budget -= take;
                n += take;
                if take < b.len() {
                    break;
                }
            }
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn frame(payload: &[u8]) -> Frame {
        let mut f = (payload.len() as i32).to_be_bytes().to_vec();
        f.extend_from_slice(payload);
        Frame::from(f)
    }

    #[test]
    fn many_small_frames_go_out_in_one_vectored_write() {
        let mut q = SendQueue::default();
        let mut expected = Vec::new();
        for i in 0..10u8 {
            let f = frame(&[i; 3]);
            expected.extend_from_slice(&f.to_vec());
            q.push(f);
        }
        let mut w = Throttled::new(usize::MAX, usize::MAX);
        let p = q.write_to(&mut w);
        assert_eq!(p.frames_completed, 10);
        assert!(matches!(p.end, WriteEnd::Drained));
        assert_eq!(w.calls, 1);
        assert_eq!(w.out, expected);
        assert!(q.is_empty());
    }

    #[test]
    fn partial_writes_resume_where_they_stopped() {
        let mut q = SendQueue::default();
        let big = frame(&vec![9u8; 10_000]);
        q.push(big.clone());
        q.push(frame(b"tail"));
        let mut w = Throttled::new(4_000, 1_000);
        let p = q.write_to(&mut w);
        assert_eq!(p.frames_completed, 0);
        assert!(matches!(p.end, WriteEnd::WouldBlock));
        assert!(q.is_partly_written());
        assert_eq!(q.len(), 2);
        // More room: the big frame completes, then the small one.
        w.budget = 6_004;
        let p = q.write_to(&mut w);
        assert_eq!(p.frames_completed, 1);
        assert!(matches!(p.end, WriteEnd::WouldBlock));
        assert!(!q.is_partly_written());
        w.budget = usize::MAX;
        let p = q.write_to(&mut w);
        assert_eq!(p.frames_completed, 1);
        assert!(matches!(p.end, WriteEnd::Drained));
        let mut expected = big.to_vec();
        expected.extend(frame(b"tail").to_vec());
        assert_eq!(w.out, expected);
    }

    #[test]
    fn more_frames_than_one_vectored_write_takes() {
        let mut q = SendQueue::default();
        for _ in 0..(MAX_SLICES * 2 + 5) {
            q.push(frame(b"x"));
        }
        let mut w = Throttled::new(usize::MAX, usize::MAX);
        let p = q.write_to(&mut w);
        assert_eq!(p.frames_completed, MAX_SLICES * 2 + 5);
        assert_eq!(w.calls, 3);
        assert_eq!(w.out.len(), (MAX_SLICES * 2 + 5) * 5);
    }

    #[test]
    fn errors_are_reported_with_the_frames_already_done() {
        struct FailSecond(usize);
        impl Write for FailSecond {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                self.0 += 1;
                match self.0 {
                    1 => Ok(buf.len()),
                    2 => Err(io::ErrorKind::Interrupted.into()),
                    _ => Err(io::ErrorKind::BrokenPipe.into()),
                }
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut q = SendQueue::default();
        q.push(frame(b"a"));
        q.push(frame(b"b"));
        // The default write_vectored writes the first slice only.
        let p = q.write_to(&mut FailSecond(0));
        assert_eq!(p.frames_completed, 1);
        assert!(matches!(p.end, WriteEnd::Failed(ref e) if e.kind() == io::ErrorKind::BrokenPipe));
        assert_eq!(q.len(), 1);
    }

    #[test]
    fn a_writer_that_takes_nothing_is_an_error() {
        struct Zero;
        impl Write for Zero {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Ok(0)
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut q = SendQueue::default();
        q.push(frame(b"a"));
        let p = q.write_to(&mut Zero);
        assert!(matches!(p.end, WriteEnd::Failed(ref e) if e.kind() == io::ErrorKind::WriteZero));
    }

    /// A size-prefixed frame of owned parts with shared batches between
    /// them: `owned[0]`, `shared[0]`, `owned[1]`, ...
    fn segmented(owned: &[&[u8]], shared: &[&[u8]]) -> Frame {
        let mut f = Frame::from(vec![0; 4]);
        for (i, part) in owned.iter().enumerate() {
            f.bytes_mut().extend_from_slice(part);
            if let Some(s) = shared.get(i) {
                f.push_shared(std::sync::Arc::new(s.to_vec()));
            }
        }
        f.patch_size_prefix().unwrap();
        f
    }

    fn mixed_frames() -> Vec<Frame> {
        vec![
            frame(b"plain"),
            segmented(&[b"head", b"mid", b""], &[b"batch-one", b"batch-two!"]),
            // Adjacent shared segments, empty owned parts between them.
            segmented(&[b"", b"", b"x"], &[&[1; 13], &[2; 1]]),
            frame(b""),
            segmented(&[b"h"], &[b""]),
        ]
    }

    #[test]
    fn segmented_frames_resume_exactly_after_writes_of_every_size() {
        let expected: Vec<u8> = mixed_frames().iter().flat_map(Frame::to_vec).collect();
        for per_call in 1..=expected.len() + 1 {
            for step in [1, 3, 7, 64] {
                let mut q = SendQueue::default();
                for f in mixed_frames() {
                    q.push(f);
                }
                let mut w = Throttled::new(0, per_call);
                let mut completed = 0;
                let mut rounds = 0;
                loop {
                    let p = q.write_to(&mut w);
                    completed += p.frames_completed;
                    match p.end {
                        WriteEnd::Drained => break,
                        WriteEnd::WouldBlock => w.budget = step,
                        WriteEnd::Failed(e) => panic!("{e}"),
                    }
                    rounds += 1;
                    assert!(rounds <= expected.len() + 1, "no progress");
                }
                assert_eq!(w.out, expected, "per_call {per_call} step {step}");
                assert_eq!(completed, 5);
                assert!(q.is_empty() && !q.is_partly_written());
            }
        }
    }

    #[test]
    fn a_frame_with_more_segments_than_one_write_takes() {
        let owned: Vec<Vec<u8>> = (0..100u8).map(|i| vec![i; 2]).collect();
        let shared: Vec<Vec<u8>> = (0..100u8).map(|i| vec![i; 5]).collect();
        let owned_refs: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
        let shared_refs: Vec<&[u8]> = shared.iter().map(Vec::as_slice).collect();
        let f = segmented(&owned_refs, &shared_refs);
        let expected = f.to_vec();
        assert_eq!(expected.len(), 4 + 100 * 7);
        let mut q = SendQueue::default();
        q.push(f);
        q.push(frame(b"next"));
        let mut w = Throttled::new(usize::MAX, usize::MAX);
        let p = q.write_to(&mut w);
        assert!(matches!(p.end, WriteEnd::Drained));
        assert_eq!(p.frames_completed, 2);
        // 200 non-empty segments and the next frame's one: 201 slices,
        // offered at most MAX_SLICES at a time.
        assert_eq!(w.calls, 201usize.div_ceil(MAX_SLICES));
        let mut all = expected;
        all.extend(frame(b"next").to_vec());
        assert_eq!(w.out, all);
    }

    /// A queue holding one frame: a size prefix and a shared 100-byte
    /// batch, which the caller keeps a handle on.
    fn queued_frame_of_one_shared_batch() -> (std::sync::Arc<Vec<u8>>, SendQueue) {
        let batch = std::sync::Arc::new(vec![5u8; 100]);
        let mut f = Frame::from(vec![0; 4]);
        f.push_shared(std::sync::Arc::clone(&batch));
        f.patch_size_prefix().unwrap();
        let mut q = SendQueue::default();
        q.push(f);
        (batch, q)
    }

    #[test]
    fn a_queued_frame_keeps_its_shared_bytes_until_written() {
        let (batch, mut q) = queued_frame_of_one_shared_batch();
        let mut w = Throttled::new(50, usize::MAX);
        let p = q.write_to(&mut w);
        assert!(matches!(p.end, WriteEnd::WouldBlock));
        assert!(q.is_partly_written());
        assert_eq!(std::sync::Arc::strong_count(&batch), 2);
        w.budget = usize::MAX;
        let p = q.write_to(&mut w);
        assert_eq!(p.frames_completed, 1);
        // Written: the frame is gone, the batch holds its bytes alone.
        assert_eq!(std::sync::Arc::strong_count(&batch), 1);
        assert_eq!(&w.out[4..], &batch[..]);
    }

    #[test]
    fn dropping_a_partly_written_queue_releases_the_shared_bytes() {
        let (batch, mut q) = queued_frame_of_one_shared_batch();
        let mut w = Throttled::new(10, usize::MAX);
        q.write_to(&mut w);
        assert_eq!(std::sync::Arc::strong_count(&batch), 2);
        // The connection is cut mid-frame.
        drop(q);
        assert_eq!(std::sync::Arc::try_unwrap(batch).map(|b| b.len()), Ok(100));
    }
}
