//! `#[resource]`: parse (`attr`, `ast`) -> check -> generate (`expand`, or on
//! errors `stub`).

mod ast;
mod attr;
mod check;
mod expand;
mod stub;

use proc_macro2::TokenStream;

use crate::ctxt::{Ctxt, Expansion, Failure};

/// Expands `#[resource(args)] input`.
pub(crate) fn expand(args: TokenStream, input: TokenStream) -> Expansion {
    let cx = Ctxt::new();
    let resource = match ast::Resource::from_input(&cx, args, input) {
        Ok(resource) => resource,
        Err(fallback) => {
            return Err(Failure {
                fallback,
                errors: cx.check().err().unwrap_or_default(),
            });
        }
    };
    check::check(&cx, &resource);
    match cx.check() {
        Ok(()) => Ok(expand::expand(&resource)),
        Err(errors) => Err(Failure {
            fallback: stub::stub(&resource),
            errors,
        }),
    }
}

