//! What one [`Edit`] does to the JSON that crosses the edge: a request body
//! and query made newer, a row, an error's pointers and a page's links made
//! older. The edge ([`edge`](super::edge)) applies the edits of every
//! version between the client's and the newest, one at a time.

use serde_json::{Map, Value as Json};

use super::Edit;
use crate::rest::{ApiError, pointer};
use fw_core::api::list::ORDERING;

/// Makes `body`, a request body of the edit's resource, one step newer.
pub(crate) fn upgrade_body(edit: &Edit, body: &mut Map<String, Json>) -> Result<(), ApiError> {
    match edit {
        Edit::Renamed { field, was } => {
            // The newer name is not a field in the client's version.
            if body.contains_key(field.name) {
                return Err(unknown_field(field.name));
            }
            if let Some(value) = body.remove(*was) {
                body.insert(field.name.to_owned(), value);
            }
        }
        Edit::Added { field } => {
            if body.contains_key(field.name) {
                return Err(unknown_field(field.name));
            }
        }
        Edit::EnumValueAdded { field, value, .. } => {
            if body.get(field.name).is_some_and(|sent| sent == value) {
                return Err(ApiError::invalid(
                    pointer(field.name),
                    "choice",
                    format!("`{value}` is not a value of this field in this API version"),
                ));
            }
        }
        Edit::Removed { name, .. } => {
            body.remove(*name);
        }
        Edit::Converted { field, up, .. } => {
            if let Some(value) = body.get_mut(field.name) {
                *value = up(value)
                    .map_err(|detail| ApiError::invalid(pointer(field.name), "invalid", detail))?;
            }
        }
        Edit::Custom { request, .. } => {
            request(body).map_err(|error| ApiError::Validation {
                errors: vec![error],
            })?;
        }
        Edit::EndpointAdded(_) | Edit::EndpointRemoved(_) => {}
    }
    Ok(())
}

/// The 422 for field `name` sent by a client whose version does not have it.
fn unknown_field(name: &str) -> ApiError {
    ApiError::invalid(
        pointer(name),
        "unknown_field",
        "unknown field in this API version",
    )
}

/// Makes `row`, a row of the edit's resource, one step older.
pub(crate) fn downgrade_row(edit: &Edit, row: &mut Map<String, Json>) {
    match edit {
        Edit::Renamed { field, was } => {
            if let Some(value) = row.remove(field.name) {
                row.insert((*was).to_owned(), value);
            }
        }
        Edit::Added { field } => {
            row.remove(field.name);
        }
        Edit::Removed { name, read, .. } => {
            let value = read(row);
            row.insert((*name).to_owned(), value);
        }
        Edit::EnumValueAdded { field, value, was } => {
            if let Some(current) = row.get_mut(field.name)
                && current == value
            {
                *current = Json::from(*was);
            }
        }
        Edit::Converted { field, down, .. } => {
            if let Some(value) = row.get_mut(field.name) {
                *value = down(value);
            }
        }
        Edit::Custom { response, .. } => response(row),
        Edit::EndpointAdded(_) | Edit::EndpointRemoved(_) => {}
    }
}

/// Makes `record`, one change record (see [`Change`](crate::changes::Change)),
/// one edit older: records name a model's fields, so an edit of a resource
/// field reaches the records of its model's table under the model field it
/// shows, renamed, left out or converted as the resource's rows are.
pub(crate) fn downgrade_record(edit: &Edit, record: &mut Json) {
    let (Some(resource), Some(field)) = (edit.resource(), edited_field(edit)) else {
        return;
    };
    if record["model"] != resource.model.table {
        return;
    }
    // A computed field shows no model field, so no record names it.
    let Some(stored) = resource
        .fields
        .iter()
        .find(|shown| shown.name == field)
        .and_then(|shown| shown.field)
    else {
        return;
    };
    let Some(entries) = record.get_mut("fields").and_then(Json::as_array_mut) else {
        return;
    };
    let of_field = |entry: &Json| entry["field"] == stored.name;
    match edit {
        Edit::Renamed { was, .. } => {
            for entry in entries.iter_mut().filter(|entry| of_field(entry)) {
                entry["field"] = Json::from(*was);
            }
        }
        Edit::Added { .. } => entries.retain(|entry| !of_field(entry)),
        Edit::EnumValueAdded { value, was, .. } => {
            for entry in entries.iter_mut().filter(|entry| of_field(entry)) {
                for side in ["old", "new"] {
                    if let Some(current) = entry.get_mut(side)
                        && current == value
                    {
                        *current = Json::from(*was);
                    }
                }
            }
        }
        Edit::Converted { down, .. } => {
            for entry in entries.iter_mut().filter(|entry| of_field(entry)) {
                for side in ["old", "new"] {
                    if let Some(current) = entry.get_mut(side)
                        && !current.is_null()
                    {
                        *current = down(current);
                    }
                }
            }
        }
        Edit::Removed { .. }
        | Edit::Custom { .. }
        | Edit::EndpointAdded(_)
        | Edit::EndpointRemoved(_) => {}
    }
}

/// The resource field an edit changes, by its newest name.
fn edited_field(edit: &Edit) -> Option<&'static str> {
    match edit {
        Edit::Renamed { field, .. }
        | Edit::Added { field }
        | Edit::EnumValueAdded { field, .. }
        | Edit::Converted { field, .. } => Some(field.name),
        _ => None,
    }
}

/// Makes an error's JSON Pointer into a request body name the field as the
/// older version does.
pub(crate) fn downgrade_pointer(edit: &Edit, pointer: &mut String) {
    let Edit::Renamed { field, was } = edit else {
        return;
    };
    let escaped = crate::rest::escape_pointer(field.name);
    let Some(rest) = pointer.strip_prefix('/') else {
        return;
    };
    let (head, tail) = rest.split_once('/').unwrap_or((rest, ""));
    if head == escaped {
        let was = crate::rest::escape_pointer(was);
        *pointer = if tail.is_empty() {
            format!("/{was}")
        } else {
            format!("/{was}/{tail}")
        };
    }
}

/// The field a query parameter filters on, and its lookup suffix
/// (`rate__gte` is `rate` and `__gte`), when it is `field`'s.
fn filter_of<'a>(parameter: &'a str, field: &str) -> Option<&'a str> {
    let suffix = parameter.strip_prefix(field)?;
    (suffix.is_empty() || suffix.starts_with("__")).then_some(suffix)
}

/// Renames the terms of an `ordering` value naming `from` to `to`.
fn rename_terms(value: &str, from: &str, to: &str) -> String {
    value
        .split(',')
        .map(|term| {
            let (sign, name) = match term.strip_prefix('-') {
                Some(name) => ("-", name),
                None => ("", term),
            };
            if name == from {
                format!("{sign}{to}")
            } else {
                term.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A query value as JSON of the type `schema` gives it: a query has only
/// text, and a conversion takes the value it would have in a body.
fn typed(text: &str, schema: &Json) -> Json {
    let types: Vec<&str> = match &schema["type"] {
        Json::String(kind) => vec![kind.as_str()],
        Json::Array(kinds) => kinds.iter().filter_map(Json::as_str).collect(),
        _ => Vec::new(),
    };
    let scalar = serde_json::from_str::<Json>(text)
        .ok()
        .filter(|value| value.is_number() || value.is_boolean());
    match scalar {
        Some(value) if !types.contains(&"string") => value,
        _ => Json::from(text),
    }
}

/// Converts a filter's value (or, for `__in`, each of its comma-separated
/// values), read as `schema` says, with `convert`; `isnull` takes a boolean
/// and is left alone.
fn convert_filter_value(
    suffix: &str,
    value: &str,
    schema: &Json,
    convert: impl Fn(&Json) -> Result<Json, String>,
) -> Result<String, String> {
    if suffix == "__isnull" {
        return Ok(value.to_owned());
    }
    let one = |text: &str| -> Result<String, String> {
        Ok(match convert(&typed(text, schema))? {
            Json::String(text) => text,
            other => other.to_string(),
        })
    };
    if suffix == "__in" {
        Ok(value
            .split(',')
            .map(one)
            .collect::<Result<Vec<_>, _>>()?
            .join(","))
    } else {
        one(value)
    }
}

/// The newest version's JSON Schema of `field`.
fn newest_schema(field: &super::FieldRef) -> Json {
    field
        .resource
        .fields
        .iter()
        .find(|shown| shown.name == field.name)
        .map(|shown| crate::openapi::field_schema(shown.value))
        .unwrap_or(Json::Null)
}

/// Makes a request's query parameters (name, value) one step newer.
pub(crate) fn upgrade_query(edit: &Edit, query: &mut [(String, String)]) -> Result<(), ApiError> {
    for (name, value) in query.iter_mut() {
        match edit {
            Edit::Renamed { field, was } => {
                if name == ORDERING {
                    if names_field(value, field.name) {
                        return Err(unknown_parameter(name));
                    }
                    *value = rename_terms(value, was, field.name);
                } else if filter_of(name, field.name).is_some() {
                    return Err(unknown_parameter(name));
                } else if let Some(suffix) = filter_of(name, was) {
                    *name = format!("{}{suffix}", field.name);
                }
            }
            Edit::Added { field } => {
                let orders_by_it = name == ORDERING && names_field(value, field.name);
                if orders_by_it || filter_of(name, field.name).is_some() {
                    return Err(unknown_parameter(name));
                }
            }
            Edit::Converted {
                field, up, schema, ..
            } => {
                if let Some(suffix) = filter_of(name, field.name) {
                    *value =
                        convert_filter_value(suffix, value, &schema(), up).map_err(|detail| {
                            ApiError::bad_request(format!("query parameter `{name}`: {detail}"))
                        })?;
                }
            }
            Edit::Removed { .. }
            | Edit::EnumValueAdded { .. }
            | Edit::EndpointAdded(_)
            | Edit::EndpointRemoved(_)
            | Edit::Custom { .. } => {}
        }
    }
    Ok(())
}

/// Whether an `ordering` value has a term on `field`.
fn names_field(ordering: &str, field: &str) -> bool {
    ordering
        .split(',')
        .any(|term| term.strip_prefix('-').unwrap_or(term) == field)
}

/// The 400 for a query parameter the client's version does not have.
fn unknown_parameter(name: &str) -> ApiError {
    ApiError::bad_request(format!(
        "unknown query parameter `{name}` in this API version"
    ))
}

/// Makes the query parameters of a page's `next` or `previous` link one
/// step older, so that a client following it speaks its own version.
pub(crate) fn downgrade_query(edit: &Edit, query: &mut [(String, String)]) {
    for (name, value) in query.iter_mut() {
        match edit {
            Edit::Renamed { field, was } => {
                if name == ORDERING {
                    *value = rename_terms(value, field.name, was);
                } else if let Some(suffix) = filter_of(name, field.name) {
                    *name = format!("{was}{suffix}");
                }
            }
            Edit::Converted { field, down, .. } => {
                if let Some(suffix) = filter_of(name, field.name)
                    && let Ok(older) =
                        convert_filter_value(suffix, value, &newest_schema(field), |json| {
                            Ok(down(json))
                        })
                {
                    *value = older;
                }
            }
            Edit::Added { .. }
            | Edit::Removed { .. }
            | Edit::EnumValueAdded { .. }
            | Edit::EndpointAdded(_)
            | Edit::EndpointRemoved(_)
            | Edit::Custom { .. } => {}
        }
    }
}

/// The JSON Pointers of a problem's `errors`, for [`downgrade_pointer`].
pub(crate) fn problem_pointers(problem: &mut Json) -> impl Iterator<Item = &mut String> {
    problem
        .get_mut("errors")
        .and_then(Json::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(|error| match error.get_mut("pointer") {
            Some(Json::String(pointer)) => Some(pointer),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordering_terms_keep_their_direction() {
        assert_eq!(
            rename_terms("-amount,ex_date", "amount", "rate"),
            "-rate,ex_date"
        );
        assert_eq!(rename_terms("amounts", "amount", "rate"), "amounts");
    }

    #[test]
    fn a_filter_is_a_field_s_only_with_a_lookup_after_it() {
        assert_eq!(filter_of("rate__gte", "rate"), Some("__gte"));
        assert_eq!(filter_of("rate", "rate"), Some(""));
        assert_eq!(filter_of("rates", "rate"), None);
    }
}
