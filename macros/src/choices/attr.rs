//! Parsing of `#[choice(...)]` on variants.

use proc_macro2::Span;

use crate::ctxt::Ctxt;
use crate::options;

const VARIANT_OPTIONS: &[&str] = &["rename"];

/// `#[choice(...)]` options of one variant.
#[derive(Debug, Default)]
pub(crate) struct VariantArgs {
    /// `rename = "..."`: the stored text, with the span of the literal.
    pub(crate) rename: Option<(String, Span)>,
}

pub(crate) fn parse_variant_args(cx: &Ctxt, attrs: &[syn::Attribute]) -> VariantArgs {
    let mut parsed = VariantArgs::default();
    let attrs = attrs.iter().filter(|attr| attr.path().is_ident("choice"));
    options::parse_attributes(cx, attrs, |option| match option.name.to_string().as_str() {
        "rename" => parsed.rename = option.string(cx, "rename = \"stored_text\""),
        _ => option.unknown(cx, "`#[choice]`", VARIANT_OPTIONS),
    });
    parsed
}
