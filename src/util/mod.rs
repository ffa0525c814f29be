//! Small utilities: the injected [`clock`], Kafka's [`murmur2`] hash and
//! CRC-32C ([`crc`]).

pub mod clock;
pub mod crc;
pub mod murmur2;
