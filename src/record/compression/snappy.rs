//! snappy as Kafka writes it: the xerial snappy-java stream framing (Java's
//! `SnappyOutputStream`, which Kafka's `SnappyCompression` wraps) over raw
//! snappy blocks from the `snap` crate.
//!
//! ```text
//!  82 53 4e 41 50 50 59 00   magic "\x82SNAPPY\0"
//!  00 00 00 01 00 00 00 01   version 1, minimum compatible version 1 (big-endian)
//!  [len: i32 BE][raw snappy block of up to 32 KiB of input]*
//! ```
//!
//! The writer cuts the input into 32 KiB blocks as snappy-java's default
//! block size does. The reader also accepts what snappy-java's
//! `SnappyInputStream` accepts: a second header in the middle (concatenated
//! streams), and input without the magic, read as one raw snappy block
//! (what some non-Java clients write).

use snap::raw::{decompress_len, max_compress_len, Decoder, Encoder};

use super::{corrupt, too_large, CompressionType};
use crate::error::Result;

/// The stream header: magic, then version and minimum compatible version.
const HEADER: [u8; 16] = [
    0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1,
];
/// The magic alone, what identifies the framing.
const MAGIC: [u8; 8] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];
/// snappy-java's default block size (`SnappyOutputStream.DEFAULT_BLOCK_SIZE`).
const BLOCK_SIZE: usize = 32 * 1024;

thread_local! {
    /// Where a thread compresses a block before appending it: one
    /// worst-case block (about 37 KiB) per thread that compresses.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Buffers input and writes one framed block per 32 KiB.
pub(crate) struct SnappyWriter {
    out: Vec<u8>,
    block: Vec<u8>,
    encoder: Encoder,
}

impl SnappyWriter {
    /// Starts the stream in `out` (after what it already holds).
    pub(crate) fn new(mut out: Vec<u8>) -> Self {
        out.extend_from_slice(&HEADER);
        SnappyWriter {
            out,
            block: Vec::with_capacity(BLOCK_SIZE),
            encoder: Encoder::new(),
        }
    }

    pub(crate) fn write_all(&mut self, mut bytes: &[u8]) -> Result<()> {
        while !bytes.is_empty() {
            let take = (BLOCK_SIZE - self.block.len()).min(bytes.len());
            self.block.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.block.len() == BLOCK_SIZE {
                self.flush_block()?;
            }
        }
        Ok(())
    }

    /// Compresses the buffered block into the output, length first.
    ///
    /// The block is compressed into the thread's scratch buffer, then only
    /// what it compressed to is appended: the output (the batch's buffer)
    /// never grows to the worst case (`max_compress_len` of 32 KiB, more
    /// than twice a default batch), which it would keep.
    fn flush_block(&mut self) -> Result<()> {
        if self.block.is_empty() {
            return Ok(());
        }
        let need = max_compress_len(self.block.len());
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            if scratch.len() < need {
                scratch.resize(need, 0);
            }
            let n = self
                .encoder
                .compress(&self.block, &mut scratch[..need])
                .map_err(|e| corrupt(CompressionType::Snappy, e))?;
            // n <= max_compress_len(32 KiB), far below i32::MAX.
            self.out.extend_from_slice(&(n as i32).to_be_bytes());
            self.out.extend_from_slice(&scratch[..n]);
            self.block.clear();
            Ok(())
        })
    }

    /// Writes the last (partial) block and gives the buffer back.
    pub(crate) fn finish(mut self) -> Result<Vec<u8>> {
        self.flush_block()?;
        Ok(self.out)
    }
}

/// Inflates a snappy records section into at most `max_output` bytes.
pub(crate) fn decompress(input: &[u8], max_output: usize) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut decoder = Decoder::new();
    if !input.starts_with(&MAGIC) {
        // No framing: one raw block, as SnappyInputStream falls back to.
        append_block(&mut decoder, input, &mut out, max_output)?;
        return Ok(out);
    }
    let mut rest = input;
    while !rest.is_empty() {
        if rest.starts_with(&MAGIC) {
            // A (first or concatenated) stream header. A block length never
            // starts with 0x82: it would be negative.
            if rest.len() < HEADER.len() {
                return Err(corrupt(CompressionType::Snappy, "truncated stream header"));
            }
            rest = &rest[HEADER.len()..];
            continue;
        }
        let Some((len, after)) = rest.split_first_chunk::<4>() else {
            return Err(corrupt(CompressionType::Snappy, "truncated block length"));
        };
        let len = i32::from_be_bytes(*len);
        let block = usize::try_from(len)
            .ok()
            .and_then(|n| after.get(..n))
            .ok_or_else(|| {
                corrupt(
                    CompressionType::Snappy,
                    format!(
                        "block length {len} with {} bytes left in the stream",
                        after.len()
                    ),
                )
            })?;
        if !block.is_empty() {
            append_block(&mut decoder, block, &mut out, max_output)?;
        }
        rest = &after[block.len()..];
    }
    Ok(out)
}

/// Inflates one raw snappy block onto `out`, checking the length it
/// declares against the bound before allocating for it.
fn append_block(
    decoder: &mut Decoder,
    block: &[u8],
    out: &mut Vec<u8>,
    max_output: usize,
) -> Result<()> {
    let n = decompress_len(block).map_err(|e| corrupt(CompressionType::Snappy, e))?;
    let start = out.len();
    if n > max_output.saturating_sub(start) {
        return Err(too_large(CompressionType::Snappy, max_output));
    }
    out.resize(start + n, 0);
    let written = decoder
        .decompress(block, &mut out[start..])
        .map_err(|e| corrupt(CompressionType::Snappy, e))?;
    if written != n {
        return Err(corrupt(
            CompressionType::Snappy,
            format!("block declared {n} bytes but held {written}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(data: &[u8]) -> Vec<u8> {
        let mut w = SnappyWriter::new(Vec::new());
        w.write_all(data).unwrap();
        w.finish().unwrap()
    }

    #[test]
    fn writes_xerial_header_and_32_kib_blocks() {
        let data = vec![b'a'; 2 * BLOCK_SIZE + 10];
        let z = framed(&data);
        assert_eq!(&z[..16], &HEADER);
        // Walk the blocks: three, of 32 KiB, 32 KiB and 10 bytes of input.
        let mut rest = &z[16..];
        let mut sizes = Vec::new();
        while !rest.is_empty() {
            let len = i32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
            sizes.push(decompress_len(&rest[4..4 + len]).unwrap());
            rest = &rest[4 + len..];
        }
        assert_eq!(sizes, [BLOCK_SIZE, BLOCK_SIZE, 10]);
        assert_eq!(decompress(&z, data.len()).unwrap(), data);
    }

    #[test]
    fn reads_raw_blocks_and_concatenated_streams() {
        let raw = Encoder::new().compress_vec(b"hello hello hello").unwrap();
        assert_eq!(decompress(&raw, 100).unwrap(), b"hello hello hello");
        let mut two = framed(b"first,");
        two.extend_from_slice(&framed(b"second"));
        assert_eq!(decompress(&two, 100).unwrap(), b"first,second");
    }

    #[test]
    fn refuses_bad_lengths_before_allocating() {
        let mut z = HEADER.to_vec();
        z.extend_from_slice(&(-5i32).to_be_bytes());
        assert!(decompress(&z, 100).is_err());
        let mut z = HEADER.to_vec();
        z.extend_from_slice(&100i32.to_be_bytes());
        z.extend_from_slice(&[0; 10]);
        let e = decompress(&z, 100).unwrap_err().to_string();
        assert!(e.contains("block length 100 with 10 bytes left"), "{e}");
        // A block claiming 4 GiB of output is refused by its header.
        let mut z = HEADER.to_vec();
        let block = [0xff, 0xff, 0xff, 0xff, 0x0f, 0x00];
        z.extend_from_slice(&(block.len() as i32).to_be_bytes());
        z.extend_from_slice(&block);
        let e = decompress(&z, 1 << 20).unwrap_err().to_string();
        assert!(e.contains("exceed the limit"), "{e}");
        assert!(decompress(&HEADER[..12], 100).is_err());
    }
}
