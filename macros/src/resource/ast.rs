//! The resource IR: the struct's fields and the parsed options, with spans.

use fw_core::access::ModelPermission;
use fw_core::api::Action;
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{Attribute, Ident, Type, Visibility};

use super::attr::{self, AccessArg, DefaultAccess, ResourceArgs};
use crate::ctxt::Ctxt;

pub(crate) struct Resource {
    pub(crate) ident: Ident,
    pub(crate) vis: Visibility,
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) fields: Vec<Field>,
    pub(crate) args: ResourceArgs,
    pub(crate) doc: String,
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
}

impl Field {
    /// The name in JSON.
    pub(crate) fn api_name(&self) -> String {
        self.rename
            .as_ref()
            .map_or_else(|| self.ident.to_string(), |(name, _)| name.clone())
    }
}

impl Resource {
    /// Parses the struct; on a shape that is not a struct with named fields,
    /// returns the item to emit unchanged beside the errors.
    pub(crate) fn from_input(
        cx: &Ctxt,
        args: TokenStream,
        input: TokenStream,
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
        let syn::Fields::Named(named) = &item.fields else {
            cx.error_spanned_by(
                &item.fields,
                "`#[resource]` needs named fields, one per model field it shows",
            );
            return Err(quote!(#item));
        };
        let fields = named
            .named
            .iter()
            .filter_map(|field| {
                let ident = field.ident.clone()?;
                let args = attr::field_args(cx, &field.attrs);
                Some(Field {
                    rename: args.rename,
                    reveal: args.reveal,
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
                })
            })
            .collect();
        Ok(Resource {
            doc: doc(&item.attrs),
            ident: item.ident.clone(),
            vis: item.vis.clone(),
            attrs: item.attrs.clone(),
            fields,
            args,
        })
    }

    pub(crate) fn field(&self, ident: &Ident) -> Option<&Field> {
        self.fields.iter().find(|field| field.ident == *ident)
    }

    pub(crate) fn is_read_only(&self, field: &Field) -> bool {
        self.args.read_only.contains(&field.ident)
    }

    pub(crate) fn is_write_only(&self, field: &Field) -> bool {
        self.args.write_only.contains(&field.ident)
    }

    /// The fields with `reveal`, in declaration order: a field's position
    /// here is its bit in `Reveal`.
    pub(crate) fn revealable(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|field| field.reveal.is_some())
    }

    pub(crate) fn is_create_only(&self, field: &Field) -> bool {
        self.args.create_only.contains(&field.ident)
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
