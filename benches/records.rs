//! Record batches: building them (`MemoryRecordsBuilder`, CRC-32C included)
//! and reading them back (`RecordBatch::validate`, then every record).
//!
//! * `build_batch/<codec>/<size>`: fills one batch of `batch.size` 16 KiB or
//!   1 MiB with 100-byte unkeyed records, as the accumulator does (a
//!   `has_room_for` check, then `append`, per record), sets an idempotent
//!   producer's id, epoch and sequence, and closes it (header and CRC). The
//!   buffer is reused from one batch to the next, as the buffer pool reuses
//!   it, so no allocation is measured for uncompressed batches.
//! * `read_batch/validate/<codec>/<size>`: parses the batch and checks
//!   magic, length, CRC-32C and codec.
//! * `read_batch/validate+iterate/<codec>/<size>`: the same, then
//!   decompresses and decodes every record, touching each value.
//!
//! Codecs: `none`, `gzip`, `snappy`, `lz4`, `zstd`, each at Java's default
//! level (what the level does in this build: `record::Compression`; zstd
//! is `ruzstd`'s fast mode unless built with `--features zstd-native`).
//!
//! Throughput is the batch's *uncompressed* size (header plus records as
//! they are before compression) for building and for validate+iterate, so
//! the MB/s of every codec are MB of the same records; for validate alone
//! it is the batch as stored (what the CRC covers). Values are random
//! capital letters (what Kafka's perf tool sends), none repeated within a
//! batch (gzip makes them about 64 % of their size, zstd about 80 %,
//! snappy and lz4 do not shrink them). Compressed batches run with the
//! compression ratio estimate at 1.0 (Java's starting value, inflated 5 %
//! by Java's rule), so they hold a few records fewer than an uncompressed
//! one (141 against 148 in 16 KiB). The bench prints each batch's record
//! count and sizes before measuring it.

use std::hint::black_box;
use std::time::Duration;

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use kafka_producer::record::{Compression, CompressionType, MemoryRecordsBuilder, RecordBatch};

mod support;

/// The value size of every record.
const VALUE_LEN: usize = 100;
/// Distinct values to cycle through: more than a 1 MiB batch holds, so no
/// value repeats within a batch.
const VALUES: usize = 16_384;
/// A fixed record timestamp (ms): at a producer's rate most records of a
/// batch share the millisecond.
const TIMESTAMP: i64 = 1_700_000_000_000;
/// The batch sizes measured: Java's default `batch.size` and 1 MiB.
const SIZES: [(usize, &str); 2] = [(16 * 1024, "16KiB"), (1024 * 1024, "1MiB")];
/// Upper bound on the decompressed size accepted when reading.
const MAX_UNCOMPRESSED: usize = 4 << 20;

/// Every codec at Java's default level, named as in the configuration.
fn codecs() -> Vec<(Compression, &'static str)> {
    CompressionType::ALL
        .into_iter()
        .map(|kind| (Compression::of(kind), kind.name()))
        .collect()
}

/// Fills `buffer` with one closed batch, as the producer would, and returns
/// it with the number of records and the uncompressed batch size.
fn build_batch(
    buffer: Vec<u8>,
    compression: Compression,
    batch_size: usize,
    values: &[Vec<u8>],
) -> (Vec<u8>, usize, usize) {
    let mut builder = MemoryRecordsBuilder::new(buffer, compression, batch_size)
        .unwrap_or_else(|e| panic!("builder for {compression:?}: {e}"));
    let mut count = 0;
    let mut uncompressed = kafka_producer::record::RECORD_BATCH_OVERHEAD;
    loop {
        let value = Some(values[count % values.len()].as_slice());
        if !builder.has_room_for(TIMESTAMP, None, value, &[]) {
            break;
        }
        uncompressed += builder
            .append(TIMESTAMP, None, value, &[])
            .unwrap_or_else(|e| panic!("append: {e}"));
        count += 1;
    }
    builder
        .set_producer_state(1000, 0, 0, false)
        .unwrap_or_else(|e| panic!("producer state: {e}"));
    builder.close().unwrap_or_else(|e| panic!("close: {e}"));
    (builder.into_buffer(), count, uncompressed)
}

/// Parses and validates a batch; with `iterate`, also decodes every record.
/// Returns the number of value bytes seen, so nothing is optimised away.
fn read_batch(bytes: &[u8], iterate: bool) -> usize {
    let batch = RecordBatch::parse(bytes).unwrap_or_else(|e| panic!("parse: {e}"));
    batch.validate().unwrap_or_else(|e| panic!("validate: {e}"));
    if !iterate {
        return batch.records_count() as usize;
    }
    let records = batch
        .records(MAX_UNCOMPRESSED)
        .unwrap_or_else(|e| panic!("records: {e}"));
    let mut seen = 0;
    for record in records.iter() {
        let record = record.unwrap_or_else(|e| panic!("record: {e}"));
        seen += record.value.map_or(0, <[u8]>::len);
    }
    seen
}

fn bench_build(c: &mut Criterion) {
    let values = support::letter_values(VALUES, VALUE_LEN);
    let mut group = c.benchmark_group("build_batch");
    for (batch_size, size_name) in SIZES {
        configure_for_size(&mut group, batch_size);
        for (compression, codec_name) in codecs() {
            let (first, count, uncompressed) = build_batch(
                Vec::with_capacity(batch_size),
                compression,
                batch_size,
                &values,
            );
            eprintln!(
                "build_batch/{codec_name}/{size_name}: {count} records, {uncompressed} bytes \
                 uncompressed, {} bytes built",
                first.len()
            );
            group.throughput(Throughput::Bytes(uncompressed as u64));
            let id = BenchmarkId::new(codec_name, size_name);
            let mut buffer = first;
            group.bench_function(id, |b| {
                b.iter(|| {
                    let (built, n, _) = build_batch(
                        std::mem::take(&mut buffer),
                        compression,
                        batch_size,
                        &values,
                    );
                    black_box(n);
                    buffer = built;
                });
            });
        }
    }
    group.finish();
}

fn bench_read(c: &mut Criterion) {
    let values = support::letter_values(VALUES, VALUE_LEN);
    let mut group = c.benchmark_group("read_batch");
    for (batch_size, size_name) in SIZES {
        configure_for_size(&mut group, batch_size);
        for (compression, codec_name) in codecs() {
            let (batch, _, uncompressed) = build_batch(
                Vec::with_capacity(batch_size),
                compression,
                batch_size,
                &values,
            );
            for (iterate, what) in [(false, "validate"), (true, "validate+iterate")] {
                // Validation reads the batch as stored (the CRC covers the
                // compressed bytes); iterating yields the uncompressed records.
                let bytes = if iterate { uncompressed } else { batch.len() };
                group.throughput(Throughput::Bytes(bytes as u64));
                let id = BenchmarkId::new(format!("{what}/{codec_name}"), size_name);
                group.bench_with_input(id, &batch, |b, batch| {
                    b.iter(|| read_batch(black_box(batch), iterate));
                });
            }
        }
    }
    group.finish();
}

/// 1 MiB batches take milliseconds each: fewer samples of a fixed size.
fn configure_for_size(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    batch_size: usize,
) {
    if batch_size > 64 * 1024 {
        group.sampling_mode(SamplingMode::Flat).sample_size(20);
    } else {
        group.sampling_mode(SamplingMode::Auto).sample_size(100);
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench_build, bench_read
}
criterion_main!(benches);
