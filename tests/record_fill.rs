//! How full a batch gets: `has_room_for`, `is_full` and
//! `estimated_size_in_bytes` pinned to Java's `MemoryRecordsBuilder` rules,
//! with every expected byte count worked out by hand in the comments.
//!
//! Java's rules (MemoryRecordsBuilder, magic v2):
//! * `estimatedBytesWritten = 61 + uncompressed` (no compression), or
//!   `61 + (int)(uncompressed * ratio * 1.05f)` (compressed);
//! * `isFull = closedForAppends || (numRecords > 0 && writeLimit <= estimatedBytesWritten)`;
//! * `hasRoomFor = !isFull && (numRecords == 0 ||
//!   writeLimit >= estimatedBytesWritten + DefaultRecord.sizeInBytes(nextOffsetDelta,
//!   timestamp - firstTimestamp, key, value, headers))`.

use kafka_producer::record::{
    estimate_size_in_bytes_upper_bound, Compression, Header, MemoryRecordsBuilder, RecordBatch,
};

fn plain(limit: usize) -> MemoryRecordsBuilder {
    MemoryRecordsBuilder::new(Vec::new(), Compression::none(), limit).unwrap()
}

/// Appends `value`-sized records with no key at timestamp 0 while
/// `has_room_for` says yes; returns how many went in.
fn fill(b: &mut MemoryRecordsBuilder, value_len: usize) -> usize {
    let value = vec![7u8; value_len];
    let mut n = 0;
    while b.has_room_for(0, None, Some(&value), &[]) {
        b.append(0, None, Some(&value), &[]).unwrap();
        n += 1;
        assert!(n < 100_000, "runaway");
    }
    n
}

#[test]
fn the_first_record_is_always_accepted() {
    // batch.size = 0 disables batching in Java: one record per batch.
    for limit in [0, 1, 61, 100] {
        let mut b = plain(limit);
        let big = vec![1u8; 1000];
        assert!(!b.is_full());
        assert!(
            b.has_room_for(0, Some(&big), Some(&big), &[]),
            "limit {limit}"
        );
        b.append(0, Some(&big), Some(&big), &[]).unwrap();
        assert!(b.is_full(), "limit {limit}");
        assert!(!b.has_room_for(0, None, None, &[]), "limit {limit}");
    }
}

#[test]
fn a_batch_stops_at_the_exact_byte_java_stops() {
    // A record with no key, a 10-byte value, no headers, offset delta < 64
    // and timestamp delta 0: body = attributes 1 + ts delta 1 + offset delta 1
    // + null key 1 + value length 1 + value 10 + header count 1 = 16 bytes,
    // plus a 1-byte length varint = 17 bytes.
    const RECORD: usize = 17;

    // Limit exactly 61 + 5 * 17 = 146: after 4 records the estimate is 129
    // and 146 >= 129 + 17, so a fifth fits; then 146 <= 146 is full.
    let mut b = plain(146);
    assert_eq!(fill(&mut b, 10), 5);
    assert_eq!(b.estimated_size_in_bytes(), 61 + 5 * RECORD);
    assert!(b.is_full());

    // One byte less: four records, and the builder is not "full" (129 < 145)
    // but has no room for a 17-byte record; a 16-byte one (9-byte value)
    // lands exactly on the limit.
    let mut b = plain(145);
    assert_eq!(fill(&mut b, 10), 4);
    assert_eq!(b.estimated_size_in_bytes(), 129);
    assert!(!b.is_full());
    assert!(b.has_room_for(0, None, Some(&[0u8; 9]), &[]));
    assert!(!b.has_room_for(0, None, Some(&[0u8; 10]), &[]));
    b.append(0, None, Some(&[0u8; 9]), &[]).unwrap();
    assert!(b.is_full(), "145 <= 145");

    // The estimate is exact for uncompressed batches.
    let bytes = b.build().unwrap();
    assert_eq!(bytes.len(), 145);
}

#[test]
fn the_offset_delta_varint_growing_at_64_is_counted() {
    // 1-byte value: 8 bytes per record while the offset delta fits one
    // varint byte (0..=63), 9 bytes from delta 64 on.
    // 64 records: 61 + 64 * 8 = 573. The 65th (delta 64) needs 9 bytes:
    // 582. With a limit of 581 it does not fit, though an 8-byte record
    // would (573 + 8 = 581).
    let mut b = plain(581);
    assert_eq!(fill(&mut b, 1), 64);
    assert_eq!(b.estimated_size_in_bytes(), 573);
    assert!(!b.is_full());
    let mut b = plain(582);
    assert_eq!(fill(&mut b, 1), 65);
    assert_eq!(b.build().unwrap().len(), 582);
}

#[test]
fn the_timestamp_delta_of_the_candidate_is_counted() {
    // First record at t=1000 (17 bytes with a 10-byte value): estimate 78.
    // Limit 95 leaves exactly 17 bytes. A record at t=1063 has delta 63,
    // zig-zag 126: one varint byte, 17 bytes, fits. At t=1064 the delta
    // zig-zags to 128: two bytes, 18, does not. Earlier timestamps count
    // too: delta -64 zig-zags to 127 (one byte), -65 to 129 (two).
    let mut b = plain(95);
    let v = [0u8; 10];
    b.append(1000, None, Some(&v), &[]).unwrap();
    assert_eq!(b.estimated_size_in_bytes(), 78);
    assert!(b.has_room_for(1063, None, Some(&v), &[]));
    assert!(!b.has_room_for(1064, None, Some(&v), &[]));
    assert!(b.has_room_for(1000 - 64, None, Some(&v), &[]));
    assert!(!b.has_room_for(1000 - 65, None, Some(&v), &[]));
}

#[test]
fn compressed_estimates_use_the_ratio_and_the_safety_factor() {
    // Five 17-byte records: 85 uncompressed bytes.
    // ratio 1.0: (int)(85 * 1.0f * 1.05f) = (int)89.25 = 89 -> 61 + 89 = 150.
    // ratio 0.5: (int)(85 * 0.5f * 1.05f) = (int)44.625 = 44 -> 105.
    let v = [0u8; 10];
    for (ratio, estimate) in [(1.0f32, 150usize), (0.5, 105)] {
        let mut b =
            MemoryRecordsBuilder::new(Vec::new(), Compression::gzip(-1).unwrap(), 10_000).unwrap();
        b.set_estimated_compression_ratio(ratio);
        for _ in 0..5 {
            b.append(0, None, Some(&v), &[]).unwrap();
        }
        assert_eq!(b.estimated_size_in_bytes(), estimate, "ratio {ratio}");
        assert_eq!(b.uncompressed_bytes_written(), 61 + 85);
    }

    // The candidate counts uncompressed: with ratio 1.0 and a limit of
    // 150 + 17 = 167, a sixth 17-byte record fits, a 18-byte one does not.
    let mut b = MemoryRecordsBuilder::new(Vec::new(), Compression::gzip(-1).unwrap(), 167).unwrap();
    for _ in 0..5 {
        b.append(0, None, Some(&v), &[]).unwrap();
    }
    assert!(b.has_room_for(0, None, Some(&v), &[]));
    assert!(!b.has_room_for(0, None, Some(&[0u8; 11]), &[]));
    // Six: (int)(102 * 1.05f) = 107 -> 168 >= 167: full.
    b.append(0, None, Some(&v), &[]).unwrap();
    assert_eq!(b.estimated_size_in_bytes(), 168);
    assert!(b.is_full());

    // Once built, the size is the real one.
    b.close().unwrap();
    let real = b.records().len();
    assert_eq!(b.estimated_size_in_bytes(), real);
    assert!(RecordBatch::parse(b.records()).unwrap().is_valid());
}

#[test]
fn a_closed_builder_is_full() {
    let mut b = plain(10_000);
    b.append(0, None, None, &[]).unwrap();
    assert!(!b.is_full());
    b.close_for_appends().unwrap();
    assert!(b.is_full());
    assert!(!b.has_room_for(0, None, None, &[]));
    assert!(b.append(0, None, None, &[]).is_err());
}

#[test]
fn upper_bound_is_61_plus_21_plus_key_value_and_headers() {
    // Nothing: null key 1 + null value 1 + header count 1.
    assert_eq!(
        estimate_size_in_bytes_upper_bound(None, None, &[]),
        61 + 21 + 3
    );
    // Empty key and value: each a 0 length byte.
    assert_eq!(
        estimate_size_in_bytes_upper_bound(Some(b""), Some(b""), &[]),
        61 + 21 + 3
    );
    // key "key": 1 + 3; value 300 bytes: varint(300) is 2 bytes, + 300;
    // headers: count 1, "h"="v" 2 + 2, "n"=null 2 + 1.
    let headers = [Header::new("h", b"v".to_vec()), Header::null("n")];
    let value = vec![0u8; 300];
    assert_eq!(
        estimate_size_in_bytes_upper_bound(Some(b"key"), Some(&value), &headers),
        61 + 21 + 4 + 302 + (1 + 4 + 3)
    );
    // 64 headers: the header count varint takes 2 bytes.
    let many: Vec<Header> = (0..64).map(|_| Header::null("")).collect();
    assert_eq!(
        estimate_size_in_bytes_upper_bound(None, None, &many),
        61 + 21 + 1 + 1 + 2 + 64 * 2
    );

    // It bounds the real single-record batch: 61 + length varint 2 +
    // attributes 1 + deltas 1 + 1 + 314 = 380 <= 396.
    let mut b = plain(0);
    b.append(1 << 40, Some(b"key"), Some(&value), &headers)
        .unwrap();
    assert_eq!(b.build().unwrap().len(), 380);
}
