//! Fuzzes `InitProducerIdResponse::decode` at every version (see `src/lib.rs`).

#![no_main]

use kafka_producer::protocol::messages::init_producer_id::InitProducerIdResponse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kafka_producer_fuzz::response::<InitProducerIdResponse>(data);
});
