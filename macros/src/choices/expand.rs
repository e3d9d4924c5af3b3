//! Code generation for `#[derive(Choices)]`: `fw::Choices`, `fw::Field`, serde and
//! `Display`, all through the same stored text.

use proc_macro2::TokenStream;
use quote::quote;

use super::ast::ChoiceEnum;
use crate::names::backticked;

pub(crate) fn expand(choices: &ChoiceEnum) -> TokenStream {
    let ident = &choices.ident;
    let variants: Vec<_> = choices
        .variants
        .iter()
        .map(|choice| &choice.ident)
        .collect();
    let values: Vec<_> = choices
        .variants
        .iter()
        .map(|choice| &choice.value)
        .collect();
    let expecting = format!(
        "one of {}",
        backticked(values.iter().map(|value| value.as_str()))
    );
    quote! {
        const _: () = {
            #[automatically_derived]
            impl ::fw::Choices for #ident {
                const ALL: &'static [Self] = &[#(#ident::#variants),*];
                const VALUES: &'static [&'static str] = &[#(#values),*];

                fn as_str(&self) -> &'static str {
                    match self {
                        #(#ident::#variants => #values,)*
                    }
                }

                fn from_str(text: &str) -> ::core::option::Option<Self> {
                    match text {
                        #(#values => ::core::option::Option::Some(#ident::#variants),)*
                        _ => ::core::option::Option::None,
                    }
                }
            }

            #[automatically_derived]
            impl ::fw::Field for #ident {
                const SQL_TYPE: ::fw::schema::SqlType = ::fw::schema::SqlType::Text;
                const CHOICES: &'static [&'static str] = <Self as ::fw::Choices>::VALUES;
                type Scalar = Self;

                fn bind(&self, args: &mut ::fw::__private::Arguments) -> ::fw::Result<()> {
                    args.add(<Self as ::fw::Choices>::as_str(self))
                }

                fn decode(row: &::fw::__private::Row<'_>, index: usize) -> ::fw::Result<Self> {
                    ::fw::__private::decode_choice(row, index)
                }

                fn to_value(&self) -> ::fw::Value {
                    ::fw::Value::Text(::std::string::String::from(
                        <Self as ::fw::Choices>::as_str(self),
                    ))
                }

                fn represent<S: ::fw::__private::serde::Serializer>(
                    &self,
                    serializer: S,
                ) -> ::core::result::Result<S::Ok, S::Error> {
                    serializer.serialize_str(<Self as ::fw::Choices>::as_str(self))
                }
            }

            #[automatically_derived]
            impl ::fw::__private::serde::Serialize for #ident {
                fn serialize<S>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error>
                where
                    S: ::fw::__private::serde::Serializer,
                {
                    serializer.serialize_str(<Self as ::fw::Choices>::as_str(self))
                }
            }

            #[automatically_derived]
            impl<'de> ::fw::__private::serde::Deserialize<'de> for #ident {
                fn deserialize<D>(deserializer: D) -> ::core::result::Result<Self, D::Error>
                where
                    D: ::fw::__private::serde::Deserializer<'de>,
                {
                    struct __FwVisitor;

                    impl ::fw::__private::serde::de::Visitor<'_> for __FwVisitor {
                        type Value = #ident;

                        fn expecting(
                            &self,
                            f: &mut ::core::fmt::Formatter<'_>,
                        ) -> ::core::fmt::Result {
                            f.write_str(#expecting)
                        }

                        fn visit_str<E>(self, text: &str) -> ::core::result::Result<#ident, E>
                        where
                            E: ::fw::__private::serde::de::Error,
                        {
                            <#ident as ::fw::Choices>::from_str(text).ok_or_else(|| {
                                E::unknown_variant(text, <#ident as ::fw::Choices>::VALUES)
                            })
                        }
                    }

                    deserializer.deserialize_str(__FwVisitor)
                }
            }

            #[automatically_derived]
            impl ::core::fmt::Display for #ident {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    f.pad(<Self as ::fw::Choices>::as_str(self))
                }
            }
        };
    }
}
