//! [`SendQueue`]: the frames queued on one connection (Java `NetworkSend`,
//! generalised from one pending send to a queue) and how much of the oldest
//! one has been written.
//!
//! Frames arrive already size-prefixed and are kept as the caller's `Vec<u8>`:
//! a large frame is never copied again. Writes are vectored (`writev`) over
//! the queued frames, so many small pipelined requests go out in one system
//! call, and a partial write is resumed from where it stopped on the next
//! writable event.
//!
//! This file does no socket I/O of its own: [`SendQueue::write_to`] writes into
//! any `io::Write`, which the tests use to simulate short writes.

use std::collections::VecDeque;
use std::io::{self, IoSlice, Write};

/// At most this many frames are offered to one vectored write (well below
/// the usual `IOV_MAX` of 1024).
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
    frames: VecDeque<Vec<u8>>,
    /// Bytes of the front frame already written.
    offset: usize,
}

impl SendQueue {
    /// Queues a whole frame (size prefix included).
    pub(crate) fn push(&mut self, frame: Vec<u8>) {
        self.frames.push_back(frame);
    }

    /// Whether nothing is waiting to be written.
    pub(crate) fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// How many frames are queued, the partly written one included.
    pub(crate) fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether the oldest frame has been partly written.
    pub(crate) fn is_partly_written(&self) -> bool {
        self.offset > 0
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
            let mut count = 0;
            for (i, frame) in self.frames.iter().take(MAX_SLICES).enumerate() {
                let start = if i == 0 { self.offset } else { 0 };
                slices[i] = IoSlice::new(&frame[start..]);
                count = i + 1;
            }
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

    /// Drops the frames that `offset` has moved past; returns how many.
    fn pop_finished(&mut self) -> usize {
        let mut done = 0;
        while let Some(front) = self.frames.front() {
            if self.offset < front.len() {
                break;
            }
            self.offset -= front.len();
            self.frames.pop_front();
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

    fn frame(payload: &[u8]) -> Vec<u8> {
        let mut f = (payload.len() as i32).to_be_bytes().to_vec();
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn many_small_frames_go_out_in_one_vectored_write() {
        let mut q = SendQueue::default();
        let mut expected = Vec::new();
        for i in 0..10u8 {
            let f = frame(&[i; 3]);
            expected.extend_from_slice(&f);
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
        let mut expected = big;
        expected.extend(frame(b"tail"));
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
}
