//! What the runtime does with a constraint: validate a value, describe it in
//! JSON Schema, and compare it with an older one.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{LazyLock, RwLock};

use regex::Regex;
use rust_decimal::Decimal;
use serde_json::{Value as Json, json};

use super::{Constraint, Constraints, anchored};
use crate::schema::{FieldSchema, SqlType};

/// A value being validated, in the form its constraints read.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// Text.
    Text(&'a str),
    /// An integer or a decimal.
    Number(Decimal),
}

/// A broken constraint: the error code and the message saying what is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// A stable, machine-readable code: the constraint's [`Constraint::code`].
    pub code: &'static str,
    /// What the value must be, e.g. `at most 12 characters`.
    pub detail: String,
}

impl Constraint {
    /// Why `value` breaks this constraint of `field`, or `None` when it holds
    /// (or does not apply to a value of that kind).
    pub fn violation(&self, field: &FieldSchema, value: Subject<'_>) -> Option<Violation> {
        let detail = match (self, value) {
            (Constraint::MaxLength(max), Subject::Text(text)) => {
                (text.chars().count() > *max as usize).then(|| format!("at most {max} characters"))
            }
            (Constraint::MinLength(min), Subject::Text(text)) => {
                (text.chars().count() < *min as usize).then(|| format!("at least {min} characters"))
            }
            (Constraint::Pattern(pattern), Subject::Text(text)) => {
                (!pattern_matches(pattern, text)).then(|| format!("must match `{pattern}`"))
            }
            (Constraint::Choices(values), Subject::Text(text)) => {
                (!values.contains(&text)).then(|| format!("expected one of {}", backticked(values)))
            }
            (Constraint::Minimum(min), Subject::Number(number)) => number_bound(min)
                .filter(|min| number < *min)
                .map(|min| format!("must be at least {min}")),
            (Constraint::ExclusiveMinimum(min), Subject::Number(number)) => number_bound(min)
                .filter(|min| number <= *min)
                .map(|min| format!("must be more than {min}")),
            (Constraint::Maximum(max), Subject::Number(number)) => number_bound(max)
                .filter(|max| number > *max)
                .map(|max| format!("must be at most {max}")),
            (Constraint::DecimalPlaces(places), Subject::Number(number)) => {
                (number.normalize().scale() > *places)
                    .then(|| format!("at most {places} digits after the decimal point"))
            }
            (Constraint::MaxDigits(digits), Subject::Number(number)) => {
                let integer_digits =
                    digits.saturating_sub(field.constraints.decimal_places().unwrap_or(0));
                let written = number
                    .normalize()
                    .trunc()
                    .abs()
                    .to_string()
                    .trim_start_matches('0')
                    .len() as u32;
                (written > integer_digits)
                    .then(|| format!("at most {integer_digits} digits before the decimal point"))
            }
            _ => None,
        }?;
        Some(Violation {
            code: self.code(),
            detail,
        })
    }

    /// The JSON Schema keywords stating this constraint of `field`. Decimals
    /// travel as strings, so their bounds and digits are `x-` keywords (the
    /// document's `pattern` for their text is the field's, not a constraint's).
    pub fn keywords(&self, field: &FieldSchema) -> Vec<(&'static str, Json)> {
        let decimal = field.sql_type == SqlType::Decimal;
        let integer = |text: &str| text.parse::<i64>().ok().map(Json::from);
        let bound = |decimal_keyword, keyword, text: &str| match decimal {
            true => Some((decimal_keyword, json!(text))),
            false => integer(text).map(|value| (keyword, value)),
        };
        match self {
            Constraint::MaxLength(max) => vec![("maxLength", json!(max))],
            Constraint::MinLength(min) => vec![("minLength", json!(min))],
            Constraint::Minimum(min) => bound("x-minimum", "minimum", min).into_iter().collect(),
            Constraint::ExclusiveMinimum(min) => {
                bound("x-exclusive-minimum", "exclusiveMinimum", min)
                    .into_iter()
                    .collect()
            }
            Constraint::Maximum(max) => bound("x-maximum", "maximum", max).into_iter().collect(),
            Constraint::Pattern(pattern) => vec![("pattern", json!(anchored(pattern)))],
            Constraint::MaxDigits(digits) => vec![("x-max-digits", json!(digits))],
            Constraint::DecimalPlaces(places) => vec![("x-decimal-places", json!(places))],
            Constraint::Choices(values) => {
                let mut values: Vec<Json> = values.iter().map(|value| json!(value)).collect();
                if field.nullable {
                    values.push(Json::Null);
                }
                vec![("enum", Json::Array(values))]
            }
        }
    }

    /// The constraint in words, for the description of a decimal, whose bounds
    /// JSON Schema cannot state on a string.
    pub fn decimal_note(&self) -> Option<String> {
        match self {
            Constraint::Minimum(min) => Some(format!("at least {min}")),
            Constraint::ExclusiveMinimum(min) => Some(format!("more than {min}")),
            Constraint::Maximum(max) => Some(format!("at most {max}")),
            Constraint::DecimalPlaces(places) => Some(format!("at most {places} decimal places")),
            _ => None,
        }
    }
}

impl<Text: AsRef<str> + PartialEq, List: AsRef<[Text]>> Constraint<Text, List> {
    /// Whether this constraint, replacing `old` (a field's previous list),
    /// rejects a value that `old` accepted. Each kind is compared with the
    /// same kind only, so trading a bound for another kind of bound counts as
    /// a tightening: the lint then asks for the safe recipe, which costs a
    /// review where a missed tightening would cost a failed deploy.
    pub fn tightens(&self, old: &[Self]) -> bool {
        let Some(previous) = self.same_kind_in(old) else {
            return true;
        };
        let number = |text: &Text| number_bound(text.as_ref());
        let raised = |new: &Text, old: &Text| match (number(new), number(old)) {
            (Some(new), Some(old)) => new > old,
            _ => new != old,
        };
        match (self, previous) {
            (Constraint::MaxLength(new), Constraint::MaxLength(old))
            | (Constraint::MaxDigits(new), Constraint::MaxDigits(old))
            | (Constraint::DecimalPlaces(new), Constraint::DecimalPlaces(old)) => new < old,
            (Constraint::MinLength(new), Constraint::MinLength(old)) => new > old,
            (Constraint::Minimum(new), Constraint::Minimum(old))
            | (Constraint::ExclusiveMinimum(new), Constraint::ExclusiveMinimum(old)) => {
                raised(new, old)
            }
            (Constraint::Maximum(new), Constraint::Maximum(old)) => raised(old, new),
            (Constraint::Pattern(new), Constraint::Pattern(old)) => new != old,
            (Constraint::Choices(new), Constraint::Choices(old)) => old
                .as_ref()
                .iter()
                .any(|value| !new.as_ref().contains(value)),
            _ => true,
        }
    }

    /// The constraint of the same kind in `constraints`, if there is one.
    fn same_kind_in<'a>(&self, constraints: &'a [Self]) -> Option<&'a Self> {
        constraints
            .iter()
            .find(|other| std::mem::discriminant(*other) == std::mem::discriminant(self))
    }
}

fn number_bound(text: &str) -> Option<Decimal> {
    Decimal::from_str(text).ok()
}

fn backticked(values: &[&str]) -> String {
    values
        .iter()
        .map(|value| format!("`{value}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether the whole of `text` matches `pattern`. Each pattern is compiled once
/// per process, on first use; `#[model]` has already refused one that does not
/// compile, so a pattern that fails here came from a hand-built schema and
/// matches nothing rather than everything.
fn pattern_matches(pattern: &'static str, text: &str) -> bool {
    static COMPILED: LazyLock<RwLock<HashMap<&'static str, Option<Regex>>>> =
        LazyLock::new(Default::default);
    let is_match =
        |compiled: &Option<Regex>| compiled.as_ref().is_some_and(|regex| regex.is_match(text));
    let cached = COMPILED
        .read()
        .ok()
        .and_then(|cache| cache.get(pattern).map(is_match));
    if let Some(matched) = cached {
        return matched;
    }
    let compiled = Regex::new(&anchored(pattern)).ok();
    let matched = is_match(&compiled);
    if let Ok(mut cache) = COMPILED.write() {
        cache.insert(pattern, compiled);
    }
    matched
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(sql_type: SqlType, constraints: &'static [Constraint]) -> FieldSchema {
        FieldSchema {
            constraints,
            ..FieldSchema::plain("value", sql_type, false)
        }
    }

    #[test]
    fn an_exclusive_minimum_refuses_the_bound_itself() {
        let rate = field(SqlType::Decimal, &[Constraint::ExclusiveMinimum("0")]);
        let check = |text: &str| {
            rate.constraints[0].violation(&rate, Subject::Number(text.parse().expect("a decimal")))
        };
        assert_eq!(
            check("0"),
            Some(Violation {
                code: "exclusive_min_value",
                detail: "must be more than 0".to_owned()
            })
        );
        assert_eq!(check("0.00000001"), None);
        assert_eq!(
            rate.constraints[0].keywords(&rate),
            [("x-exclusive-minimum", json!("0"))]
        );
        let count = field(SqlType::Int, &[Constraint::ExclusiveMinimum("0")]);
        assert_eq!(
            count.constraints[0].keywords(&count),
            [("exclusiveMinimum", json!(0))]
        );
    }

    #[test]
    fn patterns_match_the_whole_value_and_are_anchored_in_the_document() {
        let symbol = field(SqlType::Text, &[Constraint::Pattern("[A-Z]+|[0-9]+")]);
        let pattern = &symbol.constraints[0];
        assert_eq!(pattern.violation(&symbol, Subject::Text("ABC")), None);
        assert_eq!(pattern.violation(&symbol, Subject::Text("123")), None);
        for refused in ["ABC1", "aABC", "A1"] {
            assert!(
                pattern.violation(&symbol, Subject::Text(refused)).is_some(),
                "{refused}"
            );
        }
        assert_eq!(
            pattern.keywords(&symbol),
            [("pattern", json!("^(?:[A-Z]+|[0-9]+)$"))]
        );
    }

    #[test]
    fn a_pattern_that_does_not_compile_matches_nothing() {
        let broken = field(SqlType::Text, &[Constraint::Pattern("[A-Z")]);
        assert!(
            broken.constraints[0]
                .violation(&broken, Subject::Text("A"))
                .is_some()
        );
    }

    #[test]
    fn tightening_is_judged_per_kind() {
        let old: [Constraint; 4] = [
            Constraint::MinLength(2),
            Constraint::Minimum("0.5"),
            Constraint::Maximum("10"),
            Constraint::Choices(&["a", "b"]),
        ];
        assert!(Constraint::MinLength(3).tightens(&old));
        assert!(!Constraint::MinLength(1).tightens(&old));
        assert!(Constraint::Minimum("1").tightens(&old));
        assert!(!Constraint::Minimum("0.25").tightens(&old));
        assert!(Constraint::Maximum("9.5").tightens(&old));
        assert!(!Constraint::Maximum("11").tightens(&old));
        assert!(Constraint::ExclusiveMinimum("0").tightens(&old));
        let above_zero: Constraint = Constraint::ExclusiveMinimum("0");
        assert!(!above_zero.tightens(&[above_zero]));
        let choices = |values: &'static [&'static str]| Constraint::Choices(values);
        assert!(choices(&["a"]).tightens(&old));
        assert!(!choices(&["a", "b", "c"]).tightens(&old));
        assert!(Constraint::Pattern("[a-z]+").tightens(&old));
    }
}
