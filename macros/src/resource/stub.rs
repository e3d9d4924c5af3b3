//! What `#[resource]` emits beside its errors, so that one mistake is reported
//! once and not again by every use of the resource.

use proc_macro2::TokenStream;
use quote::quote;

use super::ast::Resource;
use super::expand::{SpecLists, hooks, spec_static};

/// What `#[resource]` emits beside its errors: the struct and a `Resource` impl
/// whose functions are never called (the crate does not compile), so that code
/// naming the resource reports nothing more. Without a model there is nothing
/// to implement, and the struct is all.
pub(super) fn stub(resource: &Resource) -> TokenStream {
    let item = resource.stripped_item();
    let Some(model) = &resource.args.model else {
        return item;
    };
    let ident = &resource.ident;
    let spec = spec_static(resource, model, &SpecLists::default());
    let hooks = hooks(resource);
    quote! {
        #item

        const _: () = {
            #spec

            #[automatically_derived]
            impl ::fw::__private::serde::Serialize for #ident {
                fn serialize<__S: ::fw::__private::serde::Serializer>(
                    &self,
                    _: __S,
                ) -> ::core::result::Result<__S::Ok, __S::Error> {
                    ::core::unreachable!()
                }
            }

            #[automatically_derived]
            impl ::fw::Resource for #ident {
                type Model = #model;
                type Hooks = #hooks;
                const SPEC: &'static ::fw::ResourceSpec = &__FW_SPEC;

                fn from_model(_: &#model) -> Self {
                    ::core::unreachable!()
                }

                fn serialize_row<__S: ::fw::__private::serde::Serializer>(
                    _: &#model,
                    _: ::fw::__private::Reveal,
                    _: __S,
                ) -> ::core::result::Result<__S::Ok, __S::Error> {
                    ::core::unreachable!()
                }

                fn create_input(
                    _: &mut ::fw::__private::Input,
                ) -> ::core::option::Option<<#model as ::fw::Model>::New> {
                    ::core::unreachable!()
                }

                fn update_input(
                    _: &mut ::fw::__private::Input,
                    _: bool,
                ) -> ::core::option::Option<<#model as ::fw::Model>::Patch> {
                    ::core::unreachable!()
                }
            }
        };
    }
}
