//! One module per API the producer speaks, each with plain Rust structs that
//! mirror the Kafka 4.3 message schemas (`*Request.json` / `*Response.json`):
//!
//! * [`api_versions`]: ApiVersions (key 18), versions 0-4;
//! * [`metadata`]: Metadata (key 3), versions 0-13;
//! * [`produce`]: Produce (key 0), versions 3-13;
//! * [`init_producer_id`]: InitProducerId (key 22), versions 0-6.
//!
//! Conventions shared by every message:
//!
//! * field names are the schema's, in snake_case, in wire order; every field
//!   of every version is present, tagged fields included, and a field that a
//!   version does not carry decodes to its schema default (the structs'
//!   `Default` impls hold those defaults);
//! * `encode(&self, out, version)` appends the body to a `Vec<u8>` without
//!   allocating anything else; a non-ignorable field holding a non-default
//!   value at a version that lacks it is an [`EncodeError`] naming the field,
//!   as Java refuses with `UnsupportedVersionException`; an ignorable one is
//!   silently dropped;
//! * `decode(reader, version)` reads the body only (the caller checks that
//!   the frame ends there); every error names the field, unknown tagged
//!   fields are skipped by their size, and array counts are checked against
//!   the remaining input with an honest minimum element size before
//!   anything is allocated.
//!
//! Requests implement [`Request`] and responses [`Response`], which is all
//! the frame helpers in [`crate::protocol::header`] need.

pub mod api_versions;
pub mod init_producer_id;
pub mod metadata;
pub mod produce;

use super::api_key::{ApiKey, VersionRange};
use super::codec::{DecodeError, DecodeErrorKind, EncodeError, Reader, Writer};

/// A 16-byte UUID (topic ids), most significant byte first; all zeros means
/// "no id".
pub type Uuid = [u8; 16];

/// The all-zero UUID: no topic id.
pub const ZERO_UUID: Uuid = [0; 16];

/// A request body.
pub trait Request {
    /// The API this request belongs to.
    const API_KEY: ApiKey;
    /// The versions the 4.3 schema defines (and this codec can write).
    const VERSIONS: VersionRange;
    /// Appends the body at `version` to `out`.
    fn encode(&self, out: &mut Vec<u8>, version: i16) -> Result<(), EncodeError>;
}

/// A response body.
pub trait Response: Sized {
    /// The API this response belongs to.
    const API_KEY: ApiKey;
    /// The versions the 4.3 schema defines (and this codec can read).
    const VERSIONS: VersionRange;
    /// Reads the body at `version`, leaving the reader after its last byte.
    fn decode(r: &mut Reader<'_>, version: i16) -> Result<Self, DecodeError>;
    /// Appends the body at `version` to `out` (the embedded mock broker).
    fn encode(&self, out: &mut Vec<u8>, version: i16) -> Result<(), EncodeError>;
}

type DResult<T> = Result<T, DecodeError>;

/// Fails unless `version` is one the schema of `message` defines.
pub(crate) fn check_encode_version(
    message: &'static str,
    range: VersionRange,
    version: i16,
) -> Result<(), EncodeError> {
    if range.contains(version) {
        Ok(())
    } else {
        Err(EncodeError::new(
            message,
            format!("version {version} is outside the versions {range} this codec knows"),
        ))
    }
}

/// Fails unless `version` is one the schema defines; `field` names the
/// message (e.g. `"ProduceResponse.version"`).
pub(crate) fn check_decode_version(
    field: &'static str,
    range: VersionRange,
    version: i16,
) -> DResult<()> {
    if range.contains(version) {
        Ok(())
    } else {
        Err(DecodeError::new(field, DecodeErrorKind::InvalidValue))
    }
}

/// The rule for a non-ignorable field at a version that lacks it: a
/// default value is fine (nothing to lose), anything else is an error.
pub(crate) fn absent_must_be_default<T: PartialEq>(
    present: bool,
    value: &T,
    default: &T,
    field: &'static str,
    version: i16,
) -> Result<(), EncodeError> {
    if present || value == default {
        Ok(())
    } else {
        Err(EncodeError::new(
            field,
            format!("a non-default value cannot be written at version {version}"),
        ))
    }
}

/// Reads a non-null array whose elements take at least `min_size` bytes.
pub(crate) fn read_array<'a, T>(
    r: &mut Reader<'a>,
    flexible: bool,
    min_size: usize,
    field: &'static str,
    mut element: impl FnMut(&mut Reader<'a>) -> DResult<T>,
) -> DResult<Vec<T>> {
    let count = r.array_len_non_null(flexible, min_size, field)?;
    // `count * min_size` bytes remain: this allocation is bounded by the input.
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        out.push(element(r)?);
    }
    Ok(out)
}

/// Reads a nullable array whose elements take at least `min_size` bytes.
pub(crate) fn read_nullable_array<'a, T>(
    r: &mut Reader<'a>,
    flexible: bool,
    min_size: usize,
    field: &'static str,
    mut element: impl FnMut(&mut Reader<'a>) -> DResult<T>,
) -> DResult<Option<Vec<T>>> {
    let Some(count) = r.array_len(flexible, min_size, field)? else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        out.push(element(r)?);
    }
    Ok(Some(out))
}

/// Reads a non-null `[]int32`.
pub(crate) fn read_i32_array(
    r: &mut Reader<'_>,
    flexible: bool,
    field: &'static str,
) -> DResult<Vec<i32>> {
    read_array(r, flexible, 4, field, |r| r.i32(field))
}

/// Writes a non-null `[]int32`.
pub(crate) fn put_i32_array(out: &mut Vec<u8>, values: &[i32], flexible: bool) {
    out.put_array_len(Some(values.len()), flexible);
    for v in values {
        out.put_i32(*v);
    }
}

/// Writes one tagged field: its tag, its size and the value `value` writes.
///
/// The size is a varint written *before* the value but known only after it,
/// so the value is written first and the size rotated in front of it: no
/// temporary buffer and no second size computation.
pub(crate) fn put_tagged_field(
    out: &mut Vec<u8>,
    tag: u32,
    value: impl FnOnce(&mut Vec<u8>) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    out.put_unsigned_varint(tag);
    let start = out.len();
    value(out)?;
    let size = out.len() - start;
    let size = u32::try_from(size)
        .map_err(|_| EncodeError::new("tagged field", "value larger than 4 GiB"))?;
    out.put_unsigned_varint(size);
    let size_len = out.len() - start - size as usize;
    out[start..].rotate_right(size_len);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tagged_field_size_goes_before_the_value() {
        let mut out = vec![0xaa];
        put_tagged_field(&mut out, 3, |o| {
            o.put_i32(7);
            Ok(())
        })
        .unwrap();
        assert_eq!(out, [0xaa, 3, 4, 0, 0, 0, 7]);

        // A value of 200 bytes needs a two-byte size varint.
        let mut out = Vec::new();
        put_tagged_field(&mut out, 0, |o| {
            o.extend_from_slice(&[9; 200]);
            Ok(())
        })
        .unwrap();
        assert_eq!(&out[..3], &[0, 0xc8, 0x01]);
        assert_eq!(out.len(), 203);
        assert!(out[3..].iter().all(|b| *b == 9));
    }

    #[test]
    fn absent_fields_must_hold_their_default() {
        assert!(absent_must_be_default(false, &-1i64, &-1, "f", 2).is_ok());
        assert!(absent_must_be_default(true, &5i64, &-1, "f", 3).is_ok());
        let e = absent_must_be_default(false, &5i64, &-1, "X.producer_id", 2).unwrap_err();
        assert_eq!(e.field, "X.producer_id");
        assert!(e.reason.contains("version 2"), "{e}");
    }
}
