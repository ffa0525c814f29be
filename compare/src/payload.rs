//! The records every runner sends, byte for byte the same in each client
//! (the Java runner builds them with the same generator).
//!
//! Values are random uppercase letters, what Kafka's perf tool sends. They
//! are windows of one pool built before the clock starts, so no client
//! spends its measured time on random numbers: record `i`'s value is the
//! `size` bytes at offset `(i * size) mod POOL_BYTES`. Codecs compress one
//! batch at a time, and with a 4 MiB pool the values in one batch (at most
//! 1 MiB here) do not repeat, so a codec finds about as much to squeeze as
//! in fresh random text (about 60 %: 26 letters in 8 bits).
//!
//! Keys are the strings `key-<i mod K>` (UTF-8 bytes), so Java's murmur2
//! partitioner sees the same bytes in every client.

/// Bytes of random text the values are cut from.
pub const POOL_BYTES: usize = 4 << 20;

/// SplitMix64 (Steele, Lea and Flood), seeded with 0: small, and easy to
/// repeat exactly in Java (unsigned arithmetic on `long`).
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// The generator at `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// The value pool and the key rule.
#[derive(Debug, Clone)]
pub struct Payloads {
    pool: Vec<u8>,
    size: usize,
    keyed: u64,
}

impl Payloads {
    /// The pool for values of `size` bytes; `keyed` distinct keys (0: none).
    #[must_use]
    pub fn new(size: usize, keyed: u64) -> Self {
        let mut random = SplitMix64::new(0);
        // `size` more than the pool so that a window never wraps.
        let pool = (0..POOL_BYTES + size)
            .map(|_| b'A' + (random.next_u64() % 26) as u8)
            .collect();
        Payloads { pool, size, keyed }
    }

    /// Record `i`'s value.
    #[must_use]
    pub fn value(&self, i: u64) -> &[u8] {
        // The product is reduced modulo 4 MiB, so it fits in usize.
        let offset = (u128::from(i) * self.size as u128 % POOL_BYTES as u128) as usize;
        &self.pool[offset..offset + self.size]
    }

    /// FNV-1a (64 bits) of the pool, in hex: every runner reports it, and
    /// the script checks that all clients sent the same values.
    #[must_use]
    pub fn digest(&self) -> String {
        let hash = self.pool.iter().fold(0xCBF2_9CE4_8422_2325_u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
        });
        format!("{hash:016x}")
    }

    /// Record `i`'s key, `None` when records are unkeyed.
    #[must_use]
    pub fn key(&self, i: u64) -> Option<Vec<u8>> {
        (self.keyed > 0).then(|| format!("key-{}", i % self.keyed).into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_matches_the_reference_sequence() {
        // The first outputs of SplitMix64 seeded with 0 (the published
        // reference implementation); the Java runner checks the same two.
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn values_are_uppercase_windows_of_the_pool() {
        let p = Payloads::new(100, 0);
        assert!(p.value(0).iter().all(u8::is_ascii_uppercase));
        assert_eq!(p.value(0).len(), 100);
        assert_ne!(p.value(0), p.value(1));
        // Record 1's value starts where record 0's ends.
        assert_eq!(p.value(0), &p.pool[..100]);
        assert_eq!(p.value(1), &p.pool[100..200]);
        let last = (POOL_BYTES / 100) as u64;
        assert_eq!(p.value(last).len(), 100);
        assert_eq!(p.key(5), None);
    }

    #[test]
    fn keys_cycle_over_the_distinct_count() {
        let p = Payloads::new(10, 3);
        assert_eq!(p.key(0).as_deref(), Some(&b"key-0"[..]));
        assert_eq!(p.key(4).as_deref(), Some(&b"key-1"[..]));
    }
}
