//! `#[derive(Choices)]`: parse (`attr`, `ast`) -> check -> generate (`expand`, or
//! on errors `stub`).

mod ast;
mod attr;
mod check;
mod expand;
mod stub;

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
        (result, choices) => Err(Failure {
            // A derive never re-emits its item, only the stub impls.
            fallback: choices.as_ref().map(stub::stub).unwrap_or_default(),
            errors: result.err().unwrap_or_default(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::{TokenStream, expand};

    fn errors(input: TokenStream) -> Vec<String> {
        match expand(input) {
            Ok(_) => Vec::new(),
            Err(failure) => failure.errors.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn choices_expansion() {
        let expansion = expand(quote! {
            pub enum DividendStatus {
                Announced,
                PaidOut,
                #[choice(rename = "cancelled_by_issuer")]
                Cancelled,
            }
        });
        let Ok(tokens) = expansion else {
            panic!("expected an expansion");
        };
        let file: syn::File = syn::parse2(tokens).expect("the expansion parses");
        insta::assert_snapshot!("choices_expansion", prettyplease::unparse(&file));
    }

    #[test]
    fn reports_every_problem() {
        let found = errors(quote! {
            enum Bad<T> {
                A(T),
                #[choice(rename = "a")]
                B,
                #[choice(renam = "c")]
                C,
            }
        });
        let expected = [
            "`Choices` cannot be derived for a generic enum: its values are a fixed list of text",
            "variant `A` has fields: `Choices` variants are stored as text and cannot carry data",
            "unknown `#[choice]` option `renam`, expected `rename`; did you mean `rename`?",
            "variants `A` and `B` are both stored as \"a\": give one of them `#[choice(rename = \"...\")]`",
        ];
        assert_eq!(found, expected);
    }

    #[test]
    fn rejects_structs_and_empty_enums() {
        assert_eq!(
            errors(quote!(
                struct S;
            )),
            ["`Choices` can only be derived for an enum whose variants have no fields"]
        );
        assert_eq!(
            errors(quote!(
                enum Never {}
            )),
            ["`Never` has no variants: a `Choices` enum needs at least one value"]
        );
    }
}
