//! Fuzzes `ApiVersionsRequest::decode` at every version (see `src/lib.rs`).

#![no_main]

use kafka_producer::protocol::messages::api_versions::ApiVersionsRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for version in 0..=4 {
        kafka_producer_fuzz::fixed_point(data, version, ApiVersionsRequest::decode, ApiVersionsRequest::encode);
    }
});
