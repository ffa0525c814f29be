//! zstd: one zstd frame per batch, as Java's zstd-jni `ZstdOutputStream`
//! writes it (any reader of zstd frames reads it back).
//!
//! Two backends:
//!
//! * default, pure Rust (`ruzstd`): the encoder has one mode, close to
//!   zstd's level 1, used for every configured level; it needs the whole
//!   input, so the records are buffered until the batch closes. The frame
//!   carries a content checksum, which Java's does not (readers check it if
//!   present, and ours does).
//! * feature `zstd-native`: the C zstd library (`zstd` crate, bundled
//!   sources) at the configured level exactly; the records are buffered
//!   too and compressed in one call, with a compression context reused by
//!   the thread (the frame then records the content size, which Java's
//!   streamed frames do not).
//!
//! Either backend reads concatenated frames, refuses a frame whose window
//! is larger than 128 MiB (zstd's own default limit, so what a Kafka broker
//! accepts too), and never yields more than the caller's bound.

use std::io::Read;

use super::{corrupt, too_large, CompressionType};
use crate::error::Result;

/// The largest window a frame may ask for: 2^27, zstd's default
/// `ZSTD_WINDOWLOG_LIMIT_DEFAULT`, which is also what brokers (zstd-jni)
/// accept. The pure-Rust decoder reserves (but does not touch) this much.
#[cfg_attr(feature = "zstd-native", allow(dead_code))]
const MAX_WINDOW_SIZE: u64 = 1 << 27;

pub(crate) use backend::{decompress, ZstdWriter};

#[cfg(not(feature = "zstd-native"))]
mod backend {
    use ruzstd::decoding::StreamingDecoder;
    use ruzstd::encoding::{compress, CompressionLevel};

    use super::{corrupt, read_bounded, CompressionType, MAX_WINDOW_SIZE};
    use crate::error::Result;

    /// Records waiting for the batch to close.
    pub(crate) struct ZstdWriter {
        out: Vec<u8>,
        pending: Vec<u8>,
    }

    impl ZstdWriter {
        /// A frame to be written into `out` at `finish`. The level is
        /// validated by `Compression::zstd`; `ruzstd` has one mode for all.
        pub(crate) fn new(out: Vec<u8>, _level: i32) -> Self {
            ZstdWriter {
                out,
                pending: Vec::new(),
            }
        }

        pub(crate) fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
            self.pending.extend_from_slice(bytes);
            Ok(())
        }

        /// Compresses the buffered records as one frame into the buffer.
        pub(crate) fn finish(mut self) -> Result<Vec<u8>> {
            // Reading from a slice and writing to a Vec cannot fail, and
            // `Fastest` is implemented (the other modes are not, and panic).
            compress(&self.pending[..], &mut self.out, CompressionLevel::Fastest);
            Ok(self.out)
        }
    }

    /// Inflates the frames of `input` into at most `max_output` bytes.
    pub(crate) fn decompress(input: &[u8], max_output: usize) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut rest = input;
        loop {
            let mut frame = StreamingDecoder::new_with_max_window_size(&mut rest, MAX_WINDOW_SIZE)
                .map_err(|e| corrupt(CompressionType::Zstd, e))?;
            read_bounded(&mut frame, &mut out, max_output)?;
            let decoder = &frame.decoder;
            if !decoder.is_finished() {
                return Err(corrupt(CompressionType::Zstd, "truncated frame"));
            }
            if let Some(stored) = decoder.get_checksum_from_data() {
                if decoder.get_calculated_checksum() != Some(stored) {
                    return Err(corrupt(CompressionType::Zstd, "content checksum mismatch"));
                }
            }
            drop(frame);
            if rest.is_empty() {
                return Ok(out);
            }
        }
    }
}

#[cfg(feature = "zstd-native")]
mod backend {
    use std::cell::RefCell;

    use zstd::bulk::Compressor;

    use super::{corrupt, read_bounded, CompressionType};
    use crate::error::Result;

    thread_local! {
        /// One C compression context per thread that closes batches (the
        /// sender thread), reused from batch to batch: creating one per
        /// batch costs more than compressing a 16 KiB batch. With its level.
        static COMPRESSOR: RefCell<Option<(i32, Compressor<'static>)>> =
            const { RefCell::new(None) };
    }

    /// Records waiting for the batch to close: one-shot compression of the
    /// whole section is faster than streaming ~100-byte appends into zstd
    /// (Java puts a 16 KiB buffer in front of zstd-jni for the same reason).
    pub(crate) struct ZstdWriter {
        out: Vec<u8>,
        pending: Vec<u8>,
        level: i32,
    }

    impl ZstdWriter {
        /// A frame at `level`, written into `out` at `finish`.
        pub(crate) fn new(out: Vec<u8>, level: i32) -> Self {
            ZstdWriter {
                out,
                pending: Vec::new(),
                level,
            }
        }

        pub(crate) fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
            self.pending.extend_from_slice(bytes);
            Ok(())
        }

        /// Compresses the buffered records as one frame into the buffer.
        pub(crate) fn finish(mut self) -> Result<Vec<u8>> {
            let start = self.out.len();
            let bound = zstd::zstd_safe::compress_bound(self.pending.len());
            self.out.resize(start + bound, 0);
            let written = COMPRESSOR.with(|cell| -> std::io::Result<usize> {
                let mut cell = cell.borrow_mut();
                let compressor = match &mut *cell {
                    Some((level, c)) if *level == self.level => c,
                    slot => &mut slot.insert((self.level, Compressor::new(self.level)?)).1,
                };
                compressor.compress_to_buffer(&self.pending[..], &mut self.out[start..])
            });
            let written = written.map_err(|e| corrupt(CompressionType::Zstd, e))?;
            self.out.truncate(start + written);
            Ok(self.out)
        }
    }

    /// Inflates the frames of `input` into at most `max_output` bytes.
    pub(crate) fn decompress(input: &[u8], max_output: usize) -> Result<Vec<u8>> {
        let mut decoder = zstd::stream::read::Decoder::with_buffer(input)
            .map_err(|e| corrupt(CompressionType::Zstd, e))?;
        decoder
            .window_log_max(27)
            .map_err(|e| corrupt(CompressionType::Zstd, e))?;
        let mut out = Vec::new();
        read_bounded(&mut decoder, &mut out, max_output)?;
        Ok(out)
    }
}

/// Reads `reader` to its end onto `out`, failing once `out` would pass
/// `max_output` bytes (reading at most one byte more than allowed).
fn read_bounded(reader: &mut impl Read, out: &mut Vec<u8>, max_output: usize) -> Result<()> {
    let room = max_output.saturating_sub(out.len()) as u64;
    reader
        .take(room + 1)
        .read_to_end(out)
        .map_err(|e| corrupt(CompressionType::Zstd, e))?;
    if out.len() > max_output {
        return Err(too_large(CompressionType::Zstd, max_output));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(data: &[u8], level: i32) -> Vec<u8> {
        let mut w = ZstdWriter::new(Vec::new(), level);
        w.write_all(data).unwrap();
        w.finish().unwrap()
    }

    #[test]
    fn writes_one_frame_and_reads_concatenated_ones() {
        let a = frame(b"first frame, first frame", 3);
        assert_eq!(&a[..4], &[0x28, 0xb5, 0x2f, 0xfd], "zstd magic");
        let mut two = a.clone();
        two.extend_from_slice(&frame(b"|second", 1));
        assert_eq!(
            decompress(&two, 100).unwrap(),
            b"first frame, first frame|second"
        );
    }

    #[test]
    fn a_frame_asking_for_a_huge_window_is_refused() {
        // Frame header: magic, descriptor 0 (no single segment, no checksum),
        // window descriptor 0xf8: exponent 31, a 2 TiB window.
        let z = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xf8, 0x01, 0x00, 0x00];
        assert!(decompress(&z, 1 << 20).is_err());
    }

    #[test]
    fn a_cut_frame_is_an_error() {
        let data: Vec<u8> = (0..10_000u32)
            .flat_map(|i| (i % 97).to_le_bytes())
            .collect();
        let z = frame(&data, 3);
        for cut in [5, z.len() / 2, z.len() - 1] {
            assert!(decompress(&z[..cut], 1 << 20).is_err(), "cut at {cut}");
        }
    }
}
