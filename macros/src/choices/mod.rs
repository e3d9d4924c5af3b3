//! `#[derive(Choices)]`: parse (`attr`, `ast`) -> check -> generate (`expand`).

mod ast;
mod attr;
mod check;
mod expand;

use proc_macro2::TokenStream;

use crate::ctxt::{Ctxt, Expansion, Failure};

/// Expands `#[derive(Choices)]` on `input`.
pub(crate) fn expand(input: TokenStream) -> Expansion {
    let cx = Ctxt::new();
    let choices = ast::ChoiceEnum::from_input(&cx, input);
    if let Some(choices) = &choices {
        check::check(&cx, choices);
    }
    match (cx.check(), choices) {
        (Ok(()), Some(choices)) => Ok(expand::expand(&choices)),
        (result, _) => Err(Failure {
            // A derive never re-emits its item.
            fallback: TokenStream::new(),
            errors: result.err().unwrap_or_default(),
        }),
    }
}
