//! `#[model]`: parse (`attr`, `ast`) -> check -> render SQL (`sql`) -> generate
//! (`expand`, or on errors `stub`).

mod ast;
mod attr;
mod check;
mod expand;
mod sql;
mod stub;

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
            fallback: stub::stub(&model),
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

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::{TokenStream, expand};

    /// The expansion, pretty-printed, or the error messages.
    fn expanded(args: TokenStream, input: TokenStream) -> String {
        match expand(args, input) {
            Ok(tokens) => match syn::parse2::<syn::File>(tokens) {
                Ok(file) => prettyplease::unparse(&file),
                Err(error) => format!("expansion does not parse: {error}"),
            },
            Err(failure) => failure
                .errors
                .iter()
                .map(|error| format!("error: {error}\n"))
                .collect(),
        }
    }

    #[test]
    fn security_expansion() {
        insta::assert_snapshot!(
            "security_expansion",
            expanded(
                quote!(
                    table = "securities",
                    renamed_from = "old_securities",
                    unique(symbol, cusip),
                    index(listed_on)
                ),
                quote! {
                    /// A listed security.
                    #[derive(Clone)]
                    pub struct Security {
                        pub id: i64,
                        /// Ticker symbol.
                        #[field(unique, max_length = 12)]
                        pub symbol: String,
                        #[field(min_length = 9, max_length = 9, pattern = "^[0-9A-Z]{9}$")]
                        pub cusip: String,
                        #[field(max_digits = 12, decimal_places = 6, min = "0")]
                        pub rate: rust_decimal::Decimal,
                        #[field(on_delete = "set_null", index)]
                        pub predecessor: Option<fw::Ref<Security>>,
                        #[field(default = 0, min = 0, max = 100)]
                        pub n: i32,
                        #[field(sensitive)]
                        pub tax_id: String,
                        #[field(column = "name_col", renamed_from = "old_name")]
                        pub name: String,
                        pub listed_on: chrono::NaiveDate,
                        pub status: DividendStatus,
                        pub note: Option<String>,
                        #[field(auto_now_add)]
                        pub created_at: chrono::DateTime<chrono::Utc>,
                        #[field(auto_now)]
                        pub updated_at: chrono::DateTime<chrono::Utc>,
                        #[field(version)]
                        pub version: i64,
                    }
                },
            )
        );
    }

    #[test]
    fn supplied_key_expansion() {
        insta::assert_snapshot!(
            "supplied_key_expansion",
            expanded(
                TokenStream::new(),
                quote! {
                    struct Currency {
                        #[field(primary_key)]
                        code: String,
                    }
                },
            )
        );
    }

    #[test]
    fn invalid_model_reports_every_error_and_keeps_the_struct() {
        let failure = expand(
            quote!(unique(symbl)),
            quote! {
                pub struct Security {
                    #[field(max_len = 3)]
                    pub symbol: String,
                    #[field(auto_now, auto_now_add)]
                    pub at: chrono::DateTime<chrono::Utc>,
                }
            },
        )
        .expect_err("errors");
        let messages: Vec<String> = failure.errors.iter().map(ToString::to_string).collect();
        assert_eq!(messages.len(), 4, "{messages:#?}");
        let fallback = failure.fallback.to_string();
        assert!(fallback.starts_with("pub struct Security"), "{fallback}");
        assert!(!fallback.contains("# [field"), "{fallback}");
        assert!(
            fallback.contains("impl :: fw :: Model for Security"),
            "{fallback}"
        );
        assert!(fallback.contains("pub struct NewSecurity"), "{fallback}");
    }
}
