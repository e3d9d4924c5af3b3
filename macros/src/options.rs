//! Reading `name`, `name = value` and `name(...)` options out of an attribute, for
//! every macro. Each option is handed over raw; the per-macro `attr.rs` decides what
//! it means, reporting problems to the [`Ctxt`] and carrying on with the next one.

use proc_macro2::{Span, TokenStream};
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ExprUnary, Ident, Lit, UnOp};

use crate::ctxt::Ctxt;
use crate::names::{backticked, closest};

/// One option as written.
pub(crate) struct RawOption {
    pub(crate) name: Ident,
    pub(crate) value: RawValue,
}

/// What followed an option's name.
pub(crate) enum RawValue {
    /// Nothing: `unique`.
    Flag,
    /// `= <expr>`: `max_length = 12`.
    Value(Expr),
    /// `( ... )`: `unique(security, ex_date)`.
    List { tokens: TokenStream, span: Span },
}

/// Calls `each` with every option of `attrs` (the attributes of one item with the
/// same name, read as one list: `#[field(unique)] #[field(max_length = 12)]`). An
/// option given twice is reported on its second occurrence and not handed over.
/// Syntax errors are recorded in `cx` and end the reading of that attribute.
pub(crate) fn parse_attributes<'a>(
    cx: &Ctxt,
    attrs: impl IntoIterator<Item = &'a syn::Attribute>,
    each: impl FnMut(RawOption),
) {
    let mut once = Once::new(cx, &[], each);
    for attr in attrs {
        if let Err(error) = attr.parse_args_with(parser(&mut once)) {
            cx.syn_error(error);
        }
    }
}

/// Calls `each` with every option in an attribute macro's arguments. Only the
/// options named in `repeatable` may be given more than once; another repeated
/// option is reported on its second occurrence and not handed over.
pub(crate) fn parse_arguments(
    cx: &Ctxt,
    args: TokenStream,
    repeatable: &[&str],
    each: impl FnMut(RawOption),
) {
    let mut once = Once::new(cx, repeatable, each);
    if let Err(error) = parser(&mut once).parse2(args) {
        cx.syn_error(error);
    }
}

/// Hands over each option once: the one place a repeated option is refused, so
/// that no macro lets a second `model = ...` silently win over the first.
struct Once<'a, F> {
    cx: &'a Ctxt,
    repeatable: &'a [&'a str],
    seen: Vec<Ident>,
    each: F,
}

impl<'a, F: FnMut(RawOption)> Once<'a, F> {
    fn new(cx: &'a Ctxt, repeatable: &'a [&'a str], each: F) -> Self {
        Once {
            cx,
            repeatable,
            seen: Vec::new(),
            each,
        }
    }

    fn hand_over(&mut self, option: RawOption) {
        let name = &option.name;
        if self.seen.contains(name) {
            self.cx
                .error_spanned_by(name, format!("`{name}` is given twice: remove one of them"));
            return;
        }
        if !self.repeatable.iter().any(|repeatable| name == repeatable) {
            self.seen.push(name.clone());
        }
        (self.each)(option);
    }
}

fn parser<F: FnMut(RawOption)>(once: &mut Once<'_, F>) -> impl Parser<Output = ()> {
    syn::meta::parser(move |meta| {
        once.hand_over(read(&meta)?);
        Ok(())
    })
}

fn read(meta: &ParseNestedMeta) -> syn::Result<RawOption> {
    let Some(name) = meta.path.get_ident().cloned() else {
        return Err(syn::Error::new_spanned(
            &meta.path,
            "expected an option name, not a path",
        ));
    };
    let value = if meta.input.peek(syn::Token![=]) {
        RawValue::Value(meta.value()?.parse()?)
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        let parens = syn::parenthesized!(content in meta.input);
        RawValue::List {
            tokens: content.parse()?,
            span: parens.span.join(),
        }
    } else {
        RawValue::Flag
    };
    Ok(RawOption { name, value })
}

impl RawOption {
    /// The span of the whole option, for errors about its value.
    pub(crate) fn value_span(&self) -> Span {
        match &self.value {
            RawValue::Flag => self.name.span(),
            RawValue::Value(expr) => expr.span(),
            RawValue::List { span, .. } => *span,
        }
    }

    /// Reports this option, which is none of the `known` options of `attribute`.
    pub(crate) fn unknown(&self, cx: &Ctxt, attribute: &str, known: &[&str]) {
        let what = format!("{attribute} option");
        let message = unknown(&what, &self.name.to_string(), known.iter().copied());
        cx.error_spanned_by(&self.name, message);
    }

    /// Whether the option is written bare, with neither `= value` nor a list.
    pub(crate) fn is_flag(&self) -> bool {
        matches!(self.value, RawValue::Flag)
    }

    /// Whether the option is written with `= value`.
    pub(crate) fn has_value(&self) -> bool {
        matches!(self.value, RawValue::Value(_))
    }

    /// Accepts a bare flag; anything else is reported.
    pub(crate) fn flag(&self, cx: &Ctxt) -> bool {
        match &self.value {
            RawValue::Flag => true,
            _ => {
                cx.error_at(
                    self.value_span(),
                    format!("`{}` takes no value: write just `{}`", self.name, self.name),
                );
                false
            }
        }
    }

    /// The expression after `=`, or an error showing `example`.
    pub(crate) fn expr(&self, cx: &Ctxt, example: &str) -> Option<&Expr> {
        match &self.value {
            RawValue::Value(expr) => Some(expr),
            _ => {
                cx.error_at(
                    self.value_span(),
                    format!("`{}` expects a value, e.g. `{example}`", self.name),
                );
                None
            }
        }
    }

    /// A string literal value.
    pub(crate) fn string(&self, cx: &Ctxt, example: &str) -> Option<(String, Span)> {
        let expr = self.expr(cx, example)?;
        match literal(expr) {
            Some(Lit::Str(lit)) => Some((lit.value(), lit.span())),
            _ => {
                cx.error_spanned_by(
                    expr,
                    format!("`{}` expects a string literal, e.g. `{example}`", self.name),
                );
                None
            }
        }
    }

    /// A non-negative integer literal that fits in `u32`.
    pub(crate) fn count(&self, cx: &Ctxt, example: &str) -> Option<(u32, Span)> {
        let expr = self.expr(cx, example)?;
        if let Some(Lit::Int(lit)) = literal(expr)
            && let Ok(value) = lit.base10_parse::<u32>()
        {
            return Some((value, lit.span()));
        }
        cx.error_spanned_by(
            expr,
            format!(
                "`{}` expects a non-negative integer literal, e.g. `{example}`",
                self.name
            ),
        );
        None
    }

    /// A list of identifiers: `(a, b)`.
    pub(crate) fn idents(&self, cx: &Ctxt, example: &str) -> Option<Vec<Ident>> {
        let RawValue::List { tokens, span } = &self.value else {
            cx.error_at(
                self.value_span(),
                format!("`{}` expects a list of fields, e.g. `{example}`", self.name),
            );
            return None;
        };
        let parser = syn::punctuated::Punctuated::<Ident, syn::Token![,]>::parse_terminated;
        match parser.parse2(tokens.clone()) {
            Ok(idents) if idents.is_empty() => {
                cx.error_at(
                    *span,
                    format!("`{}` needs at least one field, e.g. `{example}`", self.name),
                );
                None
            }
            Ok(idents) => Some(idents.into_iter().collect()),
            Err(error) => {
                cx.syn_error(syn::Error::new(
                    error.span(),
                    format!("expected field names separated by commas, e.g. `{example}`"),
                ));
                None
            }
        }
    }
}

/// The error for `name`, a `what` that is none of `known`, suggesting the
/// closest: "unknown `#[field]` option `max_len`, expected one of
/// `max_length`, ...; did you mean `max_length`?".
pub(crate) fn unknown<'a>(
    what: &str,
    name: &str,
    known: impl IntoIterator<Item = &'a str> + Clone,
) -> String {
    let expected = match known.clone().into_iter().count() {
        1 => "expected",
        _ => "expected one of",
    };
    let hint = closest(name, known.clone())
        .map(|close| format!("; did you mean `{close}`?"))
        .unwrap_or_default();
    format!(
        "unknown {what} `{name}`, {expected} {}{hint}",
        backticked(known)
    )
}

/// The literal an expression consists of, if it is one.
pub(crate) fn literal(expr: &Expr) -> Option<&Lit> {
    match expr {
        Expr::Lit(ExprLit { lit, .. }) => Some(lit),
        Expr::Group(group) => literal(&group.expr),
        _ => None,
    }
}

/// An integer literal, possibly negated: `-5`, with its digits as written.
pub(crate) fn integer(expr: &Expr) -> Option<(i128, String)> {
    match expr {
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr,
            ..
        }) => integer(expr).map(|(value, text)| (-value, format!("-{text}"))),
        _ => match literal(expr)? {
            Lit::Int(lit) => {
                let value = lit.base10_parse::<i128>().ok()?;
                Some((value, value.to_string()))
            }
            _ => None,
        },
    }
}
