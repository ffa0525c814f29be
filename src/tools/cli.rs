//! Command-line plumbing shared by the two tools: long options matched by
//! unique prefix (as Java's joptsimple and argparse4j allow), typed values
//! with clear errors, `key=value` properties and `.properties` files, and
//! the [`Output`] sinks the tools print to.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::io::{self, Write};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use lexopt::Parser;
use parking_lot::Mutex;

use crate::producer::config::parse_properties;

/// A command line the tool cannot run with: the message says what is wrong.
/// The tools print it with their usage and exit with status 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl UsageError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        UsageError(message.into())
    }
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

impl From<lexopt::Error> for UsageError {
    fn from(e: lexopt::Error) -> Self {
        UsageError(match e {
            lexopt::Error::MissingValue {
                option: Some(option),
            } => format!("option {option} requires a value"),
            lexopt::Error::UnexpectedOption(o) => format!("{o} is not a recognized option"),
            lexopt::Error::UnexpectedArgument(a) => {
                format!("unexpected argument '{}'", a.to_string_lossy())
            }
            lexopt::Error::UnexpectedValue { option, value } => format!(
                "option {option} takes no value (got '{}')",
                value.to_string_lossy()
            ),
            other => other.to_string(),
        })
    }
}

/// What a tool's argument parser found.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed<T> {
    /// Options to run with.
    Run(T),
    /// `--help` (or, for the perf tool, no arguments at all): print usage, exit 0.
    Help,
    /// `--version`: print the version, exit 0.
    Version,
}

/// The full name of the long option `given` (without dashes): an exact
/// match, or the only option that starts with it.
///
/// # Errors
///
/// When no option or more than one option matches.
pub fn resolve_long(given: &str, known: &[&'static str]) -> Result<&'static str, UsageError> {
    if let Some(exact) = known.iter().find(|k| **k == given) {
        return Ok(exact);
    }
    let matches: Vec<&'static str> = known
        .iter()
        .copied()
        .filter(|k| k.starts_with(given))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(UsageError(format!("--{given} is not a recognized option"))),
        many => Err(UsageError(format!(
            "option --{given} is ambiguous: it could be {}",
            many.iter()
                .map(|m| format!("--{m}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The value of option `--name` as a string.
///
/// # Errors
///
/// When the command line ends before the value, or the value is not UTF-8.
pub fn string_value(p: &mut Parser, name: &str) -> Result<String, UsageError> {
    let v = p
        .value()
        .map_err(|_| UsageError(format!("option --{name} requires a value")))?;
    utf8(v, name)
}

fn utf8(v: OsString, name: &str) -> Result<String, UsageError> {
    v.into_string().map_err(|v| {
        UsageError(format!(
            "option --{name}: '{}' is not valid UTF-8",
            v.to_string_lossy()
        ))
    })
}

/// The value of option `--name` parsed as `T`; `what` names the expected
/// type in the error (`"an integer"`).
///
/// # Errors
///
/// When the value is missing or does not parse.
pub fn parsed_value<T: FromStr>(p: &mut Parser, name: &str, what: &str) -> Result<T, UsageError> {
    let s = string_value(p, name)?;
    s.trim()
        .parse()
        .map_err(|_| UsageError(format!("option --{name}: cannot parse '{s}' as {what}")))
}

/// The value of an option whose value is optional (`--compression-codec`
/// and `--compression-codec gzip` both work): the attached `=value`, else
/// the next argument unless it is another option, else `None`.
///
/// # Errors
///
/// When the value is not UTF-8.
pub fn optional_value(p: &mut Parser, name: &str) -> Result<Option<String>, UsageError> {
    if let Some(v) = p.optional_value() {
        return utf8(v, name).map(Some);
    }
    let Ok(mut raw) = p.raw_args() else {
        return Ok(None);
    };
    match raw.next_if(|a| !a.to_string_lossy().starts_with('-')) {
        Some(v) => utf8(v, name).map(Some),
        None => Ok(None),
    }
}

/// Every value following `--name` up to the next option (one at least), as
/// for Java's `nargs("+")`.
///
/// # Errors
///
/// When there is no value, or one is not UTF-8.
pub fn many_values(p: &mut Parser, name: &str) -> Result<Vec<String>, UsageError> {
    let values = p
        .values()
        .map_err(|_| UsageError(format!("option --{name} requires at least one value")))?;
    values.map(|v| utf8(v, name)).collect()
}

/// A `key=value` argument as Java's `CommandLineUtils.parseKeyValueArgs`
/// reads it: split at the first `=`; no `=` means an empty value.
#[must_use]
pub fn key_value(arg: &str) -> (String, String) {
    match arg.split_once('=') {
        Some((k, v)) => (k.to_owned(), v.to_owned()),
        None => (arg.to_owned(), String::new()),
    }
}

/// The `key=value` pairs of a Java `.properties` file, in file order.
///
/// # Errors
///
/// When the file cannot be read or has a malformed escape; the message
/// names the file.
pub fn load_properties_file(path: &Path) -> Result<Vec<(String, String)>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read properties file {}: {e}", path.display()))?;
    parse_properties(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Properties in precedence order: later sets override earlier ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Properties(BTreeMap<String, String>);

impl Properties {
    /// No properties.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets every pair, overriding earlier values.
    pub fn extend<I, K, V>(&mut self, pairs: I)
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        for (k, v) in pairs {
            self.0.insert(k.into(), v.into());
        }
    }

    /// Sets one key.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.0.insert(key.to_owned(), value.into());
    }

    /// Sets `key` unless it is set already.
    pub fn set_default(&mut self, key: &str, value: impl Into<String>) {
        self.0.entry(key.to_owned()).or_insert_with(|| value.into());
    }

    /// The value of `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// Whether `key` is set.
    #[must_use]
    pub fn contains(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// The properties as a map.
    #[must_use]
    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    /// The properties as a map.
    #[must_use]
    pub fn into_map(self) -> BTreeMap<String, String> {
        self.0
    }
}

/// Where a tool prints: stdout, stderr, or a buffer in tests. Cloning
/// shares the sink; every [`line`](Self::line) is written and flushed
/// whole, so lines from the callback thread and the main thread never
/// interleave.
#[derive(Clone)]
pub struct Output(Arc<Mutex<Box<dyn Write + Send>>>);

impl fmt::Debug for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Output")
    }
}

impl Output {
    /// Standard output.
    #[must_use]
    pub fn stdout() -> Self {
        Output::new(io::stdout())
    }

    /// Standard error.
    #[must_use]
    pub fn stderr() -> Self {
        Output::new(io::stderr())
    }

    /// Any writer.
    pub fn new(w: impl Write + Send + 'static) -> Self {
        Output(Arc::new(Mutex::new(Box::new(w))))
    }

    /// A buffer, and a handle to read what was written to it.
    #[must_use]
    pub fn capture() -> (Output, Captured) {
        let buf = Captured::default();
        (Output::new(buf.clone()), buf)
    }

    /// Writes `text` and a newline, then flushes. Write errors (a closed
    /// pipe) are ignored: the tool's exit status reports the outcome.
    pub fn line(&self, text: &str) {
        let mut w = self.0.lock();
        let _ = w
            .write_all(text.as_bytes())
            .and_then(|()| w.write_all(b"\n"))
            .and_then(|()| w.flush());
    }

    /// Writes `text` as it is, then flushes.
    pub fn text(&self, text: &str) {
        let mut w = self.0.lock();
        let _ = w.write_all(text.as_bytes()).and_then(|()| w.flush());
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.lock().flush()
    }
}

/// What was written to an [`Output::capture`] buffer.
#[derive(Debug, Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Everything written so far, as UTF-8 (lossy).
    #[must_use]
    pub fn contents(&self) -> String {
        String::from_utf8_lossy(&self.0.lock()).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[&str] = &["topic", "timeout", "batch-size", "bootstrap-server"];

    #[test]
    fn long_options_match_exactly_or_by_unique_prefix() {
        assert_eq!(resolve_long("topic", KNOWN), Ok("topic"));
        assert_eq!(
            resolve_long("t", KNOWN).unwrap_err().0,
            "option --t is ambiguous: it could be --topic, --timeout"
        );
        assert_eq!(resolve_long("top", KNOWN), Ok("topic"));
        assert_eq!(
            resolve_long("b", KNOWN).unwrap_err().0,
            "option --b is ambiguous: it could be --batch-size, --bootstrap-server"
        );
        assert_eq!(
            resolve_long("nope", KNOWN).unwrap_err().0,
            "--nope is not a recognized option"
        );
    }

    #[test]
    fn key_value_splits_at_the_first_equals_sign() {
        assert_eq!(key_value("a=b=c"), ("a".into(), "b=c".into()));
        assert_eq!(key_value("a="), ("a".into(), String::new()));
        assert_eq!(key_value("a"), ("a".into(), String::new()));
        assert_eq!(key_value("=v"), (String::new(), "v".into()));
    }

    #[test]
    fn typed_and_optional_values() {
        let mut p = Parser::from_args(["--n", "12", "--x", "abc", "--c", "--d", "v", "--e=w"]);
        p.next().unwrap();
        assert_eq!(parsed_value::<i32>(&mut p, "n", "an integer"), Ok(12));
        p.next().unwrap();
        assert_eq!(
            parsed_value::<i32>(&mut p, "x", "an integer")
                .unwrap_err()
                .0,
            "option --x: cannot parse 'abc' as an integer"
        );
        p.next().unwrap();
        assert_eq!(optional_value(&mut p, "c"), Ok(None));
        p.next().unwrap();
        assert_eq!(optional_value(&mut p, "d"), Ok(Some("v".into())));
        p.next().unwrap();
        assert_eq!(optional_value(&mut p, "e"), Ok(Some("w".into())));
        let mut p = Parser::from_args(["--n"]);
        p.next().unwrap();
        assert_eq!(
            string_value(&mut p, "n").unwrap_err().0,
            "option --n requires a value"
        );
    }

    #[test]
    fn many_values_stop_at_the_next_option() {
        let mut p = Parser::from_args(["--p", "a=1", "b=2", "--q"]);
        p.next().unwrap();
        assert_eq!(
            many_values(&mut p, "p"),
            Ok(vec!["a=1".into(), "b=2".into()])
        );
        let mut p = Parser::from_args(["--p", "--q"]);
        p.next().unwrap();
        assert!(many_values(&mut p, "p").is_err());
    }

    #[test]
    fn properties_later_sets_win_and_defaults_fill_gaps() {
        let mut p = Properties::new();
        p.extend([("a", "1"), ("b", "1")]);
        p.extend([("b", "2")]);
        p.set_default("a", "9");
        p.set_default("c", "3");
        assert_eq!(
            (p.get("a"), p.get("b"), p.get("c")),
            (Some("1"), Some("2"), Some("3"))
        );
    }

    #[test]
    fn properties_files_are_read_and_missing_ones_named() {
        let dir = std::env::temp_dir().join(format!("kp-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("p.properties");
        std::fs::write(&f, "# c\nacks = 1\nlinger.ms: 7\n").unwrap();
        assert_eq!(
            load_properties_file(&f).unwrap(),
            [
                ("acks".into(), "1".into()),
                ("linger.ms".into(), "7".into())
            ]
        );
        let missing = dir.join("missing.properties");
        let e = load_properties_file(&missing).unwrap_err();
        assert!(e.contains("missing.properties"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
