//! The console producer's line reader: Java's `LineMessageReader`, which
//! turns each line of input into one record.
//!
//! With the default properties a line is the value. With `parse.key=true`
//! the line is split at the first `key.separator` (default tab) into key and
//! value; with `parse.headers=true` a header list comes first, ended by
//! `headers.delimiter` (default tab), its entries split by
//! `headers.separator` (default `,`) and each entry split at the first
//! `headers.key.separator` (default `:`):
//!
//! ```text
//! parse.headers + parse.key:  h1:v1,h2:v2<TAB>key<TAB>value
//! parse.key:                  key<TAB>value
//! parse.headers:              h1:v1,h2:v2<TAB>value
//! ```
//!
//! A key, value, header value or whole header list equal to `null.marker`
//! becomes null (a header key equal to it is an error). A missing separator
//! is an error naming the line, unless `ignore.error=true`: then a missing
//! key separator makes the whole rest the value, a missing headers delimiter
//! means no headers, and a header entry without its key separator becomes a
//! header with a null value. Error messages are Java's.
//!
//! Lines end at `\n`, `\r\n` or `\r` (Java's `BufferedReader.readLine`);
//! input is read as UTF-8, malformed bytes becoming U+FFFD as in Java.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, BufRead, Write};

use crate::producer::{Header, ProducerRecord};

/// A record as the console producer sends it: byte key and value.
pub type ByteRecord = ProducerRecord<Vec<u8>, Vec<u8>>;

/// A reader configuration error or a line that cannot be parsed (Java's
/// `KafkaException` from `LineMessageReader`), with Java's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderError(pub String);

impl fmt::Display for ReaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReaderError {}

/// The reader's properties (Java's `LineMessageReader.configure`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineReaderConfig {
    /// The topic every record goes to.
    pub topic: String,
    /// `parse.key` (default false).
    pub parse_key: bool,
    /// `key.separator` (default tab).
    pub key_separator: String,
    /// `parse.headers` (default false).
    pub parse_headers: bool,
    /// `headers.delimiter` (default tab): ends the header list.
    pub headers_delimiter: String,
    /// `headers.separator` (default `,`): between header entries.
    pub headers_separator: String,
    /// `headers.key.separator` (default `:`): between a header's key and value.
    pub headers_key_separator: String,
    /// `ignore.error` (default false).
    pub ignore_error: bool,
    /// `null.marker` (default none).
    pub null_marker: Option<String>,
}

impl LineReaderConfig {
    /// The defaults, for `topic`.
    #[must_use]
    pub fn new(topic: impl Into<String>) -> Self {
        LineReaderConfig {
            topic: topic.into(),
            parse_key: false,
            key_separator: "\t".to_owned(),
            parse_headers: false,
            headers_delimiter: "\t".to_owned(),
            headers_separator: ",".to_owned(),
            headers_key_separator: ":".to_owned(),
            ignore_error: false,
            null_marker: None,
        }
    }

    /// The configuration from reader properties (`--property`,
    /// `--reader-property`, `--reader-config`). Booleans are true when the
    /// trimmed value is `true` in any case, false otherwise, as in Java;
    /// other keys are ignored.
    ///
    /// # Errors
    ///
    /// Java's messages when two of the separators, or the null marker and a
    /// separator, are equal.
    pub fn from_properties(
        topic: impl Into<String>,
        props: &BTreeMap<String, String>,
    ) -> Result<Self, ReaderError> {
        let mut c = LineReaderConfig::new(topic);
        let flag = |v: &String| v.trim().eq_ignore_ascii_case("true");
        if let Some(v) = props.get("parse.key") {
            c.parse_key = flag(v);
        }
        if let Some(v) = props.get("key.separator") {
            c.key_separator.clone_from(v);
        }
        if let Some(v) = props.get("parse.headers") {
            c.parse_headers = flag(v);
        }
        if let Some(v) = props.get("headers.delimiter") {
            c.headers_delimiter.clone_from(v);
        }
        if let Some(v) = props.get("headers.separator") {
            c.headers_separator.clone_from(v);
        }
        if let Some(v) = props.get("headers.key.separator") {
            c.headers_key_separator.clone_from(v);
        }
        if let Some(v) = props.get("ignore.error") {
            c.ignore_error = flag(v);
        }
        c.null_marker = props.get("null.marker").cloned();
        c.validate()?;
        Ok(c)
    }

    /// Java's checks, in Java's order.
    fn validate(&self) -> Result<(), ReaderError> {
        let err = |m: &str| Err(ReaderError(m.to_owned()));
        if self.headers_delimiter == self.headers_separator {
            return err("headers.delimiter and headers.separator may not be equal");
        }
        if self.headers_delimiter == self.headers_key_separator {
            return err("headers.delimiter and headers.key.separator may not be equal");
        }
        if self.headers_separator == self.headers_key_separator {
            return err("headers.separator and headers.key.separator may not be equal");
        }
        if let Some(marker) = &self.null_marker {
            for (sep, name) in [
                (&self.key_separator, "key.separator"),
                (&self.headers_separator, "headers.separator"),
                (&self.headers_delimiter, "headers.delimiter"),
                (&self.headers_key_separator, "headers.key.separator"),
            ] {
                if sep == marker {
                    return Err(ReaderError(format!(
                        "null.marker and {name} may not be equal"
                    )));
                }
            }
        }
        Ok(())
    }

    fn is_null(&self, s: &str) -> bool {
        self.null_marker.as_deref() == Some(s)
    }

    /// The record for one line (without its line terminator);
    /// `line_number` counts from 1 and appears in error messages.
    ///
    /// # Errors
    ///
    /// Java's messages for a missing separator (unless `ignore.error`) and
    /// for a header key equal to the null marker.
    pub fn parse_line(&self, line: &str, line_number: u64) -> Result<ByteRecord, ReaderError> {
        let headers = self.split_off(
            self.parse_headers,
            line,
            0,
            &self.headers_delimiter,
            "headers delimiter",
            line_number,
        )?;
        let header_offset = headers.map_or(0, |h| h.len() + self.headers_delimiter.len());
        let key = self.split_off(
            self.parse_key,
            line,
            header_offset,
            &self.key_separator,
            "key separator",
            line_number,
        )?;
        let key_offset = key.map_or(0, |k| k.len() + self.key_separator.len());
        let value = &line[header_offset + key_offset..];

        let key = key
            .filter(|k| !self.is_null(k))
            .map(|k| k.as_bytes().to_vec());
        let value = Some(value)
            .filter(|v| !self.is_null(v))
            .map(|v| v.as_bytes().to_vec());
        let mut record = ProducerRecord::new(self.topic.clone(), Vec::new())
            .with_key_opt(key)
            .with_value_opt(value);
        if let Some(headers) = headers.filter(|h| !self.is_null(h)) {
            let parsed = self.split_headers(headers, line_number)?;
            record = record.with_headers(parsed);
        }
        Ok(record)
    }

    /// Java's `parse`: the text from `start` to the next `separator`, or
    /// `None` when parsing is off (or the separator is missing and errors
    /// are ignored).
    fn split_off<'a>(
        &self,
        enabled: bool,
        line: &'a str,
        start: usize,
        separator: &str,
        name: &str,
        line_number: u64,
    ) -> Result<Option<&'a str>, ReaderError> {
        if !enabled {
            return Ok(None);
        }
        match line[start..].find(separator) {
            Some(i) => Ok(Some(&line[start..start + i])),
            None if self.ignore_error => Ok(None),
            None => Err(ReaderError(format!(
                "No {name} found on line number {line_number}: '{line}'"
            ))),
        }
    }

    fn split_headers(&self, headers: &str, line_number: u64) -> Result<Vec<Header>, ReaderError> {
        java_split(headers, &self.headers_separator)
            .into_iter()
            .map(|pair| match pair.find(self.headers_key_separator.as_str()) {
                None if self.ignore_error => Ok(Header::null(pair)),
                None => Err(ReaderError(format!(
                    "No header key separator found in pair '{pair}' on line number {line_number}"
                ))),
                Some(i) => {
                    let key = &pair[..i];
                    if self.is_null(key) {
                        return Err(ReaderError(format!(
                            "Header keys should not be equal to the null marker '{}' as they can't be null",
                            self.null_marker.as_deref().unwrap_or_default()
                        )));
                    }
                    let value = &pair[i + self.headers_key_separator.len()..];
                    Ok(if self.is_null(value) {
                        Header::null(key)
                    } else {
                        Header::new(key, value.as_bytes())
                    })
                }
            })
            .collect()
    }
}

/// Java's `String.split` for a literal separator: no separator gives the
/// whole input (even when empty), trailing empty pieces are dropped, an
/// empty separator splits between characters.
fn java_split<'a>(s: &'a str, separator: &str) -> Vec<&'a str> {
    let mut parts: Vec<&str> = if separator.is_empty() {
        s.char_indices()
            .map(|(i, c)| &s[i..i + c.len_utf8()])
            .collect()
    } else if !s.contains(separator) {
        return vec![s];
    } else {
        s.split(separator).collect()
    };
    while parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    parts
}

/// Reads records from lines of input, as Java's `LineMessageReader`.
///
/// Yields one item per line: the record, or the error for a line that
/// cannot be parsed (the console producer stops at the first error, as
/// Java's does). An I/O error reading the input is an item too, after
/// which the reader ends.
pub struct LineMessageReader<R> {
    config: LineReaderConfig,
    input: R,
    line_number: u64,
    skip_lf: bool,
    prompt: Option<Box<dyn Write + Send>>,
    done: bool,
}

impl<R> fmt::Debug for LineMessageReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LineMessageReader")
            .field("config", &self.config)
            .field("line_number", &self.line_number)
            .finish_non_exhaustive()
    }
}

impl<R: BufRead> LineMessageReader<R> {
    /// A reader of `input` with `config`.
    pub fn new(config: LineReaderConfig, input: R) -> Self {
        LineMessageReader {
            config,
            input,
            line_number: 0,
            skip_lf: false,
            prompt: None,
            done: false,
        }
    }

    /// Writes `>` to `out` before reading each line, as Java does when a
    /// console is attached.
    #[must_use]
    pub fn with_prompt(mut self, out: Box<dyn Write + Send>) -> Self {
        self.prompt = Some(out);
        self
    }

    /// The number of the line read last (1-based).
    #[must_use]
    pub fn line_number(&self) -> u64 {
        self.line_number
    }

    /// The next line without its terminator; `None` at the end of input.
    fn read_line(&mut self) -> io::Result<Option<String>> {
        let mut bytes = Vec::new();
        let mut saw_any = false;
        loop {
            let buf = match self.input.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                break;
            }
            let mut start = 0;
            if self.skip_lf {
                // The previous line ended with '\r': a '\n' right after it
                // belongs to that terminator.
                self.skip_lf = false;
                if buf[0] == b'\n' {
                    start = 1;
                }
            }
            saw_any |= start < buf.len();
            match buf[start..].iter().position(|b| *b == b'\n' || *b == b'\r') {
                Some(i) => {
                    bytes.extend_from_slice(&buf[start..start + i]);
                    self.skip_lf = buf[start + i] == b'\r';
                    self.input.consume(start + i + 1);
                    return Ok(Some(String::from_utf8_lossy(&bytes).into_owned()));
                }
                None => {
                    bytes.extend_from_slice(&buf[start..]);
                    let n = buf.len();
                    self.input.consume(n);
                }
            }
        }
        Ok(saw_any.then(|| String::from_utf8_lossy(&bytes).into_owned()))
    }
}

impl<R: BufRead> Iterator for LineMessageReader<R> {
    type Item = Result<ByteRecord, ReaderError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        self.line_number += 1;
        if let Some(out) = self.prompt.as_mut() {
            // A prompt that cannot be written is not worth failing over.
            let _ = out.write_all(b">").and_then(|()| out.flush());
        }
        match self.read_line() {
            Ok(Some(line)) => Some(self.config.parse_line(&line, self.line_number)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(ReaderError(format!("error reading input: {e}"))))
            }
        }
    }
}

#[cfg(test)]
#[path = "line_reader_tests.rs"]
mod tests;
