//! Procedural macros for fw. Use them through the `fw` crate.
//!
//! Each macro is a pipeline, one module per stage (see `model/mod.rs` and
//! `choices/mod.rs`); this file only connects them to the compiler.

use proc_macro::TokenStream;

mod choices;
mod core_tokens;
mod ctxt;
mod embed;
mod model;
mod names;
mod options;
#[cfg(test)]
mod reference_page;
mod resource;

/// Declares a model. See the `fw` crate documentation.
#[proc_macro_attribute]
pub fn model(args: TokenStream, input: TokenStream) -> TokenStream {
    finish(model::expand(args.into(), input.into()))
}

/// Declares a REST resource over a model. See the `fw` crate documentation.
#[proc_macro_attribute]
pub fn resource(args: TokenStream, input: TokenStream) -> TokenStream {
    finish(resource::expand(args.into(), input.into()))
}

/// `#[resource]` given its model's fields: what the hidden `macro_rules!`
/// that `#[model]` emits calls back with them, since a proc macro cannot read
/// another item. Not public API.
#[doc(hidden)]
#[proc_macro]
pub fn __resource_with_model_fields(input: TokenStream) -> TokenStream {
    finish(resource::expand_with_model_fields(input.into()))
}

/// Derives `fw::Choices` for a fieldless enum. See the `fw` crate documentation.
#[proc_macro_derive(Choices, attributes(choice))]
pub fn derive_choices(input: TokenStream) -> TokenStream {
    finish(choices::expand(input.into()))
}

/// The migration files of the calling crate's `migrations/` directory (or of
/// the directory named, relative to the crate), compiled into the executable.
/// See the `fw` crate documentation.
#[proc_macro]
pub fn embed_migrations(input: TokenStream) -> TokenStream {
    embed::migrations(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// The one place errors become `compile_error!`s, emitted beside the fallback
/// (the user's item and stub impls) so a mistake is reported once, not as a
/// cascade through every use of what the macro would have generated.
fn finish(expansion: ctxt::Expansion) -> TokenStream {
    match expansion {
        Ok(tokens) => tokens.into(),
        Err(failure) => failure.into_tokens().into(),
    }
}
