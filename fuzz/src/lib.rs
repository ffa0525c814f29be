//! Helpers shared by the fuzz targets in `fuzz_targets/`.
//!
//! Every target feeds the input to one decoder at every version its schema
//! defines. Decoding must never panic; and when the input decodes
//! completely, the value must re-encode at that version and the new bytes
//! must decode to the same value (the canonical encoding is a fixed point).

use std::fmt::Debug;

use kafka_producer::protocol::codec::{DecodeError, EncodeError, Reader};
use kafka_producer::protocol::messages::Response;

/// Decodes `data` completely at `version`, `None` if it does not.
pub fn decode_all<'a, T>(
    data: &'a [u8],
    version: i16,
    decode: impl FnOnce(&mut Reader<'a>, i16) -> Result<T, DecodeError>,
) -> Option<T> {
    let mut r = Reader::new(data);
    let value = decode(&mut r, version).ok()?;
    (r.remaining() == 0).then_some(value)
}

/// Checks the fixed point for one owned message type.
pub fn fixed_point<T: PartialEq + Debug>(
    data: &[u8],
    version: i16,
    decode: impl for<'a> Fn(&mut Reader<'a>, i16) -> Result<T, DecodeError>,
    encode: impl Fn(&T, &mut Vec<u8>, i16) -> Result<(), EncodeError>,
) {
    let Some(value) = decode_all(data, version, &decode) else {
        return;
    };
    let mut out = Vec::new();
    if let Err(e) = encode(&value, &mut out, version) {
        panic!("a value decoded at v{version} does not re-encode: {e}: {value:?}");
    }
    let again = decode_all(&out, version, &decode)
        .unwrap_or_else(|| panic!("re-encoded v{version} bytes do not decode: {value:?}"));
    assert_eq!(again, value, "v{version}");
}

/// Runs [`fixed_point`] for a response type at every version of its schema.
pub fn response<R: Response + PartialEq + Debug>(data: &[u8]) {
    for version in R::VERSIONS.min..=R::VERSIONS.max {
        fixed_point(data, version, |r, v| R::decode(r, v), R::encode);
    }
}
