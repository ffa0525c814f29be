//! Kafka's key-to-partition mapping against the Java client 4.3.0:
//! `tests/data/murmur2.tsv` (copied from the shared vector set) holds, for
//! 319 keys, `Utils.murmur2`, `Utils.toPositive` and
//! `BuiltInPartitioner.partitionForKey` for 1, 2, 3, 7, 12 and 100
//! partitions. A mismatch here would send keyed records to other partitions
//! than Java producers do.

mod support;

use kafka_producer::producer::partitioner::default_partition_for_key;
use kafka_producer::util::murmur2::{murmur2, partition_for_key, to_positive};
use support::{read_tsv, unhex};

/// The partition counts of the `p1 … p100` columns, by column index.
const PARTITION_COLUMNS: [(usize, usize); 6] = [(3, 1), (4, 2), (5, 3), (6, 7), (7, 12), (8, 100)];

struct Row {
    key: Vec<u8>,
    murmur2: i32,
    to_positive: i32,
    partitions: [i32; 6],
    label: String,
}

fn rows() -> Vec<Row> {
    read_tsv("murmur2.tsv")
        .into_iter()
        .map(|f| {
            assert_eq!(f.len(), 10, "row {f:?}");
            Row {
                key: unhex(&f[0]),
                murmur2: f[1].parse().expect("murmur2"),
                to_positive: f[2].parse().expect("to_positive"),
                partitions: PARTITION_COLUMNS
                    .map(|(column, _)| f[column].parse().expect("partition")),
                label: f[9].clone(),
            }
        })
        .collect()
}

#[test]
fn every_row_is_read_including_the_empty_key() {
    let rows = rows();
    assert_eq!(rows.len(), 319);
    assert!(rows[0].key.is_empty(), "the first row is the empty key");
    assert_eq!(rows[0].label, "empty");
    // The long keys are there too (up to 65537 bytes).
    assert_eq!(rows.iter().map(|r| r.key.len()).max(), Some(65537));
}

#[test]
fn murmur2_matches_java() {
    let mut checked = 0;
    for row in rows() {
        assert_eq!(murmur2(&row.key), row.murmur2, "murmur2 of {}", row.label);
        assert_eq!(
            to_positive(row.murmur2),
            row.to_positive,
            "to_positive of {}",
            row.label
        );
        checked += 1;
    }
    assert_eq!(checked, 319);
}

#[test]
fn partition_for_key_matches_java_for_every_partition_count() {
    let mut checked = 0;
    for row in rows() {
        for ((_, n), expected) in PARTITION_COLUMNS.iter().zip(row.partitions) {
            assert_eq!(
                partition_for_key(&row.key, *n),
                expected,
                "{} over {n}",
                row.label
            );
            assert_eq!(
                default_partition_for_key(&row.key, *n),
                expected,
                "{} over {n}",
                row.label
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 319 * 6);
}
