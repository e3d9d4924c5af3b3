//! The resource IR: the struct's fields and the parsed options, with spans.

use fw_core::access::ModelPermission;
use fw_core::api::Action;
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{Attribute, Ident, Type, Visibility};

use super::attr::{self, AccessArg, DefaultAccess, FieldsArg, ResourceArgs};
use crate::ctxt::Ctxt;

pub(crate) struct Resource {
    pub(crate) ident: Ident,
    pub(crate) vis: Visibility,
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) fields: Vec<Field>,
    pub(crate) args: ResourceArgs,
    pub(crate) doc: String,
    /// The model's fields, when the resource takes them (`fields = ...`,
    /// `exclude(...)`): handed over by the model's `macro_rules!`.
    pub(crate) model_fields: Option<Vec<ModelField>>,
}

/// One field of the model, as `#[model]` hands it to a resource that takes
/// its model's fields.
pub(crate) struct ModelField {
    pub(crate) ident: Ident,
    /// Its doc comment, which becomes the resource field's.
    pub(crate) docs: Vec<Attribute>,
    /// Its position in the model, which names its type through
    /// `fw::__private::ModelFieldType<index>`.
    pub(crate) index: usize,
    /// fw fills it (auto key, timestamps, version).
    pub(crate) generated: bool,
    /// Nullable or with a default, so a create may leave it out.
    pub(crate) optional: bool,
    /// The primary key.
    pub(crate) key: bool,
    /// `#[field(sensitive)]`: shown only with `reveal`.
    pub(crate) sensitive: bool,
    /// `#[field(redacted)]`: never shown.
    pub(crate) redacted: bool,
}

/// What a model's `macro_rules!` calls `fw::__private::resource_with_model_fields!`
/// with: `[<docs> field(flags), ...] [<resource arguments>] <struct>`.
pub(crate) struct Callback {
    pub(crate) model_fields: Vec<ModelField>,
    pub(crate) args: TokenStream,
    pub(crate) item: TokenStream,
}

impl syn::parse::Parse for Callback {
    fn parse(input: syn::parse::ParseStream<'_>) -> syn::Result<Callback> {
        let fields;
        syn::bracketed!(fields in input);
        let mut model_fields = Vec::new();
        while !fields.is_empty() {
            let docs = fields.call(Attribute::parse_outer)?;
            let ident: Ident = fields.parse()?;
            let flags;
            syn::parenthesized!(flags in fields);
            let flags = flags.parse_terminated(Ident::parse, syn::Token![,])?;
            let has = |flag: &str| flags.iter().any(|written| written == flag);
            model_fields.push(ModelField {
                index: model_fields.len(),
                generated: has("generated"),
                optional: has("optional"),
                key: has("key"),
                sensitive: has("sensitive"),
                redacted: has("redacted"),
                docs,
                ident,
            });
            if !fields.is_empty() {
                fields.parse::<syn::Token![,]>()?;
            }
        }
        let args;
        syn::bracketed!(args in input);
        Ok(Callback {
            model_fields,
            args: args.parse()?,
            item: input.parse()?,
        })
    }
}

/// The user's fields, with their `#[field]` options read.
fn written_fields(cx: &Ctxt, named: &syn::FieldsNamed) -> Vec<Field> {
    named
        .named
        .iter()
        .filter_map(|field| {
            let ident = field.ident.clone()?;
            let args = attr::field_args(cx, &field.attrs);
            Some(Field {
                rename: args.rename,
                reveal: args.reveal,
                computed: args.computed,
                doc: doc(&field.attrs),
                attrs: field
                    .attrs
                    .iter()
                    .filter(|attr| !attr.path().is_ident("field"))
                    .cloned()
                    .collect(),
                ident,
                vis: field.vis.clone(),
                ty: field.ty.clone(),
                from_model: false,
            })
        })
        .collect()
}

/// The model fields `fields = all`, `fields(...)` or `exclude(...)` selects,
/// in the model's order (the list's for `fields(...)`), each the written-out
/// field of its name where there is one, then the other written-out fields.
/// A field taken from the model is spanned to the name in `fields(...)`, or to
/// the `fields`/`exclude` keyword, so errors about it point at the resource.
/// Names that are not model fields are left for `check` to report.
fn select(
    args: &ResourceArgs,
    model_fields: &[ModelField],
    mut written: Vec<Field>,
    vis: &Visibility,
    model: &syn::Path,
) -> Vec<Field> {
    let selected: Vec<(&ModelField, Span)> = match (&args.fields, &args.exclude) {
        (Some((_, FieldsArg::Only(names))), _) => names
            .iter()
            .filter_map(|name| {
                let field = model_fields.iter().find(|field| field.ident == *name)?;
                Some((field, name.span()))
            })
            .collect(),
        (_, Some((keyword, excluded))) => model_fields
            .iter()
            .filter(|field| !excluded.contains(&field.ident))
            .map(|field| (field, keyword.span()))
            .collect(),
        (Some((keyword, FieldsArg::All)), None) => model_fields
            .iter()
            .map(|field| (field, keyword.span()))
            .collect(),
        (None, None) => Vec::new(),
    };
    let mut fields = Vec::with_capacity(selected.len() + written.len());
    for (model_field, span) in selected {
        if fields
            .iter()
            .any(|field: &Field| field.ident == model_field.ident)
        {
            continue;
        }
        match written
            .iter()
            .position(|field| field.ident == model_field.ident)
        {
            Some(position) => {
                let mut field = written.remove(position);
                // Without a doc comment of its own, it keeps the model
                // field's; a computed field shows something else.
                if field.doc.is_empty() && field.computed.is_none() {
                    field.doc = doc(&model_field.docs);
                    field.attrs.extend(model_field.docs.iter().cloned());
                }
                fields.push(field);
            }
            None => fields.push(model_field.as_field(vis, model, span)),
        }
    }
    fields.append(&mut written);
    fields
}

impl ModelField {
    /// The resource field showing this model field as the model declares it.
    fn as_field(&self, vis: &Visibility, model: &syn::Path, span: Span) -> Field {
        let index = proc_macro2::Literal::usize_unsuffixed(self.index);
        let ty = syn::parse_quote_spanned!(span=> <#model as ::fw::__private::ModelFieldType<#index>>::Type);
        let mut ident = self.ident.clone();
        ident.set_span(span);
        Field {
            ident,
            vis: vis.clone(),
            ty,
            doc: doc(&self.docs),
            attrs: self.docs.clone(),
            rename: None,
            reveal: None,
            computed: None,
            from_model: true,
        }
    }
}

pub(crate) struct Field {
    pub(crate) ident: Ident,
    pub(crate) vis: Visibility,
    pub(crate) ty: Type,
    /// Attributes other than `#[field]`, kept on the emitted struct.
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) rename: Option<(String, Span)>,
    /// The permission that reveals a sensitive model field.
    pub(crate) reveal: Option<(String, Span)>,
    pub(crate) doc: String,
    /// `#[field(computed = path)]`: not a model field, but the value of this
    /// function of the row, read-only.
    pub(crate) computed: Option<syn::Path>,
    /// Taken from the model (`fields = ...`, `exclude(...)`), not written out,
    /// so of the model field's type.
    pub(crate) from_model: bool,
}

impl Field {
    /// A model field written out in the struct, whose type may be one of the
    /// resource's own rather than the model field's.
    pub(crate) fn is_written_out_model_field(&self) -> bool {
        !self.from_model && self.computed.is_none()
    }

    /// The name in JSON.
    pub(crate) fn api_name(&self) -> String {
        self.rename
            .as_ref()
            .map_or_else(|| self.ident.to_string(), |(name, _)| name.clone())
    }
}

impl Resource {
    /// Parses the struct; on a shape that is not a struct with named fields,
    /// returns the item to emit unchanged beside the errors. Given the model's
    /// fields (a resource with `fields = ...` or `exclude(...)`), the fields
    /// it selects are the resource's, each replaced by the struct's field of
    /// the same name where the struct writes one out, and the struct's other
    /// fields follow.
    pub(crate) fn from_input(
        cx: &Ctxt,
        args: TokenStream,
        input: TokenStream,
        model_fields: Option<Vec<ModelField>>,
    ) -> Result<Resource, TokenStream> {
        let item: syn::ItemStruct = match syn::parse2(input.clone()) {
            Ok(item) => item,
            Err(error) => {
                cx.syn_error(syn::Error::new(
                    error.span(),
                    "`#[resource]` goes on a struct with named fields",
                ));
                return Err(input);
            }
        };
        let args = ResourceArgs::parse(cx, args);
        if !item.generics.params.is_empty() {
            cx.error_spanned_by(
                &item.generics,
                "a resource cannot be generic: remove the type parameters",
            );
        }
        let selects = args.fields.is_some() || args.exclude.is_some();
        let written = match &item.fields {
            syn::Fields::Named(named) => written_fields(cx, named),
            syn::Fields::Unit if selects => Vec::new(),
            _ => {
                cx.error_spanned_by(
                    &item.fields,
                    "`#[resource]` needs named fields, one per model field it shows, or \
                     `fields = all`, `fields(...)` or `exclude(...)` to show the model's own",
                );
                return Err(quote!(#item));
            }
        };
        let fields = match (&model_fields, &args.model) {
            (Some(model_fields), Some(model)) => {
                select(&args, model_fields, written, &item.vis, model)
            }
            _ => written,
        };
        Ok(Resource {
            doc: doc(&item.attrs),
            ident: item.ident.clone(),
            vis: item.vis.clone(),
            attrs: item.attrs.clone(),
            fields,
            args,
            model_fields,
        })
    }

    /// What the model says of its field `ident`, when the resource was given
    /// the model's fields.
    pub(crate) fn model_field(&self, ident: &Ident) -> Option<&ModelField> {
        self.model_fields
            .as_ref()?
            .iter()
            .find(|field| field.ident == *ident)
    }

    /// Whether the struct writes out field `ident` (rather than taking it from
    /// the model): its type is the model's field type projection otherwise.
    pub(crate) fn written_out(&self, ident: &Ident) -> bool {
        self.field(ident).is_some_and(|field| !field.from_model)
    }

    pub(crate) fn field(&self, ident: &Ident) -> Option<&Field> {
        self.fields.iter().find(|field| field.ident == *ident)
    }

    /// Computed, named in `read_only(...)`, or a field fw fills (auto key,
    /// timestamps, version) of a resource that takes its model's fields.
    pub(crate) fn is_read_only(&self, field: &Field) -> bool {
        field.computed.is_some()
            || self.args.read_only.contains(&field.ident)
            || self
                .model_field(&field.ident)
                .is_some_and(|model_field| model_field.generated)
    }

    pub(crate) fn is_write_only(&self, field: &Field) -> bool {
        self.args.write_only.contains(&field.ident)
    }

    /// The fields with `reveal`, in declaration order: a field's position
    /// here is its bit in `Reveal`.
    pub(crate) fn revealable(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|field| field.reveal.is_some())
    }

    /// Named in `create_only(...)`, or the primary key (which no update
    /// changes) of a resource that takes its model's fields.
    pub(crate) fn is_create_only(&self, field: &Field) -> bool {
        self.args.create_only.contains(&field.ident)
            || self
                .model_field(&field.ident)
                .is_some_and(|model_field| model_field.key)
    }

    pub(crate) fn has_action(&self, action: Action) -> bool {
        self.action_span(action).is_some()
    }

    /// Where `actions(...)` names `action`, if it does.
    pub(crate) fn action_span(&self, action: Action) -> Option<proc_macro2::Span> {
        self.args
            .actions
            .iter()
            .find(|(_, named)| *named == action)
            .map(|(ident, _)| ident.span())
    }

    /// The access of `action`: its entry in `permissions(...)`, else what the
    /// default gives it; `None` when neither does (`public` gives writes none).
    pub(crate) fn access(&self, action: Action) -> Option<AccessArg> {
        let permissions = self.args.permissions.as_ref()?;
        if let Some(entry) = permissions
            .entries
            .iter()
            .find(|entry| entry.action == action)
        {
            return Some(entry.access.clone());
        }
        match permissions.defaults.first()?.1 {
            DefaultAccess::Model => Some(AccessArg::Model(ModelPermission::of_action(action))),
            DefaultAccess::Public if !action.writes() => Some(AccessArg::Public),
            DefaultAccess::Public => None,
            DefaultAccess::Authenticated => Some(AccessArg::Authenticated),
        }
    }

    /// The struct as the user wrote it, minus `#[field]` attributes.
    pub(crate) fn stripped_item(&self) -> TokenStream {
        let Resource {
            ident, vis, attrs, ..
        } = self;
        let fields = self.fields.iter().map(|field| {
            let Field {
                ident,
                vis,
                ty,
                attrs,
                ..
            } = field;
            quote!(#(#attrs)* #vis #ident: #ty)
        });
        quote! {
            #(#attrs)*
            #vis struct #ident { #(#fields,)* }
        }
    }
}

/// The model a resource that takes its model's fields names, whose
/// `macro_rules!` to call; `None` for a resource that writes its fields out
/// (or names no model, which the usual expansion reports).
pub(crate) fn model_taking_fields(args: &TokenStream) -> Option<syn::Path> {
    let scratch = Ctxt::new();
    let parsed = ResourceArgs::parse(&scratch, args.clone());
    // The call back parses the same arguments and reports their errors, once.
    let _ = scratch.check();
    if parsed.fields.is_none() && parsed.exclude.is_none() {
        return None;
    }
    parsed.model
}

/// The documentation comment, lines joined with spaces.
fn doc(attrs: &[Attribute]) -> String {
    attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .filter_map(|attr| match &attr.meta {
            syn::Meta::NameValue(syn::MetaNameValue {
                value:
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(text),
                        ..
                    }),
                ..
            }) => Some(text.value().trim().to_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(" ")
        .trim()
        .to_owned()
}
