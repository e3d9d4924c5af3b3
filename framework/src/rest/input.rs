//! Request bodies: reading JSON, then checking each field against its model
//! field's constraints, collecting every error with a JSON pointer.

use std::str::FromStr;

use axum::body::Body;
use axum::http::{HeaderMap, header};
use fw_core::constraint::Subject;
use fw_core::names::backticked;
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value as Json};
use uuid::Uuid;

use super::ResourceSpec;
use super::error::{ApiError, FieldError, escape_pointer};
use crate::field::Field;
use crate::schema::{Constraint, Constraints, DefaultValue, FieldSchema, SqlType};
use crate::value::{DECIMAL_DIGITS, DecimalText, Value, parse_date, parse_timestamp};

/// The largest request body accepted, in bytes.
pub(crate) const BODY_LIMIT: usize = 1024 * 1024;

/// Reads a JSON object body: 415 unless the content type is JSON, 413 over the
/// limit, 400 when it does not parse or is not an object.
pub(crate) async fn read_object(
    headers: &HeaderMap,
    body: Body,
) -> Result<Map<String, Json>, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if !(essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json")))
    {
        return Err(ApiError::UnsupportedMediaType);
    }
    let bytes = axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|_| ApiError::PayloadTooLarge { limit: BODY_LIMIT })?;
    match serde_json::from_slice::<Json>(&bytes) {
        Ok(Json::Object(object)) => Ok(object),
        Ok(_) => Err(ApiError::bad_request(
            "the request body must be a JSON object",
        )),
        Err(error) => Err(ApiError::bad_request(format!(
            "the request body is not valid JSON (line {}, column {})",
            error.line(),
            error.column()
        ))),
    }
}

/// A request body being read field by field. Generated code takes each field it
/// accepts; whatever is left over is reported as unknown (or read-only).
#[derive(Debug)]
pub struct Input {
    object: Map<String, Json>,
    errors: Vec<FieldError>,
    spec: &'static ResourceSpec,
}

impl Input {
    pub(crate) fn new(object: Map<String, Json>, spec: &'static ResourceSpec) -> Input {
        Input {
            object,
            errors: Vec::new(),
            spec,
        }
    }

    /// Field `name`, which must be present (a nullable field may be absent: it is
    /// then null). `None` when it is missing or invalid; the error is recorded.
    pub fn required<T: Field + DeserializeOwned>(
        &mut self,
        name: &'static str,
        field: &'static FieldSchema,
    ) -> Option<T> {
        match self.object.remove(name) {
            Some(json) => self.decode(name, field, json),
            None if T::NULLABLE => self.decode(name, field, Json::Null),
            None => {
                self.errors.push(FieldError::new(
                    format!("/{name}"),
                    "required",
                    "this field is required",
                ));
                None
            }
        }
    }

    /// Field `name` of a create body: when absent, the model field's declared
    /// default (`#[field(default = ...)]`) if it has one, else as
    /// [`Input::required`].
    pub fn or_default<T: Field + DeserializeOwned>(
        &mut self,
        name: &'static str,
        field: &'static FieldSchema,
    ) -> Option<T> {
        match field.default {
            Some(default) if !self.object.contains_key(name) => {
                self.decode(name, field, default_json(default))
            }
            _ => self.required(name, field),
        }
    }

    /// The value a create gives a model field the resource does not take from
    /// the body: its declared default, else null (the macro only calls this for
    /// a field that has one or is nullable).
    pub fn model_default<T: Field + DeserializeOwned>(
        &mut self,
        name: &'static str,
        field: &'static FieldSchema,
    ) -> Option<T> {
        let json = field.default.map_or(Json::Null, default_json);
        self.decode(name, field, json)
    }

    /// Field `name` if present (for PATCH): `None` when absent or invalid.
    pub fn optional<T: Field + DeserializeOwned>(
        &mut self,
        name: &'static str,
        field: &'static FieldSchema,
    ) -> Option<T> {
        let json = self.object.remove(name)?;
        self.decode(name, field, json)
    }

    /// Field `name` of an update body, `None` meaning "leave the stored value
    /// unchanged". A PATCH (`partial`) may leave out any field; a PUT only the
    /// fields a create may leave out (nullable, or with a default), which keep
    /// their stored value: so a client written before such a field was added
    /// does not reset it, and adding one is not a breaking change.
    pub fn updated<T: Field + DeserializeOwned>(
        &mut self,
        name: &'static str,
        field: &'static FieldSchema,
        partial: bool,
    ) -> Option<T> {
        if partial || field.nullable || field.default.is_some() {
            self.optional(name, field)
        } else {
            self.required(name, field)
        }
    }

    /// Field `name` of a create body for a model field (`stored`) that the
    /// resource shows as `R` (described by `shown`): read as `R`, then made
    /// the model's `T` by `convert`, whose error is a 422 on the field.
    ///
    /// A field shown in the model's JSON form (`shown` is `stored`) is read
    /// as [`Input::or_default`] reads it. One of a form of its own has no
    /// default of that form, so when it is absent and the model field has a
    /// default or is nullable, it takes that, as [`Input::model_default`]
    /// gives it; and the converted value is then checked against the model
    /// field's constraints, which `shown` does not carry.
    pub fn created_as<R, T>(
        &mut self,
        name: &'static str,
        shown: &'static FieldSchema,
        stored: &'static FieldSchema,
        convert: impl FnOnce(R) -> Result<T, String>,
    ) -> Option<T>
    where
        R: Field + DeserializeOwned,
        T: Field + DeserializeOwned,
    {
        if std::ptr::eq(shown, stored) {
            let value = self.or_default(name, shown)?;
            return self.converted(name, stored, false, value, convert);
        }
        if (stored.nullable || stored.default.is_some()) && !self.object.contains_key(name) {
            return self.model_default(name, stored);
        }
        let value = self.required(name, shown)?;
        self.converted(name, stored, true, value, convert)
    }

    /// Field `name` of an update body, as [`Input::updated`] reads it, for a
    /// model field (`stored`) the resource shows as `R` (see
    /// [`Input::created_as`]): whether it may be left out is the model
    /// field's to say, whatever form it is shown in.
    pub fn updated_as<R, T>(
        &mut self,
        name: &'static str,
        shown: &'static FieldSchema,
        stored: &'static FieldSchema,
        partial: bool,
        convert: impl FnOnce(R) -> Result<T, String>,
    ) -> Option<T>
    where
        R: Field + DeserializeOwned,
        T: Field,
    {
        let value = if partial || stored.nullable || stored.default.is_some() {
            self.optional(name, shown)?
        } else {
            self.required(name, shown)?
        };
        let own_form = !std::ptr::eq(shown, stored);
        self.converted(name, stored, own_form, value, convert)
    }

    /// `value` made the model field's type; a conversion that fails is the
    /// field's error, its message the detail. A value of a form of its own
    /// (`check_stored`) is then checked against the model field's
    /// constraints, which reading it as its own form did not check.
    fn converted<R, T: Field>(
        &mut self,
        name: &str,
        stored: &FieldSchema,
        check_stored: bool,
        value: R,
        convert: impl FnOnce(R) -> Result<T, String>,
    ) -> Option<T> {
        let value = match convert(value) {
            Ok(value) => value,
            Err(detail) => {
                self.errors
                    .push(FieldError::new(pointer(name), "invalid", detail));
                return None;
            }
        };
        if !check_stored {
            return Some(value);
        }
        let before = self.errors.len();
        validate(stored, &value.to_value(), name, &mut self.errors);
        (self.errors.len() == before).then_some(value)
    }

    /// Records fields nobody took; `true` when the body had no errors at all.
    pub fn finish(&mut self) -> bool {
        let mut leftover: Vec<String> = self.object.keys().cloned().collect();
        leftover.sort();
        for name in leftover {
            let shown = self.spec.fields.iter().find(|field| field.name == name);
            let error = match shown {
                Some(_) => FieldError::new(
                    pointer(&name),
                    "read_only",
                    "this field is read-only; leave it out",
                ),
                None => FieldError::new(
                    pointer(&name),
                    "unknown_field",
                    format!(
                        "unknown field; expected one of {}",
                        self.spec
                            .fields
                            .iter()
                            .filter(|field| !field.read_only)
                            .map(|field| format!("`{}`", field.name))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
            };
            self.errors.push(error);
        }
        self.object.clear();
        self.errors.is_empty()
    }

    pub(crate) fn into_error(self) -> ApiError {
        ApiError::Validation {
            errors: self.errors,
        }
    }

    fn decode<T: Field + DeserializeOwned>(
        &mut self,
        name: &str,
        field: &FieldSchema,
        json: Json,
    ) -> Option<T> {
        if json.is_null() && !T::NULLABLE {
            self.errors.push(FieldError::new(
                pointer(name),
                "null",
                "this field may not be null",
            ));
            return None;
        }
        // Decimals travel as strings so they stay exact; a JSON number would
        // already have been rounded by the client.
        if field.sql_type == SqlType::Decimal && !(json.is_string() || json.is_null()) {
            self.errors.push(type_error(pointer(name), field));
            return None;
        }
        // Decimals, dates and timestamps are read by fw's exact parsers, so
        // what is accepted is what the document's pattern and format say; the
        // type's own deserializer then reads the canonical text they return.
        let json = match exact_text(field, &json) {
            Some(Err(errors)) => {
                for (code, detail) in errors {
                    self.errors
                        .push(FieldError::new(pointer(name), code, detail));
                }
                return None;
            }
            Some(Ok(value)) => value.to_json(),
            None if field.sql_type.is_integer() => json_integer(&json).map_or(json, Json::from),
            None => json,
        };
        let value = match serde_json::from_value::<T>(json) {
            Ok(value) => value,
            Err(_) => {
                self.errors.push(type_error(pointer(name), field));
                return None;
            }
        };
        let before = self.errors.len();
        validate(field, &value.to_value(), name, &mut self.errors);
        (self.errors.len() == before).then_some(value)
    }
}

/// The integer a JSON number stands for, as JSON Schema reads `"type":
/// "integer"`: any number without a fractional part, `3` and `3.0` alike.
/// A number with a fraction, or one beyond 2^53 written with one (where a
/// double no longer holds every integer, so it may have been rounded), is
/// none.
pub(crate) fn json_integer(json: &Json) -> Option<i64> {
    /// 2^53: below it, a double holds every integer exactly.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    let Json::Number(number) = json else {
        return None;
    };
    number.as_i64().or_else(|| {
        let float = number.as_f64()?;
        // Below 2^53 in magnitude, the cast is exact.
        (float.fract() == 0.0 && float.abs() < EXACT).then_some(float as i64)
    })
}

/// The value of a decimal, date or timestamp body field given as a string,
/// read exactly (`None` for other fields and other JSON).
/// A declared default as JSON, the way an API body would carry it (decimals and
/// dates as their text).
pub(crate) fn default_json(default: DefaultValue) -> Json {
    match default {
        DefaultValue::Int(value) => value.into(),
        DefaultValue::Bool(value) => value.into(),
        DefaultValue::Text(value) => value.into(),
    }
}

fn exact_text(
    field: &FieldSchema,
    json: &Json,
) -> Option<Result<Value, Vec<(&'static str, String)>>> {
    let Json::String(text) = json else {
        return None;
    };
    let invalid = || vec![("invalid", format!("expected {}", describe(field.sql_type)))];
    Some(match field.sql_type {
        SqlType::Decimal => parse_decimal(field, text).map(Value::Decimal),
        SqlType::Date => parse_date(text).map(Value::Date).ok_or_else(invalid),
        SqlType::Timestamp => parse_timestamp(text)
            .map(Value::Timestamp)
            .ok_or_else(invalid),
        _ => return None,
    })
}

/// The JSON pointer of body member `name`, built only for an error.
pub(crate) fn pointer(name: &str) -> String {
    format!("/{}", escape_pointer(name))
}

fn type_error(pointer: String, field: &FieldSchema) -> FieldError {
    let choices = field.constraints.choices();
    if !choices.is_empty() {
        return FieldError::new(
            pointer,
            "invalid_choice",
            format!("expected one of {}", backticked(choices.iter().copied())),
        );
    }
    FieldError::new(
        pointer,
        "invalid",
        format!("expected {}", describe(field.sql_type)),
    )
}

/// What a value of `sql_type` looks like, for error messages.
pub(crate) fn describe(sql_type: SqlType) -> &'static str {
    match sql_type {
        SqlType::SmallInt | SqlType::Int | SqlType::BigInt => "an integer",
        SqlType::Bool => "`true` or `false`",
        SqlType::Text => "a string",
        SqlType::Decimal => "a decimal number as a string, like `\"12.50\"`",
        SqlType::Date => "a date like `2026-03-15`, in years 0001 to 9999",
        SqlType::Timestamp => {
            "an RFC 3339 timestamp like `2026-03-15T09:30:00Z`, in years 0001 to 9999 (UTC)"
        }
        SqlType::Uuid => "a UUID",
        SqlType::Json => "a JSON value",
    }
}

/// Why text with U+0000 is refused: PostgreSQL cannot store it, so accepting it
/// on SQLite alone would make the two databases disagree.
pub(crate) const NUL_CHARACTER: &str =
    "must not contain the NUL character (U+0000), which the database cannot store";

/// Checks `value` against every constraint declared on `field`, recording an
/// error per broken constraint. The same constraints are the database's CHECKs
/// and the OpenAPI keywords.
pub(crate) fn validate(
    field: &FieldSchema,
    value: &Value,
    name: &str,
    errors: &mut Vec<FieldError>,
) {
    let subject = match value {
        Value::Text(text) => {
            if text.contains('\0') {
                errors.push(FieldError::new(
                    pointer(name),
                    "null_character",
                    NUL_CHARACTER,
                ));
            }
            Subject::Text(text)
        }
        Value::Int(number) => Subject::Number(Decimal::from(*number)),
        Value::Decimal(number) => Subject::Number(*number),
        _ => return,
    };
    errors.extend(
        field
            .constraints
            .iter()
            .filter_map(|constraint| constraint.violation(field, subject))
            .map(|violation| FieldError::new(pointer(name), violation.code, violation.detail)),
    );
}

/// The most digits a decimal field takes before and after the point: its
/// declared `max_digits` and `decimal_places`, else what rust_decimal holds.
fn decimal_limits(field: &FieldSchema) -> (u32, u32) {
    let constraints = field.constraints;
    let places = constraints.decimal_places().unwrap_or(DECIMAL_DIGITS);
    let integer_digits = constraints.max_digits().map_or(DECIMAL_DIGITS, |digits| {
        digits.saturating_sub(constraints.decimal_places().unwrap_or(0))
    });
    (integer_digits, places)
}

/// Whether a decimal field takes a minus sign: not when its lower bound is zero
/// or more (so `-0` is refused where the document's pattern has no sign).
fn decimal_signed(field: &FieldSchema) -> bool {
    field
        .constraints
        .lower_bound()
        .and_then(Constraint::bound)
        .and_then(|min| Decimal::from_str(min).ok())
        .is_none_or(|min| min.is_sign_negative() && !min.is_zero())
}

/// The pattern of a decimal field's text in the OpenAPI document: exactly
/// what [`parse_decimal`] accepts, but for the range of the value (`x-minimum`,
/// `x-maximum`) and, where places are not declared, rust_decimal's limit of
/// 28 significant digits in all.
pub(crate) fn decimal_pattern(field: &FieldSchema) -> String {
    let (integer_digits, places) = decimal_limits(field);
    let sign = if decimal_signed(field) { "-?" } else { "" };
    let integer = match integer_digits {
        0 => "0".to_owned(),
        1 => "[0-9]".to_owned(),
        digits => format!("(0|[1-9][0-9]{{0,{}}})", digits - 1),
    };
    let fraction = match places {
        0 => String::new(),
        places => format!(r"(\.[0-9]{{1,{places}}})?"),
    };
    format!("^{sign}{integer}{fraction}$")
}

/// Reads decimal field text exactly: the syntax of the document's pattern, no
/// more places or digits than the field declares (never rounded), no sign
/// where the minimum is zero or more. The errors are the code and detail of
/// each broken rule, as body field errors give them.
pub(crate) fn parse_decimal(
    field: &FieldSchema,
    text: &str,
) -> Result<Decimal, Vec<(&'static str, String)>> {
    let written = DecimalText::parse(text).ok_or_else(|| {
        vec![(
            "invalid",
            format!("expected {}", describe(SqlType::Decimal)),
        )]
    })?;
    let (integer_digits, places) = decimal_limits(field);
    let mut errors = Vec::new();
    if written.negative
        && !decimal_signed(field)
        && let Some(bound) = field.constraints.lower_bound()
    {
        let bound_in_words = bound.decimal_note().unwrap_or_default();
        errors.push((
            bound.code(),
            format!("must be {bound_in_words}, without a sign"),
        ));
    }
    if written.places > places {
        errors.push((
            "decimal_places",
            format!("at most {places} digits after the decimal point"),
        ));
    }
    if written.integer_digits > integer_digits {
        errors.push((
            "max_digits",
            format!("at most {integer_digits} digits before the decimal point"),
        ));
    }
    match written.value {
        Some(value) if errors.is_empty() => Ok(value),
        None if errors.is_empty() => Err(vec![(
            "max_digits",
            format!("at most {DECIMAL_DIGITS} significant digits"),
        )]),
        _ => Err(errors),
    }
}

/// Parses query-string text as a value of `field`'s type.
pub(crate) fn parse_text(field: &FieldSchema, text: &str) -> Result<Value, String> {
    let fail = || format!("expected {}", describe(field.sql_type));
    Ok(match field.sql_type {
        SqlType::SmallInt | SqlType::Int | SqlType::BigInt => {
            Value::Int(crate::value::parse_integer(text).ok_or_else(fail)?)
        }
        SqlType::Bool => match text {
            "true" | "1" => Value::Bool(true),
            "false" | "0" => Value::Bool(false),
            _ => return Err(fail()),
        },
        SqlType::Text => {
            if text.contains('\0') {
                return Err(NUL_CHARACTER.to_owned());
            }
            if let Some(violation) = field
                .constraints
                .iter()
                .filter(|constraint| matches!(constraint, Constraint::Choices(_)))
                .find_map(|constraint| constraint.violation(field, Subject::Text(text)))
            {
                return Err(violation.detail);
            }
            Value::Text(text.to_owned())
        }
        SqlType::Decimal => Value::Decimal(parse_decimal(field, text).map_err(|errors| {
            errors
                .into_iter()
                .map(|(_, detail)| detail)
                .collect::<Vec<_>>()
                .join("; ")
        })?),
        SqlType::Date => Value::Date(parse_date(text).ok_or_else(fail)?),
        SqlType::Timestamp => Value::Timestamp(parse_timestamp(text).ok_or_else(fail)?),
        SqlType::Uuid => Value::Uuid(Uuid::parse_str(text).map_err(|_| fail())?),
        _ => return Err("this field cannot be compared".to_owned()),
    })
}

/// The value of `field` in a JSON document written by [`Value::to_json`].
pub(crate) fn from_json(field: &FieldSchema, json: &Json) -> Option<Value> {
    match json {
        Json::Null => Some(Value::Null),
        Json::Bool(value) => Some(Value::Bool(*value)),
        Json::Number(_) => json_integer(json).map(Value::Int),
        Json::String(text) => parse_text(field, text).ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use regex::Regex;

    use super::*;

    fn decimal(min: Option<&'static str>, digits: Option<u32>, places: Option<u32>) -> FieldSchema {
        let constraints = [
            min.map(Constraint::Minimum),
            digits.map(Constraint::MaxDigits),
            places.map(Constraint::DecimalPlaces),
        ];
        FieldSchema {
            constraints: constraints.into_iter().flatten().collect::<Vec<_>>().leak(),
            ..FieldSchema::plain("rate", SqlType::Decimal, false)
        }
    }

    /// The document's pattern and the parser accept exactly the same text, but
    /// for the significant-digit limit of fields without declared places.
    #[test]
    fn decimal_patterns_accept_what_the_parser_accepts() {
        let samples = [
            "0", "-0", "1", "-1", "10", "0.5", "-0.5", "0.12", "0.123", "1.10", "99.99", "100",
            "123.4", "1234", "12345", "00", "01", "1.", ".5", "1e5", "+1", "1_000", " 1", "1 ", "",
            "-", "0.0000", "12.3456", "-12.345",
        ];
        for field in [
            decimal(None, Some(4), Some(2)),
            decimal(Some("0"), Some(4), Some(2)),
            decimal(Some("-5"), Some(3), Some(0)),
            decimal(Some("0"), Some(2), Some(2)),
            decimal(None, None, Some(3)),
            decimal(None, Some(5), None),
        ] {
            let pattern = decimal_pattern(&field);
            let regex = Regex::new(&pattern).expect("a valid pattern");
            for sample in samples {
                assert_eq!(
                    regex.is_match(sample),
                    parse_decimal(&field, sample).is_ok(),
                    "`{sample}` against `{pattern}`"
                );
            }
        }
    }

    #[test]
    fn integers_are_numbers_without_a_fraction() {
        assert_eq!(json_integer(&serde_json::json!(678)), Some(678));
        assert_eq!(json_integer(&serde_json::json!(678.0)), Some(678));
        assert_eq!(json_integer(&serde_json::json!(-2.0)), Some(-2));
        assert_eq!(json_integer(&serde_json::json!(678.5)), None);
        assert_eq!(json_integer(&serde_json::json!(1e300)), None);
        assert_eq!(json_integer(&serde_json::json!("678")), None);
    }

    #[test]
    fn decimals_are_never_rounded() {
        let field = decimal(Some("0"), Some(18), Some(8));
        let tiny = format!("0.{}1", "0".repeat(29));
        let codes = |text: &str| -> Vec<&str> {
            parse_decimal(&field, text)
                .err()
                .unwrap_or_default()
                .into_iter()
                .map(|(code, _)| code)
                .collect()
        };
        assert_eq!(codes(&tiny), ["decimal_places"]);
        assert_eq!(codes("0.123456789"), ["decimal_places"]);
        assert_eq!(codes("-0.123456789"), ["min_value", "decimal_places"]);
        assert_eq!(codes("12345678901"), ["max_digits"]);
        assert_eq!(
            parse_decimal(&field, "1234567890.12345678").map(|value| value.to_string()),
            Ok("1234567890.12345678".to_owned())
        );
        let unbounded = decimal(None, None, None);
        assert_eq!(
            parse_decimal(
                &unbounded,
                &format!("{}.{}", "9".repeat(20), "9".repeat(20))
            )
            .err()
            .map(|errors| errors[0].0),
            Some("max_digits"),
            "more digits than rust_decimal holds is refused, not rounded"
        );
    }
}
