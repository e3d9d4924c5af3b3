//! Rules across options and fields, checked on the IR. Every rule reports on the
//! token to change and keeps going, so all mistakes show up in one compile.

use std::collections::{BTreeSet, HashMap};

use fw_core::names::is_sql_identifier;
use fw_core::schema::{Generated, OnDelete, SqlType};

use super::ast::{Field, Model, TypeKind};
use super::attr::{Bound, BoundSide, DefaultLiteral, Opt};
use crate::ctxt::Ctxt;
use crate::names::{backticked, closest};

pub(crate) fn check(cx: &Ctxt, model: &Model) {
    check_derives(cx, model);
    check_table(cx, model);
    check_primary_key(cx, model);
    for field in &model.fields {
        check_field(cx, model, field);
    }
    check_unique_columns(cx, model);
    check_single_version(cx, model);
    check_indexes(cx, model);
}

fn check_derives(cx: &Ctxt, model: &Model) {
    for path in &model.derived_debug {
        cx.error_spanned_by(
            path,
            "remove `Debug` from this derive: `#[model]` implements `Debug` itself so it can \
             redact `#[field(sensitive)]` fields",
        );
    }
}

fn check_table(cx: &Ctxt, model: &Model) {
    if let Some(table) = &model.args.table {
        check_sql_name(cx, table, "table");
    }
    if let Some(renamed_from) = &model.args.renamed_from {
        check_renamed_from(cx, renamed_from, &model.table, "table");
    }
}

/// A table or column name: a plain identifier.
fn check_sql_name(cx: &Ctxt, name: &Opt<String>, what: &str) {
    if !is_sql_identifier(&name.value) {
        cx.error_at(
            name.value_span,
            format!(
                "{what} name {:?} is not a plain identifier: use ASCII letters, digits and `_`, \
                 not starting with a digit",
                name.value
            ),
        );
    }
}

fn check_renamed_from(cx: &Ctxt, renamed_from: &Opt<String>, current: &str, what: &str) {
    if renamed_from.value.is_empty() {
        cx.error_at(
            renamed_from.value_span,
            format!(
                "`renamed_from` must name the previous {what}, e.g. `renamed_from = \"old_name\"`"
            ),
        );
    } else if renamed_from.value == current {
        cx.error_at(
            renamed_from.value_span,
            format!(
                "`renamed_from` names the current {what} `{current}`: give the previous {what} \
                 name, or remove `renamed_from` once the rename has been migrated"
            ),
        );
    } else {
        check_sql_name(cx, renamed_from, &format!("previous {what}"));
    }
}

fn check_primary_key(cx: &Ctxt, model: &Model) {
    let explicit: Vec<&Field> = model
        .fields
        .iter()
        .filter(|field| field.args.primary_key.is_some())
        .collect();
    for duplicate in explicit.iter().skip(1) {
        if let (Some(first), Some(flag)) = (explicit.first(), &duplicate.args.primary_key) {
            cx.error_at(
                flag.name,
                format!(
                    "duplicate primary key: `{}` is already the primary key; a model has exactly \
                     one (for a composite key use `#[model(unique(a, b))]` and an `id`)",
                    first.ident
                ),
            );
        }
    }
    let Some(key) = model.primary_key() else {
        cx.error_spanned_by(
            &model.ident,
            format!(
                "model `{}` has no primary key: add a field `id: i64`, or mark a field \
                 `#[field(primary_key)]`",
                model.ident
            ),
        );
        return;
    };
    if key.nullable {
        cx.error_at(
            key.ty_span(),
            "a primary key cannot be an `Option`: every row has a key",
        );
    }
    let conflicts = [
        (
            "unique",
            key.args.unique.as_ref().map(|opt| opt.name),
            "a primary key is already unique",
        ),
        (
            "index",
            key.args.index.as_ref().map(|opt| opt.name),
            "a primary key is already indexed",
        ),
        (
            "version",
            key.args.version.as_ref().map(|opt| opt.name),
            "the key cannot change",
        ),
        (
            "auto_now",
            key.args.auto_now.as_ref().map(|opt| opt.name),
            "the key cannot change",
        ),
        (
            "auto_now_add",
            key.args.auto_now_add.as_ref().map(|opt| opt.name),
            "use an integer or `Uuid` key to have it generated",
        ),
    ];
    for (option, span, why) in conflicts {
        if let Some(span) = span {
            cx.error_at(
                span,
                format!(
                    "`{option}` cannot be used on the primary key `{}`: {why}",
                    key.ident
                ),
            );
        }
    }
    if key.generated != Generated::No
        && let Some(default) = &key.args.default
    {
        cx.error_at(
            default.name,
            "`default` cannot be used on a generated primary key: the database assigns it",
        );
    }
}

fn check_field(cx: &Ctxt, model: &Model, field: &Field) {
    let args = &field.args;
    if let Some(default) = &field.rust_default {
        cx.error_spanned_by(
            default,
            "a model field cannot have a Rust default value: use `#[field(default = ...)]`",
        );
    }
    if let Some(column) = &args.column {
        check_sql_name(cx, column, "column");
    } else if !is_sql_identifier(&field.column) {
        cx.error_spanned_by(
            &field.ident,
            format!(
                "field name `{}` is not a plain column name: set one with `#[field(column = \"...\")]`",
                field.ident
            ),
        );
    }
    if let Some(renamed_from) = &args.renamed_from {
        check_renamed_from(cx, renamed_from, &field.column, "column");
    }

    // At most one way of generating the value.
    let generators = [
        ("auto_now_add", &args.auto_now_add),
        ("auto_now", &args.auto_now),
        ("version", &args.version),
    ];
    let present: Vec<_> = generators
        .iter()
        .filter_map(|(name, flag)| flag.as_ref().map(|flag| (*name, flag.name)))
        .collect();
    for (name, span) in present.iter().skip(1) {
        cx.error_at(
            *span,
            format!(
                "`{name}` conflicts with `{}`: a field gets its value in one way only",
                present[0].0
            ),
        );
    }
    if let (Some(&(name, _)), Some(default)) = (present.first(), &args.default) {
        cx.error_at(
            default.name,
            format!("`default` conflicts with `{name}`: fw always sets this field itself"),
        );
    }
    if args.auto_now.is_some() || args.auto_now_add.is_some() {
        let name = if args.auto_now.is_some() {
            "auto_now"
        } else {
            "auto_now_add"
        };
        require_kind(
            cx,
            field,
            name,
            "`chrono::DateTime<chrono::Utc>`",
            |kind, nullable| kind.is(SqlType::Timestamp) && !nullable,
        );
    }
    if args.version.is_some() {
        let is_i64 = matches!(&field.ty, syn::Type::Path(path) if path.path.is_ident("i64"));
        if !is_i64 {
            cx.error_at(
                field.ty_span(),
                "a `#[field(version)]` field must have type `i64`",
            );
        }
    }

    if let (Some(unique), Some(_)) = (&args.unique, &args.index)
        && !field.is_primary_key_of(model)
    {
        cx.error_at(
            unique.name,
            "`unique` conflicts with `index`: a unique field is already indexed, remove `index`",
        );
    }

    check_sensitive(cx, model, field);
    check_text_options(cx, field);
    check_number_options(cx, field);
    check_default(cx, field);
    check_on_delete(cx, field);
}

/// A sealed field: not the key, not also `redacted`, and constrained or
/// indexed only through the digest `searchable` adds.
fn check_sensitive(cx: &Ctxt, model: &Model, field: &Field) {
    let args = &field.args;
    let Some(sensitive) = &args.sensitive else {
        return;
    };
    if let Some(redacted) = &args.redacted {
        cx.error_at(
            redacted.name,
            "`redacted` conflicts with `sensitive`: a sensitive field is already hidden, and \
             sealed too; keep `sensitive` for personal data, `redacted` for secrets that are \
             not (hashes)",
        );
    }
    if field.is_primary_key_of(model) {
        cx.error_at(
            sensitive.name,
            "a primary key cannot be `sensitive`: rows are found by their key, and each sealed \
             value is bound to it; key the row with an `id` and keep the personal data in \
             another field",
        );
    }
    if sensitive.value.searchable {
        return;
    }
    for (option, span) in [
        ("unique", args.unique.as_ref().map(|opt| opt.name)),
        ("index", args.index.as_ref().map(|opt| opt.name)),
    ] {
        if let Some(span) = span {
            cx.error_at(
                span,
                format!(
                    "`{option}` on a sensitive field needs `sensitive(searchable)`: a sealed \
                     value differs on every write, so the {option} is on its keyed digest"
                ),
            );
        }
    }
}

/// Reports `option` when the field's type is not what it applies to.
fn require_kind(
    cx: &Ctxt,
    field: &Field,
    option: &str,
    expected: &str,
    fits: impl Fn(&TypeKind, bool) -> bool,
) -> bool {
    let fits = fits(&field.kind, field.nullable);
    if !fits {
        cx.error_at(
            field.ty_span(),
            format!(
                "`{option}` applies only to {expected} fields; `{}` has type `{}`",
                field.ident,
                type_text(&field.ty)
            ),
        );
    }
    fits
}

fn type_text(ty: &syn::Type) -> String {
    quote::ToTokens::to_token_stream(ty)
        .to_string()
        .replace(" < ", "<")
        .replace(" <", "<")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace(" :: ", "::")
}

fn check_text_options(cx: &Ctxt, field: &Field) {
    let args = &field.args;
    let text_options = [
        ("max_length", args.max_length.is_some()),
        ("min_length", args.min_length.is_some()),
        ("pattern", args.pattern.is_some()),
    ];
    if let Some((option, _)) = text_options.iter().find(|(_, present)| *present)
        && !require_kind(
            cx,
            field,
            option,
            "`String` and `Option<String>`",
            |kind, _| kind.is(SqlType::Text),
        )
    {
        return;
    }
    if let Some(max) = &args.max_length
        && max.value == 0
    {
        cx.error_at(max.value_span, "`max_length` must be at least 1");
    }
    if let (Some(min), Some(max)) = (&args.min_length, &args.max_length)
        && min.value > max.value
    {
        cx.error_at(
            min.value_span,
            format!(
                "`min_length` ({}) is greater than `max_length` ({}): no value could be stored",
                min.value, max.value
            ),
        );
    }
}

fn check_number_options(cx: &Ctxt, field: &Field) {
    let args = &field.args;
    let decimal_options = [
        ("max_digits", args.max_digits.is_some()),
        ("decimal_places", args.decimal_places.is_some()),
    ];
    let is_decimal = |kind: &TypeKind, _| kind.is(SqlType::Decimal);
    if let Some((option, _)) = decimal_options.iter().find(|(_, present)| *present)
        && require_kind(cx, field, option, "`Decimal`", is_decimal)
    {
        if let Some(digits) = &args.max_digits
            && digits.value == 0
        {
            cx.error_at(digits.value_span, "`max_digits` must be at least 1");
        }
        if let (Some(digits), Some(places)) = (&args.max_digits, &args.decimal_places)
            && places.value > digits.value
        {
            cx.error_at(
                places.value_span,
                format!(
                    "`decimal_places` ({}) cannot exceed `max_digits` ({}): the digits after the \
                     point are part of the total",
                    places.value, digits.value
                ),
            );
        }
    }

    let bounds = args.bounds();
    let Some((first, ..)) = bounds.first() else {
        return;
    };
    if !require_kind(cx, field, first, "integer and `Decimal`", |kind, _| {
        kind.is_integer() || kind.is(SqlType::Decimal)
    }) {
        return;
    }
    if field.kind.is_integer() {
        for (name, bound, _) in &bounds {
            if !bound.value.is_integer_literal {
                let fix = if bound.value.text.parse::<i128>().is_ok() {
                    format!("write `{name} = {}` without quotes", bound.value.text)
                } else {
                    format!("the field holds whole numbers, e.g. `{name} = 1`")
                };
                cx.error_at(
                    bound.value_span,
                    format!("`{name}` of an integer field must be an integer literal: {fix}"),
                );
            }
        }
    }
    let lower: Vec<(&str, &Opt<Bound>, bool)> = bounds
        .iter()
        .filter_map(|&(name, bound, side)| match side {
            BoundSide::Lower { exclusive } => Some((name, bound, exclusive)),
            BoundSide::Upper => None,
        })
        .collect();
    if let [(first, ..), (second, bound, _), ..] = lower[..] {
        cx.error_at(
            bound.name,
            format!("`{first}` and `{second}` both bound the field from below: keep one"),
        );
    }
    let upper = bounds.iter().find(|(.., side)| *side == BoundSide::Upper);
    for &(low_name, low, exclusive) in &lower {
        if let Some((high_name, high, _)) = upper
            && let (Ok(low_value), Ok(high_value)) = (
                low.value.text.parse::<f64>(),
                high.value.text.parse::<f64>(),
            )
            && (low_value > high_value || (exclusive && low_value == high_value))
        {
            let relation = if low_value > high_value {
                "is greater than"
            } else {
                "equals"
            };
            cx.error_at(
                low.value_span,
                format!(
                    "`{low_name}` ({}) {relation} `{high_name}` ({}): no value could be stored",
                    low.value.text, high.value.text
                ),
            );
        }
    }
}

fn check_default(cx: &Ctxt, field: &Field) {
    let Some(default) = &field.args.default else {
        return;
    };
    let integer = field.kind.is_integer();
    let boolean = field.kind.is(SqlType::Bool);
    let expected = match (&default.value, &field.kind) {
        (DefaultLiteral::Int(_), _) if integer => return,
        (DefaultLiteral::Bool(_), _) if boolean => return,
        (DefaultLiteral::Text(_), kind)
            if !integer && !boolean && !matches!(kind, TypeKind::Ref(_)) =>
        {
            return;
        }
        _ if integer => "an integer literal",
        _ if boolean => "`true` or `false`",
        (_, TypeKind::Ref(_)) => {
            cx.error_at(
                default.name,
                "`default` cannot be used on a reference: a default row id would be a guess",
            );
            return;
        }
        _ => "a string literal (the value in its text form)",
    };
    cx.error_at(
        default.value_span,
        format!(
            "`default` for `{}` must be {expected}, matching its type `{}`",
            field.ident,
            type_text(&field.ty)
        ),
    );
}

fn check_on_delete(cx: &Ctxt, field: &Field) {
    let Some(on_delete) = &field.args.on_delete else {
        return;
    };
    if !matches!(field.kind, TypeKind::Ref(_)) {
        cx.error_at(
            on_delete.name,
            format!(
                "`on_delete` applies only to references (`fw::Ref<Model>`); `{}` has type `{}`",
                field.ident,
                type_text(&field.ty)
            ),
        );
    } else if on_delete.value == OnDelete::SetNull && !field.nullable {
        cx.error_at(
            on_delete.value_span,
            format!(
                "`on_delete = \"set_null\"` needs a nullable field: change the type to \
                 `Option<{}>`, or use \"cascade\" or \"restrict\"",
                type_text(&field.ty)
            ),
        );
    }
}

fn check_unique_columns(cx: &Ctxt, model: &Model) {
    let mut seen: HashMap<&str, &Field> = HashMap::new();
    for field in &model.fields {
        if let Some(previous) = seen.insert(&field.column, field) {
            let span = field
                .args
                .column
                .as_ref()
                .map_or(field.ident.span(), |column| column.value_span);
            cx.error_at(
                span,
                format!(
                    "column `{}` is already used by field `{}`: give one of them another \
                     `#[field(column = \"...\")]`",
                    field.column, previous.ident
                ),
            );
        }
    }
}

fn check_single_version(cx: &Ctxt, model: &Model) {
    let versions: Vec<&Field> = model
        .fields
        .iter()
        .filter(|field| field.args.version.is_some())
        .collect();
    for extra in versions.iter().skip(1) {
        if let Some(flag) = &extra.args.version {
            cx.error_at(
                flag.name,
                format!(
                    "`{}` is already the version field: a model has at most one",
                    versions[0].ident
                ),
            );
        }
    }
}

fn check_indexes(cx: &Ctxt, model: &Model) {
    let field_names: Vec<String> = model.fields.iter().map(Field::name).collect();
    let mut seen_names: BTreeSet<String> = BTreeSet::new();
    for index in &model.args.indexes {
        let kind = if index.unique { "unique" } else { "index" };
        let mut listed: BTreeSet<String> = BTreeSet::new();
        let mut complete = true;
        for name in &index.fields {
            let text = name.to_string();
            if model.field(name).is_none() {
                complete = false;
                let mut message = format!(
                    "unknown field `{text}` in `{kind}(...)`, expected one of {}",
                    backticked(field_names.iter().map(String::as_str))
                );
                if let Some(suggestion) = closest(&text, field_names.iter().map(String::as_str)) {
                    message.push_str(&format!("; did you mean `{suggestion}`?"));
                }
                cx.error_spanned_by(name, message);
            } else if model
                .field(name)
                .is_some_and(|field| field.args.sensitive.is_some())
            {
                complete = false;
                cx.error_spanned_by(
                    name,
                    format!(
                        "field `{text}` is sensitive and cannot be in `{kind}(...)`: its value is \
                         sealed; mark it `#[field(sensitive(searchable), {kind})]` on its own"
                    ),
                );
            } else if !listed.insert(text.clone()) {
                complete = false;
                cx.error_spanned_by(
                    name,
                    format!("field `{text}` is listed twice in `{kind}(...)`"),
                );
            }
        }
        if complete && !seen_names.insert(model.index_name(index)) {
            cx.error_at(
                index.keyword,
                format!("this `{kind}(...)` is declared twice: remove one"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use proc_macro2::TokenStream;
    use quote::quote;

    use super::*;

    /// The error messages `#[model(args)] input` produces.
    fn errors(args: TokenStream, input: TokenStream) -> Vec<String> {
        let cx = Ctxt::new();
        if let Ok(model) = Model::from_input(&cx, args, input) {
            check(&cx, &model);
        }
        match cx.check() {
            Ok(()) => Vec::new(),
            Err(errors) => errors.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn accepts_a_valid_model() {
        let found = errors(
            quote!(table = "securities", unique(symbol, cusip), index(rate)),
            quote! {
                pub struct Security {
                    pub id: i64,
                    #[field(unique, max_length = 12, min_length = 1, pattern = "^[A-Z]+$")]
                    pub symbol: String,
                    pub cusip: Option<String>,
                    #[field(max_digits = 12, decimal_places = 6, min = "0", max = "100.5")]
                    pub rate: Decimal,
                    #[field(on_delete = "set_null")]
                    pub parent: Option<fw::Ref<Security>>,
                    #[field(default = 3, min = -1, max = 10)]
                    pub n: i32,
                    #[field(version)]
                    pub version: i64,
                }
            },
        );
        assert_eq!(found, Vec::<String>::new());
    }

    #[test]
    fn conflicting_options() {
        let found = errors(
            TokenStream::new(),
            quote! {
                struct Thing {
                    #[field(primary_key, version)] key: i64,
                    #[field(auto_now, auto_now_add)] stamp: DateTime<Utc>,
                    #[field(on_delete = "set_null")] owner: Ref<Owner>,
                    #[field(max_length = 3)] count: i32,
                    #[field(max_digits = 4, decimal_places = 6)] rate: Decimal,
                    #[field(min = "1.5")] small: i16,
                    #[field(default = "x")] flag: bool,
                }
            },
        );
        let expected = [
            "`version` cannot be used on the primary key `key`: the key cannot change",
            "`auto_now` conflicts with `auto_now_add`: a field gets its value in one way only",
            "`on_delete = \"set_null\"` needs a nullable field: change the type to `Option<Ref<Owner>>`, or use \"cascade\" or \"restrict\"",
            "`max_length` applies only to `String` and `Option<String>` fields; `count` has type `i32`",
            "`decimal_places` (6) cannot exceed `max_digits` (4): the digits after the point are part of the total",
            "`min` of an integer field must be an integer literal: the field holds whole numbers, e.g. `min = 1`",
            "`default` for `flag` must be `true` or `false`, matching its type `bool`",
        ];
        assert_eq!(found, expected);
    }

    #[test]
    fn primary_key_rules() {
        assert_eq!(
            errors(
                TokenStream::new(),
                quote!(
                    struct Keyless {
                        name: String,
                    }
                )
            ),
            [
                "model `Keyless` has no primary key: add a field `id: i64`, or mark a field `#[field(primary_key)]`"
            ]
        );
        let found = errors(
            TokenStream::new(),
            quote!(
                struct Twice {
                    #[field(primary_key)]
                    a: i64,
                    #[field(primary_key)]
                    b: i64,
                }
            ),
        );
        assert_eq!(found.len(), 1);
        assert!(found[0].starts_with("duplicate primary key: `a` is already the primary key"));
    }

    #[test]
    fn names_and_renames() {
        let found = errors(
            quote!(table = "my table", renamed_from = "my table", index(nme)),
            quote! {
                struct Named {
                    id: i64,
                    #[field(renamed_from = "name")] name: String,
                    #[field(renamed_from = "")] other: String,
                    #[field(column = "name")] clash: String,
                }
            },
        );
        let expected = [
            "table name \"my table\" is not a plain identifier: use ASCII letters, digits and `_`, not starting with a digit",
            "`renamed_from` names the current table `my table`: give the previous table name, or remove `renamed_from` once the rename has been migrated",
            "`renamed_from` names the current column `name`: give the previous column name, or remove `renamed_from` once the rename has been migrated",
            "`renamed_from` must name the previous column, e.g. `renamed_from = \"old_name\"`",
            "column `name` is already used by field `name`: give one of them another `#[field(column = \"...\")]`",
            "unknown field `nme` in `index(...)`, expected one of `id`, `name`, `other`, `clash`; did you mean `name`?",
        ];
        assert_eq!(found, expected);
    }

    #[test]
    fn model_shape() {
        assert_eq!(
            errors(
                TokenStream::new(),
                quote!(
                    struct Pair(i64, String);
                )
            ),
            [
                "`#[model]` needs named fields, which become the column names; a tuple struct has none"
            ]
        );
        assert_eq!(
            errors(
                TokenStream::new(),
                quote!(
                    struct Generic<T> {
                        id: i64,
                        value: T,
                    }
                )
            ),
            [
                "`#[model]` does not support generic structs: a model is one table with fixed column types"
            ]
        );
        assert_eq!(
            errors(
                TokenStream::new(),
                quote!(
                    enum Kind {
                        A,
                    }
                )
            )
            .len(),
            1
        );
        assert_eq!(
            errors(
                TokenStream::new(),
                quote!(
                    #[derive(Clone, Debug)]
                    struct S {
                        id: i64,
                    }
                )
            ),
            [
                "remove `Debug` from this derive: `#[model]` implements `Debug` itself so it can redact `#[field(sensitive)]` fields"
            ]
        );
    }
}
