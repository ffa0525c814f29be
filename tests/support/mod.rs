//! Helpers shared by the integration tests: hex, and readers for the Java
//! test vectors in `tests/data/` (copied from the Java client 4.3.0 vector
//! set; comment lines start with `#`).

#![allow(dead_code)] // each test binary uses a different subset

pub mod brokers;
pub mod scenario;

use std::path::PathBuf;

/// Path of a file in `tests/data/`.
pub fn data_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("data")
        .join(name)
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes of a hex string; panics on malformed hex (test data is trusted).
pub fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// The JSON objects of a `.jsonl` vector file, comment lines skipped.
pub fn read_jsonl(name: &str) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(data_path(name)).expect("vector file");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

/// The rows of a `.tsv` vector file, comment lines and the column-name line
/// skipped. Empty fields are kept (the empty key of murmur2.tsv).
pub fn read_tsv(name: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(data_path(name)).expect("vector file");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .skip(1)
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}
