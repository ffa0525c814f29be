//! The command-line tools against Java and end to end.
//!
//! * Vectors printed by a JDK 17 (`tests/data/tools/`, made by
//!   `JavaVectors.java` there): Java's `%.1f`/`%.2f`/`%.3f`/`%f` of 2,028
//!   doubles, and the perf tool's window and total lines for 200 sets of
//!   numbers, reproduced character for character.
//! * The binaries, run as processes: usage errors and help (these need no
//!   broker), and whole runs against the embedded MockCluster.

#![cfg(feature = "tools")]

mod support;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use kafka_producer::tools::java::format_fixed;
use kafka_producer::tools::stats::{total_line, window_line, Totals};

fn tsv_rows(name: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(support::data_path(name)).expect("vector file");
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

#[test]
fn number_formatting_matches_java_string_format() {
    let rows = tsv_rows("tools/java_format.tsv");
    assert_eq!(rows.len(), 2028);
    for row in &rows {
        let x = f64::from_bits(u64::from_str_radix(&row[0], 16).expect("hex bits"));
        let got = [
            format_fixed(x, 1),
            format_fixed(x, 2),
            format_fixed(x, 3),
            format_fixed(x, 6),
        ];
        assert_eq!(got, row[2..6], "{} ({})", row[1], row[0]);
    }
}

#[test]
fn perf_report_lines_match_javas() {
    let rows = tsv_rows("tools/perf_lines.tsv");
    assert_eq!(rows.len(), 400);
    for row in &rows {
        let n = |i: usize| row[i].parse::<i64>().expect("number");
        let (count, bytes, elapsed, total, max) = (n(1), n(2), n(3), n(4), n(5));
        let max = i32::try_from(max).expect("int");
        let got = match row[0].as_str() {
            "window" => window_line(count, bytes, elapsed, total, max),
            "total" => total_line(&Totals {
                count,
                bytes,
                elapsed_ms: elapsed,
                total_latency: total,
                max_latency: max,
                percentiles: [6, 7, 8, 9].map(|i| i32::try_from(n(i)).expect("int")),
                steady_state: row[10] == "true",
            }),
            other => panic!("unknown kind {other}"),
        };
        assert_eq!(got, row[11]);
    }
}

fn console() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kafka-console-producer"))
}

fn perf() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kafka-producer-perf-test"))
}

/// Runs `cmd` with `input` on stdin.
fn run(mut cmd: Command, input: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the tool starts");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(input.as_bytes())
        .expect("stdin written");
    child.wait_with_output().expect("the tool exits")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn console_producer_help_and_usage_errors() {
    let mut cmd = console();
    cmd.arg("--help");
    let out = run(cmd, "");
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).starts_with("Usage: kafka-console-producer"));

    let mut cmd = console();
    cmd.args(["--bootstrap-server", "localhost:9092"]);
    let out = run(cmd, "");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("Missing required argument \"[topic]\"\n"),
        "{err}"
    );

    let mut cmd = console();
    cmd.args(["--topic", "t", "--batch-size", "many"]);
    let out = run(cmd, "");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("option --batch-size: cannot parse 'many' as an integer"));

    let mut cmd = console();
    cmd.args(["--topic", "t", "--property", "headers.separator=:"]);
    let out = run(cmd, "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("headers.separator and headers.key.separator may not be equal")
    );
}

#[test]
fn perf_test_help_and_usage_errors() {
    let out = run(perf(), "");
    assert_eq!(out.status.code(), Some(0), "no arguments prints help");
    assert!(text(&out.stdout).starts_with("Usage: kafka-producer-perf-test"));

    let mut cmd = perf();
    cmd.args([
        "--topic",
        "t",
        "--num-records",
        "0",
        "--record-size",
        "1",
        "--throughput",
        "-1",
    ]);
    let out = run(cmd, "");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr)
        .ends_with("kafka-producer-perf-test: error: --num-records should be greater than zero\n"));

    let mut cmd = perf();
    cmd.args([
        "--topic",
        "t",
        "--num-records",
        "5",
        "--record-size",
        "1",
        "--throughput",
        "-1",
        "--transactional-id",
        "tx",
        "--bootstrap-server",
        "localhost:9092",
    ]);
    let out = run(cmd, "");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("transactions are not supported yet"));
}

#[test]
fn console_producer_sends_every_line_to_the_embedded_cluster() {
    let mut cmd = console();
    cmd.args([
        "--topic",
        "lines",
        "--property",
        "parse.key=true",
        "--property",
        "parse.headers=true",
    ]);
    let input: String = (0..100)
        .map(|i| format!("h:{i}\tkey-{i}\tvalue-{i}\n"))
        .collect();
    let out = run(cmd, &input);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.starts_with(
            "No --bootstrap-server given: started an embedded MockCluster with 3 brokers at "
        ),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn console_producer_sync_mode_and_compression() {
    let mut cmd = console();
    cmd.args(["--topic", "sync", "--sync", "--compression-codec"]);
    let out = run(cmd, "a\nb\nc\n");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn console_producer_stops_at_a_bad_line_with_javas_message() {
    let mut cmd = console();
    cmd.args(["--topic", "bad", "--property", "parse.key=true"]);
    let out = run(cmd, "k\tv\nno separator\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("No key separator found on line number 2: 'no separator'"));
}

#[test]
fn console_producer_reports_records_it_could_not_send() {
    // Nothing listens on port 1: metadata never arrives, every send fails
    // after max.block.ms.
    let mut cmd = console();
    cmd.args([
        "--topic",
        "t",
        "--bootstrap-server",
        "127.0.0.1:1",
        "--max-block-ms",
        "200",
    ]);
    let out = run(cmd, "a\nb\n");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("Error when sending message 1 to topic t"),
        "{err}"
    );
    assert!(
        err.contains("Error when sending message 2 to topic t"),
        "{err}"
    );
}

#[test]
fn perf_test_readme_command_against_the_embedded_cluster() {
    // The README's first command, with fewer records.
    let mut cmd = perf();
    cmd.args([
        "--topic",
        "demo",
        "--num-records",
        "20000",
        "--record-size",
        "100",
        "--throughput",
        "-1",
    ]);
    let out = run(cmd, "");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.starts_with(
            "No --bootstrap-server given: started an embedded MockCluster with 3 brokers at "
        ),
        "{err}"
    );
    let stdout = text(&out.stdout);
    let last = stdout.lines().last().expect("a total line");
    assert!(last.starts_with("20000 records sent, "), "{last}");
    assert!(last.ends_with(" ms 99.9th."), "{last}");
    assert!(
        last.contains(" records/sec (") && last.contains(" MB/sec), "),
        "{last}"
    );
}

#[test]
fn perf_test_throttles_and_warms_up() {
    let mut cmd = perf();
    cmd.args([
        "--topic",
        "slow",
        "--num-records",
        "300",
        "--payload-monotonic",
        "--throughput",
        "200",
        "--warmup-records",
        "100",
        "--producer-props",
        "linger.ms=0",
    ]);
    let out = run(cmd, "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("Warmup first 100 records."),
        "{stdout}"
    );
    assert!(
        lines[lines.len() - 2].starts_with("300 records sent, "),
        "{stdout}"
    );
    assert!(
        lines[lines.len() - 1].starts_with("200 steady state records sent, "),
        "{stdout}"
    );
}

#[test]
fn perf_test_fails_when_records_cannot_be_sent() {
    let mut cmd = perf();
    cmd.args([
        "--topic",
        "t",
        "--num-records",
        "3",
        "--record-size",
        "10",
        "--throughput",
        "-1",
        "--bootstrap-server",
        "127.0.0.1:1",
        "--producer-props",
        "max.block.ms=200",
    ]);
    let out = run(cmd, "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("3 of 3 records failed"),
        "{}",
        text(&out.stderr)
    );
}
