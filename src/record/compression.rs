//! Compression codecs for record batches (Java `CompressionType` and
//! `Compression`).
//!
//! Every Kafka codec is named so configuration can refer to it; the ones not
//! built yet (snappy, lz4, zstd) are rejected with a clear error instead of
//! silently falling back to no compression. gzip uses `flate2` (pure Rust).

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

    /// Whether this build can compress and decompress with this codec.
    #[must_use]
    pub fn is_supported(self) -> bool {
        matches!(self, CompressionType::None | CompressionType::Gzip)
    }

    /// Java's default level for the codec, `None` for codecs without levels.
    #[must_use]
    pub fn default_level(self) -> Option<i32> {
        match self {
            CompressionType::Gzip => Some(GZIP_DEFAULT_LEVEL),
            CompressionType::Lz4 => Some(9),
            CompressionType::Zstd => Some(3),
            CompressionType::None | CompressionType::Snappy => None,
        }
    }

    /// Fails with [`Error::Unsupported`] for a codec this build lacks.
    pub fn ensure_supported(self) -> Result<()> {
        if self.is_supported() {
            Ok(())
        } else {
            Err(Error::Unsupported(format!(
                "compression type {} is not supported by this build yet (supported: none, gzip)",
                self.name()
            )))
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

/// A codec and its level: what a batch is compressed with.
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

    /// A codec at its default level; fails for a codec this build lacks.
    pub fn of(kind: CompressionType) -> Result<Self> {
        kind.ensure_supported()?;
        Ok(Compression {
            kind,
            level: kind.default_level(),
        })
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
}

impl fmt::Debug for CompressingWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompressingWriter::Gzip(_) => f.write_str("CompressingWriter::Gzip"),
        }
    }
}

impl CompressingWriter {
    /// Wraps `buffer` (which already holds the header placeholder); gives
    /// the buffer back for codecs that do not compress.
    pub(crate) fn new(
        compression: Compression,
        buffer: Vec<u8>,
    ) -> std::result::Result<Self, Vec<u8>> {
        match compression.kind {
            CompressionType::None => Err(buffer),
            CompressionType::Gzip => {
                // Java writes a bare gzip member: no name, mtime 0, OS 255.
                let enc = flate2::GzBuilder::new()
                    .operating_system(255)
                    .write(buffer, compression.gzip_level());
                Ok(CompressingWriter::Gzip(enc))
            }
            // Unsupported codecs are rejected before a builder is made.
            CompressionType::Snappy | CompressionType::Lz4 | CompressionType::Zstd => Err(buffer),
        }
    }

    pub(crate) fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        match self {
            CompressingWriter::Gzip(w) => w.write_all(bytes).map_err(Error::from),
        }
    }

    /// Finishes the stream and gives the buffer back.
    pub(crate) fn finish(self) -> Result<Vec<u8>> {
        match self {
            CompressingWriter::Gzip(w) => w.finish().map_err(Error::from),
        }
    }
}

/// Decompresses a batch's records section, refusing to produce more than
/// `max_output` bytes (a guard against decompression bombs).
pub fn decompress(kind: CompressionType, input: &[u8], max_output: usize) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let limit = max_output as u64 + 1;
    match kind {
        CompressionType::None => out.extend_from_slice(input),
        CompressionType::Gzip => {
            flate2::read::MultiGzDecoder::new(input)
                .take(limit)
                .read_to_end(&mut out)?;
        }
        other => other.ensure_supported()?,
    }
    if out.len() > max_output {
        return Err(Error::Other(format!(
            "decompressed {kind} records exceed the limit of {max_output} bytes"
        )));
    }
    Ok(out)
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
    fn unbuilt_codecs_are_a_clear_error() {
        for c in [
            CompressionType::Snappy,
            CompressionType::Lz4,
            CompressionType::Zstd,
        ] {
            let e = Compression::of(c).unwrap_err();
            assert!(matches!(e, Error::Unsupported(_)));
            assert!(e.to_string().contains(c.name()), "{e}");
        }
        assert!(Compression::of(CompressionType::Gzip).is_ok());
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
        assert!(decompress(CompressionType::Gzip, b"not gzip", 100).is_err());
    }
}
