//! Compression codecs for record batches (Java `CompressionType` and
//! `Compression`, `org.apache.kafka.common.compress`).
//!
//! ```text
//!  MemoryRecordsBuilder ─append─> CompressingWriter ─finish─> records section
//!  RecordBatch::records ─────────> decompress(kind, bytes, max_output)
//! ```
//!
//! Every Kafka codec is built, all in pure Rust by default:
//!
//! | codec  | writes                                        | crate                      |
//! |--------|-----------------------------------------------|----------------------------|
//! | gzip   | one gzip member, like `java.util.zip`         | `flate2` (zlib-rs backend) |
//! | snappy | xerial stream framing, 32 KiB blocks          | `snap` (raw blocks)        |
//! | lz4    | LZ4 frame, 64 KiB independent blocks          | `lz4_flex`                 |
//! | zstd   | one zstd frame                                | `ruzstd`, or C `zstd` with feature `zstd-native` |
//!
//! The framing of snappy is ours (file `compression/snappy.rs`); lz4 and
//! zstd frames come from their crates with Kafka's settings (`lz4.rs`,
//! `zstd.rs`). What each level means in this build is documented on
//! [`Compression`].
//!
//! Decompression reads untrusted bytes: it never panics, and never yields
//! (or allocates for) more than the caller's `max_output` bytes.

mod lz4;
mod snappy;
mod zstd;

use std::fmt;
use std::io::{Read, Write};

use crate::error::{Error, Result};

/// A Kafka compression codec, as the batch attributes encode it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CompressionType {
    /// No compression (id 0).
    #[default]
    None,
    /// gzip (id 1).
    Gzip,
    /// snappy with the xerial stream framing (id 2).
    Snappy,
    /// LZ4 frame format (id 3).
    Lz4,
    /// zstd (id 4; needs Produce v7+).
    Zstd,
}

impl CompressionType {
    /// Every codec, in id order.
    pub const ALL: [CompressionType; 5] = [
        CompressionType::None,
        CompressionType::Gzip,
        CompressionType::Snappy,
        CompressionType::Lz4,
        CompressionType::Zstd,
    ];

    /// The id stored in attribute bits 0-2.
    #[must_use]
    pub fn id(self) -> u8 {
        match self {
            CompressionType::None => 0,
            CompressionType::Gzip => 1,
            CompressionType::Snappy => 2,
            CompressionType::Lz4 => 3,
            CompressionType::Zstd => 4,
        }
    }

    /// The codec with this id.
    #[must_use]
    pub fn from_id(id: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.id() == id)
    }

    /// The configuration name (`none`, `gzip`, `snappy`, `lz4`, `zstd`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            CompressionType::None => "none",
            CompressionType::Gzip => "gzip",
            CompressionType::Snappy => "snappy",
            CompressionType::Lz4 => "lz4",
            CompressionType::Zstd => "zstd",
        }
    }

    /// The codec with this configuration name (exact, lowercase, as Java).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Java's default level for the codec, `None` for codecs without levels.
    #[must_use]
    pub fn default_level(self) -> Option<i32> {
        match self {
            CompressionType::Gzip => Some(GZIP_DEFAULT_LEVEL),
            CompressionType::Lz4 => Some(LZ4_DEFAULT_LEVEL),
            CompressionType::Zstd => Some(ZSTD_DEFAULT_LEVEL),
            CompressionType::None | CompressionType::Snappy => None,
        }
    }
}

impl fmt::Display for CompressionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Java's `Deflater.DEFAULT_COMPRESSION`, which zlib treats as level 6.
pub const GZIP_DEFAULT_LEVEL: i32 = -1;
/// Java's default `compression.lz4.level`.
pub const LZ4_DEFAULT_LEVEL: i32 = 9;
/// The lowest `compression.lz4.level` Java accepts.
pub const LZ4_MIN_LEVEL: i32 = 1;
/// The highest `compression.lz4.level` Java accepts.
pub const LZ4_MAX_LEVEL: i32 = 17;
/// Java's default `compression.zstd.level`.
pub const ZSTD_DEFAULT_LEVEL: i32 = 3;
/// The lowest `compression.zstd.level` Java accepts (zstd's
/// `ZSTD_minCLevel()`, -2^17).
pub const ZSTD_MIN_LEVEL: i32 = -131_072;
/// The highest `compression.zstd.level` Java accepts (`ZSTD_maxCLevel()`).
pub const ZSTD_MAX_LEVEL: i32 = 22;

/// A codec and its level: what a batch is compressed with.
///
/// Levels are validated as Java validates them; what they do in this build:
///
/// * **gzip** (`compression.gzip.level`, 1-9 or -1): zlib's levels, as in
///   Java (`flate2`'s pure-Rust deflate; -1 is zlib's default, 6).
/// * **snappy**: no level, as in Java.
/// * **lz4** (`compression.lz4.level`, 1-17, default 9): Java compresses
///   with lz4's fast compressor at the default level 9, and with the
///   high-compression (HC) compressor at any other level. This build has
///   only the fast compressor (`lz4_flex`): every level compresses as
///   Java's default does. HC would give smaller batches, written several
///   times slower.
/// * **zstd** (`compression.zstd.level`, -131072 to 22, default 3): the
///   default build's encoder (`ruzstd`) has one compression mode, close to
///   zstd's level 1, and uses it for every level; its decoder reads frames
///   of any level. With the cargo feature `zstd-native`, the C zstd library
///   compresses at the configured level, as Java's zstd-jni does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Compression {
    kind: CompressionType,
    level: Option<i32>,
}

impl Compression {
    /// No compression.
    #[must_use]
    pub fn none() -> Self {
        Compression::default()
    }

    /// gzip at `level` (1-9, or -1 for zlib's default 6), as
    /// `compression.gzip.level` allows.
    pub fn gzip(level: i32) -> Result<Self> {
        if level == GZIP_DEFAULT_LEVEL || (1..=9).contains(&level) {
            Ok(Compression {
                kind: CompressionType::Gzip,
                level: Some(level),
            })
        } else {
            Err(Error::config(
                "compression.gzip.level",
                level,
                "must be between 1 and 9, or -1 for the default",
            ))
        }
    }

    /// snappy (it has no level).
    #[must_use]
    pub fn snappy() -> Self {
        Compression {
            kind: CompressionType::Snappy,
            level: None,
        }
    }

    /// lz4 at `level` (1-17), as `compression.lz4.level` allows; see the
    /// type's documentation for what the level does in this build.
    pub fn lz4(level: i32) -> Result<Self> {
        if (LZ4_MIN_LEVEL..=LZ4_MAX_LEVEL).contains(&level) {
            Ok(Compression {
                kind: CompressionType::Lz4,
                level: Some(level),
            })
        } else {
            Err(Error::config(
                "compression.lz4.level",
                level,
                "must be between 1 and 17",
            ))
        }
    }

    /// zstd at `level` (-131072 to 22), as `compression.zstd.level` allows;
    /// see the type's documentation for what the level does in this build.
    pub fn zstd(level: i32) -> Result<Self> {
        if (ZSTD_MIN_LEVEL..=ZSTD_MAX_LEVEL).contains(&level) {
            Ok(Compression {
                kind: CompressionType::Zstd,
                level: Some(level),
            })
        } else {
            Err(Error::config(
                "compression.zstd.level",
                level,
                "must be between -131072 and 22",
            ))
        }
    }

    /// A codec at Java's default level for it.
    #[must_use]
    pub fn of(kind: CompressionType) -> Self {
        Compression {
            kind,
            level: kind.default_level(),
        }
    }

    /// The codec.
    #[must_use]
    pub fn kind(self) -> CompressionType {
        self.kind
    }

    /// The level, for codecs that have one.
    #[must_use]
    pub fn level(self) -> Option<i32> {
        self.level
    }

    fn gzip_level(self) -> flate2::Compression {
        match self.level {
            Some(l) if (1..=9).contains(&l) => flate2::Compression::new(l as u32),
            _ => flate2::Compression::new(6),
        }
    }
}

/// A stream that compresses record bytes after the reserved batch header.
pub(crate) enum CompressingWriter {
    Gzip(flate2::write::GzEncoder<Vec<u8>>),
    /// Boxed: `snap`'s encoder keeps a 2 KiB hash table inline.
    Snappy(Box<snappy::SnappyWriter>),
    Lz4(lz4::Lz4Writer),
    Zstd(zstd::ZstdWriter),
}

impl fmt::Debug for CompressingWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CompressingWriter::Gzip(_) => "CompressingWriter::Gzip",
            CompressingWriter::Snappy(_) => "CompressingWriter::Snappy",
            CompressingWriter::Lz4(_) => "CompressingWriter::Lz4",
            CompressingWriter::Zstd(_) => "CompressingWriter::Zstd",
        })
    }
}

impl CompressingWriter {
    /// Wraps `buffer` (which already holds the header placeholder); gives
    /// the buffer back for codecs that do not compress.
    pub(crate) fn new(
        compression: Compression,
        buffer: Vec<u8>,
    ) -> std::result::Result<Self, Vec<u8>> {
        Ok(match compression.kind {
            CompressionType::None => return Err(buffer),
            CompressionType::Gzip => {
                // Java writes a bare gzip member: no name, mtime 0, OS 255.
                let enc = flate2::GzBuilder::new()
                    .operating_system(255)
                    .write(buffer, compression.gzip_level());
                CompressingWriter::Gzip(enc)
            }
            CompressionType::Snappy => {
                CompressingWriter::Snappy(Box::new(snappy::SnappyWriter::new(buffer)))
            }
            CompressionType::Lz4 => CompressingWriter::Lz4(lz4::Lz4Writer::new(buffer)),
            CompressionType::Zstd => CompressingWriter::Zstd(zstd::ZstdWriter::new(
                buffer,
                compression.level.unwrap_or(ZSTD_DEFAULT_LEVEL),
            )),
        })
    }

    pub(crate) fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        match self {
            CompressingWriter::Gzip(w) => w.write_all(bytes).map_err(Error::from),
            CompressingWriter::Snappy(w) => w.write_all(bytes),
            CompressingWriter::Lz4(w) => w.write_all(bytes),
            CompressingWriter::Zstd(w) => w.write_all(bytes),
        }
    }

    /// Finishes the stream and gives the buffer back.
    pub(crate) fn finish(self) -> Result<Vec<u8>> {
        match self {
            CompressingWriter::Gzip(w) => w.finish().map_err(Error::from),
            CompressingWriter::Snappy(w) => w.finish(),
            CompressingWriter::Lz4(w) => w.finish(),
            CompressingWriter::Zstd(w) => w.finish(),
        }
    }
}

/// Decompresses a batch's records section, refusing to produce more than
/// `max_output` bytes (a guard against decompression bombs: no codec
/// allocates for more either).
///
/// Errors are [`Error::Other`] naming the codec: "corrupt snappy records:
/// ..." for bytes that do not decode, "decompressed lz4 records exceed the
/// limit of N bytes" past the bound.
pub fn decompress(kind: CompressionType, input: &[u8], max_output: usize) -> Result<Vec<u8>> {
    let out = match kind {
        CompressionType::None => input.to_vec(),
        CompressionType::Gzip => {
            let mut out = Vec::new();
            flate2::read::MultiGzDecoder::new(input)
                .take(max_output as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| corrupt(kind, e))?;
            out
        }
        CompressionType::Snappy => snappy::decompress(input, max_output)?,
        CompressionType::Lz4 => lz4::decompress(input, max_output)?,
        CompressionType::Zstd => zstd::decompress(input, max_output)?,
    };
    if out.len() > max_output {
        return Err(too_large(kind, max_output));
    }
    Ok(out)
}

/// The error for output past the caller's bound.
fn too_large(kind: CompressionType, max_output: usize) -> Error {
    Error::Other(format!(
        "decompressed {kind} records exceed the limit of {max_output} bytes"
    ))
}

/// The error for compressed bytes that do not decode.
fn corrupt(kind: CompressionType, detail: impl fmt::Display) -> Error {
    Error::Other(format!("corrupt {kind} records: {detail}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ids_round_trip() {
        for c in CompressionType::ALL {
            assert_eq!(CompressionType::from_name(c.name()), Some(c));
            assert_eq!(CompressionType::from_id(c.id()), Some(c));
        }
        assert_eq!(CompressionType::from_name("GZIP"), None);
        assert_eq!(CompressionType::from_id(5), None);
    }

    #[test]
    fn every_codec_is_built_at_javas_default_level() {
        for c in CompressionType::ALL {
            let compression = Compression::of(c);
            assert_eq!(compression.kind(), c);
            assert_eq!(compression.level(), c.default_level());
        }
        assert_eq!(Compression::of(CompressionType::Lz4).level(), Some(9));
        assert_eq!(Compression::of(CompressionType::Zstd).level(), Some(3));
        assert_eq!(
            Compression::snappy(),
            Compression::of(CompressionType::Snappy)
        );
    }

    #[test]
    fn lz4_and_zstd_levels_follow_java_and_name_the_key() {
        assert!(Compression::lz4(1).is_ok());
        assert!(Compression::lz4(17).is_ok());
        for bad in [0, 18, -1] {
            let e = Compression::lz4(bad).unwrap_err().to_string();
            assert!(
                e.contains("compression.lz4.level") && e.contains(&bad.to_string()),
                "{e}"
            );
        }
        assert!(Compression::zstd(-131_072).is_ok());
        assert!(Compression::zstd(22).is_ok());
        assert!(Compression::zstd(0).is_ok());
        for bad in [23, -131_073] {
            let e = Compression::zstd(bad).unwrap_err().to_string();
            assert!(
                e.contains("compression.zstd.level") && e.contains(&bad.to_string()),
                "{e}"
            );
        }
    }

    fn compress(compression: Compression, data: &[u8]) -> Vec<u8> {
        let mut w = CompressingWriter::new(compression, Vec::new()).unwrap();
        // In pieces, as records arrive.
        for chunk in data.chunks(777) {
            w.write_all(chunk).unwrap();
        }
        w.finish().unwrap()
    }

    fn all_codecs() -> Vec<Compression> {
        vec![
            Compression::gzip(-1).unwrap(),
            Compression::snappy(),
            Compression::lz4(9).unwrap(),
            Compression::lz4(1).unwrap(),
            Compression::zstd(3).unwrap(),
            Compression::zstd(-5).unwrap(),
            Compression::zstd(19).unwrap(),
        ]
    }

    #[test]
    fn every_codec_round_trips_small_empty_and_multi_block_inputs() {
        let mut big = Vec::new();
        for i in 0..40_000u32 {
            big.extend_from_slice(format!("record-{}-{};", i, i % 7).as_bytes());
        }
        assert!(
            big.len() > 4 * 65_536,
            "spans several snappy and lz4 blocks"
        );
        for c in all_codecs() {
            for data in [&b""[..], b"x", &big] {
                let z = compress(c, data);
                let back = decompress(c.kind(), &z, data.len()).unwrap();
                assert!(back == data, "{c:?}: {} bytes", data.len());
            }
            let z = compress(c, &big);
            assert!(z.len() < big.len() / 2, "{c:?} compresses: {}", z.len());
        }
    }

    #[test]
    fn decompression_is_bounded_for_every_codec() {
        let data = vec![7u8; 100_000];
        for c in all_codecs() {
            let z = compress(c, &data);
            assert_eq!(decompress(c.kind(), &z, 100_000).unwrap().len(), 100_000);
            let e = decompress(c.kind(), &z, 99_999).unwrap_err().to_string();
            assert!(e.contains("exceed the limit of 99999 bytes"), "{c:?}: {e}");
            assert!(decompress(c.kind(), &z, 0).is_err(), "{c:?}");
        }
        assert!(decompress(CompressionType::None, b"abc", 2).is_err());
    }

    #[test]
    fn corrupt_input_is_a_clear_error_for_every_codec() {
        let data: Vec<u8> = (0..50_000u32)
            .flat_map(|i| (i % 251).to_be_bytes())
            .collect();
        for c in all_codecs() {
            let z = compress(c, &data);
            for cut in [0, 1, 4, z.len() / 2, z.len() - 1] {
                let r = decompress(c.kind(), &z[..cut], 1 << 20);
                // A cut stream either fails or yields less than the data.
                if let Ok(out) = r {
                    assert!(out.len() < data.len(), "{c:?} cut at {cut}");
                }
            }
            let e = decompress(c.kind(), b"\x00\x01garbage that is not compressed", 1 << 20)
                .unwrap_err()
                .to_string();
            assert!(e.contains(c.kind().name()), "{c:?}: {e}");
        }
    }

    #[test]
    fn gzip_levels_follow_java() {
        assert!(Compression::gzip(-1).is_ok());
        assert!(Compression::gzip(1).is_ok());
        assert!(Compression::gzip(9).is_ok());
        assert!(Compression::gzip(0).is_err());
        assert!(Compression::gzip(10).is_err());
    }

    #[test]
    fn decompression_is_bounded() {
        let mut w = CompressingWriter::new(Compression::gzip(-1).unwrap(), Vec::new()).unwrap();
        w.write_all(&[0u8; 10_000]).unwrap();
        let z = w.finish().unwrap();
        assert_eq!(
            decompress(CompressionType::Gzip, &z, 10_000).unwrap().len(),
            10_000
        );
        assert!(decompress(CompressionType::Gzip, &z, 9_999).is_err());
        let e = decompress(CompressionType::Gzip, b"not gzip", 100).unwrap_err();
        assert!(e.to_string().starts_with("corrupt gzip records"), "{e}");
    }
}
