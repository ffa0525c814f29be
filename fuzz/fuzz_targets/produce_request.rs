//! Fuzzes `ProduceRequest::decode` at every version (see `src/lib.rs`).
//! The request borrows its records from the input, so the fixed-point check
//! is written out here rather than through the owned-type helper.

#![no_main]

use kafka_producer::protocol::messages::produce::ProduceRequest;
use kafka_producer_fuzz::decode_all;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for version in 3..=13 {
        let Some(value) = decode_all(data, version, ProduceRequest::decode) else {
            continue;
        };
        let mut out = Vec::new();
        if let Err(e) = value.encode(&mut out, version) {
            panic!("a request decoded at v{version} does not re-encode: {e}");
        }
        let again = decode_all(&out, version, ProduceRequest::decode)
            .unwrap_or_else(|| panic!("re-encoded v{version} bytes do not decode"));
        assert_eq!(again, value, "v{version}");
    }
});
