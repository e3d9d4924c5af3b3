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
