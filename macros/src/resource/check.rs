//! Rules across options: every name in an option list is a field of the struct,
//! and options do not contradict each other. Whether a written-out field exists
//! on the model is checked here when the model's fields were handed over, else
//! by rustc on the generated code; whether its type converts to and from the
//! model field's is always rustc's, spanned to the user's tokens.

use fw_core::access::ModelPermission;
use fw_core::api::{Action, list};
use proc_macro2::Span;
use syn::Ident;

use super::ast::{Field, Resource};
use super::attr::{DefaultAccess, FieldsArg};
use crate::ctxt::Ctxt;
use crate::names::{backticked, closest};

pub(crate) fn check(cx: &Ctxt, resource: &Resource) {
    check_model(cx, resource);
    check_selection(cx, resource);
    check_create_takes_required_fields(cx, resource);
    check_path(cx, resource);
    check_actions(cx, resource);
    check_permissions(cx, resource);
    check_field_lists(cx, resource);
    check_filters(cx, resource);
    check_access(cx, resource);
    check_default_ordering(cx, resource);
    check_page_sizes(cx, resource);
    check_list_options_need_list(cx, resource);
    check_json_names(cx, resource);
    check_reveal(cx, resource);
    check_model_field_sensitivity(cx, resource);
    check_written_out_fields_are_model_fields(cx, resource);
    check_computed_fields(cx, resource);
}

fn check_model(cx: &Ctxt, resource: &Resource) {
    if resource.args.model.is_none() {
        cx.error_spanned_by(
            &resource.ident,
            "`#[resource]` needs the model it shows: `#[resource(model = Dividend, ...)]`",
        );
    }
}

/// `fields(...)` and `exclude(...)` name model fields, each once, and are not
/// both given; a field written out in the struct is shown, so not excluded.
fn check_selection(cx: &Ctxt, resource: &Resource) {
    let args = &resource.args;
    if let (Some(_), Some((exclude, _))) = (&args.fields, &args.exclude) {
        cx.error_spanned_by(
            exclude,
            "give `fields` or `exclude`, not both: `exclude(...)` alone shows every model field but those it names",
        );
    }
    let Some(model_fields) = &resource.model_fields else {
        return;
    };
    let lists = [
        args.fields.as_ref().and_then(|(_, fields)| match fields {
            FieldsArg::Only(names) => Some(("fields", names)),
            FieldsArg::All => None,
        }),
        args.exclude.as_ref().map(|(_, names)| ("exclude", names)),
    ];
    let known: Vec<String> = model_fields
        .iter()
        .map(|field| field.ident.to_string())
        .collect();
    let model = resource
        .args
        .model
        .as_ref()
        .and_then(|model| model.segments.last())
        .map(|segment| segment.ident.to_string())
        .unwrap_or_default();
    for (option, names) in lists.into_iter().flatten() {
        for (index, name) in names.iter().enumerate() {
            if names[..index].contains(name) {
                cx.error_spanned_by(name, format!("`{name}` appears twice in `{option}`"));
            } else if !known.iter().any(|known| name == known) {
                let hint = closest(&name.to_string(), known.iter().map(String::as_str))
                    .map(|close| format!("; did you mean `{close}`?"))
                    .unwrap_or_default();
                cx.error_spanned_by(
                    name,
                    format!(
                        "`{option}` names `{name}`, which is not a field of model `{model}`; expected one of {}{hint}",
                        backticked(known.iter().map(String::as_str))
                    ),
                );
            } else if option == "exclude" && resource.written_out(name) {
                cx.error_spanned_by(
                    name,
                    format!("`{name}` is written out in the struct, so it is shown: remove it from `exclude(...)` or from the struct"),
                );
            }
        }
    }
}

/// A create must give every model field a value: one the resource does not
/// take from the body (not shown, or read-only) needs a default or to be
/// nullable. Known only for a resource that takes its model's fields; for one
/// that writes them out, rustc reports the missing field of the model's `New`.
fn check_create_takes_required_fields(cx: &Ctxt, resource: &Resource) {
    let (Some(model_fields), Some(create)) =
        (&resource.model_fields, resource.action_span(Action::Create))
    else {
        return;
    };
    for model_field in model_fields {
        if model_field.generated || model_field.optional {
            continue;
        }
        let taken = resource
            .field(&model_field.ident)
            .is_some_and(|field| !resource.is_read_only(field));
        if !taken {
            cx.error_at(
                create,
                format!(
                    "`create` needs `{0}` from the request body, as the model field has no default and is not nullable; show it (in `fields(...)`, not in `exclude(...)` nor `read_only(...)`), give it a `default` on the model, or leave out `create`",
                    model_field.ident
                ),
            );
        }
    }
}

/// A path is given, and is a plain collection path the router can extend.
fn check_path(cx: &Ctxt, resource: &Resource) {
    match &resource.args.path {
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
}

/// At least one action, each named once.
fn check_actions(cx: &Ctxt, resource: &Resource) {
    let actions = &resource.args.actions;
    if actions.is_empty() {
        cx.error_spanned_by(
            &resource.ident,
            "`#[resource]` needs at least one action: `actions(list, retrieve, create, update, partial_update, destroy)`",
        );
    }
    for (index, (action, _)) in actions.iter().enumerate() {
        if actions[..index]
            .iter()
            .any(|(earlier, _)| earlier == action)
        {
            cx.error_spanned_by(action, format!("`{action}` appears twice in `actions`"));
        }
    }
}

/// `permissions(...)` is given and gives every offered action an access: a
/// resource is never public, nor writable by anyone, by omission.
fn check_permissions(cx: &Ctxt, resource: &Resource) {
    let Some(permissions) = &resource.args.permissions else {
        cx.error_at(
            Span::call_site(),
            "`#[resource]` needs `permissions(...)`, saying who may call its actions: \
             `permissions(model)` for the model's `view`, `add`, `change` and `delete` permissions, \
             `permissions(authenticated)` for any signed-in user, or `permissions(public)` for \
             reads anyone may make",
        );
        return;
    };
    for (ident, _) in permissions.defaults.iter().skip(1) {
        cx.error_spanned_by(
            ident,
            format!(
                "`permissions` has one default access, `{}` already; give other actions their own, e.g. `create = add`",
                permissions.defaults[0].0
            ),
        );
    }
    for (index, entry) in permissions.entries.iter().enumerate() {
        if permissions.entries[..index]
            .iter()
            .any(|earlier| earlier.action == entry.action)
        {
            cx.error_spanned_by(
                &entry.ident,
                format!("`{}` is given twice in `permissions`", entry.ident),
            );
        } else if !resource.has_action(entry.action) {
            cx.error_spanned_by(
                &entry.ident,
                format!(
                    "`permissions` gives `{0}` an access, but the resource does not offer `{0}`: add it to `actions(...)` or remove `{0} = ...`",
                    entry.ident
                ),
            );
        }
    }
    let uncovered: Vec<Action> = resource
        .args
        .actions
        .iter()
        .map(|(_, action)| *action)
        .filter(|action| resource.access(*action).is_none())
        .collect();
    let Some(first) = uncovered.first() else {
        return;
    };
    let example = format!(
        "{} = {}",
        first.name(),
        ModelPermission::of_action(*first).name()
    );
    let uncovered: Vec<&str> = uncovered.iter().map(|action| action.name()).collect();
    match permissions.defaults.first() {
        Some((public, DefaultAccess::Public)) => cx.error_spanned_by(
            public,
            format!(
                "`public` covers reads only, and {} write: give each its access, e.g. `permissions(public, {example})` (`{} = public` if anyone may)",
                backticked(uncovered.iter().copied()),
                uncovered[0]
            ),
        ),
        _ => cx.error_spanned_by(
            &permissions.keyword,
            format!(
                "`permissions` gives no access to {}: add a default (`model`, `authenticated` or `public`) or an entry for each, e.g. `permissions({example})`",
                backticked(uncovered.iter().copied())
            ),
        ),
    }
}

/// Every name in a field list is a field of the struct, named once.
fn check_field_lists(cx: &Ctxt, resource: &Resource) {
    let args = &resource.args;
    let lists: [(&str, &[Ident]); 5] = [
        ("read_only", &args.read_only),
        ("write_only", &args.write_only),
        ("create_only", &args.create_only),
        ("search", &args.search),
        ("ordering", &args.ordering),
    ];
    for (option, names) in lists {
        for (index, name) in names.iter().enumerate() {
            check_is_field(cx, resource, option, name);
            if names[..index].contains(name) {
                cx.error_spanned_by(name, format!("`{name}` appears twice in `{option}`"));
            }
        }
    }
}

/// `read_only`, `write_only` and `create_only` do not contradict each other,
/// and a field nobody reads is neither ordered nor filtered on.
fn check_access(cx: &Ctxt, resource: &Resource) {
    let args = &resource.args;
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
}

/// `default_ordering` orders lists, by fields in `ordering(...)`.
fn check_default_ordering(cx: &Ctxt, resource: &Resource) {
    let args = &resource.args;
    let Some((ordering, span)) = &args.default_ordering else {
        return;
    };
    // Terms are query-parameter values, so they use the names in JSON.
    let orderable: Vec<String> = args
        .ordering
        .iter()
        .filter_map(|field| resource.field(field))
        .map(Field::api_name)
        .collect();
    for term in ordering.split(',').map(str::trim) {
        let name = term.strip_prefix('-').unwrap_or(term);
        if !orderable.iter().any(|orderable| orderable == name) {
            let alternatives = if orderable.is_empty() {
                String::new()
            } else {
                format!(
                    " or use one of {}",
                    backticked(orderable.iter().map(String::as_str))
                )
            };
            cx.error_at(
                *span,
                format!(
                    "`default_ordering` names `{name}`, which is not in `ordering(...)`; add it there{alternatives}"
                ),
            );
        }
    }
    if !resource.has_action(Action::List) {
        cx.error_at(*span, "`default_ordering` needs the `list` action");
    }
}

/// Page sizes are at least 1, and the default is within the maximum.
fn check_page_sizes(cx: &Ctxt, resource: &Resource) {
    let args = &resource.args;
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
}

/// Filters, search and ordering are parameters of list requests.
fn check_list_options_need_list(cx: &Ctxt, resource: &Resource) {
    let args = &resource.args;
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
}

/// No two fields share a name in JSON.
fn check_json_names(cx: &Ctxt, resource: &Resource) {
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

/// `reveal` is on shown fields, and a resource has at most
/// `Reveal::MAX_FIELDS` of them (one bit each per request). Whether the model
/// field is sensitive is asserted on the generated code, where it is known.
fn check_reveal(cx: &Ctxt, resource: &Resource) {
    for field in &resource.fields {
        if let Some((_, span)) = &field.reveal
            && resource.is_write_only(field)
        {
            cx.error_at(
                *span,
                format!(
                    "`{}` is `write_only`, so it is never shown and `reveal` has nothing to reveal; remove `reveal`",
                    field.ident
                ),
            );
        }
    }
    if let Some(field) = resource.revealable().nth(MAX_REVEALABLE) {
        cx.error_spanned_by(
            &field.ident,
            format!(
                "a resource shows at most {MAX_REVEALABLE} fields with `reveal`; split the resource"
            ),
        );
    }
}

/// A field taken from the model is served as the model declares it, so never
/// a `redacted` one, and a sensitive one only when written out with `reveal`
/// (or `write_only`). Written-out fields are asserted on the generated code.
fn check_model_field_sensitivity(cx: &Ctxt, resource: &Resource) {
    for field in resource.fields.iter().filter(|field| field.from_model) {
        let Some(model_field) = resource.model_field(&field.ident) else {
            continue;
        };
        let name = &field.ident;
        if model_field.redacted {
            cx.error_spanned_by(
                name,
                format!("model field `{name}` is `redacted` (a secret such as a hash), which a resource never serves or accepts: add it to `exclude(...)` or leave it out of `fields(...)`"),
            );
        } else if model_field.sensitive && !resource.is_write_only(field) {
            cx.error_spanned_by(
                name,
                format!("model field `{name}` is sensitive: write it out in the struct with the permission that reveals it, e.g. `#[field(reveal = \"view_{name}\")] pub {name}: ...`, or exclude it"),
            );
        }
    }
}

/// A field written out in the struct shows the model field of its name, or is
/// computed: known here for a resource that was handed its model's fields
/// (for one that writes every field out, rustc reports the model's missing
/// column on the field).
fn check_written_out_fields_are_model_fields(cx: &Ctxt, resource: &Resource) {
    let Some(model_fields) = &resource.model_fields else {
        return;
    };
    let known: Vec<String> = model_fields
        .iter()
        .map(|field| field.ident.to_string())
        .collect();
    for field in resource
        .fields
        .iter()
        .filter(|field| field.is_written_out_model_field())
    {
        let name = field.ident.to_string();
        if known.contains(&name) {
            continue;
        }
        let hint = closest(&name, known.iter().map(String::as_str))
            .map(|close| format!(" (did you mean `{close}`?)"))
            .unwrap_or_default();
        let model = model_name(resource);
        cx.error_spanned_by(
            &field.ident,
            format!(
                "`{name}` is not a field of model `{model}`{hint}; a field the resource computes from the row says so, `#[field(computed = path::to::function)]` with a `fn(&{model}) -> T`"
            ),
        );
    }
}

/// A computed field is read-only and not stored, so requests never write it
/// and lists neither filter, search nor order by it; it has no sensitive
/// model field to `reveal`.
fn check_computed_fields(cx: &Ctxt, resource: &Resource) {
    let args = &resource.args;
    let computed = |name: &Ident| {
        resource
            .field(name)
            .is_some_and(|field| field.computed.is_some())
    };
    let not_stored = [
        (
            "filter",
            "filtered on",
            args.filters
                .iter()
                .map(|filter| &filter.field)
                .collect::<Vec<_>>(),
        ),
        ("search", "searched", args.search.iter().collect()),
        ("ordering", "ordered by", args.ordering.iter().collect()),
    ];
    for (option, verb, names) in not_stored {
        for name in names.into_iter().filter(|name| computed(name)) {
            cx.error_spanned_by(
                name,
                format!("`{name}` is computed from the row, not stored, so it cannot be {verb}: remove it from `{option}(...)`"),
            );
        }
    }
    let written = [
        ("write_only", &args.write_only),
        ("create_only", &args.create_only),
    ];
    for (option, names) in written {
        for name in names.iter().filter(|name| computed(name)) {
            cx.error_spanned_by(
                name,
                format!("`{name}` is computed, so read-only: requests never write it; remove it from `{option}(...)`"),
            );
        }
    }
    for field in &resource.fields {
        if let (Some(_), Some((_, span))) = (&field.computed, &field.reveal) {
            cx.error_at(
                *span,
                format!(
                    "`reveal` is for sensitive model fields, and `{}` is computed; remove `reveal`",
                    field.ident
                ),
            );
        }
    }
}

/// The last segment of `model = ...`, the model's struct name.
fn model_name(resource: &Resource) -> String {
    resource
        .args
        .model
        .as_ref()
        .and_then(|model| model.segments.last())
        .map(|segment| segment.ident.to_string())
        .unwrap_or_default()
}

/// `fw::__private::Reveal::MAX_FIELDS`, which the macro crate cannot name.
const MAX_REVEALABLE: usize = 64;
