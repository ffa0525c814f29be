//! Parsed configuration values and Java's per-key validators
//! (`ConfigDef.parseType` and the `Validator` classes), with Java's error
//! messages.

use std::fmt;

use super::keys::{Check, KeyDef, Type};
use crate::error::{ConfigError, Error, Result};

/// One parsed value, typed as Java's `ConfigDef.Type`.
#[derive(Clone, PartialEq)]
pub(crate) enum Value {
    /// Java `null`: a key with a null default that was not given.
    Null,
    Bool(bool),
    Int(i32),
    Short(i16),
    Long(i64),
    Double(f64),
    Str(String),
    List(Vec<String>),
    /// A class name; Rust cannot load it, the caller maps known names.
    Class(String),
    /// A secret: never printed.
    Password(String),
}

/// What Java prints for a password (`Password.HIDDEN`).
pub(crate) const HIDDEN: &str = "[hidden]";

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Password(_) => f.write_str(HIDDEN),
            Value::Null => f.write_str("null"),
            other => fmt::Debug::fmt(&other.to_properties_string().unwrap_or_default(), f),
        }
    }
}

impl Value {
    /// The value in Java's `.properties` string form (lists comma-joined,
    /// passwords redacted); `None` for null.
    pub(crate) fn to_properties_string(&self) -> Option<String> {
        Some(match self {
            Value::Null => return None,
            Value::Bool(b) => b.to_string(),
            Value::Int(v) => v.to_string(),
            Value::Short(v) => v.to_string(),
            Value::Long(v) => v.to_string(),
            Value::Double(v) => java_double(*v),
            Value::Str(s) | Value::Class(s) => s.clone(),
            Value::List(l) => l.join(","),
            Value::Password(_) => HIDDEN.to_owned(),
        })
    }

    /// The value as Java's `AbstractConfig.logAll` prints it (`null`,
    /// `[a, b]` for lists, `class x.Y` for classes, `[hidden]`).
    pub(crate) fn to_java_log_string(&self) -> String {
        match self {
            Value::Null => "null".to_owned(),
            Value::List(l) => format!("[{}]", l.join(", ")),
            Value::Class(c) => format!("class {c}"),
            other => other.to_properties_string().unwrap_or_default(),
        }
    }
}

/// Java's `Double.toString` for the values configs use: always a decimal
/// point (`1.0`, `0.05`).
fn java_double(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e7 {
        format!("{v:.1}")
    } else {
        v.to_string()
    }
}

/// Java's `ConfigException(name, value, message)`.
pub(crate) fn invalid(key: &str, value: &str, reason: impl Into<String>) -> Error {
    Error::Config(ConfigError {
        key: key.to_owned(),
        value: value.to_owned(),
        reason: reason.into(),
    })
}

/// Parses `raw` as the key's type (Java trims first) and runs its validator.
pub(crate) fn parse_and_check(def: &KeyDef, raw: &str) -> Result<Value> {
    let v = parse_type(def, raw)?;
    check(def, raw, &v)?;
    Ok(v)
}

/// Java's `ConfigDef.parseType` for a string input.
fn parse_type(def: &KeyDef, raw: &str) -> Result<Value> {
    let t = raw.trim();
    let nan = || {
        invalid(
            def.name,
            raw,
            format!("Not a number of type {}", def.ty.java_name()),
        )
    };
    Ok(match def.ty {
        Type::Boolean => {
            if t.eq_ignore_ascii_case("true") {
                Value::Bool(true)
            } else if t.eq_ignore_ascii_case("false") {
                Value::Bool(false)
            } else {
                return Err(invalid(
                    def.name,
                    raw,
                    "Expected value to be either true or false",
                ));
            }
        }
        Type::String => Value::Str(t.to_owned()),
        Type::Password => Value::Password(t.to_owned()),
        Type::Class => Value::Class(t.to_owned()),
        Type::Int => Value::Int(t.parse().map_err(|_| nan())?),
        Type::Short => Value::Short(t.parse().map_err(|_| nan())?),
        Type::Long => Value::Long(t.parse().map_err(|_| nan())?),
        Type::Double => Value::Double(t.parse().map_err(|_| nan())?),
        // Java splits on "\\s*,\\s*" after trimming, keeping empty entries
        // (which the list validator then rejects).
        Type::List if t.is_empty() => Value::List(Vec::new()),
        Type::List => Value::List(t.split(',').map(|s| s.trim().to_owned()).collect()),
    })
}

/// Runs the key's validator on a parsed value.
fn check(def: &KeyDef, raw: &str, v: &Value) -> Result<()> {
    let name = def.name;
    match (def.check, v) {
        (Check::None, _) | (_, Value::Null) => Ok(()),
        (Check::AtLeast(min), _) => range(name, raw, v, Some(min), None),
        (Check::Between(min, max), _) => range(name, raw, v, Some(min), Some(max)),
        (Check::BetweenF(min, max), Value::Double(d)) => {
            if *d < min {
                Err(invalid(
                    name,
                    raw,
                    format!("Value must be at least {}", java_double(min)),
                ))
            } else if *d > max {
                Err(invalid(
                    name,
                    raw,
                    format!("Value must be no more than {}", java_double(max)),
                ))
            } else {
                Ok(())
            }
        }
        (Check::OneOf(allowed), Value::Str(s)) => {
            if allowed.contains(&s.as_str()) {
                Ok(())
            } else {
                Err(invalid(
                    name,
                    raw,
                    format!("String must be one of: {}", allowed.join(", ")),
                ))
            }
        }
        (Check::OneOfIgnoreCase(allowed), Value::Str(s)) => {
            if allowed.iter().any(|a| a.eq_ignore_ascii_case(s)) {
                Ok(())
            } else {
                Err(invalid(
                    name,
                    raw,
                    format!(
                        "String must be one of (case insensitive): {}",
                        allowed.join(", ")
                    ),
                ))
            }
        }
        (Check::NonEmptyString, Value::Str(s)) if s.is_empty() => {
            Err(invalid(name, raw, "String must be non-empty"))
        }
        (Check::ListNoDuplicates { empty_ok }, Value::List(items)) => {
            // Java throws ConfigException(message) here, without key and
            // value; we name both.
            if !empty_ok && items.is_empty() {
                return Err(invalid(
                    name,
                    raw,
                    format!(
                        "Configuration '{name}' must not be empty. Valid values include: any non-empty value"
                    ),
                ));
            }
            let mut seen = std::collections::HashSet::new();
            if !items.iter().all(|i| seen.insert(i)) {
                return Err(invalid(
                    name,
                    raw,
                    format!("Configuration '{name}' values must not be duplicated."),
                ));
            }
            if items.iter().any(String::is_empty) {
                return Err(invalid(
                    name,
                    raw,
                    format!("Configuration '{name}' values must not be empty."),
                ));
            }
            Ok(())
        }
        (Check::GzipLevel, Value::Int(level)) => {
            if *level > 9 || (*level < 1 && *level != -1) {
                Err(invalid(
                    name,
                    raw,
                    "Value must be between 1 and 9 or equal to -1",
                ))
            } else {
                Ok(())
            }
        }
        // The table pairs each validator with a type it applies to; any
        // other combination is accepted, as a validator that does not apply.
        _ => Ok(()),
    }
}

/// Java's `Range` validator on an integer value.
fn range(name: &str, raw: &str, v: &Value, min: Option<i64>, max: Option<i64>) -> Result<()> {
    let n = match v {
        Value::Int(n) => i64::from(*n),
        Value::Short(n) => i64::from(*n),
        Value::Long(n) => *n,
        _ => return Ok(()),
    };
    if let Some(min) = min.filter(|m| n < *m) {
        return Err(invalid(name, raw, format!("Value must be at least {min}")));
    }
    if let Some(max) = max.filter(|m| n > *m) {
        return Err(invalid(
            name,
            raw,
            format!("Value must be no more than {max}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::keys::all_defs;
    use super::*;

    #[test]
    fn every_default_parses_and_is_valid() {
        for def in all_defs() {
            if let super::super::keys::DefaultValue::Value(d) = def.default {
                assert!(parse_and_check(def, d).is_ok(), "default of {}", def.name);
            }
        }
    }

    #[test]
    fn doubles_print_as_java() {
        assert_eq!(java_double(0.8), "0.8");
        assert_eq!(java_double(1.0), "1.0");
        assert_eq!(java_double(0.05), "0.05");
    }

    #[test]
    fn passwords_never_print() {
        let v = Value::Password("s3cret".into());
        assert_eq!(format!("{v:?}"), "[hidden]");
        assert_eq!(format!("{:?}", Value::Long(5)), "\"5\"");
        assert_eq!(format!("{:?}", Value::Null), "null");
        assert_eq!(v.to_properties_string().as_deref(), Some("[hidden]"));
        assert_eq!(v.to_java_log_string(), "[hidden]");
    }
}
