//! [`Frame`]: the bytes of one request as a sequence of segments, so that
//! record batches go to the socket from the batches' own buffers (Java's
//! `SendBuilder`, which puts zero-copy record buffers in a send's buffer
//! list).
//!
//! ```text
//!  owned:   [size|header|fields..len]          [tags|index..len]          [tags..]
//!  shared:                          [batch A]                    [batch B]
//!  wire:    owned[0..p1] ++ A ++ owned[p1..p2] ++ B ++ owned[p2..]
//! ```
//!
//! The owned bytes (size prefix, header, the request's own fields, each
//! records field's length prefix) are one `Vec<u8>`; each shared segment is
//! an `Arc` of a built batch spliced in at a position of the owned bytes.
//! A frame holding a batch's bytes keeps them alive: the batch may
//! complete, be rewritten (it copies on write) or go back to the pool
//! (which then gets the accounting only) while the frame is still queued.
//!
//! Requests without records are one owned segment, and a `Vec<u8>` converts
//! into such a frame without copying.

use std::sync::Arc;

/// One request's bytes: owned bytes with shared segments spliced in.
#[derive(Debug, Default, Clone)]
pub(crate) struct Frame {
    owned: Vec<u8>,
    /// Shared segments, each with the position of `owned` it goes before;
    /// positions never decrease and never pass `owned.len()`.
    shared: Vec<(usize, Arc<Vec<u8>>)>,
    /// Bytes in the shared segments.
    shared_len: usize,
}

/// Splices shared segments into a [`Frame`] while its owned bytes are
/// being written (see [`Frame::splicer`]).
#[derive(Debug)]
pub(crate) struct Splicer<'a> {
    shared: &'a mut Vec<(usize, Arc<Vec<u8>>)>,
    shared_len: &'a mut usize,
}

impl Splicer<'_> {
    /// Makes room for `additional` more segments in one step.
    pub(crate) fn reserve(&mut self, additional: usize) {
        self.shared.reserve(additional);
    }

    /// Splices `bytes` in at `at`, the length of the owned bytes written
    /// so far (a position before the previous splice is raised to it, so
    /// the segments stay in order; one past the owned bytes would make the
    /// frame short, never a panic).
    pub(crate) fn push(&mut self, at: usize, bytes: Arc<Vec<u8>>) {
        let at = at.max(self.shared.last().map_or(0, |&(p, _)| p));
        *self.shared_len += bytes.len();
        self.shared.push((at, bytes));
    }
}

impl From<Vec<u8>> for Frame {
    fn from(owned: Vec<u8>) -> Self {
        Frame {
            owned,
            shared: Vec::new(),
            shared_len: 0,
        }
    }
}

impl Frame {
    /// An empty frame whose owned bytes have room for `capacity` bytes.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Frame::from(Vec::with_capacity(capacity))
    }

    /// The owned bytes, for appending. Encoders only append: bytes before
    /// the last shared segment must not be removed (the segment's position
    /// would then point past the end; writing such a frame writes too few
    /// bytes rather than panicking).
    pub(crate) fn bytes_mut(&mut self) -> &mut Vec<u8> {
        &mut self.owned
    }

    /// Appends `bytes` as a shared segment after the owned bytes written so
    /// far.
    #[allow(dead_code)] // tests and the scripted client
    pub(crate) fn push_shared(&mut self, bytes: Arc<Vec<u8>>) {
        let at = self.owned.len();
        self.push_shared_at(at, bytes);
    }

    /// Splices `bytes` in before the owned byte at `at` (clamped to the
    /// owned bytes written, and to no earlier than the previous splice, so
    /// the segments stay in order).
    #[allow(dead_code)] // tests
    pub(crate) fn push_shared_at(&mut self, at: usize, bytes: Arc<Vec<u8>>) {
        let end = self.owned.len();
        let (_, mut splicer) = self.splicer();
        splicer.push(at.min(end), bytes);
    }

    /// The owned bytes for appending, and a [`Splicer`] that puts shared
    /// segments between them, usable together: an encoder writes its
    /// fields into the first and hands a records field to the second.
    pub(crate) fn splicer(&mut self) -> (&mut Vec<u8>, Splicer<'_>) {
        (
            &mut self.owned,
            Splicer {
                shared: &mut self.shared,
                shared_len: &mut self.shared_len,
            },
        )
    }

    /// Total length: owned and shared bytes.
    pub(crate) fn len(&self) -> usize {
        self.owned.len() + self.shared_len
    }

    /// Whether the frame has no bytes at all.
    #[allow(dead_code)] // clippy's len_without_is_empty; tests
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many shared segments are spliced in.
    #[allow(dead_code)] // tests and the scripted client
    pub(crate) fn shared_segments(&self) -> usize {
        self.shared.len()
    }

    /// Writes the 4-byte big-endian size prefix (the length of everything
    /// after it, all segments counted) into the first owned bytes, which
    /// the caller reserved. `None` if there is no room for it or the size
    /// does not fit an `i32`.
    pub(crate) fn patch_size_prefix(&mut self) -> Option<i32> {
        let size = i32::try_from(self.len().checked_sub(4)?).ok()?;
        self.owned
            .get_mut(..4)?
            .copy_from_slice(&size.to_be_bytes());
        Some(size)
    }

    /// The first four owned bytes as a size prefix, if there are four.
    #[allow(dead_code)] // debug assertions
    pub(crate) fn size_prefix(&self) -> Option<i32> {
        let b = self.owned.get(..4)?;
        Some(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// How many segments the frame has: an owned one around each shared
    /// one (some may be empty).
    pub(crate) fn segment_count(&self) -> usize {
        2 * self.shared.len() + 1
    }

    /// Segment `i` in wire order (even: owned bytes, odd: a shared
    /// segment); empty past the end.
    pub(crate) fn segment(&self, i: usize) -> &[u8] {
        let k = i / 2;
        if i % 2 == 1 {
            return self.shared.get(k).map_or(&[], |(_, b)| b.as_slice());
        }
        let start = if k == 0 {
            0
        } else {
            self.shared.get(k - 1).map_or(usize::MAX, |&(p, _)| p)
        };
        let end = self.shared.get(k).map_or(self.owned.len(), |&(p, _)| p);
        self.owned.get(start..end).unwrap_or(&[])
    }

    /// The segments in wire order, empty ones included.
    #[allow(dead_code)] // tests and the scripted client
    pub(crate) fn segments(&self) -> impl Iterator<Item = &[u8]> + '_ {
        (0..self.segment_count()).map(|i| self.segment(i))
    }

    /// The frame's bytes in one vector (tests, the scripted client).
    #[allow(dead_code)] // tests and the scripted client
    pub(crate) fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        for s in self.segments() {
            out.extend_from_slice(s);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vector_is_one_segment() {
        let f = Frame::from(vec![1, 2, 3]);
        assert_eq!(f.segment_count(), 1);
        assert_eq!(f.segment(0), &[1, 2, 3]);
        assert_eq!(f.segment(1), &[] as &[u8]);
        assert_eq!(f.len(), 3);
        assert_eq!(f.to_vec(), vec![1, 2, 3]);
    }

    #[test]
    fn shared_segments_are_spliced_in_order_and_counted_in_the_size() {
        let mut f = Frame::with_capacity(16);
        f.bytes_mut().extend_from_slice(&[0, 0, 0, 0, 9]);
        f.push_shared(Arc::new(vec![1, 1]));
        f.bytes_mut().push(8);
        f.push_shared(Arc::new(vec![2, 2, 2]));
        f.push_shared(Arc::new(Vec::new()));
        assert_eq!(f.patch_size_prefix(), Some(7));
        assert_eq!(f.size_prefix(), Some(7));
        assert_eq!(f.len(), 11);
        assert_eq!(f.shared_segments(), 3);
        let segments: Vec<&[u8]> = f.segments().collect();
        assert_eq!(
            segments,
            vec![
                &[0, 0, 0, 7, 9][..],
                &[1, 1],
                &[8],
                &[2, 2, 2],
                &[],
                &[],
                &[]
            ]
        );
        assert_eq!(f.to_vec(), vec![0, 0, 0, 7, 9, 1, 1, 8, 2, 2, 2]);
    }

    #[test]
    fn splice_positions_are_clamped_into_order() {
        let mut f = Frame::from(vec![1, 2, 3, 4]);
        f.push_shared_at(2, Arc::new(vec![7]));
        // Before the previous splice, then past the end: both clamped.
        f.push_shared_at(1, Arc::new(vec![8]));
        f.push_shared_at(99, Arc::new(vec![9]));
        assert_eq!(f.to_vec(), vec![1, 2, 7, 8, 3, 4, 9]);
    }

    #[test]
    fn truncated_owned_bytes_never_panic() {
        let mut f = Frame::from(vec![1, 2, 3, 4]);
        f.push_shared(Arc::new(vec![7]));
        f.bytes_mut().truncate(1);
        // The first owned segment's end is past the bytes left: it reads
        // as empty instead of panicking.
        let _ = f.to_vec();
        assert!(Frame::default().patch_size_prefix().is_none());
        assert!(Frame::default().size_prefix().is_none());
    }

    mod produce {
        //! The bytes of a produce request written as a [`Frame`] with the
        //! batches shared are the bytes of the single-vector encoding.

        use std::borrow::Cow;
        use std::sync::Arc;

        use super::super::Frame;
        use crate::protocol::codec::{EncodeError, Writer};
        use crate::protocol::messages::produce::{
            PartitionProduceData, ProduceRequest, TopicProduceData,
        };

        /// The single-vector encoder as it was before records could be
        /// spliced (copied from `ProduceRequest::encode` then): the
        /// reference the new paths must match byte for byte.
        fn reference_encode(req: &ProduceRequest<'_>, out: &mut Vec<u8>, version: i16) {
            let flexible = version >= 9;
            out.put_string_flex(req.transactional_id.as_deref(), flexible, "t")
                .unwrap();
            out.put_i16(req.acks);
            out.put_i32(req.timeout_ms);
            out.put_array_len(Some(req.topic_data.len()), flexible);
            for topic in &req.topic_data {
                if version >= 13 {
                    out.put_uuid(&topic.topic_id);
                } else {
                    out.put_string_flex(Some(&topic.name), flexible, "n")
                        .unwrap();
                }
                out.put_array_len(Some(topic.partition_data.len()), flexible);
                for p in &topic.partition_data {
                    out.put_i32(p.index);
                    out.put_nullable_bytes_flex(p.records, flexible);
                    if flexible {
                        out.put_empty_tagged_fields();
                    }
                }
                if flexible {
                    out.put_empty_tagged_fields();
                }
            }
            if flexible {
                out.put_empty_tagged_fields();
            }
        }

        /// As the network client does: size prefix and a header stand-in,
        /// then the body with every records field spliced in from its own
        /// shared buffer.
        fn frame_of(
            req: &ProduceRequest<'_>,
            buffers: &[Vec<Arc<Vec<u8>>>],
            version: i16,
        ) -> Result<Frame, EncodeError> {
            let mut frame = Frame::with_capacity(64);
            frame
                .bytes_mut()
                .extend_from_slice(&[0, 0, 0, 0, 0xAB, 0xCD]);
            let (out, mut splicer) = frame.splicer();
            req.encode_with_records(out, version, |out, field| {
                let bytes = &buffers[field.topic][field.partition];
                assert_eq!(bytes.as_slice(), field.records);
                splicer.push(out.len(), Arc::clone(bytes));
            })?;
            frame.patch_size_prefix().unwrap();
            Ok(frame)
        }

        /// Record "batches" of sizes around the varint and buffer
        /// boundaries, patterned so that a misplaced byte shows.
        fn batch(size: usize, seed: u8) -> Arc<Vec<u8>> {
            Arc::new(
                (0..size)
                    .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
                    .collect(),
            )
        }

        #[test]
        fn spliced_frames_are_the_single_vector_bytes() {
            const SIZES: [usize; 9] = [0, 1, 61, 126, 127, 128, 300, 16_383, 70_000];
            let mut checked = 0;
            for version in 3..=13i16 {
                for shape in 0..12usize {
                    // 1-3 topics of 1-4 partitions; every 5th partition
                    // null, sizes cycling through SIZES.
                    let topics = 1 + shape % 3;
                    let mut buffers: Vec<Vec<Arc<Vec<u8>>>> = Vec::new();
                    let mut nulls: Vec<Vec<bool>> = Vec::new();
                    let mut n = shape;
                    for t in 0..topics {
                        let partitions = 1 + (shape + t) % 4;
                        let mut bufs = Vec::new();
                        let mut null = Vec::new();
                        for p in 0..partitions {
                            n += 1;
                            bufs.push(batch(SIZES[n % SIZES.len()], (t * 7 + p) as u8));
                            null.push(n % 5 == 0);
                        }
                        buffers.push(bufs);
                        nulls.push(null);
                    }
                    let names = ["orders", "t", "a-much-longer-topic-name.with.dots"];
                    let req = ProduceRequest {
                        transactional_id: (shape % 2 == 1).then_some(Cow::Borrowed("txn-1")),
                        acks: [-1, 1, 0][shape % 3],
                        timeout_ms: 30_000 + shape as i32,
                        topic_data: buffers
                            .iter()
                            .enumerate()
                            .map(|(t, bufs)| TopicProduceData {
                                name: Cow::Borrowed(names[t]),
                                topic_id: [t as u8 + 1; 16],
                                partition_data: bufs
                                    .iter()
                                    .enumerate()
                                    .map(|(p, b)| PartitionProduceData {
                                        index: (p * 3) as i32,
                                        records: (!nulls[t][p]).then_some(b.as_slice()),
                                    })
                                    .collect(),
                            })
                            .collect(),
                    };
                    let mut reference = Vec::new();
                    reference_encode(&req, &mut reference, version);
                    let mut single = Vec::new();
                    req.encode(&mut single, version).unwrap();
                    assert_eq!(single, reference, "v{version} shape {shape}: encode");
                    let frame = frame_of(&req, &buffers, version).unwrap();
                    let wire = frame.to_vec();
                    assert_eq!(&wire[6..], &reference[..], "v{version} shape {shape}");
                    assert_eq!(frame.len(), wire.len());
                    assert_eq!(frame.size_prefix(), Some(wire.len() as i32 - 4));
                    let non_null = nulls.iter().flatten().filter(|n| !**n).count();
                    assert_eq!(frame.shared_segments(), non_null);
                    checked += 1;
                }
            }
            assert_eq!(checked, 11 * 12);
        }

        #[test]
        fn versions_outside_the_range_fail_before_writing() {
            let req = ProduceRequest::default();
            for version in [2, 14] {
                let mut out = Vec::new();
                assert!(req
                    .encode_with_records(&mut out, version, |_, _| {})
                    .is_err());
                assert!(out.is_empty());
            }
        }
    }
}
