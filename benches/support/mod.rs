//! Shared helpers of the benchmarks: deterministic payloads, so every run
//! measures the same bytes.

// Each benchmark binary uses only some of these.
#![allow(dead_code)]

/// `len` pseudo-random bytes from one splitmix64 stream started at `seed`:
/// the content of keys whose hash or copy cost does not depend on it.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        out.extend_from_slice(&z.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// `len` pseudo-random capital letters A-Z: the payload Kafka's own
/// `kafka-producer-perf-test` sends, which gzip compresses as random text
/// (about 4.7 bits of information per byte), not as a repeated string.
pub fn random_letters(len: usize, seed: u64) -> Vec<u8> {
    random_bytes(len, seed)
        .into_iter()
        .map(|b| b'A' + b % 26)
        .collect()
}

/// `count` values of `len` letters each, cut from one stream, so that no
/// value repeats another: cycling through more than gzip's 32 KiB window
/// of them keeps the compressor from finding whole-record matches.
pub fn letter_values(count: usize, len: usize) -> Vec<Vec<u8>> {
    random_letters(count * len, 0x5eed)
        .chunks_exact(len)
        .map(<[u8]>::to_vec)
        .collect()
}
