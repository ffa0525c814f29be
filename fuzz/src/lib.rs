//! Helpers shared by the fuzz targets in `fuzz_targets/`.
//!
//! Every protocol target feeds the input to one decoder at every version its
//! schema defines (the `decompress_*` targets feed one codec instead, see
//! [`decompress`]). Decoding must never panic; and when the input decodes
//! completely, the value must re-encode at that version and the new bytes
//! must decode to the same value (the canonical encoding is a fixed point).

use std::fmt::Debug;

use kafka_producer::protocol::codec::{DecodeError, EncodeError, Reader};
use kafka_producer::protocol::messages::Response;
use kafka_producer::record::compression;
use kafka_producer::record::CompressionType;

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

/// Decompresses `data` with `kind` under two bounds, a generous one and a
/// tight one taken from the input's length: it must not panic, never yield
/// more than the bound, and give the same bytes under both when both succeed.
pub fn decompress(kind: CompressionType, data: &[u8]) {
    const GENEROUS: usize = 256 * 1024;
    let tight = data.len() * 2;
    let wide = compression::decompress(kind, data, GENEROUS);
    if let Ok(out) = &wide {
        assert!(out.len() <= GENEROUS);
    }
    let narrow = compression::decompress(kind, data, tight);
    if let Ok(out) = &narrow {
        assert!(out.len() <= tight);
        assert_eq!(wide.as_ref().ok(), Some(out), "{kind}: same output under both bounds");
    }
}
