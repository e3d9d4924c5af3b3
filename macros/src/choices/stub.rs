//! What `#[derive(Choices)]` emits beside its errors, so that one mistake is
//! reported once and not again by every model field, filter or `match` using
//! the enum.

use proc_macro2::TokenStream;
use quote::quote;

use super::ast::ChoiceEnum;

/// The traits the derive implements, with no values and functions that are
/// never called (the crate does not compile). A generic enum, which a choice
/// enum cannot be, gets none: they would need the type parameters the error
/// says to remove.
pub(super) fn stub(choices: &ChoiceEnum) -> TokenStream {
    if choices.generic {
        return TokenStream::new();
    }
    let ident = &choices.ident;
    quote! {
        const _: () = {
            #[automatically_derived]
            impl ::fw::Choices for #ident {
                const ALL: &'static [Self] = &[];
                const VALUES: &'static [&'static str] = &[];

                fn as_str(&self) -> &'static str {
                    ::core::unreachable!()
                }

                fn from_str(_: &str) -> ::core::option::Option<Self> {
                    ::core::unreachable!()
                }
            }

            #[automatically_derived]
            impl ::fw::Field for #ident {
                const SQL_TYPE: ::fw::schema::SqlType = ::fw::schema::SqlType::Text;
                type Scalar = Self;

                fn bind(&self, _: &mut ::fw::__private::Arguments) -> ::fw::Result<()> {
                    ::core::unreachable!()
                }

                fn decode(_: &::fw::__private::Row<'_>, _: usize) -> ::fw::Result<Self> {
                    ::core::unreachable!()
                }

                fn to_value(&self) -> ::fw::Value {
                    ::core::unreachable!()
                }

                fn represent<S: ::fw::__private::serde::Serializer>(
                    &self,
                    _: S,
                ) -> ::core::result::Result<S::Ok, S::Error> {
                    ::core::unreachable!()
                }
            }

            #[automatically_derived]
            impl ::fw::__private::serde::Serialize for #ident {
                fn serialize<S>(&self, _: S) -> ::core::result::Result<S::Ok, S::Error>
                where
                    S: ::fw::__private::serde::Serializer,
                {
                    ::core::unreachable!()
                }
            }

            #[automatically_derived]
            impl<'de> ::fw::__private::serde::Deserialize<'de> for #ident {
                fn deserialize<D>(_: D) -> ::core::result::Result<Self, D::Error>
                where
                    D: ::fw::__private::serde::Deserializer<'de>,
                {
                    ::core::unreachable!()
                }
            }

            #[automatically_derived]
            impl ::core::fmt::Display for #ident {
                fn fmt(&self, _: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    ::core::unreachable!()
                }
            }
        };
    }
}
