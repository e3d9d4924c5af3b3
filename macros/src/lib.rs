//! Procedural macros for fw. Use them through the `fw` crate.

use proc_macro::TokenStream;

/// Declares a model. See the `fw` crate documentation.
#[proc_macro_attribute]
pub fn model(_args: TokenStream, input: TokenStream) -> TokenStream {
    input
}

/// Derives `fw::Choices` for a fieldless enum. See the `fw` crate documentation.
#[proc_macro_derive(Choices, attributes(choice))]
pub fn derive_choices(input: TokenStream) -> TokenStream {
    let _ = input;
    TokenStream::new()
}
