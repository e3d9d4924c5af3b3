//! Error collection shared by every macro pipeline, so a user sees all their
//! mistakes at once instead of fixing them one compile at a time.

use std::cell::RefCell;
use std::fmt::Display;

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;

/// Collects errors while parsing and checking; [`Ctxt::check`] hands them over.
#[derive(Default)]
pub(crate) struct Ctxt {
    errors: RefCell<Vec<syn::Error>>,
}

impl Ctxt {
    pub(crate) fn new() -> Self {
        Ctxt::default()
    }

    /// Records an error underlining `tokens`.
    pub(crate) fn error_spanned_by(&self, tokens: impl ToTokens, message: impl Display) {
        self.errors
            .borrow_mut()
            .push(syn::Error::new_spanned(tokens.into_token_stream(), message));
    }

    /// Records an error at `span`.
    pub(crate) fn error_at(&self, span: Span, message: impl Display) {
        self.errors
            .borrow_mut()
            .push(syn::Error::new(span, message));
    }

    /// Records an error from syn's parser.
    pub(crate) fn syn_error(&self, error: syn::Error) {
        self.errors.borrow_mut().push(error);
    }

    /// Every error recorded so far, or `Ok` when there is none.
    pub(crate) fn check(self) -> Result<(), Vec<syn::Error>> {
        let errors = self.errors.into_inner();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// The outcome of a macro: its expansion, or the errors plus what to emit beside
/// them so one mistake does not cascade into many.
pub(crate) type Expansion = Result<TokenStream, Failure>;

/// A failed expansion.
pub(crate) struct Failure {
    /// Emitted beside the errors: the user's item with helper attributes stripped
    /// and, when it has the right shape, each macro's `stub` (the items and impls
    /// other code names, with bodies never run), so that the rest of the crate
    /// type-checks and the errors are all there is to read.
    pub(crate) fallback: TokenStream,
    pub(crate) errors: Vec<syn::Error>,
}

impl Failure {
    pub(crate) fn into_tokens(self) -> TokenStream {
        let mut tokens = self.fallback;
        for error in self.errors {
            tokens.extend(error.into_compile_error());
        }
        tokens
    }
}
