//! `#[model]`: parse (`attr`, `ast`) -> check -> render SQL (`sql`) -> generate (`expand`).

mod ast;
mod attr;
mod check;
mod expand;
mod sql;

use proc_macro2::TokenStream;

use crate::ctxt::{Ctxt, Expansion, Failure};

/// Expands `#[model(args)] input`.
pub(crate) fn expand(args: TokenStream, input: TokenStream) -> Expansion {
    let cx = Ctxt::new();
    let model = match ast::Model::from_input(&cx, args, input) {
        Ok(model) => model,
        Err(fallback) => return Err(failure(cx, fallback)),
    };
    check::check(&cx, &model);
    match cx.check() {
        Ok(()) => Ok(expand::expand(&model)),
        Err(errors) => Err(Failure {
            fallback: model.stripped_item(),
            errors,
        }),
    }
}

fn failure(cx: Ctxt, fallback: TokenStream) -> Failure {
    Failure {
        fallback,
        errors: cx.check().err().unwrap_or_default(),
    }
}
