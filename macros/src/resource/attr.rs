//! Parsing of `#[resource(...)]` arguments and `#[field(...)]` options into
//! spanned values. Cross-option rules live in `check.rs`.

use proc_macro2::{Span, TokenStream};
use syn::ext::IdentExt as _;
use syn::parse::Parser;
use syn::{Ident, Path, Token};

use fw_core::access::{ModelPermission, is_name};
use fw_core::api::{Action, Lookup};

use crate::ctxt::Ctxt;
use crate::names::{backticked, closest};
use crate::options::{self, RawOption, RawValue};

const OPTIONS: [&str; 18] = [
    "model",
    "path",
    "fields",
    "exclude",
    "actions",
    "permissions",
    "read_only",
    "write_only",
    "create_only",
    "filter",
    "search",
    "ordering",
    "default_ordering",
    "page_size",
    "max_page_size",
    "scope",
    "hooks",
    "name",
];

/// One lookup as written: `gte` in `ex_date(gte)`.
#[derive(Debug, Clone)]
pub(crate) struct LookupArg {
    pub(crate) ident: Ident,
    pub(crate) lookup: Lookup,
}

/// `field(lookup, ...)` or `name = reference.field(lookup, ...)` in `filter(...)`.
#[derive(Debug, Clone)]
pub(crate) struct FilterArg {
    /// The struct field filtered on; for a related filter, the reference it follows.
    pub(crate) field: Ident,
    /// Set for a related filter.
    pub(crate) related: Option<RelatedArg>,
    pub(crate) lookups: Vec<LookupArg>,
}

/// What a related filter adds: `symbol = security.symbol` names the query
/// parameter `symbol` and compares field `symbol` of the row `security` refers to.
#[derive(Debug, Clone)]
pub(crate) struct RelatedArg {
    pub(crate) name: Ident,
    pub(crate) target: Ident,
}

impl FilterArg {
    /// The query parameter's name, before any `__lookup`.
    pub(crate) fn parameter(&self) -> &Ident {
        self.related
            .as_ref()
            .map_or(&self.field, |related| &related.name)
    }
}

/// `fields = all` or `fields(title, body)`: which of the model's fields a
/// resource shows without writing them out.
#[derive(Debug)]
pub(crate) enum FieldsArg {
    /// `fields = all`.
    All,
    /// `fields(title, body)`, in this order.
    Only(Vec<Ident>),
}

/// `#[resource(...)]`.
#[derive(Debug, Default)]
pub(crate) struct ResourceArgs {
    pub(crate) model: Option<Path>,
    /// `fields = ...`, after the `fields` keyword (where errors about it go).
    pub(crate) fields: Option<(Ident, FieldsArg)>,
    /// `exclude(...)`: every model field but these, after the `exclude` keyword.
    pub(crate) exclude: Option<(Ident, Vec<Ident>)>,
    pub(crate) path: Option<(String, Span)>,
    pub(crate) actions: Vec<(Ident, Action)>,
    pub(crate) actions_span: Option<Span>,
    pub(crate) permissions: Option<PermissionsArg>,
    pub(crate) read_only: Vec<Ident>,
    pub(crate) write_only: Vec<Ident>,
    pub(crate) create_only: Vec<Ident>,
    pub(crate) filters: Vec<FilterArg>,
    pub(crate) search: Vec<Ident>,
    pub(crate) ordering: Vec<Ident>,
    pub(crate) default_ordering: Option<(String, Span)>,
    pub(crate) page_size: Option<(u32, Span)>,
    pub(crate) max_page_size: Option<(u32, Span)>,
    pub(crate) scope: Option<Path>,
    pub(crate) hooks: Option<Path>,
    pub(crate) name: Option<(String, Span)>,
}

impl ResourceArgs {
    pub(crate) fn parse(cx: &Ctxt, args: TokenStream) -> ResourceArgs {
        let mut parsed = ResourceArgs::default();
        options::parse_arguments(cx, args, &[], |option| parsed.read(cx, option));
        parsed
    }

    fn read(&mut self, cx: &Ctxt, option: RawOption) {
        match option.name.to_string().as_str() {
            "model" => self.model = path_value(cx, &option, "model = Dividend"),
            "scope" => self.scope = path_value(cx, &option, "scope = crate::api::own_account"),
            "hooks" => self.hooks = path_value(cx, &option, "hooks = DividendHooks"),
            "path" => {
                self.path = option.string(cx, "path = \"/dividends\"");
            }
            "name" => self.name = option.string(cx, "name = \"Dividend\""),
            "default_ordering" => {
                self.default_ordering = option.string(cx, "default_ordering = \"-ex_date\"");
            }
            "page_size" => self.page_size = option.count(cx, "page_size = 50"),
            "max_page_size" => self.max_page_size = option.count(cx, "max_page_size = 500"),
            // A value in error still says the resource takes its model's
            // fields, so the struct is not also reported as having none.
            "fields" => {
                let fields = fields(cx, &option).unwrap_or(FieldsArg::Only(Vec::new()));
                self.fields = Some((option.name, fields));
            }
            "exclude" => {
                let excluded = option.idents(cx, "exclude(internal_note)");
                self.exclude = Some((option.name, excluded.unwrap_or_default()));
            }
            "read_only" => {
                self.read_only = option
                    .idents(cx, "read_only(id, version)")
                    .unwrap_or_default()
            }
            "write_only" => {
                self.write_only = option
                    .idents(cx, "write_only(password)")
                    .unwrap_or_default()
            }
            "create_only" => {
                self.create_only = option.idents(cx, "create_only(id)").unwrap_or_default()
            }
            "search" => {
                self.search = option
                    .idents(cx, "search(symbol, name)")
                    .unwrap_or_default()
            }
            "ordering" => {
                self.ordering = option
                    .idents(cx, "ordering(ex_date, pay_date)")
                    .unwrap_or_default()
            }
            "actions" => {
                self.actions_span = Some(option.value_span());
                let example =
                    "actions(list, retrieve, create, update, partial_update, destroy, history)";
                for ident in option.idents(cx, example).unwrap_or_default() {
                    match Action::from_name(&ident.to_string()) {
                        Some(action) => self.actions.push((ident, action)),
                        None => cx.error_spanned_by(
                            &ident,
                            options::unknown(
                                "action",
                                &ident.to_string(),
                                Action::ALL.map(Action::name),
                            ),
                        ),
                    }
                }
            }
            "filter" => self.filters = filters(cx, &option),
            "permissions" => self.permissions = Some(permissions(cx, &option)),
            _ => option.unknown(cx, "`#[resource]`", &OPTIONS),
        }
    }
}

const FIELDS_EXAMPLE: &str =
    "`fields = all` or a list of the model's fields, e.g. `fields(title, body)`";

/// `fields = all` or `fields(title, body)`.
fn fields(cx: &Ctxt, option: &RawOption) -> Option<FieldsArg> {
    match &option.value {
        RawValue::List { .. } => option
            .idents(cx, "fields(title, body)")
            .map(FieldsArg::Only),
        RawValue::Value(syn::Expr::Path(path)) if path.path.is_ident("all") => Some(FieldsArg::All),
        _ => {
            cx.error_at(
                option.value_span(),
                format!("`fields` expects {FIELDS_EXAMPLE}"),
            );
            None
        }
    }
}

fn path_value(cx: &Ctxt, option: &RawOption, example: &str) -> Option<Path> {
    match option.expr(cx, example)? {
        syn::Expr::Path(path) => Some(path.path.clone()),
        other => {
            cx.error_spanned_by(
                other,
                format!("`{}` expects a path, e.g. `{example}`", option.name),
            );
            None
        }
    }
}

const FILTER_EXAMPLE: &str =
    "filter(ex_date(gte, lte), status, symbol = security.symbol(exact, in))";

/// `filter(ex_date(gte, lte), status, symbol = security.symbol(exact, in))`: a
/// field alone means `exact`; `name = reference.field(...)` filters on a field
/// of the referenced row.
fn filters(cx: &Ctxt, option: &RawOption) -> Vec<FilterArg> {
    let RawValue::List { tokens, .. } = &option.value else {
        cx.error_at(
            option.value_span(),
            format!("`filter` expects a list, e.g. `{FILTER_EXAMPLE}`"),
        );
        return Vec::new();
    };
    let mut filters = Vec::new();
    let parser = syn::meta::parser(|meta| {
        let Some(first) = meta.path.get_ident().cloned() else {
            return Err(meta.error("expected a field name"));
        };
        let (field, related, input) = if meta.input.peek(Token![=]) {
            let input = meta.value()?;
            let expected = format!(
                "a named filter follows a reference: `{first} = <reference field>.<field of the referenced model>(<lookups>)`, e.g. `symbol = security.symbol(exact, in)`"
            );
            let field: Ident = input
                .parse()
                .map_err(|error| syn::Error::new(error.span(), &expected))?;
            if !input.peek(Token![.]) {
                return Err(syn::Error::new(field.span(), expected));
            }
            input.parse::<Token![.]>()?;
            let target: Ident = input.parse().map_err(|error| {
                syn::Error::new(
                    error.span(),
                    "expected a field of the referenced model after the dot, e.g. `security.symbol`",
                )
            })?;
            let related = RelatedArg {
                name: first,
                target,
            };
            (field, Some(related), input)
        } else {
            (first, None, meta.input)
        };
        let lookups = if input.peek(syn::token::Paren) {
            let content;
            syn::parenthesized!(content in input);
            let names = content.parse_terminated(Ident::parse_any, Token![,])?;
            names
                .into_iter()
                .filter_map(|ident| lookup(cx, ident))
                .collect()
        } else {
            let span = related
                .as_ref()
                .map_or(field.span(), |related| related.target.span());
            vec![LookupArg {
                ident: Ident::new(Lookup::Exact.name(), span),
                lookup: Lookup::Exact,
            }]
        };
        filters.push(FilterArg {
            field,
            related,
            lookups,
        });
        Ok(())
    });
    if let Err(error) = parser.parse2(tokens.clone()) {
        cx.syn_error(error);
    }
    filters
}

/// The lookup `ident` names, or `None` after reporting an unknown one.
fn lookup(cx: &Ctxt, ident: Ident) -> Option<LookupArg> {
    match Lookup::from_name(&ident.to_string()) {
        Some(lookup) => Some(LookupArg { ident, lookup }),
        None => {
            cx.error_spanned_by(
                &ident,
                options::unknown(
                    "lookup",
                    &ident.to_string(),
                    Lookup::ALL.iter().map(|lookup| lookup.name()),
                ),
            );
            None
        }
    }
}

/// The access every action not named in `permissions(...)` gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DefaultAccess {
    /// `model`: the model permission the action needs (`view_<model>`, ...).
    Model,
    /// `public`: anyone, for reads only.
    Public,
    /// `authenticated`: any signed-in user.
    Authenticated,
}

impl DefaultAccess {
    const ALL: [DefaultAccess; 3] = [
        DefaultAccess::Model,
        DefaultAccess::Public,
        DefaultAccess::Authenticated,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            DefaultAccess::Model => "model",
            DefaultAccess::Public => "public",
            DefaultAccess::Authenticated => "authenticated",
        }
    }
}

/// The access of one action as written after `=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AccessArg {
    /// `public`.
    Public,
    /// `authenticated`.
    Authenticated,
    /// `view`, `add`, `change` or `delete`: that permission of the model.
    Model(ModelPermission),
    /// `"purge_dividends"`: a permission the application declares.
    Named(String),
}

/// `create = add` in `permissions(...)`.
#[derive(Debug, Clone)]
pub(crate) struct AccessEntry {
    pub(crate) ident: Ident,
    pub(crate) action: Action,
    pub(crate) access: AccessArg,
}

/// `permissions(model)`, `permissions(public, create = add)`, ...: who may
/// call each action.
#[derive(Debug)]
pub(crate) struct PermissionsArg {
    /// The `permissions` keyword, where errors about the whole list go.
    pub(crate) keyword: Ident,
    /// Every default keyword given (more than one is an error).
    pub(crate) defaults: Vec<(Ident, DefaultAccess)>,
    pub(crate) entries: Vec<AccessEntry>,
}

const PERMISSIONS_EXAMPLE: &str = "permissions(model)";

/// The words an action's access may be, besides a permission name in quotes.
const ACCESS_WORDS: [&str; 6] = ["public", "authenticated", "view", "add", "change", "delete"];

/// `permissions(default, action = access, ...)`: a default keyword and/or
/// per-action entries, each checked against the grammar here; whether they
/// cover the offered actions is `check.rs`'s.
fn permissions(cx: &Ctxt, option: &RawOption) -> PermissionsArg {
    let mut parsed = PermissionsArg {
        keyword: option.name.clone(),
        defaults: Vec::new(),
        entries: Vec::new(),
    };
    let RawValue::List { tokens, .. } = &option.value else {
        cx.error_at(
            option.value_span(),
            format!("`permissions` expects a list, e.g. `{PERMISSIONS_EXAMPLE}` or `permissions(public, create = add)`"),
        );
        return parsed;
    };
    let parser = syn::meta::parser(|meta| {
        let Some(ident) = meta.path.get_ident().cloned() else {
            return Err(
                meta.error("expected `model`, `public`, `authenticated` or `<action> = <access>`")
            );
        };
        let name = ident.to_string();
        if !meta.input.peek(Token![=]) {
            match DefaultAccess::ALL.into_iter().find(|default| default.name() == name) {
                Some(default) => parsed.defaults.push((ident, default)),
                None => cx.error_spanned_by(
                    &ident,
                    format!(
                        "unknown default access `{name}`, expected one of {}, or an action with its access, e.g. `create = add`{}",
                        backticked(DefaultAccess::ALL.map(DefaultAccess::name)),
                        did_you_mean(&name, DefaultAccess::ALL.map(DefaultAccess::name)),
                    ),
                ),
            }
            return Ok(());
        }
        let value: syn::Expr = meta.value()?.parse()?;
        let Some(action) = Action::from_name(&name) else {
            cx.error_spanned_by(
                &ident,
                options::unknown("action", &name, Action::ALL.map(Action::name)),
            );
            return Ok(());
        };
        if let Some(access) = access(cx, &value) {
            parsed.entries.push(AccessEntry {
                ident,
                action,
                access,
            });
        }
        Ok(())
    });
    if let Err(error) = parser.parse2(tokens.clone()) {
        cx.syn_error(error);
    }
    parsed
}

/// The access `value` names: a word of [`ACCESS_WORDS`] or a permission name
/// in quotes; `None` after reporting anything else.
fn access(cx: &Ctxt, value: &syn::Expr) -> Option<AccessArg> {
    if let Some(syn::Lit::Str(name)) = options::literal(value) {
        let text = name.value();
        if is_name(&text) {
            return Some(AccessArg::Named(text));
        }
        cx.error_spanned_by(
            name,
            format!(
                "`{text}` cannot name a permission: use lowercase letters, digits and underscores, starting with a letter, at most {} characters, e.g. `\"purge_dividends\"`",
                fw_core::access::MAX_NAME_LENGTH
            ),
        );
        return None;
    }
    let word = match value {
        syn::Expr::Path(path) => path.path.get_ident().map(ToString::to_string),
        _ => None,
    };
    let access = word.as_deref().and_then(|word| match word {
        "public" => Some(AccessArg::Public),
        "authenticated" => Some(AccessArg::Authenticated),
        _ => ModelPermission::from_name(word).map(AccessArg::Model),
    });
    if access.is_none() {
        let (what, hint) = match &word {
            Some(word) => (
                format!("unknown access `{word}`, expected"),
                did_you_mean(word, ACCESS_WORDS),
            ),
            None => ("expected an access:".to_owned(), String::new()),
        };
        cx.error_spanned_by(
            value,
            format!(
                "{what} one of {}, or an application's permission in quotes, e.g. `\"purge_dividends\"`{hint}",
                backticked(ACCESS_WORDS)
            ),
        );
    }
    access
}

/// "; did you mean `view`?" when `name` is close to one of `known`.
fn did_you_mean<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    closest(name, known)
        .map(|close| format!("; did you mean `{close}`?"))
        .unwrap_or_default()
}

/// `#[field(...)]` on a resource field.
#[derive(Debug, Default)]
pub(crate) struct FieldArgs {
    /// `rename = "exDate"`: the name in JSON.
    pub(crate) rename: Option<(String, Span)>,
    /// `reveal = "view_account_tax_id"`: the permission that shows a sensitive
    /// model field.
    pub(crate) reveal: Option<(String, Span)>,
    /// `computed = crate::api::days_to_payment`: the function, from the row,
    /// of a field that is not stored.
    pub(crate) computed: Option<Path>,
}

const FIELD_OPTIONS: [&str; 3] = ["rename", "reveal", "computed"];

/// `#[field(rename = "apiName", reveal = "permission", computed = path)]` on a
/// resource field.
pub(crate) fn field_args(cx: &Ctxt, attrs: &[syn::Attribute]) -> FieldArgs {
    let mut parsed = FieldArgs::default();
    let attrs = attrs.iter().filter(|attr| attr.path().is_ident("field"));
    options::parse_attributes(cx, attrs, |option| match option.name.to_string().as_str() {
        "rename" => parsed.rename = option.string(cx, "rename = \"exDate\""),
        "computed" => {
            // One that is not a path still marks the field computed, so that
            // it is not also reported as no field of the model; the struct
            // is then not expanded, and the placeholder never used.
            parsed.computed = Some(
                path_value(cx, &option, "computed = crate::api::days_to_payment")
                    .unwrap_or_else(|| syn::parse_quote!(__fw_not_a_path)),
            );
        }
        "reveal" => {
            parsed.reveal = option
                .string(cx, "reveal = \"view_account_tax_id\"")
                .filter(|(name, span)| {
                    let valid = is_name(name);
                    if !valid {
                        cx.error_at(
                            *span,
                            format!(
                                "`{name}` cannot name a permission: use lowercase letters, digits and underscores, starting with a letter, at most {} characters, e.g. `\"view_account_tax_id\"`",
                                fw_core::access::MAX_NAME_LENGTH
                            ),
                        );
                    }
                    valid
                });
        }
        _ => option.unknown(cx, "resource `#[field]`", &FIELD_OPTIONS),
    });
    parsed
}
