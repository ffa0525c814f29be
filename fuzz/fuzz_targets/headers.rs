//! Fuzzes the request header (version chosen from its own api key and
//! version, and forced to v1 and v2) and the response header (v0, v1).

#![no_main]

use kafka_producer::protocol::header::{RequestHeader, ResponseHeader};
use kafka_producer_fuzz::{decode_all, fixed_point};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(h) = decode_all(data, 0, |r, _| RequestHeader::decode(r)) {
        let mut out = Vec::new();
        h.encode(&mut out, h.header_version())
            .expect("a decoded request header re-encodes");
        assert_eq!(decode_all(&out, 0, |r, _| RequestHeader::decode(r)), Some(h));
    }
    for version in 1..=2 {
        fixed_point(data, version, RequestHeader::decode_version, RequestHeader::encode);
    }
    for version in 0..=1 {
        fixed_point(data, version, ResponseHeader::decode, ResponseHeader::encode);
    }
});
