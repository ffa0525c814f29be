//! murmur2 (Kafka's key hash, `Utils.murmur2`) on keys of 8, 32, 100 and
//! 1000 bytes: the per-record cost of choosing a keyed record's partition.
//!
//! Reported as time per hash and as bytes hashed per second. The keys are
//! fixed pseudo-random bytes; murmur2's cost does not depend on their
//! content, only on their length.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kafka_producer::util::murmur2::murmur2;

mod support;

fn bench_murmur2(c: &mut Criterion) {
    let mut group = c.benchmark_group("murmur2");
    for len in [8usize, 32, 100, 1000] {
        let key = support::random_bytes(len, 0x006b_6579);
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_with_input(BenchmarkId::from_parameter(len), &key, |b, key| {
            b.iter(|| murmur2(black_box(key)));
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench_murmur2
}
criterion_main!(benches);
