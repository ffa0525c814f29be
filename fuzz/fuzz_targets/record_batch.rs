//! Fuzzes the record batch reader: arbitrary bytes as a sequence of batches
//! and as one batch, through header parsing, validation, decompression
//! (bounded to 64 KiB so a small input cannot inflate into gigabytes) and
//! record iteration. Any panic, overflow or unbounded allocation is a bug.

#![no_main]

use kafka_producer::record::{RecordBatch, RecordBatches};
use libfuzzer_sys::fuzz_target;

/// Decompression bound: small, so the fuzzer spends its time on parsing.
const MAX_UNCOMPRESSED: usize = 64 * 1024;

fn read_batch(batch: &RecordBatch<'_>) {
    let _ = batch.validate();
    let _ = (
        batch.last_sequence(),
        batch.next_batch_base_sequence(),
        batch.next_offset(),
        batch.compute_crc(),
    );
    if let Ok(records) = batch.records(MAX_UNCOMPRESSED) {
        let mut n = 0usize;
        for record in records.iter() {
            let Ok(record) = record else { break };
            let _ = record.to_owned_record();
            for header in &record.headers {
                let _ = header.key_str();
            }
            n += 1;
        }
        // The iterator never yields more than the declared count.
        assert!(n <= records.len());
    }
}

fuzz_target!(|data: &[u8]| {
    let mut batches = 0usize;
    for batch in RecordBatches::new(data) {
        let Ok(batch) = batch else { break };
        read_batch(&batch);
        batches += 1;
    }
    // Every batch is at least 61 bytes.
    assert!(batches <= data.len() / 61);
    if let Ok(batch) = RecordBatch::parse(data) {
        read_batch(&batch);
    }
});
