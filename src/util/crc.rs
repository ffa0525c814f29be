//! CRC-32C (Castagnoli), as record batches v2 use it.
//!
//! A thin wrapper over the `crc32c` crate, which uses the SSE 4.2 / ARMv8
//! CRC instructions when the CPU has them.

/// CRC-32C of `bytes` (reflected polynomial 0x82f63b78, init and xor-out
/// 0xffffffff): Java's `Crc32C.compute`.
#[must_use]
pub fn crc32c(bytes: &[u8]) -> u32 {
    crc32c::crc32c(bytes)
}

#[cfg(test)]
mod tests {
    #[test]
    fn check_value() {
        assert_eq!(super::crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(super::crc32c(b""), 0);
    }
}
