//! Parsing of `#[model(...)]` arguments and `#[field(...)]` options into typed,
//! spanned values. Only the syntax of each option is checked here; rules that
//! involve the field's type or other fields live in `check.rs`.

use fw_core::constraint::{Constraint, OwnedConstraint, pattern_error};
use proc_macro2::{Span, TokenStream};
use syn::{Expr, Ident, Lit};

use fw_core::schema::OnDelete;

use crate::ctxt::Ctxt;
use crate::names::backticked;
use crate::options::{self, RawOption};

/// A parsed option value with the spans errors point at.
#[derive(Debug, Clone)]
pub(crate) struct Opt<T> {
    pub(crate) value: T,
    /// The option's name (`max_length` in `max_length = 12`).
    pub(crate) name: Span,
    /// The value (`12`), or the name for flags.
    pub(crate) value_span: Span,
}

/// A flag option: only where it was written.
pub(crate) type Flag = Opt<()>;

/// `#[field(default = ...)]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum DefaultLiteral {
    Int(i64),
    Bool(bool),
    Text(String),
}

/// `#[field(min = ...)]` / `max`: an integer literal, or a decimal in a string.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bound {
    /// The number as the schema stores it: `-5`, `0.01`.
    pub(crate) text: String,
    /// Whether it was written as an integer literal (not a decimal string).
    pub(crate) is_integer_literal: bool,
}

/// `#[model(...)]`.
#[derive(Debug, Default)]
pub(crate) struct ModelArgs {
    pub(crate) table: Option<Opt<String>>,
    pub(crate) renamed_from: Option<Opt<String>>,
    pub(crate) indexes: Vec<IndexArgs>,
    /// `changelog`: every write appends a change record (see `fw::changes`).
    pub(crate) changelog: Option<Flag>,
}

/// `unique(a, b)` or `index(a, b)` in `#[model(...)]`.
#[derive(Debug, Clone)]
pub(crate) struct IndexArgs {
    pub(crate) unique: bool,
    /// The `unique` / `index` keyword.
    pub(crate) keyword: Span,
    /// The Rust field names, as written.
    pub(crate) fields: Vec<Ident>,
}

/// Every `#[field(...)]` option of one field.
#[derive(Debug, Default)]
pub(crate) struct FieldArgs {
    pub(crate) primary_key: Option<Flag>,
    pub(crate) unique: Option<Flag>,
    pub(crate) index: Option<Flag>,
    pub(crate) default: Option<Opt<DefaultLiteral>>,
    pub(crate) max_length: Option<Opt<u32>>,
    pub(crate) min_length: Option<Opt<u32>>,
    pub(crate) min: Option<Opt<Bound>>,
    pub(crate) exclusive_min: Option<Opt<Bound>>,
    pub(crate) max: Option<Opt<Bound>>,
    pub(crate) pattern: Option<Opt<String>>,
    pub(crate) max_digits: Option<Opt<u32>>,
    pub(crate) decimal_places: Option<Opt<u32>>,
    pub(crate) on_delete: Option<Opt<OnDelete>>,
    pub(crate) column: Option<Opt<String>>,
    pub(crate) renamed_from: Option<Opt<String>>,
    pub(crate) auto_now_add: Option<Flag>,
    pub(crate) auto_now: Option<Flag>,
    pub(crate) version: Option<Flag>,
    pub(crate) sensitive: Option<Opt<Sealing>>,
    pub(crate) redacted: Option<Flag>,
}

/// How a `sensitive` field is sealed: `sensitive`, or `sensitive(searchable)`
/// for a keyed digest beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sealing {
    pub(crate) searchable: bool,
}

const MODEL_OPTIONS: &[&str] = &["table", "renamed_from", "unique", "index", "changelog"];

pub(crate) const FIELD_OPTIONS: &[&str] = &[
    "primary_key",
    "unique",
    "index",
    "default",
    "max_length",
    "min_length",
    "min",
    "exclusive_min",
    "max",
    "pattern",
    "max_digits",
    "decimal_places",
    "on_delete",
    "column",
    "renamed_from",
    "auto_now_add",
    "auto_now",
    "version",
    "sensitive",
    "redacted",
];

/// Parses the arguments of `#[model(...)]`.
pub(crate) fn parse_model_args(cx: &Ctxt, args: TokenStream) -> ModelArgs {
    let mut parsed = ModelArgs::default();
    if args.is_empty() {
        return parsed;
    }
    options::parse_arguments(cx, args, &["unique", "index"], |option| {
        let name = option.name.to_string();
        match name.as_str() {
            "table" => {
                let value = option.string(cx, "table = \"securities\"");
                set(&option, &mut parsed.table, value);
            }
            "renamed_from" => {
                let value = option.string(cx, "renamed_from = \"old_table\"");
                set(&option, &mut parsed.renamed_from, value);
            }
            "changelog" => {
                let value = option.flag(cx).then_some(((), option.name.span()));
                set(&option, &mut parsed.changelog, value);
            }
            "unique" | "index" => {
                let example = format!("{name}(field_a, field_b)");
                if let Some(fields) = option.idents(cx, &example) {
                    parsed.indexes.push(IndexArgs {
                        unique: name == "unique",
                        keyword: option.name.span(),
                        fields,
                    });
                }
            }
            _ => option.unknown(cx, "`#[model]`", MODEL_OPTIONS),
        }
    });
    parsed
}

/// Parses every `#[field(...)]` attribute of one field (options may be split
/// over several attributes).
pub(crate) fn parse_field_args(cx: &Ctxt, attrs: &[syn::Attribute]) -> FieldArgs {
    let mut parsed = FieldArgs::default();
    let attrs = attrs.iter().filter(|attr| is_field_attr(attr));
    options::parse_attributes(cx, attrs, |option| {
        parse_field_option(cx, &mut parsed, &option)
    });
    parsed
}

/// Whether `attr` is one of ours, `#[field(...)]`, stripped from the emitted struct.
pub(crate) fn is_field_attr(attr: &syn::Attribute) -> bool {
    attr.path().is_ident("field")
}

fn parse_field_option(cx: &Ctxt, parsed: &mut FieldArgs, option: &RawOption) {
    let flag = |slot: &mut Option<Flag>| {
        let value = option.flag(cx).then_some(((), option.name.span()));
        set(option, slot, value);
    };
    match option.name.to_string().as_str() {
        "primary_key" => flag(&mut parsed.primary_key),
        "unique" => flag(&mut parsed.unique),
        "index" => flag(&mut parsed.index),
        "auto_now_add" => flag(&mut parsed.auto_now_add),
        "auto_now" => flag(&mut parsed.auto_now),
        "version" => flag(&mut parsed.version),
        "sensitive" => {
            let value = sealing(cx, option);
            set(option, &mut parsed.sensitive, value);
        }
        "redacted" => flag(&mut parsed.redacted),
        "default" => {
            let value = default_literal(cx, option);
            set(option, &mut parsed.default, value);
        }
        "max_length" => {
            let value = option.count(cx, "max_length = 100");
            set(option, &mut parsed.max_length, value);
        }
        "min_length" => {
            let value = option.count(cx, "min_length = 1");
            set(option, &mut parsed.min_length, value);
        }
        "max_digits" => {
            let value = option.count(cx, "max_digits = 12");
            set(option, &mut parsed.max_digits, value);
        }
        "decimal_places" => {
            let value = option.count(cx, "decimal_places = 2");
            set(option, &mut parsed.decimal_places, value);
        }
        "min" => {
            let value = bound(cx, option, "min = 0` or `min = \"0.01\"");
            set(option, &mut parsed.min, value);
        }
        "exclusive_min" => {
            let value = bound(cx, option, "exclusive_min = 0` or `exclusive_min = \"0.5\"");
            set(option, &mut parsed.exclusive_min, value);
        }
        "max" => {
            let value = bound(cx, option, "max = 100` or `max = \"99.99\"");
            set(option, &mut parsed.max, value);
        }
        "pattern" => {
            let value = option.string(cx, "pattern = \"[A-Z]+\"");
            let value = value.filter(|(pattern, span)| match pattern_error(pattern) {
                Some(error) => {
                    cx.error_at(*span, error);
                    false
                }
                None => true,
            });
            set(option, &mut parsed.pattern, value);
        }
        "on_delete" => {
            let value = on_delete(cx, option);
            set(option, &mut parsed.on_delete, value);
        }
        "column" => {
            let value = option.string(cx, "column = \"name_col\"");
            set(option, &mut parsed.column, value);
        }
        "renamed_from" => {
            let value = option.string(cx, "renamed_from = \"old_name\"");
            set(option, &mut parsed.renamed_from, value);
        }
        _ => option.unknown(cx, "`#[field]`", FIELD_OPTIONS),
    }
}

impl FieldArgs {
    /// The declared constraints, in the order of [`Constraint`]'s variants
    /// (the choices of a `Choices` type are the type's, not an option's).
    pub(crate) fn constraints(&self) -> Vec<OwnedConstraint> {
        let count = |opt: &Option<Opt<u32>>, constraint: fn(u32) -> OwnedConstraint| {
            opt.as_ref().map(|opt| constraint(opt.value))
        };
        let bound = |opt: &Option<Opt<Bound>>, constraint: fn(String) -> OwnedConstraint| {
            opt.as_ref().map(|opt| constraint(opt.value.text.clone()))
        };
        let mut constraints: Vec<OwnedConstraint> = [
            count(&self.max_length, Constraint::MaxLength),
            count(&self.min_length, Constraint::MinLength),
            bound(&self.min, Constraint::Minimum),
            bound(&self.exclusive_min, Constraint::ExclusiveMinimum),
            bound(&self.max, Constraint::Maximum),
            self.pattern
                .as_ref()
                .map(|opt| Constraint::Pattern(opt.value.clone())),
            count(&self.max_digits, Constraint::MaxDigits),
            count(&self.decimal_places, Constraint::DecimalPlaces),
        ]
        .into_iter()
        .flatten()
        .collect();
        constraints.sort();
        constraints
    }

    /// The numeric bounds as written (option name, bound), and for each whether
    /// it is a lower bound and whether the bound itself is excluded.
    pub(crate) fn bounds(&self) -> Vec<(&'static str, &Opt<Bound>, BoundSide)> {
        [
            ("min", &self.min, BoundSide::Lower { exclusive: false }),
            (
                "exclusive_min",
                &self.exclusive_min,
                BoundSide::Lower { exclusive: true },
            ),
            ("max", &self.max, BoundSide::Upper),
        ]
        .into_iter()
        .filter_map(|(name, bound, side)| bound.as_ref().map(|bound| (name, bound, side)))
        .collect()
    }
}

/// Which side of a field's range a bound is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BoundSide {
    Lower { exclusive: bool },
    Upper,
}

/// Stores `value` in `slot` (`options` hands each option over once).
fn set<T>(option: &RawOption, slot: &mut Option<Opt<T>>, value: Option<(T, Span)>) {
    if let Some((value, value_span)) = value {
        *slot = Some(Opt {
            value,
            name: option.name.span(),
            value_span,
        });
    }
}

fn default_literal(cx: &Ctxt, option: &RawOption) -> Option<(DefaultLiteral, Span)> {
    const EXAMPLE: &str = "default = 0`, `default = true` or `default = \"text\"";
    let expr = option.expr(cx, EXAMPLE)?;
    let span = syn::spanned::Spanned::span(expr);
    if let Some((value, _)) = options::integer(expr) {
        return match i64::try_from(value) {
            Ok(value) => Some((DefaultLiteral::Int(value), span)),
            Err(_) => {
                cx.error_spanned_by(expr, "`default` is out of range for a 64-bit integer");
                None
            }
        };
    }
    match options::literal(expr) {
        Some(Lit::Bool(lit)) => Some((DefaultLiteral::Bool(lit.value()), span)),
        Some(Lit::Str(lit)) => Some((DefaultLiteral::Text(lit.value()), span)),
        _ => {
            cx.error_spanned_by(
                expr,
                format!(
                    "`default` expects an integer, boolean or string literal, e.g. `{EXAMPLE}`"
                ),
            );
            None
        }
    }
}

fn bound(cx: &Ctxt, option: &RawOption, example: &str) -> Option<(Bound, Span)> {
    let expr: &Expr = option.expr(cx, example)?;
    let span = syn::spanned::Spanned::span(expr);
    if let Some((_, text)) = options::integer(expr) {
        return Some((
            Bound {
                text,
                is_integer_literal: true,
            },
            span,
        ));
    }
    if let Some(Lit::Str(lit)) = options::literal(expr) {
        let text = lit.value();
        if is_decimal(&text) {
            return Some((
                Bound {
                    text,
                    is_integer_literal: false,
                },
                span,
            ));
        }
        cx.error_spanned_by(
            lit,
            format!(
                "`{}` must be a decimal number such as \"-1.5\" or \"100\", not {:?}",
                option.name, text
            ),
        );
        return None;
    }
    cx.error_spanned_by(
        expr,
        format!(
            "`{}` expects an integer literal or a decimal in a string, e.g. `{example}`",
            option.name
        ),
    );
    None
}

/// `-12.50`, `0`, `7.`-free: an optional sign, digits, and optionally `.` digits.
pub(crate) fn is_decimal(text: &str) -> bool {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
    let digits = |part: &str| !part.is_empty() && part.chars().all(|ch| ch.is_ascii_digit());
    digits(whole) && digits(fraction)
}

fn sealing(cx: &Ctxt, option: &RawOption) -> Option<(Sealing, Span)> {
    const EXAMPLE: &str = "sensitive(searchable)";
    if option.is_flag() {
        return Some((Sealing { searchable: false }, option.name.span()));
    }
    if option.has_value() {
        cx.error_at(
            option.value_span(),
            "`sensitive` takes no value: write `sensitive`, or `sensitive(searchable)` for \
             equality lookups",
        );
        return None;
    }
    let words = option.idents(cx, EXAMPLE)?;
    let mut searchable = false;
    for word in &words {
        if word == "searchable" && !searchable {
            searchable = true;
        } else {
            cx.error_spanned_by(
                word,
                "`sensitive` takes only `searchable`: write `sensitive` or `sensitive(searchable)`",
            );
            return None;
        }
    }
    Some((Sealing { searchable }, option.value_span()))
}

fn on_delete(cx: &Ctxt, option: &RawOption) -> Option<(OnDelete, Span)> {
    let (text, span) = option.string(cx, "on_delete = \"cascade\"")?;
    let found = OnDelete::from_name(&text).map(|action| (action, span));
    if found.is_none() {
        cx.error_at(
            span,
            format!(
                "unknown `on_delete` action {text:?}, expected one of {}",
                backticked(OnDelete::ALL.map(OnDelete::name))
            ),
        );
    }
    found
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    fn field_args(attr: TokenStream) -> (FieldArgs, Vec<String>) {
        let attr: syn::Attribute = syn::parse_quote!(#[field(#attr)]);
        let cx = Ctxt::new();
        let parsed = parse_field_args(&cx, &[attr]);
        let errors = match cx.check() {
            Ok(()) => Vec::new(),
            Err(errors) => errors.iter().map(ToString::to_string).collect(),
        };
        (parsed, errors)
    }

    #[test]
    fn parses_every_field_option() {
        let (args, errors) = field_args(quote! {
            primary_key, unique, index, default = -3, max_length = 12, min_length = 9,
            min = "0.5", exclusive_min = 0, max = 100, pattern = "[A-Z]+", max_digits = 12,
            decimal_places = 6,
            on_delete = "set_null", column = "c", renamed_from = "old", auto_now_add, auto_now,
            version, sensitive
        });
        assert_eq!(errors, Vec::<String>::new());
        assert!(args.primary_key.is_some() && args.unique.is_some() && args.index.is_some());
        assert_eq!(
            args.default.as_ref().map(|opt| &opt.value),
            Some(&DefaultLiteral::Int(-3))
        );
        assert_eq!(
            args.constraints(),
            [
                Constraint::MaxLength(12),
                Constraint::MinLength(9),
                Constraint::Minimum("0.5".to_owned()),
                Constraint::ExclusiveMinimum("0".to_owned()),
                Constraint::Maximum("100".to_owned()),
                Constraint::Pattern("[A-Z]+".to_owned()),
                Constraint::MaxDigits(12),
                Constraint::DecimalPlaces(6),
            ]
        );
        assert_eq!(args.min.map(|opt| opt.value.text), Some("0.5".to_owned()));
        assert_eq!(args.max.map(|opt| opt.value.text), Some("100".to_owned()));
        assert_eq!(args.on_delete.map(|opt| opt.value), Some(OnDelete::SetNull));
        assert_eq!(args.column.map(|opt| opt.value), Some("c".to_owned()));
        assert!(args.auto_now_add.is_some() && args.version.is_some() && args.sensitive.is_some());
    }

    #[test]
    fn reports_every_mistake_not_just_the_first() {
        let (_, errors) = field_args(quote! {
            max_len = 3, unique, unique, max_length = "12", on_delete = "nullify", min = "1,5",
            sensitive = true
        });
        assert_eq!(errors.len(), 6, "{errors:#?}");
        assert!(
            errors[0]
                .starts_with("unknown `#[field]` option `max_len`, expected one of `primary_key`")
        );
        assert!(errors[0].ends_with("did you mean `max_length`?"));
        assert_eq!(errors[1], "`unique` is given twice: remove one of them");
        assert_eq!(
            errors[2],
            "`max_length` expects a non-negative integer literal, e.g. `max_length = 100`"
        );
        assert!(errors[3].starts_with("unknown `on_delete` action \"nullify\""));
        assert!(errors[4].starts_with("`min` must be a decimal number"));
        assert_eq!(
            errors[5],
            "`sensitive` takes no value: write `sensitive`, or `sensitive(searchable)` for \
             equality lookups"
        );
    }

    #[test]
    fn parses_how_a_field_is_kept_from_view() {
        let (args, errors) = field_args(quote!(sensitive(searchable)));
        assert!(errors.is_empty(), "{errors:#?}");
        assert!(args.sensitive.unwrap().value.searchable);
        let (args, errors) = field_args(quote!(sensitive, unique));
        assert!(errors.is_empty(), "{errors:#?}");
        assert!(!args.sensitive.unwrap().value.searchable);
        let (args, errors) = field_args(quote!(redacted));
        assert!(errors.is_empty() && args.redacted.is_some(), "{errors:#?}");
        let (_, errors) = field_args(quote!(sensitive(sortable)));
        assert_eq!(
            errors,
            ["`sensitive` takes only `searchable`: write `sensitive` or `sensitive(searchable)`"]
        );
    }

    #[test]
    fn parses_model_args() {
        let cx = Ctxt::new();
        let args = parse_model_args(
            &cx,
            quote!(
                table = "securities",
                renamed_from = "old",
                unique(a, b),
                index(c)
            ),
        );
        assert!(cx.check().is_ok());
        assert_eq!(
            args.table.map(|opt| opt.value),
            Some("securities".to_owned())
        );
        assert_eq!(
            args.renamed_from.map(|opt| opt.value),
            Some("old".to_owned())
        );
        assert_eq!(args.indexes.len(), 2);
        assert!(args.indexes[0].unique && !args.indexes[1].unique);
        assert_eq!(args.indexes[0].fields.len(), 2);
    }

    #[test]
    fn decimals() {
        assert!(is_decimal("0") && is_decimal("-1.25") && is_decimal("100.0"));
        assert!(!is_decimal("") && !is_decimal("1.") && !is_decimal(".5") && !is_decimal("1e3"));
    }
}
