//! The sized append path of [`MemoryRecordsBuilder`] (`size_record`,
//! `has_room_for_sized`, `estimated_size_with_sized`, `append_sized`)
//! against the path that sizes a record at each step (`has_room_for`,
//! `estimated_size_with`, `append`), for arbitrary runs of records with
//! every codec:
//!
//! * the same room answers, size estimates and returned sizes, and
//!   byte-identical batches;
//! * a record sized before other records went in (so at a stale position)
//!   still lands exactly where `append` puts it;
//! * the sizes a `SizedRecord` reports are `default_record`'s for its
//!   position, and Java's upper bound.
//!
//! The bytes themselves are pinned by the Java vectors (`record_vectors`)
//! and by the field-by-field encoding in `default_record`'s unit tests.

use kafka_producer::record::default_record::{record_size_upper_bound, size_in_bytes};
use kafka_producer::record::{Compression, CompressionType, Header, MemoryRecordsBuilder};
use proptest::collection::vec;
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Input {
    timestamp: i64,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    headers: Vec<Header>,
}

fn nullable() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        Just(None),
        Just(Some(Vec::new())),
        vec(any::<u8>(), 0..60).prop_map(Some),
        (120usize..400).prop_map(|n| Some(vec![7; n])),
    ]
}

/// Around a base, so that later records are older (negative timestamp
/// deltas) as often as newer, plus -1 (no timestamp) and far-off values.
fn timestamp() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(-1i64),
        Just(0i64),
        1_700_000_000_000i64 - 100_000..1_700_000_000_000 + 100_000,
        0i64..i64::MAX,
    ]
}

fn input() -> impl Strategy<Value = Input> {
    let header = (
        "\\PC{0,6}",
        prop_oneof![Just(None), vec(any::<u8>(), 0..20).prop_map(Some)],
    )
        .prop_map(|(key, value)| Header { key, value });
    (timestamp(), nullable(), nullable(), vec(header, 0..4)).prop_map(
        |(timestamp, key, value, headers)| Input {
            timestamp,
            key,
            value,
            headers,
        },
    )
}

fn builder(kind: CompressionType, limit: usize) -> MemoryRecordsBuilder {
    MemoryRecordsBuilder::new(Vec::new(), Compression::of(kind), limit)
        .unwrap_or_else(|e| panic!("builder: {e}"))
}

fn appended(result: kafka_producer::Result<usize>) -> usize {
    result.unwrap_or_else(|e| panic!("append: {e}"))
}

proptest! {
    #[test]
    fn sized_and_unsized_appends_build_identical_batches(
        inputs in vec(input(), 1..40),
        kind in prop::sample::select(CompressionType::ALL.to_vec()),
        limit in 100usize..6_000,
        ratio in prop_oneof![Just(1.0f32), 0.2f32..1.5],
    ) {
        let mut plain = builder(kind, limit);
        let mut sized = builder(kind, limit);
        // Each record sized one append early: at a stale offset delta and
        // (for the second) a stale timestamp delta.
        let mut ahead = builder(kind, limit);
        for b in [&mut plain, &mut sized, &mut ahead] {
            b.set_estimated_compression_ratio(ratio);
        }
        let base_timestamp = inputs[0].timestamp;
        let mut pending = ahead.size_record(
            inputs[0].timestamp,
            inputs[0].key.as_deref(),
            inputs[0].value.as_deref(),
            &inputs[0].headers,
        );
        for (i, r) in inputs.iter().enumerate() {
            let (key, value) = (r.key.as_deref(), r.value.as_deref());
            let record = sized.size_record(r.timestamp, key, value, &r.headers);

            let room = plain.has_room_for(r.timestamp, key, value, &r.headers);
            prop_assert_eq!(sized.has_room_for_sized(&record), room);
            prop_assert_eq!(ahead.has_room_for_sized(&pending), room);
            prop_assert_eq!(
                sized.estimated_size_with_sized(&record),
                plain.estimated_size_with(r.timestamp, key, value, &r.headers)
            );
            prop_assert_eq!(
                ahead.estimated_size_with_sized(&pending),
                plain.estimated_size_with(r.timestamp, key, value, &r.headers)
            );
            prop_assert_eq!(record.timestamp(), r.timestamp);
            let position = (i as i32, r.timestamp.wrapping_sub(base_timestamp));
            prop_assert_eq!(
                record.size_in_bytes(),
                size_in_bytes(position.0, position.1, key, value, &r.headers)
            );
            prop_assert_eq!(
                record.size_upper_bound(),
                record_size_upper_bound(key, value, &r.headers)
            );
            prop_assert_eq!(pending.size_upper_bound(), record.size_upper_bound());
            if !room {
                break;
            }
            let next = inputs.get(i + 1).map(|n| {
                ahead.size_record(n.timestamp, n.key.as_deref(), n.value.as_deref(), &n.headers)
            });
            let n = appended(plain.append(r.timestamp, key, value, &r.headers));
            prop_assert_eq!(appended(sized.append_sized(&record)), n);
            prop_assert_eq!(appended(ahead.append_sized(&pending)), n);
            prop_assert_eq!(record.size_in_bytes(), n);
            if let Some(next) = next {
                pending = next;
            }
        }
        prop_assert_eq!(sized.num_records(), plain.num_records());
        prop_assert_eq!(ahead.num_records(), plain.num_records());
        let plain = plain.build().unwrap_or_else(|e| panic!("build: {e}"));
        prop_assert_eq!(&sized.build().unwrap_or_else(|e| panic!("build: {e}")), &plain);
        prop_assert_eq!(&ahead.build().unwrap_or_else(|e| panic!("build: {e}")), &plain);
    }
}
