//! lz4 as Kafka writes it for magic v2: the LZ4 frame format of Java's
//! `Lz4BlockOutputStream`, through `lz4_flex`'s frame encoder and decoder.
//!
//! ```text
//!  04 22 4d 18   magic 0x184D2204 (little-endian)
//!  60            FLG: version 01, independent blocks, no block or content
//!                checksum, no content size
//!  40            BD: 64 KiB maximum block size
//!  xx            header checksum: (xxhash32(FLG, BD) >> 8) & 0xff
//!  [len: u32 LE, bit 31 set = stored uncompressed][block]*
//!  00 00 00 00   end mark
//! ```
//!
//! The header checksum is the correct one: Kafka writes the broken one
//! (hashing the magic too) only for magic v0. Java compresses with lz4's
//! fast compressor at its default level and with HC otherwise; `lz4_flex`
//! has only the fast one, used at every level (see
//! [`Compression`](super::Compression)). The reader takes any valid frame
//! (linked blocks and checksums included), more than Java's reader does.

use std::io::{Read, Write};

use lz4_flex::frame::{BlockMode, BlockSize, FrameDecoder, FrameEncoder, FrameInfo};

use super::{corrupt, too_large, CompressionType};
use crate::error::Result;

/// The frame settings of Java's `Lz4BlockOutputStream` (`BLOCKSIZE_64KB`,
/// block independence, no checksums).
fn frame_info() -> FrameInfo {
    FrameInfo::new()
        .block_size(BlockSize::Max64KB)
        .block_mode(BlockMode::Independent)
        .block_checksums(false)
        .content_checksum(false)
}

/// An LZ4 frame being written into the batch buffer.
pub(crate) struct Lz4Writer {
    encoder: FrameEncoder<Vec<u8>>,
}

impl Lz4Writer {
    /// Starts a frame in `out` (after what it already holds).
    pub(crate) fn new(out: Vec<u8>) -> Self {
        Lz4Writer {
            encoder: FrameEncoder::with_frame_info(frame_info(), out),
        }
    }

    pub(crate) fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        self.encoder
            .write_all(bytes)
            .map_err(|e| corrupt(CompressionType::Lz4, e))
    }

    /// Writes the last block and the end mark, and gives the buffer back.
    pub(crate) fn finish(self) -> Result<Vec<u8>> {
        self.encoder
            .finish()
            .map_err(|e| corrupt(CompressionType::Lz4, e))
    }
}

/// Inflates an lz4 records section into at most `max_output` bytes.
pub(crate) fn decompress(input: &[u8], max_output: usize) -> Result<Vec<u8>> {
    check_frame(input).map_err(|e| corrupt(CompressionType::Lz4, e))?;
    let mut out = Vec::new();
    FrameDecoder::new(input)
        .take(max_output as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| corrupt(CompressionType::Lz4, e))?;
    if out.len() > max_output {
        return Err(too_large(CompressionType::Lz4, max_output));
    }
    Ok(out)
}

/// Walks the frame's structure (header, block lengths, end mark, optional
/// checksums) without decoding: `lz4_flex` reads a frame cut at a block
/// boundary, or without its end mark, as a shorter frame, where Java's
/// `Lz4BlockInputStream` fails. One frame, as Kafka writes; bytes after it
/// are refused too (Java ignores them). Decoding then checks the contents.
fn check_frame(input: &[u8]) -> std::result::Result<(), &'static str> {
    const MAGIC: [u8; 4] = [0x04, 0x22, 0x4d, 0x18];
    let header = input.get(..7).ok_or("truncated frame header")?;
    if header[..4] != MAGIC {
        return Err("bad frame magic");
    }
    let flg = header[4];
    let block_checksum = flg & 0x10 != 0;
    let content_checksum = flg & 0x04 != 0;
    // Magic, FLG, BD, optional content size and dictionary id, HC.
    let mut at = 7 + if flg & 0x08 != 0 { 8 } else { 0 } + if flg & 0x01 != 0 { 4 } else { 0 };
    loop {
        let word = input.get(at..at + 4).ok_or("truncated block length")?;
        at += 4;
        let word = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
        if word == 0 {
            break; // the end mark
        }
        let len = (word & 0x7fff_ffff) as usize + if block_checksum { 4 } else { 0 };
        at = at
            .checked_add(len)
            .filter(|&end| end <= input.len())
            .ok_or("block longer than the frame")?;
    }
    if content_checksum {
        at += 4;
    }
    match input.len().cmp(&at) {
        std::cmp::Ordering::Less => Err("truncated content checksum"),
        std::cmp::Ordering::Greater => Err("bytes after the end of the frame"),
        std::cmp::Ordering::Equal => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(data: &[u8]) -> Vec<u8> {
        let mut w = Lz4Writer::new(Vec::new());
        w.write_all(data).unwrap();
        w.finish().unwrap()
    }

    #[test]
    fn writes_javas_frame_header_and_end_mark() {
        let z = framed(b"some records, some records, some records");
        // Magic, FLG 0x60, BD 0x40, header checksum 0x82: the bytes of
        // every lz4 batch in the Java vectors.
        assert_eq!(&z[..7], &[0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82]);
        assert_eq!(&z[z.len() - 4..], &[0, 0, 0, 0]);
    }

    #[test]
    fn incompressible_blocks_are_stored_and_large_inputs_split_at_64_kib() {
        let mut x = 1u32;
        let noise: Vec<u8> = (0..70_000)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                (x >> 16) as u8
            })
            .collect();
        let z = framed(&noise);
        let first = u32::from_le_bytes(z[7..11].try_into().unwrap());
        assert_eq!(first, 0x8000_0000 | 65_536, "stored, 64 KiB");
        assert_eq!(decompress(&z, noise.len()).unwrap(), noise);
    }

    #[test]
    fn a_frame_cut_anywhere_is_refused() {
        let data = vec![3u8; 200_000];
        let z = framed(&data);
        assert_eq!(decompress(&z, data.len()).unwrap(), data);
        for cut in 0..z.len() {
            assert!(decompress(&z[..cut], data.len()).is_err(), "cut at {cut}");
        }
        let mut two = z.clone();
        two.extend_from_slice(&z);
        let e = decompress(&two, 2 * data.len()).unwrap_err().to_string();
        assert!(e.contains("bytes after the end of the frame"), "{e}");
    }

    #[test]
    fn a_bad_header_checksum_is_refused() {
        let mut z = framed(b"abc");
        z[6] ^= 0xff;
        assert!(decompress(&z, 100).is_err());
    }
}
