//! The IR of a `#[derive(Choices)]` enum: its variants and their stored text.

use proc_macro2::{Span, TokenStream};
use syn::{Data, DeriveInput, Fields, Ident};

use super::attr;
use crate::ctxt::Ctxt;
use fw_core::names::snake_case;

pub(crate) struct ChoiceEnum {
    pub(crate) ident: Ident,
    /// Whether the enum has type parameters or a where clause (an error).
    pub(crate) generic: bool,
    pub(crate) variants: Vec<Choice>,
}

pub(crate) struct Choice {
    pub(crate) ident: Ident,
    /// The stored (and serialized) text: `rename`, or the snake_case variant name.
    pub(crate) value: String,
    /// Where the text comes from: the `rename` literal or the variant name.
    pub(crate) value_span: Span,
}

impl ChoiceEnum {
    /// Reads the enum; reports and returns `None` when the item is not an enum.
    pub(crate) fn from_input(cx: &Ctxt, input: TokenStream) -> Option<ChoiceEnum> {
        let item: DeriveInput = match syn::parse2(input) {
            Ok(item) => item,
            Err(error) => {
                cx.syn_error(error);
                return None;
            }
        };
        let data = match &item.data {
            Data::Enum(data) => data,
            Data::Struct(data) => {
                cx.error_spanned_by(
                    data.struct_token,
                    "`Choices` can only be derived for an enum whose variants have no fields",
                );
                return None;
            }
            Data::Union(data) => {
                cx.error_spanned_by(
                    data.union_token,
                    "`Choices` can only be derived for an enum whose variants have no fields",
                );
                return None;
            }
        };
        let generic = !item.generics.params.is_empty() || item.generics.where_clause.is_some();
        if generic {
            cx.error_spanned_by(
                &item.generics,
                "`Choices` cannot be derived for a generic enum: its values are a fixed list \
                 of text",
            );
        }
        if data.variants.is_empty() {
            cx.error_spanned_by(
                &item.ident,
                format!(
                    "`{}` has no variants: a `Choices` enum needs at least one value",
                    item.ident
                ),
            );
        }
        let variants = data
            .variants
            .iter()
            .map(|variant| {
                if !matches!(variant.fields, Fields::Unit) {
                    cx.error_spanned_by(
                        &variant.fields,
                        format!(
                            "variant `{}` has fields: `Choices` variants are stored as text and \
                             cannot carry data",
                            variant.ident
                        ),
                    );
                }
                let args = attr::parse_variant_args(cx, &variant.attrs);
                let (value, value_span) = args.rename.unwrap_or_else(|| {
                    (snake_case(&variant.ident.to_string()), variant.ident.span())
                });
                Choice {
                    ident: variant.ident.clone(),
                    value,
                    value_span,
                }
            })
            .collect();
        Some(ChoiceEnum {
            ident: item.ident,
            generic,
            variants,
        })
    }
}
