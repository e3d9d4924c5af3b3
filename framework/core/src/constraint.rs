//! A field's constraints: each kind in one place, with everything the framework
//! does with it.
//!
//! A constraint is declared once, on the field (`#[field(max_length = 12)]`), and
//! drives every layer that enforces or describes it. Each kind here says, in its
//! own match arm:
//!
//! - its key in migration files ([`Constraint::key`], [`Constraint::from_setting`]);
//! - its database CHECK per dialect ([`Constraint::sql_check`]);
//! - with the `runtime` feature (the `runtime` module below): whether a new
//!   value of it rejects values an old one accepted (`Constraint::tightens`:
//!   the migration lint), the validation of a value (`Constraint::violation`:
//!   the REST layer) and its JSON Schema keywords (`Constraint::keywords`: the
//!   OpenAPI document, whose breaking-change report reads the keywords'
//!   direction from [`bound_keyword`]).
//!
//! Adding a kind is a variant here plus its `#[field]` option in the macro's
//! attribute parser (`macros/src/model/attr.rs`), which lists the declared
//! constraints; the expansion spells each with [`Constraint::variant_name`] and
//! [`Constraint::setting`].
//!
//! The `runtime` feature exists because this crate is also compiled for the
//! macros, on the host, where regular expressions, decimals and JSON are not
//! needed: `fw` enables it, `fw-macros` does not.

use crate::schema::SqlType;
use crate::sql::{Dialect, quote_ident};

/// One constraint on a field's values.
///
/// The schema `#[model]` emits holds `&'static str` text (the default type
/// parameters); migration state read from files holds owned text
/// ([`OwnedConstraint`]). The variants are in the order migration files list
/// their keys, and a field's list is kept in that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Constraint<Text = &'static str, List = &'static [&'static str]> {
    /// At most this many characters (`max_length`).
    MaxLength(u32),
    /// At least this many characters (`min_length`).
    MinLength(u32),
    /// At least this number (`min`), in text so decimals stay exact.
    Minimum(Text),
    /// More than this number (`exclusive_min`), in text so decimals stay exact.
    ExclusiveMinimum(Text),
    /// At most this number (`max`), in text so decimals stay exact.
    Maximum(Text),
    /// A regular expression the whole value matches (`pattern`). It is anchored
    /// the same way everywhere ([`anchored`]): by the server, in the document
    /// and in the PostgreSQL CHECK.
    Pattern(Text),
    /// At most this many digits in all, for decimals (`max_digits`).
    MaxDigits(u32),
    /// At most this many digits after the point, for decimals (`decimal_places`).
    DecimalPlaces(u32),
    /// One of these values: the variants of a `#[derive(Choices)]` enum.
    Choices(List),
}

/// A constraint as migration state holds it, read from a file.
pub type OwnedConstraint = Constraint<String, Vec<String>>;

/// A constraint's value in a migration file: `max_length = 12`,
/// `min_value = "0"`, `choices = ["stock", "etf"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting<Text> {
    /// A count.
    Count(u32),
    /// A number or a pattern, as a string.
    Text(Text),
    /// A list of strings.
    List(Vec<Text>),
}

/// The pattern as every layer applies it: matching the whole value. A pattern
/// that already anchors the whole value (`^[A-Z]+$`) is kept as written, so the
/// document shows what the author wrote; any other (`[A-Z]+`, `^a|b$`) is
/// wrapped as `^(?:pattern)$`.
pub fn anchored(pattern: &str) -> String {
    if anchors_whole_value(pattern) {
        pattern.to_owned()
    } else {
        format!("^(?:{pattern})$")
    }
}

/// Why `pattern` cannot be a field's pattern: empty, or not a regular
/// expression the runtime's `regex` crate compiles (parsed with the same
/// parser, so a pattern `#[model]` accepts compiles at run time).
pub fn pattern_error(pattern: &str) -> Option<String> {
    if pattern.is_empty() {
        return Some(
            "`pattern` must not be empty: give a regular expression, e.g. `pattern = \"[A-Z]+\"`"
                .to_owned(),
        );
    }
    let error = regex_syntax::Parser::new().parse(pattern).err()?;
    // The parser's message is several lines drawing the pattern; its kind alone
    // reads as a sentence.
    let reason = match &error {
        regex_syntax::Error::Parse(error) => error.kind().to_string(),
        regex_syntax::Error::Translate(error) => error.kind().to_string(),
        other => other.to_string(),
    };
    Some(format!(
        "`pattern` is not a valid regular expression: {reason}; write one the whole value \
         must match, e.g. `pattern = \"[A-Z]+\"`"
    ))
}

/// Whether `pattern` is `^…$` as a whole: a sequence that starts at the start
/// of the text and ends at its end. Read by the parser, not the spelling, so
/// `^a|b$` (either end, not both) and `^a\$` (a literal dollar) are not.
fn anchors_whole_value(pattern: &str) -> bool {
    use regex_syntax::hir::{HirKind, Look};
    let Ok(hir) = regex_syntax::Parser::new().parse(pattern) else {
        return false;
    };
    let HirKind::Concat(parts) = hir.kind() else {
        return false;
    };
    let is = |part: Option<&regex_syntax::hir::Hir>, look: Look| {
        part.is_some_and(|part| matches!(part.kind(), HirKind::Look(found) if *found == look))
    };
    is(parts.first(), Look::Start) && is(parts.last(), Look::End)
}

impl<Text: AsRef<str>, List: AsRef<[Text]>> Constraint<Text, List> {
    /// The constraint's key in migration files.
    pub fn key(&self) -> &'static str {
        match self {
            Constraint::MaxLength(_) => "max_length",
            Constraint::MinLength(_) => "min_length",
            Constraint::Minimum(_) => "min_value",
            Constraint::ExclusiveMinimum(_) => "exclusive_min_value",
            Constraint::Maximum(_) => "max_value",
            Constraint::Pattern(_) => "pattern",
            Constraint::MaxDigits(_) => "max_digits",
            Constraint::DecimalPlaces(_) => "decimal_places",
            Constraint::Choices(_) => "choices",
        }
    }

    /// The name of its variant, for code that spells a constraint out
    /// (`#[model]`'s expansion writes `Constraint::<name>(<setting>)`).
    pub fn variant_name(&self) -> &'static str {
        match self {
            Constraint::MaxLength(_) => "MaxLength",
            Constraint::MinLength(_) => "MinLength",
            Constraint::Minimum(_) => "Minimum",
            Constraint::ExclusiveMinimum(_) => "ExclusiveMinimum",
            Constraint::Maximum(_) => "Maximum",
            Constraint::Pattern(_) => "Pattern",
            Constraint::MaxDigits(_) => "MaxDigits",
            Constraint::DecimalPlaces(_) => "DecimalPlaces",
            Constraint::Choices(_) => "Choices",
        }
    }

    /// The number of a bound (`min`, `exclusive_min`, `max`), in text.
    pub fn bound(&self) -> Option<&str> {
        match self {
            Constraint::Minimum(value)
            | Constraint::ExclusiveMinimum(value)
            | Constraint::Maximum(value) => Some(value.as_ref()),
            _ => None,
        }
    }

    /// The code of the validation error a value breaking it gets.
    pub fn code(&self) -> &'static str {
        match self {
            Constraint::Choices(_) => "invalid_choice",
            other => other.key(),
        }
    }

    /// The constraint with owned text, as migration state holds it.
    pub fn to_owned_constraint(&self) -> OwnedConstraint {
        let text = |text: &Text| text.as_ref().to_owned();
        match self {
            Constraint::MaxLength(count) => Constraint::MaxLength(*count),
            Constraint::MinLength(count) => Constraint::MinLength(*count),
            Constraint::Minimum(value) => Constraint::Minimum(text(value)),
            Constraint::ExclusiveMinimum(value) => Constraint::ExclusiveMinimum(text(value)),
            Constraint::Maximum(value) => Constraint::Maximum(text(value)),
            Constraint::Pattern(pattern) => Constraint::Pattern(text(pattern)),
            Constraint::MaxDigits(count) => Constraint::MaxDigits(*count),
            Constraint::DecimalPlaces(count) => Constraint::DecimalPlaces(*count),
            Constraint::Choices(values) => {
                Constraint::Choices(values.as_ref().iter().map(text).collect())
            }
        }
    }

    /// The value written after the constraint's [`key`](Self::key) in a migration file.
    pub fn setting(&self) -> Setting<&str> {
        match self {
            Constraint::MaxLength(count)
            | Constraint::MinLength(count)
            | Constraint::MaxDigits(count)
            | Constraint::DecimalPlaces(count) => Setting::Count(*count),
            Constraint::Minimum(text)
            | Constraint::ExclusiveMinimum(text)
            | Constraint::Maximum(text)
            | Constraint::Pattern(text) => Setting::Text(text.as_ref()),
            Constraint::Choices(values) => {
                Setting::List(values.as_ref().iter().map(AsRef::as_ref).collect())
            }
        }
    }

    /// Whether the database enforces it with the column's CHECK constraint,
    /// rather than with the column's type (a decimal's digits are its
    /// `NUMERIC(precision, scale)`).
    pub fn is_check(&self) -> bool {
        !matches!(
            self,
            Constraint::MaxDigits(_) | Constraint::DecimalPlaces(_)
        )
    }

    /// The condition this constraint adds to the CHECK of `column` (not yet
    /// quoted) of `sql_type`, or `None` when `dialect` does not check it.
    ///
    /// SQLite has no regular expressions (a CHECK calling a function fw would
    /// register would make the database unwritable from any other tool), so a
    /// pattern is checked there by fw's validation only.
    pub fn sql_check(&self, column: &str, sql_type: SqlType, dialect: Dialect) -> Option<String> {
        let name = quote_ident(column);
        let length = match dialect {
            Dialect::Sqlite => format!("length({name})"),
            Dialect::Postgres => format!("char_length({name})"),
        };
        // SQLite stores decimals as text, which compares as text: compare numbers.
        let number = if dialect == Dialect::Sqlite && sql_type == SqlType::Decimal {
            format!("CAST({name} AS REAL)")
        } else {
            name.clone()
        };
        Some(match self {
            Constraint::MaxLength(max) => format!("{length} <= {max}"),
            Constraint::MinLength(min) => format!("{length} >= {min}"),
            Constraint::Minimum(min) => format!("{number} >= {}", min.as_ref()),
            Constraint::ExclusiveMinimum(min) => format!("{number} > {}", min.as_ref()),
            Constraint::Maximum(max) => format!("{number} <= {}", max.as_ref()),
            Constraint::Pattern(pattern) => match dialect {
                Dialect::Postgres => {
                    format!("{name} ~ {}", quote_literal(&anchored(pattern.as_ref())))
                }
                Dialect::Sqlite => return None,
            },
            Constraint::MaxDigits(_) | Constraint::DecimalPlaces(_) => return None,
            Constraint::Choices(values) => {
                let values: Vec<String> = values
                    .as_ref()
                    .iter()
                    .map(|value| quote_literal(value.as_ref()))
                    .collect();
                format!("{name} IN ({})", values.join(", "))
            }
        })
    }

    /// Where its condition goes in the column's CHECK: the choices first, then
    /// lengths, bounds and the pattern, the order databases created by earlier
    /// releases of fw have (a CHECK is compared as text by people, not by fw).
    pub fn check_order(&self) -> u8 {
        match self {
            Constraint::Choices(_) => 0,
            Constraint::MinLength(_) => 1,
            Constraint::MaxLength(_) => 2,
            Constraint::Minimum(_) => 3,
            Constraint::ExclusiveMinimum(_) => 4,
            Constraint::Maximum(_) => 5,
            Constraint::Pattern(_) => 6,
            Constraint::MaxDigits(_) | Constraint::DecimalPlaces(_) => 7,
        }
    }
}

impl OwnedConstraint {
    /// Reads `key = setting` from a migration file: `Ok(None)` when `key` is
    /// not a constraint's, an error naming the expected form when the value does
    /// not fit the key.
    pub fn from_setting(key: &str, setting: Setting<String>) -> Result<Option<Self>, String> {
        let count = |setting: Setting<String>| match setting {
            Setting::Count(count) => Ok(count),
            _ => Err(format!("`{key}` expects a count, e.g. `{key} = 12`")),
        };
        let text = |setting: Setting<String>| match setting {
            Setting::Text(text) => Ok(text),
            _ => Err(format!("`{key}` expects a string, e.g. `{key} = \"10\"`")),
        };
        let number = |setting: Setting<String>| {
            let text = text(setting)?;
            if is_number(&text) {
                Ok(text)
            } else {
                Err(format!(
                    "`{key} = \"{text}\"` is not a number; write it as \"10\" or \"0.5\""
                ))
            }
        };
        Ok(Some(match key {
            "max_length" => Constraint::MaxLength(count(setting)?),
            "min_length" => Constraint::MinLength(count(setting)?),
            "min_value" => Constraint::Minimum(number(setting)?),
            "exclusive_min_value" => Constraint::ExclusiveMinimum(number(setting)?),
            "max_value" => Constraint::Maximum(number(setting)?),
            "pattern" => Constraint::Pattern(text(setting)?),
            "max_digits" => Constraint::MaxDigits(count(setting)?),
            "decimal_places" => Constraint::DecimalPlaces(count(setting)?),
            "choices" => match setting {
                Setting::List(values) => Constraint::Choices(values),
                _ => {
                    return Err(format!(
                        "`{key}` expects a list of strings, e.g. `{key} = [\"a\", \"b\"]`"
                    ));
                }
            },
            _ => return Ok(None),
        }))
    }
}

/// What a field's constraint list says about the kinds other rules read: the
/// column type (digits), the decimal text the parser accepts (places, lower
/// bound) and the document's text rules (pattern, choices).
pub trait Constraints<Text, List> {
    /// The `max_length`, if declared.
    fn max_length(&self) -> Option<u32>;
    /// The `max_digits`, if declared.
    fn max_digits(&self) -> Option<u32>;
    /// The `decimal_places`, if declared.
    fn decimal_places(&self) -> Option<u32>;
    /// The pattern, if declared.
    fn pattern(&self) -> Option<&str>;
    /// The allowed values, empty when any value is allowed.
    fn choices(&self) -> &[Text];
    /// The `min` or `exclusive_min`, if either is declared: a decimal field
    /// takes a sign only when it is negative.
    fn lower_bound(&self) -> Option<&Constraint<Text, List>>;
}

impl<Text: AsRef<str>, List: AsRef<[Text]>> Constraints<Text, List> for [Constraint<Text, List>] {
    fn max_length(&self) -> Option<u32> {
        self.iter().find_map(|constraint| match constraint {
            Constraint::MaxLength(max) => Some(*max),
            _ => None,
        })
    }

    fn max_digits(&self) -> Option<u32> {
        self.iter().find_map(|constraint| match constraint {
            Constraint::MaxDigits(digits) => Some(*digits),
            _ => None,
        })
    }

    fn decimal_places(&self) -> Option<u32> {
        self.iter().find_map(|constraint| match constraint {
            Constraint::DecimalPlaces(places) => Some(*places),
            _ => None,
        })
    }

    fn pattern(&self) -> Option<&str> {
        self.iter().find_map(|constraint| match constraint {
            Constraint::Pattern(pattern) => Some(pattern.as_ref()),
            _ => None,
        })
    }

    fn choices(&self) -> &[Text] {
        self.iter()
            .find_map(|constraint| match constraint {
                Constraint::Choices(values) => Some(values.as_ref()),
                _ => None,
            })
            .unwrap_or(&[])
    }

    fn lower_bound(&self) -> Option<&Constraint<Text, List>> {
        self.iter().find(|constraint| {
            matches!(
                constraint,
                Constraint::Minimum(_) | Constraint::ExclusiveMinimum(_)
            )
        })
    }
}

/// Whether `text` is a number as bounds are written: an optional minus, digits,
/// and optionally a point and digits (`-12.50`, `0`).
fn is_number(text: &str) -> bool {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit());
    digits(whole) && digits(fraction)
}

/// A SQL string literal.
fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Whether a larger value of a JSON Schema keyword fw's constraints write is
/// tighter (`Some(true)`: `minLength`, `minimum`…) or looser (`Some(false)`:
/// `maxLength`, `maximum`…); `None` for keywords that are not numeric bounds.
/// The breaking-change report reads it to tell which way a bound moved.
pub fn bound_keyword(keyword: &str) -> Option<bool> {
    match keyword {
        "minLength" | "minimum" | "exclusiveMinimum" | "x-minimum" | "x-exclusive-minimum" => {
            Some(true)
        }
        "maxLength" | "maximum" | "exclusiveMaximum" | "x-maximum" | "x-max-digits"
        | "x-decimal-places" => Some(false),
        _ => None,
    }
}

/// What the runtime does with a constraint: validate a value, describe it in
/// JSON Schema, and compare it with an older one.
#[cfg(feature = "runtime")]
mod runtime {
    use std::collections::HashMap;
    use std::str::FromStr;
    use std::sync::{LazyLock, RwLock};

    use regex::Regex;
    use rust_decimal::Decimal;
    use serde_json::{Value as Json, json};

    use super::{Constraint, Constraints, anchored};
    use crate::names::backticked;
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
                (Constraint::MaxLength(max), Subject::Text(text)) => (text.chars().count()
                    > *max as usize)
                    .then(|| format!("at most {max} characters")),
                (Constraint::MinLength(min), Subject::Text(text)) => (text.chars().count()
                    < *min as usize)
                    .then(|| format!("at least {min} characters")),
                (Constraint::Pattern(pattern), Subject::Text(text)) => {
                    (!pattern_matches(pattern, text)).then(|| format!("must match `{pattern}`"))
                }
                (Constraint::Choices(values), Subject::Text(text)) => (!values.contains(&text))
                    .then(|| format!("expected one of {}", backticked(values.iter().copied()))),
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
                    (written > integer_digits).then(|| {
                        format!("at most {integer_digits} digits before the decimal point")
                    })
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
                Constraint::Minimum(min) => {
                    bound("x-minimum", "minimum", min).into_iter().collect()
                }
                Constraint::ExclusiveMinimum(min) => {
                    bound("x-exclusive-minimum", "exclusiveMinimum", min)
                        .into_iter()
                        .collect()
                }
                Constraint::Maximum(max) => {
                    bound("x-maximum", "maximum", max).into_iter().collect()
                }
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
                Constraint::DecimalPlaces(places) => {
                    Some(format!("at most {places} decimal places"))
                }
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
                rate.constraints[0]
                    .violation(&rate, Subject::Number(text.parse().expect("a decimal")))
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
}

#[cfg(feature = "runtime")]
pub use runtime::{Subject, Violation};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_anchored_as_a_whole_are_kept_as_written() {
        assert_eq!(anchored("^[A-Z]{1,12}$"), "^[A-Z]{1,12}$");
        assert_eq!(anchored("^(a|b)$"), "^(a|b)$");
        assert_eq!(anchored("[A-Z]+"), "^(?:[A-Z]+)$");
        // Either end, not both: the alternation is not anchored as a whole.
        assert_eq!(anchored("^a|b$"), "^(?:^a|b$)$");
        // A literal dollar is no anchor.
        assert_eq!(anchored("^a\\$"), "^(?:^a\\$)$");
        assert_eq!(anchored("^a"), "^(?:^a)$");
    }

    #[test]
    fn settings_read_back_as_the_constraints_that_wrote_them() {
        let constraints: [Constraint; 9] = [
            Constraint::MaxLength(12),
            Constraint::MinLength(1),
            Constraint::Minimum("-1.5"),
            Constraint::ExclusiveMinimum("0"),
            Constraint::Maximum("100"),
            Constraint::Pattern("[A-Z]+"),
            Constraint::MaxDigits(12),
            Constraint::DecimalPlaces(6),
            Constraint::Choices(&["stock", "etf"]),
        ];
        for constraint in constraints {
            let setting = match constraint.setting() {
                Setting::Count(count) => Setting::Count(count),
                Setting::Text(text) => Setting::Text(text.to_owned()),
                Setting::List(values) => {
                    Setting::List(values.into_iter().map(str::to_owned).collect())
                }
            };
            assert_eq!(
                OwnedConstraint::from_setting(constraint.key(), setting),
                Ok(Some(constraint.to_owned_constraint()))
            );
        }
        assert_eq!(
            OwnedConstraint::from_setting("max_length", Setting::Text("12".to_owned())),
            Err("`max_length` expects a count, e.g. `max_length = 12`".to_owned())
        );
        assert_eq!(
            OwnedConstraint::from_setting("name", Setting::Count(1)),
            Ok(None)
        );
    }

    #[test]
    fn checks_are_rendered_per_dialect() {
        let check = |constraint: Constraint, sql_type, dialect| {
            constraint.sql_check("rate", sql_type, dialect)
        };
        assert_eq!(
            check(
                Constraint::ExclusiveMinimum("0"),
                SqlType::Decimal,
                Dialect::Sqlite
            )
            .as_deref(),
            Some(r#"CAST("rate" AS REAL) > 0"#)
        );
        assert_eq!(
            check(
                Constraint::ExclusiveMinimum("0"),
                SqlType::Int,
                Dialect::Postgres
            )
            .as_deref(),
            Some(r#""rate" > 0"#)
        );
        assert_eq!(
            check(
                Constraint::Pattern("[A-Z]+|x'"),
                SqlType::Text,
                Dialect::Postgres
            )
            .as_deref(),
            Some(r#""rate" ~ '^(?:[A-Z]+|x'')$'"#)
        );
        assert_eq!(
            check(
                Constraint::Pattern("[A-Z]+"),
                SqlType::Text,
                Dialect::Sqlite
            ),
            None
        );
        assert_eq!(
            check(
                Constraint::MaxDigits(4),
                SqlType::Decimal,
                Dialect::Postgres
            ),
            None
        );
        assert_eq!(
            check(Constraint::MinLength(2), SqlType::Text, Dialect::Sqlite).as_deref(),
            Some(r#"length("rate") >= 2"#)
        );
    }
}
