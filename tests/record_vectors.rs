//! The record layer against bytes written by the Java client 4.3.0
//! (`tests/data/`, copied from the shared vector set):
//!
//! * every uncompressed batch of `record_batches.jsonl` is rebuilt byte for
//!   byte with `MemoryRecordsBuilder`, each record with
//!   `default_record::write_to`, and read back with `RecordBatch`;
//! * gzip batches: header checked, payload inflated and compared, and our own
//!   gzip batch for the same inputs round-trips;
//! * snappy, lz4 and zstd batches: the same as gzip (header checked,
//!   payload decompressed and every record compared; ours for the same
//!   inputs round-trips), plus the framing bytes every payload starts with;
//! * `sequence.tsv`, `crc32c.tsv` and `varint.tsv`, row by row.
//!
//! Each test counts what it checked, so an empty or shortened file fails.

mod support;

use kafka_producer::protocol::codec::{
    size_of_unsigned_varint, size_of_unsigned_varlong, size_of_varint, size_of_varlong, Reader,
    Writer,
};
use kafka_producer::record::{
    decrement_sequence, default_record, increment_sequence, Compression, CompressionType, Header,
    MemoryRecordsBuilder, RecordBatch, RecordBatches,
};
use kafka_producer::util::crc::crc32c;
use serde_json::Value;
use support::{hex, read_jsonl, read_tsv, unhex};

const VECTORS: &str = "record_batches.jsonl";

/// One record of a vector's `inputs`.
struct Input {
    offset_delta: i32,
    timestamp: i64,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    headers: Vec<Header>,
}

fn opt_hex(v: &Value) -> Option<Vec<u8>> {
    v.as_str().map(unhex)
}

fn int(v: &Value, name: &str) -> i64 {
    v[name]
        .as_i64()
        .unwrap_or_else(|| panic!("{name} is not an integer"))
}

fn inputs(vector: &Value) -> Vec<Input> {
    let records = vector["inputs"]["records"].as_array().expect("records");
    records
        .iter()
        .map(|r| {
            let headers = r["headers"]
                .as_array()
                .expect("headers")
                .iter()
                .map(|h| {
                    let key = h["key"].as_str().expect("header key").to_owned();
                    assert_eq!(hex(key.as_bytes()), h["key_hex"].as_str().unwrap());
                    Header {
                        key,
                        value: opt_hex(&h["value_hex"]),
                    }
                })
                .collect();
            Input {
                offset_delta: int(r, "offset_delta") as i32,
                timestamp: int(r, "timestamp"),
                key: opt_hex(&r["key_hex"]),
                value: opt_hex(&r["value_hex"]),
                headers,
            }
        })
        .collect()
}

fn vectors_with(compression: &str) -> Vec<Value> {
    read_jsonl(VECTORS)
        .into_iter()
        .filter(|v| v["inputs"]["compression"] == compression)
        .collect()
}

/// Builds a batch from a vector's inputs the way the generator did.
fn build(vector: &Value, compression: Compression) -> Vec<u8> {
    let inp = &vector["inputs"];
    let mut b = MemoryRecordsBuilder::new(Vec::new(), compression, i32::MAX as usize).unwrap();
    b.set_base_offset(int(inp, "base_offset"));
    b.set_partition_leader_epoch(int(inp, "partition_leader_epoch") as i32);
    for (i, r) in inputs(vector).iter().enumerate() {
        assert_eq!(r.offset_delta as usize, i, "records are appended in order");
        b.append(
            r.timestamp,
            r.key.as_deref(),
            r.value.as_deref(),
            &r.headers,
        )
        .unwrap();
    }
    b.set_producer_state(
        int(inp, "producer_id"),
        int(inp, "producer_epoch") as i16,
        int(inp, "base_sequence") as i32,
        inp["is_transactional"].as_bool().unwrap(),
    )
    .unwrap();
    b.build().unwrap()
}

/// Checks every header field of `batch` against the vector's `header`
/// object, except length and CRC when `payload_may_differ`.
fn check_header(batch: &RecordBatch<'_>, vector: &Value, payload_may_differ: bool) {
    let id = vector["id"].as_str().unwrap();
    let h = &vector["header"];
    if !payload_may_differ {
        assert_eq!(
            i64::from(batch.batch_length()),
            int(h, "batch_length"),
            "{id}"
        );
        assert_eq!(i64::from(batch.crc()), int(h, "crc"), "{id}");
        assert_eq!(
            format!("{:08x}", batch.crc()),
            h["crc_hex"].as_str().unwrap()
        );
    }
    assert_eq!(batch.base_offset(), int(h, "base_offset"), "{id}");
    assert_eq!(
        i64::from(batch.partition_leader_epoch()),
        int(h, "partition_leader_epoch"),
        "{id}"
    );
    assert_eq!(i64::from(batch.magic()), int(h, "magic"), "{id}");
    assert_eq!(i64::from(batch.attributes()), int(h, "attributes"), "{id}");
    assert_eq!(
        batch.compression_type().unwrap().name(),
        h["compression"].as_str().unwrap(),
        "{id}"
    );
    assert_eq!(
        batch.is_log_append_time(),
        h["timestamp_type"] == "LOG_APPEND_TIME",
        "{id}"
    );
    assert_eq!(
        batch.is_transactional(),
        h["is_transactional"] == true,
        "{id}"
    );
    assert_eq!(batch.is_control(), h["is_control"] == true, "{id}");
    assert_eq!(
        batch.has_delete_horizon(),
        h["has_delete_horizon"] == true,
        "{id}"
    );
    assert_eq!(
        i64::from(batch.last_offset_delta()),
        int(h, "last_offset_delta"),
        "{id}"
    );
    assert_eq!(batch.base_timestamp(), int(h, "base_timestamp"), "{id}");
    assert_eq!(batch.max_timestamp(), int(h, "max_timestamp"), "{id}");
    assert_eq!(batch.producer_id(), int(h, "producer_id"), "{id}");
    assert_eq!(
        i64::from(batch.producer_epoch()),
        int(h, "producer_epoch"),
        "{id}"
    );
    assert_eq!(
        i64::from(batch.base_sequence()),
        int(h, "base_sequence"),
        "{id}"
    );
    assert_eq!(
        i64::from(batch.records_count()),
        int(h, "records_count"),
        "{id}"
    );
    let d = &vector["derived"];
    assert_eq!(batch.last_offset(), int(d, "last_offset"), "{id}");
    assert_eq!(batch.next_offset(), int(d, "next_offset"), "{id}");
    assert_eq!(
        i64::from(batch.last_sequence()),
        int(d, "last_sequence"),
        "{id}"
    );
    assert_eq!(
        i64::from(batch.next_batch_base_sequence()),
        int(d, "next_batch_base_sequence"),
        "{id}"
    );
}

/// Decodes every record of `batch` and compares it with the inputs; also
/// checks the uncompressed section against `records_section_hex`.
fn check_records(batch: &RecordBatch<'_>, vector: &Value) {
    let id = vector["id"].as_str().unwrap();
    let records = batch.records(1 << 20).unwrap();
    assert_eq!(
        hex(records.as_bytes()),
        vector["records_section_hex"].as_str().unwrap(),
        "{id}"
    );
    let want = inputs(vector);
    assert_eq!(records.len(), want.len(), "{id}");
    let base_offset = batch.base_offset();
    let base_sequence = batch.base_sequence();
    let mut n = 0;
    for (got, want) in records.iter().zip(&want) {
        let got = got.unwrap();
        assert_eq!(got.offset_delta, want.offset_delta, "{id}");
        assert_eq!(got.offset, base_offset + i64::from(want.offset_delta));
        assert_eq!(got.timestamp, want.timestamp, "{id}");
        assert_eq!(got.key, want.key.as_deref(), "{id}");
        assert_eq!(got.value, want.value.as_deref(), "{id}");
        let headers: Vec<Header> = got.headers.iter().map(|h| h.to_header().unwrap()).collect();
        assert_eq!(headers, want.headers, "{id}");
        let sequence = if base_sequence < 0 {
            -1
        } else {
            increment_sequence(base_sequence, want.offset_delta)
        };
        assert_eq!(got.sequence, sequence, "{id}");
        n += 1;
    }
    assert_eq!(n, want.len(), "{id}: every record decoded");
}

#[test]
fn uncompressed_batches_are_rebuilt_byte_for_byte_and_read_back() {
    let vectors = vectors_with("none");
    let (mut batches, mut record_encodings) = (0, 0);
    for v in &vectors {
        let id = v["id"].as_str().unwrap();
        let java = unhex(v["batch_hex"].as_str().unwrap());
        let ours = build(v, Compression::none());
        assert!(ours == java, "{id}: batch differs from Java's");
        assert_eq!(
            hex(&ours[61..]),
            v["records_section_hex"].as_str().unwrap(),
            "{id}"
        );
        assert_eq!(ours.len() as i64, int(&v["derived"], "size_in_bytes"));

        // Each record alone, as DefaultRecord.writeTo writes it.
        if let Some(encodings) = v["record_hex"].as_array() {
            let records = inputs(v);
            assert_eq!(encodings.len(), records.len(), "{id}");
            let base_timestamp = records[0].timestamp;
            for (r, want) in records.iter().zip(encodings) {
                let mut out = Vec::new();
                let n = default_record::write_to(
                    &mut out,
                    r.offset_delta,
                    r.timestamp - base_timestamp,
                    r.key.as_deref(),
                    r.value.as_deref(),
                    &r.headers,
                );
                assert_eq!(n, out.len());
                assert_eq!(hex(&out), want.as_str().unwrap(), "{id}");
                record_encodings += 1;
            }
        }

        let batch = RecordBatch::parse(&java).unwrap();
        batch.validate().unwrap();
        check_header(&batch, v, false);
        check_records(&batch, v);
        batches += 1;
    }
    assert_eq!(batches, 44);
    // The records of the 42 batches of at most 20 records (the vectors
    // carry no per-record hex for thousand_small_records and
    // offset_delta_130).
    assert_eq!(record_encodings, 101);
}

#[test]
fn gzip_batches_match_java_after_decompression() {
    let vectors = vectors_with("gzip");
    let mut checked = 0;
    for v in &vectors {
        let id = v["id"].as_str().unwrap();
        assert_eq!(v["compressed_payload_may_differ"], true);
        // Java's batch: header, then payload inflated and compared.
        let java = unhex(v["batch_hex"].as_str().unwrap());
        let batch = RecordBatch::parse(&java).unwrap();
        batch.validate().unwrap();
        assert_eq!(&java[61..71], &unhex("1f8b08000000000000ff")[..], "{id}");
        check_header(&batch, v, true);
        check_records(&batch, v);

        // Ours, at Java's level: valid, same header fields, same records.
        let level = int(&v["inputs"], "compression_level") as i32;
        let ours = build(v, Compression::gzip(level).unwrap());
        let batch = RecordBatch::parse(&ours).unwrap();
        batch.validate().unwrap();
        assert_eq!(batch.crc(), crc32c(&ours[21..]));
        check_header(&batch, v, true);
        check_records(&batch, v);
        checked += 1;
    }
    assert_eq!(checked, 3);
}

/// The compressed records section of a batch (after the 61-byte header).
fn payload(batch: &[u8]) -> &[u8] {
    &batch[61..]
}

#[test]
fn snappy_lz4_zstd_batches_match_java_after_decompression() {
    // (codec, bytes every Java payload starts with, how our payload compares)
    let framing: [(CompressionType, &str); 3] = [
        // xerial magic, version 1, compatible version 1
        (CompressionType::Snappy, "82534e415050590000000001 00000001"),
        // LZ4 frame magic, FLG 0x60, BD 0x40, header checksum 0x82
        (CompressionType::Lz4, "04224d18604082"),
        // zstd frame magic
        (CompressionType::Zstd, "28b52ffd"),
    ];
    let mut checked = [0usize; 3];
    let mut identical = Vec::new();
    for (i, (codec, prefix)) in framing.iter().enumerate() {
        let prefix = unhex(&prefix.replace(' ', ""));
        for v in &vectors_with(codec.name()) {
            let id = v["id"].as_str().unwrap();
            assert_eq!(v["compressed_payload_may_differ"], true, "{id}");
            // Java's batch: header, then payload decompressed and every
            // record compared with the inputs.
            let java = unhex(v["batch_hex"].as_str().unwrap());
            let batch = RecordBatch::parse(&java).unwrap();
            batch.validate().unwrap();
            assert_eq!(batch.compression_type().unwrap(), *codec, "{id}");
            assert!(payload(&java).starts_with(&prefix), "{id}");
            check_header(&batch, v, false);
            check_records(&batch, v);

            // Ours, at Java's level for the codec: valid, same header
            // fields, same framing bytes, same records.
            let compression = match codec {
                CompressionType::Snappy => Compression::snappy(),
                CompressionType::Lz4 => {
                    Compression::lz4(int(&v["inputs"], "compression_level") as i32).unwrap()
                }
                CompressionType::Zstd => {
                    Compression::zstd(int(&v["inputs"], "compression_level") as i32).unwrap()
                }
                other => panic!("{other}"),
            };
            let ours = build(v, compression);
            let batch = RecordBatch::parse(&ours).unwrap();
            batch.validate().unwrap();
            assert_eq!(batch.crc(), crc32c(&ours[21..]));
            assert!(payload(&ours).starts_with(&prefix), "{id}");
            check_header(&batch, v, true);
            check_records(&batch, v);
            if ours == java {
                identical.push(id.to_owned());
            }
            checked[i] += 1;
        }
    }
    assert_eq!(checked, [3, 3, 3], "rows per codec: snappy, lz4, zstd");
    if cfg!(feature = "zstd-native") {
        // The C zstd library at level 3 may match zstd-jni: not asserted.
        identical.retain(|id| !id.starts_with("zstd_"));
    }
    // Byte-for-byte equality is not required (the vectors say payloads may
    // differ), but it holds for these three: `snap` compresses the small
    // snappy batch as snappy-java 1.1.1.7 does, and `lz4_flex` the small
    // lz4 batches as lz4-java's fast compressor. The others differ in the
    // compressed bytes only: snappy_large_value_100kb,
    // snappy_headers_multiple, lz4_large_value_100kb, and every zstd batch
    // (zstd-jni level 3 against ruzstd's fast mode).
    assert_eq!(
        identical,
        ["snappy_ten_records", "lz4_ten_records", "lz4_transactional"],
        "batches equal to Java's byte for byte"
    );
}

#[test]
fn all_vector_batches_concatenated_iterate_in_order() {
    let vectors = read_jsonl(VECTORS);
    assert_eq!(vectors.len(), 56);
    let mut log = Vec::new();
    let mut sizes = Vec::new();
    for v in &vectors {
        let bytes = unhex(v["batch_hex"].as_str().unwrap());
        sizes.push(bytes.len());
        log.extend_from_slice(&bytes);
    }
    let batches: Vec<_> = RecordBatches::new(&log).map(Result::unwrap).collect();
    assert_eq!(batches.len(), 56);
    for (b, size) in batches.iter().zip(&sizes) {
        assert_eq!(b.size_in_bytes(), *size);
        b.validate().unwrap();
    }
    // Cut inside the last batch: 55 batches, then an error.
    let cut = &log[..log.len() - 1];
    let results: Vec<_> = RecordBatches::new(cut).collect();
    assert_eq!(results.len(), 56);
    assert!(results[..55].iter().all(Result::is_ok));
    assert!(results[55].is_err());
}

#[test]
fn sequence_rows_match_java() {
    let rows = read_tsv("sequence.tsv");
    let mut checked = 0;
    for row in &rows {
        let seq: i32 = row[1].parse().unwrap();
        let delta: i32 = row[2].parse().unwrap();
        let want: i32 = row[3].parse().unwrap();
        let got = match row[0].as_str() {
            "increment" => increment_sequence(seq, delta),
            "decrement" => decrement_sequence(seq, delta),
            op => panic!("unknown op {op}"),
        };
        assert_eq!(got, want, "{row:?}");
        checked += 1;
    }
    assert_eq!(checked, 30);
}

#[test]
fn crc32c_rows_match_java() {
    let rows = read_tsv("crc32c.tsv");
    let mut checked = 0;
    for row in &rows {
        let input = unhex(&row[0]);
        assert_eq!(input.len(), row[3].parse::<usize>().unwrap(), "{}", row[4]);
        let crc = crc32c(&input);
        assert_eq!(format!("{crc:08x}"), row[1], "{}", row[4]);
        assert_eq!(crc, row[2].parse::<u32>().unwrap(), "{}", row[4]);
        checked += 1;
    }
    assert_eq!(checked, 40);
}

#[test]
fn varint_rows_match_java() {
    let rows = read_tsv("varint.tsv");
    let mut counts = [0usize; 4];
    for row in &rows {
        let (kind, value, want_hex) = (row[0].as_str(), row[1].as_str(), row[2].as_str());
        let want_len: usize = row[3].parse().unwrap();
        assert_eq!(want_hex.len(), 2 * want_len, "{row:?}");
        let want = unhex(want_hex);
        let mut out = Vec::new();
        let mut r = Reader::new(&want);
        let size = match kind {
            "varint" => {
                let v: i32 = value.parse().unwrap();
                out.put_varint(v);
                assert_eq!(r.varint("v"), Ok(v), "{row:?}");
                counts[0] += 1;
                size_of_varint(v)
            }
            "varlong" => {
                let v: i64 = value.parse().unwrap();
                out.put_varlong(v);
                assert_eq!(r.varlong("v"), Ok(v), "{row:?}");
                counts[1] += 1;
                size_of_varlong(v)
            }
            "unsigned_varint" => {
                let v: u32 = value.parse().unwrap();
                out.put_unsigned_varint(v);
                assert_eq!(r.unsigned_varint("v"), Ok(v), "{row:?}");
                counts[2] += 1;
                size_of_unsigned_varint(v)
            }
            "unsigned_varlong" => {
                let v: u64 = value.parse().unwrap();
                out.put_unsigned_varlong(v);
                assert_eq!(r.unsigned_varlong("v"), Ok(v), "{row:?}");
                counts[3] += 1;
                size_of_unsigned_varlong(v)
            }
            other => panic!("unknown kind {other}"),
        };
        assert_eq!(hex(&out), want_hex, "{row:?}");
        assert_eq!(r.remaining(), 0, "{row:?}: decoding reads every byte");
        assert_eq!(size, want_len, "{row:?}");
    }
    assert_eq!(counts, [110, 210, 110, 210]);
}
