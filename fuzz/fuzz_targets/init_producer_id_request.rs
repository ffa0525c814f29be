//! Fuzzes `InitProducerIdRequest::decode` at every version (see `src/lib.rs`).

#![no_main]

use kafka_producer::protocol::messages::init_producer_id::InitProducerIdRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for version in 0..=6 {
        kafka_producer_fuzz::fixed_point(data, version, InitProducerIdRequest::decode, InitProducerIdRequest::encode);
    }
});
