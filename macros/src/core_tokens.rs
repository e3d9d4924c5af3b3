//! The one place the macros turn a `fw_core` value into the path that names it in
//! generated code (`::fw::schema::OnDelete::Cascade`). Each conversion is one
//! exhaustive `match`, so a variant added in `fw_core` is a compile error here
//! rather than a value the macros silently cannot emit.

use proc_macro2::TokenStream;
use quote::quote;

use fw_core::api::{Action, Lookup};
use fw_core::schema::{Generated, OnDelete};

/// A `fw_core` value the generated code names.
pub(crate) trait CoreTokens {
    /// The absolute path of this value in generated code.
    fn core_tokens(&self) -> TokenStream;
}

impl CoreTokens for Action {
    fn core_tokens(&self) -> TokenStream {
        let variant = match self {
            Action::List => quote!(List),
            Action::Retrieve => quote!(Retrieve),
            Action::Create => quote!(Create),
            Action::Update => quote!(Update),
            Action::PartialUpdate => quote!(PartialUpdate),
            Action::Destroy => quote!(Destroy),
            Action::History => quote!(History),
        };
        quote!(::fw::Action::#variant)
    }
}

impl CoreTokens for Lookup {
    fn core_tokens(&self) -> TokenStream {
        let variant = match self {
            Lookup::Exact => quote!(Exact),
            Lookup::In => quote!(In),
            Lookup::Gt => quote!(Gt),
            Lookup::Gte => quote!(Gte),
            Lookup::Lt => quote!(Lt),
            Lookup::Lte => quote!(Lte),
            Lookup::IsNull => quote!(IsNull),
            Lookup::Contains => quote!(Contains),
            Lookup::IContains => quote!(IContains),
            Lookup::StartsWith => quote!(StartsWith),
        };
        quote!(::fw::Lookup::#variant)
    }
}

impl CoreTokens for Generated {
    fn core_tokens(&self) -> TokenStream {
        let variant = match self {
            Generated::No => quote!(No),
            Generated::AutoIncrement => quote!(AutoIncrement),
            Generated::AutoUuid => quote!(AutoUuid),
            Generated::CreatedAt => quote!(CreatedAt),
            Generated::UpdatedAt => quote!(UpdatedAt),
            Generated::Version => quote!(Version),
        };
        quote!(::fw::schema::Generated::#variant)
    }
}

impl CoreTokens for OnDelete {
    fn core_tokens(&self) -> TokenStream {
        let variant = match self {
            OnDelete::Restrict => quote!(Restrict),
            OnDelete::Cascade => quote!(Cascade),
            OnDelete::SetNull => quote!(SetNull),
        };
        quote!(::fw::schema::OnDelete::#variant)
    }
}
