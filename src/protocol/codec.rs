//! The Kafka wire primitives: a [`Reader`] over untrusted bytes and a
//! [`Writer`] trait implemented for `Vec<u8>`.
//!
//! Covers fixed-width big-endian integers, unsigned varints (lengths, counts
//! and tags in flexible versions), zig-zag varints and varlongs (inside
//! records), classic strings / bytes / arrays (int16 or int32 lengths, -1 for
//! null), compact strings / bytes / arrays (unsigned varint of length + 1, 0
//! for null) and tagged-field sections.
//!
//! Decoding never panics and never trusts a length: every length or count is
//! checked against the bytes that remain *before* anything is allocated, and
//! every error names the field being read ([`DecodeError::field`]). Encoding
//! writes into a `Vec<u8>`; lengths that are only known afterwards are
//! reserved and patched ([`Writer::reserve_i32`] / [`Writer::patch_i32`]).
//!
//! This module is sans-IO: no sockets, threads, locks or clock.

use std::fmt;

/// Why decoding failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input ended before the field was complete.
    Truncated,
    /// A length or count was negative where null is not allowed, or below -1.
    InvalidLength,
    /// A length or count is larger than the bytes that remain.
    LengthExceedsInput,
    /// A varint ran past its maximum width (5 bytes for 32 bits, 10 for 64).
    VarintTooLong,
    /// A string was not valid UTF-8.
    InvalidUtf8,
    /// A value is out of the range the field allows.
    InvalidValue,
    /// Bytes were left over after the message ended.
    TrailingBytes,
}

/// A decoding failure: what went wrong and the field being read.
///
/// Small and `Copy` so tests can compare errors with `assert_eq!`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeError {
    /// The field being read, e.g. `"ProduceResponse.responses"`.
    pub field: &'static str,
    /// What went wrong.
    pub kind: DecodeErrorKind,
}

impl DecodeError {
    /// A new error for `field`.
    #[must_use]
    pub const fn new(field: &'static str, kind: DecodeErrorKind) -> Self {
        DecodeError { field, kind }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            DecodeErrorKind::Truncated => "input ends inside the field",
            DecodeErrorKind::InvalidLength => "invalid length",
            DecodeErrorKind::LengthExceedsInput => "length exceeds the remaining input",
            DecodeErrorKind::VarintTooLong => "varint too long",
            DecodeErrorKind::InvalidUtf8 => "string is not valid utf-8",
            DecodeErrorKind::InvalidValue => "value out of range",
            DecodeErrorKind::TrailingBytes => "unexpected bytes after the end of the message",
        };
        write!(f, "{}: {what}", self.field)
    }
}

impl std::error::Error for DecodeError {}

/// An encoding failure: a value that the chosen version cannot carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeError {
    /// The field that could not be written.
    pub field: &'static str,
    /// Why, e.g. "a non-default value cannot be written at version 2".
    pub reason: String,
}

impl EncodeError {
    /// A new error for `field`.
    #[must_use]
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        EncodeError {
            field,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl std::error::Error for EncodeError {}

type DResult<T> = Result<T, DecodeError>;

/// A cursor over untrusted bytes.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    #[must_use]
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes not yet read.
    #[must_use]
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// How many bytes have been read.
    #[must_use]
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Fails with [`DecodeErrorKind::TrailingBytes`] if any byte is left.
    pub fn finish(&self, field: &'static str) -> DResult<()> {
        if self.remaining() == 0 {
            Ok(())
        } else {
            Err(DecodeError::new(field, DecodeErrorKind::TrailingBytes))
        }
    }

    /// The next `n` bytes, borrowed.
    pub fn take(&mut self, n: usize, field: &'static str) -> DResult<&'a [u8]> {
        if n > self.remaining() {
            return Err(DecodeError::new(field, DecodeErrorKind::Truncated));
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> DResult<[u8; N]> {
        let bytes = self.take(N, field)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    /// An int8.
    pub fn i8(&mut self, field: &'static str) -> DResult<i8> {
        Ok(i8::from_be_bytes(self.array(field)?))
    }

    /// A big-endian int16.
    pub fn i16(&mut self, field: &'static str) -> DResult<i16> {
        Ok(i16::from_be_bytes(self.array(field)?))
    }

    /// A big-endian uint16.
    pub fn u16(&mut self, field: &'static str) -> DResult<u16> {
        Ok(u16::from_be_bytes(self.array(field)?))
    }

    /// A big-endian int32.
    pub fn i32(&mut self, field: &'static str) -> DResult<i32> {
        Ok(i32::from_be_bytes(self.array(field)?))
    }

    /// A big-endian uint32.
    pub fn u32(&mut self, field: &'static str) -> DResult<u32> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }

    /// A big-endian int64.
    pub fn i64(&mut self, field: &'static str) -> DResult<i64> {
        Ok(i64::from_be_bytes(self.array(field)?))
    }

    /// A big-endian IEEE-754 float64.
    pub fn f64(&mut self, field: &'static str) -> DResult<f64> {
        Ok(f64::from_be_bytes(self.array(field)?))
    }

    /// A boolean: any non-zero byte is true.
    pub fn bool(&mut self, field: &'static str) -> DResult<bool> {
        Ok(self.array::<1>(field)?[0] != 0)
    }

    /// A 16-byte UUID, most significant byte first.
    pub fn uuid(&mut self, field: &'static str) -> DResult<[u8; 16]> {
        self.array(field)
    }

    /// An unsigned varint of at most 5 bytes (32 bits).
    pub fn unsigned_varint(&mut self, field: &'static str) -> DResult<u32> {
        let mut value: u32 = 0;
        for i in 0..5 {
            let b = self.array::<1>(field)?[0];
            if i == 4 && b > 0x0f {
                // The fifth byte may carry only the top 4 bits.
                return Err(DecodeError::new(field, DecodeErrorKind::VarintTooLong));
            }
            value |= u32::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeError::new(field, DecodeErrorKind::VarintTooLong))
    }

    /// An unsigned varlong of at most 10 bytes (64 bits).
    pub fn unsigned_varlong(&mut self, field: &'static str) -> DResult<u64> {
        let mut value: u64 = 0;
        for i in 0..10 {
            let b = self.array::<1>(field)?[0];
            if i == 9 && b > 0x01 {
                return Err(DecodeError::new(field, DecodeErrorKind::VarintTooLong));
            }
            value |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeError::new(field, DecodeErrorKind::VarintTooLong))
    }

    /// A zig-zag varint (record fields).
    pub fn varint(&mut self, field: &'static str) -> DResult<i32> {
        let v = self.unsigned_varint(field)?;
        Ok(((v >> 1) as i32) ^ -((v & 1) as i32))
    }

    /// A zig-zag varlong (record fields).
    pub fn varlong(&mut self, field: &'static str) -> DResult<i64> {
        let v = self.unsigned_varlong(field)?;
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    /// Checks a decoded length against the remaining input.
    fn checked_len(&self, len: i64, field: &'static str) -> DResult<usize> {
        if len < 0 {
            return Err(DecodeError::new(field, DecodeErrorKind::InvalidLength));
        }
        let len = usize::try_from(len)
            .map_err(|_| DecodeError::new(field, DecodeErrorKind::LengthExceedsInput))?;
        if len > self.remaining() {
            return Err(DecodeError::new(field, DecodeErrorKind::LengthExceedsInput));
        }
        Ok(len)
    }

    fn utf8(bytes: &[u8], field: &'static str) -> DResult<String> {
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| DecodeError::new(field, DecodeErrorKind::InvalidUtf8))
    }

    /// Raw length of a classic nullable string: `None` for -1.
    fn classic_len16(&mut self, field: &'static str) -> DResult<Option<usize>> {
        match self.i16(field)? {
            -1 => Ok(None),
            n => self.checked_len(i64::from(n), field).map(Some),
        }
    }

    fn classic_len32(&mut self, field: &'static str) -> DResult<Option<usize>> {
        match self.i32(field)? {
            -1 => Ok(None),
            n => self.checked_len(i64::from(n), field).map(Some),
        }
    }

    fn compact_len(&mut self, field: &'static str) -> DResult<Option<usize>> {
        match self.unsigned_varint(field)? {
            0 => Ok(None),
            n => self.checked_len(i64::from(n) - 1, field).map(Some),
        }
    }

    /// A STRING (int16 length, not null).
    pub fn string(&mut self, field: &'static str) -> DResult<String> {
        self.nullable_string(field)?
            .ok_or(DecodeError::new(field, DecodeErrorKind::InvalidLength))
    }

    /// A NULLABLE_STRING (int16 length, -1 = null).
    pub fn nullable_string(&mut self, field: &'static str) -> DResult<Option<String>> {
        match self.classic_len16(field)? {
            None => Ok(None),
            Some(n) => Self::utf8(self.take(n, field)?, field).map(Some),
        }
    }

    /// A COMPACT_STRING (unsigned varint length + 1, not null).
    pub fn compact_string(&mut self, field: &'static str) -> DResult<String> {
        self.compact_nullable_string(field)?
            .ok_or(DecodeError::new(field, DecodeErrorKind::InvalidLength))
    }

    /// A COMPACT_NULLABLE_STRING (0 = null).
    pub fn compact_nullable_string(&mut self, field: &'static str) -> DResult<Option<String>> {
        match self.compact_len(field)? {
            None => Ok(None),
            Some(n) => Self::utf8(self.take(n, field)?, field).map(Some),
        }
    }

    /// A string in the classic or compact encoding.
    pub fn string_flex(&mut self, flexible: bool, field: &'static str) -> DResult<String> {
        if flexible {
            self.compact_string(field)
        } else {
            self.string(field)
        }
    }

    /// A nullable string in the classic or compact encoding.
    pub fn nullable_string_flex(
        &mut self,
        flexible: bool,
        field: &'static str,
    ) -> DResult<Option<String>> {
        if flexible {
            self.compact_nullable_string(field)
        } else {
            self.nullable_string(field)
        }
    }

    /// NULLABLE_BYTES (int32 length, -1 = null), borrowed.
    pub fn nullable_bytes(&mut self, field: &'static str) -> DResult<Option<&'a [u8]>> {
        match self.classic_len32(field)? {
            None => Ok(None),
            Some(n) => self.take(n, field).map(Some),
        }
    }

    /// COMPACT_NULLABLE_BYTES (0 = null), borrowed.
    pub fn compact_nullable_bytes(&mut self, field: &'static str) -> DResult<Option<&'a [u8]>> {
        match self.compact_len(field)? {
            None => Ok(None),
            Some(n) => self.take(n, field).map(Some),
        }
    }

    /// Nullable bytes in the classic or compact encoding, borrowed.
    pub fn nullable_bytes_flex(
        &mut self,
        flexible: bool,
        field: &'static str,
    ) -> DResult<Option<&'a [u8]>> {
        if flexible {
            self.compact_nullable_bytes(field)
        } else {
            self.nullable_bytes(field)
        }
    }

    /// The element count of an array, `None` for a null array.
    ///
    /// `min_element_size` is the smallest number of bytes one element can
    /// take; the count is rejected unless `count * min_element_size` bytes
    /// remain, so a hostile count can never make the caller allocate more
    /// than the input could fill. Use at least 1 even for elements that may
    /// be empty (a tagged-field byte, a length prefix).
    pub fn array_len(
        &mut self,
        flexible: bool,
        min_element_size: usize,
        field: &'static str,
    ) -> DResult<Option<usize>> {
        let count: i64 = if flexible {
            match self.unsigned_varint(field)? {
                0 => return Ok(None),
                n => i64::from(n) - 1,
            }
        } else {
            match self.i32(field)? {
                -1 => return Ok(None),
                n => i64::from(n),
            }
        };
        if count < 0 {
            return Err(DecodeError::new(field, DecodeErrorKind::InvalidLength));
        }
        let count = usize::try_from(count)
            .map_err(|_| DecodeError::new(field, DecodeErrorKind::LengthExceedsInput))?;
        let needed = count.saturating_mul(min_element_size.max(1));
        if needed > self.remaining() {
            return Err(DecodeError::new(field, DecodeErrorKind::LengthExceedsInput));
        }
        Ok(Some(count))
    }

    /// Like [`Reader::array_len`] but a null array is an error.
    pub fn array_len_non_null(
        &mut self,
        flexible: bool,
        min_element_size: usize,
        field: &'static str,
    ) -> DResult<usize> {
        self.array_len(flexible, min_element_size, field)?
            .ok_or(DecodeError::new(field, DecodeErrorKind::InvalidLength))
    }

    /// Reads a tagged-field section. `known` is called with each tag and a
    /// reader limited to that field's bytes; it returns `Ok(true)` if it
    /// consumed the tag. Unknown tags are skipped by their size.
    pub fn tagged_fields<F>(&mut self, field: &'static str, mut known: F) -> DResult<()>
    where
        F: FnMut(u32, &mut Reader<'a>) -> DResult<bool>,
    {
        let count = self.unsigned_varint(field)?;
        // Each tagged field takes at least two bytes (tag and size).
        if (count as usize).saturating_mul(2) > self.remaining() {
            return Err(DecodeError::new(field, DecodeErrorKind::LengthExceedsInput));
        }
        let mut last_tag: Option<u32> = None;
        for _ in 0..count {
            let tag = self.unsigned_varint(field)?;
            if last_tag.is_some_and(|t| tag <= t) {
                // Tags must be strictly ascending.
                return Err(DecodeError::new(field, DecodeErrorKind::InvalidValue));
            }
            last_tag = Some(tag);
            let size = self.unsigned_varint(field)?;
            let size = self.checked_len(i64::from(size), field)?;
            let bytes = self.take(size, field)?;
            let mut sub = Reader::new(bytes);
            if known(tag, &mut sub)? {
                sub.finish(field)?;
            }
        }
        Ok(())
    }

    /// Skips a tagged-field section entirely (every tag unknown).
    pub fn skip_tagged_fields(&mut self, field: &'static str) -> DResult<()> {
        self.tagged_fields(field, |_, _| Ok(false))
    }
}

/// Encoding of Kafka primitives onto a byte buffer.
///
/// Implemented for `Vec<u8>`: encoding appends and never fails for lack of
/// room.
pub trait Writer {
    /// Appends raw bytes.
    fn put_slice(&mut self, bytes: &[u8]);
    /// Current length (the position the next byte will take).
    fn position(&self) -> usize;
    /// Overwrites 4 bytes at `pos` with a big-endian int32.
    fn patch_i32(&mut self, pos: usize, value: i32);

    /// An int8.
    fn put_i8(&mut self, v: i8) {
        self.put_slice(&v.to_be_bytes());
    }
    /// A big-endian int16.
    fn put_i16(&mut self, v: i16) {
        self.put_slice(&v.to_be_bytes());
    }
    /// A big-endian uint16.
    fn put_u16(&mut self, v: u16) {
        self.put_slice(&v.to_be_bytes());
    }
    /// A big-endian int32.
    fn put_i32(&mut self, v: i32) {
        self.put_slice(&v.to_be_bytes());
    }
    /// A big-endian uint32.
    fn put_u32(&mut self, v: u32) {
        self.put_slice(&v.to_be_bytes());
    }
    /// A big-endian int64.
    fn put_i64(&mut self, v: i64) {
        self.put_slice(&v.to_be_bytes());
    }
    /// A big-endian float64.
    fn put_f64(&mut self, v: f64) {
        self.put_slice(&v.to_be_bytes());
    }
    /// A boolean byte.
    fn put_bool(&mut self, v: bool) {
        self.put_slice(&[u8::from(v)]);
    }
    /// A 16-byte UUID.
    fn put_uuid(&mut self, v: &[u8; 16]) {
        self.put_slice(v);
    }
    /// Reserves an int32 (written as 0) and returns its position for
    /// [`Writer::patch_i32`].
    fn reserve_i32(&mut self) -> usize {
        let pos = self.position();
        self.put_i32(0);
        pos
    }

    /// An unsigned varint.
    fn put_unsigned_varint(&mut self, mut v: u32) {
        let mut buf = [0u8; 5];
        let mut n = 0;
        while v >= 0x80 {
            buf[n] = (v as u8) | 0x80;
            v >>= 7;
            n += 1;
        }
        buf[n] = v as u8;
        self.put_slice(&buf[..=n]);
    }
    /// An unsigned varlong.
    fn put_unsigned_varlong(&mut self, mut v: u64) {
        let mut buf = [0u8; 10];
        let mut n = 0;
        while v >= 0x80 {
            buf[n] = (v as u8) | 0x80;
            v >>= 7;
            n += 1;
        }
        buf[n] = v as u8;
        self.put_slice(&buf[..=n]);
    }
    /// A zig-zag varint.
    fn put_varint(&mut self, v: i32) {
        self.put_unsigned_varint(((v << 1) ^ (v >> 31)) as u32);
    }
    /// A zig-zag varlong.
    fn put_varlong(&mut self, v: i64) {
        self.put_unsigned_varlong(((v << 1) ^ (v >> 63)) as u64);
    }

    /// A NULLABLE_STRING (or STRING when `Some`). Strings longer than
    /// `i16::MAX` bytes are an error.
    fn put_nullable_string(
        &mut self,
        v: Option<&str>,
        field: &'static str,
    ) -> Result<(), EncodeError> {
        match v {
            None => self.put_i16(-1),
            Some(s) => {
                let len = i16::try_from(s.len()).map_err(|_| {
                    EncodeError::new(field, format!("string of {} bytes is too long", s.len()))
                })?;
                self.put_i16(len);
                self.put_slice(s.as_bytes());
            }
        }
        Ok(())
    }
    /// A COMPACT_NULLABLE_STRING (or COMPACT_STRING when `Some`).
    fn put_compact_nullable_string(&mut self, v: Option<&str>) {
        self.put_compact_nullable_bytes(v.map(str::as_bytes));
    }
    /// A (nullable) string in the classic or compact encoding.
    fn put_string_flex(
        &mut self,
        v: Option<&str>,
        flexible: bool,
        field: &'static str,
    ) -> Result<(), EncodeError> {
        if flexible {
            self.put_compact_nullable_string(v);
            Ok(())
        } else {
            self.put_nullable_string(v, field)
        }
    }
    /// NULLABLE_BYTES (int32 length, -1 = null).
    fn put_nullable_bytes(&mut self, v: Option<&[u8]>) {
        match v {
            None => self.put_i32(-1),
            Some(b) => {
                // Buffers are bounded far below 2 GiB by max.request.size.
                self.put_i32(b.len() as i32);
                self.put_slice(b);
            }
        }
    }
    /// COMPACT_NULLABLE_BYTES (0 = null).
    fn put_compact_nullable_bytes(&mut self, v: Option<&[u8]>) {
        match v {
            None => self.put_unsigned_varint(0),
            Some(b) => {
                self.put_unsigned_varint(b.len() as u32 + 1);
                self.put_slice(b);
            }
        }
    }
    /// Nullable bytes in the classic or compact encoding.
    fn put_nullable_bytes_flex(&mut self, v: Option<&[u8]>, flexible: bool) {
        if flexible {
            self.put_compact_nullable_bytes(v);
        } else {
            self.put_nullable_bytes(v);
        }
    }
    /// An array length (`None` = null array) in the classic or compact encoding.
    fn put_array_len(&mut self, len: Option<usize>, flexible: bool) {
        match (len, flexible) {
            (None, true) => self.put_unsigned_varint(0),
            (None, false) => self.put_i32(-1),
            (Some(n), true) => self.put_unsigned_varint(n as u32 + 1),
            (Some(n), false) => self.put_i32(n as i32),
        }
    }
    /// An empty tagged-field section (one zero byte).
    fn put_empty_tagged_fields(&mut self) {
        self.put_unsigned_varint(0);
    }
}

impl Writer for Vec<u8> {
    fn put_slice(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
    fn position(&self) -> usize {
        self.len()
    }
    fn patch_i32(&mut self, pos: usize, value: i32) {
        self[pos..pos + 4].copy_from_slice(&value.to_be_bytes());
    }
}

/// Bytes an unsigned varint takes.
#[must_use]
pub const fn size_of_unsigned_varint(v: u32) -> usize {
    // 1 + (bits needed - 1) / 7, with 0 taking one byte.
    let bits = 32 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Bytes an unsigned varlong takes.
#[must_use]
pub const fn size_of_unsigned_varlong(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Bytes a zig-zag varint takes.
#[must_use]
pub const fn size_of_varint(v: i32) -> usize {
    size_of_unsigned_varint(((v << 1) ^ (v >> 31)) as u32)
}

/// Bytes a zig-zag varlong takes.
#[must_use]
pub const fn size_of_varlong(v: i64) -> usize {
    size_of_unsigned_varlong(((v << 1) ^ (v >> 63)) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_examples() {
        for (v, hex) in [
            (0u32, "00"),
            (1, "01"),
            (127, "7f"),
            (128, "8001"),
            (300, "ac02"),
        ] {
            let mut b = Vec::new();
            b.put_unsigned_varint(v);
            let got: String = b.iter().map(|x| format!("{x:02x}")).collect();
            assert_eq!(got, hex);
            assert_eq!(size_of_unsigned_varint(v), b.len());
            assert_eq!(Reader::new(&b).unsigned_varint("v"), Ok(v));
        }
    }

    #[test]
    fn zigzag_round_trips_at_the_edges() {
        for v in [0, 1, -1, 63, -64, 64, i32::MAX, i32::MIN] {
            let mut b = Vec::new();
            b.put_varint(v);
            assert_eq!(size_of_varint(v), b.len());
            assert_eq!(Reader::new(&b).varint("v"), Ok(v));
        }
        for v in [0, -1, i64::MAX, i64::MIN, 1_700_000_000_000] {
            let mut b = Vec::new();
            b.put_varlong(v);
            assert_eq!(size_of_varlong(v), b.len());
            assert_eq!(Reader::new(&b).varlong("v"), Ok(v));
        }
    }

    #[test]
    fn overlong_varints_are_rejected() {
        let e = Reader::new(&[0xff, 0xff, 0xff, 0xff, 0xff, 0x01]).unsigned_varint("f");
        assert_eq!(
            e,
            Err(DecodeError::new("f", DecodeErrorKind::VarintTooLong))
        );
        let e = Reader::new(&[0x80]).unsigned_varint("f");
        assert_eq!(e, Err(DecodeError::new("f", DecodeErrorKind::Truncated)));
    }

    #[test]
    fn hostile_lengths_are_checked_before_allocating() {
        // int32 array count of 2^31-1 with 2 bytes left.
        let mut r = Reader::new(&[0x7f, 0xff, 0xff, 0xff, 0, 0]);
        assert_eq!(
            r.array_len(false, 1, "arr"),
            Err(DecodeError::new("arr", DecodeErrorKind::LengthExceedsInput))
        );
        let mut r = Reader::new(&[0x00, 0x05, b'a']);
        assert_eq!(
            r.string("s"),
            Err(DecodeError::new("s", DecodeErrorKind::LengthExceedsInput))
        );
        let mut r = Reader::new(&[0xff, 0xfe]);
        assert_eq!(
            r.nullable_string("s"),
            Err(DecodeError::new("s", DecodeErrorKind::InvalidLength))
        );
    }

    #[test]
    fn strings_and_nulls_in_both_encodings() {
        let mut b = Vec::new();
        b.put_nullable_string(Some("ab"), "s").unwrap();
        b.put_nullable_string(None, "s").unwrap();
        b.put_compact_nullable_string(Some("xyz"));
        b.put_compact_nullable_string(None);
        b.put_nullable_bytes(Some(&[]));
        b.put_compact_nullable_bytes(None);
        let mut r = Reader::new(&b);
        assert_eq!(r.nullable_string("a"), Ok(Some("ab".into())));
        assert_eq!(r.nullable_string("b"), Ok(None));
        assert_eq!(r.compact_nullable_string("c"), Ok(Some("xyz".into())));
        assert_eq!(r.compact_nullable_string("d"), Ok(None));
        assert_eq!(r.nullable_bytes("e"), Ok(Some(&[][..])));
        assert_eq!(r.compact_nullable_bytes("f"), Ok(None));
        r.finish("end").unwrap();
    }

    #[test]
    fn unknown_tags_are_skipped_by_size() {
        // Two tags: 0 (size 1, value 7) and 5 (size 2).
        let bytes = [2u8, 0, 1, 7, 5, 2, 0xaa, 0xbb, 0x42];
        let mut r = Reader::new(&bytes);
        let mut seen = Vec::new();
        r.tagged_fields("tags", |tag, sub| {
            if tag == 0 {
                seen.push(sub.i8("t0")?);
                Ok(true)
            } else {
                Ok(false)
            }
        })
        .unwrap();
        assert_eq!(seen, vec![7]);
        assert_eq!(r.i8("after"), Ok(0x42));
    }

    #[test]
    fn tags_out_of_order_are_rejected() {
        let bytes = [2u8, 3, 0, 1, 0];
        assert_eq!(
            Reader::new(&bytes).skip_tagged_fields("tags"),
            Err(DecodeError::new("tags", DecodeErrorKind::InvalidValue))
        );
    }
}
