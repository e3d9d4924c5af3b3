//! `#[resource]`: parse (`attr`, `ast`) -> check -> generate (`expand`, or on
//! errors `stub`).

mod ast;
mod attr;
mod check;
mod expand;
mod stub;

use proc_macro2::TokenStream;
use quote::quote;

use crate::ctxt::{Ctxt, Expansion, Failure};

/// Expands `#[resource(args)] input`. A resource that takes its model's fields
/// (`fields = ...` or `exclude(...)`) cannot see them from here: it becomes a
/// call of the model's hidden `macro_rules!` (named like the model), which
/// calls [`expand_with_model_fields`] back with them.
pub(crate) fn expand(args: TokenStream, input: TokenStream) -> Expansion {
    if let Some(model) = ast::model_taking_fields(&args) {
        return Ok(quote!(#model! { [#args] #input }));
    }
    expand_resource(args, input, None)
}

/// Expands the call back from a model's `macro_rules!`: its fields, then the
/// resource's arguments and struct.
pub(crate) fn expand_with_model_fields(input: TokenStream) -> Expansion {
    match syn::parse2::<ast::Callback>(input) {
        Ok(callback) => expand_resource(callback.args, callback.item, Some(callback.model_fields)),
        Err(error) => Err(Failure {
            fallback: TokenStream::new(),
            errors: vec![error],
        }),
    }
}

fn expand_resource(
    args: TokenStream,
    input: TokenStream,
    model_fields: Option<Vec<ast::ModelField>>,
) -> Expansion {
    let cx = Ctxt::new();
    let resource = match ast::Resource::from_input(&cx, args, input, model_fields) {
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

    /// What the `macro_rules!` of a model `Note` hands over.
    fn note_fields() -> TokenStream {
        quote!([
            /// Surrogate key.
            id(generated, key),
            /// A one-line title.
            title(),
            /// The text of the note.
            body(optional),
            owner(),
            tax_id(sensitive),
            password_hash(redacted, optional),
            /// Row version.
            version(generated)
        ])
    }

    fn with_note_fields(args: TokenStream, item: TokenStream) -> crate::ctxt::Expansion {
        let fields = note_fields();
        super::expand_with_model_fields(quote!(#fields [#args] #item))
    }

    #[test]
    fn a_resource_taking_its_model_s_fields_calls_the_model_back() {
        let args = quote!(model = crate::models::Note, path = "/notes", fields = all);
        let item = quote!(
            pub struct NoteResource;
        );
        let Ok(tokens) = expand(args.clone(), item.clone()) else {
            panic!("a call of the model's macro");
        };
        assert_eq!(
            tokens.to_string(),
            quote!(crate::models::Note! { [#args] #item }).to_string()
        );
    }

    #[test]
    fn note_resource_over_model_fields_expansion() {
        let callback = quote! {
            [
                /// Surrogate key.
                id(generated, key),
                /// A one-line title.
                title(),
                /// The text of the note.
                body(optional),
                pinned(optional),
                version(generated)
            ]
            [
                model = Note,
                path = "/notes",
                fields(id, title, body, version),
                actions(create, update),
                permissions(model)
            ]
            /// A note.
            pub struct NoteResource {
                #[field(rename = "heading")]
                pub title: String,
                /// Words in the body.
                #[field(computed = crate::notes::word_count)]
                pub words: i64,
            }
        };
        let tokens = match super::expand_with_model_fields(callback) {
            Ok(tokens) => tokens,
            Err(failure) => panic!("unexpected errors: {:?}", failure.errors),
        };
        let file: syn::File = syn::parse2(tokens).expect("the expansion parses");
        insta::assert_snapshot!(
            "note_resource_over_model_fields_expansion",
            prettyplease::unparse(&file)
        );
    }

    #[test]
    fn model_field_selection_reports_every_problem() {
        let errors = |args: TokenStream, item: TokenStream| -> Vec<String> {
            match with_note_fields(args, item) {
                Ok(_) => Vec::new(),
                Err(failure) => failure.errors.iter().map(ToString::to_string).collect(),
            }
        };
        let found = errors(
            quote!(
                model = Note,
                path = "/notes",
                fields(titel, body, body, tax_id, password_hash),
                exclude(version),
                actions(create),
                permissions(model)
            ),
            quote!(
                pub struct NoteResource;
            ),
        );
        let expected = [
            "give `fields` or `exclude`, not both: `exclude(...)` alone shows every model field but those it names",
            "`fields` names `titel`, which is not a field of model `Note`; expected one of `id`, `title`, `body`, `owner`, `tax_id`, `password_hash`, `version`; did you mean `title`?",
            "`body` appears twice in `fields`",
            "`create` needs `title` from the request body, as the model field has no default and is not nullable; show it (in `fields(...)`, not in `exclude(...)` nor `read_only(...)`), give it a `default` on the model, or leave out `create`",
            "`create` needs `owner` from the request body, as the model field has no default and is not nullable; show it (in `fields(...)`, not in `exclude(...)` nor `read_only(...)`), give it a `default` on the model, or leave out `create`",
            "model field `tax_id` is sensitive: write it out in the struct with the permission that reveals it, e.g. `#[field(reveal = \"view_tax_id\")] pub tax_id: ...`, or exclude it",
            "model field `password_hash` is `redacted` (a secret such as a hash), which a resource never serves or accepts: add it to `exclude(...)` or leave it out of `fields(...)`",
        ];
        assert_eq!(found, expected);
        let found = errors(
            quote!(
                model = Note,
                path = "/notes",
                exclude(password_hash, tax_id, owner),
                actions(retrieve),
                permissions(model)
            ),
            quote!(
                pub struct NoteResource {
                    #[field(reveal = "view_note_tax_id")]
                    pub tax_id: String,
                }
            ),
        );
        assert_eq!(
            found,
            [
                "`tax_id` is written out in the struct, so it is shown: remove it from `exclude(...)` or from the struct"
            ]
        );
        assert_eq!(
            errors(
                quote!(
                    model = Note,
                    path = "/notes",
                    fields = every,
                    actions(retrieve),
                    permissions(model)
                ),
                quote!(
                    pub struct NoteResource;
                ),
            ),
            [
                "`fields` expects `fields = all` or a list of the model's fields, e.g. `fields(title, body)`"
            ]
        );
        assert_eq!(
            errors(
                quote!(
                    model = Note,
                    path = "/notes",
                    actions(retrieve),
                    permissions(model)
                ),
                quote!(
                    pub struct NoteResource;
                ),
            ),
            [
                "`#[resource]` needs named fields, one per model field it shows, or `fields = all`, `fields(...)` or `exclude(...)` to show the model's own"
            ]
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
