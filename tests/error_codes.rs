//! The generated `ErrorCode` table agrees with Kafka 4.3.0's `Errors` enum
//! (`tests/data/errors.tsv`, dumped from the kafka-clients-4.3.0 jar): every
//! code's name, retriable flag, invalid-metadata flag and message.

mod support;

use kafka_producer::protocol::ErrorCode;

#[test]
fn every_code_matches_the_java_table() {
    let rows = support::read_tsv("errors.tsv");
    assert_eq!(rows.len(), 135, "errors.tsv rows");
    for row in &rows {
        let code: i16 = row[0].parse().unwrap();
        let e = ErrorCode(code);
        assert!(e.is_known(), "{code}");
        assert_eq!(e.name(), row[1], "name of {code}");
        assert_eq!(e.is_retriable(), row[2] == "true", "retriable of {code}");
        assert_eq!(
            e.is_invalid_metadata(),
            row[3] == "true",
            "invalid_metadata of {code}"
        );
        assert_eq!(e.message(), row[4], "message of {code}");
    }
}

#[test]
fn unknown_codes_survive_and_are_not_retriable() {
    let e = ErrorCode(30_000);
    assert!(!e.is_known());
    assert_eq!(e.name(), "UNKNOWN");
    assert!(!e.is_retriable());
    assert_eq!(e.0, 30_000);
    assert!(!ErrorCode(-2).is_known());
    assert!(ErrorCode::NONE.is_ok());
    assert_eq!(ErrorCode::NOT_LEADER_OR_FOLLOWER, ErrorCode(6));
    assert_eq!(
        format!("{:?}", ErrorCode::NOT_LEADER_OR_FOLLOWER),
        "NOT_LEADER_OR_FOLLOWER(6)"
    );
}
