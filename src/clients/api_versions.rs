//! The API versions each node advertised and the version this client uses
//! with it (Java `NodeApiVersions` and `ApiVersions`).
//!
//! A [`NodeApiVersions`] is built from a node's `ApiVersionsResponse`; its
//! [`NodeApiVersions::latest_usable_version`] is the highest version both
//! sides speak ([`negotiate_version`]), or an error naming the API and both
//! ranges. [`ApiVersions`] keeps one per node.
//!
//! Java's `ApiVersions` also tracks the highest record-batch magic every
//! node accepts, for the accumulator. This client only speaks Produce v3 and
//! later, which all take magic 2 batches, and refuses a node that cannot do
//! Produce v3, so that value is the constant [`ApiVersions::MAX_USABLE_PRODUCE_MAGIC`].

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use crate::protocol::api_key::{negotiate_version, ApiKey, UnsupportedVersion, VersionRange};
use crate::protocol::messages::api_versions::ApiVersionsResponse;

/// The "no versions" range (displayed as `none`) used for an API this client
/// does not speak.
const NO_VERSIONS: VersionRange = VersionRange::new(1, 0);

/// The version ranges one node advertised, per API.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct NodeApiVersions {
    /// Ordered by key for stable logs.
    ranges: BTreeMap<ApiKey, VersionRange>,
}

impl NodeApiVersions {
    /// The ranges in a node's ApiVersions response (its error code is the
    /// caller's business).
    pub(crate) fn from_response(response: &ApiVersionsResponse) -> Self {
        Self::from_ranges(
            response
                .api_keys
                .iter()
                .map(|k| (k.api_key, VersionRange::new(k.min_version, k.max_version))),
        )
    }

    /// The given ranges (a key listed twice keeps its last range).
    pub(crate) fn from_ranges(ranges: impl IntoIterator<Item = (ApiKey, VersionRange)>) -> Self {
        NodeApiVersions {
            ranges: ranges.into_iter().collect(),
        }
    }

    /// The range the node advertised for `api`, `None` if it did not list it.
    pub(crate) fn version_range(&self, api: ApiKey) -> Option<VersionRange> {
        self.ranges.get(&api).copied()
    }

    /// The highest version of `api` that this client and the node both
    /// speak, or an error naming the API and both ranges.
    pub(crate) fn latest_usable_version(&self, api: ApiKey) -> Result<i16, UnsupportedVersion> {
        let ours = api.client_versions().unwrap_or(NO_VERSIONS);
        self.latest_usable_version_in(api, ours)
    }

    /// The highest version of `api` within `ours` that the node speaks
    /// (Java's `latestUsableVersion(apiKey, oldest, latest)`, for a caller
    /// that needs a narrower range than the client's).
    pub(crate) fn latest_usable_version_in(
        &self,
        api: ApiKey,
        ours: VersionRange,
    ) -> Result<i16, UnsupportedVersion> {
        negotiate_version(api, ours, self.version_range(api))
    }
}

impl fmt::Display for NodeApiVersions {
    /// Java's log form: `(Produce(0): 0 to 11 [usable: 11], ...)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(")?;
        for (i, (api, range)) in self.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(
                f,
                "{}({}): {} to {}",
                api.name(),
                api.0,
                range.min,
                range.max
            )?;
            match self.latest_usable_version(*api) {
                Ok(v) => write!(f, " [usable: {v}]")?,
                Err(_) if api.client_versions().is_some() => f.write_str(" [unusable]")?,
                Err(_) => {}
            }
        }
        f.write_str(")")
    }
}

/// The negotiated versions of every node the client has talked to.
#[derive(Debug, Default)]
pub(crate) struct ApiVersions {
    nodes: HashMap<i32, NodeApiVersions>,
}

impl ApiVersions {
    /// The record batch magic every Produce request of this client uses.
    pub(crate) const MAX_USABLE_PRODUCE_MAGIC: i8 = 2;

    /// Empty.
    pub(crate) fn new() -> Self {
        ApiVersions::default()
    }

    /// Stores what `node` advertised (replacing what it said before).
    pub(crate) fn update(&mut self, node: i32, versions: NodeApiVersions) {
        self.nodes.insert(node, versions);
    }

    /// Forgets `node` (its connection is gone; it answers again on the next).
    pub(crate) fn remove(&mut self, node: i32) {
        self.nodes.remove(&node);
    }

    /// What `node` advertised, if known.
    pub(crate) fn get(&self, node: i32) -> Option<&NodeApiVersions> {
        self.nodes.get(&node)
    }

    /// The highest record batch magic usable with every node: always 2 (see
    /// the module docs).
    pub(crate) fn max_usable_produce_magic(&self) -> i8 {
        Self::MAX_USABLE_PRODUCE_MAGIC
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::api_versions::ApiVersion;

    fn broker(ranges: &[(ApiKey, i16, i16)]) -> NodeApiVersions {
        NodeApiVersions::from_ranges(
            ranges
                .iter()
                .map(|&(k, min, max)| (k, VersionRange::new(min, max))),
        )
    }

    #[test]
    fn from_a_response() {
        let response = ApiVersionsResponse {
            api_keys: vec![
                ApiVersion {
                    api_key: ApiKey::PRODUCE,
                    min_version: 0,
                    max_version: 11,
                },
                ApiVersion {
                    api_key: ApiKey::METADATA,
                    min_version: 0,
                    max_version: 12,
                },
            ],
            ..Default::default()
        };
        let v = NodeApiVersions::from_response(&response);
        assert_eq!(
            v.version_range(ApiKey::PRODUCE),
            Some(VersionRange::new(0, 11))
        );
        assert_eq!(v.version_range(ApiKey::INIT_PRODUCER_ID), None);
        assert_eq!(v.latest_usable_version(ApiKey::PRODUCE), Ok(11));
        assert_eq!(v.latest_usable_version(ApiKey::METADATA), Ok(12));
    }

    #[test]
    fn the_highest_common_version_is_used() {
        let v = broker(&[(ApiKey::PRODUCE, 3, 20), (ApiKey::API_VERSIONS, 0, 3)]);
        assert_eq!(v.latest_usable_version(ApiKey::PRODUCE), Ok(13));
        assert_eq!(v.latest_usable_version(ApiKey::API_VERSIONS), Ok(3));
        assert_eq!(
            v.latest_usable_version_in(ApiKey::PRODUCE, VersionRange::new(3, 8)),
            Ok(8)
        );
    }

    #[test]
    fn no_common_version_names_the_api_and_both_ranges() {
        let v = broker(&[(ApiKey::PRODUCE, 0, 2)]);
        let e = v.latest_usable_version(ApiKey::PRODUCE).unwrap_err();
        assert_eq!(e.theirs, Some(VersionRange::new(0, 2)));
        let msg = crate::Error::from(e).to_string();
        assert!(
            msg.contains("Produce (key 0)") && msg.contains("0-2") && msg.contains("3-13"),
            "{msg}"
        );
        let e = v
            .latest_usable_version(ApiKey::INIT_PRODUCER_ID)
            .unwrap_err();
        assert_eq!(e.theirs, None);
        assert!(
            e.to_string().contains("does not support InitProducerId"),
            "{e}"
        );
        // An API this client does not speak has no usable version either.
        let v = broker(&[(ApiKey::END_TXN, 0, 4)]);
        let e = v.latest_usable_version(ApiKey::END_TXN).unwrap_err();
        assert!(e.to_string().contains("none"), "{e}");
    }

    #[test]
    fn display_lists_ranges_and_usable_versions() {
        let v = broker(&[
            (ApiKey::METADATA, 0, 12),
            (ApiKey::PRODUCE, 0, 2),
            (ApiKey::END_TXN, 0, 4),
        ]);
        assert_eq!(
            v.to_string(),
            "(Produce(0): 0 to 2 [unusable], Metadata(3): 0 to 12 [usable: 12], EndTxn(26): 0 to 4)"
        );
    }

    #[test]
    fn per_node_store() {
        let mut all = ApiVersions::new();
        assert!(all.get(1).is_none());
        all.update(1, broker(&[(ApiKey::PRODUCE, 0, 9)]));
        all.update(2, broker(&[(ApiKey::PRODUCE, 0, 11)]));
        assert_eq!(
            all.get(1).unwrap().latest_usable_version(ApiKey::PRODUCE),
            Ok(9)
        );
        all.update(1, broker(&[(ApiKey::PRODUCE, 0, 10)]));
        assert_eq!(
            all.get(1).unwrap().latest_usable_version(ApiKey::PRODUCE),
            Ok(10)
        );
        all.remove(1);
        assert!(all.get(1).is_none() && all.get(2).is_some());
        assert_eq!(all.max_usable_produce_magic(), 2);
    }
}
