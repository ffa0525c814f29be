//! The Kafka wire protocol (the Java `org.apache.kafka.common.protocol`,
//! `requests` and `message` packages), sans-IO.
//!
//! * [`codec`]: primitives, varints, classic and compact encodings, tagged
//!   fields;
//! * [`error_code`]: the generated table of Kafka 4.3.0 error codes;
//! * [`api_key`]: API keys, the versions this client speaks, header
//!   versions and the version-negotiation helper;
//! * [`header`]: request and response headers, and whole size-prefixed
//!   frames ([`header::encode_request`], [`header::decode_response`]);
//! * [`messages`]: one module per API the producer speaks (ApiVersions,
//!   Metadata, Produce, InitProducerId), every field of the Kafka 4.3
//!   schemas, encode and decode in both directions.
//!
//! Nothing here touches a socket, a thread, a lock or a clock: messages
//! encode into a `Vec<u8>` and decode from a byte slice, so every decoder can
//! be fuzzed and every encoder checked against the Java client's bytes.

pub mod api_key;
pub mod codec;
pub mod error_code;
pub mod header;
pub mod messages;

pub use api_key::{ApiKey, VersionRange};
pub use error_code::ErrorCode;
