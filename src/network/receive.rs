//! [`NetworkReceive`]: reassembles size-delimited frames (Java
//! `NetworkReceive`) from whatever pieces the socket hands over.
//!
//! A frame on the wire is a 4-byte big-endian size followed by that many
//! payload bytes. The size is checked against the limit *before* the payload
//! is allocated, and the payload is allocated once, at its exact size, when
//! the size is known (no growth byte by byte). The result is the payload
//! without its size prefix.
//!
//! This file does no I/O: the channel either feeds it bytes it read into a
//! shared scratch buffer ([`NetworkReceive::feed`]) or, for the tail of a large
//! payload, reads straight into it ([`NetworkReceive::payload_tail`] and
//! [`NetworkReceive::advance`]), which saves a copy.

use std::fmt;

/// Why a frame cannot be received: its size prefix is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FrameError {
    /// The size prefix is larger than the receive limit.
    TooLarge {
        /// The size the peer announced.
        size: i32,
        /// The configured limit.
        max: usize,
    },
    /// The size prefix is negative.
    NegativeSize(i32),
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::TooLarge { size, max } => write!(
                f,
                "invalid receive: frame size {size} is larger than the limit of {max} bytes"
            ),
            FrameError::NegativeSize(size) => {
                write!(f, "invalid receive: negative frame size {size}")
            }
        }
    }
}

/// One frame being received: the size prefix, then the payload.
#[derive(Debug)]
pub(crate) struct NetworkReceive {
    max_size: usize,
    size_buf: [u8; 4],
    /// How many bytes of the size prefix are in `size_buf` (0..=4).
    size_read: usize,
    /// The payload, allocated at its exact size once the prefix is complete.
    payload: Vec<u8>,
    /// How many payload bytes have arrived.
    payload_read: usize,
}

impl NetworkReceive {
    /// A receiver that rejects frames larger than `max_size` bytes.
    pub(crate) fn new(max_size: usize) -> Self {
        NetworkReceive {
            max_size,
            size_buf: [0; 4],
            size_read: 0,
            payload: Vec::new(),
            payload_read: 0,
        }
    }

    /// Whether part of a frame (even one byte of its size) has arrived.
    pub(crate) fn in_progress(&self) -> bool {
        self.size_read > 0
    }

    /// The payload bytes still missing from the current frame, 0 while the
    /// size prefix is incomplete.
    pub(crate) fn remaining_payload(&self) -> usize {
        if self.size_read < 4 {
            0
        } else {
            self.payload.len() - self.payload_read
        }
    }

    /// The missing part of the current payload, for reading into directly.
    /// Empty while the size prefix is incomplete.
    pub(crate) fn payload_tail(&mut self) -> &mut [u8] {
        if self.size_read < 4 {
            &mut []
        } else {
            &mut self.payload[self.payload_read..]
        }
    }

    /// Records that `n` bytes were written into [`Self::payload_tail`];
    /// returns the payload when it is complete.
    pub(crate) fn advance(&mut self, n: usize) -> Option<Vec<u8>> {
        debug_assert!(n <= self.remaining_payload());
        self.payload_read += n;
        self.take_if_complete()
    }

    /// Consumes bytes from the front of `data`: returns how many were used and
    /// the payload if a frame completed. Stops at the end of a frame, so a
    /// caller holding several frames calls again with the rest.
    pub(crate) fn feed(&mut self, data: &[u8]) -> Result<(usize, Option<Vec<u8>>), FrameError> {
        let mut used = 0;
        if self.size_read < 4 {
            let n = (4 - self.size_read).min(data.len());
            self.size_buf[self.size_read..self.size_read + n].copy_from_slice(&data[..n]);
            self.size_read += n;
            used = n;
            if self.size_read < 4 {
                return Ok((used, None));
            }
            self.allocate()?;
        }
        let n = self.remaining_payload().min(data.len() - used);
        self.payload[self.payload_read..self.payload_read + n]
            .copy_from_slice(&data[used..used + n]);
        self.payload_read += n;
        used += n;
        Ok((used, self.take_if_complete()))
    }

    /// Checks the completed size prefix and allocates the payload.
    fn allocate(&mut self) -> Result<(), FrameError> {
        let size = i32::from_be_bytes(self.size_buf);
        let len = usize::try_from(size).map_err(|_| FrameError::NegativeSize(size))?;
        if len > self.max_size {
            return Err(FrameError::TooLarge {
                size,
                max: self.max_size,
            });
        }
        self.payload = vec![0; len];
        self.payload_read = 0;
        Ok(())
    }

    fn take_if_complete(&mut self) -> Option<Vec<u8>> {
        if self.size_read == 4 && self.payload_read == self.payload.len() {
            self.size_read = 0;
            self.payload_read = 0;
            Some(std::mem::take(&mut self.payload))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(payload: &[u8]) -> Vec<u8> {
        let mut f = (payload.len() as i32).to_be_bytes().to_vec();
        f.extend_from_slice(payload);
        f
    }

    /// Feeds all of `data`, collecting completed payloads.
    fn feed_all(r: &mut NetworkReceive, mut data: &[u8]) -> Result<Vec<Vec<u8>>, FrameError> {
        let mut out = Vec::new();
        while !data.is_empty() {
            let (used, done) = r.feed(data)?;
            assert!(used > 0, "feed must make progress");
            data = &data[used..];
            out.extend(done);
        }
        Ok(out)
    }

    #[test]
    fn several_frames_in_one_buffer() {
        let mut r = NetworkReceive::new(100);
        let mut data = frame(b"abc");
        data.extend(frame(b""));
        data.extend(frame(b"hello"));
        let got = feed_all(&mut r, &data).unwrap();
        assert_eq!(got, vec![b"abc".to_vec(), vec![], b"hello".to_vec()]);
        assert!(!r.in_progress());
    }

    #[test]
    fn one_byte_at_a_time() {
        let mut r = NetworkReceive::new(100);
        let data = frame(b"pieces");
        let mut got = Vec::new();
        for (i, b) in data.iter().enumerate() {
            let (used, done) = r.feed(std::slice::from_ref(b)).unwrap();
            assert_eq!(used, 1);
            assert_eq!(r.in_progress(), i + 1 < data.len());
            got.extend(done);
        }
        assert_eq!(got, vec![b"pieces".to_vec()]);
    }

    #[test]
    fn payload_is_allocated_at_its_exact_size_when_the_prefix_completes() {
        let mut r = NetworkReceive::new(1 << 20);
        let data = frame(&[7u8; 5000]);
        assert_eq!(r.feed(&data[..4]).unwrap(), (4, None));
        assert_eq!(r.remaining_payload(), 5000);
        assert_eq!(r.payload.capacity(), 5000);
        // The rest arrives through direct reads into the tail.
        let tail = r.payload_tail();
        assert_eq!(tail.len(), 5000);
        tail[..3000].copy_from_slice(&data[4..3004]);
        assert_eq!(r.advance(3000), None);
        assert_eq!(r.remaining_payload(), 2000);
        r.payload_tail().copy_from_slice(&data[3004..]);
        assert_eq!(r.advance(2000), Some(vec![7u8; 5000]));
        assert_eq!(r.remaining_payload(), 0);
        assert!(r.payload_tail().is_empty());
    }

    #[test]
    fn size_above_the_limit_is_rejected_before_allocating() {
        let mut r = NetworkReceive::new(100);
        let err = r.feed(&101i32.to_be_bytes()).unwrap_err();
        assert_eq!(
            err,
            FrameError::TooLarge {
                size: 101,
                max: 100
            }
        );
        assert_eq!(r.payload.capacity(), 0);
        let msg = err.to_string();
        assert!(msg.contains("101") && msg.contains("100"), "{msg}");
        // Exactly the limit is fine.
        let mut r = NetworkReceive::new(100);
        assert_eq!(feed_all(&mut r, &frame(&[1; 100])).unwrap().len(), 1);
        // A huge size is rejected without trying to allocate it.
        let mut r = NetworkReceive::new(100);
        assert!(matches!(
            r.feed(&i32::MAX.to_be_bytes()),
            Err(FrameError::TooLarge { size: i32::MAX, .. })
        ));
    }

    #[test]
    fn negative_size_is_rejected() {
        let mut r = NetworkReceive::new(100);
        let err = r.feed(&(-5i32).to_be_bytes()).unwrap_err();
        assert_eq!(err, FrameError::NegativeSize(-5));
        assert!(err.to_string().contains("-5"));
        let mut r = NetworkReceive::new(100);
        assert_eq!(
            r.feed(&i32::MIN.to_be_bytes()).unwrap_err(),
            FrameError::NegativeSize(i32::MIN)
        );
    }

    #[test]
    fn feed_stops_at_the_end_of_a_frame() {
        let mut r = NetworkReceive::new(100);
        let mut data = frame(b"ab");
        data.extend(frame(b"cd"));
        let (used, done) = r.feed(&data).unwrap();
        assert_eq!((used, done), (6, Some(b"ab".to_vec())));
        let (used, done) = r.feed(&data[6..]).unwrap();
        assert_eq!((used, done), (6, Some(b"cd".to_vec())));
    }
}
