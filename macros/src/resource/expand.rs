//! Code generation for `#[resource]`: reads the checked IR, never validates.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Path};

use fw_core::api::{Action, LookupRequirement, list};

use super::ast::{Field, Resource};
use crate::core_tokens::CoreTokens;
use crate::names::screaming_snake_case;

fn column(model: &Path, field: &Ident) -> TokenStream {
    let constant = Ident::new(&screaming_snake_case(&field.to_string()), field.span());
    quote_spanned!(field.span()=> <#model>::#constant)
}

/// The column of field `target` on the model that the resource field
/// `reference` (of type `ty`) refers to: `<<Ref<Security> as
/// Reference>::Target>::SYMBOL`, spanned so that a `reference` that is not a
/// `Ref` is reported on the reference and an unknown field on `target`.
fn related_column(ty: &syn::Type, reference: &Ident, target: &Ident) -> TokenStream {
    let model = related_model(ty, reference);
    let constant = Ident::new(&screaming_snake_case(&target.to_string()), target.span());
    quote_spanned!(target.span()=> <#model>::#constant)
}

/// The model that the resource field `reference` (of type `ty`) refers to.
fn related_model(ty: &syn::Type, reference: &Ident) -> TokenStream {
    // The field's type is spanned to the reference in the filter, where the
    // mistake is, rather than to the struct field.
    let ty = respanned(quote!(#ty), reference.span());
    quote_spanned! {reference.span()=>
        <#ty as ::fw::__private::lookups::Reference>::Target
    }
}

/// `tokens` with every span set to `span`.
fn respanned(tokens: TokenStream, span: proc_macro2::Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let proc_macro2::TokenTree::Group(group) = &token {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), respanned(group.stream(), span));
                inner.set_span(span);
                token = proc_macro2::TokenTree::Group(inner);
            }
            token.set_span(span);
            token
        })
        .collect()
}

pub(crate) fn expand(resource: &Resource) -> TokenStream {
    let args = &resource.args;
    let Some(model) = &args.model else {
        return resource.stripped_item();
    };
    let ident = &resource.ident;
    let item = resource.stripped_item();

    let lookup_checks = args.filters.iter().flat_map(|filter| {
        let ty = resource.field(&filter.field).map(|field| field.ty.clone());
        filter.lookups.iter().filter_map(move |lookup| {
            let ty = ty.as_ref()?;
            let check = match lookup.lookup.requirement() {
                LookupRequirement::Any => return None,
                LookupRequirement::Ordered => "ordered",
                LookupRequirement::Text => "text",
                LookupRequirement::Nullable => "nullable",
            };
            // A related filter's field type is only known from the referenced
            // model's column, so the check takes the column.
            Some(match &filter.related {
                None => {
                    let check = Ident::new(check, lookup.ident.span());
                    quote_spanned! {lookup.ident.span()=>
                        const _: () = ::fw::__private::lookups::#check::<#ty>();
                    }
                }
                Some(related) => {
                    let check = Ident::new(&format!("{check}_column"), lookup.ident.span());
                    let column = related_column(ty, &filter.field, &related.target);
                    quote_spanned! {lookup.ident.span()=>
                        const _: () = ::fw::__private::lookups::#check(&#column);
                    }
                }
            })
        })
    });
    // A related filter's reference is a `Ref` (else an error on the reference)
    // to a model with the named field (else an error on the field's name).
    let related_checks = args.filters.iter().filter_map(|filter| {
        let related = filter.related.as_ref()?;
        let ty = &resource.field(&filter.field)?.ty;
        let column = related_column(ty, &filter.field, &related.target);
        Some(quote! {
            const _: () = {
                let _ = #column;
            };
        })
    });
    // `history` reads the change log, which only `#[fw::model(changelog)]` keeps.
    let history_check = resource.action_span(Action::History).map(|span| {
        quote_spanned! {span=>
            const _: () = ::fw::__private::assert_records_changes::<#model>();
        }
    });
    let search_checks = args.search.iter().filter_map(|name| {
        let ty = &resource.field(name)?.ty;
        Some(quote_spanned! {name.span()=>
            const _: () = ::fw::__private::lookups::text::<#ty>();
        })
    });

    let shown: Vec<&Field> = resource
        .fields
        .iter()
        .filter(|field| !resource.is_write_only(field))
        .collect();
    let shown_count = shown.len();
    let serialize_fields = shown.iter().map(|field| {
        let name = field.api_name();
        let ident = &field.ident;
        quote!(::fw::__private::serde::ser::SerializeStruct::serialize_field(&mut state, #name, &::fw::__private::Represented(#ident))?;)
    });
    // Generic rather than the declared types, so a field whose type differs from
    // the model's is reported once, by the type check, and not again here.
    let shown_params = shown.iter().map(|field| {
        let ident = &field.ident;
        quote!(#ident: &impl ::fw::Field)
    });
    let shown_idents: Vec<&Ident> = shown.iter().map(|field| &field.ident).collect();
    let struct_name = ident.to_string();
    // The one place a field's type is compared with the model's: a mismatch is
    // reported once, on the field, naming both types.
    let from_model = resource.fields.iter().map(|field| {
        let ident = &field.ident;
        let ty = &field.ty;
        let value = quote_spanned!(ident.span()=> &row.#ident);
        let value_ty = quote_spanned!(ty.span()=> &#ty);
        quote! {
            #ident: {
                let value: #value_ty = #value;
                ::core::clone::Clone::clone(value)
            }
        }
    });

    let spec_fields = resource.fields.iter().map(|field| {
        let name = field.api_name();
        let column = column(model, &field.ident);
        let read_only = resource.is_read_only(field);
        let write_only = resource.is_write_only(field);
        let doc = &field.doc;
        quote! {
            ::fw::ResourceField {
                name: #name,
                field: #column.schema(),
                read_only: #read_only,
                write_only: #write_only,
                doc: #doc,
            }
        }
    });
    let api_name = |ident: &Ident| {
        resource
            .field(ident)
            .map_or_else(|| ident.to_string(), Field::api_name)
    };
    let filters = args.filters.iter().map(|filter| {
        let lookups = filter
            .lookups
            .iter()
            .map(|lookup| lookup.lookup.core_tokens());
        let reference = column(model, &filter.field);
        let ty = resource.field(&filter.field).map(|field| &field.ty);
        let (name, field, through) = match (&filter.related, ty) {
            (Some(related), Some(ty)) => {
                let target = related_column(ty, &filter.field, &related.target);
                let model = related_model(ty, &filter.field);
                (
                    related.name.to_string(),
                    target,
                    quote! {
                        ::core::option::Option::Some(::fw::Through {
                            reference: #reference.schema(),
                            target: <#model as ::fw::Model>::SCHEMA,
                        })
                    },
                )
            }
            _ => (
                api_name(&filter.field),
                reference,
                quote!(::core::option::Option::None),
            ),
        };
        quote! {
            ::fw::FilterSpec {
                name: #name,
                field: #field.schema(),
                through: #through,
                lookups: &[#(#lookups),*],
            }
        }
    });
    let search = args.search.iter().map(|name| {
        let column = column(model, name);
        quote!(#column.schema())
    });
    let ordering = args.ordering.iter().map(|name| {
        let api = api_name(name);
        let column = column(model, name);
        quote!((#api, #column.schema()))
    });
    let default_ordering: Vec<String> = args
        .default_ordering
        .as_ref()
        .map(|(text, _)| text.split(',').map(|term| term.trim().to_owned()).collect())
        .unwrap_or_default();
    let actions = args.actions.iter().map(|(_, action)| action.core_tokens());
    let path = args
        .path
        .as_ref()
        .map(|(path, _)| path.clone())
        .unwrap_or_default();
    let page_size = args
        .page_size
        .map_or(list::DEFAULT_PAGE_SIZE, |(size, _)| size);
    let max_page_size = args
        .max_page_size
        .map_or(list::DEFAULT_MAX_PAGE_SIZE.max(page_size), |(size, _)| size);
    let name = args
        .name
        .as_ref()
        .map_or_else(|| struct_name.clone(), |(name, _)| name.clone());
    let doc = &resource.doc;

    let writable: Vec<&Field> = resource
        .fields
        .iter()
        .filter(|field| !resource.is_read_only(field))
        .collect();
    let create_input = if resource.has_action(Action::Create) {
        let reads = writable.iter().map(|field| {
            let ident = &field.ident;
            let ty = &field.ty;
            let name = field.api_name();
            let column = column(model, ident);
            quote!(let #ident = input.or_default::<#ty>(#name, #column.schema());)
        });
        let assigns = writable.iter().map(|field| {
            let ident = &field.ident;
            quote_spanned!(ident.span()=> #ident: #ident?)
        });
        quote! {
            #(#reads)*
            ::core::option::Option::Some(__FwNew { #(#assigns),* })
        }
    } else {
        quote!(let _ = input; ::core::option::Option::None)
    };
    let updatable: Vec<&&Field> = writable
        .iter()
        .filter(|field| !resource.is_create_only(field))
        .collect();
    let update_input = if resource.has_action(Action::Update)
        || resource.has_action(Action::PartialUpdate)
    {
        let reads = updatable.iter().map(|field| {
            let ident = &field.ident;
            let ty = &field.ty;
            let name = field.api_name();
            let column = column(model, ident);
            quote! {
                let #ident = if partial {
                    input.optional::<#ty>(#name, #column.schema())
                } else {
                    input.required::<#ty>(#name, #column.schema())
                };
            }
        });
        let assigns = updatable.iter().map(|field| {
            let ident = &field.ident;
            quote_spanned!(ident.span()=> #ident)
        });
        quote! {
            #(#reads)*
            ::core::option::Option::Some(__FwPatch { #(#assigns,)* ..::core::default::Default::default() })
        }
    } else {
        quote!(let _ = (input, partial); ::core::option::Option::None)
    };
    let hooks = match &args.hooks {
        Some(hooks) => quote!(#hooks),
        None => quote!(()),
    };
    let scope = args.scope.as_ref().map(|scope| {
        quote! {
            fn scope(
                request: &::fw::RequestContext,
            ) -> ::core::result::Result<::core::option::Option<::fw::Filter<#model>>, ::fw::ApiError> {
                #scope(request).map(::core::option::Option::Some)
            }
        }
    });

    quote! {
        #item

        const _: () = {
            // The model's insert and patch types, reached through `Model` so the
            // user need not import them (a struct literal cannot name a
            // qualified path, but it can name an alias of one).
            type __FwNew = <#model as ::fw::Model>::New;
            type __FwPatch = <#model as ::fw::Model>::Patch;

            #history_check
            #(#related_checks)*
            #(#lookup_checks)*
            #(#search_checks)*

            // The representation's one serialization, from borrowed fields: the
            // struct serializes its own, and handlers the model row's, with no copy.
            #[allow(clippy::too_many_arguments)]
            fn __fw_represent<__S: ::fw::__private::serde::Serializer>(
                serializer: __S,
                #(#shown_params),*
            ) -> ::core::result::Result<__S::Ok, __S::Error> {
                let mut state = ::fw::__private::serde::Serializer::serialize_struct(serializer, #struct_name, #shown_count)?;
                #(#serialize_fields)*
                ::fw::__private::serde::ser::SerializeStruct::end(state)
            }

            #[automatically_derived]
            impl ::fw::__private::serde::Serialize for #ident {
                fn serialize<__S: ::fw::__private::serde::Serializer>(
                    &self,
                    serializer: __S,
                ) -> ::core::result::Result<__S::Ok, __S::Error> {
                    __fw_represent(serializer, #(&self.#shown_idents),*)
                }
            }

            // A static, not the constant's value, so that editing the resource's
            // options or docs recompiles this data alone rather than every
            // handler instantiated for the resource.
            static __FW_SPEC: ::fw::ResourceSpec = ::fw::ResourceSpec {
                name: #name,
                model: <#model as ::fw::Model>::SCHEMA,
                path: #path,
                actions: &[#(#actions),*],
                fields: &[#(#spec_fields),*],
                filters: &[#(#filters),*],
                search: &[#(#search),*],
                ordering: &[#(#ordering),*],
                default_ordering: &[#(#default_ordering),*],
                page_size: #page_size,
                max_page_size: #max_page_size,
                doc: #doc,
            };

            #[automatically_derived]
            impl ::fw::Resource for #ident {
                type Model = #model;
                type Hooks = #hooks;
                const SPEC: &'static ::fw::ResourceSpec = &__FW_SPEC;

                fn from_model(row: &#model) -> Self {
                    #ident { #(#from_model),* }
                }

                fn serialize_row<__S: ::fw::__private::serde::Serializer>(
                    row: &#model,
                    serializer: __S,
                ) -> ::core::result::Result<__S::Ok, __S::Error> {
                    __fw_represent(serializer, #(&row.#shown_idents),*)
                }

                fn create_input(
                    input: &mut ::fw::__private::Input,
                ) -> ::core::option::Option<__FwNew> {
                    #create_input
                }

                // The patch may cover every field the model lets change.
                #[allow(clippy::needless_update)]
                fn update_input(
                    input: &mut ::fw::__private::Input,
                    partial: bool,
                ) -> ::core::option::Option<__FwPatch> {
                    #update_input
                }

                #scope
            }
        };
    }
}
