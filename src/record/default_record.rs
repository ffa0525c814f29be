//! One record inside a v2 batch (Java `DefaultRecord`): its encoding and
//! its sizes.
//!
//! ```text
//! length varint | attributes i8 (0) | timestampDelta varlong | offsetDelta varint
//! keyLen varint (-1 = null) | key | valueLen varint (-1 = null) | value
//! headerCount varint | { keyLen varint | key utf8 | valueLen varint (-1 = null) | value }*
//! ```

use crate::protocol::codec::{size_of_varint, size_of_varlong, Writer};

/// Worst case of the fields whose size depends on position: length (5),
/// attributes (1), timestamp delta (10) and offset delta (5).
pub const MAX_RECORD_OVERHEAD: usize = 21;
/// Bytes of a varint -1 (a null key, value or header value).
const NULL_VARINT_SIZE_BYTES: usize = 1;

/// A record header: a UTF-8 key and a value that may be null.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Header {
    /// The header key.
    pub key: String,
    /// The header value; `None` is null, distinct from empty.
    pub value: Option<Vec<u8>>,
}

impl Header {
    /// A header with a value.
    #[must_use]
    pub fn new(key: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        Header {
            key: key.into(),
            value: Some(value.into()),
        }
    }

    /// A header whose value is null.
    #[must_use]
    pub fn null(key: impl Into<String>) -> Self {
        Header {
            key: key.into(),
            value: None,
        }
    }
}

impl std::fmt::Debug for Header {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Values may be payload: show only their size.
        f.debug_struct("Header")
            .field("key", &self.key)
            .field("value_len", &self.value.as_ref().map(Vec::len))
            .finish()
    }
}

fn len_or_null(len: Option<usize>) -> usize {
    match len {
        None => NULL_VARINT_SIZE_BYTES,
        Some(n) => size_of_varint(n as i32) + n,
    }
}

/// Size of key, value and headers as written (Java `DefaultRecord.sizeOf`).
fn size_of_key_value_headers(
    key: Option<usize>,
    value: Option<usize>,
    headers: &[Header],
) -> usize {
    let mut size = len_or_null(key) + len_or_null(value);
    size += size_of_varint(headers.len() as i32);
    for h in headers {
        size += len_or_null(Some(h.key.len()));
        size += len_or_null(h.value.as_ref().map(Vec::len));
    }
    size
}

/// Size of the record body: everything after the length varint.
#[must_use]
pub fn size_of_body(
    offset_delta: i32,
    timestamp_delta: i64,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[Header],
) -> usize {
    1 + size_of_varint(offset_delta)
        + size_of_varlong(timestamp_delta)
        + size_of_key_value_headers(key.map(<[u8]>::len), value.map(<[u8]>::len), headers)
}

/// Size of the whole record, length varint included (Java
/// `DefaultRecord.sizeInBytes`).
#[must_use]
pub fn size_in_bytes(
    offset_delta: i32,
    timestamp_delta: i64,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[Header],
) -> usize {
    let body = size_of_body(offset_delta, timestamp_delta, key, value, headers);
    body + size_of_varint(body as i32)
}

/// Upper bound of a record's size wherever it lands in a batch (Java
/// `DefaultRecord.recordSizeUpperBound`).
#[must_use]
pub fn record_size_upper_bound(
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[Header],
) -> usize {
    MAX_RECORD_OVERHEAD
        + size_of_key_value_headers(key.map(<[u8]>::len), value.map(<[u8]>::len), headers)
}

fn put_len_prefixed(out: &mut impl Writer, bytes: Option<&[u8]>) {
    match bytes {
        None => out.put_varint(-1),
        Some(b) => {
            out.put_varint(b.len() as i32);
            out.put_slice(b);
        }
    }
}

/// A record's small fields gathered on the stack, so that `write_to`
/// hands the output a few slices instead of one call per field.
struct Fields {
    buf: [u8; Fields::CAPACITY],
    len: usize,
}

impl Fields {
    /// The most one group takes: length (5), attributes (1), timestamp
    /// delta (10), offset delta (5) and key length (5).
    const CAPACITY: usize = 26;

    fn new() -> Self {
        Fields {
            buf: [0; Self::CAPACITY],
            len: 0,
        }
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    fn byte(&mut self, b: u8) {
        // `write_to` puts at most CAPACITY bytes in before taking them out.
        self.buf[self.len] = b;
        self.len += 1;
    }

    fn unsigned(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.byte((v as u8) | 0x80);
            v >>= 7;
        }
        self.byte(v as u8);
    }

    /// A zig-zag varint (an i32 widened keeps its zig-zag value).
    fn varint(&mut self, v: i32) {
        self.unsigned(u64::from(((v << 1) ^ (v >> 31)) as u32));
    }

    fn varlong(&mut self, v: i64) {
        self.unsigned(((v << 1) ^ (v >> 63)) as u64);
    }

    fn len_prefix(&mut self, bytes: Option<&[u8]>) {
        self.varint(bytes.map_or(-1, |b| b.len() as i32));
    }
}

/// Writes one record and returns the bytes written (Java
/// `DefaultRecord.writeTo`).
pub fn write_to(
    out: &mut impl Writer,
    offset_delta: i32,
    timestamp_delta: i64,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[Header],
) -> usize {
    let body = size_of_body(offset_delta, timestamp_delta, key, value, headers);
    let mut fields = Fields::new();
    fields.varint(body as i32);
    fields.byte(0); // attributes: unused in v2 records
    fields.varlong(timestamp_delta);
    fields.varint(offset_delta);
    fields.len_prefix(key);
    out.put_slice(fields.bytes());
    if let Some(key) = key {
        out.put_slice(key);
    }
    let mut fields = Fields::new();
    fields.len_prefix(value);
    if let Some(value) = value {
        out.put_slice(fields.bytes());
        out.put_slice(value);
        fields = Fields::new();
    }
    fields.varint(headers.len() as i32);
    out.put_slice(fields.bytes());
    for h in headers {
        put_len_prefixed(out, Some(h.key.as_bytes()));
        put_len_prefixed(out, h.value.as_deref());
    }
    size_of_varint(body as i32) + body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_size_matches_computed_size() {
        let headers = vec![Header::new("a", b"1".to_vec()), Header::null("b")];
        for (key, value) in [
            (None, None),
            (Some(&b""[..]), Some(&b""[..])),
            (Some(&b"k"[..]), Some(&[7u8; 300][..])),
        ] {
            let mut out = Vec::new();
            let n = write_to(&mut out, 130, -5, key, value, &headers);
            assert_eq!(n, out.len());
            assert_eq!(n, size_in_bytes(130, -5, key, value, &headers));
            assert!(n <= record_size_upper_bound(key, value, &headers));
        }
    }
}
