//! Code generation from the checked IR. Only quoting happens here: every rule has
//! already been enforced by `check.rs`.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::Ident;

use fw_core::Dialect;
use fw_core::constraint::Setting;
use fw_core::schema::{OnInsert, OnUpdate};
use fw_core::statement::Statements;

use super::ast::{Field, Model, TypeKind};
use super::attr::DefaultLiteral;
use super::sql;
use crate::core_tokens::CoreTokens;
use crate::names::screaming_snake_case;

pub(crate) fn expand(model: &Model) -> TokenStream {
    let item = model.stripped_item();
    let new_struct = new_struct(model);
    let patch_struct = patch_struct(model);
    let debug_impls = debug_impls(model);
    let schema = schema_statics(model);
    let model_impl = model_impl(model);
    let columns = column_consts(model);
    let assertions = model.fields.iter().map(|field| {
        let ty = &field.ty;
        quote_spanned!(field.ty_span()=> const _: () = ::fw::__private::assert_field::<#ty>();)
    });
    let fields_macro = fields_macro(model);
    let field_types = field_type_impls(model);
    quote! {
        #item
        #new_struct
        #patch_struct
        #fields_macro
        const _: () = {
            #(#assertions)*
            #debug_impls
            #schema
            #model_impl
            #columns
            #field_types
        };
    }
}

/// A hidden `macro_rules!`, named like the model in the macro namespace (which
/// a struct does not use), that hands the model's fields to a resource taking
/// them (`#[resource(model = Note, fields = all)]`): a proc macro cannot read
/// another item, so `#[resource]` expands to a call of this one, which calls
/// it back with the fields. Each field goes with its doc comment and what a
/// resource needs to know of it: fw fills it (`generated`), a create may
/// leave it out (`optional`), it is the `key`, `sensitive` or `redacted`.
/// Without `#[macro_export]`, it is visible in the model's crate only.
pub(super) fn fields_macro(model: &Model) -> TokenStream {
    let ident = &model.ident;
    let macro_name = format_ident!("__fw_model_fields_{}", ident);
    let entries = model.fields.iter().map(|field| {
        let docs = &field.docs;
        let name = &field.ident;
        let flags = [
            ("generated", !field.is_insertable()),
            ("optional", field.nullable || field.args.default.is_some()),
            ("key", field.is_primary_key_of(model)),
            ("sensitive", field.args.sensitive.is_some()),
            ("redacted", field.args.redacted.is_some()),
        ]
        .into_iter()
        .filter(|(_, set)| *set)
        .map(|(flag, _)| format_ident!("{}", flag));
        quote!(#(#docs)* #name(#(#flags),*))
    });
    quote! {
        #[doc(hidden)]
        #[allow(unused_macros)]
        macro_rules! #macro_name {
            ($($resource:tt)*) => {
                ::fw::__private::resource_with_model_fields! {
                    [#(#entries),*]
                    $($resource)*
                }
            };
        }
        #[doc(hidden)]
        #[allow(unused_imports)]
        pub(crate) use #macro_name as #ident;
    }
}

/// `ModelFieldType<index>` for each field: how a resource taking the model's
/// fields names their types, which are spelled relative to this module.
pub(super) fn field_type_impls(model: &Model) -> TokenStream {
    let ident = &model.ident;
    model
        .fields
        .iter()
        .enumerate()
        .map(|(index, field)| {
            let ty = &field.ty;
            let index = Literal::usize_unsuffixed(index);
            quote! {
                #[automatically_derived]
                impl ::fw::__private::ModelFieldType<#index> for #ident {
                    type Type = #ty;
                }
            }
        })
        .collect()
}

pub(super) fn new_ident(model: &Model) -> Ident {
    format_ident!("New{}", model.ident)
}

pub(super) fn patch_ident(model: &Model) -> Ident {
    format_ident!("{}Patch", model.ident)
}

/// The fields the application supplies on insert.
fn insertable(model: &Model) -> impl Iterator<Item = &Field> {
    model.fields.iter().filter(|field| field.is_insertable())
}

/// The fields the application may change on update.
fn updatable(model: &Model) -> impl Iterator<Item = &Field> {
    model
        .fields
        .iter()
        .filter(|field| field.is_insertable() && !field.is_primary_key_of(model))
}

/// `<T as ::fw::Field>`, spanned on the field's type so a type that cannot be
/// stored is reported once, on the user's field.
fn field_trait(field: &Field) -> TokenStream {
    let ty = &field.ty;
    quote_spanned!(field.ty_span()=> <#ty as ::fw::Field>)
}

pub(super) fn new_struct(model: &Model) -> TokenStream {
    let vis = &model.vis;
    let name = new_ident(model);
    let doc = format!(
        " The values to insert a [`{}`] row: every field except those fw generates \
         (auto keys, timestamps, the version).",
        model.ident
    );
    let fields = insertable(model).map(|field| {
        let Field {
            docs,
            vis,
            ident,
            ty,
            ..
        } = field;
        quote!(#(#docs)* #vis #ident: #ty,)
    });
    quote! {
        #[doc = #doc]
        #vis struct #name {
            #(#fields)*
        }
    }
}

pub(super) fn patch_struct(model: &Model) -> TokenStream {
    let vis = &model.vis;
    let name = patch_ident(model);
    let doc = format!(
        " A partial update of a [`{}`] row: fields set to `Some` are written, `None` \
         leaves the stored value unchanged.",
        model.ident
    );
    let fields = updatable(model).map(|field| {
        let Field {
            docs,
            vis,
            ident,
            ty,
            ..
        } = field;
        quote!(#(#docs)* #vis #ident: ::core::option::Option<#ty>,)
    });
    quote! {
        #[doc = #doc]
        #[derive(::core::default::Default)]
        #vis struct #name {
            #(#fields)*
        }
    }
}

/// `Debug` for the model, `New<Model>` and `<Model>Patch`, printing sensitive
/// fields as `<redacted>`.
pub(super) fn debug_impls(model: &Model) -> TokenStream {
    let any_sensitive = model.fields.iter().any(Field::is_hidden);
    let redacted = any_sensitive.then(|| {
        quote! {
            struct __FwRedacted;
            impl ::core::fmt::Debug for __FwRedacted {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    f.write_str("<redacted>")
                }
            }
        }
    });
    let debug = |name: &Ident, fields: Vec<&Field>, patch: bool| {
        let label = name.to_string();
        let entries = fields.iter().map(|field| {
            let ident = &field.ident;
            let label = ident.to_string();
            let value = match (field.is_hidden(), patch) {
                (false, _) => quote!(&self.#ident),
                (true, false) => quote!(&__FwRedacted),
                (true, true) => quote!(&self.#ident.as_ref().map(|_| __FwRedacted)),
            };
            quote!(.field(#label, #value))
        });
        quote! {
            #[automatically_derived]
            impl ::core::fmt::Debug for #name {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    f.debug_struct(#label) #(#entries)* .finish()
                }
            }
        }
    };
    let model_debug = debug(&model.ident, model.fields.iter().collect(), false);
    let new_debug = debug(&new_ident(model), insertable(model).collect(), false);
    let patch_debug = debug(&patch_ident(model), updatable(model).collect(), true);
    quote! {
        #redacted
        #model_debug
        #new_debug
        #patch_debug
    }
}

fn option<T: ?Sized>(value: Option<&T>, quote_value: impl Fn(&T) -> TokenStream) -> TokenStream {
    match value {
        Some(value) => {
            let value = quote_value(value);
            quote!(::core::option::Option::Some(#value))
        }
        None => quote!(::core::option::Option::None),
    }
}

fn text(value: Option<&str>) -> TokenStream {
    option(value, |text| quote!(#text))
}

fn field_schema(model: &Model, field: &Field) -> TokenStream {
    let name = field.name();
    let column = &field.column;
    let args = &field.args;
    let renamed_from = text(args.renamed_from.as_ref().map(|opt| opt.value.as_str()));
    let field_trait = field_trait(field);
    let primary_key = field.is_primary_key_of(model);
    let generated = field.generated.core_tokens();
    let unique = args.unique.is_some();
    let index = args.index.is_some();
    let default = option(args.default.as_ref(), |opt| match &opt.value {
        DefaultLiteral::Int(value) => {
            let value = Literal::i64_suffixed(*value);
            quote!(::fw::schema::DefaultValue::Int(#value))
        }
        DefaultLiteral::Bool(value) => quote!(::fw::schema::DefaultValue::Bool(#value)),
        DefaultLiteral::Text(value) => quote!(::fw::schema::DefaultValue::Text(#value)),
    });
    let constraints = constraints(field, &field_trait);
    let on_delete = field.on_delete().core_tokens();
    // Spelled out for `Ref<M>` so that a `Ref` to a non-model is reported on the
    // target type, once.
    let foreign_key = match &field.kind {
        TypeKind::Ref(target) => quote_spanned! {field.ty_span()=>
            ::fw::__private::foreign_key_to::<#target>(#on_delete)
        },
        _ => {
            let ty = &field.ty;
            quote_spanned!(field.ty_span()=> ::fw::__private::foreign_key_of::<#ty>(#on_delete))
        }
    };
    let sensitivity = match (&field.args.sensitive, &field.args.redacted) {
        (Some(sealing), _) => {
            let searchable = sealing.value.searchable;
            quote!(::fw::schema::Sensitivity::Sealed { searchable: #searchable })
        }
        (None, Some(_)) => quote!(::fw::schema::Sensitivity::Redacted),
        (None, None) => quote!(::fw::schema::Sensitivity::Plain),
    };
    quote! {
        ::fw::schema::FieldSchema {
            name: #name,
            column: #column,
            renamed_from: #renamed_from,
            sql_type: #field_trait::SQL_TYPE,
            nullable: #field_trait::NULLABLE,
            primary_key: #primary_key,
            generated: #generated,
            unique: #unique,
            index: #index,
            default: #default,
            constraints: #constraints,
            foreign_key: #foreign_key,
            sensitivity: #sensitivity,
        }
    }
}

/// The field's constraint list: the declared ones, then the choices of its type
/// when it is a `#[derive(Choices)]` enum, which only the type knows: a
/// constant `if` on the type's `CHOICES` picks one of two lists.
fn constraints(field: &Field, field_trait: &TokenStream) -> TokenStream {
    let declared: Vec<TokenStream> = field
        .args
        .constraints()
        .iter()
        .map(|constraint| {
            let variant = format_ident!("{}", constraint.variant_name());
            let setting = match constraint.setting() {
                Setting::Count(count) => {
                    let count = Literal::u32_suffixed(count);
                    quote!(#count)
                }
                Setting::Text(text) => quote!(#text),
                Setting::List(values) => quote!(&[#(#values),*]),
            };
            quote!(::fw::schema::Constraint::#variant(#setting))
        })
        .collect();
    // Only a type the macro does not recognise can be a `Choices` enum.
    if field.kind != TypeKind::Other {
        return quote!(&[#(#declared),*]);
    }
    quote! {
        if #field_trait::CHOICES.is_empty() {
            &[#(#declared),*]
        } else {
            &[#(#declared,)* ::fw::schema::Constraint::Choices(#field_trait::CHOICES)]
        }
    }
}

fn model_sql(model: &Model, dialect: Dialect) -> TokenStream {
    let Statements {
        select,
        get,
        insert,
        update,
        delete,
    } = sql::render(model, dialect);
    quote! {
        ::fw::__private::ModelSql {
            select: #select,
            get: #get,
            insert: #insert,
            update: #update,
            delete: #delete,
        }
    }
}

/// `name` if the generated body uses the parameter, `_name` otherwise, so the
/// expansion has no unused-variable warnings for small models.
fn parameter(name: &str, used: bool) -> Ident {
    if used {
        format_ident!("{name}")
    } else {
        format_ident!("_{name}")
    }
}

/// The model's schema as statics rather than as the value of `Model::SCHEMA`:
/// a constant's data is copied into every function that reads it, so editing one
/// field option would recompile every generic fw function instantiated for the
/// model, where a static is compiled once and referred to by address.
/// `FIELDS` is a static of its own so that the column constants, which point
/// into it, stay the same address when a field's options change.
pub(super) fn schema_statics(model: &Model) -> TokenStream {
    let name = model.ident.to_string();
    let table = &model.table;
    let renamed_from = text(
        model
            .args
            .renamed_from
            .as_ref()
            .map(|opt| opt.value.as_str()),
    );
    let field_count = model.fields.len();
    let field_schemas = model.fields.iter().map(|field| field_schema(model, field));
    let indexes = model.args.indexes.iter().map(|index| {
        let columns = model.index_columns(index);
        let name = model.index_name(index);
        let unique = index.unique;
        quote! {
            ::fw::schema::IndexSchema { name: #name, columns: &[#(#columns),*], unique: #unique }
        }
    });
    quote! {
        static __FW_FIELDS: [::fw::schema::FieldSchema; #field_count] = [#(#field_schemas),*];
        static __FW_SCHEMA: ::fw::schema::ModelSchema = ::fw::schema::ModelSchema {
            name: #name,
            table: #table,
            renamed_from: #renamed_from,
            fields: &__FW_FIELDS,
            indexes: &[#(#indexes),*],
        };
    }
}

fn model_impl(model: &Model) -> TokenStream {
    let ident = &model.ident;
    let table = &model.table;
    let Some(key) = model.primary_key() else {
        return TokenStream::new();
    };
    let key_ident = &key.ident;
    let key_ty = &key.ty;
    let key_column = &key.column;
    let new_ident = new_ident(model);
    let patch_ident = patch_ident(model);
    let sqlite = model_sql(model, Dialect::Sqlite);
    let postgres = model_sql(model, Dialect::Postgres);

    let changelog = model.args.changelog.is_some().then(|| {
        quote!(
            const CHANGELOG: bool = true;
        )
    });
    let version = match model.version() {
        Some(version) => {
            let version = &version.ident;
            quote!(::core::option::Option::Some(self.#version))
        }
        None => quote!(::core::option::Option::None),
    };

    let decode_fields = model.fields.iter().enumerate().map(|(index, field)| {
        let ident = &field.ident;
        let field_trait = field_trait(field);
        quote!(#ident: #field_trait::decode(row, #index)?,)
    });

    // The insert's parameters: every column but database-assigned keys, in schema order.
    let new_binds: Vec<TokenStream> = model
        .fields
        .iter()
        .filter_map(|field| {
            let ident = &field.ident;
            let value = match field.generated.on_insert() {
                OnInsert::Database => return None,
                OnInsert::Supplied => {
                    let field_trait = field_trait(field);
                    return Some(quote!(#field_trait::bind(&new.#ident, args)?;));
                }
                OnInsert::NewUuid => quote!(&::fw::__private::Uuid::now_v7()),
                OnInsert::Now => quote!(&now),
                OnInsert::FirstVersion => {
                    let first = Literal::i64_suffixed(OnInsert::FIRST_VERSION);
                    quote!(&#first)
                }
            };
            Some(quote!(::fw::Field::bind(#value, args)?;))
        })
        .collect();
    let any_timestamp = model
        .fields
        .iter()
        .any(|field| field.generated.on_insert() == OnInsert::Now);
    let any_updated_at = model
        .fields
        .iter()
        .any(|field| field.generated.on_update() == OnUpdate::Now);
    let new_param = parameter("new", insertable(model).next().is_some());
    let new_args_param = parameter("args", !new_binds.is_empty());
    let new_now_param = parameter("now", any_timestamp);

    // `update`'s parameters: updatable columns, `auto_now` columns, the key, the
    // expected version.
    let update_binds = updatable(model).map(|field| {
        let ident = &field.ident;
        let field_trait = field_trait(field);
        quote!(#field_trait::bind(&self.#ident, args)?;)
    });
    let updated_at_binds = model
        .fields
        .iter()
        .filter(|field| field.generated.on_update() == OnUpdate::Now)
        .map(|_| quote!(::fw::Field::bind(&now, args)?;));
    let key_trait = field_trait(key);
    let expected_version = model.version().map(|version| {
        let ident = &version.ident;
        quote!(::fw::Field::bind(&self.#ident, args)?;)
    });
    let update_now_param = parameter("now", any_updated_at);

    let patch_entries: Vec<TokenStream> = model
        .fields
        .iter()
        .enumerate()
        .filter(|(_, field)| field.is_insertable() && !field.is_primary_key_of(model))
        .map(|(index, field)| {
            let ident = &field.ident;
            let field_trait = field_trait(field);
            quote! {
                patch.#ident.as_ref().map(|value| (&__FW_FIELDS[#index], #field_trait::to_value(value)))
            }
        })
        .collect();
    let patch_values = if patch_entries.is_empty() {
        quote!(::std::vec::Vec::new())
    } else {
        quote! {
            [#(#patch_entries),*].into_iter().flatten().collect()
        }
    };
    let patch_param = parameter("patch", !patch_entries.is_empty());

    let values = model.fields.iter().map(|field| {
        let ident = &field.ident;
        let field_trait = field_trait(field);
        quote!(#field_trait::to_value(&self.#ident))
    });
    let new_values = model
        .fields
        .iter()
        .enumerate()
        .filter(|(_, field)| field.is_insertable())
        .map(|(index, field)| {
            let ident = &field.ident;
            let field_trait = field_trait(field);
            quote!((&__FW_FIELDS[#index], #field_trait::to_value(&new.#ident)))
        });

    // A factory's row: each supplied field read from the JSON it is given.
    let from_json = model
        .fields
        .iter()
        .enumerate()
        .filter(|(_, field)| field.is_insertable())
        .map(|(index, field)| {
            let ident = &field.ident;
            quote! {
                #ident: ::fw::__private::field_from_json(
                    &__FW_FIELDS[#index],
                    value_of(&__FW_FIELDS[#index]),
                )?,
            }
        });
    let value_of_param = parameter("value_of", insertable(model).next().is_some());
    let references: Vec<TokenStream> = model
        .fields
        .iter()
        .enumerate()
        .filter_map(|(index, field)| match &field.kind {
            TypeKind::Ref(target) => Some(quote! {
                visitor.reference::<#target>(&__FW_FIELDS[#index]);
            }),
            _ => None,
        })
        .collect();
    let visit_references = (!references.is_empty()).then(|| {
        quote! {
            fn visit_references<V: ::fw::__private::VisitReferences>(visitor: &mut V) {
                #(#references)*
            }
        }
    });

    // Sealed fields are opened in place after decoding; a model without them
    // keeps the trait's defaults and never needs the keys.
    let sealed: Vec<TokenStream> = model
        .fields
        .iter()
        .enumerate()
        .filter(|(_, field)| field.args.sensitive.is_some())
        .map(|(index, field)| {
            let ident = &field.ident;
            let ty = &field.ty;
            let text = quote_spanned! {field.ty_span()=>
                <#ty as ::fw::__private::SealedText>::sealed_text(&mut self.#ident)
            };
            quote! {
                if let ::core::option::Option::Some(text) = #text {
                    open(&__FW_FIELDS[#index], text)?;
                }
            }
        })
        .collect();
    let open_sealed = (!sealed.is_empty()).then(|| {
        quote! {
            const SEALED: bool = true;

            fn open_sealed(
                &mut self,
                open: &mut dyn FnMut(&'static ::fw::schema::FieldSchema, &mut ::std::string::String) -> ::fw::Result<()>,
            ) -> ::fw::Result<()> {
                #(#sealed)*
                ::core::result::Result::Ok(())
            }
        }
    });

    quote! {
        static __FW_SQLITE_SQL: ::fw::__private::ModelSql = #sqlite;
        static __FW_POSTGRES_SQL: ::fw::__private::ModelSql = #postgres;

        #[automatically_derived]
        impl ::fw::Model for #ident {
            const TABLE: &'static str = #table;
            const SCHEMA: &'static ::fw::schema::ModelSchema = &__FW_SCHEMA;
            #changelog

            type Key = #key_ty;
            type New = #new_ident;
            type Patch = #patch_ident;

            fn key(&self) -> &Self::Key {
                &self.#key_ident
            }

            fn version(&self) -> ::core::option::Option<i64> {
                #version
            }
        }

        #[automatically_derived]
        impl ::fw::__private::ModelCodegen for #ident {
            const PRIMARY_KEY_COLUMN: &'static str = #key_column;
            #open_sealed

            fn sql(dialect: ::fw::Dialect) -> &'static ::fw::__private::ModelSql {
                match dialect {
                    ::fw::Dialect::Sqlite => &__FW_SQLITE_SQL,
                    ::fw::Dialect::Postgres => &__FW_POSTGRES_SQL,
                }
            }

            fn decode(row: &::fw::__private::Row<'_>) -> ::fw::Result<Self> {
                ::core::result::Result::Ok(Self {
                    #(#decode_fields)*
                })
            }

            fn bind_new(
                #new_param: &#new_ident,
                #new_args_param: &mut ::fw::__private::Arguments,
                #new_now_param: ::fw::__private::DateTime<::fw::__private::Utc>,
            ) -> ::fw::Result<()> {
                #(#new_binds)*
                ::core::result::Result::Ok(())
            }

            fn bind_update(
                &self,
                args: &mut ::fw::__private::Arguments,
                #update_now_param: ::fw::__private::DateTime<::fw::__private::Utc>,
            ) -> ::fw::Result<()> {
                #(#update_binds)*
                #(#updated_at_binds)*
                #key_trait::bind(&self.#key_ident, args)?;
                #expected_version
                ::core::result::Result::Ok(())
            }

            fn patch_values(
                #patch_param: &#patch_ident,
            ) -> ::std::vec::Vec<(&'static ::fw::schema::FieldSchema, ::fw::Value)> {
                #patch_values
            }

            fn values(&self) -> ::std::vec::Vec<::fw::Value> {
                ::std::vec::Vec::from([#(#values),*])
            }

            fn new_values(
                #new_param: &#new_ident,
            ) -> ::std::vec::Vec<(&'static ::fw::schema::FieldSchema, ::fw::Value)> {
                ::std::vec::Vec::from([#(#new_values),*])
            }

            fn new_from_json(
                #value_of_param: &mut dyn ::core::ops::FnMut(
                    &'static ::fw::schema::FieldSchema,
                ) -> ::fw::__private::serde_json::Value,
            ) -> ::fw::Result<#new_ident> {
                ::core::result::Result::Ok(#new_ident {
                    #(#from_json)*
                })
            }

            #visit_references
        }
    }
}

/// `Model::SYMBOL`: a typed [`fw::Column`] per field.
pub(super) fn column_consts(model: &Model) -> TokenStream {
    let ident = &model.ident;
    let consts = model.fields.iter().enumerate().map(|(index, field)| {
        let vis = &field.vis;
        let ty = &field.ty;
        let name = format_ident!(
            "{}",
            screaming_snake_case(&field.name()),
            span = field.ident.span()
        );
        let doc = format!(
            " The `{}` field of [`{ident}`], for typed filters and ordering: \
             `{ident}::query().filter({ident}::{name}.eq(...))`.",
            field.ident
        );
        let access = match &field.args.sensitive {
            None => quote!(::fw::sensitive::Plain),
            Some(sealing) if sealing.value.searchable => quote!(::fw::sensitive::Searchable),
            Some(_) => quote!(::fw::sensitive::Sealed),
        };
        quote_spanned! {field.ty_span()=>
            #[doc = #doc]
            #vis const #name: ::fw::Column<#ident, #ty, #access> =
                ::fw::Column::new(&__FW_FIELDS[#index]);
        }
    });
    quote! {
        // Constants of private fields are not necessarily used.
        #[allow(dead_code)]
        #[automatically_derived]
        impl #ident {
            #(#consts)*
        }
    }
}
