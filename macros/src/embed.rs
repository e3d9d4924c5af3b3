//! `embed_migrations!`: a directory's migration files compiled into the
//! executable, each through `include_bytes!` so that editing one rebuilds the
//! crate.

use std::path::Path;

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::LitStr;

/// The migrations directory when the macro names none.
const DEFAULT_DIR: &str = "migrations";

pub(crate) fn migrations(input: TokenStream) -> syn::Result<TokenStream> {
    let (relative, span) = if input.is_empty() {
        (DEFAULT_DIR.to_owned(), Span::call_site())
    } else {
        let literal: LitStr = syn::parse2(input).map_err(|error| {
            syn::Error::new(
                error.span(),
                "expected the migrations directory, relative to the crate, as a string: \
                 `embed_migrations!(\"migrations\")`",
            )
        })?;
        (literal.value(), literal.span())
    };
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").map_err(|_| {
        syn::Error::new(
            span,
            "CARGO_MANIFEST_DIR is not set; build with cargo, which sets it",
        )
    })?;
    let dir = Path::new(&manifest_dir).join(&relative);
    let mut files = Vec::new();
    match std::fs::read_dir(&dir) {
        // An application without migrations yet embeds none.
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => {
            return Err(syn::Error::new(
                span,
                format!(
                    "cannot read the migrations directory `{}`: {error}",
                    dir.display()
                ),
            ));
        }
        Ok(entries) => {
            for entry in entries {
                let path = entry
                    .map_err(|error| {
                        syn::Error::new(span, format!("cannot read `{}`: {error}", dir.display()))
                    })?
                    .path();
                if path.extension().is_none_or(|extension| extension != "toml") {
                    continue;
                }
                let (Some(name), Some(full)) = (
                    path.file_name().and_then(|name| name.to_str()),
                    path.to_str(),
                ) else {
                    return Err(syn::Error::new(
                        span,
                        format!(
                            "`{}` is not valid UTF-8; migration files are named `NNNN_name.toml`",
                            path.display()
                        ),
                    ));
                };
                files.push((name.to_owned(), full.to_owned()));
            }
        }
    }
    files.sort();
    let dir = dir.to_str().ok_or_else(|| {
        syn::Error::new(
            span,
            format!(
                "`{}` is not valid UTF-8; move the crate to a UTF-8 path",
                dir.display()
            ),
        )
    })?;
    let files = files.iter().map(|(name, full)| {
        quote! { (#name, ::core::include_bytes!(#full) as &[u8]) }
    });
    Ok(quote! {
        ::fw::migrate::EmbeddedMigrations {
            dir: #dir,
            files: &[#(#files),*],
        }
    })
}
