//! ApiVersions (key 18), versions 0-4, flexible from 3: the first request on
//! every connection, answered with the broker's version range per API and
//! (v3+, tagged) its supported and finalized features.
//!
//! The response header is always v0 (KIP-511), and a broker that does not
//! know the requested version answers in the v0 body layout with
//! `UNSUPPORTED_VERSION`: [`ApiVersionsResponse::decode`] falls back to v0 the
//! way the Java client does.

use super::{
    check_decode_version, check_encode_version, put_tagged_field, read_array, Request, Response,
};
use crate::protocol::api_key::{ApiKey, VersionRange};
use crate::protocol::codec::{DecodeError, EncodeError, Reader, Writer};
use crate::protocol::error_code::ErrorCode;

type DResult<T> = Result<T, DecodeError>;

const VERSIONS: VersionRange = VersionRange::new(0, 4);
const FLEXIBLE_FROM: i16 = 3;

/// ApiVersions request body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApiVersionsRequest {
    /// The client's name (v3+, ignorable), e.g. `"apache-kafka-java"`.
    pub client_software_name: String,
    /// The client's version (v3+, ignorable).
    pub client_software_version: String,
}

impl ApiVersionsRequest {
    /// The name this client sends in `client_software_name`. Brokers accept
    /// only `[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?` here.
    pub const CLIENT_SOFTWARE_NAME: &'static str = "kafka-producer-rs";

    /// The request this client sends: its software name and crate version.
    #[must_use]
    pub fn this_client() -> Self {
        ApiVersionsRequest {
            client_software_name: Self::CLIENT_SOFTWARE_NAME.to_owned(),
            client_software_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }

    /// Appends the body at `version`. Below v3 the body is empty.
    pub fn encode(&self, out: &mut Vec<u8>, version: i16) -> Result<(), EncodeError> {
        check_encode_version("ApiVersionsRequest", VERSIONS, version)?;
        if version >= 3 {
            out.put_compact_nullable_string(Some(&self.client_software_name));
            out.put_compact_nullable_string(Some(&self.client_software_version));
            out.put_empty_tagged_fields();
        }
        Ok(())
    }

    /// Reads the body at `version`.
    pub fn decode(r: &mut Reader<'_>, version: i16) -> DResult<Self> {
        check_decode_version("ApiVersionsRequest.version", VERSIONS, version)?;
        let mut out = ApiVersionsRequest::default();
        if version >= 3 {
            out.client_software_name =
                r.compact_string("ApiVersionsRequest.client_software_name")?;
            out.client_software_version =
                r.compact_string("ApiVersionsRequest.client_software_version")?;
            r.skip_tagged_fields("ApiVersionsRequest.tagged_fields")?;
        }
        Ok(out)
    }
}

impl Request for ApiVersionsRequest {
    const API_KEY: ApiKey = ApiKey::API_VERSIONS;
    const VERSIONS: VersionRange = VERSIONS;
    fn encode(&self, out: &mut Vec<u8>, version: i16) -> Result<(), EncodeError> {
        ApiVersionsRequest::encode(self, out, version)
    }
}

/// One API the broker supports, with its version range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ApiVersion {
    /// The API index.
    pub api_key: ApiKey,
    /// The minimum supported version, inclusive.
    pub min_version: i16,
    /// The maximum supported version, inclusive.
    pub max_version: i16,
}

/// A feature the broker supports (v3+, tagged field 0).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SupportedFeatureKey {
    /// The feature's name, e.g. `"transaction.version"`.
    pub name: String,
    /// The minimum supported version of the feature.
    pub min_version: i16,
    /// The maximum supported version of the feature.
    pub max_version: i16,
}

/// A cluster-wide finalized feature (v3+, tagged field 2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FinalizedFeatureKey {
    /// The feature's name.
    pub name: String,
    /// The cluster-wide finalized max version level.
    pub max_version_level: i16,
    /// The cluster-wide finalized min version level.
    pub min_version_level: i16,
}

/// ApiVersions response body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiVersionsResponse {
    /// The top-level error code.
    pub error_code: ErrorCode,
    /// The APIs the broker supports.
    pub api_keys: Vec<ApiVersion>,
    /// Throttle time in ms (v1+, ignorable; default 0).
    pub throttle_time_ms: i32,
    /// Features the broker supports (v3+, tagged 0, ignorable).
    pub supported_features: Vec<SupportedFeatureKey>,
    /// Epoch of the finalized features (v3+, tagged 1, ignorable; default -1).
    pub finalized_features_epoch: i64,
    /// Cluster-wide finalized features (v3+, tagged 2, ignorable).
    pub finalized_features: Vec<FinalizedFeatureKey>,
    /// Set by a KRaft controller ready for ZK migration (v3+, tagged 3,
    /// ignorable; default false).
    pub zk_migration_ready: bool,
}

impl Default for ApiVersionsResponse {
    fn default() -> Self {
        ApiVersionsResponse {
            error_code: ErrorCode::NONE,
            api_keys: Vec::new(),
            throttle_time_ms: 0,
            supported_features: Vec::new(),
            finalized_features_epoch: -1,
            finalized_features: Vec::new(),
            zk_migration_ready: false,
        }
    }
}

impl ApiVersionsResponse {
    /// The range the broker advertises for `api`, `None` if it does not list
    /// it (the input of [`crate::protocol::api_key::negotiate_version`]).
    #[must_use]
    pub fn version_range(&self, api: ApiKey) -> Option<VersionRange> {
        self.api_keys
            .iter()
            .find(|k| k.api_key == api)
            .map(|k| VersionRange::new(k.min_version, k.max_version))
    }

    /// Reads the body at `version`; if that fails and `version` > 0, reads it
    /// again at v0 from the same start.
    ///
    /// A broker that does not support the requested ApiVersions version
    /// answers in the v0 layout with `UNSUPPORTED_VERSION` and its own range
    /// in `api_keys`; the Java client reads that answer the same way
    /// (`ApiVersionsResponse.parse`). A fallback answer must end exactly at
    /// the end of the input.
    pub fn decode(r: &mut Reader<'_>, version: i16) -> DResult<Self> {
        let start = r.clone();
        match Self::decode_exact(r, version) {
            Ok(v) => Ok(v),
            Err(e) if version > 0 => {
                let mut again = start;
                match Self::decode_exact(&mut again, 0) {
                    Ok(v) if again.remaining() == 0 => {
                        *r = again;
                        Ok(v)
                    }
                    // The first error is the one that describes the input.
                    _ => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Reads the body at exactly `version`, without the v0 fallback.
    pub fn decode_exact(r: &mut Reader<'_>, version: i16) -> DResult<Self> {
        check_decode_version("ApiVersionsResponse.version", VERSIONS, version)?;
        let flexible = version >= FLEXIBLE_FROM;
        let mut out = ApiVersionsResponse {
            error_code: ErrorCode(r.i16("ApiVersionsResponse.error_code")?),
            ..Default::default()
        };
        let min = if flexible { 7 } else { 6 };
        out.api_keys = read_array(r, flexible, min, "ApiVersionsResponse.api_keys", |r| {
            let v = ApiVersion {
                api_key: ApiKey(r.i16("ApiVersionsResponse.api_keys.api_key")?),
                min_version: r.i16("ApiVersionsResponse.api_keys.min_version")?,
                max_version: r.i16("ApiVersionsResponse.api_keys.max_version")?,
            };
            if flexible {
                r.skip_tagged_fields("ApiVersionsResponse.api_keys.tagged_fields")?;
            }
            Ok(v)
        })?;
        if version >= 1 {
            out.throttle_time_ms = r.i32("ApiVersionsResponse.throttle_time_ms")?;
        }
        if flexible {
            r.tagged_fields("ApiVersionsResponse.tagged_fields", |tag, r| {
                match tag {
                    0 => out.supported_features = decode_supported_features(r)?,
                    1 => {
                        out.finalized_features_epoch =
                            r.i64("ApiVersionsResponse.finalized_features_epoch")?;
                    }
                    2 => out.finalized_features = decode_finalized_features(r)?,
                    3 => {
                        out.zk_migration_ready = r.bool("ApiVersionsResponse.zk_migration_ready")?
                    }
                    _ => return Ok(false),
                }
                Ok(true)
            })?;
        }
        Ok(out)
    }

    /// Appends the body at `version`.
    pub fn encode(&self, out: &mut Vec<u8>, version: i16) -> Result<(), EncodeError> {
        check_encode_version("ApiVersionsResponse", VERSIONS, version)?;
        let flexible = version >= FLEXIBLE_FROM;
        out.put_i16(self.error_code.0);
        out.put_array_len(Some(self.api_keys.len()), flexible);
        for k in &self.api_keys {
            out.put_i16(k.api_key.0);
            out.put_i16(k.min_version);
            out.put_i16(k.max_version);
            if flexible {
                out.put_empty_tagged_fields();
            }
        }
        if version >= 1 {
            out.put_i32(self.throttle_time_ms);
        }
        if !flexible {
            // Every field after this point is tagged and ignorable: dropped.
            return Ok(());
        }
        let tags = [
            !self.supported_features.is_empty(),
            self.finalized_features_epoch != -1,
            !self.finalized_features.is_empty(),
            self.zk_migration_ready,
        ];
        out.put_unsigned_varint(tags.iter().filter(|t| **t).count() as u32);
        if tags[0] {
            put_tagged_field(out, 0, |out| {
                out.put_array_len(Some(self.supported_features.len()), true);
                for f in &self.supported_features {
                    out.put_compact_nullable_string(Some(&f.name));
                    out.put_i16(f.min_version);
                    out.put_i16(f.max_version);
                    out.put_empty_tagged_fields();
                }
                Ok(())
            })?;
        }
        if tags[1] {
            put_tagged_field(out, 1, |out| {
                out.put_i64(self.finalized_features_epoch);
                Ok(())
            })?;
        }
        if tags[2] {
            put_tagged_field(out, 2, |out| {
                out.put_array_len(Some(self.finalized_features.len()), true);
                for f in &self.finalized_features {
                    out.put_compact_nullable_string(Some(&f.name));
                    out.put_i16(f.max_version_level);
                    out.put_i16(f.min_version_level);
                    out.put_empty_tagged_fields();
                }
                Ok(())
            })?;
        }
        if tags[3] {
            put_tagged_field(out, 3, |out| {
                out.put_bool(self.zk_migration_ready);
                Ok(())
            })?;
        }
        Ok(())
    }
}

/// A feature entry: compact name (≥1 byte), two int16s, a tag section.
const FEATURE_MIN_SIZE: usize = 1 + 2 + 2 + 1;

fn decode_supported_features(r: &mut Reader<'_>) -> DResult<Vec<SupportedFeatureKey>> {
    read_array(
        r,
        true,
        FEATURE_MIN_SIZE,
        "ApiVersionsResponse.supported_features",
        |r| {
            let f = SupportedFeatureKey {
                name: r.compact_string("ApiVersionsResponse.supported_features.name")?,
                min_version: r.i16("ApiVersionsResponse.supported_features.min_version")?,
                max_version: r.i16("ApiVersionsResponse.supported_features.max_version")?,
            };
            r.skip_tagged_fields("ApiVersionsResponse.supported_features.tagged_fields")?;
            Ok(f)
        },
    )
}

fn decode_finalized_features(r: &mut Reader<'_>) -> DResult<Vec<FinalizedFeatureKey>> {
    read_array(
        r,
        true,
        FEATURE_MIN_SIZE,
        "ApiVersionsResponse.finalized_features",
        |r| {
            let f = FinalizedFeatureKey {
                name: r.compact_string("ApiVersionsResponse.finalized_features.name")?,
                max_version_level: r
                    .i16("ApiVersionsResponse.finalized_features.max_version_level")?,
                min_version_level: r
                    .i16("ApiVersionsResponse.finalized_features.min_version_level")?,
            };
            r.skip_tagged_fields("ApiVersionsResponse.finalized_features.tagged_fields")?;
            Ok(f)
        },
    )
}

impl Response for ApiVersionsResponse {
    const API_KEY: ApiKey = ApiKey::API_VERSIONS;
    const VERSIONS: VersionRange = VERSIONS;
    fn decode(r: &mut Reader<'_>, version: i16) -> DResult<Self> {
        ApiVersionsResponse::decode(r, version)
    }
    fn encode(&self, out: &mut Vec<u8>, version: i16) -> Result<(), EncodeError> {
        ApiVersionsResponse::encode(self, out, version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The broker's pattern `[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?`.
    fn broker_accepts(s: &str) -> bool {
        let ok_end = |c: char| c.is_ascii_alphanumeric();
        let ok_mid = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.';
        s.starts_with(ok_end) && s.ends_with(ok_end) && s.chars().all(ok_mid)
    }

    #[test]
    fn this_client_sends_names_the_broker_accepts() {
        let req = ApiVersionsRequest::this_client();
        assert!(broker_accepts(&req.client_software_name));
        assert!(broker_accepts(&req.client_software_version));
        assert!(!broker_accepts("bad name"));
        let mut out = Vec::new();
        req.encode(&mut out, 2).unwrap();
        assert!(out.is_empty(), "v0-v2 bodies are empty");
    }
}
