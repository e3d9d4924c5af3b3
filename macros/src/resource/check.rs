//! Rules across options: every name in an option list is a field of the struct,
//! and options do not contradict each other. Whether a field exists on the model
//! and has the same type is checked by rustc on the generated code, spanned to
//! the user's tokens.

use fw_core::api::{Action, list};
use syn::Ident;

use super::ast::Resource;
use crate::ctxt::Ctxt;
use crate::names::{backticked, closest};

pub(crate) fn check(cx: &Ctxt, resource: &Resource) {
    let args = &resource.args;
    if args.model.is_none() {
        cx.error_spanned_by(
            &resource.ident,
            "`#[resource]` needs the model it shows: `#[resource(model = Dividend, ...)]`",
        );
    }
    match &args.path {
        None => cx.error_spanned_by(
            &resource.ident,
            "`#[resource]` needs a path: `#[resource(path = \"/dividends\", ...)]`",
        ),
        Some((path, span))
            if !path.starts_with('/') || path.ends_with('/') || path.contains('{') =>
        {
            cx.error_at(*span, "`path` must start with `/`, not end with `/`, and have no parameters, e.g. `\"/dividends\"`");
        }
        Some(_) => {}
    }
    if args.actions.is_empty() {
        cx.error_spanned_by(
            &resource.ident,
            "`#[resource]` needs at least one action: `actions(list, retrieve, create, update, partial_update, destroy)`",
        );
    }
    let lists: [(&str, Vec<&Ident>); 5] = [
        ("read_only", args.read_only.iter().collect()),
        ("write_only", args.write_only.iter().collect()),
        ("create_only", args.create_only.iter().collect()),
        ("search", args.search.iter().collect()),
        ("ordering", args.ordering.iter().collect()),
    ];
    for (option, names) in &lists {
        let mut seen: Vec<&Ident> = Vec::new();
        for name in names {
            check_is_field(cx, resource, option, name);
            if seen.contains(name) {
                cx.error_spanned_by(name, format!("`{name}` appears twice in `{option}`"));
            }
            seen.push(name);
        }
    }
    check_filters(cx, resource);
    for field in &args.write_only {
        if args.read_only.contains(field) {
            cx.error_spanned_by(field, format!("`{field}` cannot be both `read_only` and `write_only`: a field nobody can read or write is pointless"));
        }
    }
    for field in &args.create_only {
        if args.read_only.contains(field) {
            cx.error_spanned_by(field, format!("`{field}` cannot be both `read_only` and `create_only`: `create_only` fields are written on create"));
        }
    }
    for field in &args.ordering {
        if args.write_only.contains(field) {
            cx.error_spanned_by(
                field,
                format!("`{field}` is `write_only`, so it cannot be used in `ordering`"),
            );
        }
    }
    for filter in &args.filters {
        if args.write_only.contains(&filter.field) {
            cx.error_spanned_by(
                &filter.field,
                format!(
                    "`{}` is `write_only`, so it cannot be filtered on",
                    filter.field
                ),
            );
        }
    }
    if let Some((ordering, span)) = &args.default_ordering {
        for term in ordering.split(',').map(str::trim) {
            let name = term.strip_prefix('-').unwrap_or(term);
            let orderable = args.ordering.iter().any(|field| {
                resource
                    .field(field)
                    .is_some_and(|field| field.api_name() == name)
            });
            if !orderable {
                cx.error_at(
                    *span,
                    format!(
                        "`default_ordering` names `{name}`, which is not in `ordering(...)`; add it there or use one of {}",
                        backticked(args.ordering.iter().map(|field| field.to_string()).collect::<Vec<_>>().iter().map(String::as_str))
                    ),
                );
            }
        }
    }
    if let Some((_, span)) = &args.default_ordering
        && !resource.has_action(Action::List)
    {
        cx.error_at(*span, "`default_ordering` needs the `list` action");
    }
    if let (Some((page_size, span)), Some((max, _))) = (args.page_size, args.max_page_size)
        && page_size > max
    {
        cx.error_at(
            span,
            format!("`page_size` ({page_size}) cannot exceed `max_page_size` ({max})"),
        );
    }
    for (size, span) in [args.page_size, args.max_page_size].into_iter().flatten() {
        if size < list::MIN_PAGE_SIZE {
            cx.error_at(
                span,
                format!("page sizes must be at least {}", list::MIN_PAGE_SIZE),
            );
        }
    }
    let list_only = [
        ("filter", !args.filters.is_empty()),
        ("search", !args.search.is_empty()),
        ("ordering", !args.ordering.is_empty()),
    ];
    for (option, used) in list_only {
        if used && !resource.has_action(Action::List) {
            cx.error_spanned_by(
                &resource.ident,
                format!("`{option}` needs the `list` action: add `list` to `actions(...)`"),
            );
        }
    }
    let mut names: Vec<String> = Vec::new();
    for field in &resource.fields {
        let name = field.api_name();
        if names.contains(&name) {
            cx.error_spanned_by(
                &field.ident,
                format!("two fields are named `{name}` in JSON; rename one"),
            );
        }
        names.push(name);
    }
}

/// Reports `name` in option `option` when it is not a field of the struct.
fn check_is_field(cx: &Ctxt, resource: &Resource, option: &str, name: &Ident) {
    if resource.field(name).is_some() {
        return;
    }
    let fields = resource
        .fields
        .iter()
        .map(|field| field.ident.to_string())
        .collect::<Vec<_>>();
    let hint = closest(&name.to_string(), fields.iter().map(String::as_str))
        .map(|close| format!("; did you mean `{close}`?"))
        .unwrap_or_default();
    cx.error_spanned_by(
        name,
        format!(
            "`{option}` names `{name}`, which is not a field of `{}`; expected one of {}{hint}",
            resource.ident,
            backticked(fields.iter().map(String::as_str))
        ),
    );
}

/// Each filter names a field of the struct (for a related filter, the reference
/// it follows) and has a query parameter of its own. Whether the reference is a
/// `Ref` and the referenced model has the field is checked by rustc on the
/// generated code.
fn check_filters(cx: &Ctxt, resource: &Resource) {
    let mut parameters: Vec<String> = Vec::new();
    for filter in &resource.args.filters {
        check_is_field(cx, resource, "filter", &filter.field);
        let parameter = match &filter.related {
            None => resource
                .field(&filter.field)
                .map_or_else(|| filter.field.to_string(), |field| field.api_name()),
            Some(related) => {
                let name = related.name.to_string();
                if list::PARAMETERS.contains(&name.as_str()) {
                    cx.error_spanned_by(
                        &related.name,
                        format!("`{name}` is a list parameter of its own; name the filter differently, e.g. `{}_{}`", filter.field, related.target),
                    );
                } else if name.contains(list::LOOKUP_SEPARATOR) {
                    cx.error_spanned_by(
                        &related.name,
                        format!("a filter's name cannot contain `{}`, which separates the name from the lookup in a query parameter; name it e.g. `{}_{}`", list::LOOKUP_SEPARATOR, filter.field, related.target),
                    );
                } else if resource.fields.iter().any(|field| field.api_name() == name) {
                    cx.error_spanned_by(
                        &related.name,
                        format!("`{name}` is a field of `{}`, so a query parameter of that name would seem to filter on it; name the filter differently, e.g. `{}_{}`", resource.ident, filter.field, related.target),
                    );
                }
                name
            }
        };
        if parameters.contains(&parameter) {
            cx.error_spanned_by(
                filter.parameter(),
                format!("two filters are named `{parameter}`; each filter needs a query parameter of its own"),
            );
        }
        parameters.push(parameter);
    }
}
