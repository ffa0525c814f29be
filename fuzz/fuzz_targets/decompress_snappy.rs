//! Fuzzes snappy decompression (`record::compression::decompress`) on
//! arbitrary bytes: no panic, and never more output than the bound.

#![no_main]

use kafka_producer::record::CompressionType;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| kafka_producer_fuzz::decompress(CompressionType::Snappy, data));
