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

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::{TokenStream, expand};

    /// The expansion, pretty-printed.
    fn expanded(args: TokenStream, input: TokenStream) -> String {
        let tokens = match expand(args, input) {
            Ok(tokens) => tokens,
            Err(failure) => panic!("unexpected errors: {:?}", failure.errors),
        };
        let file: syn::File = syn::parse2(tokens).expect("the expansion parses");
        prettyplease::unparse(&file)
    }

    fn errors(args: TokenStream, input: TokenStream) -> Vec<String> {
        match expand(args, input) {
            Ok(_) => Vec::new(),
            Err(failure) => failure.errors.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn dividend_resource_expansion() {
        insta::assert_snapshot!(
            "dividend_resource_expansion",
            expanded(
                quote!(
                    model = Dividend,
                    path = "/dividends",
                    name = "Distribution",
                    actions(list, retrieve, create, update, partial_update, destroy, history),
                    permissions(model, list = public, destroy = "purge_dividends"),
                    read_only(id, version),
                    write_only(note),
                    create_only(security),
                    filter(
                        ex_date(gte, lte),
                        status,
                        security,
                        symbol = security.symbol(exact, in, icontains)
                    ),
                    search(note),
                    ordering(ex_date, amount),
                    default_ordering = "-exDate, amount",
                    page_size = 20,
                    max_page_size = 200,
                    scope = crate::api::own_dividends,
                    hooks = DividendHooks
                ),
                quote! {
                    /// A cash dividend.
                    pub struct DividendResource {
                        pub id: i64,
                        pub security: fw::Ref<Security>,
                        /// The day the stock trades without the dividend.
                        #[field(rename = "exDate")]
                        pub ex_date: chrono::NaiveDate,
                        pub amount: rust_decimal::Decimal,
                        pub status: DividendStatus,
                        pub note: Option<String>,
                        pub version: i64,
                    }
                },
            )
        );
    }

    #[test]
    fn reports_every_problem() {
        let found = errors(
            quote!(
                path = "dividends",
                actions(retrieve, retrieve),
                read_only(id, id),
                write_only(id),
                ordering(amont, id),
                default_ordering = "amount",
                page_size = 0
            ),
            quote! {
                pub struct DividendResource {
                    pub id: i64,
                    pub amount: rust_decimal::Decimal,
                    #[field(rename = "amount")]
                    pub net: rust_decimal::Decimal,
                }
            },
        );
        let expected = [
            "`#[resource]` needs the model it shows: `#[resource(model = Dividend, ...)]`",
            "`path` must start with `/`, not end with `/`, and have no parameters, e.g. `\"/dividends\"`",
            "`retrieve` appears twice in `actions`",
            "`#[resource]` needs `permissions(...)`, saying who may call its actions: `permissions(model)` for the model's `view`, `add`, `change` and `delete` permissions, `permissions(authenticated)` for any signed-in user, or `permissions(public)` for reads anyone may make",
            "`id` appears twice in `read_only`",
            "`ordering` names `amont`, which is not a field of `DividendResource`; expected one of `id`, `amount`, `net`; did you mean `amount`?",
            "`id` cannot be both `read_only` and `write_only`: a field nobody can read or write is pointless",
            "`id` is `write_only`, so it cannot be used in `ordering`",
            "`default_ordering` names `amount`, which is not in `ordering(...)`; add it there or use one of `id`",
            "`default_ordering` needs the `list` action",
            "page sizes must be at least 1",
            "`ordering` needs the `list` action: add `list` to `actions(...)`",
            "two fields are named `amount` in JSON; rename one",
        ];
        assert_eq!(found, expected);
    }

    #[test]
    fn permissions_cover_every_action_and_nothing_else() {
        let resource = quote! {
            pub struct DividendResource {
                pub id: i64,
            }
        };
        let found = errors(
            quote!(
                model = Dividend,
                path = "/dividends",
                actions(list, retrieve, create, update, destroy),
                permissions(
                    public,
                    model,
                    list = veiw,
                    lst = view,
                    retrieve = public,
                    retrieve = view,
                    history = view,
                    update = "Change Dividends",
                    update = 3
                )
            ),
            resource.clone(),
        );
        let expected = [
            "unknown access `veiw`, expected one of `public`, `authenticated`, `view`, `add`, `change`, `delete`, or an application's permission in quotes, e.g. `\"purge_dividends\"`; did you mean `view`?",
            "unknown action `lst`, expected one of `list`, `retrieve`, `create`, `update`, `partial_update`, `destroy`, `history`; did you mean `list`?",
            "`Change Dividends` cannot name a permission: use lowercase letters, digits and underscores, starting with a letter, at most 64 characters, e.g. `\"purge_dividends\"`",
            "expected an access: one of `public`, `authenticated`, `view`, `add`, `change`, `delete`, or an application's permission in quotes, e.g. `\"purge_dividends\"`",
            "`permissions` has one default access, `public` already; give other actions their own, e.g. `create = add`",
            "`retrieve` is given twice in `permissions`",
            "`permissions` gives `history` an access, but the resource does not offer `history`: add it to `actions(...)` or remove `history = ...`",
            "`public` covers reads only, and `create`, `update`, `destroy` write: give each its access, e.g. `permissions(public, create = add)` (`create = public` if anyone may)",
        ];
        assert_eq!(found, expected);
        let found = errors(
            quote!(
                model = Dividend,
                path = "/dividends",
                actions(list, create),
                permissions(list = public)
            ),
            resource,
        );
        assert_eq!(
            found,
            [
                "`permissions` gives no access to `create`: add a default (`model`, `authenticated` or `public`) or an entry for each, e.g. `permissions(create = add)`"
            ]
        );
    }

    #[test]
    fn repeated_options_are_refused_on_their_second_occurrence() {
        let found = errors(
            quote!(
                model = Dividend,
                path = "/dividends",
                actions(list),
                permissions(model),
                model = Other
            ),
            quote! {
                pub struct DividendResource {
                    #[field(rename = "a")]
                    #[field(rename = "b")]
                    pub id: i64,
                }
            },
        );
        assert_eq!(
            found,
            [
                "`model` is given twice: remove one of them",
                "`rename` is given twice: remove one of them",
            ]
        );
    }

    #[test]
    fn reveal_names_a_permission_of_a_shown_field() {
        let found = errors(
            quote!(
                model = Account,
                path = "/accounts",
                actions(retrieve, create),
                permissions(model),
                write_only(tax_id)
            ),
            quote! {
                pub struct AccountResource {
                    pub id: i64,
                    #[field(reveal = "View Names")]
                    pub holder_name: String,
                    #[field(reveal = "view_account_tax_id")]
                    pub tax_id: String,
                    #[field(reveal = view_account_note)]
                    pub note: String,
                }
            },
        );
        assert_eq!(
            found,
            [
                "`View Names` cannot name a permission: use lowercase letters, digits and underscores, starting with a letter, at most 64 characters, e.g. `\"view_account_tax_id\"`",
                "`reveal` expects a string literal, e.g. `reveal = \"view_account_tax_id\"`",
                "`tax_id` is `write_only`, so it is never shown and `reveal` has nothing to reveal; remove `reveal`",
            ]
        );
    }

    #[test]
    fn invalid_resource_keeps_the_struct_and_implements_resource() {
        let failure = expand(
            quote!(
                model = Dividend,
                path = "/dividends",
                actions(list, remove),
                permissions(model)
            ),
            quote! {
                pub struct DividendResource {
                    #[field(rename = "key")]
                    pub id: i64,
                }
            },
        )
        .expect_err("errors");
        assert_eq!(failure.errors.len(), 1);
        let fallback = failure.fallback.to_string();
        assert!(
            fallback.starts_with("pub struct DividendResource"),
            "{fallback}"
        );
        assert!(!fallback.contains("# [field"), "{fallback}");
        assert!(
            fallback.contains("impl :: fw :: Resource for DividendResource"),
            "{fallback}"
        );
        assert!(fallback.contains("type Model = Dividend"), "{fallback}");
    }
}
