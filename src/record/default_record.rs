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
    RecordSize::new(offset_delta, timestamp_delta, key, value, headers).body
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
    RecordSize::new(offset_delta, timestamp_delta, key, value, headers).in_bytes()
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

/// A record's sizes at one position in a batch, computed once per append
/// and handed down (size check, buffer growth, length prefix), so that
/// the varints of its lengths and headers are not sized three times.
///
/// Only meaningful with the key, value and headers it was computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RecordSize {
    offset_delta: i32,
    timestamp_delta: i64,
    /// Everything after the length varint.
    body: usize,
    /// Key, value and headers with their length varints: the part that
    /// does not depend on the position.
    key_value_headers: usize,
}

impl RecordSize {
    /// The sizes of this record at `offset_delta` / `timestamp_delta`.
    pub(crate) fn new(
        offset_delta: i32,
        timestamp_delta: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[Header],
    ) -> Self {
        let key_value_headers =
            size_of_key_value_headers(key.map(<[u8]>::len), value.map(<[u8]>::len), headers);
        Self::with_key_value_headers(offset_delta, timestamp_delta, key_value_headers)
    }

    fn with_key_value_headers(
        offset_delta: i32,
        timestamp_delta: i64,
        key_value_headers: usize,
    ) -> Self {
        RecordSize {
            offset_delta,
            timestamp_delta,
            body: 1
                + size_of_varint(offset_delta)
                + size_of_varlong(timestamp_delta)
                + key_value_headers,
            key_value_headers,
        }
    }

    /// The same record at another position (no pass over the headers).
    pub(crate) fn at(self, offset_delta: i32, timestamp_delta: i64) -> Self {
        if offset_delta == self.offset_delta && timestamp_delta == self.timestamp_delta {
            return self;
        }
        Self::with_key_value_headers(offset_delta, timestamp_delta, self.key_value_headers)
    }

    /// The whole record, length varint included ([`size_in_bytes`]).
    pub(crate) fn in_bytes(&self) -> usize {
        self.body + size_of_varint(self.body as i32)
    }

    /// [`record_size_upper_bound`] of the same record.
    pub(crate) fn upper_bound(&self) -> usize {
        MAX_RECORD_OVERHEAD + self.key_value_headers
    }
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
/// hands the output a few slices instead of one call per field: the
/// fields between two byte strings (key, value) go out together.
struct Fields {
    buf: [u8; Fields::CAPACITY],
    len: usize,
}

impl Fields {
    /// Every small field at its widest, more than one group takes: length
    /// (5), attributes (1), timestamp delta (10), offset delta (5), key
    /// length (5), value length (5) and header count (5).
    const CAPACITY: usize = 36;

    fn new() -> Self {
        Fields {
            buf: [0; Self::CAPACITY],
            len: 0,
        }
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Hands the gathered bytes to `out` and starts a new group.
    fn flush(&mut self, out: &mut impl Writer) {
        out.put_slice(self.bytes());
        self.len = 0;
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
    let size = RecordSize::new(offset_delta, timestamp_delta, key, value, headers);
    write_sized(out, &size, key, value, headers)
}

/// [`write_to`] with the record's sizes already computed: `size` must be
/// [`RecordSize::new`] of this key, value and headers (its position is the
/// one written), or the length prefix would be wrong.
pub(crate) fn write_sized(
    out: &mut impl Writer,
    size: &RecordSize,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[Header],
) -> usize {
    debug_assert_eq!(
        *size,
        RecordSize::new(size.offset_delta, size.timestamp_delta, key, value, headers),
        "a record's size handed down with another record"
    );
    let mut fields = Fields::new();
    fields.varint(size.body as i32);
    fields.byte(0); // attributes: unused in v2 records
    fields.varlong(size.timestamp_delta);
    fields.varint(size.offset_delta);
    fields.len_prefix(key);
    if let Some(key) = key {
        fields.flush(out);
        out.put_slice(key);
    }
    // A null key's -1 and the value's length go out in one slice.
    fields.len_prefix(value);
    if let Some(value) = value {
        fields.flush(out);
        out.put_slice(value);
    }
    fields.varint(headers.len() as i32);
    fields.flush(out);
    for h in headers {
        put_len_prefixed(out, Some(h.key.as_bytes()));
        put_len_prefixed(out, h.value.as_deref());
    }
    size.in_bytes()
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

    /// The record encoded field by field, its length prefix measured from
    /// the encoded body: no size arithmetic shared with the code under test.
    fn reference_encoding(
        offset_delta: i32,
        timestamp_delta: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[Header],
    ) -> Vec<u8> {
        fn unsigned(out: &mut Vec<u8>, mut v: u64) {
            loop {
                let low = (v & 0x7f) as u8;
                v >>= 7;
                if v == 0 {
                    out.push(low);
                    return;
                }
                out.push(low | 0x80);
            }
        }
        fn long(out: &mut Vec<u8>, v: i64) {
            unsigned(out, ((v << 1) ^ (v >> 63)) as u64);
        }
        fn int(out: &mut Vec<u8>, v: i32) {
            unsigned(out, u64::from(((v << 1) ^ (v >> 31)) as u32));
        }
        fn bytes(out: &mut Vec<u8>, b: Option<&[u8]>) {
            match b {
                None => int(out, -1),
                Some(b) => {
                    int(out, b.len() as i32);
                    out.extend_from_slice(b);
                }
            }
        }
        let mut body = vec![0u8];
        long(&mut body, timestamp_delta);
        int(&mut body, offset_delta);
        bytes(&mut body, key);
        bytes(&mut body, value);
        int(&mut body, headers.len() as i32);
        for h in headers {
            bytes(&mut body, Some(h.key.as_bytes()));
            bytes(&mut body, h.value.as_deref());
        }
        let mut out = Vec::new();
        int(&mut out, body.len() as i32);
        out.extend_from_slice(&body);
        out
    }

    fn nullable() -> impl Strategy<Value = Option<Vec<u8>>> {
        prop_oneof![
            Just(None),
            Just(Some(Vec::new())),
            vec(any::<u8>(), 0..200).prop_map(Some),
            // Lengths whose varint takes 2 and 3 bytes.
            (100usize..20_000).prop_map(|n| Some(vec![0x5a; n])),
        ]
    }

    fn headers() -> impl Strategy<Value = Vec<Header>> {
        let header = (
            "\\PC{0,8}",
            prop_oneof![Just(None), vec(any::<u8>(), 0..40).prop_map(Some)],
        )
            .prop_map(|(key, value)| Header { key, value });
        vec(header, 0..5)
    }

    /// Offset deltas and timestamp deltas at every varint width, negative
    /// timestamp deltas (a record older than the batch's first) included.
    fn position() -> impl Strategy<Value = (i32, i64)> {
        (
            prop_oneof![Just(0), Just(i32::MAX), 0i32..200, 0i32..i32::MAX],
            prop_oneof![
                Just(0),
                Just(i64::MIN),
                Just(i64::MAX),
                -100_000i64..100_000,
                any::<i64>(),
            ],
        )
    }

    use proptest::collection::vec;
    use proptest::prelude::*;

    proptest! {
        /// The sized path writes exactly what the field-by-field encoding
        /// does and reports its length, whether the size was computed at
        /// this position or re-placed from another one.
        #[test]
        fn sized_writes_match_the_reference_encoding(
            key in nullable(),
            value in nullable(),
            headers in headers(),
            (offset_delta, timestamp_delta) in position(),
            (other_offset, other_timestamp) in position(),
        ) {
            let (key, value) = (key.as_deref(), value.as_deref());
            let expected = reference_encoding(offset_delta, timestamp_delta, key, value, &headers);
            let here = RecordSize::new(offset_delta, timestamp_delta, key, value, &headers);
            let moved = RecordSize::new(other_offset, other_timestamp, key, value, &headers)
                .at(offset_delta, timestamp_delta);
            prop_assert_eq!(here, moved);
            for size in [here, moved] {
                let mut out = Vec::new();
                let n = write_sized(&mut out, &size, key, value, &headers);
                prop_assert_eq!(&out, &expected);
                prop_assert_eq!(n, expected.len());
                prop_assert_eq!(size.in_bytes(), expected.len());
            }
            let mut out = Vec::new();
            prop_assert_eq!(
                write_to(&mut out, offset_delta, timestamp_delta, key, value, &headers),
                expected.len()
            );
            prop_assert_eq!(&out, &expected);
            prop_assert_eq!(
                size_in_bytes(offset_delta, timestamp_delta, key, value, &headers),
                expected.len()
            );
            // Java's upper bound, whatever the position.
            let bound = record_size_upper_bound(key, value, &headers);
            prop_assert_eq!(here.upper_bound(), bound);
            prop_assert!(expected.len() <= bound);
        }
    }
}
