//! What `#[model]` emits beside its errors, so that one mistake is reported once
//! and not again by every use of the model: `Dividend::query()`, `NewDividend`,
//! `Dividend::AMOUNT`, a resource over it.

use proc_macro2::TokenStream;
use quote::quote;

use super::ast::Model;
use super::expand::{
    column_consts, debug_impls, field_type_impls, fields_macro, new_ident, new_struct, patch_ident,
    patch_struct, schema_statics,
};

/// The struct, its `New` and `Patch` structs, its column constants and a `Model`
/// impl whose functions are never called (the crate does not compile). A
/// generic struct, which a model cannot be, gets no impls: they would need
/// type parameters the error says to remove.
pub(super) fn stub(model: &Model) -> TokenStream {
    let item = model.stripped_item();
    if !model.item.generics.params.is_empty() {
        return item;
    }
    let ident = &model.ident;
    let new_struct = new_struct(model);
    let patch_struct = patch_struct(model);
    // A derived `Debug` is an error of its own; emitting ours beside it would
    // add a conflicting impl.
    let debug_impls = model.derived_debug.is_empty().then(|| debug_impls(model));
    let schema = schema_statics(model);
    let columns = column_consts(model);
    let table = &model.table;
    // Without a key (an error of its own), the usual one.
    let (key_ty, key_column) = match model.primary_key() {
        Some(key) => {
            let ty = &key.ty;
            (quote!(#ty), key.column.as_str())
        }
        None => (quote!(i64), "id"),
    };
    // As declared, so a resource's `history` action is not refused too.
    let changelog = model.args.changelog.is_some();
    let new_ident = new_ident(model);
    let patch_ident = patch_ident(model);
    let fields_macro = fields_macro(model);
    let field_types = field_type_impls(model);
    quote! {
        #item
        #new_struct
        #patch_struct
        #fields_macro
        const _: () = {
            #debug_impls
            #schema

            #[automatically_derived]
            impl ::fw::Model for #ident {
                const TABLE: &'static str = #table;
                const SCHEMA: &'static ::fw::schema::ModelSchema = &__FW_SCHEMA;
                const CHANGELOG: bool = #changelog;

                type Key = #key_ty;
                type New = #new_ident;
                type Patch = #patch_ident;

                fn key(&self) -> &Self::Key {
                    ::core::unreachable!()
                }

                fn version(&self) -> ::core::option::Option<i64> {
                    ::core::unreachable!()
                }
            }

            #[automatically_derived]
            impl ::fw::__private::ModelCodegen for #ident {
                const PRIMARY_KEY_COLUMN: &'static str = #key_column;

                fn sql(_: ::fw::Dialect) -> &'static ::fw::__private::ModelSql {
                    ::core::unreachable!()
                }

                fn decode(_: &::fw::__private::Row<'_>) -> ::fw::Result<Self> {
                    ::core::unreachable!()
                }

                fn bind_new(
                    _: &#new_ident,
                    _: &mut ::fw::__private::Arguments,
                    _: ::fw::__private::DateTime<::fw::__private::Utc>,
                ) -> ::fw::Result<()> {
                    ::core::unreachable!()
                }

                fn bind_update(
                    &self,
                    _: &mut ::fw::__private::Arguments,
                    _: ::fw::__private::DateTime<::fw::__private::Utc>,
                ) -> ::fw::Result<()> {
                    ::core::unreachable!()
                }

                fn patch_values(
                    _: &#patch_ident,
                ) -> ::std::vec::Vec<(&'static ::fw::schema::FieldSchema, ::fw::Value)> {
                    ::core::unreachable!()
                }

                fn values(&self) -> ::std::vec::Vec<::fw::Value> {
                    ::core::unreachable!()
                }

                fn new_values(
                    _: &#new_ident,
                ) -> ::std::vec::Vec<(&'static ::fw::schema::FieldSchema, ::fw::Value)> {
                    ::core::unreachable!()
                }

                fn new_from_json(
                    _: &mut dyn ::core::ops::FnMut(
                        &'static ::fw::schema::FieldSchema,
                    ) -> ::fw::__private::serde_json::Value,
                ) -> ::fw::Result<#new_ident> {
                    ::core::unreachable!()
                }
            }

            #columns
            #field_types
        };
    }
}
