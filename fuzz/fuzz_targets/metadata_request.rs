//! Fuzzes `MetadataRequest::decode` at every version (see `src/lib.rs`).

#![no_main]

use kafka_producer::protocol::messages::metadata::MetadataRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for version in 0..=13 {
        kafka_producer_fuzz::fixed_point(data, version, MetadataRequest::decode, MetadataRequest::encode);
    }
});
