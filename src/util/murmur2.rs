//! Kafka's murmur2 hash (`Utils.murmur2`) and `Utils.toPositive`, which
//! together map a key to its partition.
//!
//! This is Kafka's variant of MurmurHash2: seed `0x9747b28c`, 4-byte
//! little-endian words, tail bytes folded in, all arithmetic wrapping on
//! 32 bits. It must match the Java client bit for bit, or keyed records land
//! on different partitions than Java producers put them.

const SEED: u32 = 0x9747_b28c;
const M: u32 = 0x5bd1_e995;
const R: u32 = 24;

/// Kafka's murmur2 of `data`, as Java's signed int.
#[must_use]
pub fn murmur2(data: &[u8]) -> i32 {
    // Java computes `seed ^ length` on ints; lengths beyond i32 cannot occur
    // for a key Kafka accepts, and the wrapping cast matches Java's int.
    let mut h: u32 = SEED ^ (data.len() as u32);
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = chunks.remainder();
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if !tail.is_empty() {
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// Java's `Utils.toPositive`: clears the sign bit (not `abs`).
#[must_use]
pub const fn to_positive(v: i32) -> i32 {
    v & 0x7fff_ffff
}

/// The partition Java's built-in partitioner gives a key:
/// `toPositive(murmur2(key)) % partitions`.
///
/// # Panics
///
/// Panics if `partitions` is 0 (a topic always has at least one partition).
#[must_use]
pub fn partition_for_key(key: &[u8], partitions: usize) -> i32 {
    // to_positive is in 0..=i32::MAX, so the cast and the result fit.
    (to_positive(murmur2(key)) as usize % partitions) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_key_and_known_value() {
        // From murmur2.tsv (Java 4.3.0): the empty key.
        assert_eq!(murmur2(b""), 275_646_681);
    }

    #[test]
    fn to_positive_is_not_abs() {
        assert_eq!(to_positive(-1), i32::MAX);
        assert_eq!(to_positive(i32::MIN), 0);
    }
}
