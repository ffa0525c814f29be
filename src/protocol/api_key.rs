//! API keys, version ranges and version negotiation.
//!
//! * [`ApiKey`]: the int16 that names a request type on the wire, a newtype so
//!   a key this crate does not know (from a newer broker's ApiVersions list)
//!   survives;
//! * [`VersionRange`]: an inclusive `min..=max` range of API versions;
//! * the flexible-from version of each API ([`ApiKey::flexible_from`]) and the
//!   header versions that follow from it ([`request_header_version`],
//!   [`response_header_version`]);
//! * the versions this client speaks ([`ApiKey::client_versions`]) and
//!   [`negotiate_version`], the Java `NodeApiVersions.latestUsableVersion`
//!   rule, whose error ([`UnsupportedVersion`]) names the API and both ranges.
//!
//! The tables follow the Kafka 4.3 message schemas (`*.json`): they are the
//! single place where a version number of this crate is decided.

use std::fmt;

/// A Kafka API key (the first field of every request header).
///
/// A newtype rather than an enum so that keys unknown to this crate, listed
/// by a newer broker, are kept as they are.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ApiKey(pub i16);

impl ApiKey {
    /// Produce (0).
    pub const PRODUCE: ApiKey = ApiKey(0);
    /// Metadata (3).
    pub const METADATA: ApiKey = ApiKey(3);
    /// FindCoordinator (10).
    pub const FIND_COORDINATOR: ApiKey = ApiKey(10);
    /// SaslHandshake (17).
    pub const SASL_HANDSHAKE: ApiKey = ApiKey(17);
    /// ApiVersions (18).
    pub const API_VERSIONS: ApiKey = ApiKey(18);
    /// InitProducerId (22).
    pub const INIT_PRODUCER_ID: ApiKey = ApiKey(22);
    /// AddPartitionsToTxn (24).
    pub const ADD_PARTITIONS_TO_TXN: ApiKey = ApiKey(24);
    /// AddOffsetsToTxn (25).
    pub const ADD_OFFSETS_TO_TXN: ApiKey = ApiKey(25);
    /// EndTxn (26).
    pub const END_TXN: ApiKey = ApiKey(26);
    /// TxnOffsetCommit (28).
    pub const TXN_OFFSET_COMMIT: ApiKey = ApiKey(28);
    /// SaslAuthenticate (36).
    pub const SASL_AUTHENTICATE: ApiKey = ApiKey(36);

    /// The API's name as Kafka spells it (`"Produce"`), or `"Unknown"` for a
    /// key this crate does not know.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self.0 {
            0 => "Produce",
            3 => "Metadata",
            10 => "FindCoordinator",
            17 => "SaslHandshake",
            18 => "ApiVersions",
            22 => "InitProducerId",
            24 => "AddPartitionsToTxn",
            25 => "AddOffsetsToTxn",
            26 => "EndTxn",
            28 => "TxnOffsetCommit",
            36 => "SaslAuthenticate",
            _ => "Unknown",
        }
    }

    /// The first version of this API that uses the flexible encoding (compact
    /// strings and arrays, tagged fields), or `None` if no version does
    /// (SaslHandshake) or the key is unknown.
    ///
    /// These never change once an API becomes flexible (Kafka 4.3 schemas).
    #[must_use]
    pub const fn flexible_from(self) -> Option<i16> {
        match self.0 {
            0 | 3 => Some(9),                       // Produce, Metadata
            10 | 18 | 24 | 25 | 26 | 28 => Some(3), // FindCoordinator, ApiVersions, txn APIs
            22 | 36 => Some(2),                     // InitProducerId, SaslAuthenticate
            _ => None,                              // SaslHandshake, unknown keys
        }
    }

    /// Whether `version` of this API uses the flexible encoding.
    #[must_use]
    pub const fn is_flexible(self, version: i16) -> bool {
        match self.flexible_from() {
            Some(v) => version >= v,
            None => false,
        }
    }

    /// The versions of this API that this client speaks, or `None` for an
    /// API it does not use (yet).
    #[must_use]
    pub const fn client_versions(self) -> Option<VersionRange> {
        match self.0 {
            0 => Some(VersionRange::new(3, 13)), // Produce
            3 => Some(VersionRange::new(4, 13)), // Metadata
            18 => Some(VersionRange::new(0, 4)), // ApiVersions
            22 => Some(VersionRange::new(0, 6)), // InitProducerId
            _ => None,
        }
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name(), self.0)
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.name() == "Unknown" {
            write!(f, "unknown API (key {})", self.0)
        } else {
            write!(f, "{} (key {})", self.name(), self.0)
        }
    }
}

/// The request header version for `version` of `api`: v2 for flexible API
/// versions, v1 otherwise (v0 is gone in Kafka 4).
#[must_use]
pub const fn request_header_version(api: ApiKey, version: i16) -> i16 {
    if api.is_flexible(version) {
        2
    } else {
        1
    }
}

/// The response header version for `version` of `api`: v1 for flexible API
/// versions, v0 otherwise. ApiVersions responses always use v0 (KIP-511), so
/// that a client can read the broker's answer to a version it does not know.
#[must_use]
pub const fn response_header_version(api: ApiKey, version: i16) -> i16 {
    if api.0 != ApiKey::API_VERSIONS.0 && api.is_flexible(version) {
        1
    } else {
        0
    }
}

/// An inclusive range of API versions, `min..=max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VersionRange {
    /// The lowest version, inclusive.
    pub min: i16,
    /// The highest version, inclusive.
    pub max: i16,
}

impl VersionRange {
    /// The range `min..=max`.
    #[must_use]
    pub const fn new(min: i16, max: i16) -> Self {
        VersionRange { min, max }
    }

    /// Whether `version` lies in the range.
    #[must_use]
    pub const fn contains(self, version: i16) -> bool {
        self.min <= version && version <= self.max
    }
}

impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.min > self.max {
            f.write_str("none")
        } else if self.min == self.max {
            write!(f, "{}", self.min)
        } else {
            write!(f, "{}-{}", self.min, self.max)
        }
    }
}

/// No version of an API is spoken by both this client and a broker.
///
/// Turned into [`crate::Error::Unsupported`] with a message naming the API and
/// both ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnsupportedVersion {
    /// The API.
    pub api: ApiKey,
    /// The versions this client speaks.
    pub ours: VersionRange,
    /// The versions the broker advertised, `None` if it does not list the
    /// API at all.
    pub theirs: Option<VersionRange>,
}

impl fmt::Display for UnsupportedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.theirs {
            Some(theirs) => write!(
                f,
                "no common version of {}: the broker supports versions {theirs}, this client \
                 speaks versions {}",
                self.api, self.ours
            ),
            None => write!(
                f,
                "the broker does not support {} (this client speaks versions {})",
                self.api, self.ours
            ),
        }
    }
}

impl std::error::Error for UnsupportedVersion {}

impl From<UnsupportedVersion> for crate::Error {
    fn from(e: UnsupportedVersion) -> Self {
        crate::Error::Unsupported(e.to_string())
    }
}

/// The highest version of `api` in both `ours` and `theirs` (the broker's
/// advertised range, `None` if it does not list the API), or an error naming
/// the API and both ranges.
///
/// This is the Java `NodeApiVersions.latestUsableVersion` rule:
/// `max(our min, their min) <= v <= min(our max, their max)`, highest `v`.
pub fn negotiate_version(
    api: ApiKey,
    ours: VersionRange,
    theirs: Option<VersionRange>,
) -> Result<i16, UnsupportedVersion> {
    let error = UnsupportedVersion { api, ours, theirs };
    let theirs = theirs.ok_or(error)?;
    let low = ours.min.max(theirs.min);
    let high = ours.max.min(theirs.max);
    if low <= high {
        Ok(high)
    } else {
        Err(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_display() {
        assert_eq!(ApiKey::PRODUCE.name(), "Produce");
        assert_eq!(ApiKey::SASL_AUTHENTICATE.name(), "SaslAuthenticate");
        assert_eq!(format!("{:?}", ApiKey::METADATA), "Metadata(3)");
        assert_eq!(
            ApiKey::INIT_PRODUCER_ID.to_string(),
            "InitProducerId (key 22)"
        );
        assert_eq!(ApiKey(999).to_string(), "unknown API (key 999)");
    }

    #[test]
    fn header_versions_follow_flexible_versions() {
        assert_eq!(request_header_version(ApiKey::PRODUCE, 8), 1);
        assert_eq!(request_header_version(ApiKey::PRODUCE, 9), 2);
        assert_eq!(response_header_version(ApiKey::PRODUCE, 8), 0);
        assert_eq!(response_header_version(ApiKey::PRODUCE, 9), 1);
        assert_eq!(request_header_version(ApiKey::INIT_PRODUCER_ID, 2), 2);
        assert_eq!(request_header_version(ApiKey::API_VERSIONS, 3), 2);
        // KIP-511: ApiVersions responses keep header v0.
        assert_eq!(response_header_version(ApiKey::API_VERSIONS, 4), 0);
        assert_eq!(request_header_version(ApiKey::SASL_HANDSHAKE, 1), 1);
        assert_eq!(response_header_version(ApiKey::SASL_HANDSHAKE, 1), 0);
        assert_eq!(request_header_version(ApiKey::SASL_AUTHENTICATE, 2), 2);
        assert_eq!(request_header_version(ApiKey(999), 50), 1);
    }

    #[test]
    fn negotiation_picks_the_highest_common_version() {
        let ours = VersionRange::new(3, 13);
        assert_eq!(
            negotiate_version(ApiKey::PRODUCE, ours, Some(VersionRange::new(0, 11))),
            Ok(11)
        );
        assert_eq!(
            negotiate_version(ApiKey::PRODUCE, ours, Some(VersionRange::new(5, 20))),
            Ok(13)
        );
        assert_eq!(
            negotiate_version(ApiKey::PRODUCE, ours, Some(VersionRange::new(3, 3))),
            Ok(3)
        );
    }

    #[test]
    fn negotiation_failure_names_the_api_and_both_ranges() {
        let ours = VersionRange::new(3, 13);
        let e =
            negotiate_version(ApiKey::PRODUCE, ours, Some(VersionRange::new(0, 2))).unwrap_err();
        let msg = crate::Error::from(e).to_string();
        assert!(
            msg.contains("Produce (key 0)") && msg.contains("0-2") && msg.contains("3-13"),
            "{msg}"
        );
        let e =
            negotiate_version(ApiKey::INIT_PRODUCER_ID, VersionRange::new(0, 6), None).unwrap_err();
        assert_eq!(e.theirs, None);
        assert!(
            e.to_string().contains("does not support InitProducerId"),
            "{e}"
        );
    }

    #[test]
    fn client_ranges() {
        assert_eq!(
            ApiKey::METADATA.client_versions(),
            Some(VersionRange::new(4, 13))
        );
        assert_eq!(ApiKey::END_TXN.client_versions(), None);
        assert!(VersionRange::new(4, 13).contains(4));
        assert!(!VersionRange::new(4, 13).contains(14));
        assert_eq!(VersionRange::new(2, 2).to_string(), "2");
    }
}
