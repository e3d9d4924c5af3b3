//! Code generation for `#[resource]`: reads the checked IR, never validates.
//! One function per artifact: the compile-time assertions, the representation
//! (its serialization and `from_model`), the request-body readers, the
//! `ResourceSpec` static and the `Resource` impl that ties them together.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Path};

use fw_core::api::{Action, Lookup, LookupRequirement, list};

use super::ast::{Field, Resource};
use super::attr::{AccessArg, FilterArg};
use crate::core_tokens::CoreTokens;
use crate::names::screaming_snake_case;

pub(crate) fn expand(resource: &Resource) -> TokenStream {
    let item = resource.stripped_item();
    let Some(model) = &resource.args.model else {
        return item;
    };
    let assertions = [
        history_assertion(resource, model),
        model_name_assertion(resource, model),
        related_filter_assertions(resource),
        lookup_assertions(resource, model),
        search_assertions(resource, model),
        served_assertions(resource, model),
        sensitivity_list_assertions(resource, model),
        compared_as_stored_assertions(resource, model),
        computed_assertions(resource, model),
    ];
    let represent = represent_fn(resource);
    let serialize = serialize_impl(resource);
    let spec = spec_static(resource, model, &SpecLists::of(resource, model));
    let resource_impl = resource_impl(resource, model);
    quote! {
        #item

        const _: () = {
            // For the methods that show, write and compare each model column as
            // the resource's field.
            use ::fw::__private::ShownColumn as _;

            // The model's insert and patch types, reached through `Model` so the
            // user need not import them (a struct literal cannot name a
            // qualified path, but it can name an alias of one).
            type __FwNew = <#model as ::fw::Model>::New;
            type __FwPatch = <#model as ::fw::Model>::Patch;

            #(#assertions)*
            #represent
            #serialize
            #spec
            #resource_impl
        };
    }
}

/// `<Model>::FIELD`, the model's column for the resource field `field`.
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

/// `history` reads the change log, which only `#[fw::model(changelog)]` keeps.
fn history_assertion(resource: &Resource, model: &Path) -> TokenStream {
    let Some(span) = resource.action_span(Action::History) else {
        return TokenStream::new();
    };
    quote_spanned! {span=>
        const _: () = ::fw::__private::assert_records_changes::<#model>();
    }
}

/// The last segment of the `model = ...` path: the model's struct name, which
/// its permissions are named from.
fn model_name(model: &Path) -> String {
    model
        .segments
        .last()
        .map(|segment| segment.ident.to_string())
        .unwrap_or_default()
}

/// The model permissions are named from the model's name as written in
/// `model = ...`: an alias would name permissions no role grants, so the
/// name must be the model's own.
fn model_name_assertion(resource: &Resource, model: &Path) -> TokenStream {
    let uses_model_permissions = resource
        .args
        .actions
        .iter()
        .any(|(_, action)| matches!(resource.access(*action), Some(AccessArg::Model(_))));
    if !uses_model_permissions {
        return TokenStream::new();
    }
    let name = model_name(model);
    // On the name, which is what would be wrong.
    let span = model
        .segments
        .last()
        .map_or_else(|| model.span(), |segment| segment.ident.span());
    quote_spanned! {span=>
        const _: () = ::fw::__private::assert_model_named::<#model>(#name);
    }
}

/// The `Access` of an action.
fn access_tokens(access: &AccessArg, model: &Path) -> TokenStream {
    match access {
        AccessArg::Public => quote!(::fw::Access::Public),
        AccessArg::Authenticated => quote!(::fw::Access::Authenticated),
        AccessArg::Model(permission) => {
            let name = permission.of_model(&model_name(model));
            quote!(::fw::Access::Permission(#name))
        }
        AccessArg::Named(name) => quote!(::fw::Access::Permission(#name)),
    }
}

/// A related filter's reference is a `Ref` (else an error on the reference) to
/// a model with the named field (else an error on the field's name).
fn related_filter_assertions(resource: &Resource) -> TokenStream {
    resource
        .args
        .filters
        .iter()
        .filter_map(|filter| {
            let related = filter.related.as_ref()?;
            let ty = &resource.field(&filter.field)?.ty;
            let column = related_column(ty, &filter.field, &related.target);
            Some(quote! {
                const _: () = {
                    let _ = #column;
                };
            })
        })
        .collect()
}

/// Each lookup suits its field's type: ranges need an order, text lookups text,
/// `isnull` an `Option`; reported on the lookup.
fn lookup_assertions(resource: &Resource, model: &Path) -> TokenStream {
    resource
        .args
        .filters
        .iter()
        .flat_map(|filter| {
            let ty = resource.field(&filter.field).map(|field| &field.ty);
            filter.lookups.iter().filter_map(move |lookup| {
                let requirement = match lookup.lookup.requirement() {
                    LookupRequirement::Any => return None,
                    LookupRequirement::Ordered => "ordered",
                    LookupRequirement::Text => "text",
                    LookupRequirement::Nullable => "nullable",
                };
                Some(lookup_assertion(
                    filter,
                    ty?,
                    requirement,
                    &lookup.ident,
                    model,
                ))
            })
        })
        .collect()
}

/// The assertion takes the column the lookup compares: the model's, whose
/// stored type the lookup compares whatever type the resource shows it in,
/// or for a related filter the referenced model's, whose field type only its
/// column knows.
fn lookup_assertion(
    filter: &FilterArg,
    ty: &syn::Type,
    requirement: &str,
    lookup: &Ident,
    model: &Path,
) -> TokenStream {
    let assert = Ident::new(&format!("{requirement}_column"), lookup.span());
    let column = match &filter.related {
        None => column(model, &filter.field),
        Some(related) => related_column(ty, &filter.field, &related.target),
    };
    quote_spanned! {lookup.span()=>
        const _: () = ::fw::__private::lookups::#assert(&#column);
    }
}

/// `search` fields are stored as text; reported on the name in `search(...)`.
fn search_assertions(resource: &Resource, model: &Path) -> TokenStream {
    resource
        .args
        .search
        .iter()
        .map(|name| {
            let column = column(model, name);
            quote_spanned! {name.span()=>
                const _: () = ::fw::__private::lookups::text_column(&#column);
            }
        })
        .collect()
}

/// Filters and `search` parse and compare values in the model field's type,
/// so a written-out field they name has that type (one taken from the model
/// has it already); reported on the name in the option.
fn compared_as_stored_assertions(resource: &Resource, model: &Path) -> TokenStream {
    let own_filters = resource
        .args
        .filters
        .iter()
        .filter(|filter| filter.related.is_none())
        .map(|filter| &filter.field);
    own_filters
        .chain(&resource.args.search)
        .filter_map(|name| {
            let field = resource.field(name)?;
            if !field.is_written_out_model_field() {
                return None;
            }
            let ty = &field.ty;
            let ty = respanned(quote!(#ty), name.span());
            let column = column(model, name);
            // In a closure, never called, as the check is a method (see
            // `ShownColumn`), which a constant cannot call.
            Some(quote_spanned! {name.span()=>
                const _: () = {
                    let _ = || #column.compared_as::<#ty>();
                };
            })
        })
        .collect()
}

/// Each computed field's function as a constant of the type it must have,
/// `fn(&Model) -> T`, so that a path of another signature is reported once,
/// on the path, and the uses of the constant report nothing more.
fn computed_assertions(resource: &Resource, model: &Path) -> TokenStream {
    resource
        .fields
        .iter()
        .filter_map(|field| {
            let function = field.computed.as_ref()?;
            let ty = &field.ty;
            let constant = computed_fn(field);
            Some(quote_spanned! {function.span()=>
                const #constant: fn(&#model) -> #ty = #function;
            })
        })
        .collect()
}

/// The constant holding a computed field's function.
fn computed_fn(field: &Field) -> Ident {
    format_ident!(
        "__FW_COMPUTED_{}",
        screaming_snake_case(&field.ident.to_string())
    )
}

/// Each field's model field may be served: never a `redacted` one, and a
/// sensitive one with `reveal`; reported on the field.
fn served_assertions(resource: &Resource, model: &Path) -> TokenStream {
    resource
        .fields
        .iter()
        .filter(|field| field.computed.is_none())
        .map(|field| {
            let column = column(model, &field.ident);
            let shown = !resource.is_write_only(field);
            let reveals = field.reveal.is_some();
            quote_spanned! {field.ident.span()=>
                const _: () = ::fw::__private::assert_served(#column.schema(), #shown, #reveals);
            }
        })
        .collect()
}

/// Filters, ordering and search compare stored values, which for a sensitive
/// field are sealed: only `exact`/`in` on a searchable one, through its
/// digest; reported on the name in the option.
fn sensitivity_list_assertions(resource: &Resource, model: &Path) -> TokenStream {
    let filters = resource.args.filters.iter().map(|filter| {
        match (&filter.related, resource.field(&filter.field)) {
            (Some(related), Some(field)) => {
                let column = related_column(&field.ty, &filter.field, &related.target);
                quote_spanned! {related.target.span()=>
                    const _: () = ::fw::__private::assert_related_filterable(#column.schema());
                }
            }
            _ => {
                let column = column(model, &filter.field);
                let equality_only = filter
                    .lookups
                    .iter()
                    .all(|lookup| matches!(lookup.lookup, Lookup::Exact | Lookup::In));
                quote_spanned! {filter.field.span()=>
                    const _: () = ::fw::__private::assert_filterable(#column.schema(), #equality_only);
                }
            }
        }
    });
    let ordered = resource
        .args
        .ordering
        .iter()
        .chain(&resource.args.search)
        .map(|name| {
            let column = column(model, name);
            quote_spanned! {name.span()=>
                const _: () = ::fw::__private::assert_orderable_or_searchable(#column.schema());
            }
        });
    filters.chain(ordered).collect()
}

/// Each shown field's bit in `Reveal`, `None` for a field every caller sees.
fn reveal_index(resource: &Resource, field: &Field) -> Option<usize> {
    resource
        .revealable()
        .position(|revealable| revealable.ident == field.ident)
}

/// The fields the representation shows: all but `write_only` ones.
fn shown(resource: &Resource) -> impl Iterator<Item = &Field> {
    resource
        .fields
        .iter()
        .filter(|field| !resource.is_write_only(field))
}

/// `__fw_represent`, the representation's one serialization, from borrowed
/// values: the struct serializes its own fields, and handlers the model
/// row's, with no copy (but for a field shown in a type of its own, or
/// computed).
fn represent_fn(resource: &Resource) -> TokenStream {
    let struct_name = resource.ident.to_string();
    let shown_count = shown(resource).count();
    // Generic rather than the declared types, so a field whose type does not
    // convert from the model's is reported by the caller, on the field.
    let params = shown(resource).map(|field| {
        let ident = &field.ident;
        quote!(#ident: &impl ::fw::__private::serde::Serialize)
    });
    let serialize_fields = shown(resource).map(|field| {
        let name = field.api_name();
        let ident = &field.ident;
        let serialize = quote!(::fw::__private::serde::ser::SerializeStruct::serialize_field(&mut state, #name, #ident)?;);
        match reveal_index(resource, field) {
            None => serialize,
            Some(index) => quote! {
                if reveal.shows(#index) {
                    #serialize
                } else {
                    ::fw::__private::serde::ser::SerializeStruct::skip_field(&mut state, #name)?;
                }
            },
        }
    });
    // A resource without sensitive fields has nothing to reveal.
    let unused_reveal = if resource.revealable().next().is_none() {
        quote!(let _ = reveal;)
    } else {
        TokenStream::new()
    };
    quote! {
        #[allow(clippy::too_many_arguments)]
        fn __fw_represent<__S: ::fw::__private::serde::Serializer>(
            serializer: __S,
            reveal: ::fw::__private::Reveal,
            #(#params),*
        ) -> ::core::result::Result<__S::Ok, __S::Error> {
            #unused_reveal
            let mut state = ::fw::__private::serde::Serializer::serialize_struct(serializer, #struct_name, #shown_count)?;
            #(#serialize_fields)*
            ::fw::__private::serde::ser::SerializeStruct::end(state)
        }
    }
}

fn serialize_impl(resource: &Resource) -> TokenStream {
    let ident = &resource.ident;
    let shown = shown(resource).map(|field| {
        let ident = &field.ident;
        quote!(&::fw::__private::Represented(&self.#ident))
    });
    quote! {
        #[automatically_derived]
        impl ::fw::__private::serde::Serialize for #ident {
            fn serialize<__S: ::fw::__private::serde::Serializer>(
                &self,
                serializer: __S,
            ) -> ::core::result::Result<__S::Ok, __S::Error> {
                // The struct's owner has read its values already.
                __fw_represent(serializer, ::fw::__private::Reveal::ALL, #(#shown),*)
            }
        }
    }
}

/// The body of `from_model`: each field from the row's, through the model's
/// column, where a field's type is compared with the model's, so a type that
/// does not convert is reported on the field's type, naming both types; a
/// computed field from its function.
fn from_model_body(resource: &Resource, model: &Path) -> TokenStream {
    let ident = &resource.ident;
    let fields = resource.fields.iter().map(|field| {
        let name = &field.ident;
        if field.computed.is_some() {
            let function = computed_fn(field);
            return quote!(#name: #function(row));
        }
        let ty = &field.ty;
        let column = column(model, name);
        // `row` resolves where `from_model` declares it (which, for a resource
        // taking its model's fields, is inside the model's `macro_rules!`),
        // but is located at the field, where a type mismatch is reported.
        let row = Ident::new("row", Span::call_site().located_at(name.span()));
        let value = quote_spanned!(name.span()=> &#row.#name);
        let shown = quote_spanned!(ty.span()=> shown::<#ty>);
        quote!(#name: #column.#shown(#value).into_value())
    });
    quote!(#ident { #(#fields),* })
}

/// The fields a request body may set: all but `read_only` ones.
fn writable(resource: &Resource) -> impl Iterator<Item = &Field> {
    resource
        .fields
        .iter()
        .filter(|field| !resource.is_read_only(field))
}

/// The body of `create_input`: the model's `New` from a create body. Each value
/// is read as the model field's type, which `from_model` compares with the
/// resource's, so a mismatch is not reported again here.
fn create_input_body(resource: &Resource, model: &Path) -> TokenStream {
    if !resource.has_action(Action::Create) {
        return quote!(let _ = input; ::core::option::Option::None);
    }
    let mut reads: Vec<TokenStream> = writable(resource)
        .map(|field| {
            let ident = &field.ident;
            let name = field.api_name();
            let column = column(model, ident);
            if field.from_model {
                return quote!(let #ident = input.or_default(#name, #column.schema()););
            }
            let ty = &field.ty;
            let shown = spec_value(resource, field);
            let written_as = quote_spanned!(ty.span()=> written_as::<#ty>);
            quote!(let #ident = #column.#written_as().created(input, #name, #shown);)
        })
        .collect();
    let mut assigned: Vec<&Ident> = writable(resource).map(|field| &field.ident).collect();
    // A model field the resource does not take from the body gets its default
    // (`check` made sure it has one, or is nullable).
    for model_field in resource.model_fields.iter().flatten() {
        let ident = &model_field.ident;
        if model_field.generated || assigned.contains(&ident) {
            continue;
        }
        let name = ident.to_string();
        let column = column(model, ident);
        reads.push(quote!(let #ident = input.model_default(#name, #column.schema());));
        assigned.push(ident);
    }
    let assigns = assigned
        .iter()
        .map(|ident| quote_spanned!(ident.span()=> #ident: #ident?));
    quote! {
        #(#reads)*
        ::core::option::Option::Some(__FwNew { #(#assigns),* })
    }
}

/// The body of `update_input`: the model's `Patch` from an update body (every
/// updatable field required but those a create may leave out) or a partial
/// update's (every field optional).
fn update_input_body(resource: &Resource, model: &Path) -> TokenStream {
    if !resource.has_action(Action::Update) && !resource.has_action(Action::PartialUpdate) {
        return quote!(let _ = (input, partial); ::core::option::Option::None);
    }
    let updatable: Vec<&Field> = writable(resource)
        .filter(|field| !resource.is_create_only(field))
        .collect();
    let reads = updatable.iter().map(|field| {
        let ident = &field.ident;
        let name = field.api_name();
        let column = column(model, ident);
        if field.from_model {
            return quote!(let #ident = input.updated(#name, #column.schema(), partial););
        }
        let ty = &field.ty;
        let shown = spec_value(resource, field);
        let written_as = quote_spanned!(ty.span()=> written_as::<#ty>);
        quote!(let #ident = #column.#written_as().updated(input, #name, #shown, partial);)
    });
    let assigns = updatable.iter().map(|field| {
        let ident = &field.ident;
        quote_spanned!(ident.span()=> #ident)
    });
    quote! {
        #(#reads)*
        ::core::option::Option::Some(__FwPatch { #(#assigns,)* ..::core::default::Default::default() })
    }
}

pub(super) fn hooks(resource: &Resource) -> TokenStream {
    match &resource.args.hooks {
        Some(hooks) => quote!(#hooks),
        None => quote!(()),
    }
}

/// `Resource::scope`, when `scope = ...` names the function restricting rows.
fn scope_fn(resource: &Resource, model: &Path) -> TokenStream {
    let Some(scope) = &resource.args.scope else {
        return TokenStream::new();
    };
    quote! {
        fn scope(
            request: &::fw::RequestContext,
        ) -> ::core::result::Result<::core::option::Option<::fw::Filter<#model>>, ::fw::ApiError> {
            #scope(request).map(::core::option::Option::Some)
        }
    }
}

/// A shown field's value in `serialize_row`: the row's own, borrowed; for a
/// written-out field, as its type shows it (the row's own when that is the
/// model's type); for a computed one, its function's value.
fn row_value(field: &Field, model: &Path) -> TokenStream {
    let ident = &field.ident;
    if field.computed.is_some() {
        let function = computed_fn(field);
        return quote!(&::fw::__private::Represented(&#function(row)));
    }
    if field.from_model {
        return quote!(&::fw::__private::Represented(&row.#ident));
    }
    let ty = &field.ty;
    let column = column(model, ident);
    let shown = quote_spanned!(ty.span()=> shown::<#ty>);
    quote!(&#column.#shown(&row.#ident))
}

fn resource_impl(resource: &Resource, model: &Path) -> TokenStream {
    let ident = &resource.ident;
    let hooks = hooks(resource);
    let from_model = from_model_body(resource, model);
    let shown = shown(resource).map(|field| row_value(field, model));
    let create_input = create_input_body(resource, model);
    let update_input = update_input_body(resource, model);
    let scope = scope_fn(resource, model);
    quote! {
        #[automatically_derived]
        impl ::fw::Resource for #ident {
            type Model = #model;
            type Hooks = #hooks;
            const SPEC: &'static ::fw::ResourceSpec = &__FW_SPEC;

            fn from_model(row: &#model) -> Self {
                #from_model
            }

            fn serialize_row<__S: ::fw::__private::serde::Serializer>(
                row: &#model,
                reveal: ::fw::__private::Reveal,
                serializer: __S,
            ) -> ::core::result::Result<__S::Ok, __S::Error> {
                __fw_represent(serializer, reveal, #(#shown),*)
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
    }
}

/// The lists of a `ResourceSpec`, each an array's elements: empty in a stub,
/// where they would repeat the errors it stands beside.
#[derive(Default)]
pub(super) struct SpecLists {
    actions: TokenStream,
    access: TokenStream,
    fields: TokenStream,
    filters: TokenStream,
    search: TokenStream,
    ordering: TokenStream,
    default_ordering: TokenStream,
}

impl SpecLists {
    fn of(resource: &Resource, model: &Path) -> SpecLists {
        let args = &resource.args;
        let actions = args.actions.iter().map(|(_, action)| action.core_tokens());
        let access = args.actions.iter().filter_map(|(_, action)| {
            let access = access_tokens(&resource.access(*action)?, model);
            let action = action.core_tokens();
            Some(quote!((#action, #access)))
        });
        let fields = resource
            .fields
            .iter()
            .map(|field| field_spec(resource, model, field));
        let filters = args
            .filters
            .iter()
            .map(|filter| filter_spec(resource, model, filter));
        let search = args.search.iter().map(|name| {
            let column = column(model, name);
            quote!(#column.schema())
        });
        let ordering = args.ordering.iter().map(|name| {
            let api = api_name(resource, name);
            let column = column(model, name);
            quote!((#api, #column.schema()))
        });
        let default_ordering = args.default_ordering.iter().flat_map(|(text, _)| {
            text.split(',')
                .map(|term| term.trim().to_owned())
                .collect::<Vec<_>>()
        });
        SpecLists {
            actions: quote!(#(#actions),*),
            access: quote!(#(#access),*),
            fields: quote!(#(#fields),*),
            filters: quote!(#(#filters),*),
            search: quote!(#(#search),*),
            ordering: quote!(#(#ordering),*),
            default_ordering: quote!(#(#default_ordering),*),
        }
    }
}

/// The name in JSON of the struct field `ident`.
fn api_name(resource: &Resource, ident: &Ident) -> String {
    resource
        .field(ident)
        .map_or_else(|| ident.to_string(), Field::api_name)
}

/// A field's `ResourceField::value`, read from the spec where it is worked
/// out once.
fn spec_value(resource: &Resource, field: &Field) -> TokenStream {
    let index = resource
        .fields
        .iter()
        .position(|candidate| candidate.ident == field.ident)
        .unwrap_or_default();
    quote!(__FW_SPEC.fields[#index].value)
}

/// The schema of a field's value in JSON (`ResourceField::value`): the model
/// field's for one taken from the model; for a written-out one, the model
/// field's where its type has the same JSON form, else its type's; for a
/// computed one, its type's.
fn shown_schema(field: &Field, model: &Path) -> TokenStream {
    let ty = &field.ty;
    let own = quote_spanned!(ty.span()=> &::fw::__private::ShownValue::<#ty>::SCHEMA);
    if field.computed.is_some() {
        return own;
    }
    let column = column(model, &field.ident);
    if field.from_model {
        return quote!(#column.schema());
    }
    quote!(::fw::__private::shown_schema(#column.schema(), #own))
}

fn field_spec(resource: &Resource, model: &Path, field: &Field) -> TokenStream {
    let name = field.api_name();
    let stored = match field.computed {
        Some(_) => quote!(::core::option::Option::None),
        None => {
            let column = column(model, &field.ident);
            quote!(::core::option::Option::Some(#column.schema()))
        }
    };
    let value = shown_schema(field, model);
    let read_only = resource.is_read_only(field);
    let write_only = resource.is_write_only(field);
    let doc = &field.doc;
    let reveal = match &field.reveal {
        Some((permission, _)) => quote!(::core::option::Option::Some(#permission)),
        None => quote!(::core::option::Option::None),
    };
    quote! {
        ::fw::ResourceField {
            name: #name,
            field: #stored,
            value: #value,
            read_only: #read_only,
            write_only: #write_only,
            doc: #doc,
            reveal: #reveal,
        }
    }
}

fn filter_spec(resource: &Resource, model: &Path, filter: &FilterArg) -> TokenStream {
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
            api_name(resource, &filter.field),
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
}

/// The name of a resource's schemas and tag when it gives none: its struct's
/// name without a trailing `Resource` (`NoteResource` is `Note`, and its
/// schemas `Note`, `NoteCreate`, `NotePage`, ...), which is what a client
/// reads in its generated code.
fn default_name(ident: &syn::Ident) -> String {
    let name = ident.to_string();
    match name.strip_suffix("Resource") {
        Some(stem) if !stem.is_empty() => stem.to_owned(),
        _ => name,
    }
}

/// `__FW_SPEC`: a static, not the constant's value, so that editing the
/// resource's options or docs recompiles this data alone rather than every
/// handler instantiated for the resource.
pub(super) fn spec_static(resource: &Resource, model: &Path, lists: &SpecLists) -> TokenStream {
    let args = &resource.args;
    let name = args
        .name
        .as_ref()
        .map_or_else(|| default_name(&resource.ident), |(name, _)| name.clone());
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
    let doc = &resource.doc;
    let SpecLists {
        actions,
        access,
        fields,
        filters,
        search,
        ordering,
        default_ordering,
    } = lists;
    quote! {
        static __FW_SPEC: ::fw::ResourceSpec = ::fw::ResourceSpec {
            name: #name,
            model: <#model as ::fw::Model>::SCHEMA,
            path: #path,
            actions: &[#actions],
            access: &[#access],
            fields: &[#fields],
            filters: &[#filters],
            search: &[#search],
            ordering: &[#ordering],
            default_ordering: &[#default_ordering],
            page_size: #page_size,
            max_page_size: #max_page_size,
            doc: #doc,
        };
    }
}
