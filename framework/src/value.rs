//! [`Value`]: a field value with its type erased, for the parts of fw that handle
//! fields generically (filters, keyset cursors, the change log, error details).

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

/// A single field value, detached from its Rust type.
///
/// Typed code never builds these by hand: the typed query API converts each
/// argument with [`Field::to_value`](crate::Field::to_value), so a filter can only
/// hold a value of its column's type.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A boolean.
    Bool(bool),
    /// Any integer column (`i16`, `i32`, `i64`).
    Int(i64),
    /// Text, including choices.
    Text(String),
    /// An exact decimal.
    Decimal(Decimal),
    /// A calendar date.
    Date(NaiveDate),
    /// An instant in UTC.
    Timestamp(DateTime<Utc>),
    /// A UUID.
    Uuid(Uuid),
    /// A JSON document.
    Json(serde_json::Value),
}

impl Value {
    /// A primary key as the text a sensitive field's seal binds it with (the
    /// [`Place::row`](crate::sensitive::Place::row)): integers in decimal, UUIDs
    /// hyphenated, text as it is, anything else as its JSON.
    pub fn key_text(&self) -> String {
        match self {
            Value::Int(value) => value.to_string(),
            Value::Text(value) => value.clone(),
            Value::Uuid(value) => value.hyphenated().to_string(),
            other => other.to_json().to_string(),
        }
    }

    /// The value as JSON, in the API's conventions: decimals as strings, timestamps
    /// as RFC 3339 UTC, dates as `YYYY-MM-DD` (as its [`Serialize`](serde::Serialize)
    /// writes it, without the tree).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Bool(value) => J::Bool(*value),
            Value::Int(value) => J::from(*value),
            Value::Text(value) => J::String(value.clone()),
            Value::Decimal(value) => J::String(value.to_string()),
            Value::Date(value) => J::String(value.to_string()),
            Value::Timestamp(value) => {
                J::String(value.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
            }
            Value::Uuid(value) => J::String(value.to_string()),
            Value::Json(value) => value.clone(),
        }
    }
}

/// Writes what [`Value::to_json`] returns, straight to the serializer.
impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(value) => serializer.serialize_bool(*value),
            Value::Int(value) => serializer.serialize_i64(*value),
            Value::Text(value) => serializer.serialize_str(value),
            Value::Decimal(value) => serializer.collect_str(value),
            Value::Date(value) => serializer.collect_str(value),
            Value::Timestamp(value) => serializer
                .serialize_str(&value.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
            Value::Uuid(value) => serializer.collect_str(value),
            Value::Json(value) => value.serialize(serializer),
        }
    }
}

/// The years a date or timestamp may have: what both databases store and
/// compare correctly (SQLite keeps them as text, which sorts a fifth year digit
/// wrong; PostgreSQL refuses years before 4713 BC).
pub(crate) const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// Parses an integer as JSON writes one (`-5`, `12`): Rust's parser also takes
/// a leading `+`, which the document's `integer` does not allow. The one integer
/// parser of query strings and path ids.
pub(crate) fn parse_integer<T: std::str::FromStr>(text: &str) -> Option<T> {
    if text.starts_with('+') {
        return None;
    }
    text.parse().ok()
}

/// Parses an RFC 3339 full-date (`2026-03-15`: four-digit year, two-digit
/// month and day) with a year in [`YEARS`]; the one date parser of request
/// bodies, query strings and cursors.
pub(crate) fn parse_date(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        bytes[range.clone()]
            .iter()
            .all(u8::is_ascii_digit)
            .then(|| text[range].parse::<u32>().ok())
            .flatten()
    };
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let year = i32::try_from(digits(0..4)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, digits(5..7)?, digits(8..10)?)?;
    YEARS.contains(&year).then_some(date)
}

/// Parses an RFC 3339 date-time (`2026-03-15T09:30:00Z`, any offset) whose
/// instant in UTC falls in [`YEARS`]; the one timestamp parser of request
/// bodies, query strings and cursors.
pub(crate) fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    use chrono::Datelike as _;
    let timestamp = DateTime::parse_from_rfc3339(text).ok()?.with_timezone(&Utc);
    YEARS.contains(&timestamp.year()).then_some(timestamp)
}

/// The digits rust_decimal holds: no more places than this, and no value
/// with more significant digits.
pub(crate) const DECIMAL_DIGITS: u32 = 28;

/// A decimal as written: a JSON number without exponent, in a string
/// (`-?(0|[1-9][0-9]*)(\.[0-9]+)?`). Signs, exponents, leading zeros, bare
/// points and separators are not decimals; places are counted as written, so
/// nothing is ever rounded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct DecimalText {
    /// The value, when rust_decimal can hold it exactly.
    pub(crate) value: Option<Decimal>,
    /// Whether it was written with a minus sign (`-0` included).
    pub(crate) negative: bool,
    /// Digits before the point, `0` counting as none.
    pub(crate) integer_digits: u32,
    /// Digits after the point, trailing zeros included.
    pub(crate) places: u32,
}

impl DecimalText {
    /// Parses `text`; `None` when it is not written as a decimal.
    pub(crate) fn parse(text: &str) -> Option<DecimalText> {
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (integer, fraction) = match unsigned.split_once('.') {
            Some((integer, fraction)) => (integer, Some(fraction)),
            None => (unsigned, None),
        };
        let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(integer)
            || (integer.len() > 1 && integer.starts_with('0'))
            || fraction.is_some_and(|fraction| !all_digits(fraction))
        {
            return None;
        }
        let places = fraction.map_or(0, str::len);
        let integer_digits = if integer == "0" { 0 } else { integer.len() };
        Some(DecimalText {
            value: Decimal::from_str_exact(text).ok(),
            negative,
            integer_digits: u32::try_from(integer_digits).unwrap_or(u32::MAX),
            places: u32::try_from(places).unwrap_or(u32::MAX),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_rfc_3339_full_dates_in_years_1_to_9999() {
        for accepted in ["0001-01-01", "2026-02-28", "2024-02-29", "9999-12-31"] {
            assert_eq!(
                parse_date(accepted).map(|date| date.to_string()),
                Some(accepted.to_owned())
            );
        }
        for refused in [
            "0000-12-31",
            "+10000-01-01",
            "10000-01-01",
            "-0001-01-01",
            "2026-1-20",
            "2026-01-2",
            "2026-02-30",
            "2026-13-01",
            "2026/01/20",
            "2026-01-20T00:00:00Z",
            " 2026-01-20",
            "2026-01-20 ",
            "+2026-01-20",
            "２０２６-01-20",
            "",
        ] {
            assert_eq!(parse_date(refused), None, "`{refused}`");
        }
    }

    #[test]
    fn timestamps_are_rfc_3339_in_years_1_to_9999_utc() {
        for accepted in [
            "0001-01-01T00:00:00Z",
            "2026-03-15T09:30:00.123456Z",
            "2026-03-15T09:30:00+02:00",
            "9999-12-31T23:59:59Z",
        ] {
            assert!(parse_timestamp(accepted).is_some(), "`{accepted}`");
        }
        for refused in [
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-01:00",
            "+10000-01-01T00:00:00Z",
            "2026-03-15",
            "2026-03-15T09:30:00",
            "2026-3-15T09:30:00Z",
        ] {
            assert_eq!(parse_timestamp(refused), None, "`{refused}`");
        }
    }

    #[test]
    fn decimal_text_is_a_json_number_without_exponent() {
        for refused in [
            "1e5", ".5", "5.", "+1", "1_000", "01", "-", "", " 1", "1 ", "0x1", "1.2.3",
        ] {
            assert_eq!(DecimalText::parse(refused), None, "`{refused}`");
        }
        let written = DecimalText::parse("-12.3400").expect("a decimal");
        assert!(written.negative);
        assert_eq!((written.integer_digits, written.places), (2, 4));
        assert_eq!(
            written.value.map(|value| value.to_string()),
            Some("-12.3400".to_owned())
        );
        let zero = DecimalText::parse("0.5").expect("a decimal");
        assert_eq!(zero.integer_digits, 0);
    }
}
