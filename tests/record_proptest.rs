//! Property tests of the record layer:
//!
//! * arbitrary records (null and empty keys, values and header values,
//!   timestamps including -1 and out of order) built with every codec
//!   (none, gzip, snappy, lz4, zstd, at any level Java accepts) read back
//!   identical, with Java's header values;
//! * the reader never panics on arbitrary bytes, on every truncation of a
//!   valid batch (each an error), or on single-byte corruptions (each
//!   caught by the length, magic or CRC check where those cover the byte);
//! * `compression::decompress` never panics and never passes its bound on
//!   arbitrary bytes, on bytes behind each codec's real framing header, and
//!   on truncated or corrupted compressed sections.

use kafka_producer::record::compression::decompress;
use kafka_producer::record::{
    increment_sequence, Compression, CompressionType, Header, MemoryRecordsBuilder, RecordBatch,
    RecordBatches,
};
use proptest::collection::vec;
use proptest::prelude::*;

/// A record to append.
#[derive(Debug, Clone)]
struct Input {
    timestamp: i64,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    headers: Vec<Header>,
}

fn nullable_bytes() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        Just(None),
        Just(Some(Vec::new())),
        vec(any::<u8>(), 0..80).prop_map(Some),
    ]
}

fn timestamp() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(-1i64),
        Just(0i64),
        Just(i64::MAX),
        1_600_000_000_000i64..1_800_000_000_000,
        0i64..i64::MAX,
    ]
}

fn input() -> impl Strategy<Value = Input> {
    let header = ("\\PC{0,6}", nullable_bytes()).prop_map(|(key, value)| Header { key, value });
    (
        timestamp(),
        nullable_bytes(),
        nullable_bytes(),
        vec(header, 0..4),
    )
        .prop_map(|(timestamp, key, value, headers)| Input {
            timestamp,
            key,
            value,
            headers,
        })
}

fn compression() -> impl Strategy<Value = Compression> {
    prop_oneof![
        Just(Compression::none()),
        (1i32..=9).prop_map(|l| Compression::gzip(l).unwrap()),
        Just(Compression::gzip(-1).unwrap()),
        Just(Compression::snappy()),
        (1i32..=17).prop_map(|l| Compression::lz4(l).unwrap()),
        // Negative levels, 0 (zstd's default) and the strong ones.
        (-20i32..=22).prop_map(|l| Compression::zstd(l).unwrap()),
    ]
}

fn codec() -> impl Strategy<Value = CompressionType> {
    prop::sample::select(CompressionType::ALL.to_vec())
}

/// The first bytes of each codec's framing, so that hostile input gets past
/// the magic checks into block parsing.
fn framing_prefix(kind: CompressionType) -> &'static [u8] {
    match kind {
        CompressionType::None => b"",
        CompressionType::Gzip => &[0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff],
        CompressionType::Snappy => &[
            0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1,
        ],
        CompressionType::Lz4 => &[0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82],
        CompressionType::Zstd => &[0x28, 0xb5, 0x2f, 0xfd],
    }
}

/// Decompresses, checking the bound holds whatever happens.
fn decompress_checked(
    kind: CompressionType,
    bytes: &[u8],
    max: usize,
) -> Result<(), TestCaseError> {
    if let Ok(out) = decompress(kind, bytes, max) {
        prop_assert!(
            out.len() <= max,
            "{} bytes out of {} allowed",
            out.len(),
            max
        );
    }
    Ok(())
}

/// Producer id, epoch, base sequence, transactional; or none.
fn producer_state() -> impl Strategy<Value = Option<(i64, i16, i32, bool)>> {
    prop_oneof![
        Just(None),
        (
            0i64..=i64::MAX,
            0i16..=i16::MAX,
            0i32..=i32::MAX,
            any::<bool>()
        )
            .prop_map(Some),
    ]
}

fn build(
    records: &[Input],
    compression: Compression,
    state: Option<(i64, i16, i32, bool)>,
) -> Vec<u8> {
    let mut b = MemoryRecordsBuilder::new(Vec::new(), compression, 1 << 20).unwrap();
    for r in records {
        b.append(
            r.timestamp,
            r.key.as_deref(),
            r.value.as_deref(),
            &r.headers,
        )
        .unwrap();
    }
    if let Some((pid, epoch, seq, txn)) = state {
        b.set_producer_state(pid, epoch, seq, txn).unwrap();
    }
    b.build().unwrap()
}

/// Runs every reader entry point over `bytes`; returns whether the whole
/// batch read cleanly (valid, and every record decoded).
fn read_everything(bytes: &[u8]) -> bool {
    // Both iterators stop after their first error, so `flatten` ends.
    for batch in RecordBatches::new(bytes).flatten() {
        let _ = (
            batch.last_sequence(),
            batch.next_offset(),
            format!("{batch:?}"),
        );
        if let Ok(records) = batch.records(4096) {
            for r in records.iter().flatten() {
                let _ = (r.to_owned_record(), format!("{r:?}"));
            }
        }
    }
    let Ok(batch) = RecordBatch::parse(bytes) else {
        return false;
    };
    let valid = batch.validate().is_ok();
    let mut all_records = false;
    if let Ok(records) = batch.records(1 << 20) {
        all_records = records.iter().all(|r| r.is_ok());
    }
    valid && all_records
}

proptest! {
    #[test]
    fn built_batches_read_back_identical(
        records in vec(input(), 1..12),
        compression in compression(),
        state in producer_state(),
    ) {
        let bytes = build(&records, compression, state);
        let batch = RecordBatch::parse(&bytes).unwrap();
        prop_assert_eq!(batch.validate(), Ok(()));
        prop_assert_eq!(batch.compression_type().unwrap(), compression.kind());
        prop_assert_eq!(batch.records_count() as usize, records.len());
        prop_assert_eq!(batch.last_offset_delta() as usize, records.len() - 1);
        prop_assert_eq!(batch.base_timestamp(), records[0].timestamp);
        let max = records.iter().map(|r| r.timestamp).fold(-1, i64::max);
        prop_assert_eq!(batch.max_timestamp(), max);
        let (pid, epoch, seq, txn) = state.unwrap_or((-1, -1, -1, false));
        prop_assert_eq!(
            (batch.producer_id(), batch.producer_epoch(), batch.base_sequence()),
            (pid, epoch, seq)
        );
        prop_assert_eq!(batch.is_transactional(), txn);
        let last = if seq < 0 { -1 } else { increment_sequence(seq, records.len() as i32 - 1) };
        prop_assert_eq!(batch.last_sequence(), last);

        let decoded = batch.records(1 << 20).unwrap();
        prop_assert_eq!(decoded.len(), records.len());
        let mut n = 0;
        for (i, (got, want)) in decoded.iter().zip(&records).enumerate() {
            let got = got.unwrap();
            prop_assert_eq!(got.offset, i as i64);
            prop_assert_eq!(got.timestamp, want.timestamp);
            prop_assert_eq!(got.key, want.key.as_deref());
            prop_assert_eq!(got.value, want.value.as_deref());
            let headers: Vec<Header> = got.headers.iter().map(|h| h.to_header().unwrap()).collect();
            prop_assert_eq!(&headers, &want.headers);
            let sequence = if seq < 0 { -1 } else { increment_sequence(seq, i as i32) };
            prop_assert_eq!(got.sequence, sequence);
            n += 1;
        }
        prop_assert_eq!(n, records.len());
        // Compressed and plain batches of the same records hold the same section.
        let plain = build(&records, Compression::none(), state);
        prop_assert_eq!(decoded.as_bytes(), &plain[61..]);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..400)) {
        read_everything(&bytes);
    }

    #[test]
    fn arbitrary_bytes_behind_a_plausible_header_never_panic(
        tail in vec(any::<u8>(), 0..300),
        count in prop_oneof![Just(-1i32), 0i32..10, Just(i32::MAX)],
        codec in 0u8..8,
    ) {
        // A real header so the decoder gets past the length and magic checks
        // and into the records (or the codec) with hostile bytes.
        let mut bytes = build(&[Input { timestamp: 0, key: None, value: None, headers: vec![] }],
            Compression::none(), None);
        bytes.truncate(61);
        bytes.extend_from_slice(&tail);
        let len = (bytes.len() - 12) as i32;
        bytes[8..12].copy_from_slice(&len.to_be_bytes());
        bytes[22] = codec;
        bytes[57..61].copy_from_slice(&count.to_be_bytes());
        read_everything(&bytes);
    }

    #[test]
    fn every_truncation_is_an_error(
        records in vec(input(), 1..6),
        compression in compression(),
    ) {
        let bytes = build(&records, compression, None);
        prop_assert!(read_everything(&bytes));
        for n in 0..bytes.len() {
            let cut = &bytes[..n];
            prop_assert!(!read_everything(cut), "prefix of {} bytes read cleanly", n);
            // Past the header, the records themselves (not only the length
            // check) notice the cut.
            if let Ok(batch) = RecordBatch::parse(cut) {
                let records_ok = batch
                    .records(1 << 20)
                    .is_ok_and(|records| records.iter().all(|r| r.is_ok()));
                prop_assert!(!records_ok, "records of a {}-byte prefix read cleanly", n);
            }
            if n > 0 {
                let last = RecordBatches::new(cut).last();
                prop_assert!(matches!(last, Some(Err(_))), "prefix of {} bytes", n);
            }
        }
    }

    #[test]
    fn a_flipped_byte_is_caught_where_the_checks_cover_it(
        records in vec(input(), 1..6),
        compression in compression(),
        at in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let mut bytes = build(&records, compression, None);
        let at = at.index(bytes.len());
        bytes[at] ^= flip;
        let clean = read_everything(&bytes);
        // Base offset (0..8) and leader epoch (12..16) are outside the CRC;
        // everything else is the length, the magic, the CRC or CRC-covered.
        let covered = !(0..8).contains(&at) && !(12..16).contains(&at);
        if covered {
            prop_assert!(!clean, "flip at {} went unnoticed", at);
        }
    }

    #[test]
    fn arbitrary_compressed_bytes_never_panic(
        kind in codec(),
        bytes in vec(any::<u8>(), 0..600),
        max in 0usize..200_000,
    ) {
        decompress_checked(kind, &bytes, max)?;
    }

    #[test]
    fn arbitrary_bytes_behind_a_codec_header_never_panic(
        kind in codec(),
        tail in vec(any::<u8>(), 0..600),
        max in 0usize..200_000,
    ) {
        let mut bytes = framing_prefix(kind).to_vec();
        bytes.extend_from_slice(&tail);
        decompress_checked(kind, &bytes, max)?;
    }

    #[test]
    fn truncated_and_corrupted_sections_never_panic(
        records in vec(input(), 1..8),
        compression in compression(),
        cut in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let bytes = build(&records, compression, None);
        let section = &bytes[61..];
        let kind = compression.kind();
        let full = decompress(kind, section, 1 << 20).unwrap();
        // Every bound below the section's size is refused, not passed.
        prop_assert!(decompress(kind, section, full.len().saturating_sub(1)).is_err() || full.is_empty());
        let cut = &section[..cut.index(section.len())];
        decompress_checked(kind, cut, 1 << 20)?;
        let mut flipped = section.to_vec();
        let at = at.index(flipped.len());
        flipped[at] ^= flip;
        decompress_checked(kind, &flipped, 1 << 20)?;
    }
}
