//! Small utilities: the injected [`clock`], Kafka's [`murmur2`] hash,
//! CRC-32C ([`crc`]) and (crate-private) Java's exponential backoff with
//! jitter (`backoff`).

pub(crate) mod backoff;
pub mod clock;
pub mod crc;
pub mod murmur2;
