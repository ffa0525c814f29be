//! Request and response headers, and whole frames.
//!
//! ```text
//! request frame:  size:int32 | api_key:int16 api_version:int16 correlation_id:int32
//!                              client_id:int16-length nullable string
//!                              [v2: tagged fields]                 | body
//! response frame: size:int32 | correlation_id:int32 [v1: tagged fields] | body
//! ```
//!
//! The header version follows from the API and its version
//! ([`request_header_version`], [`response_header_version`]). In request
//! header v2 the client id keeps its int16 length (its schema field is not
//! flexible), so an old broker can still read the header of a new request.
//!
//! [`encode_request`] / [`encode_response`] write a whole frame: they reserve
//! the size prefix, write header and body, and patch the size once.
//! [`decode_response`] reads a frame whose size prefix was already consumed
//! by the network layer.

use super::api_key::{request_header_version, response_header_version, ApiKey};
use super::codec::{DecodeError, DecodeErrorKind, EncodeError, Reader, Writer};
use super::messages::{Request, Response};

type DResult<T> = Result<T, DecodeError>;

/// The header of every request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHeader {
    /// The API of the request.
    pub api_key: ApiKey,
    /// The version of the request body.
    pub api_version: i16,
    /// Echoed by the broker in the response header.
    pub correlation_id: i32,
    /// The client id (`client.id`), `None` for a null string.
    pub client_id: Option<String>,
}

impl RequestHeader {
    /// The header version this request uses (1 or 2).
    #[must_use]
    pub fn header_version(&self) -> i16 {
        request_header_version(self.api_key, self.api_version)
    }

    /// Appends the header at `header_version` (1 or 2).
    pub fn encode(&self, out: &mut Vec<u8>, header_version: i16) -> Result<(), EncodeError> {
        write_request_header(
            out,
            self.api_key,
            self.api_version,
            self.correlation_id,
            self.client_id.as_deref(),
            header_version,
        )
    }

    /// Reads a header, choosing its version from the API key and version it
    /// starts with (the way a broker reads requests).
    pub fn decode(r: &mut Reader<'_>) -> DResult<Self> {
        let mut peek = r.clone();
        let api_key = ApiKey(peek.i16("RequestHeader.request_api_key")?);
        let api_version = peek.i16("RequestHeader.request_api_version")?;
        Self::decode_version(r, request_header_version(api_key, api_version))
    }

    /// Reads a header at `header_version` (1 or 2).
    pub fn decode_version(r: &mut Reader<'_>, header_version: i16) -> DResult<Self> {
        if !(1..=2).contains(&header_version) {
            return Err(DecodeError::new(
                "RequestHeader.version",
                DecodeErrorKind::InvalidValue,
            ));
        }
        let header = RequestHeader {
            api_key: ApiKey(r.i16("RequestHeader.request_api_key")?),
            api_version: r.i16("RequestHeader.request_api_version")?,
            correlation_id: r.i32("RequestHeader.correlation_id")?,
            client_id: r.nullable_string("RequestHeader.client_id")?,
        };
        if header_version >= 2 {
            r.skip_tagged_fields("RequestHeader.tagged_fields")?;
        }
        Ok(header)
    }
}

/// Appends a request header from its parts, without needing an owned
/// [`RequestHeader`] (the sender keeps its client id as it likes).
pub fn write_request_header(
    out: &mut Vec<u8>,
    api_key: ApiKey,
    api_version: i16,
    correlation_id: i32,
    client_id: Option<&str>,
    header_version: i16,
) -> Result<(), EncodeError> {
    if !(1..=2).contains(&header_version) {
        return Err(EncodeError::new(
            "RequestHeader",
            format!("header version {header_version} is not 1 or 2"),
        ));
    }
    out.put_i16(api_key.0);
    out.put_i16(api_version);
    out.put_i32(correlation_id);
    // Classic int16 length even in v2: the field is not flexible.
    out.put_nullable_string(client_id, "RequestHeader.client_id")?;
    if header_version >= 2 {
        out.put_empty_tagged_fields();
    }
    Ok(())
}

/// The header of every response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseHeader {
    /// The correlation id of the request this answers.
    pub correlation_id: i32,
}

impl ResponseHeader {
    /// Reads the header at `header_version` (0, or 1 with a tagged-field
    /// section).
    pub fn decode(r: &mut Reader<'_>, header_version: i16) -> DResult<Self> {
        if !(0..=1).contains(&header_version) {
            return Err(DecodeError::new(
                "ResponseHeader.version",
                DecodeErrorKind::InvalidValue,
            ));
        }
        let header = ResponseHeader {
            correlation_id: r.i32("ResponseHeader.correlation_id")?,
        };
        if header_version >= 1 {
            r.skip_tagged_fields("ResponseHeader.tagged_fields")?;
        }
        Ok(header)
    }

    /// Appends the header at `header_version` (0 or 1).
    pub fn encode(&self, out: &mut Vec<u8>, header_version: i16) -> Result<(), EncodeError> {
        if !(0..=1).contains(&header_version) {
            return Err(EncodeError::new(
                "ResponseHeader",
                format!("header version {header_version} is not 0 or 1"),
            ));
        }
        out.put_i32(self.correlation_id);
        if header_version >= 1 {
            out.put_empty_tagged_fields();
        }
        Ok(())
    }
}

/// Appends one size-prefixed frame: reserves the int32 size, lets `contents`
/// write the header and body, then patches the size. On error `out` is left
/// as it was.
pub fn encode_frame(
    out: &mut Vec<u8>,
    contents: impl FnOnce(&mut Vec<u8>) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    let start = out.len();
    let size_pos = out.reserve_i32();
    let result = contents(out).and_then(|()| {
        let size = out.len() - size_pos - 4;
        i32::try_from(size)
            .map_err(|_| EncodeError::new("frame", format!("frame of {size} bytes exceeds 2 GiB")))
    });
    match result {
        Ok(size) => {
            out.patch_i32(size_pos, size);
            Ok(())
        }
        Err(e) => {
            out.truncate(start);
            Err(e)
        }
    }
}

/// Appends a whole request frame (size, header, body) for `request` at
/// `header.api_version`; the header version follows from the API version.
pub fn encode_request<R: Request + ?Sized>(
    out: &mut Vec<u8>,
    header: &RequestHeader,
    request: &R,
) -> Result<(), EncodeError> {
    if header.api_key != R::API_KEY {
        return Err(EncodeError::new(
            "RequestHeader.api_key",
            format!(
                "header names {} but the body is {}",
                header.api_key,
                R::API_KEY
            ),
        ));
    }
    encode_frame(out, |out| {
        header.encode(out, header.header_version())?;
        request.encode(out, header.api_version)
    })
}

/// Appends a whole response frame (size, header, body) for `response` at
/// `version` (the embedded mock broker).
pub fn encode_response<R: Response>(
    out: &mut Vec<u8>,
    correlation_id: i32,
    version: i16,
    response: &R,
) -> Result<(), EncodeError> {
    encode_frame(out, |out| {
        ResponseHeader { correlation_id }
            .encode(out, response_header_version(R::API_KEY, version))?;
        response.encode(out, version)
    })
}

/// Reads a response frame *without* its size prefix: the header at the
/// version that goes with `R` at `version`, then the body, which must end
/// exactly at the end of `frame`.
pub fn decode_response<R: Response>(frame: &[u8], version: i16) -> DResult<(ResponseHeader, R)> {
    let mut r = Reader::new(frame);
    let header = ResponseHeader::decode(&mut r, response_header_version(R::API_KEY, version))?;
    let body = R::decode(&mut r, version)?;
    r.finish(response_end_field(R::API_KEY))?;
    Ok((header, body))
}

/// The field named when bytes follow a response body.
fn response_end_field(api: ApiKey) -> &'static str {
    match api {
        ApiKey::PRODUCE => "ProduceResponse",
        ApiKey::METADATA => "MetadataResponse",
        ApiKey::API_VERSIONS => "ApiVersionsResponse",
        ApiKey::INIT_PRODUCER_ID => "InitProducerIdResponse",
        _ => "response",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::init_producer_id::InitProducerIdRequest;

    fn header(version: i16, client_id: Option<&str>) -> RequestHeader {
        RequestHeader {
            api_key: ApiKey::METADATA,
            api_version: version,
            correlation_id: 7,
            client_id: client_id.map(str::to_owned),
        }
    }

    #[test]
    fn client_id_keeps_its_int16_length_in_v2() {
        let mut out = Vec::new();
        header(12, Some("ab")).encode(&mut out, 2).unwrap();
        assert_eq!(out, [0, 3, 0, 12, 0, 0, 0, 7, 0, 2, b'a', b'b', 0]);
        let back = RequestHeader::decode(&mut Reader::new(&out)).unwrap();
        assert_eq!(back, header(12, Some("ab")));

        let mut out = Vec::new();
        header(4, None).encode(&mut out, 1).unwrap();
        assert_eq!(out, [0, 3, 0, 4, 0, 0, 0, 7, 0xff, 0xff]);
        let mut r = Reader::new(&out);
        assert_eq!(RequestHeader::decode(&mut r).unwrap(), header(4, None));
        assert_eq!(r.remaining(), 0);
    }

    #[test]
    fn response_header_v1_has_a_tag_section() {
        let mut out = Vec::new();
        ResponseHeader { correlation_id: 7 }
            .encode(&mut out, 1)
            .unwrap();
        assert_eq!(out, [0, 0, 0, 7, 0]);
        let mut r = Reader::new(&out);
        assert_eq!(ResponseHeader::decode(&mut r, 1).unwrap().correlation_id, 7);
        assert_eq!(r.remaining(), 0);
        assert!(ResponseHeader::decode(&mut Reader::new(&out[..4]), 1).is_err());
    }

    #[test]
    fn frame_size_is_patched_and_errors_leave_the_buffer_alone() {
        let mut out = vec![0xee];
        let req = InitProducerIdRequest {
            transaction_timeout_ms: 60_000,
            ..Default::default()
        };
        let h = RequestHeader {
            api_key: ApiKey::INIT_PRODUCER_ID,
            api_version: 0,
            correlation_id: 1,
            client_id: None,
        };
        encode_request(&mut out, &h, &req).unwrap();
        let size = i32::from_be_bytes([out[1], out[2], out[3], out[4]]);
        assert_eq!(size as usize, out.len() - 5);

        let before = out.clone();
        let bad = InitProducerIdRequest {
            producer_id: 5,
            ..Default::default()
        };
        assert!(encode_request(&mut out, &h, &bad).is_err());
        assert_eq!(out, before);

        let wrong_api = RequestHeader {
            api_key: ApiKey::PRODUCE,
            ..h
        };
        let e = encode_request(&mut out, &wrong_api, &req).unwrap_err();
        assert_eq!(e.field, "RequestHeader.api_key");
    }
}
