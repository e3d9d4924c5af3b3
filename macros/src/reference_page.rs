//! The reference page, `framework/src/docs/reference.md`, documents every
//! option the parsers accept. Each parser is asked which options it accepts
//! the way a user finds out, by giving it one it does not know: its error
//! lists them all. So an option added to a parser fails this test until the
//! page has an entry for it, a `### \`option\`` heading in the section of its
//! attribute.

use fw_core::api::{Action, Lookup};
use fw_core::schema::OnDelete;
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::ctxt::Expansion;

const PAGE: &str = include_str!("../../framework/src/docs/reference.md");

const MODEL: &str = "`#[fw::model(...)]`";
const MODEL_FIELD: &str = "`#[field(...)]` on a model field";
const RESOURCE: &str = "`#[fw::resource(...)]`";
const RESOURCE_FIELD: &str = "`#[field(...)]` on a resource field";
const CHOICES: &str = "`#[derive(fw::Choices)]`";

/// An option no parser accepts.
fn unknown() -> Ident {
    Ident::new("__fw_no_such_option", Span::call_site())
}

/// The options the parser behind `expansion` accepts for `attribute`, as its
/// error for [`unknown`] lists them.
fn accepted(expansion: Expansion, attribute: &str) -> Vec<String> {
    let errors: Vec<String> = match expansion {
        Ok(_) => Vec::new(),
        Err(failure) => failure.errors.iter().map(ToString::to_string).collect(),
    };
    let prefix = format!("unknown {attribute} option `{}`, expected", unknown());
    let listed = errors
        .iter()
        .find_map(|error| error.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no error lists the {attribute} options: {errors:#?}"));
    // "one of `a`, `b`; did you mean `c`?": the names between backticks,
    // before the suggestion.
    let names = listed.split(';').next().unwrap_or_default();
    names
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// What the parsers accept, each with the heading of its section on the page.
fn options() -> Vec<(&'static str, Vec<String>)> {
    let unknown = unknown();
    let resource = quote!(
        model = Note,
        path = "/notes",
        actions(list),
        permissions(public)
    );
    vec![
        (
            MODEL,
            accepted(
                crate::model::expand(
                    quote!(#unknown),
                    quote!(
                        struct Note {
                            id: i64,
                        }
                    ),
                ),
                "`#[model]`",
            ),
        ),
        (
            MODEL_FIELD,
            accepted(
                crate::model::expand(
                    TokenStream::new(),
                    quote!(
                        struct Note {
                            #[field(#unknown)]
                            id: i64,
                        }
                    ),
                ),
                "`#[field]`",
            ),
        ),
        (
            RESOURCE,
            accepted(
                crate::resource::expand(
                    quote!(#resource, #unknown),
                    quote!(
                        struct NoteResource {
                            id: i64,
                        }
                    ),
                ),
                "`#[resource]`",
            ),
        ),
        (
            RESOURCE_FIELD,
            accepted(
                crate::resource::expand(
                    resource,
                    quote!(
                        struct NoteResource {
                            #[field(#unknown)]
                            id: i64,
                        }
                    ),
                ),
                "resource `#[field]`",
            ),
        ),
        (
            CHOICES,
            accepted(
                crate::choices::expand(quote!(
                    enum Status {
                        #[choice(#unknown)]
                        Open,
                    }
                )),
                "`#[choice]`",
            ),
        ),
    ]
}

/// The page's section headed `## <heading>`, up to the next section.
fn section(heading: &str) -> &'static str {
    let start = PAGE
        .find(&format!("\n## {heading}\n"))
        .unwrap_or_else(|| panic!("reference.md has no section `## {heading}`"));
    let rest = &PAGE[start + 1..];
    let end = rest[1..].find("\n## ").map_or(rest.len(), |end| end + 1);
    &rest[..end]
}

/// The entry `### \`option\`` of `section`, up to the next entry.
fn entry<'a>(section: &'a str, option: &str) -> Option<&'a str> {
    let start = section.find(&format!("\n### `{option}`\n"))?;
    let rest = &section[start + 1..];
    let end = rest[1..].find("\n### ").map_or(rest.len(), |end| end + 1);
    Some(&rest[..end])
}

#[test]
fn the_reference_page_documents_every_option_the_parsers_accept() {
    let mut missing = Vec::new();
    for (heading, options) in options() {
        assert!(!options.is_empty(), "no options read for {heading}");
        let section = section(heading);
        for option in options {
            if entry(section, &option).is_none() {
                missing.push(format!("{heading}: `{option}`"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "framework/src/docs/reference.md has no entry for these options (add a \
         \"### `option`\" heading to the section of its attribute): {missing:#?}"
    );
}

#[test]
fn the_reference_page_lists_every_value_an_option_names() {
    let values: [(&str, &str, Vec<&str>); 3] = [
        (RESOURCE, "actions", Action::ALL.map(Action::name).to_vec()),
        (
            RESOURCE,
            "filter",
            Lookup::ALL.iter().map(|lookup| lookup.name()).collect(),
        ),
        (
            MODEL_FIELD,
            "on_delete",
            OnDelete::ALL.map(OnDelete::name).to_vec(),
        ),
    ];
    for (heading, option, names) in values {
        let entry = entry(section(heading), option)
            .unwrap_or_else(|| panic!("reference.md has no entry for `{option}`"));
        for name in names {
            assert!(
                entry.contains(&format!("`{name}`")),
                "reference.md's entry for `{option}` does not list `{name}`"
            );
        }
    }
}
