//! Fuzzes `ApiVersionsResponse::decode` at every version (see `src/lib.rs`).

#![no_main]

use kafka_producer::protocol::messages::api_versions::ApiVersionsResponse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kafka_producer_fuzz::response::<ApiVersionsResponse>(data);
});
