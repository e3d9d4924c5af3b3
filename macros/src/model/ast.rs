//! The model IR: the user's struct, read once into plain data with the spans that
//! errors point at. `check.rs` validates it; `sql.rs` and `expand.rs` read only it.

use proc_macro2::{Span, TokenStream};
use syn::spanned::Spanned;
use syn::{
    Attribute, Data, DeriveInput, Fields, GenericArgument, Ident, PathArguments, Type, Visibility,
};

use fw_core::names::snake_case;
use fw_core::schema::{Generated, OnDelete, OnInsert, SqlType, index_name, unique_constraint_name};

use super::attr::{self, FieldArgs, IndexArgs, ModelArgs};
use crate::ctxt::Ctxt;

/// A `#[model]` struct.
pub(crate) struct Model {
    /// The struct as written, minus `#[field]` attributes: emitted unchanged.
    pub(crate) item: DeriveInput,
    pub(crate) ident: Ident,
    pub(crate) vis: Visibility,
    /// Table name: `table = "..."`, or the snake_case struct name.
    pub(crate) table: String,
    pub(crate) args: ModelArgs,
    pub(crate) fields: Vec<Field>,
    /// Index into `fields`; `None` only when `check` reports the model has no key.
    pub(crate) primary_key: Option<usize>,
    /// `Debug` in the struct's `#[derive(...)]`, which `#[model]` replaces.
    pub(crate) derived_debug: Vec<syn::Path>,
}

/// One field, and so one column.
pub(crate) struct Field {
    pub(crate) ident: Ident,
    pub(crate) vis: Visibility,
    pub(crate) ty: Type,
    /// The field's doc comments, repeated on the generated `New`/`Patch` fields.
    pub(crate) docs: Vec<Attribute>,
    /// Column name: `column = "..."`, or the field name (`<name>_id` for a `Ref`).
    pub(crate) column: String,
    /// What the type is, as far as the macro can tell from its spelling.
    pub(crate) kind: TypeKind,
    /// Whether the type is `Option<...>`.
    pub(crate) nullable: bool,
    pub(crate) generated: Generated,
    pub(crate) args: FieldArgs,
    /// A Rust default field value (`field: T = value`), which models do not use.
    pub(crate) rust_default: Option<syn::Expr>,
}

/// A field type recognised by its spelling (the last path segment), used for the
/// checks that must happen before rustc sees the types and to pick how primary keys
/// are generated. Anything else is `Other` and left to the `Field` trait.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TypeKind {
    /// One of the types whose column type fw defines (`fw::Field::SQL_TYPE`).
    Sql(SqlType),
    /// `Ref<Target>`.
    Ref(Box<Type>),
    Other,
}

impl TypeKind {
    pub(crate) fn is(&self, sql_type: SqlType) -> bool {
        *self == TypeKind::Sql(sql_type)
    }

    pub(crate) fn is_integer(&self) -> bool {
        matches!(self, TypeKind::Sql(sql_type) if sql_type.is_integer())
    }
}

impl Model {
    /// Reads the struct and its attributes. Returns the error and what to emit
    /// beside it when the item cannot be a model at all (not a struct, generic...).
    pub(crate) fn from_input(
        cx: &Ctxt,
        args: TokenStream,
        input: TokenStream,
    ) -> Result<Model, TokenStream> {
        let mut item: DeriveInput = match syn::parse2(input.clone()) {
            Ok(item) => item,
            Err(_) => {
                cx.error_at(
                    Span::call_site(),
                    "`#[model]` goes on a struct with named fields",
                );
                return Err(input);
            }
        };
        let args = attr::parse_model_args(cx, args);
        let named = match &mut item.data {
            Data::Struct(data) => match &mut data.fields {
                Fields::Named(named) => Some(named),
                Fields::Unnamed(unnamed) => {
                    cx.error_at(
                        unnamed.paren_token.span.join(),
                        "`#[model]` needs named fields, which become the column names; \
                         a tuple struct has none",
                    );
                    None
                }
                Fields::Unit => {
                    cx.error_spanned_by(
                        &item.ident,
                        "`#[model]` needs a struct with named fields, one per column",
                    );
                    None
                }
            },
            Data::Enum(data) => {
                cx.error_spanned_by(
                    data.enum_token,
                    "`#[model]` goes on a struct with named fields, not an enum; \
                     for a column holding one of a fixed set of values use `#[derive(fw::Choices)]`",
                );
                None
            }
            Data::Union(data) => {
                cx.error_spanned_by(
                    data.union_token,
                    "`#[model]` goes on a struct with named fields, not a union",
                );
                None
            }
        };
        let Some(named) = named else {
            return Err(without_helper_attrs(item));
        };
        let mut fields = Vec::with_capacity(named.named.len());
        for field in named.named.iter_mut() {
            let field_args = attr::parse_field_args(cx, &field.attrs);
            field.attrs.retain(|attr| !attr::is_field_attr(attr));
            let Some(ident) = field.ident.clone() else {
                continue;
            };
            let (nullable, inner) = match option_inner(&field.ty) {
                Some(inner) => (true, inner),
                None => (false, &field.ty),
            };
            let kind = type_kind(inner);
            // A reference is stored as the referenced key, named like one
            // (`security_id`), as SQL readers expect.
            let default_column = match kind {
                TypeKind::Ref(_) => format!("{ident}_id"),
                _ => ident.to_string(),
            };
            fields.push(Field {
                column: field_args
                    .column
                    .as_ref()
                    .map_or(default_column, |column| column.value.clone()),
                vis: field.vis.clone(),
                ty: field.ty.clone(),
                docs: field
                    .attrs
                    .iter()
                    .filter(|attr| attr.path().is_ident("doc"))
                    .cloned()
                    .collect(),
                kind,
                nullable,
                generated: Generated::No,
                args: field_args,
                rust_default: field.default.as_ref().map(|(_, expr)| expr.clone()),
                ident,
            });
        }
        if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
            cx.error_spanned_by(
                &item.generics,
                "`#[model]` does not support generic structs: a model is one table with \
                 fixed column types",
            );
        }
        let primary_key = fields
            .iter()
            .position(|field| field.args.primary_key.is_some())
            .or_else(|| fields.iter().position(|field| field.ident == "id"));
        for (index, field) in fields.iter_mut().enumerate() {
            field.generated = generated(field, primary_key == Some(index));
        }
        let table = args.table.as_ref().map_or_else(
            || snake_case(&item.ident.to_string()),
            |table| table.value.clone(),
        );
        Ok(Model {
            derived_debug: derived_debug(&item.attrs),
            ident: item.ident.clone(),
            vis: item.vis.clone(),
            table,
            args,
            fields,
            primary_key,
            item,
        })
    }

    pub(crate) fn primary_key(&self) -> Option<&Field> {
        self.primary_key.and_then(|index| self.fields.get(index))
    }

    /// The row-version field, if any.
    pub(crate) fn version(&self) -> Option<&Field> {
        self.fields
            .iter()
            .find(|field| field.generated == Generated::Version)
    }

    /// The field named `name` (a Rust field name).
    pub(crate) fn field(&self, name: &Ident) -> Option<&Field> {
        self.fields.iter().find(|field| field.ident == *name)
    }

    /// The column names of a `unique(...)`/`index(...)`, skipping unknown fields
    /// (which `check` reports).
    pub(crate) fn index_columns(&self, index: &IndexArgs) -> Vec<&str> {
        index
            .fields
            .iter()
            .filter_map(|name| self.field(name))
            .map(|field| field.column.as_str())
            .collect()
    }

    /// The name of a `unique(...)`/`index(...)`, as the runtime names it (it maps
    /// constraint violations back to fields by these names).
    pub(crate) fn index_name(&self, index: &IndexArgs) -> String {
        let columns = self.index_columns(index);
        if index.unique {
            unique_constraint_name(&self.table, &columns)
        } else {
            index_name(&self.table, &columns)
        }
    }

    /// The struct to emit: as written, minus our helper attributes.
    pub(crate) fn stripped_item(&self) -> TokenStream {
        quote::ToTokens::to_token_stream(&self.item)
    }
}

/// The item with every `#[field]` attribute removed (also from enum variants'
/// fields, so a misplaced `#[model]` does not add "unknown attribute" errors).
fn without_helper_attrs(mut item: DeriveInput) -> TokenStream {
    let strip = |fields: &mut Fields| {
        for field in fields.iter_mut() {
            field.attrs.retain(|attr| !attr::is_field_attr(attr));
        }
    };
    match &mut item.data {
        Data::Struct(data) => strip(&mut data.fields),
        Data::Enum(data) => data
            .variants
            .iter_mut()
            .for_each(|variant| strip(&mut variant.fields)),
        Data::Union(_) => {}
    }
    quote::ToTokens::into_token_stream(item)
}

impl Field {
    pub(crate) fn name(&self) -> String {
        self.ident.to_string()
    }

    pub(crate) fn is_primary_key_of(&self, model: &Model) -> bool {
        model
            .primary_key()
            .is_some_and(|key| key.ident == self.ident)
    }

    pub(crate) fn is_insertable(&self) -> bool {
        self.generated.on_insert() == OnInsert::Supplied
    }

    pub(crate) fn on_delete(&self) -> OnDelete {
        self.args
            .on_delete
            .as_ref()
            .map_or(OnDelete::Restrict, |opt| opt.value)
    }

    /// Whether the field's values never show in `Debug`, logs or the change log.
    pub(crate) fn is_hidden(&self) -> bool {
        self.args.sensitive.is_some() || self.args.redacted.is_some()
    }

    /// The span of the field's type, where type errors belong.
    pub(crate) fn ty_span(&self) -> Span {
        self.ty.span()
    }
}

fn generated(field: &Field, is_primary_key: bool) -> Generated {
    if is_primary_key && !field.nullable {
        if field.kind.is_integer() {
            return Generated::AutoIncrement;
        }
        if field.kind.is(SqlType::Uuid) {
            return Generated::AutoUuid;
        }
    }
    if field.args.auto_now_add.is_some() {
        Generated::CreatedAt
    } else if field.args.auto_now.is_some() {
        Generated::UpdatedAt
    } else if field.args.version.is_some() {
        Generated::Version
    } else {
        Generated::No
    }
}

/// The single type argument of a path type whose last segment is `name`.
fn generic_argument<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
    let Type::Path(path) = ty else { return None };
    if path.qself.is_some() {
        return None;
    }
    let segment = path.path.segments.last()?;
    if segment.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(arguments) = &segment.arguments else {
        return None;
    };
    match arguments.args.first() {
        Some(GenericArgument::Type(inner)) if arguments.args.len() == 1 => Some(inner),
        _ => None,
    }
}

/// `T` in `Option<T>`.
pub(crate) fn option_inner(ty: &Type) -> Option<&Type> {
    match ty {
        Type::Group(group) => option_inner(&group.elem),
        _ => generic_argument(ty, "Option"),
    }
}

fn type_kind(ty: &Type) -> TypeKind {
    if let Type::Group(group) = ty {
        return type_kind(&group.elem);
    }
    if let Some(target) = generic_argument(ty, "Ref") {
        return TypeKind::Ref(Box::new(target.clone()));
    }
    let Type::Path(path) = ty else {
        return TypeKind::Other;
    };
    let Some(last) = path.path.segments.last() else {
        return TypeKind::Other;
    };
    match last.ident.to_string().as_str() {
        "i16" => TypeKind::Sql(SqlType::SmallInt),
        "i32" => TypeKind::Sql(SqlType::Int),
        "i64" => TypeKind::Sql(SqlType::BigInt),
        "bool" => TypeKind::Sql(SqlType::Bool),
        "String" => TypeKind::Sql(SqlType::Text),
        "Decimal" => TypeKind::Sql(SqlType::Decimal),
        "NaiveDate" => TypeKind::Sql(SqlType::Date),
        "DateTime" => TypeKind::Sql(SqlType::Timestamp),
        "Uuid" => TypeKind::Sql(SqlType::Uuid),
        "Json" => TypeKind::Sql(SqlType::Json),
        _ => TypeKind::Other,
    }
}

/// The `Debug` paths in `#[derive(...)]` attributes.
fn derived_debug(attrs: &[Attribute]) -> Vec<syn::Path> {
    let parser = syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated;
    attrs
        .iter()
        .filter(|attr| attr.path().is_ident("derive"))
        .filter_map(|attr| attr.parse_args_with(parser).ok())
        .flatten()
        .filter(|path| {
            path.segments
                .last()
                .is_some_and(|segment| segment.ident == "Debug")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(ty: Type) -> TypeKind {
        type_kind(option_inner(&ty).unwrap_or(&ty))
    }

    #[test]
    fn recognises_types_by_spelling() {
        assert_eq!(kind(syn::parse_quote!(i64)), TypeKind::Sql(SqlType::BigInt));
        assert_eq!(
            kind(syn::parse_quote!(i16)),
            TypeKind::Sql(SqlType::SmallInt)
        );
        assert_eq!(
            kind(syn::parse_quote!(Option<std::string::String>)),
            TypeKind::Sql(SqlType::Text)
        );
        assert_eq!(
            kind(syn::parse_quote!(rust_decimal::Decimal)),
            TypeKind::Sql(SqlType::Decimal)
        );
        assert_eq!(
            kind(syn::parse_quote!(chrono::DateTime<chrono::Utc>)),
            TypeKind::Sql(SqlType::Timestamp)
        );
        assert_eq!(
            kind(syn::parse_quote!(fw::Ref<Security>)),
            TypeKind::Ref(Box::new(syn::parse_quote!(Security)))
        );
        assert_eq!(kind(syn::parse_quote!(DividendStatus)), TypeKind::Other);
        assert_eq!(kind(syn::parse_quote!(f64)), TypeKind::Other);
    }

    #[test]
    fn primary_key_and_generation() {
        let cx = Ctxt::new();
        let model = Model::from_input(
            &cx,
            TokenStream::new(),
            quote::quote! {
                #[derive(Clone, Debug)]
                struct AccountHolder {
                    id: uuid::Uuid,
                    #[field(auto_now_add)] created_at: DateTime<Utc>,
                    #[field(auto_now)] updated_at: DateTime<Utc>,
                    #[field(version)] version: i64,
                    name: String,
                }
            },
        )
        .expect("a model");
        assert!(cx.check().is_ok());
        assert_eq!(model.table, "account_holder");
        assert_eq!(model.primary_key().map(Field::name).as_deref(), Some("id"));
        let generated: Vec<_> = model.fields.iter().map(|field| field.generated).collect();
        assert_eq!(
            generated,
            [
                Generated::AutoUuid,
                Generated::CreatedAt,
                Generated::UpdatedAt,
                Generated::Version,
                Generated::No
            ]
        );
        assert_eq!(model.derived_debug.len(), 1);
    }
}
