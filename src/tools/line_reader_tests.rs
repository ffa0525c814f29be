//! Tests of the line reader: every property, every error, Java's messages.

use std::collections::BTreeMap;
use std::io::Cursor;

use super::*;

fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn config(pairs: &[(&str, &str)]) -> LineReaderConfig {
    LineReaderConfig::from_properties("t", &props(pairs)).expect("valid reader properties")
}

fn read_all(c: LineReaderConfig, input: &[u8]) -> Vec<Result<ByteRecord, ReaderError>> {
    LineMessageReader::new(c, Cursor::new(input.to_vec())).collect()
}

fn bytes(s: &str) -> Option<Vec<u8>> {
    Some(s.as_bytes().to_vec())
}

fn header(k: &str, v: Option<&str>) -> Header {
    match v {
        Some(v) => Header::new(k, v.as_bytes()),
        None => Header::null(k),
    }
}

#[test]
fn defaults_are_javas() {
    let c = LineReaderConfig::from_properties("topic-a", &BTreeMap::new()).unwrap();
    assert_eq!(c, LineReaderConfig::new("topic-a"));
    assert!(!c.parse_key && !c.parse_headers && !c.ignore_error);
    assert_eq!(
        (
            c.key_separator.as_str(),
            c.headers_delimiter.as_str(),
            c.headers_separator.as_str(),
            c.headers_key_separator.as_str()
        ),
        ("\t", "\t", ",", ":")
    );
    assert_eq!(c.null_marker, None);
}

#[test]
fn each_line_is_a_value_by_default() {
    let records = read_all(config(&[]), b"a\tb\n\nlast");
    let records: Vec<ByteRecord> = records.into_iter().map(Result::unwrap).collect();
    assert_eq!(records.len(), 3);
    assert_eq!(records[0].key(), None);
    assert_eq!(records[0].value(), bytes("a\tb").as_ref());
    // An empty line is an empty value, not a null one.
    assert_eq!(records[1].value(), Some(&Vec::new()));
    // The last line needs no terminator.
    assert_eq!(records[2].value(), bytes("last").as_ref());
    assert!(records
        .iter()
        .all(|r| r.topic() == "t" && r.headers().is_empty()));
}

#[test]
fn lines_end_at_lf_crlf_or_cr_like_buffered_reader() {
    let records = read_all(config(&[]), b"a\r\nb\rc\n\r\nd\r");
    let values: Vec<Vec<u8>> = records
        .into_iter()
        .map(|r| r.unwrap().value().cloned().unwrap())
        .collect();
    let expected: Vec<Vec<u8>> = ["a", "b", "c", "", "d"]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
    assert_eq!(values, expected);
    assert!(read_all(config(&[]), b"").is_empty());
}

#[test]
fn a_crlf_split_across_buffer_reads_is_one_terminator() {
    let input = std::io::BufReader::with_capacity(2, Cursor::new(b"ab\r\ncd".to_vec()));
    let values: Vec<Vec<u8>> = LineMessageReader::new(config(&[]), input)
        .map(|r| r.unwrap().value().cloned().unwrap())
        .collect();
    assert_eq!(values, [b"ab".to_vec(), b"cd".to_vec()]);
}

#[test]
fn malformed_utf8_becomes_replacement_characters() {
    let records = read_all(config(&[]), b"a\xffb\n");
    assert_eq!(
        records[0].as_ref().unwrap().value(),
        bytes("a\u{fffd}b").as_ref()
    );
}

#[test]
fn parse_key_splits_at_the_first_separator() {
    let c = config(&[("parse.key", "true")]);
    let r = c.parse_line("k\tv\tw", 1).unwrap();
    assert_eq!(r.key(), bytes("k").as_ref());
    assert_eq!(r.value(), bytes("v\tw").as_ref());
    let r = c.parse_line("\t", 1).unwrap();
    assert_eq!((r.key(), r.value()), (Some(&vec![]), Some(&vec![])));
}

#[test]
fn booleans_are_trimmed_and_case_insensitive_anything_else_is_false() {
    assert!(config(&[("parse.key", " TRUE ")]).parse_key);
    assert!(!config(&[("parse.key", "yes")]).parse_key);
    assert!(config(&[("parse.headers", "True")]).parse_headers);
    assert!(config(&[("ignore.error", "true")]).ignore_error);
}

#[test]
fn custom_key_separator() {
    let c = config(&[("parse.key", "true"), ("key.separator", "::")]);
    let r = c.parse_line("user-1::{\"a\":1}", 1).unwrap();
    assert_eq!(r.key(), bytes("user-1").as_ref());
    assert_eq!(r.value(), bytes("{\"a\":1}").as_ref());
}

#[test]
fn missing_key_separator_is_javas_error_with_the_line_number() {
    let records = read_all(config(&[("parse.key", "true")]), b"a\tb\nno-tab\n");
    assert!(records[0].is_ok());
    assert_eq!(
        records[1].as_ref().unwrap_err().to_string(),
        "No key separator found on line number 2: 'no-tab'"
    );
}

#[test]
fn ignore_error_makes_a_line_without_key_separator_a_keyless_value() {
    let c = config(&[("parse.key", "true"), ("ignore.error", "true")]);
    let r = c.parse_line("no-tab", 1).unwrap();
    assert_eq!((r.key(), r.value()), (None, bytes("no-tab").as_ref()));
}

#[test]
fn headers_then_key_then_value() {
    let c = config(&[("parse.key", "true"), ("parse.headers", "true")]);
    let r = c.parse_line("h1:v1,h2:v2\tkey\tvalue", 1).unwrap();
    assert_eq!(
        r.headers(),
        [header("h1", Some("v1")), header("h2", Some("v2"))]
    );
    assert_eq!(r.key(), bytes("key").as_ref());
    assert_eq!(r.value(), bytes("value").as_ref());
}

#[test]
fn headers_without_key() {
    let c = config(&[("parse.headers", "true")]);
    let r = c.parse_line("h1:v1\tv", 1).unwrap();
    assert_eq!(r.headers(), [header("h1", Some("v1"))]);
    assert_eq!((r.key(), r.value()), (None, bytes("v").as_ref()));
    // A header value may contain the key separator after the first one.
    let r = c.parse_line("h:a:b\tv", 1).unwrap();
    assert_eq!(r.headers(), [header("h", Some("a:b"))]);
    // Repeated keys are kept in order.
    let r = c.parse_line("h:1,h:2\tv", 1).unwrap();
    assert_eq!(
        r.headers(),
        [header("h", Some("1")), header("h", Some("2"))]
    );
}

#[test]
fn custom_header_separators() {
    let c = config(&[
        ("parse.headers", "true"),
        ("parse.key", "true"),
        ("headers.delimiter", "|"),
        ("headers.separator", ";"),
        ("headers.key.separator", "="),
        ("key.separator", " "),
    ]);
    let r = c.parse_line("a=1;b=2|k v w", 1).unwrap();
    assert_eq!(
        r.headers(),
        [header("a", Some("1")), header("b", Some("2"))]
    );
    assert_eq!(r.key(), bytes("k").as_ref());
    assert_eq!(r.value(), bytes("v w").as_ref());
}

#[test]
fn header_list_splitting_follows_java_split() {
    let c = config(&[("parse.headers", "true")]);
    // Trailing empty entries are dropped; ",", for instance, is no headers.
    assert_eq!(
        c.parse_line("a:1,,\tv", 1).unwrap().headers(),
        [header("a", Some("1"))]
    );
    assert!(c.parse_line(",\tv", 1).unwrap().headers().is_empty());
    // An empty list is one empty entry, which has no key separator.
    assert_eq!(
        c.parse_line("\tv", 4).unwrap_err().to_string(),
        "No header key separator found in pair '' on line number 4"
    );
    // Leading and inner empty entries stay, and fail the same way.
    assert!(c.parse_line(",a:1\tv", 1).is_err());
    assert_eq!(java_split("abc", ""), ["a", "b", "c"]);
}

#[test]
fn missing_headers_delimiter_is_javas_error() {
    let c = config(&[("parse.headers", "true")]);
    assert_eq!(
        c.parse_line("h1:v1", 3).unwrap_err().to_string(),
        "No headers delimiter found on line number 3: 'h1:v1'"
    );
    let c = config(&[("parse.headers", "true"), ("ignore.error", "true")]);
    let r = c.parse_line("h1:v1", 3).unwrap();
    assert!(r.headers().is_empty());
    assert_eq!(r.value(), bytes("h1:v1").as_ref());
}

#[test]
fn header_without_key_separator_is_an_error_or_a_null_header() {
    let c = config(&[("parse.headers", "true")]);
    assert_eq!(
        c.parse_line("a:1,bare\tv", 9).unwrap_err().to_string(),
        "No header key separator found in pair 'bare' on line number 9"
    );
    let c = config(&[("parse.headers", "true"), ("ignore.error", "true")]);
    assert_eq!(
        c.parse_line("a:1,bare\tv", 9).unwrap().headers(),
        [header("a", Some("1")), header("bare", None)]
    );
}

#[test]
fn null_marker_nulls_key_value_header_value_and_header_list() {
    let c = config(&[
        ("parse.key", "true"),
        ("parse.headers", "true"),
        ("null.marker", "<null>"),
    ]);
    let r = c.parse_line("h:<null>\t<null>\t<null>", 1).unwrap();
    assert_eq!(r.headers(), [header("h", None)]);
    assert_eq!((r.key(), r.value()), (None, None));
    // The whole header list equal to the marker: no headers.
    let r = c.parse_line("<null>\tk\tv", 1).unwrap();
    assert!(r.headers().is_empty());
    assert_eq!(r.key(), bytes("k").as_ref());
    // Only whole fields match the marker.
    let r = c.parse_line("h:x<null>\tk<null>\t<null>v", 1).unwrap();
    assert_eq!(r.headers(), [header("h", Some("x<null>"))]);
    assert_eq!(r.key(), bytes("k<null>").as_ref());
    assert_eq!(r.value(), bytes("<null>v").as_ref());
    // A value-only line can be a tombstone too.
    let c = config(&[("null.marker", "NULL")]);
    assert_eq!(c.parse_line("NULL", 1).unwrap().value(), None);
}

#[test]
fn null_marker_as_header_key_is_an_error_even_when_ignoring_errors() {
    for ignore in ["false", "true"] {
        let c = config(&[
            ("parse.headers", "true"),
            ("null.marker", "N"),
            ("ignore.error", ignore),
        ]);
        assert_eq!(
            c.parse_line("N:v\tx", 1).unwrap_err().to_string(),
            "Header keys should not be equal to the null marker 'N' as they can't be null"
        );
    }
}

#[test]
fn equal_separators_are_rejected_with_javas_messages() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("headers.delimiter", ",")],
            "headers.delimiter and headers.separator may not be equal",
        ),
        (
            &[("headers.delimiter", ":")],
            "headers.delimiter and headers.key.separator may not be equal",
        ),
        (
            &[("headers.separator", ":")],
            "headers.separator and headers.key.separator may not be equal",
        ),
        (
            &[("null.marker", "\t")],
            "null.marker and key.separator may not be equal",
        ),
        (
            &[("null.marker", ",")],
            "null.marker and headers.separator may not be equal",
        ),
        (
            &[("null.marker", "|"), ("headers.delimiter", "|")],
            "null.marker and headers.delimiter may not be equal",
        ),
        (
            &[("null.marker", ":")],
            "null.marker and headers.key.separator may not be equal",
        ),
    ];
    for (pairs, message) in cases {
        let e = LineReaderConfig::from_properties("t", &props(pairs)).unwrap_err();
        assert_eq!(e.to_string(), *message, "{pairs:?}");
    }
}

#[test]
fn prompt_is_written_before_each_read() {
    #[derive(Clone, Default)]
    struct Shared(std::sync::Arc<parking_lot::Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let out = Shared::default();
    let reader = LineMessageReader::new(config(&[]), Cursor::new(b"a\nb\n".to_vec()))
        .with_prompt(Box::new(out.clone()));
    assert_eq!(reader.count(), 2);
    // Two lines and the read that finds the end of input.
    assert_eq!(out.0.lock().as_slice(), b">>>");
}

#[test]
fn line_numbers_count_every_line_read() {
    let mut reader = LineMessageReader::new(
        config(&[("parse.key", "true")]),
        Cursor::new(b"a\tb\n\tc\nbad\n".to_vec()),
    );
    assert!(reader.next().unwrap().is_ok());
    assert!(reader.next().unwrap().is_ok());
    let e = reader.next().unwrap().unwrap_err();
    assert_eq!(reader.line_number(), 3);
    assert!(e.to_string().contains("line number 3"), "{e}");
}
