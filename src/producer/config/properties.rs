//! A reader for Java `.properties` text (`java.util.Properties.load`), so an
//! existing `producer.properties` file can be used as it is.
//!
//! Rules, as Java's `Properties.load(Reader)`:
//! * lines end with `\n`, `\r` or `\r\n`; a line ending in an odd number of
//!   backslashes continues on the next line, whose leading whitespace is
//!   dropped;
//! * blank lines are skipped, and so are comment lines, whose first
//!   non-whitespace character is `#` or `!` (a trailing backslash does not
//!   continue a comment);
//! * the key ends at the first unescaped `=`, `:` or whitespace; whitespace
//!   and one `=` or `:` after it are skipped; the rest of the line is the
//!   value (trailing whitespace kept; Kafka trims values when it parses them);
//! * escapes: `\t`, `\n`, `\r`, `\f`, `\uXXXX`, and `\` before any other
//!   character stands for that character (`\\`, `\=`, `\:`, `\ `, `\#`).
//!   A malformed `\u` escape is an error, as in Java.
//! * a key given twice keeps its last value (the caller's map decides).

use crate::error::{Error, Result};

/// Java's whitespace in `.properties` syntax: space, tab, form feed.
fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{c}')
}

/// Parses `.properties` text into `(key, value)` pairs, in file order.
///
/// # Errors
///
/// [`Error::Config`] naming the key (or the line) for a malformed `\uXXXX`
/// escape.
pub fn parse_properties(text: &str) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (line_no, line) in logical_lines(text) {
        let (key, value) = split_key_value(&line);
        let key =
            unescape(key).map_err(|reason| malformed(&format!("line {line_no}"), key, reason))?;
        let value = unescape(value).map_err(|reason| malformed(&key, value, reason))?;
        out.push((key, value));
    }
    Ok(out)
}

fn malformed(key: &str, raw: &str, reason: &str) -> Error {
    Error::config(key, raw, reason)
}

/// The logical lines (continuations joined, comments and blank lines
/// dropped), each with the number of its first natural line. Escapes are
/// still raw: only continuation backslashes are consumed.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, natural) in natural_lines(text).into_iter().enumerate() {
        let trimmed = natural.trim_start_matches(is_ws);
        let (start, mut logical) = match current.take() {
            // A continuation line: leading whitespace is dropped, and a
            // leading '#' is data, not a comment.
            Some((start, acc)) => (start, acc + trimmed),
            None => {
                if trimmed.is_empty() || trimmed.starts_with(['#', '!']) {
                    continue;
                }
                (i + 1, trimmed.to_owned())
            }
        };
        let trailing = logical.chars().rev().take_while(|c| *c == '\\').count();
        if trailing % 2 == 1 {
            logical.pop();
            current = Some((start, logical));
        } else {
            out.push((start, logical));
        }
    }
    // A continuation at the end of the text ends the last line.
    if let Some((start, logical)) = current {
        if !logical.is_empty() {
            out.push((start, logical));
        }
    }
    out
}

/// Splits on `\n`, `\r` and `\r\n`.
fn natural_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(['\n', '\r']) {
        lines.push(&rest[..i]);
        let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
        rest = &rest[i + skip..];
    }
    if !rest.is_empty() {
        lines.push(rest);
    }
    lines
}

/// Splits a logical line into raw key and raw value.
fn split_key_value(line: &str) -> (&str, &str) {
    let mut escaped = false;
    let mut key_end = line.len();
    let mut sep_is_ws = false;
    for (i, c) in line.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '=' || c == ':' || is_ws(c) {
            key_end = i;
            sep_is_ws = is_ws(c);
            break;
        }
    }
    let key = &line[..key_end];
    let mut rest = &line[key_end..];
    if !rest.is_empty() {
        if !sep_is_ws {
            rest = &rest[1..];
        }
        rest = rest.trim_start_matches(is_ws);
        // After whitespace, one '=' or ':' may still follow ("key = value").
        if sep_is_ws {
            if let Some(r) = rest.strip_prefix(['=', ':']) {
                rest = r.trim_start_matches(is_ws);
            }
        }
    }
    (key, rest)
}

/// Resolves the escapes of a key or value.
fn unescape(raw: &str) -> std::result::Result<String, &'static str> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let code = (hex.len() == 4)
                    .then(|| u32::from_str_radix(&hex, 16).ok())
                    .flatten()
                    .ok_or("Malformed \\uxxxx encoding.")?;
                // Java strings are UTF-16: a lone surrogate has no Rust char.
                out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        parse_properties(text).unwrap()
    }

    fn p(k: &str, v: &str) -> (String, String) {
        (k.to_owned(), v.to_owned())
    }

    #[test]
    fn separators_and_whitespace() {
        assert_eq!(
            pairs("a=1\nb:2\nc 3\n  d  =  4\ne\t:\t5\nf\ng=\nh = = x\n"),
            vec![
                p("a", "1"),
                p("b", "2"),
                p("c", "3"),
                p("d", "4"),
                p("e", "5"),
                p("f", ""),
                p("g", ""),
                p("h", "= x")
            ]
        );
    }

    #[test]
    fn comments_blank_lines_and_line_endings() {
        let text =
            "# comment\r\n! also\r\n\r\n   \n  # indented comment\ra=1\r\nb=2 # not a comment";
        assert_eq!(pairs(text), vec![p("a", "1"), p("b", "2 # not a comment")]);
    }

    #[test]
    fn continuations() {
        let text = "list=a,\\\n    b,\\\n\tc\nkey\\\n  two=x\n# comment \\\nnext=y\nend=z\\";
        assert_eq!(
            pairs(text),
            vec![
                p("list", "a,b,c"),
                p("keytwo", "x"),
                p("next", "y"),
                p("end", "z")
            ]
        );
        // An even number of trailing backslashes is an escaped backslash.
        assert_eq!(pairs("a=x\\\\\nb=y"), vec![p("a", "x\\"), p("b", "y")]);
        // A continued line starting with '#' is data.
        assert_eq!(pairs("a=1\\\n#2"), vec![p("a", "1#2")]);
    }

    #[test]
    fn escapes() {
        assert_eq!(
            pairs("k\\=e\\:y\\ x = a\\tb\\nc\\\\d\\u0041\\u00e9\\q"),
            vec![p("k=e:y x", "a\tb\nc\\dAéq")]
        );
        let e = parse_properties("k=\\u00zz").unwrap_err();
        assert!(e.to_string().contains("Malformed \\uxxxx encoding."), "{e}");
        assert!(parse_properties("k=\\u12").is_err());
    }
}
