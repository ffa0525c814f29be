//! Unit tests of the batch reader on hand-made and hand-corrupted batches
//! (the Java vectors are checked in `tests/record_vectors.rs`).

use super::*;
use crate::error::Error;
use crate::record::{Compression, Header, MemoryRecordsBuilder};

/// Timestamp, key and value of a record to append.
type Input<'a> = (i64, Option<&'a [u8]>, Option<&'a [u8]>);
/// Damages a valid batch.
type Corruption = Box<dyn Fn(&mut Vec<u8>)>;

fn build(compression: Compression, records: &[Input<'_>]) -> Vec<u8> {
    let mut b = MemoryRecordsBuilder::new(Vec::new(), compression, 1 << 20).unwrap();
    for &(ts, k, v) in records {
        b.append(
            ts,
            k,
            v,
            &[Header::new("h", b"1".to_vec()), Header::null("n")],
        )
        .unwrap();
    }
    b.build().unwrap()
}

fn plain() -> Vec<u8> {
    build(
        Compression::none(),
        &[
            (10, Some(b"k"), Some(b"v")),
            (5, None, Some(b"")),
            (20, Some(b""), None),
        ],
    )
}

fn fix_crc(bytes: &mut [u8]) {
    let crc = crc32c(&bytes[ATTRIBUTES_OFFSET..]);
    bytes[CRC_OFFSET..CRC_OFFSET + 4].copy_from_slice(&crc.to_be_bytes());
}

fn decode_err(field: &'static str, kind: DecodeErrorKind) -> DecodeError {
    DecodeError::new(field, kind)
}

/// The first error of iterating all records.
fn first_record_error(bytes: &[u8]) -> Error {
    let batch = RecordBatch::parse(bytes).unwrap();
    match batch.records(1 << 20) {
        Err(e) => e,
        Ok(records) => records
            .iter()
            .find_map(std::result::Result::err)
            .map(Error::Decode)
            .expect("an error"),
    }
}

#[test]
fn reads_back_what_the_builder_wrote() {
    for kind in CompressionType::ALL {
        let compression = Compression::of(kind);
        let bytes = build(
            compression,
            &[
                (10, Some(b"k"), Some(b"v")),
                (5, None, Some(b"")),
                (20, Some(b""), None),
            ],
        );
        let batch = RecordBatch::parse(&bytes).unwrap();
        batch.validate().unwrap();
        assert_eq!(batch.compression_type().unwrap(), compression.kind());
        assert_eq!((batch.base_timestamp(), batch.max_timestamp()), (10, 20));
        assert_eq!((batch.last_offset(), batch.next_offset()), (2, 3));
        let records = batch.records(1 << 20).unwrap();
        assert_eq!(records.len(), 3);
        let got: Vec<_> = records.iter().map(|r| r.unwrap()).collect();
        assert_eq!(got[0].key, Some(&b"k"[..]));
        assert_eq!(got[1].key, None);
        assert_eq!(got[1].value, Some(&b""[..]));
        assert_eq!(got[2].key, Some(&b""[..]));
        assert_eq!(got[2].value, None);
        assert_eq!(got[1].timestamp_delta, -5);
        assert_eq!(
            got.iter().map(|r| r.timestamp).collect::<Vec<_>>(),
            [10, 5, 20]
        );
        assert_eq!(got.iter().map(|r| r.offset).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!(got[0].headers[1].value, None);
        assert_eq!(got[0].headers[0].key_str().unwrap(), "h");
        let total: usize = got.iter().map(|r| r.size_in_bytes).sum();
        assert_eq!(total, records.as_bytes().len());
        let owned = batch.owned_records(1 << 20).unwrap();
        assert_eq!(owned[2].headers[1], Header::null("n"));
    }
}

#[test]
fn validate_names_each_broken_header_field() {
    let good = plain();
    let cases: Vec<(Corruption, DecodeError)> = vec![
        (
            Box::new(|b| b[MAGIC_OFFSET] = 1),
            decode_err("RecordBatch.magic", DecodeErrorKind::InvalidValue),
        ),
        (
            Box::new(|b| b[CRC_OFFSET] ^= 1),
            decode_err("RecordBatch.crc", DecodeErrorKind::InvalidValue),
        ),
        (
            Box::new(|b| b.push(0)),
            decode_err("RecordBatch.batchLength", DecodeErrorKind::TrailingBytes),
        ),
        (
            Box::new(|b| {
                b.pop();
            }),
            decode_err(
                "RecordBatch.batchLength",
                DecodeErrorKind::LengthExceedsInput,
            ),
        ),
        (
            Box::new(|b| {
                b[LENGTH_OFFSET..LENGTH_OFFSET + 4].copy_from_slice(&(-1i32).to_be_bytes())
            }),
            decode_err("RecordBatch.batchLength", DecodeErrorKind::InvalidLength),
        ),
        (
            Box::new(|b| {
                b[ATTRIBUTES_OFFSET + 1] |= 5;
                fix_crc(b);
            }),
            decode_err("RecordBatch.attributes", DecodeErrorKind::InvalidValue),
        ),
        (
            Box::new(|b| {
                b[RECORDS_COUNT_OFFSET..RECORDS_COUNT_OFFSET + 4]
                    .copy_from_slice(&(-3i32).to_be_bytes());
                fix_crc(b);
            }),
            decode_err("RecordBatch.recordsCount", DecodeErrorKind::InvalidLength),
        ),
        (
            Box::new(|b| {
                b[RECORDS_COUNT_OFFSET..RECORDS_COUNT_OFFSET + 4]
                    .copy_from_slice(&i32::MAX.to_be_bytes());
                fix_crc(b);
            }),
            decode_err(
                "RecordBatch.recordsCount",
                DecodeErrorKind::LengthExceedsInput,
            ),
        ),
    ];
    assert!(RecordBatch::parse(&good).unwrap().is_valid());
    for (i, (corrupt, want)) in cases.iter().enumerate() {
        let mut bytes = good.clone();
        corrupt(&mut bytes);
        let batch = RecordBatch::parse(&bytes).unwrap();
        assert_eq!(batch.validate(), Err(*want), "case {i}");
    }
    assert_eq!(
        RecordBatch::parse(&good[..60]),
        Err(decode_err("RecordBatch", DecodeErrorKind::Truncated))
    );
}

#[test]
fn record_errors_name_the_field() {
    // Record 0 of `plain()` starts at 61: length, attributes, ts delta (0),
    // offset delta (0), key length (1 = "k"), key, value length, value, ...
    let good = plain();
    let key_len_at = RECORD_BATCH_OVERHEAD + 4;
    assert_eq!(good[key_len_at], 2, "zig-zag 1");

    let mut b = good.clone();
    b[key_len_at] = 3; // -2: neither null nor a length
    assert!(matches!(
        first_record_error(&b),
        Error::Decode(e) if e == decode_err("Record.key", DecodeErrorKind::InvalidLength)
    ));

    let mut b = good.clone();
    b[key_len_at] = 0x7e; // 63 bytes: past the record body
    assert!(matches!(
        first_record_error(&b),
        Error::Decode(e) if e == decode_err("Record.key", DecodeErrorKind::LengthExceedsInput)
    ));

    let mut b = good.clone();
    b[RECORD_BATCH_OVERHEAD] = 1; // body length -1
    assert!(matches!(
        first_record_error(&b),
        Error::Decode(e) if e == decode_err("Record.length", DecodeErrorKind::InvalidLength)
    ));

    // Two records declared where three are written: trailing bytes.
    let mut b = good.clone();
    b[RECORDS_COUNT_OFFSET + 3] = 2;
    assert!(matches!(
        first_record_error(&b),
        Error::Decode(e) if e == decode_err("RecordBatch.records", DecodeErrorKind::TrailingBytes)
    ));

    // Four declared: the section ends where the fourth would start.
    let mut b = good.clone();
    b[RECORDS_COUNT_OFFSET + 3] = 4;
    assert!(matches!(
        first_record_error(&b),
        Error::Decode(e) if e == decode_err("Record.length", DecodeErrorKind::Truncated)
    ));
}

#[test]
fn header_errors_name_the_field() {
    // One record, no key or value, one header with key "a".
    let mut b = MemoryRecordsBuilder::new(Vec::new(), Compression::none(), 1024).unwrap();
    b.append(0, None, None, &[Header::new("a", b"".to_vec())])
        .unwrap();
    let good = b.build().unwrap();
    // body: attrs ts off keylen vallen hcount hkeylen 'a' hvallen
    let at = RECORD_BATCH_OVERHEAD + 1;
    assert_eq!(&good[at..], &[0, 0, 0, 1, 1, 2, 2, b'a', 0]);

    let mut bad = good.clone();
    bad[at + 6] = 1; // header key null
    assert!(matches!(
        first_record_error(&bad),
        Error::Decode(e) if e == decode_err("Record.headerKey", DecodeErrorKind::InvalidLength)
    ));
    let mut bad = good.clone();
    bad[at + 5] = 8; // four headers in four bytes
    assert!(matches!(
        first_record_error(&bad),
        Error::Decode(e) if e == decode_err("Record.headers", DecodeErrorKind::LengthExceedsInput)
    ));
    let mut bad = good.clone();
    bad[at + 7] = 0xff; // not UTF-8: readable, but not as a string
    let batch = RecordBatch::parse(&bad).unwrap();
    let records = batch.records(1024).unwrap();
    let record = records.iter().next().unwrap().unwrap();
    assert_eq!(record.headers[0].key, &[0xff]);
    assert_eq!(
        record.to_owned_record(),
        Err(decode_err("Record.headerKey", DecodeErrorKind::InvalidUtf8))
    );
}

#[test]
fn corrupt_and_oversized_compression_are_errors() {
    // Uncompressed records labelled snappy, lz4 or zstd do not inflate.
    for (id, name) in [(2, "snappy"), (3, "lz4"), (4, "zstd")] {
        let mut bytes = plain();
        bytes[ATTRIBUTES_OFFSET + 1] |= id;
        fix_crc(&mut bytes);
        let batch = RecordBatch::parse(&bytes).unwrap();
        batch.validate().unwrap();
        let e = batch.records(1 << 20).unwrap_err();
        assert!(matches!(e, Error::Other(_)), "{e}");
        assert!(
            e.to_string().contains(&format!("corrupt {name} records")),
            "{e}"
        );
    }

    let gz = build(
        Compression::gzip(-1).unwrap(),
        &[(1, None, Some(&[0u8; 5000]))],
    );
    let batch = RecordBatch::parse(&gz).unwrap();
    assert!(batch.records(6000).is_ok());
    assert!(batch.records(5000).is_err());
    assert!(batch.records(100).is_err());
}

#[test]
fn log_append_time_batches_read_the_max_timestamp() {
    let mut bytes = plain();
    bytes[ATTRIBUTES_OFFSET + 1] |= 0x08;
    let batch = RecordBatch::parse(&bytes).unwrap();
    assert!(batch.is_log_append_time());
    let records = batch.records(0).unwrap();
    for r in &records {
        assert_eq!(r.unwrap().timestamp, 20);
    }
}

#[test]
fn sequences_wrap_like_java() {
    let mut b = MemoryRecordsBuilder::new(Vec::new(), Compression::none(), 1024).unwrap();
    for _ in 0..3 {
        b.append(0, None, None, &[]).unwrap();
    }
    b.set_producer_state(1, 0, i32::MAX - 1, false).unwrap();
    let bytes = b.build().unwrap();
    let batch = RecordBatch::parse(&bytes).unwrap();
    assert_eq!(batch.last_sequence(), 0);
    assert_eq!(batch.next_batch_base_sequence(), 1);
    let records = batch.records(0).unwrap();
    let seqs: Vec<i32> = records.iter().map(|r| r.unwrap().sequence).collect();
    assert_eq!(seqs, [i32::MAX - 1, i32::MAX, 0]);

    // No producer state: every sequence is -1.
    let bytes = plain();
    let batch = RecordBatch::parse(&bytes).unwrap();
    assert_eq!(
        (batch.last_sequence(), batch.next_batch_base_sequence()),
        (-1, -1)
    );
    // A hostile negative last offset delta does not overflow.
    let mut bytes = bytes;
    bytes[BASE_SEQUENCE_OFFSET..BASE_SEQUENCE_OFFSET + 4].copy_from_slice(&5i32.to_be_bytes());
    bytes[LAST_OFFSET_DELTA_OFFSET..LAST_OFFSET_DELTA_OFFSET + 4]
        .copy_from_slice(&i32::MIN.to_be_bytes());
    let _ = RecordBatch::parse(&bytes).unwrap().last_sequence();
}

#[test]
fn batches_are_cut_at_their_length_and_a_cut_batch_is_an_error() {
    let a = plain();
    let b = build(Compression::gzip(1).unwrap(), &[(7, Some(b"x"), None)]);
    let mut both = a.clone();
    both.extend_from_slice(&b);

    let got: Vec<_> = RecordBatches::new(&both).collect();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].unwrap().as_bytes(), &a[..]);
    assert_eq!(got[1].unwrap().as_bytes(), &b[..]);
    assert!(got.iter().all(|r| r.unwrap().is_valid()));
    assert_eq!(RecordBatches::new(&[]).count(), 0);

    for cut in 1..b.len() {
        let bytes = &both[..a.len() + cut];
        let mut it = RecordBatches::new(bytes);
        assert!(it.next().unwrap().is_ok());
        assert_eq!(it.position(), a.len());
        let e = it.next().unwrap().unwrap_err();
        let want = if cut < LOG_OVERHEAD {
            "RecordBatch.baseOffset"
        } else {
            "RecordBatch"
        };
        if cut >= 8 {
            assert_ne!(e.field, "RecordBatch.baseOffset");
        }
        assert!(
            e.field == want || e.field == "RecordBatch.batchLength",
            "{e}"
        );
        assert!(it.next().is_none(), "stops after an error");
    }

    let mut short = a.clone();
    short[LENGTH_OFFSET..LENGTH_OFFSET + 4].copy_from_slice(&48i32.to_be_bytes());
    assert_eq!(
        RecordBatches::new(&short).next(),
        Some(Err(decode_err(
            "RecordBatch.batchLength",
            DecodeErrorKind::InvalidLength
        )))
    );
}
